"""Fixtures for ``pytest bench``; the implementations themselves live in ``implementations.py``.

``pytest bench`` (benchmarks disabled by the default ``addopts``) is a smoke
test: every benchmark runs once, on a small slice of the data.
``pytest bench --benchmark-enable`` times them on the full data; the report
(``python -m bench.report``) runs the same table, interleaved, and writes RESULTS.md.
"""
import numpy as np
import pytest

from .implementations import (IMPLEMENTATIONS, Unavailable, fastnn_epoch,  # noqa: F401
                              load_data, synthetic_mnist)

SMOKE_SAMPLES = 1_000


def _benchmarks_enabled(config):
    return not config.getoption("benchmark_disable", default=False)


@pytest.fixture(scope="session")
def fashion(request):
    """(X float32, Y one-hot float32, X_test, description), sliced small for a smoke run."""
    X, Y, X_test, why = load_data()
    if not _benchmarks_enabled(request.config):
        return X[:SMOKE_SAMPLES], Y[:SMOKE_SAMPLES], X_test[:SMOKE_SAMPLES], why + " (smoke slice)"
    return X, Y, X_test, why


@pytest.fixture(scope="session")
def mnist_like():
    return synthetic_mnist()


def build_or_skip(build, *args, **kwargs):
    try:
        return build(*args, **kwargs)
    except Unavailable as why:
        pytest.skip(str(why))


def data_for(name, X, Y):
    """X, Y in the dtype ``name`` trains in, converted once per session."""
    from .implementations import DTYPES

    dtype = np.float64 if DTYPES[name] == "float64" else np.float32
    key = (id(X), dtype)
    if key not in _CONVERTED:
        _CONVERTED[key] = (np.ascontiguousarray(X, dtype=dtype),
                           np.ascontiguousarray(Y, dtype=dtype))
    return _CONVERTED[key]


_CONVERTED = {}
