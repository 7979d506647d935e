"""kernels.pad: w¹ padded to whole cache lines for the first layer's products."""
import numpy as np
import pytest

from fastnn import kernels
from fastnn.estimators._params import pack
from fastnn.kernels import pad
from fastnn.kernels.blas import small_product_limit

from .conftest import as_csr, one_hot, train, twin_networks


@pytest.fixture(scope="module")
def digits_205(digits):
    X, y = digits
    # 205 samples: the last mini-batch of 10 holds 5.
    return np.ascontiguousarray(X[:205]), one_hot(y[:205], 10)


def pad_to_32(m, n_in, n_out, itemsize, small):
    return 32 if n_out == 30 else n_out


def never_pad(m, n_in, n_out, itemsize, small):
    return n_out


@pytest.fixture
def padded(monkeypatch):
    """Every epoch that may pad pads a 30-neuron first layer to 32, whatever the BLAS."""
    monkeypatch.setattr(pad, "first_width", pad_to_32)


@pytest.fixture
def widths(monkeypatch):
    """The first layer's width of every epoch, as ``pad.first_layer`` got it."""
    seen = []
    first_layer = pad.first_layer

    def spy(params, velocity, layout, width, mbs):
        seen.append(width)
        return first_layer(params, velocity, layout, width, mbs)

    monkeypatch.setattr(pad, "first_layer", spy)
    return seen


def two_epochs(X, Y, sizes=(64, 30, 10), dtype=np.float64, **options):
    params, layout, net = twin_networks(list(sizes), seed=3, dtype=dtype)
    rng = np.random.default_rng(5)
    orders = [rng.permutation(len(Y)) for _ in range(2)]
    # One velocity for both epochs: momentum carries over, through the padding.
    velocity = np.zeros_like(params)
    for order in orders:
        assert train(X, Y, order, params, layout, eta=0.3, lmbda=5.0, velocity=velocity,
                     **options)
    return params, net, orders


@pytest.mark.parametrize("n_out,itemsize,expected", [
    (30, 8, 32), (30, 4, 32), (31, 8, 32), (60, 4, 64),
    (60, 8, 60), (20, 8, 20), (50, 8, 50), (100, 8, 100), (10, 8, 10), (20, 4, 20),
    (32, 8, 32), (64, 4, 64), (1, 8, 1),
])
def test_a_width_is_padded_only_when_a_quarter_of_a_line_or_less_is_missing(n_out, itemsize,
                                                                            expected):
    assert pad.padded_width(n_out, itemsize, 1_000_000) == expected


def test_nothing_is_padded_where_openblas_small_kernels_do_not_run():
    assert pad.padded_width(30, 8, 0) == 30


def test_a_padded_first_layer_matches_the_reference_to_1e9(digits_205, padded):
    X, Y = digits_205
    params, net, orders = two_epochs(X, Y)
    net.SGD(X, Y, 2, 10, 0.3, 5.0, orders=orders)
    np.testing.assert_allclose(params, pack(net.weights, net.biases), rtol=0, atol=1e-9)


@pytest.mark.parametrize("options", [{}, {"penalty": "l1"}, {"dropout": 0.3, "key": 7},
                                     {"mini_batch_size": 1}, {"momentum": 0.9},
                                     {"momentum": 0.5, "penalty": "l1"}])
def test_padding_changes_no_weight(digits_205, monkeypatch, options):
    X, Y = digits_205
    monkeypatch.setattr(pad, "first_width", never_pad)
    plain, _, _ = two_epochs(X, Y, **options)
    monkeypatch.setattr(pad, "first_width", pad_to_32)
    padded_params, _, _ = two_epochs(X, Y, **options)
    if small_product_limit() > 0:
        # Where the rule pads (OpenBLAS's small kernels), the same bits.
        np.testing.assert_array_equal(padded_params, plain)
    np.testing.assert_allclose(padded_params, plain, rtol=0, atol=1e-12)


def test_a_float32_padded_first_layer_stays_float32_and_near_unpadded(digits_205, monkeypatch):
    X, Y = digits_205
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    monkeypatch.setattr(pad, "first_width", never_pad)
    plain, _, _ = two_epochs(X32, Y32, dtype=np.float32)
    monkeypatch.setattr(pad, "first_width", pad_to_32)
    padded_params, _, _ = two_epochs(X32, Y32, dtype=np.float32)
    assert padded_params.dtype == np.float32
    np.testing.assert_allclose(padded_params, plain, rtol=0, atol=1e-6)


def test_rows_written_out_from_csr_train_as_the_same_dense_x_when_padded(digits_205, padded):
    X, Y = digits_205
    dense, _, _ = two_epochs(X, Y)
    csr = as_csr(X)
    rows = kernels.DenseRows(csr.data, csr.indices, csr.indptr)
    from_rows, _, _ = two_epochs(rows, Y)
    np.testing.assert_array_equal(from_rows, dense)


def test_forcing_the_width_pads_every_epoch(digits_205, widths, padded):
    X, Y = digits_205
    two_epochs(X, Y)
    assert widths == [32, 32]


@pytest.mark.parametrize("n_threads", [1, 2])
def test_an_epoch_whose_products_threads_share_is_never_padded(widths, padded, n_threads):
    # 784-30 at m = 100 in float64: 18.8 MB of multiply-adds' numbers, shared
    # (``split.shared``), so 1 and 2 threads may run different epochs, and
    # neither pads, or the thread count could change a bit.
    rng = np.random.default_rng(8)
    X = rng.random((200, 784))
    Y = one_hot(rng.integers(0, 10, 200), 10)
    two_epochs(X, Y, sizes=(784, 30, 10), mini_batch_size=100, n_threads=n_threads)
    assert widths in ([], [30, 30])


@pytest.mark.skipif(small_product_limit() == 0,
                    reason="pads only where OpenBLAS's small AVX-512 kernels run")
def test_a_default_epoch_pads_where_the_small_kernels_run(digits_205, widths):
    X, Y = digits_205
    two_epochs(X, Y)
    assert widths == [32, 32]


@pytest.mark.parametrize("m,n_in,small,expected", [
    (10, 784, 1_000_000, 32),     # the book's network, m = 10
    (64, 784, 1_000_000, 32),     # two blocks of 32 samples each, each small
    (10, 20_000, 1_000_000, 30),  # one product of 6.4 M: OpenBLAS packs it
    (10, 784, 0, 30),             # no small kernels
])
def test_the_first_layer_is_padded_only_where_every_product_block_is_small(m, n_in, small,
                                                                           expected):
    assert pad.first_width(m, n_in, 30, 8, small) == expected


def test_the_padded_first_layer_has_zero_extra_neurons_and_is_stored_back():
    sizes = np.array([3, 30, 2], dtype=np.int64)
    layout, n_params, _ = kernels.make_layout(sizes)
    params = np.arange(1.0, n_params + 1.0)
    velocity = -params
    params1, velocity1, layout1, z1, d1 = pad.first_layer(params, velocity, layout, 32, 4)
    assert list(layout1[0]) == [3, 32] and z1.shape == d1.shape == (4, 32)
    np.testing.assert_array_equal(velocity1, -params1)
    w1 = params1[:96].reshape(3, 32)
    np.testing.assert_array_equal(w1[:, :30], params[:90].reshape(3, 30))
    np.testing.assert_array_equal(params1[96:126], params[90:120])
    assert not w1[:, 30:].any() and not params1[126:].any()
    params1 += 1.0
    velocity1 -= 1.0
    stored, stored_velocity = params.copy(), velocity.copy()
    assert pad.store(params1, velocity1, layout1, stored, stored_velocity, layout)
    np.testing.assert_array_equal(stored[:120], params[:120] + 1.0)
    np.testing.assert_array_equal(stored[120:], params[120:])
    np.testing.assert_array_equal(stored_velocity, -stored)


def test_an_unpadded_first_layer_is_params_itself():
    sizes = np.array([3, 30, 2], dtype=np.int64)
    layout, n_params, _ = kernels.make_layout(sizes)
    params, velocity = np.zeros(n_params), np.zeros(0)
    params1, velocity1, layout1, z1, d1 = pad.first_layer(params, velocity, layout, 30, 4)
    assert params1 is params and velocity1 is velocity and layout1 is layout
    assert z1.size == d1.size == 0


def test_storing_a_padded_first_layer_with_an_infinite_weight_reports_it():
    sizes = np.array([3, 30, 2], dtype=np.int64)
    layout, n_params, _ = kernels.make_layout(sizes)
    params = np.zeros(n_params)
    params1, velocity1, layout1, _, _ = pad.first_layer(params, np.zeros(0), layout, 32, 4)
    params1[5] = np.inf
    assert not pad.store(params1, velocity1, layout1, params, np.zeros(0), layout)
    assert params[5] == np.inf


def test_a_padded_epoch_that_diverges_reports_it(digits_205, padded):
    X, Y = digits_205
    params, layout, _ = twin_networks([64, 30, 10], seed=3)
    assert not train(X, Y, np.arange(len(Y)), params, layout, eta=1e308, lmbda=0.0)
