"""What users run, end to end: whole fits, the book's ch. 3 sweep, compile time.

``python -m bench.whole`` writes ``bench/WHOLE.json``; ``bench.report``
renders it into RESULTS.md ("What users run").  Three parts, each its own
flag (all by default):

- ``--fits``: ``FastNN.fit`` against ``MLPClassifier.fit`` and a plain
  PyTorch loop (``FIT_IMPLEMENTATIONS``), one epoch, BLAS on one thread,
  interleaved rounds; and ``fit`` of E epochs against E kernel epochs.
- ``--sweep``: ``GridSearchCV(FastNN(epochs=E), 5 η × 5 λ, cv=one
  50,000/10,000 split, n_jobs=2)`` on Fashion-MNIST, 784-30-10, m = 10, for
  E = 1 and 2; the time of E = 30 is extrapolated from the line through
  them (the fixed costs — workers, scoring — counted once).
- ``--compile``: from an empty ``NUMBA_CACHE_DIR``, each step in a fresh
  process: a default fit, then float32, threads, each ch. 3 option, the
  first prediction.  Seconds are the process's wall time minus its imports.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from . import machine
from .implementations import IMPLEMENTATIONS, Unavailable, load_data, torch_epoch

HERE = Path(__file__).resolve().parent
SHAPES = ([784, 30, 10], [784, 100, 10])
ETA, LMBDA = 0.5, 5.0


def fastnn_fit(dtype):
    def build(X, y, sizes, m):
        from fastnn import FastNN

        X = np.ascontiguousarray(X, dtype=dtype)
        clf = FastNN(hidden_layer_sizes=tuple(sizes[1:-1]), eta=ETA, lmbda=LMBDA,
                     mini_batch_size=m, epochs=1, random_state=0, n_threads=1)
        return lambda: clf.fit(X, y)
    return build


def sklearn_fit(dtype):
    def build(X, y, sizes, m):
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier
        from threadpoolctl import threadpool_limits

        X = np.ascontiguousarray(X, dtype=dtype)
        clf = MLPClassifier(tuple(sizes[1:-1]), activation="logistic", solver="sgd",
                            batch_size=m, momentum=0.0, nesterovs_momentum=False,
                            learning_rate_init=ETA, alpha=LMBDA * m / len(X), max_iter=1,
                            random_state=0)

        def run():
            with threadpool_limits(1), warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(X, y)
        return run
    return build


def torch_fit(X, y, sizes, m):
    """A user's PyTorch loop: tensors made from the arrays, a shuffle, one epoch."""
    Y = np.eye(sizes[-1], dtype=np.float32)[y]
    order = np.random.default_rng(0).permutation(len(X))
    return torch_epoch(X, Y, sizes, order, ETA, LMBDA, m, n_threads=1)


FIT_IMPLEMENTATIONS = {
    "fastnn-f64": fastnn_fit(np.float64),
    "fastnn-f32": fastnn_fit(np.float32),
    "sklearn-mlp": sklearn_fit(np.float64),
    "sklearn-mlp-f32": sklearn_fit(np.float32),
    "torch": torch_fit,
}


def time_fits(X, y, rounds, log):
    """Median seconds of one-epoch fits, interleaved, per (shape, m, implementation)."""
    jobs, skipped = {}, {}
    for sizes in SHAPES:
        for m in (10, 100):
            for name, build in FIT_IMPLEMENTATIONS.items():
                try:
                    build(X[:500], y[:500], sizes, m)()  # compile, load torch: never timed
                    jobs[("-".join(map(str, sizes)), m, name)] = build(X, y, sizes, m)
                except Unavailable as why:
                    skipped[name] = str(why)
    times = {k: [] for k in jobs}
    rng = np.random.default_rng(0)
    for r in range(rounds):
        for i in rng.permutation(len(jobs)):
            key = list(jobs)[i]
            started = time.perf_counter()
            jobs[key]()
            times[key].append(time.perf_counter() - started)
        log(f"fits: round {r + 1}/{rounds}")
    return {"|".join(map(str, k)): float(np.median(v)) for k, v in times.items()}, skipped


def fit_against_kernel(X, Y, y, epochs, rounds):
    """Seconds of ``FastNN.fit`` of E epochs and of E kernel epochs, interleaved (item 1)."""
    out = {}
    for sizes, m in (([784, 30, 10], 10), ([784, 100, 10], 100)):
        from fastnn import FastNN

        clf = FastNN(hidden_layer_sizes=tuple(sizes[1:-1]), eta=ETA, lmbda=LMBDA,
                     mini_batch_size=m, epochs=epochs, random_state=0, n_threads=1)
        fit = lambda: clf.fit(X, y)  # noqa: E731
        order = np.random.default_rng(1).permutation(len(X))
        epoch = IMPLEMENTATIONS["fastnn-f64"](X, Y, sizes, order, ETA, LMBDA, m)
        fit(), epoch()
        fits, kernels = [], []
        for _ in range(rounds):
            started = time.perf_counter()
            fit()
            fits.append(time.perf_counter() - started)
            started = time.perf_counter()
            for _ in range(epochs):
                epoch()
            kernels.append(time.perf_counter() - started)
        out["-".join(map(str, sizes)) + f"|{m}"] = dict(fit=float(np.median(fits)),
                                                       kernel=float(np.median(kernels)))
    return out


def time_sweep(X, y, epochs_list=(1, 2), peers=False, log=print):
    """Seconds of the book's ch. 3 grid search for each E; with ``peers`` MLPClassifier's too."""
    from sklearn.model_selection import GridSearchCV, PredefinedSplit

    from fastnn import FastNN

    fold = np.full(len(X), -1)
    fold[50_000:60_000] = 0
    grid = {"eta": [0.025, 0.1, 0.25, 0.5, 1.0], "lmbda": [0.0, 0.5, 1.0, 5.0, 10.0]}
    out = {}
    for name in ("fastnn", "sklearn-mlp") if peers else ("fastnn",):
        for epochs in (0, *epochs_list):  # 0: a warm-up, untimed, on a slice
            if epochs == 0:
                data, labels, split, epochs_run = X[:2000], y[:2000], PredefinedSplit(
                    np.r_[np.full(1500, -1), np.zeros(500)]), 1
            else:
                data, labels, split, epochs_run = X, y, PredefinedSplit(fold), epochs
            if name == "fastnn":
                search = GridSearchCV(FastNN(hidden_layer_sizes=(30,), epochs=epochs_run,
                                             random_state=0), grid, cv=split, n_jobs=2)
            else:
                from sklearn.neural_network import MLPClassifier

                mlp_grid = {"learning_rate_init": grid["eta"],
                            "alpha": [lm * 10 / 50_000 for lm in grid["lmbda"]]}
                search = GridSearchCV(MLPClassifier((30,), activation="logistic",
                                                    solver="sgd", batch_size=10, momentum=0.0,
                                                    max_iter=epochs_run, random_state=0),
                                      mlp_grid, cv=split, n_jobs=2)
            started = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                search.fit(data, labels)
            if epochs == 0:
                continue  # the workers are up and have loaded their kernels
            out[f"{name}|{epochs}"] = time.perf_counter() - started
            log(f"sweep {name} E={epochs}: {out[f'{name}|{epochs}']:.1f} s")
    return out


COMPILE_CHILD = """
import json, sys, time
t0 = time.perf_counter()
import numpy as np
from scipy import sparse
from sklearn.datasets import load_digits
from fastnn import FastNN, FastNNRegressor
t1 = time.perf_counter()
X, y = load_digits(return_X_y=True)
X = X / 16
step = {step!r}
kw = dict(epochs=1, random_state=0)
fits = {{
    "default fit (float64, sigmoid, cross-entropy, L2)": lambda: FastNN(**kw).fit(X, y),
    "+ float32": lambda: FastNN(**kw).fit(X.astype(np.float32), y),
    "+ n_threads=2 on a layer that splits": lambda: FastNN(
        hidden_layer_sizes=(1000,), mini_batch_size=64, n_threads=2, **kw).fit(X, y),
    "+ momentum": lambda: FastNN(momentum=0.9, **kw).fit(X, y),
    "+ L1": lambda: FastNN(penalty="l1", lmbda=1.0, **kw).fit(X, y),
    "+ dropout": lambda: FastNN(dropout=0.5, **kw).fit(X, y),
    "+ sample weights": lambda: FastNN(**kw).fit(X, y, sample_weight=np.linspace(0.5, 1.5, len(y))),
    "+ log-likelihood": lambda: FastNN(cost="log_likelihood", **kw).fit(X, y),
    "+ tanh": lambda: FastNN(activation="tanh", **kw).fit(X, y),
    "+ relu": lambda: FastNN(activation="relu", **kw).fit(X, y),
    "+ regressor": lambda: FastNNRegressor(**kw).fit(X, y / 9.0),
    "+ evaluation data": lambda: FastNN(validation_fraction=0.1, **kw).fit(X, y),
    "+ sparse input (CSR)": lambda: FastNN(**kw).fit(sparse.csr_matrix(X), y),
    "+ first predict": lambda: FastNN(**kw).fit(X, y).predict(X),
}}
fits[step]()
print(json.dumps(dict(imports=t1 - t0, work=time.perf_counter() - t1)))
"""

COMPILE_STEPS = ("default fit (float64, sigmoid, cross-entropy, L2)", "+ float32",
                 "+ n_threads=2 on a layer that splits", "+ momentum", "+ L1", "+ dropout", "+ sample weights",
                 "+ log-likelihood", "+ tanh", "+ relu", "+ regressor", "+ evaluation data",
                 "+ sparse input (CSR)", "+ first predict")


def time_compile(log=print):
    """Seconds each step adds from an empty cache, in order, each in a fresh process."""
    out = []
    with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for step in COMPILE_STEPS:
            proc = subprocess.run([sys.executable, "-c", COMPILE_CHILD.format(step=step)],
                                  env=env, capture_output=True, text=True, timeout=900)
            if proc.returncode:
                raise RuntimeError(proc.stderr[-2000:])
            stages = json.loads(proc.stdout.strip().splitlines()[-1])
            out.append((step, stages["work"]))
            log(f"compile {step}: {stages['work']:.1f} s")
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.whole", description=__doc__.split("\n")[0])
    parser.add_argument("--fits", action="store_true")
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--peers", action="store_true", help="time MLPClassifier's sweep too")
    parser.add_argument("--n", type=int, default=10_000, help="samples of the fit rows")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    every = not (args.fits or args.sweep or args.compile)
    began = time.perf_counter()

    def log(message):
        print(f"[{time.perf_counter() - began:6.0f} s] {message}", file=sys.stderr, flush=True)

    path = HERE / "WHOLE.json"
    result = json.loads(path.read_text()) if path.exists() else {}
    # A run may redo some sections only: each keeps the date and commit it ran on.
    stamp = dict(date=time.strftime("%Y-%m-%d %H:%M %Z"), commit=machine.git_state(HERE.parent))
    result.update(facts=machine.facts(), **stamp)
    X32, Y32, _, data_note = load_data()
    y = Y32.argmax(axis=1)
    result["data"] = data_note
    if every or args.fits:
        X, Y, yy = X32[:args.n], Y32[:args.n].astype(np.float64), y[:args.n]
        result["fits"], result["fits_skipped"] = time_fits(X, yy, args.rounds, log)
        result["fit_vs_kernel"] = fit_against_kernel(X.astype(np.float64), Y, yy, 3,
                                                     args.rounds)
        result.update(fits_n=args.n, fits_rounds=args.rounds, fits_load=machine.load_average(),
                      fits_stamp=stamp)
    if every or args.sweep:
        result["sweep"] = time_sweep(X32, y, peers=args.peers, log=log)
        result["sweep_load"] = machine.load_average()
        result["sweep_stamp"] = stamp
    if every or args.compile:
        result["compile"] = time_compile(log)
        result["compile_stamp"] = stamp
    path.write_text(json.dumps(result, indent=1, default=str))
    log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


def render_section(path=HERE / "WHOLE.json"):
    """RESULTS.md's "What users run" section, from ``python -m bench.whole``'s JSON."""
    if not Path(path).exists():
        return ["", "## What users run", "", "Not measured: run `python -m bench.whole`."]
    res = json.loads(Path(path).read_text())
    def ran(section):
        stamp = res.get(f"{section}_stamp") or dict(date=res["date"], commit=res.get("commit"))
        return f"{stamp['date']}, commit `{(stamp.get('commit') or ['?'])[0]}`"

    out = ["", "## What users run: whole fits, the ch. 3 sweep, compile time", "",
           f"`python -m bench.whole` on {res['data']}; each part says when and on which "
           "commit it ran."]
    fits = res.get("fits")
    if fits:
        out += ["", f"**One-epoch fits** on the first {res['fits_n']:,} samples, BLAS and "
                "every library on one thread, medians of "
                f"{res['fits_rounds']} interleaved rounds (load {res['fits_load']} after; "
                f"{ran('fits')}); "
                "ratios = peer's time / fastnn's:", ""]
        rows = []
        for shape in ("784-30-10", "784-100-10"):
            for m in (10, 100):
                cell = {name: fits.get(f"{shape}|{m}|{name}") for name in FIT_IMPLEMENTATIONS}
                f64, f32 = cell["fastnn-f64"], cell["fastnn-f32"]
                ratio = (lambda a, b: f"{a / b:.2f}×" if a and b else "—")
                rows.append((shape, m, f"{f64 * 1e3:.0f} ms", f"{f32 * 1e3:.0f} ms",
                             ratio(cell["sklearn-mlp"], f64), ratio(cell["sklearn-mlp-f32"], f32),
                             ratio(cell["torch"], f32)))
        out.append(_table(["shape", "m", "FastNN.fit f64", "FastNN.fit f32",
                           "MLPClassifier.fit f64 / f64", "MLPClassifier.fit f32 / f32",
                           "PyTorch loop (f32) / f32"], rows))
        if res.get("fits_skipped"):
            out += ["", "Skipped: " + "; ".join(f"`{k}`: {v}"
                                               for k, v in res["fits_skipped"].items())]
    fvk = res.get("fit_vs_kernel")
    if fvk:
        out += ["", "**`fit` against its kernel** (float64, 3 epochs, same data; the "
                "target is ≤ 1.1×):", "",
                _table(["shape, m", "FastNN.fit, 3 epochs", "3 × kernels.train_epoch",
                        "fit / kernel"],
                       [(k.replace("|", ", m = "), f"{v['fit']:.3f} s", f"{v['kernel']:.3f} s",
                         f"{v['fit'] / v['kernel']:.3f}×") for k, v in fvk.items()])]
    sweep = res.get("sweep")
    if sweep:
        out += ["", "**The book's ch. 3 sweep**: `GridSearchCV(FastNN(hidden_layer_sizes=(30,), "
                "epochs=E), 5 η × 5 λ, cv=<the 50,000/10,000 split>, n_jobs=2)`, m = 10, on "
                f"Fashion-MNIST (load {res.get('sweep_load')} after; {ran('sweep')}).  30 epochs are "
                "extrapolated from the line through E = 1 and E = 2, not measured:", ""]
        rows = []
        for name in ("fastnn", "sklearn-mlp"):
            t1, t2 = sweep.get(f"{name}|1"), sweep.get(f"{name}|2")
            if t1 and t2:
                t30 = t1 + 29 * (t2 - t1)
                rows.append((name, f"{t1:.1f} s", f"{t2:.1f} s", f"**{t30 / 60:.1f} min**"))
        out.append(_table(["search over", "E = 1", "E = 2", "E = 30 (extrapolated)"], rows))
    compile_steps = res.get("compile")
    if compile_steps:
        out += ["", "**Compile time**, each step a fresh process on the same, at first empty, "
                "`NUMBA_CACHE_DIR` (seconds after the imports: the step's fits on the 8×8 "
                f"digits, mostly compiling; a step that compiles nothing takes ~0.3 s; "
                f"{ran('compile')}):", "",
                _table(["step", "seconds"], [(s, f"{t:.1f}") for s, t in compile_steps])]
    return out + [""]


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])
