"""``kernels.stack.stack_lanes``: a scratch array on the stack, for loops that
must not allow for it overlapping ``params``."""
import numba
import numpy as np
import pytest

from fastnn.kernels.stack import STACK_LANES, stack_lanes


@numba.njit
def _fill_and_sum(like):
    lanes = stack_lanes(like)
    for j in range(lanes.shape[0]):
        lanes[j] = j
    total = 0.0
    for j in range(lanes.shape[0]):
        total += lanes[j]
    return lanes.shape[0], total


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stack_lanes_hold_stack_lanes_numbers_of_the_dtype(dtype):
    n, total = _fill_and_sum(np.zeros(1, dtype=dtype))
    assert n == STACK_LANES and total == STACK_LANES * (STACK_LANES - 1) / 2


def test_stack_lanes_refuse_an_integer_array_at_typing():
    with pytest.raises(numba.core.errors.TypingError, match="must be a float array"):
        _fill_and_sum(np.zeros(1, dtype=np.int64))
