import ast
from pathlib import Path

import numpy as np

import fastnn.reference as reference

from .conftest import one_hot


def test_reference_imports_only_numpy_and_fastnn_params():
    tree = ast.parse(Path(reference.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"numpy", "_params"}, imported


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
