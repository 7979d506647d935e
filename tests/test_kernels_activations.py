import warnings

import numpy as np
import pytest

from fastnn import reference
from fastnn.kernels import activations as act

EXTREME_Z = np.array([-1e4, -800.0, -40.0, -1.0, 0.0, 1.0, 40.0, 800.0, 1e4])
# ``others`` set: every activation's code, as a fit that uses tanh, relu or
# softmax compiles it (None compiles the sigmoid's only).
ALL = np.int64(1)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "softmax", "identity"])
def test_activation_matches_reference(name):
    z = np.random.default_rng(0).normal(scale=3, size=12)
    out = z.copy()
    act.activate(out, act.HIDDEN_ACTIVATIONS.get(name, act.OUTPUT_ACTIVATIONS.get(name)), ALL)
    expected = reference.ACTIVATIONS[name](z[None, :])[0]
    np.testing.assert_allclose(out, expected, rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("name", ["sigmoid", "softmax"])
def test_activation_is_finite_without_warnings_for_huge_inputs(name):
    out = EXTREME_Z.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        act.activate(out, act.OUTPUT_ACTIVATIONS[name], ALL)
        ref = reference.ACTIVATIONS[name](EXTREME_Z[None, :])[0]
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(ref))
    np.testing.assert_allclose(out, ref, rtol=1e-14)


def test_sigmoid_saturates_to_the_right_limits():
    out = EXTREME_Z.copy()
    act.activate(out, act.SIGMOID, None)
    assert out[0] == 0.0 and out[-1] == 1.0 and out[4] == 0.5


def test_relu_keeps_nan_so_divergence_stays_visible():
    z = np.array([np.nan, -1.0, 2.0])
    act.activate(z, act.RELU, ALL)
    assert np.isnan(z[0]) and z[1] == 0.0 and z[2] == 2.0


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu"])
def test_derivative_from_activation_matches_finite_differences(name):
    z = np.random.default_rng(1).normal(size=10) + 0.05  # away from relu's kink
    code = act.HIDDEN_ACTIVATIONS[name]
    h = 1e-6
    a, up, down = z.copy(), z + h, z - h
    for v in (a, up, down):
        act.activate(v, code, ALL)
    d = np.ones_like(z)
    act.derivative_times(d, a, code, ALL)
    np.testing.assert_allclose(d, (up - down) / (2 * h), rtol=1e-6, atol=1e-9)


def test_the_default_fits_sigmoid_is_the_sigmoid_of_every_fit():
    z = np.random.default_rng(2).normal(scale=5, size=40)
    default, every = z.copy(), z.copy()
    act.activate(default, act.SIGMOID, None)
    act.activate(every, act.SIGMOID, ALL)
    d_default, d_every = np.ones_like(z), np.ones_like(z)
    act.derivative_times(d_default, default, act.SIGMOID, None)
    act.derivative_times(d_every, every, act.SIGMOID, ALL)
    np.testing.assert_array_equal(default, every)
    np.testing.assert_array_equal(d_default, d_every)
