"""A hyperparameter search of 8 fits: outer processes vs inner threads.

``GridSearchCV(n_jobs=2)`` (joblib's loky processes; each fit gets the threads
rule's share, one thread on 2 cores) against ``n_jobs=1`` with one thread, and
against ``n_jobs=1`` with two numba threads per fit.  Run with
``pytest bench/test_bench_search.py --benchmark-enable``; compare within the
group ``search|…``: the parenthesised factors are ratios from the same run.
The warm-up round starts loky's workers and loads the compiled kernels, so
neither is timed.
"""
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from fastnn import FastNN

from .implementations import synthetic_mnist

# 4 candidates × 2 folds = 8 fits.
GRID = {"eta": [0.1, 0.5, 1.0, 3.0], "lmbda": [0.0, 1.0]}
CV = 2
# m >= 32 so that a fit's inner threads are used at all (PARALLEL_MIN_BATCH).
FIT = dict(hidden_layer_sizes=(30,), mini_batch_size=32, epochs=3, random_state=0)
LAYOUTS = {
    "1 job x 1 thread": (1, 1),
    "2 jobs x rule's threads": (2, None),
    "1 job x 2 threads": (1, 2),
}


def timing(config):
    """pytest-benchmark's own rule: ``--benchmark-enable`` beats addopts' ``--benchmark-disable``."""
    return config.getoption("benchmark_enable") or not config.getoption("benchmark_disable")


@pytest.fixture(scope="module")
def search_data(request):
    n = 4_000 if timing(request.config) else 400
    X, Y = synthetic_mnist(n=n)
    return X, np.argmax(Y, axis=1)


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_grid_search_of_8_fits(benchmark, search_data, layout):
    X, y = search_data
    n_jobs, n_threads = LAYOUTS[layout]
    search = GridSearchCV(FastNN(n_threads=n_threads, **FIT), GRID, cv=CV, n_jobs=n_jobs,
                          refit=False)
    benchmark.group = f"search|8 fits|{len(X):,} samples"
    benchmark.pedantic(search.fit, args=(X, y), rounds=5, warmup_rounds=1)
