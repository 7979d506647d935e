"""``kernels.split``: a large layer's products in fixed blocks, the same bits on any
number of threads."""
import numpy as np
import pytest

from fastnn import FastNN
from fastnn.estimators._params import pack
from fastnn.kernels import split

from .conftest import EPOCH_THREADS, one_hot, train, twin_networks


def test_small_layers_and_mini_batches_stay_whole():
    assert split.n_blocks(10, 784, 30, 0) == 1          # the book's m = 10
    assert split.n_blocks(100, 30, 10, 0) == 1          # a small layer
    assert split.n_blocks(100, 784, 100, 0) == split.N_BLOCKS


@pytest.mark.parametrize("m, n_in, n_out", [(10, 784, 30), (100, 784, 30), (100, 784, 100),
                                            (256, 784, 30), (256, 784, 100), (1, 784, 100),
                                            (100, 30, 10), (32, 20_000, 100), (1000, 784, 100)])
def test_narrow_products_are_cut_under_blas_small_product_limit(m, n_in, n_out):
    small = 1_000_000
    blocks, row_blocks = split.n_blocks(m, n_in, n_out, small), split.n_row_blocks(m, n_in,
                                                                                   n_out, small)
    assert blocks >= split.n_blocks(m, n_in, n_out, 0)
    assert row_blocks >= split.n_row_blocks(m, n_in, n_out, 0)
    rows, w_rows = -(-m // blocks), -(-n_in // row_blocks)  # the largest blocks
    if small // (n_in * n_out) >= split.MIN_BLOCK_ROWS:
        assert rows * n_in * n_out <= small
        assert rows >= split.MIN_BLOCK_ROWS or m * n_in * n_out <= small
    if small // (m * n_out) >= split.MIN_BLOCK_ROWS:
        assert w_rows * m * n_out <= small
    if m * n_in * n_out <= small:
        assert (blocks, row_blocks) == (split.n_blocks(m, n_in, n_out, 0),) * 2


@pytest.mark.parametrize("m, n_in, n_out", [(100, 784, 300), (100, 784, 1000), (100, 2000, 100),
                                            (13, 784, 100)])
def test_wide_products_and_tiny_blocks_are_left_to_blas_packing(m, n_in, n_out):
    # Measured: 300 or 1000 outputs gained little or lost in small blocks, and
    # blocks of fewer than MIN_BLOCK_ROWS samples lost (2000 x 100: 5 a block;
    # 13 samples through 784 x 100 would be two blocks of 6 and 7).
    assert split.n_blocks(m, n_in, n_out, 1_000_000) == split.n_blocks(m, n_in, n_out, 0)


def test_threads_share_a_product_by_its_multiply_adds_and_the_size_of_its_numbers():
    # Measured: 784-30 at m = 100 gained on two threads in float64, not float32.
    assert split.shared(100, 784, 30, 8) and not split.shared(100, 784, 30, 4)
    assert split.shared(100, 784, 100, 4) and not split.shared(10, 784, 100, 8)


def test_small_product_limit_follows_scipys_openblas_core():
    from threadpoolctl import threadpool_info

    from fastnn.kernels import blas

    cores = {str(info.get("architecture", "")).lower() for info in threadpool_info()
             if "scipy" in str(info.get("filepath", ""))}
    assert blas.small_product_limit() in (0, blas.SMALL_PRODUCT)
    if not cores & {"skylakex", "cooperlake", "sapphirerapids"}:
        assert blas.small_product_limit() == 0


@pytest.fixture(scope="module")
def data(digits):
    X, y = digits
    return np.ascontiguousarray(X[:256]), one_hot(y[:256], 10)


@pytest.mark.parametrize("options", [{}, {"penalty": "l1", "lmbda": 2.0}, {"dropout": 0.2},
                                     {"momentum": 0.5}])
def test_one_and_two_threads_train_bitwise_identical_models(data, options):
    X, Y = data
    runs = []
    for n_threads in (1, 2, 1, 2):
        params, layout, _ = twin_networks([64, 1000, 10], seed=3)
        order = np.random.default_rng(5).permutation(len(X))
        assert train(X, Y, order, params, layout, mini_batch_size=64, key=7,
                     velocity=np.zeros_like(params), n_threads=n_threads,
                     **{"lmbda": 1.0, **options})
        runs.append(params)
    assert all(np.array_equal(runs[0], other) for other in runs[1:])


def test_a_two_thread_fit_of_a_large_layer_runs_on_two_threads_and_keeps_the_bits(digits,
                                                                                   epoch_calls):
    X, y = digits
    models = []
    for n_threads in (1, 2):
        clf = FastNN(hidden_layer_sizes=(1000,), mini_batch_size=64, epochs=2, random_state=0,
                     n_threads=n_threads).fit(X, y)
        models.append([*clf.coefs_, *clf.intercepts_])
    assert [args[EPOCH_THREADS] for args in epoch_calls] == [None, None, 2, 2]
    assert all(np.array_equal(a, b) for a, b in zip(*models))


@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_products_cut_under_the_blas_small_limit_match_the_reference_to_1e9(monkeypatch,
                                                                            momentum):
    # Forced on any BLAS: 1000-100 at m = 100 is cut into 10 blocks of 10 samples
    # (forward) and 10 of 100 rows of w (update); the last mini-batch (50) into 6 each.
    from fastnn.kernels import sgd

    monkeypatch.setattr(sgd, "small_product_limit", lambda: 1_000_000)
    assert split.n_blocks(100, 1000, 100, 1_000_000) == 10
    assert split.n_row_blocks(100, 1000, 100, 1_000_000) == 10
    rng = np.random.default_rng(11)
    X, Y = rng.random((250, 1000)), one_hot(rng.integers(0, 10, 250), 10)
    params, layout, net = twin_networks([1000, 100, 10], seed=6)
    orders = [np.random.default_rng(9).permutation(len(X)) for _ in range(2)]
    velocity = np.zeros_like(params)
    for order in orders:
        assert train(X, Y, order, params, layout, eta=0.3, lmbda=5.0, mini_batch_size=100,
                     velocity=velocity, momentum=momentum)
    net.SGD(X, Y, 2, 100, 0.3, 5.0, orders=orders, momentum=momentum)
    np.testing.assert_allclose(params, pack(net.weights, net.biases), rtol=0, atol=1e-9)
