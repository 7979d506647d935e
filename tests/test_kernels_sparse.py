"""The first layer on sparse input (``kernels.sparse``): the same epochs,
outputs and costs as dense input and as ``fastnn.reference`` on scipy's
sparse products, including the folded L2 scale and rows with no non-zeros."""
import numpy as np
import pytest
import scipy.sparse as sp

from fastnn import kernels
from fastnn.estimators._params import pack

from .conftest import as_csr, one_hot, train, twin_networks
from .test_kernels_sgd import FEATURES


@pytest.fixture(scope="module")
def sparse_digits(digits):
    """205 digits with the bottom half of each image blanked (~75 % zeros)
    and three all-zero rows."""
    X, y = digits
    X = X[:205].copy()
    X[:, 32:] = 0.0
    X[[3, 50, 204]] = 0.0
    return X, one_hot(y[:205], 10)


def _orders(n, epochs=2, seed=7):
    rng = np.random.default_rng(seed)
    return [rng.permutation(n) for _ in range(epochs)]


@pytest.mark.parametrize("lmbda", [0.0, 5.0])
@pytest.mark.parametrize("cost,activation,sizes", [
    ("cross_entropy", "sigmoid", [64, 20, 10]),
    ("log_likelihood", "relu", [64, 17, 12, 10]),
])
def test_two_sparse_epochs_match_the_reference_on_scipy_products_to_1e9(
        sparse_digits, cost, activation, sizes, lmbda):
    X, Y = sparse_digits
    params, layout, net = twin_networks(sizes, cost, activation, seed=1)
    orders = _orders(len(Y))
    for order in orders:
        assert train(as_csr(X), Y, order, params, layout, cost, activation, eta=0.3,
                     lmbda=lmbda)
    net.SGD(sp.csr_matrix(X), Y, 2, 10, 0.3, lmbda, orders=orders)
    np.testing.assert_allclose(params, pack(net.weights, net.biases), rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", sorted(FEATURES))
def test_ch3_toolkit_on_sparse_input_matches_dense_input_to_1e12(sparse_digits, name):
    X, Y = sparse_digits
    features = dict(FEATURES[name])
    weights = np.random.default_rng(9).random(len(Y)) + 0.5 if features.pop("weighted",
                                                                            False) else None
    models = []
    for data in (X, as_csr(X)):
        params, layout, _ = twin_networks([64, 20, 12, 10], seed=1)
        velocity = np.zeros_like(params)
        for epoch, order in enumerate(_orders(len(Y))):
            assert train(data, Y, order, params, layout, eta=0.3, sample_weight=weights,
                         velocity=velocity, key=kernels.epoch_key(5, epoch), **features)
        models.append(params)
    np.testing.assert_allclose(models[1], models[0], rtol=0, atol=1e-12)


@pytest.mark.parametrize("eta_lmbda_over_n", [0.5, 1.0])
def test_a_decay_scale_that_gets_small_is_folded_and_matches_the_reference(sparse_digits,
                                                                          eta_lmbda_over_n):
    # (1 − ηλ/n)^k falls below FOLD_BELOW within the epoch (0.5 per mini-batch),
    # or is 0 at once: the weights are then exactly the step of one mini-batch.
    X, Y = sparse_digits
    n = len(Y)
    params, layout, net = twin_networks([64, 20, 10], seed=2)
    lmbda = eta_lmbda_over_n * n / 0.3
    order = _orders(n, epochs=1)[0]
    assert train(as_csr(X), Y, order, params, layout, eta=0.3, lmbda=lmbda)
    net.SGD(sp.csr_matrix(X), Y, 1, 10, 0.3, lmbda, orders=[order])
    np.testing.assert_allclose(params, pack(net.weights, net.biases), rtol=0, atol=1e-9)


def test_int64_indices_train_the_model_of_int32_to_1e13(sparse_digits):
    # Two compiled variants: LLVM may contract their sums differently.
    X, Y = sparse_digits
    models = []
    for index in (np.int32, np.int64):
        params, layout, _ = twin_networks([64, 20, 10], seed=3)
        assert train(as_csr(X, index), Y, _orders(len(Y), 1)[0], params, layout, lmbda=2.0)
        models.append(params)
    np.testing.assert_allclose(models[0], models[1], rtol=0, atol=1e-13)


def test_float32_sparse_epoch_stays_close_to_float64(sparse_digits):
    X, Y = sparse_digits
    models = []
    for dtype in (np.float64, np.float32):
        params, layout, _ = twin_networks([64, 20, 10], seed=3, dtype=dtype)
        assert train(as_csr(X.astype(dtype)), Y.astype(dtype), _orders(len(Y), 1)[0], params,
                     layout, lmbda=2.0)
        assert params.dtype == dtype
        models.append(params)
    np.testing.assert_allclose(models[1], models[0], atol=1e-4)


@pytest.mark.parametrize("sizes", [[64, 20, 10], [64, 1, 1], [64, 33, 2]])
def test_sparse_outputs_and_costs_equal_the_dense_ones(sparse_digits, sizes):
    # [64, 1, 1]: too little room after w¹ for a padded row; [64, 33, 2]: a
    # row of 33 padded to 48 lanes.
    X, Y = sparse_digits
    Y = Y[:, :sizes[-1]]
    params, layout, _ = twin_networks(sizes, seed=5)
    dense = kernels.predict_outputs(X, params, layout, 0, 0, False)
    np.testing.assert_allclose(kernels.predict_outputs(as_csr(X), params, layout, 0, 0, False),
                               dense, rtol=1e-13, atol=1e-15)
    weights = np.ones(len(Y))
    (out_d, cost_d), (out_s, cost_s) = (
        kernels.evaluate(data, Y, weights, params, layout, 0, 0, 1) for data in (X, as_csr(X)))
    np.testing.assert_allclose(out_s, out_d, rtol=1e-13, atol=1e-15)
    assert cost_s == pytest.approx(cost_d, rel=1e-13)


def test_a_row_without_non_zeros_outputs_what_the_biases_give(sparse_digits):
    X, _ = sparse_digits
    params, layout, net = twin_networks([64, 20, 10], seed=6)
    out = kernels.predict_outputs(as_csr(X), params, layout, 0, 0, False)
    np.testing.assert_allclose(out[3], net.feedforward(np.zeros((1, 64)))[0], rtol=1e-14)


def test_one_and_two_threads_train_bitwise_identical_models_from_sparse_input(sparse_digits):
    # w² (300 × 64) splits between the threads; the sparse w¹ runs on one.
    X, Y = sparse_digits
    Y = np.ascontiguousarray(np.hstack([Y] * 7)[:, :64])
    runs = []
    for n_threads in (1, 2, 1, 2):
        params, layout, _ = twin_networks([64, 300, 64], seed=3)
        order = np.random.default_rng(5).permutation(len(Y))
        assert train(as_csr(X), Y, order, params, layout, mini_batch_size=64, lmbda=1.0,
                     n_threads=n_threads)
        runs.append(params)
    assert all(np.array_equal(runs[0], other) for other in runs[1:])


@pytest.mark.parametrize("name,dtype", [("l2", np.float64), ("l2", np.float32),
                                        ("everything", np.float64)])
def test_dense_rows_train_the_bits_of_the_dense_array(digits, name, dtype):
    # DenseRows: a CSR matrix whose mini-batches the epoch writes out densely
    # for BLAS, including rows with no non-zeros.
    X, y = digits
    X = X[:205].astype(dtype)
    X[[3, 50, 204]] = 0.0
    Y = one_hot(y[:205], 10).astype(dtype)
    features = dict(FEATURES[name]) if name in FEATURES else dict(lmbda=5.0)
    weights = (np.random.default_rng(9).random(len(Y)) + 0.5).astype(dtype) if features.pop(
        "weighted", False) else None
    csr = as_csr(X)
    models = []
    for data in (X, kernels.DenseRows(*csr)):
        params, layout, _ = twin_networks([64, 20, 12, 10], seed=1, dtype=dtype)
        velocity = np.zeros_like(params)
        for epoch, order in enumerate(_orders(len(Y))):
            assert train(data, Y, order, params, layout, eta=0.3, sample_weight=weights,
                         velocity=velocity, key=kernels.epoch_key(5, epoch), **features)
        models.append(params)
    assert np.array_equal(models[1], models[0])


@pytest.mark.parametrize("features", [{}, {"momentum": 0.5}])
def test_a_layer_wider_than_the_stack_array_matches_the_reference_to_1e9(sparse_digits,
                                                                       features):
    # Its sums run STACK_LANES neurons at a time, in two pieces here.
    X, Y = sparse_digits
    sizes = [64, kernels.sparse.STACK_LANES + 37, 10]
    params, layout, net = twin_networks(sizes, seed=3)
    velocity = np.zeros_like(params)
    orders = _orders(len(Y))
    for order in orders:
        assert train(as_csr(X), Y, order, params, layout, eta=0.3, lmbda=5.0, velocity=velocity,
                     **features)
    net.SGD(sp.csr_matrix(X), Y, 2, 10, 0.3, 5.0, orders=orders,
            momentum=features.get("momentum", 0.0))
    np.testing.assert_allclose(params, pack(net.weights, net.biases), rtol=0, atol=1e-9)
