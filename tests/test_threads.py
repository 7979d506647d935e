"""When a fit splits its mini-batches between threads (``fastnn._threads.n_chunks``)."""
import math

import numba
import pytest
from sklearn.datasets import load_digits

from fastnn import FastNN, _threads, kernels

N_WEIGHTS = 784 * 30 + 30 * 10  # the book's 784-30-10


def test_one_thread_never_splits():
    assert _threads.n_chunks(1, 10_000, N_WEIGHTS) == 1


def test_mini_batches_below_the_minimum_run_serially():
    assert _threads.n_chunks(2, _threads.PARALLEL_MIN_BATCH - 1, N_WEIGHTS) == 1


def test_cheap_regions_give_one_piece_per_thread():
    assert _threads.n_chunks(2, 100, N_WEIGHTS) == 2
    assert _threads.n_chunks(3, 100, N_WEIGHTS) == 3


def test_regions_that_cost_more_than_they_save_keep_the_fit_serial(monkeypatch):
    # 100 samples of 784-30-10 are ~0.5 ms of work; regions of 1 ms each cannot pay.
    monkeypatch.setattr(_threads, "region_cost", lambda n_threads: 1e-3)
    assert _threads.n_chunks(2, 100, N_WEIGHTS) == 1
    assert _threads.n_chunks(2, 100_000, N_WEIGHTS) == 2


def test_a_two_thread_fit_of_large_mini_batches_runs_the_parallel_path(monkeypatch):
    chunks = []
    train_epoch = kernels.train_epoch

    def spy(*args):
        chunks.append(args[-1])
        return train_epoch(*args)

    monkeypatch.setattr(kernels, "train_epoch", spy)
    X, y = load_digits(return_X_y=True)
    FastNN(hidden_layer_sizes=(16,), epochs=2, mini_batch_size=64, n_threads=2,
           random_state=0).fit(X / 16, y)
    assert chunks == [2, 2]


@pytest.mark.measured_region_cost
def test_region_cost_is_measured_once_per_layer_and_thread_count():
    first = _threads.region_cost(2)
    assert isinstance(first, float) and math.isfinite(first)
    assert _threads.region_cost(2) == first
    n = min(2, numba.config.NUMBA_NUM_THREADS)
    assert (numba.threading_layer(), n) in _threads._REGION_COSTS


@pytest.mark.measured_region_cost
@pytest.mark.parametrize("n_threads", [1, 2])
def test_region_cost_leaves_the_callers_thread_count_alone(n_threads):
    before = numba.get_num_threads()
    _threads.region_cost(n_threads)
    assert numba.get_num_threads() == before
