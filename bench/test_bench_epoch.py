"""One epoch of training at MNIST shape, 784-30-10, mini-batch 10.

Run with ``pytest bench --benchmark-enable``; the table's parenthesised
factors are the ratios to the fastest implementation, measured in the same run.
Compilation happens in the builder's warm-up round, never in a timed one.
"""
import numpy as np
import pytest

from .conftest import IMPLEMENTATIONS

SIZES = [784, 30, 10]


@pytest.mark.parametrize("name", list(IMPLEMENTATIONS))
def test_one_epoch_784_30_10_batch_10(benchmark, mnist_like, name):
    X, Y = mnist_like
    order = np.random.default_rng(1).permutation(len(X))
    run = IMPLEMENTATIONS[name](X, Y, SIZES, order, eta=0.5, lmbda=5.0, mini_batch_size=10)
    benchmark.group = "epoch|784-30-10|m=10|synthetic 10,000 x 784"
    benchmark.pedantic(run, rounds=5, warmup_rounds=1)
