"""``fastnn compile``: compile the kernels into numba's cache ahead of time.

For Docker images, read-only installs and cluster workers that share one
``NUMBA_CACHE_DIR``: the first fit there then loads its kernels (~0.3 s)
instead of compiling them (~6 s for a dtype's default fit, 1–3 s for each
option set after it).  Each variant is compiled by what compiles it in real
use, a small fit (with evaluation data)
and a prediction on synthetic data, so that exactly the signatures real fits
need are cached: numba types arrays by dtype, rank and layout, never by size.
"""
import itertools
import sys
import time

import numpy as np

from ..kernels._jit import cache_dir

DTYPES = ("float64", "float32")
# The activations and costs other than the book's default network's (sigmoid,
# cross-entropy) compile into an epoch of their own, all of them at once
# (``kernels.costs.other_codes``): a tanh fit compiles what relu, softmax,
# log-likelihood, the quadratic cost and the regressor use too.
OTHERS = "other activations and costs"
# ch. 3's options that change the compiled epoch; thread counts share its code.
OPTIONS = {"momentum": dict(momentum=0.5), "l1": dict(penalty="l1", lmbda=1.0),
           "dropout": dict(dropout=0.2), "sample_weight": {}, OTHERS: dict(activation="tanh")}


def variants(dtypes, every_option, threads=False, sparse=False, others=False):
    """(label, dtype, options) to compile: the default fit per dtype, with
    ``others`` also the fit with the other activations and costs (``OTHERS``),
    with ``every_option`` each combination of ``OPTIONS``, with ``threads`` the
    same on several threads (the epoch whose large layers' products
    ``kernels.split`` shares between threads), and with ``sparse`` all of
    that again on sparse input (the sparse first layer, which dense input
    with few non-zeros uses too, and the densified mini-batches of sparse
    input with many)."""
    names = list(OPTIONS)
    sets = [()] if not every_option else [combo for k in range(len(names) + 1)
                                          for combo in itertools.combinations(names, k)]
    if others and not every_option:
        sets.append((OTHERS,))
    for on_sparse in (False, True) if sparse else (False,):
        for on_threads in (False, True) if threads else (False,):
            for dtype in dtypes:
                for combo in sets:
                    combo = (*combo, *(("threads",) if on_threads else ()),
                             *(("sparse input",) if on_sparse else ()))
                    label = f"{dtype} fit, evaluation and prediction" if not combo else \
                        f"{dtype} fit with {' + '.join(combo)}"
                    yield label, dtype, combo


def compile_variant(dtype, combo):
    """A fit of 40 synthetic samples with these options, then a prediction
    (on sparse input twice: few non-zeros and many)."""
    from ..estimators import FastNN

    rng = np.random.default_rng(0)
    X = rng.random((40, 6)).astype(dtype)
    y = np.arange(40) % 3
    params = dict(hidden_layer_sizes=(4,))
    for name in combo:
        params.update(OPTIONS.get(name, {}))
    if "threads" in combo:
        # A layer and a mini-batch that threads share (kernels.split): 4096 x 32
        # weights, 40 samples, 5.2 M multiply-adds, after a dense or sparse first layer.
        params.update(hidden_layer_sizes=(4096, 32), mini_batch_size=40, n_threads=2)
    inputs = [X]
    if "sparse input" in combo:
        from scipy.sparse import csr_matrix

        # Two epochs on sparse input: under 30 % non-zeros the sparse first
        # layer, above it BLAS on densified mini-batches (estimators._sparse).
        inputs = [csr_matrix(np.where(X < 0.85, 0, X)), csr_matrix(np.where(X < 0.5, 0, X))]
    weights = rng.random(40) + 0.5 if "sample_weight" in combo else None
    for data in inputs:
        clf = FastNN(epochs=1, random_state=0, **params)
        clf.fit(data, y, sample_weight=weights, eval_set=(data, y))
        clf.predict_proba(data)


def add_arguments(command):
    command.add_argument("--dtype", nargs="+", choices=DTYPES, default=["float64"],
                         help="dtypes to compile for (default: float64, what float64 data "
                              "and the digits use)")
    command.add_argument("--activations", action="store_true",
                         help="also the fits with another activation or cost than the book's "
                              "sigmoid and cross-entropy (tanh, relu, softmax, log-likelihood, "
                              "quadratic, the regressor), which compile an epoch of their own")
    command.add_argument("--threads", action="store_true",
                         help="also the epoch that shares a large layer's products between "
                              "threads (fits of >= 16,384-weight layers, mini-batches >= 32, "
                              "n_threads > 1)")
    command.add_argument("--sparse", action="store_true",
                         help="also the same on sparse input (scipy.sparse X with few or "
                              "many non-zeros, and dense X with under 30%% non-zeros)")
    command.add_argument("--all", action="store_true",
                         help="both dtypes, every combination of momentum, L1, dropout, "
                              "sample weights and the other activations and costs, on one "
                              "thread and several, dense and sparse input (256 variants)")


def command(args):
    folder = cache_dir()
    if folder is None:
        raise OSError("no writable numba cache folder: set NUMBA_CACHE_DIR to one, or make "
                      "~/.cache/fastnn writable")
    dtypes = DTYPES if args.all else tuple(dict.fromkeys(args.dtype))
    todo = list(variants(dtypes, args.all, threads=args.all or args.threads,
                         sparse=args.all or args.sparse, others=args.activations))
    print(f"fastnn compile: {len(todo)} variant(s) into {folder}", flush=True)
    started = time.perf_counter()
    for i, (label, dtype, combo) in enumerate(todo, 1):
        began = time.perf_counter()
        compile_variant(dtype, combo)
        print(f"[{i}/{len(todo)}] {label}: {time.perf_counter() - began:.1f} s", flush=True)
    print(f"fastnn compile: done in {time.perf_counter() - started:.1f} s; fits with these "
          "settings now load their kernels from the cache", file=sys.stdout)
    return 0
