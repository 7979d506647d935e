"""``kernels.split``: a large layer's products in fixed blocks, the same bits on any
number of threads."""
import numpy as np
import pytest

from fastnn import FastNN
from fastnn.kernels import split

from .conftest import one_hot, train, twin_networks


def test_small_layers_and_mini_batches_stay_whole():
    assert split.n_blocks(10, 784, 30) == 1          # the book's m = 10
    assert split.n_blocks(100, 30, 10) == 1          # a small layer
    assert split.n_blocks(100, 784, 100) == split.N_BLOCKS


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
        params, layout, _ = twin_networks([64, 300, 10], seed=3)
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
        clf = FastNN(hidden_layer_sizes=(300,), mini_batch_size=64, epochs=2, random_state=0,
                     n_threads=n_threads).fit(X, y)
        models.append([*clf.coefs_, *clf.intercepts_])
    assert [args[-1] for args in epoch_calls] == [None, None, 2, 2]
    assert all(np.array_equal(a, b) for a, b in zip(*models))
