import numpy as np
import pytest

from fastnn import kernels
from fastnn.estimators._params import pack

from .conftest import ACTIVATION_NAMES, COST_NAMES, codes, twin_networks

SIZES = [7, 6, 5, 4]  # two hidden layers, so BP2 runs twice


def _sample(seed=0):
    rng = np.random.default_rng(seed)
    return rng.random(SIZES[0]), np.eye(SIZES[-1])[rng.integers(SIZES[-1])]


def _cost(params, layout, x, y, code):
    return kernels.evaluate(x[None, :], y[None, :], np.ones(1), params, layout, *code)[1]


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("cost", COST_NAMES)
def test_backprop_gradient_matches_central_finite_differences(cost, activation):
    params, layout, _ = twin_networks(SIZES, cost, activation, seed=3)
    x, y = _sample()
    code = codes(cost, activation)
    grad = kernels.gradient(x, y, params, layout, *code)
    h = 1e-6
    numeric = np.empty_like(params)
    for k in range(len(params)):
        up, down = params.copy(), params.copy()
        up[k] += h
        down[k] -= h
        numeric[k] = (_cost(up, layout, x, y, code) - _cost(down, layout, x, y, code)) / (2 * h)
    rel = np.linalg.norm(grad - numeric) / (np.linalg.norm(grad) + np.linalg.norm(numeric))
    assert rel < 1e-6, rel


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("cost", COST_NAMES)
def test_backprop_gradient_matches_reference(cost, activation):
    params, layout, net = twin_networks(SIZES, cost, activation, seed=4)
    x, y = _sample(1)
    grad = kernels.gradient(x, y, params, layout, *codes(cost, activation))
    nabla_b, nabla_w = net.backprop(x[None, :], y[None, :])
    np.testing.assert_allclose(grad, pack(nabla_w, nabla_b), rtol=1e-12, atol=1e-15)
