import re

import numba
import numpy as np
import pytest
from numba.core.errors import TypingError

from fastnn.kernels import vmath
from fastnn.kernels._jit import ERROR_MODEL, FASTMATH, jit
from fastnn.kernels.activations import SIGMOID, activate


@jit()
def _exp_all(x, out):
    for i in range(x.shape[0]):
        out[i] = vmath.exp(x[i])


def _ulps(got, want):
    return np.max(np.abs(got - want) / np.spacing(np.abs(want)))


def _exp(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    _exp_all(x, out)
    return out


@jit()
def _log1p_all(x, out):
    for i in range(x.shape[0]):
        out[i] = vmath.log1p_unit(x[i])


def _log1p_unit(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    _log1p_all(x, out)
    return out


def test_log1p_unit_is_within_one_ulp_of_the_c_library_on_zero_to_one():
    rng = np.random.default_rng(1)
    e = np.concatenate([rng.random(300_000), np.exp(-rng.uniform(0.0, 700.0, 100_000)),
                        np.nextafter(vmath.SQRT2_M1, [0.0, 1.0]),
                        [vmath.SQRT2_M1, 0.0, 1.0, 5e-324, 1e-300, 1e-17, 0.5]])
    got, want = _log1p_unit(e), np.log1p(e)
    nonzero = want != 0.0
    assert _ulps(got[nonzero], want[nonzero]) <= 1.0 and np.all(got[~nonzero] == 0.0)


def test_log1p_unit_keeps_nan():
    assert np.isnan(_log1p_unit([np.nan])[0])


def test_exp_is_within_one_ulp_of_the_c_library_over_its_normal_range():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(vmath.EXP_MIN_NORMAL, vmath.EXP_MAX, 200_000),
                        rng.uniform(-1.0, 1.0, 100_000), rng.uniform(-40.0, 0.0, 100_000),
                        [0.0, -0.0, 1e-300, -1e-300, 0.5 * np.log(2), -0.5 * np.log(2),
                         vmath.EXP_MAX, vmath.EXP_MIN_NORMAL]])
    assert _ulps(_exp(x), np.exp(x)) <= 1.0


def test_exp_keeps_nan_and_gives_inf_and_zero_outside_the_normal_range():
    got = _exp([np.nan, np.inf, -np.inf, 710.0, 1e300, -709.0, -1e300])
    assert np.isnan(got[0])
    assert list(got[1:]) == [np.inf, 0.0, np.inf, np.inf, 0.0, 0.0]


def test_exp_of_a_float32_argument_is_the_float64_exp_of_its_value():
    x = np.float32(-3.7)
    assert _exp([float(x)])[0] == jit()(lambda v: vmath.exp(v))(x)


def _fresh_ir(py_func, *args):
    """The LLVM IR of ``py_func`` compiled now as the kernels are, but never
    cached: a kernel loaded from numba's cache has no IR to inspect."""
    kernel = numba.njit(cache=False, fastmath=set(FASTMATH), error_model=ERROR_MODEL)(py_func)
    kernel(*args)
    return "\n".join(kernel.inspect_llvm().values())


def test_an_exp_loop_is_vectorised_without_library_calls():
    """The point of vmath: its loops hold no call, so LLVM can vectorise them."""
    ir = _fresh_ir(_exp_all.py_func, np.zeros(3), np.zeros(3))
    calls = set(re.findall(r"call [^@]*@([\w.]+)\(", ir))
    assert not {c for c in calls if re.fullmatch(r"(llvm\.)?exp[\w.]*", c)}
    assert re.search(r"<\d+ x double>", ir), "the loop was not vectorised"


def _sigmoid_layer(z):
    activate(z, SIGMOID, None)


def test_a_sigmoid_layer_is_vectorised_without_library_calls():
    ir = _fresh_ir(_sigmoid_layer, np.zeros(3))
    assert "@exp" not in ir and "llvm.exp" not in ir
    assert re.search(r"<\d+ x double>", ir), "the loop was not vectorised"


def test_the_bit_cast_refuses_a_float_when_typed():
    with pytest.raises(TypingError):
        numba.njit(lambda v: vmath._bits_as_float64(v))(1.0)
