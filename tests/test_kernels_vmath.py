import re

import numba
import numpy as np
import pytest
from numba.core.errors import TypingError

from fastnn.kernels import costs, vmath
from fastnn.kernels._jit import jit
from fastnn.kernels.activations import SIGMOID, activate

TINY = np.finfo(np.float64).tiny


@jit()
def _exp_all(x, out):
    for i in range(x.shape[0]):
        out[i] = vmath.exp(x[i])


@jit()
def _log1p_all(x, out):
    for i in range(x.shape[0]):
        out[i] = vmath.log1p(x[i])


def _ulps(got, want):
    return np.max(np.abs(got - want) / np.spacing(np.abs(want)))


def _exp(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    _exp_all(x, out)
    return out


def _log1p(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    _log1p_all(x, out)
    return out


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


def test_log1p_is_within_one_ulp_of_the_c_library_for_non_negative_x():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(0.0, 1.0, 200_000), 10.0 ** rng.uniform(-320, 0, 100_000),
                        10.0 ** rng.uniform(0, 308, 50_000),
                        [0.0, 1.0, np.sqrt(2) - 1, np.nextafter(np.sqrt(2) - 1, 0), 5e-324,
                         2.0 ** 53, 2.0 ** 53 + 2, 1.7e308]])
    got, want = _log1p(x), np.log1p(x)
    assert got[x == 0.0].tolist() == [0.0]
    assert _ulps(got[x > 0], want[x > 0]) <= 1.0


def test_log1p_keeps_nan_and_inf():
    got = _log1p([np.nan, np.inf])
    assert np.isnan(got[0]) and got[1] == np.inf


def test_exp_and_log1p_loops_are_vectorised_without_library_calls():
    """The point of vmath: its loops hold no call, so LLVM can vectorise them."""
    _exp(np.zeros(3))
    _log1p(np.zeros(3))
    for kernel in (_exp_all, _log1p_all):
        ir = "\n".join(kernel.inspect_llvm().values())
        calls = set(re.findall(r"call [^@]*@([\w.]+)\(", ir))
        assert not {c for c in calls if re.fullmatch(r"(llvm\.)?(exp|log1p|log)[\w.]*", c)}
        assert re.search(r"<\d+ x double>", ir), "the loop was not vectorised"


@pytest.mark.parametrize("intrinsic, arg", [(vmath._bits_as_float64, 1.0),
                                            (vmath._float64_bits, 1)])
def test_bit_casts_refuse_the_wrong_type_when_typed(intrinsic, arg):
    with pytest.raises(TypingError):
        numba.njit(lambda v: intrinsic(v))(arg)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_sigmoid_cross_entropy_matches_the_cost_activation_and_delta(dtype):
    rng = np.random.default_rng(2)
    z = np.concatenate([rng.normal(0, 5, 40), [-800.0, -40.0, 0.0, 40.0, 800.0]]).astype(dtype)
    y = (rng.random(z.shape[0]) < 0.3).astype(dtype)
    a, delta, terms = z.copy(), np.empty_like(z), np.empty(z.shape[0])
    costs.sigmoid_cross_entropy(a, y, delta, terms)
    want_a, want_delta = z.copy(), np.empty_like(z)
    activate(want_a, SIGMOID)
    costs.delta(want_a, y, costs.CROSS_ENTROPY, SIGMOID, want_delta)
    want_terms = [costs.fn(z[i:i + 1], y[i:i + 1], costs.CROSS_ENTROPY, SIGMOID)
                  for i in range(z.shape[0])]
    # Within an ulp: fastmath's reciprocal (arcp) may round e/(1 + e) either way
    # in a vectorised loop.
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(a, want_a, rtol=eps, atol=TINY)
    np.testing.assert_allclose(delta, want_delta, rtol=eps, atol=eps)
    np.testing.assert_allclose(terms, want_terms, rtol=4 * eps, atol=TINY)


def test_fused_sigmoid_cross_entropy_keeps_nan_in_delta():
    z = np.array([np.nan, 1.0])
    delta, terms = np.empty(2), np.empty(2)
    costs.sigmoid_cross_entropy(z, np.zeros(2), delta, terms)
    assert np.isnan(delta[0]) and np.isfinite(delta[1])
