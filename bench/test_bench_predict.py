"""Prediction on the 10,000 test images: fastnn's kernel against a NumPy BLAS forward pass."""
import pytest

from .implementations import ALL_THREADS
from .predictors import PREDICTORS


@pytest.mark.parametrize("n_threads", sorted({1, ALL_THREADS}), ids=lambda t: f"{t}thr")
@pytest.mark.parametrize("sizes", [[784, 30, 10], [784, 100, 10]], ids=["784-30-10", "784-100-10"])
@pytest.mark.parametrize("name", list(PREDICTORS))
def test_predict(benchmark, fashion, name, sizes, n_threads):
    X_test = fashion[2]
    run = PREDICTORS[name](X_test, sizes, n_threads)
    benchmark.group = f"predict|{'-'.join(map(str, sizes))}|{n_threads} threads|{len(X_test):,} samples"
    benchmark.pedantic(run, rounds=20, warmup_rounds=1)
