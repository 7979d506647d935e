import numpy as np
import pytest

from fastnn import kernels
from fastnn._params import pack, unpack
from fastnn._threads import numba_threads

from .conftest import codes, one_hot, twin_networks


def _epochs(X, Y, params, layout, orders, cost="cross_entropy", activation="sigmoid",
            eta=0.5, lmbda=0.0, mini_batch_size=10, n_chunks=1):
    for order in orders:
        kernels.train_epoch(X, Y, order, params, layout, *codes(cost, activation),
                            eta, lmbda, len(X), mini_batch_size, n_chunks)
    return params


@pytest.fixture(scope="module")
def small_digits(digits):
    X, y = digits
    # 205 samples: the last mini-batch of 10 holds 5, as the book allows.
    return np.ascontiguousarray(X[:205]), one_hot(y[:205], 10)


@pytest.mark.parametrize("n_threads,n_chunks", [(1, 1), (2, 1), (1, 8), (2, 8)])
@pytest.mark.parametrize("lmbda", [0.0, 5.0])
@pytest.mark.parametrize("cost,activation,sizes", [
    ("cross_entropy", "sigmoid", [64, 20, 10]),
    ("quadratic", "tanh", [64, 16, 12, 10]),
    ("log_likelihood", "relu", [64, 20, 10]),
])
def test_two_epochs_match_the_reference_to_1e9(small_digits, cost, activation, sizes, lmbda,
                                               n_threads, n_chunks):
    X, Y = small_digits
    params, layout, net = twin_networks(sizes, cost, activation, seed=1)
    rng = np.random.default_rng(7)
    orders = [rng.permutation(len(X)) for _ in range(2)]
    with numba_threads(n_threads):
        _epochs(X, Y, params, layout, orders, cost, activation, 0.3, lmbda, 10, n_chunks)
    net.SGD(X, Y, 2, 10, 0.3, lmbda, orders=orders)
    np.testing.assert_allclose(params, pack(net.weights, net.biases), rtol=0, atol=1e-9)


@pytest.mark.parametrize("mini_batch_size", [1, 7, 64])
def test_parallel_and_serial_epochs_are_bitwise_identical(small_digits, mini_batch_size):
    X, Y = small_digits
    results = []
    for n_threads, n_chunks in [(1, 1), (2, 1), (1, 8), (2, 8), (2, 3)]:
        params, layout, _ = twin_networks([64, 20, 10], seed=2)
        orders = [np.random.default_rng(3).permutation(len(X))]
        with numba_threads(n_threads):
            results.append(_epochs(X, Y, params, layout, orders, mini_batch_size=mini_batch_size,
                                   lmbda=1.0, n_chunks=n_chunks))
    for other in results[1:]:
        assert np.array_equal(results[0], other)


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
