"""``kernels.readonly.read_only``: the same array, typed read-only, so that
training and prediction share one compiled forward pass (counted in
``test_kernels_compile``)."""
import sys

import numba
import numpy as np
import pytest

from fastnn.kernels.readonly import read_only


@numba.njit
def _through(a):
    return read_only(a)


@numba.njit
def _write_through(a):
    seen = read_only(a)
    seen[0] = 1.0


@numba.njit
def _of_scalar(x):
    return read_only(x)


def test_the_view_shares_the_arrays_data_and_holds_no_extra_reference():
    a = np.arange(6.0).reshape(2, 3)
    before = sys.getrefcount(a)
    for _ in range(100):
        seen = _through(a)
    assert np.shares_memory(seen, a) and np.array_equal(seen, a)
    del seen
    assert sys.getrefcount(a) == before


def test_writing_through_the_view_is_refused_at_typing():
    with pytest.raises(numba.core.errors.TypingError, match="readonly array"):
        _write_through(np.zeros(3))


def test_a_scalar_is_refused_at_typing():
    with pytest.raises(numba.core.errors.TypingError, match="read_only: a must be an array"):
        _of_scalar(1.0)
