"""Old kernels against new, interleaved in ONE process: the speed-up of a kernel change.

``python -m bench.ab --base 3745c23`` extracts ``kernels/`` of that commit
(``git archive``) into a temporary folder, imports it as the package
``basekernels`` next to this worktree's ``fastnn.kernels``, and times one epoch
(or one prediction) of each, alternating old and new for several rounds, from
the same initial weights and sample order.  It prints medians, their ratio and
the largest |Δ| between the two models after one epoch (0 when the change keeps
fastnn's arithmetic).  Ratios from one process on a shared machine are far
steadier than absolute times.

Cases are ``hidden:m:dtype:threads`` (``30:10:f64:1``), the same on synthetic
CSR input of a given density (``csr0.2:30:10:f64:1``: ``bench.sparse``'s
MNIST-shaped rows, 20 % non-zeros), or ``predict:dtype:threads``.
"""
import argparse
import importlib
import inspect
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO

import numpy as np

from fastnn import kernels as new_kernels
from fastnn.estimators._params import initial_parameters, pack
from fastnn.estimators._threads import blas_threads, numba_threads

from .implementations import load_data
from .sparse import random_sparse

DEFAULT_CASES = "30:10:f64:1,30:10:f32:1,30:100:f64:1,30:100:f64:2,100:10:f64:1,predict:f64:1"


def import_base(rev):
    """``kernels/`` of git revision ``rev`` as the module ``basekernels``."""
    folder = tempfile.mkdtemp(prefix="fastnn-base-")
    archive = subprocess.run(["git", "archive", rev, "kernels"], check=True, capture_output=True)
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    os.rename(f"{folder}/kernels", f"{folder}/basekernels")
    sys.path.insert(0, folder)
    return importlib.import_module("basekernels")


def epoch(K, X, Y, sizes, order, m, threads, eta=0.5, lmbda=5.0):
    """(run, params): one epoch of the book's SGD with kernels package K (X an
    array or K's ``CSR``; Y of the model's dtype)."""
    sizes = np.asarray(sizes, dtype=np.int64)
    params = pack(*initial_parameters(sizes, "default", np.random.default_rng(0), Y.dtype))
    layout = K.make_layout(sizes)[0]
    codes = K.Codes(K.HIDDEN_ACTIVATIONS["sigmoid"], K.OUTPUT_ACTIVATIONS["sigmoid"],
                    K.COSTS["cross_entropy"], K.PENALTIES["l2"])
    hyper = K.Hyper(eta, lmbda, 0.0, 0.0)
    weights, velocity = np.ones(len(Y), Y.dtype), np.zeros(0, Y.dtype)
    # Kernels before the BLAS epoch took a thread-chunk count; since, the
    # arrays that collect the training monitors.
    takes = inspect.signature(getattr(K.train_epoch, "py_func", K.train_epoch)).parameters
    if "n_threads" in takes:
        last = (np.empty((len(Y), sizes[-1]), Y.dtype), np.empty(len(Y)), threads)
    elif "outputs" in takes:
        last = (np.empty((len(Y), sizes[-1]), Y.dtype), np.empty(len(Y)))
    else:
        last = (threads if threads > 1 and m >= 32 else 1,)

    def run():
        with numba_threads(threads), blas_threads(1):
            K.train_epoch(X, Y, weights, order, params, velocity, layout, codes, hyper,
                          np.uint64(0), len(Y), m, *last)
    return run, params


def predict(K, X, sizes, threads):
    sizes = np.asarray(sizes, dtype=np.int64)
    params = pack(*initial_parameters(sizes, "default", np.random.default_rng(0), X.dtype))
    layout = K.make_layout(sizes)[0]

    def run():
        with numba_threads(threads), blas_threads(1):
            return K.predict_outputs(X, params, layout, 0, 0, False)
    return run


def medians(jobs, rounds):
    for job in jobs.values():
        job()
    times = {k: [] for k in jobs}
    for r in range(rounds):
        for k in (list(jobs) if r % 2 == 0 else list(jobs)[::-1]):
            started = time.perf_counter()
            jobs[k]()
            times[k].append(time.perf_counter() - started)
    return {k: float(np.median(v)) for k, v in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="main", help="git revision of the old kernels")
    parser.add_argument("--n", type=int, default=20_000, help="training samples")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--cases", default=DEFAULT_CASES)
    args = parser.parse_args(argv)
    old_kernels = import_base(args.base)
    X, Y, X_test, why = load_data()
    X, Y = X[:args.n], Y[:args.n]
    order = np.random.default_rng(1).permutation(len(X))
    print(f"{why}; base {args.base}; {args.rounds} interleaved rounds")
    for case in args.cases.split(","):
        parts = case.split(":")
        if parts[0] == "predict":
            dtype, threads = np.dtype(parts[1].replace("f", "float")), int(parts[2])
            Xp = np.ascontiguousarray(X_test, dtype=dtype)
            jobs = {"old": predict(old_kernels, Xp, [784, 30, 10], threads),
                    "new": predict(new_kernels, Xp, [784, 30, 10], threads)}
            diff = float(np.abs(jobs["old"]() - jobs["new"]()).max())
            label = f"predict 10k 784-30-10 {parts[1]} {threads} thr"
        else:
            density = float(parts.pop(0)[3:]) if parts[0].startswith("csr") else None
            hidden, m, threads = int(parts[0]), int(parts[1]), int(parts[3])
            dtype = np.dtype(parts[2].replace("f", "float"))
            Yd = np.ascontiguousarray(Y, dtype=dtype)
            if density is None:
                X_old = X_new = np.ascontiguousarray(X, dtype=dtype)
            else:
                S = random_sparse(len(X), 784, density)[0].astype(dtype)
                # Each package's own CSR type: the epoch tells the inputs apart by it.
                X_old, X_new = [K.CSR(S.data, S.indices, S.indptr)
                                for K in (old_kernels, new_kernels)]
            run_old, p_old = epoch(old_kernels, X_old, Yd, [784, hidden, 10], order, m, threads)
            run_new, p_new = epoch(new_kernels, X_new, Yd, [784, hidden, 10], order, m, threads)
            run_old()
            run_new()
            diff = float(np.abs(p_old - p_new).max())
            jobs = {"old": run_old, "new": run_new}
            label = (f"epoch 784-{hidden}-10 m={m} {parts[2]} {threads} thr"
                     + (f" CSR {density:.0%}" if density is not None else ""))
        t = medians(jobs, args.rounds)
        print(f"{label}: old {t['old'] * 1e3:.1f} ms, new {t['new'] * 1e3:.1f} ms, "
              f"old/new {t['old'] / t['new']:.2f}x, max |Δ| {diff:.1e}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
