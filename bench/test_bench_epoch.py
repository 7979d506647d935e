"""One epoch of training for every implementation × shape × mini-batch × thread count.

Run with ``pytest bench --benchmark-enable``; the table's parenthesised
factors are ratios to the fastest implementation of the group, measured in the
same run.  Compilation happens in the warm-up round, never in a timed one.
Groups are ``epoch|shape|m|threads|samples``: compare within a group.
"""
import numpy as np
import pytest

from .conftest import build_or_skip, data_for
from .implementations import ALL_THREADS, IMPLEMENTATIONS, row_samples

SHAPES = {"784-30-10": [784, 30, 10],
          "784-100-10": pytest.param([784, 100, 10], marks=pytest.mark.slow)}
MINI_BATCHES = [pytest.param(1, marks=pytest.mark.slow), 10, 100]
THREADS = sorted({1, ALL_THREADS})


@pytest.mark.parametrize("n_threads", THREADS, ids=lambda t: f"{t}thr")
@pytest.mark.parametrize("m", MINI_BATCHES, ids=lambda m: f"m{m}")
@pytest.mark.parametrize("sizes", list(SHAPES.values()), ids=list(SHAPES))
@pytest.mark.parametrize("name", list(IMPLEMENTATIONS))
def test_one_epoch(benchmark, fashion, name, sizes, m, n_threads):
    X, Y, _, _ = fashion
    X, Y = data_for(name, X, Y)
    n = row_samples(m, n_threads, len(X))
    order = np.random.default_rng(1).permutation(n)
    run = build_or_skip(IMPLEMENTATIONS[name], X[:n], Y[:n], sizes, order, eta=0.5, lmbda=5.0,
                        mini_batch_size=m, n_threads=n_threads)
    shape = "-".join(map(str, sizes))
    benchmark.group = f"epoch|{shape}|m={m}|{n_threads} threads|{n:,} samples"
    benchmark.pedantic(run, rounds=5, warmup_rounds=1)
