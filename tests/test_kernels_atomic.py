"""``kernels.atomic``: the counters the threads of one epoch share."""
import numba
import numpy as np
import pytest
from numba import prange

from fastnn.estimators import _threads
from fastnn.kernels import atomic


@numba.njit
def _add_and_read(counters, value):
    before = atomic.fetch_add(counters, 1, value)
    atomic.pause()
    return before, atomic.load(counters, 1)


@numba.njit
def _count(counters, times):
    for _ in range(times):
        atomic.fetch_add(counters, 0, 1)


@numba.njit(parallel=True)
def _count_together(counters, n_threads, times):
    for _ in prange(n_threads):
        _count(counters, times)


def test_fetch_add_returns_the_value_before_and_load_sees_the_sum():
    counters = np.array([0, 40], dtype=np.int64)
    assert _add_and_read(counters, 2) == (40, 42)
    assert list(counters) == [0, 42]


def test_two_threads_adding_at_once_lose_no_count():
    counters = np.zeros(1, dtype=np.int64)
    with _threads.numba_threads(2):
        _count_together(counters, 2, 200_000)
    assert counters[0] == 400_000


def test_counters_must_be_a_writable_int64_array():
    with pytest.raises(numba.core.errors.TypingError, match="writable 1-D int64"):
        _add_and_read(np.zeros(2, dtype=np.int32), 1)


@numba.njit
def _yield_times(n):
    for _ in range(n):
        atomic.yield_thread()
    return n


def test_a_thread_can_give_up_its_core_and_carry_on():
    assert _yield_times(3) == 3
