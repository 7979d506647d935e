"""``kernels.prefetch``: a cache hint that changes nothing, refuses what it
cannot address at typing, and never touches memory past an array's end."""
import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from fastnn.kernels.prefetch import prefetch


@njit
def _hint_every(a, past):
    for i in range(a.size + past):
        prefetch(a, i)
    return a.sum()


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32, np.int64, np.uint64])
@pytest.mark.parametrize("shape", [(7,), (3, 5)])
def test_hints_change_no_value_in_any_dtype_or_rank(dtype, shape):
    a = np.arange(np.prod(shape), dtype=dtype).reshape(shape)
    before = a.copy()
    assert _hint_every(a, 0) == before.sum()
    np.testing.assert_array_equal(a, before)


def test_an_index_past_the_end_or_negative_is_skipped_not_dereferenced():
    # An empty array's data pointer may be anything: any dereference would be a bug.
    assert _hint_every(np.empty(0), 1_000_000) == 0.0

    @njit
    def negative(a):
        prefetch(a, -1)
        return a[0]

    assert negative(np.ones(3)) == 1.0


def test_a_read_only_array_takes_hints():
    a = np.arange(10.0)
    a.flags.writeable = False
    assert _hint_every(a, 3) == 45.0


def test_a_strided_array_is_refused_at_typing():
    with pytest.raises(TypingError, match="C-contiguous"):
        _hint_every(np.arange(10.0)[::2], 0)


def test_a_float_index_is_refused_at_typing():
    @njit
    def float_index(a):
        prefetch(a, 1.5)

    with pytest.raises(TypingError, match="integer"):
        float_index(np.ones(3))
