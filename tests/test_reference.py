import ast
import contextlib
import warnings
from pathlib import Path

import numpy as np
import pytest

import fastnn.reference as reference

from .conftest import ACTIVATION_NAMES, COST_NAMES, one_hot


def test_reference_imports_only_numpy_and_fastnn_params():
    tree = ast.parse(Path(reference.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"numpy", "estimators._params"}, imported


def test_reference_learns_digits(digits):
    X, y = digits
    rng = np.random.default_rng(0)
    net = reference.Network.random([64, 30, 10], rng)
    net.SGD(X[:1400], one_hot(y[:1400], 10), epochs=10, mini_batch_size=10, eta=0.5, rng=rng)
    assert net.accuracy(X[1400:], y[1400:]) / len(X[1400:]) > 0.9


def test_reference_total_cost_adds_the_l2_term(digits):
    X, y = digits
    net = reference.Network.random([64, 10, 10], np.random.default_rng(1))
    Y = one_hot(y, 10)
    squares = sum(np.sum(w * w) for w in net.weights)
    extra = net.total_cost(X, Y, lmbda=2.0) - net.total_cost(X, Y)
    assert np.isclose(extra, 0.5 * 2.0 / len(X) * squares)


# -- no numpy warning for any input -----------------------------------------------

@contextlib.contextmanager
def strict_numpy():
    """Every numpy warning an error, and every floating-point event too."""
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        yield


EXTREMES = [1e308, -1e308, np.inf, -np.inf, 0.0, np.nan]


def test_softmax_of_opposite_extremes_is_one_hot_without_warnings():
    with strict_numpy():
        a = reference.softmax(np.array([[1e308, -1e308]]))
    np.testing.assert_array_equal(a, [[1.0, 0.0]])


def test_softmax_of_an_infinite_input_is_its_limit():
    with strict_numpy():
        a = reference.softmax(np.array([[np.inf, 0.0], [np.inf, np.inf], [-np.inf, -np.inf]]))
    np.testing.assert_array_equal(a, [[1.0, 0.0], [0.5, 0.5], [0.5, 0.5]])


@pytest.mark.parametrize("z, y, expected", [
    ([1e308, -1e308], [1.0, 0.0], 0.0),
    ([1e308, -1e308], [0.0, 1.0], np.inf),
    ([np.inf, 0.0], [1.0, 0.0], 0.0),
    ([np.inf, 0.0], [0.0, 1.0], np.inf),
])
def test_log_likelihood_of_extreme_z_is_its_limit_without_warnings(z, y, expected):
    with strict_numpy():
        cost = reference.LogLikelihoodCost.fn(np.array([z]), np.array([y]), "softmax")
    assert cost == expected


@pytest.mark.parametrize("z, y, expected", [
    (-np.inf, 0.0, 0.0), (-np.inf, 1.0, np.inf), (np.inf, 1.0, 0.0), (np.inf, 0.0, np.inf),
])
def test_cross_entropy_of_infinite_z_is_its_limit_without_warnings(z, y, expected):
    with strict_numpy():
        cost = reference.CrossEntropyCost.fn(np.array([[z]]), np.array([[y]]), "sigmoid")
    assert cost == expected


@pytest.mark.parametrize("cost", COST_NAMES)
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_a_network_fed_extreme_inputs_never_warns(cost, activation):
    rng = np.random.default_rng(0)
    net = reference.Network.random([len(EXTREMES), 3, 2], rng, cost=cost, activation=activation)
    X = np.array([EXTREMES, EXTREMES[::-1], np.ones(len(EXTREMES))])
    Y = np.eye(2)[[0, 1, 0]]
    with strict_numpy():
        net.feedforward(X)
        net.total_cost(X, Y, lmbda=1.0)
        net.update_mini_batch(X, Y, eta=1e300, lmbda=1.0, n=3, momentum=0.5)
        net.update_mini_batch(X, Y, eta=1e300, lmbda=1.0, n=3, penalty="l1")


def test_softmax_and_log_likelihood_keep_their_arithmetic_for_ordinary_inputs():
    z = np.random.default_rng(3).normal(scale=30, size=(50, 7))
    y = np.eye(7)[np.arange(50) % 7]
    # The formulas before infinities were handled, bit for bit.
    e = np.exp(z - z.max(axis=1, keepdims=True))
    lse = z.max(axis=1, keepdims=True) + np.log(e.sum(axis=1, keepdims=True))
    np.testing.assert_array_equal(reference.softmax(z), e / e.sum(axis=1, keepdims=True))
    assert reference.LogLikelihoodCost.fn(z, y, "softmax") == np.sum(
        np.where(y != 0, y * (lse - z), 0))
