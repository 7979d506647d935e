"""``kernels.dtype.as_dtype_of``: a number in an array's dtype, in a register."""
import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from fastnn.kernels.dtype import as_dtype_of


@njit
def _as_dtype_of(x, like):
    return as_dtype_of(x, like)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_float64_is_rounded_as_numpy_rounds_it_to_the_arrays_dtype(dtype):
    x = 0.1 + 2.0 ** -40  # not a float32: rounding changes it
    got = _as_dtype_of(x, np.empty(1, dtype=dtype))  # numba returns it as a Python float
    assert got == float(dtype(x)) and (got != x) == (dtype is np.float32)


def test_an_integer_is_converted_too():
    assert _as_dtype_of(3, np.empty(1, dtype=np.float32)) == np.float32(3.0)


def test_something_other_than_an_array_is_refused_when_typed():
    with pytest.raises(TypingError, match="like must be an array"):
        _as_dtype_of(1.0, 2.0)
