import warnings

import numpy as np
import pytest

from fastnn import kernels
from fastnn.estimators._threads import numba_threads

from .conftest import COST_NAMES, codes, one_hot, twin_networks


@pytest.mark.parametrize("cost", COST_NAMES)
def test_evaluate_matches_reference_outputs_and_cost(digits, cost):
    X, y = digits
    Y = one_hot(y, 10)
    params, layout, net = twin_networks([64, 25, 10], cost, "sigmoid", seed=0)
    outputs, total = kernels.evaluate(X, Y, np.ones(len(X)), params, layout, *codes(cost, "sigmoid"))
    np.testing.assert_allclose(outputs, net.feedforward(X), rtol=1e-12, atol=1e-15)
    assert np.isclose(total / len(X), net.total_cost(X, Y), rtol=1e-12)


def test_evaluate_weights_each_sample_cost(digits):
    X, y = digits
    Y = one_hot(y, 10)
    weights = np.random.default_rng(0).random(len(X))
    params, layout, net = twin_networks([64, 25, 10], seed=1)
    _, total = kernels.evaluate(X, Y, weights, params, layout, *codes("cross_entropy", "sigmoid"))
    assert np.isclose(total / len(X), net.total_cost(X, Y, sample_weight=weights), rtol=1e-12)


@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_penalty_cost_matches_the_reference_and_leaves_out_biases(digits, penalty):
    X, y = digits
    Y = one_hot(y, 10)
    params, layout, net = twin_networks([64, 25, 10], seed=2)
    ours = kernels.penalty_cost(params, layout, kernels.PENALTIES[penalty], 3.0, 100)
    theirs = net.total_cost(X[:100], Y[:100], 3.0, penalty) - net.total_cost(X[:100], Y[:100])
    assert np.isclose(ours, theirs, rtol=1e-10)


def test_evaluate_is_identical_for_any_thread_count(digits):
    X, y = digits
    Y = one_hot(y, 10)
    params, layout, _ = twin_networks([64, 25, 10], seed=3)
    runs = []
    for n_threads in (1, 2):
        with numba_threads(n_threads):
            runs.append(kernels.evaluate(X, Y, np.ones(len(X)), params, layout, 0, 0, 1))
    assert np.array_equal(runs[0][0], runs[1][0]) and runs[0][1] == runs[1][1]


@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_penalty_cost_of_weights_near_floats_limit_is_inf_without_a_warning(penalty):
    params, layout, _ = twin_networks([64, 25, 10], seed=2)
    params = params * 1e307
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert kernels.penalty_cost(params, layout, kernels.PENALTIES[penalty], 3.0, 100) == np.inf


def test_a_float32_weight_whose_square_overflows_makes_the_penalty_nan_even_with_lambda_0():
    # The cost in the model's own dtype: the fit reads it as divergence.
    params, layout, _ = twin_networks([64, 25, 10], seed=2)
    params = (params * 1e20).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(kernels.penalty_cost(params, layout, kernels.PENALTIES["l2"], 0.0, 100))
