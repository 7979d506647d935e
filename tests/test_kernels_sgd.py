import numpy as np
import pytest

from fastnn import kernels
from fastnn.estimators._params import pack, unpack

from .conftest import one_hot, train, twin_networks


def _epochs(X, Y, params, layout, orders, cost="cross_entropy", activation="sigmoid",
            eta=0.5, lmbda=0.0, mini_batch_size=10):
    for order in orders:
        assert train(X, Y, order, params, layout, cost, activation, eta=eta, lmbda=lmbda,
                     mini_batch_size=mini_batch_size)
    return params


@pytest.fixture(scope="module")
def small_digits(digits):
    X, y = digits
    # 205 samples: the last mini-batch of 10 holds 5, as the book allows.
    return np.ascontiguousarray(X[:205]), one_hot(y[:205], 10)


@pytest.mark.parametrize("lmbda", [0.0, 5.0])
@pytest.mark.parametrize("cost,activation,sizes", [
    ("cross_entropy", "sigmoid", [64, 20, 10]),
    ("quadratic", "tanh", [64, 16, 12, 10]),
    ("log_likelihood", "relu", [64, 20, 10]),
])
def test_two_epochs_match_the_reference_to_1e9(small_digits, cost, activation, sizes, lmbda):
    X, Y = small_digits
    params, layout, net = twin_networks(sizes, cost, activation, seed=1)
    rng = np.random.default_rng(7)
    orders = [rng.permutation(len(X)) for _ in range(2)]
    _epochs(X, Y, params, layout, orders, cost, activation, 0.3, lmbda, 10)
    net.SGD(X, Y, 2, 10, 0.3, lmbda, orders=orders)
    np.testing.assert_allclose(params, pack(net.weights, net.biases), rtol=0, atol=1e-9)


@pytest.mark.parametrize("sizes,mini_batch_size", [
    ([64, 20, 10], 1),       # online learning: every product a single row
    ([63, 15, 10], 10),      # odd layer sizes
    ([64, 20, 10], 100),     # the last mini-batch holds 5 of 100
    ([64, 20, 10], 205),     # the whole set in one mini-batch
    ([64, 300, 10], 64),     # w¹'s products in split's two blocks
])
def test_odd_layers_and_large_mini_batches_match_the_reference_to_1e9(small_digits, sizes,
                                                                      mini_batch_size):
    X, Y = small_digits
    X = np.ascontiguousarray(X[:, :sizes[0]])
    params, layout, net = twin_networks(sizes, seed=4)
    orders = [np.random.default_rng(8).permutation(len(X)) for _ in range(2)]
    _epochs(X, Y, params, layout, orders, eta=0.3, lmbda=5.0, mini_batch_size=mini_batch_size)
    net.SGD(X, Y, 2, mini_batch_size, 0.3, 5.0, orders=orders)
    np.testing.assert_allclose(params, pack(net.weights, net.biases), rtol=0, atol=1e-9)


def test_one_sgd_step_worked_by_hand():
    # A 1-1 network, cross-entropy, w = 0.5, b = 0, one sample x = 1, y = 1,
    # η = 1, λ = 0.5, n = m = 1:
    #   a = σ(0.5) = 0.6224593312,  δ = a − y = −0.3775406688
    #   w ← (1 − ηλ/n) w − (η/m) x δ = 0.5 · 0.5 + 0.3775406688 = 0.6275406688
    #   b ← b − (η/m) δ             = 0.3775406688   (no decay on biases)
    layout = kernels.make_layout(np.array([1, 1]))[0]
    params = np.array([0.5, 0.0])
    X, Y = np.array([[1.0]]), np.array([[1.0]])
    _epochs(X, Y, params, layout, [np.array([0])], eta=1.0, lmbda=0.5, mini_batch_size=1)
    np.testing.assert_allclose(params, [0.6275406688, 0.3775406688], rtol=1e-10)


def test_biases_are_not_regularised(small_digits):
    X, Y = small_digits
    sizes = np.array([64, 20, 10])
    order = [np.arange(len(X))]
    plain, layout, _ = twin_networks(sizes, seed=5)
    decayed = plain.copy()
    # One mini-batch holding every sample: both runs see the same gradients.
    _epochs(X, Y, plain, layout, order, lmbda=0.0, mini_batch_size=len(X))
    _epochs(X, Y, decayed, layout, order, lmbda=50.0, mini_batch_size=len(X))
    w_plain, b_plain = unpack(plain, sizes)
    w_decayed, b_decayed = unpack(decayed, sizes)
    for b0, b1 in zip(b_plain, b_decayed):
        assert np.array_equal(b0, b1)
    for w0, w1 in zip(w_plain, w_decayed):
        assert not np.allclose(w0, w1)


def test_float32_epoch_stays_float32_and_close_to_float64(small_digits):
    X, Y = small_digits
    p64, layout, _ = twin_networks([64, 20, 10], seed=6)
    p32 = p64.astype(np.float32)
    orders = [np.random.default_rng(0).permutation(len(X))]
    _epochs(X, Y, p64, layout, orders)
    _epochs(X.astype(np.float32), Y.astype(np.float32), p32, layout, orders)
    assert p32.dtype == np.float32
    np.testing.assert_allclose(p32, p64, atol=1e-4)


FEATURES = {
    "momentum": dict(momentum=0.7),
    "l1": dict(penalty="l1", lmbda=3.0),
    "l1+momentum": dict(penalty="l1", lmbda=3.0, momentum=0.5),
    "dropout": dict(dropout=0.3),
    "sample_weight": dict(weighted=True, lmbda=1.0),
    "everything": dict(momentum=0.5, penalty="l1", lmbda=1.0, dropout=0.2, weighted=True),
}


def _run_features(X, Y, sizes, features, mini_batch_size=10, epochs=2, n_threads=1):
    """``epochs`` kernel epochs (on ``n_threads``) and the reference's, drawing
    from twin generators."""
    features = dict(features)
    weights = (np.random.default_rng(9).random(len(X)) + 0.5) if features.pop("weighted",
                                                                              False) else None
    params, layout, net = twin_networks(sizes, seed=1)
    velocity = np.zeros_like(params)
    rng = np.random.default_rng(7)
    for epoch in range(epochs):
        order = rng.permutation(len(X))
        key = kernels.epoch_key(int(rng.integers(2 ** 63)), epoch)
        assert train(X, Y, order, params, layout, eta=0.3, mini_batch_size=mini_batch_size,
                     sample_weight=weights, velocity=velocity, key=key, n_threads=n_threads,
                     **features)
    net.SGD(X, Y, epochs, mini_batch_size, 0.3, rng=np.random.default_rng(7),
            sample_weight=weights, **features)
    return params, pack(net.weights, net.biases)


@pytest.mark.parametrize("name", sorted(FEATURES))
def test_ch3_toolkit_epochs_match_the_reference_to_1e9(small_digits, name):
    X, Y = small_digits
    ours, theirs = _run_features(X, Y, [64, 20, 12, 10], FEATURES[name])
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)


def test_one_momentum_step_worked_by_hand():
    # The 1-1 network of the plain step above, μ = 0.9, v = 0 at first, so
    # the first step is the plain one: v_w = −(ηλ/n) w − η x δ = −0.25 + 0.3775406688.
    # A second identical sample: a = σ(0.6275406688 + 0.3775406688) = 0.7320426...
    layout = kernels.make_layout(np.array([1, 1]))[0]
    params = np.array([0.5, 0.0])
    velocity = np.zeros(2)
    X, Y = np.array([[1.0]]), np.array([[1.0]])
    train(X, Y, np.array([0]), params, layout, eta=1.0, lmbda=0.5, mini_batch_size=1,
          velocity=velocity, momentum=0.9)
    np.testing.assert_allclose(velocity, [0.1275406688, 0.3775406688], rtol=1e-9)
    w, b = params
    delta = 1 / (1 + np.exp(-(w + b))) - 1
    expected_v = 0.9 * velocity - np.array([0.5 * w + delta, delta])
    train(X, Y, np.array([0]), params, layout, eta=1.0, lmbda=0.5, mini_batch_size=1,
          velocity=velocity, momentum=0.9)
    np.testing.assert_allclose(velocity, expected_v, rtol=1e-12)
    np.testing.assert_allclose(params, [w, b] + expected_v, rtol=1e-12)


def test_l1_shrinks_by_a_constant_and_l2_in_proportion():
    # No data signal (x = 0 and the bias step is all the gradient), η = 1,
    # λ = 0.1, n = 1: L1 moves w = ±2 and ±0.5 by 0.1 each, L2 scales by 0.9.
    layout = kernels.make_layout(np.array([4, 1]))[0]
    X, Y, order = np.zeros((1, 4)), np.array([[1.0]]), np.array([0])
    start = np.array([2.0, -2.0, 0.5, -0.5, 0.0])
    l1, l2 = start.copy(), start.copy()
    train(X, Y, order, l1, layout, eta=1.0, lmbda=0.1, mini_batch_size=1, penalty="l1")
    train(X, Y, order, l2, layout, eta=1.0, lmbda=0.1, mini_batch_size=1)
    np.testing.assert_allclose(l1[:4], [1.9, -1.9, 0.4, -0.4], rtol=1e-12)
    np.testing.assert_allclose(l2[:4], 0.9 * start[:4], rtol=1e-12)


def test_a_zero_sample_weight_contributes_no_gradient(small_digits):
    X, Y = small_digits
    params, layout, _ = twin_networks([64, 20, 10], seed=4)
    weights = np.zeros(len(X))
    before = params.copy()
    train(X, Y, np.arange(len(X)), params, layout, sample_weight=weights)
    assert np.array_equal(params, before)


def test_an_epoch_that_produces_nan_reports_it(small_digits):
    X, Y = small_digits
    params, layout, _ = twin_networks([64, 20, 10], seed=4)
    params[-1] = np.nan  # an output bias: every δ^L becomes NaN
    assert not train(X, Y, np.arange(len(X)), params, layout)
