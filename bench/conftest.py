"""The implementations compared, declared once for every benchmark.

Each entry builds, from the shared data, a callable that trains one epoch
from the same initial weights in the same sample order.
"""
import numpy as np
import pytest

from fastnn import kernels
from fastnn._params import initial_parameters, pack
from fastnn._threads import n_chunks, numba_threads
from fastnn.reference import Network


def synthetic_mnist(n=10_000, n_features=784, n_classes=10, zeros=0.8, seed=0):
    """MNIST-shaped data: pixels in [0, 1] with ~80 % zeros, as in MNIST."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, n_features))
    X[rng.random((n, n_features)) < zeros] = 0.0
    y = rng.integers(0, n_classes, n)
    return X, np.eye(n_classes)[y]


def fastnn_epoch(dtype, n_threads):
    def build(X, Y, sizes, order, eta, lmbda, mini_batch_size):
        X, Y = X.astype(dtype), Y.astype(dtype)
        params = pack(*initial_parameters(sizes, "default", np.random.default_rng(0), dtype))
        layout = kernels.make_layout(np.asarray(sizes, dtype=np.int64))[0]
        chunks = n_chunks(n_threads, mini_batch_size)

        def run():
            with numba_threads(n_threads):
                kernels.train_epoch(X, Y, order, params, layout, 0, 0, 1, eta, lmbda, len(X),
                                    mini_batch_size, chunks)
        return run
    return build


def reference_epoch(X, Y, sizes, order, eta, lmbda, mini_batch_size):
    net = Network.random(sizes, np.random.default_rng(0))
    return lambda: net.SGD(X, Y, 1, mini_batch_size, eta, lmbda, orders=[order])


def sklearn_epoch(X, Y, sizes, order, eta, lmbda, mini_batch_size):
    """MLPClassifier set up as the book's SGD: logistic units, no momentum, and
    alpha = λ·m/n (sklearn scales its penalty by the mini-batch, the book by n).
    It shuffles with its own generator; the work per epoch is the same."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    y = Y.argmax(axis=1)
    clf = MLPClassifier(tuple(sizes[1:-1]), activation="logistic", solver="sgd",
                        batch_size=mini_batch_size, momentum=0.0, learning_rate_init=eta,
                        alpha=lmbda * mini_batch_size / len(X), max_iter=1, random_state=0)

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
    return run


IMPLEMENTATIONS = {
    "fastnn-f64": fastnn_epoch(np.float64, 1),
    "fastnn-f32": fastnn_epoch(np.float32, 1),
    "reference": reference_epoch,
    "sklearn-mlp": sklearn_epoch,
}


@pytest.fixture(scope="session")
def mnist_like():
    return synthetic_mnist()
