"""When a fit splits its mini-batches between threads (``fastnn._threads.n_chunks``)."""
import math

import pytest

from fastnn import _threads

N_WEIGHTS = 784 * 30 + 30 * 10  # the book's 784-30-10


def test_one_thread_never_splits():
    assert _threads.n_chunks(1, 10_000, N_WEIGHTS) == 1


def test_mini_batches_below_the_minimum_run_serially(monkeypatch):
    monkeypatch.setattr(_threads, "region_cost", lambda n_threads: 0.0)
    assert _threads.n_chunks(2, _threads.PARALLEL_MIN_BATCH - 1, N_WEIGHTS) == 1


def test_cheap_regions_give_one_piece_per_thread(monkeypatch):
    monkeypatch.setattr(_threads, "region_cost", lambda n_threads: 1e-6)
    assert _threads.n_chunks(2, 100, N_WEIGHTS) == 2
    assert _threads.n_chunks(3, 100, N_WEIGHTS) == 3


def test_regions_that_cost_more_than_they_save_keep_the_fit_serial(monkeypatch):
    # 100 samples of 784-30-10 are ~0.5 ms of work; regions of 1 ms each cannot pay.
    monkeypatch.setattr(_threads, "region_cost", lambda n_threads: 1e-3)
    assert _threads.n_chunks(2, 100, N_WEIGHTS) == 1
    assert _threads.n_chunks(2, 100_000, N_WEIGHTS) == 2


def test_region_cost_is_measured_once_per_layer_and_thread_count():
    first = _threads.region_cost(2)
    assert math.isfinite(first) and first > 0
    assert _threads.region_cost(2) == first
    n = min(2, _threads.numba.config.NUMBA_NUM_THREADS)
    assert (_threads.numba.threading_layer(), n) in _threads._REGION_COSTS


@pytest.mark.parametrize("n_threads", [1, 2])
def test_region_cost_leaves_the_callers_thread_count_alone(n_threads):
    before = _threads.numba.get_num_threads()
    _threads.region_cost(n_threads)
    assert _threads.numba.get_num_threads() == before
