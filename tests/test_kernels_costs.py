import warnings

import numpy as np
import pytest

from fastnn import kernels, reference
from fastnn.kernels import costs

from .conftest import COST_NAMES, codes


@pytest.mark.parametrize("cost", COST_NAMES)
def test_cost_matches_reference(cost):
    rng = np.random.default_rng(0)
    z = rng.normal(scale=2, size=(1, 6))
    y = np.eye(6)[[2]]
    _, out, code = codes(cost, "sigmoid")
    expected = reference.COSTS[cost].fn(z, y, kernels.OUTPUT_OF_COST[cost])
    assert costs.fn(z[0], y[0], code, out) == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("cost", COST_NAMES)
def test_cost_is_finite_without_warnings_for_saturated_outputs(cost):
    z = np.array([-1e4, 1e4, -800.0, 800.0])
    y = np.array([1.0, 0.0, 0.0, 0.0])
    _, out, code = codes(cost, "sigmoid")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = costs.fn(z, y, code, out)
        ref = reference.COSTS[cost].fn(z[None, :], y[None, :], kernels.OUTPUT_OF_COST[cost])
    assert np.isfinite(ours) and ours == pytest.approx(ref, rel=1e-12)


def test_cross_entropy_of_a_confidently_wrong_neuron_grows_linearly():
    # −ln σ(−1e4) = softplus(1e4) = 1e4: the cost stays finite and exact.
    assert costs.fn(np.array([-1e4]), np.array([1.0]), costs.CROSS_ENTROPY, 0) == 1e4


@pytest.mark.parametrize("cost", COST_NAMES)
def test_output_delta_matches_reference(cost):
    rng = np.random.default_rng(2)
    a = rng.random(5)
    if cost == "log_likelihood":
        a /= a.sum()
    y = np.eye(5)[1]
    _, out_code, code = codes(cost, "sigmoid")
    d = np.empty(5)
    costs.delta(a, y, code, out_code, d)
    expected = reference.COSTS[cost].delta(a, y, kernels.OUTPUT_OF_COST[cost])
    np.testing.assert_allclose(d, expected, rtol=1e-15)
