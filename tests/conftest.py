import inspect

import numpy as np
import pytest
from sklearn.datasets import load_digits

from fastnn import kernels
from fastnn.estimators import _threads
from fastnn.estimators._params import initial_parameters, pack
from fastnn.reference import Network

COST_NAMES = sorted(kernels.COSTS)
# Where the epoch on threads (``kernels.shared.epoch``) takes its thread count;
# ``epoch_calls`` records one-thread epochs with None there.
EPOCH_THREADS = list(inspect.signature(kernels.shared.epoch).parameters).index("threads")
ACTIVATION_NAMES = sorted(kernels.HIDDEN_ACTIVATIONS)


@pytest.fixture
def epoch_calls(monkeypatch):
    """The arguments of every epoch as fits make them: ``kernels.sgd._epoch``'s
    on one thread, with None put in for the thread count, or those of
    ``kernels.shared.epoch`` when threads share a layer's products."""
    from fastnn.kernels import sgd

    calls = []
    for name, one_thread in (("_epoch", True), ("_epoch_on_threads", False)):
        monkeypatch.setattr(sgd, name, _spy(getattr(sgd, name), calls, one_thread))
    return calls


def _spy(epoch, calls, one_thread):
    def spy(*args):
        calls.append(args[:EPOCH_THREADS] + (None,) + args[EPOCH_THREADS:] if one_thread
                     else args)
        return epoch(*args)
    return spy


@pytest.fixture(scope="session")
def digits():
    """sklearn's 8×8 digits scaled to [0, 1]: (X, y)."""
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def one_hot(y, n_classes, dtype=np.float64):
    Y = np.zeros((len(y), n_classes), dtype=dtype)
    Y[np.arange(len(y)), y] = 1
    return Y


def codes(cost, activation):
    """(hidden, output, cost) kernel codes, as the estimator passes them."""
    return (kernels.HIDDEN_ACTIVATIONS[activation],
            kernels.OUTPUT_ACTIVATIONS[kernels.OUTPUT_OF_COST[cost]],
            kernels.COSTS[cost])


def train(X, Y, order, params, layout, cost="cross_entropy", activation="sigmoid", *, eta=0.5,
          lmbda=0.0, mini_batch_size=10, sample_weight=None, velocity=None, momentum=0.0,
          penalty="l2", dropout=0.0, key=0, n_threads=1):
    """One ``kernels.train_epoch`` with the book's defaults, BLAS on one thread
    and numba on ``n_threads``, as a fit runs it; returns its finite flag."""
    n = len(Y)  # X may be a kernels.CSR
    if sample_weight is None:
        sample_weight = np.ones(n, dtype=params.dtype)
    if velocity is None:
        velocity = np.zeros_like(params)
    outputs = np.empty((n, layout[0][-1]), dtype=params.dtype)
    with _threads.numba_threads(n_threads), _threads.blas_threads(1):
        return kernels.train_epoch(
            X, Y, sample_weight, order, params, velocity, layout,
            kernels.Codes(*codes(cost, activation), kernels.PENALTIES[penalty]),
            kernels.Hyper(eta, lmbda, momentum, dropout), np.uint64(key), n,
            mini_batch_size, outputs, np.empty(n), n_threads)


def as_csr(X, index=np.int32):
    """X as the kernels' ``CSR`` (scipy's arrays, indices of dtype ``index``)."""
    import scipy.sparse as sp

    A = sp.csr_matrix(X)
    return kernels.CSR(A.data, A.indices.astype(index), A.indptr.astype(index))


def twin_networks(sizes, cost="cross_entropy", activation="sigmoid", seed=0, dtype=np.float64):
    """The same initial network twice: kernel form (params, layout) and reference form."""
    sizes = np.asarray(sizes, dtype=np.int64)
    weights, biases = initial_parameters(sizes, "default", np.random.default_rng(seed), dtype)
    layout = kernels.make_layout(sizes)[0]
    net = Network(weights, biases, cost=cost, activation=activation)
    return pack(weights, biases), layout, net


def assert_png_not_blank(path):
    """``path`` is a PNG matplotlib can read, with more than one colour in it."""
    plt = pytest.importorskip("matplotlib.pyplot", reason="plots need matplotlib (fastnn[plot])")
    with open(path, "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    image = plt.imread(path)
    assert image.ndim == 3 and image.shape[0] > 50 and image.shape[1] > 50
    assert np.unique(image.reshape(-1, image.shape[-1]), axis=0).shape[0] > 2, \
        f"{path} is blank"


@pytest.fixture
def no_matplotlib(monkeypatch):
    """This process as if matplotlib were not installed: every ``import
    matplotlib…`` raises ImportError, as Python does for a module set to None."""
    import sys

    for name in [n for n in sys.modules if n == "matplotlib" or n.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)


# -- model files (test_io.py, test_model_file_refusals.py) ---------------------

@pytest.fixture(scope="module")
def io_data(digits):
    """300 digits to fit the small models that are saved."""
    X, y = digits
    return X[:300], y[:300]


@pytest.fixture
def model_file(tmp_path, io_data):
    """A saved float64 digits model: (path, its estimator)."""
    from fastnn import FastNN
    from fastnn.persistence import _model_file as fio

    from .model_files import SMALL

    X, y = io_data
    clf = FastNN(**SMALL).fit(X, y)
    path = tmp_path / "model.npz"
    fio.save(clf, path)
    return path, clf
