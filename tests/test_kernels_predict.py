import numpy as np
import pytest

from fastnn import kernels
from fastnn.estimators._threads import numba_threads

from .conftest import COST_NAMES, codes, twin_networks


@pytest.mark.parametrize("cost", COST_NAMES)
def test_predict_outputs_match_reference_feedforward(digits, cost):
    X, _ = digits
    params, layout, net = twin_networks([64, 25, 10], cost, "tanh", seed=0)
    hidden, out, _ = codes(cost, "tanh")
    ours = kernels.predict_outputs(X, params, layout, hidden, out, False)
    np.testing.assert_allclose(ours, net.feedforward(X), rtol=1e-12, atol=1e-15)


def test_normalised_outputs_are_probabilities(digits):
    X, _ = digits
    params, layout, _ = twin_networks([64, 25, 10], seed=1)
    proba = kernels.predict_outputs(X, params, layout, 0, 0, True)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)


def test_predict_outputs_are_identical_for_any_thread_count(digits):
    X, _ = digits
    params, layout, _ = twin_networks([64, 25, 10], seed=2)
    runs = []
    for n_threads in (1, 2):
        with numba_threads(n_threads):
            runs.append(kernels.predict_outputs(X, params, layout, 0, 0, True))
    assert np.array_equal(runs[0], runs[1])
