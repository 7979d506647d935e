"""``python -m bench.report``: every benchmark, interleaved, into ``bench/RESULTS.md`` and a chart.

All timed jobs (epochs of every implementation × shape × mini-batch × thread
count, predictions, the BLAS peak) are built first, warmed up on a few hundred
samples (compilation is never timed), and then run in rounds: each round runs
every job once, in a fresh random order, so that drift on this shared machine
(other processes, frequency changes) hits all of them alike.  The tables give
medians over the rounds; every ratio compares medians of the same run.

    python -m bench.report            # the full report, ~10–15 min on 2 cores
    python -m bench.report --quick    # 2 rounds on 3,000 samples, no cold compile: ~3 min
    python -m bench.report --render-only   # rewrite RESULTS.md from bench/RESULTS.json
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as ``python bench/report.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "bench"

import numpy as np  # noqa: E402

from bench import machine, processes  # noqa: E402
from bench.implementations import (ALL_THREADS, DTYPES, IMPLEMENTATIONS,  # noqa: E402
                                   ONLINE_SUBSET, THREADED_SUBSET, Unavailable, load_data,
                                   row_samples, synthetic_mnist)
from bench.predictors import PREDICTORS  # noqa: E402
from bench.render import render  # noqa: E402

HERE = Path(__file__).resolve().parent
SHAPES = ([784, 30, 10], [784, 100, 10])
MINI_BATCHES = (1, 10, 100)
ETA, LMBDA = 0.5, 5.0
QUICK_SUBSET = 3_000
WARMUP_SAMPLES = 300


def thread_counts():
    return sorted({1, ALL_THREADS})


def shape_name(sizes):
    return "-".join(map(str, sizes))


class Job:
    """One timed callable; ``repeat`` calls per timing, the time reported per call;
    ``threads`` it runs on."""

    def __init__(self, key, run, repeat=1, threads=1):
        self.key, self.run, self.repeat, self.threads, self.times = key, run, repeat, threads, []

    def time_once(self):
        started = time.perf_counter()
        for _ in range(self.repeat):
            self.run()
        self.times.append((time.perf_counter() - started) / self.repeat)

    @property
    def median(self):
        return statistics.median(self.times)


def build_epoch_jobs(data, n_rows, log):
    """Epoch jobs keyed ("epoch", shape, m, threads, impl); rows and skipped implementations."""
    X32, X64, Y32, Y64 = data
    jobs, rows, skipped = [], [], {}
    for sizes in SHAPES:
        for m in MINI_BATCHES:
            for threads in thread_counts():
                n = min(n_rows(m, threads), len(X32))
                order = np.random.default_rng(1).permutation(n)
                rows.append(dict(shape=shape_name(sizes), sizes=sizes, m=m, threads=threads, n=n))
                for name, build in IMPLEMENTATIONS.items():
                    X, Y = (X64, Y64) if DTYPES[name] == "float64" else (X32, Y32)
                    try:
                        # Warm-up on a sliver: compiles numba, loads torch, never timed.
                        small = np.arange(WARMUP_SAMPLES)
                        build(X[:WARMUP_SAMPLES], Y[:WARMUP_SAMPLES], sizes, small, ETA, LMBDA,
                              m, n_threads=threads)()
                        run = build(X[:n], Y[:n], sizes, order, ETA, LMBDA, m, n_threads=threads)
                    except Unavailable as why:
                        skipped[name] = str(why)
                        continue
                    jobs.append(Job(("epoch", shape_name(sizes), m, threads, name), run,
                                    threads=threads))
            log(f"built {shape_name(sizes)} m={m}")
    return jobs, rows, skipped


def build_predict_jobs(X_test):
    jobs = []
    for sizes in SHAPES:
        for threads in thread_counts():
            for name, build in PREDICTORS.items():
                run = build(X_test, sizes, threads)
                run()
                jobs.append(Job(("predict", shape_name(sizes), threads, name), run, repeat=5,
                                threads=threads))
    return jobs


def build_peak_jobs():
    return [Job(("peak", dtype, threads), machine.matmul_job(dtype, threads), threads=threads)
            for dtype in ("float64", "float32") for threads in thread_counts()]


def build_sparsity_jobs(n):
    """fastnn on synthetic data with MNIST's ~80 % zeros, to show what zero-skipping buys."""
    X, Y = synthetic_mnist(n)
    order = np.random.default_rng(1).permutation(n)
    jobs = []
    for sizes in SHAPES:
        run = IMPLEMENTATIONS["fastnn-f64"](X, Y, sizes, order, ETA, LMBDA, 10, n_threads=1)
        run()
        jobs.append(Job(("sparse80", shape_name(sizes)), run))
    return jobs


# After a job on several threads, its pools' idle threads keep spinning for a
# while (OpenBLAS ~0.1 s, OpenMP's too) and take the second core from the next
# job: measured, a fastnn prediction on two threads right after a NumPy one
# ran 24–25 ms instead of 15.  The next job waits this long first (untimed).
SETTLE = 0.5


def run_rounds(jobs, rounds, log):
    rng = np.random.default_rng(2024)
    spent = []
    for r in range(rounds):
        started = time.perf_counter()
        threaded = False
        for i in rng.permutation(len(jobs)):
            if threaded:
                time.sleep(SETTLE)
            jobs[i].time_once()
            threaded = jobs[i].threads > 1
        spent.append((time.perf_counter() - started, machine.load_average()))
        log(f"round {r + 1}/{rounds}: {spent[-1][0]:.0f} s, load {spent[-1][1]}")
    return spent


def _tuple_keys(medians):
    """JSON's "epoch|784-30-10|10|1|torch" back to ("epoch", "784-30-10", 10, 1, "torch")."""
    return {tuple(int(p) if p.isdigit() else p for p in key.split("|")): value
            for key, value in medians.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--quick", action="store_true",
                        help="2 rounds, 10,000 samples in every row, no cold-compile run")
    parser.add_argument("--no-cold-compile", action="store_true",
                        help="skip the empty-cache compile run (~1 min)")
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite the report and chart from the raw medians saved beside it "
                             "(bench/RESULTS.json), no timing")
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"), help="Markdown report")
    parser.add_argument("--chart", default=str(HERE / "results.png"), help="PNG chart")
    args = parser.parse_args(argv)
    raw = Path(args.out).with_suffix(".json")
    if args.render_only:
        results = json.loads(raw.read_text())
        Path(args.out).write_text(render(results, _tuple_keys(results["medians"]),
                                         Path(args.chart)))
        return 0
    rounds = 2 if args.quick else args.rounds
    command = "python -m bench.report" + (" " + " ".join(argv if argv is not None else sys.argv[1:])
                                          if (argv if argv is not None else sys.argv[1:]) else "")
    began = time.perf_counter()

    def log(message):
        print(f"[{time.perf_counter() - began:6.0f} s] {message}", file=sys.stderr, flush=True)

    load_start = machine.load_average()
    X32, Y32, X_test, data_note = load_data()
    X64, Y64 = X32.astype(np.float64), Y32.astype(np.float64)
    log(data_note)

    def n_rows(m, threads):
        return QUICK_SUBSET if args.quick else row_samples(m, threads, len(X32))

    epoch_jobs, rows, skipped = build_epoch_jobs((X32, X64, Y32, Y64), n_rows, log)
    other_jobs = build_predict_jobs(X_test) + build_peak_jobs() + build_sparsity_jobs(
        n_rows(10, 1))
    jobs = epoch_jobs + other_jobs
    log(f"{len(jobs)} jobs built and warmed up; {rounds} rounds")
    round_times = run_rounds(jobs, rounds, log)
    medians = {job.key: job.median for job in jobs}
    spreads = {job.key: (min(job.times), max(job.times)) for job in jobs}
    del epoch_jobs, other_jobs, jobs

    log("cold start")
    n_cold = 10_000
    cold = processes.cold_start(X32[:n_cold].astype(np.float64), Y32[:n_cold].argmax(axis=1),
                                compile_too=not (args.quick or args.no_cold_compile))
    cold["imports"] = processes.import_times()
    log("memory")
    memory = processes.memory(X32, Y32.argmax(axis=1))
    load_end = machine.load_average()
    commit, tree = machine.git_state(HERE.parent)

    results = dict(
        command=command, date=time.strftime("%Y-%m-%d %H:%M %Z"), commit=commit, tree=tree,
        facts=machine.facts(), load=(load_start, load_end), data=data_note, rounds=rounds,
        rows=rows, skipped=skipped, medians={"|".join(map(str, k)): v for k, v in medians.items()},
        spreads={"|".join(map(str, k)): v for k, v in spreads.items()},
        cold=cold, memory=memory, n_cold=n_cold, online_subset=ONLINE_SUBSET,
        threaded_subset=THREADED_SUBSET, quick=args.quick, round_times=round_times,
        matmul_n=machine.MATMUL_N, eta=ETA, lmbda=LMBDA, seconds=time.perf_counter() - began,
        n_test=len(X_test),
    )
    raw.write_text(json.dumps(results, indent=1, default=str))
    markdown = render(results, medians, Path(args.chart))
    Path(args.out).write_text(markdown)
    log(f"wrote {args.out}, {args.chart} and {raw}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
