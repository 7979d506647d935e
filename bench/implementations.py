"""The implementations compared, declared once for ``pytest bench`` and ``bench.report``.

Each entry of ``IMPLEMENTATIONS`` is a builder

    build(X, Y, sizes, order, eta, lmbda, mini_batch_size, n_threads=1) -> run

that returns a callable training ONE epoch, from fixed initial weights, in the
sample order ``order`` (sklearn shuffles with its own generator: the work per
epoch is the same).  ``X`` is float32 or float64 and is converted once, at
build time, to the dtype the implementation trains in (``DTYPES``); no copy is
made when it already has it.  ``run`` holds its thread count only while it
runs: numba's for fastnn, BLAS/OpenMP pools via threadpoolctl for NumPy and
sklearn, ``torch.set_num_threads`` for PyTorch.  A builder that cannot run
here raises ``Unavailable`` with the reason (PyTorch not installed).  X may
be a scipy.sparse matrix (``bench/sparse.py``): it then stays sparse for
fastnn, the reference and sklearn, and the other peers are unavailable.

The fastnn kernel call is spelled in ONE place, ``fastnn_epoch``: when
``kernels.train_epoch`` gains arguments, only that function changes.
"""
import os
import warnings
from contextlib import contextmanager

import numpy as np
import scipy.sparse as sp

from fastnn import kernels
from fastnn.estimators import _sparse
from fastnn.estimators._params import initial_parameters, pack
from fastnn.estimators._threads import blas_threads as fastnn_blas_threads
from fastnn.estimators._threads import numba_threads
from fastnn.reference import Network

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
ALL_THREADS = os.cpu_count() or 1


class Unavailable(Exception):
    """This implementation cannot run on this machine; the message says why."""


def as_dtype(X, dtype):
    """X in ``dtype``: C-contiguous, or CSR if sparse (no copy if it already is)."""
    if sp.issparse(X):
        return sp.csr_matrix(X, dtype=dtype)
    return np.ascontiguousarray(X, dtype=dtype)


def _dense_only(X, name):
    if sp.issparse(X):
        raise Unavailable(f"{name} is timed on dense input only")


# Online learning (m = 1) is 60,000 updates per epoch: too slow for the NumPy,
# sklearn and PyTorch loops to repeat, so those rows use this many samples for
# EVERY implementation.  The same holds for m = 10 on all threads: on a shared
# 2-core machine each small multi-threaded BLAS/OpenMP call waits at a barrier
# for a descheduled thread, and the peers' epochs grow to minutes.
ONLINE_SUBSET = 3_000
THREADED_SUBSET = 10_000


def row_samples(mini_batch_size, n_threads, n_total):
    """How many samples a benchmark row trains on: all, except where the peers crawl."""
    if mini_batch_size == 1:
        return min(ONLINE_SUBSET, n_total)
    if mini_batch_size < 32 and n_threads > 1:
        return min(THREADED_SUBSET, n_total)
    return n_total


def synthetic_mnist(n=10_000, n_features=784, n_classes=10, zeros=0.8, seed=0):
    """MNIST-shaped data: pixels in [0, 1] with ~80 % zeros, as in MNIST; (X, Y one-hot)."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, n_features))
    X[rng.random((n, n_features)) < zeros] = 0.0
    y = rng.integers(0, n_classes, n)
    return X, np.eye(n_classes)[y]


def load_data(path=FASHION_MNIST):
    """(X_train, Y_train one-hot, X_test, description): Fashion-MNIST if installed, else synthetic.

    X is float32 in [0, 1], as ``load_mnist`` returns it.
    """
    from fastnn.datasets import load_mnist

    try:
        data = load_mnist(path, split="full")
    except (FileNotFoundError, ValueError) as error:
        X, Y = synthetic_mnist(70_000)
        X = X.astype(np.float32)
        Y = Y.astype(np.float32)
        why = (f"synthetic MNIST-like data, 70,000 × 784, ~80 % zeros "
               f"(Fashion-MNIST not found: {error})")
        return X[:60_000], Y[:60_000], X[60_000:], why
    Y = np.eye(10, dtype=np.float32)[data.y_train]
    zeros = float(np.mean(data.X_train == 0))
    why = (f"Fashion-MNIST from `{path}`: the full training set, "
           f"{len(data.X_train):,} × {data.X_train.shape[1]}, {zeros:.0%} zeros; "
           f"prediction on its {len(data.X_test):,}-image test set")
    return data.X_train, Y, data.X_test, why


@contextmanager
def blas_threads(n_threads):
    """NumPy's BLAS and any OpenMP pool limited to ``n_threads`` inside the block."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n_threads):
        yield


def _train_epoch_call(X, Y, order, params, layout, eta, lmbda, mini_batch_size, n_threads):
    """``kernels.train_epoch`` bound for the book's SGD (sigmoid, cross-entropy, L2).

    The only place that spells the kernel's arguments: plain SGD is μ = 0,
    p = 0, every sample weighing 1.
    """
    codes = kernels.Codes(kernels.HIDDEN_ACTIVATIONS["sigmoid"],
                          kernels.OUTPUT_ACTIVATIONS["sigmoid"], kernels.COSTS["cross_entropy"],
                          kernels.PENALTIES["l2"])
    hyper = kernels.Hyper(float(eta), float(lmbda), 0.0, 0.0)
    n = len(Y)
    sample_weight = np.ones(n, dtype=params.dtype)
    velocity = np.zeros(0, dtype=params.dtype)
    outputs = np.empty((n, int(layout[0][-1])), dtype=params.dtype)
    costs = np.empty(n)
    key = np.uint64(0)
    return lambda: kernels.train_epoch(X, Y, sample_weight, order, params, velocity, layout,
                                       codes, hyper, key, n, mini_batch_size, outputs, costs,
                                       n_threads)


def fastnn_epoch(dtype, default_threads=1):
    """Builder for fastnn's compiled epoch in ``dtype``, as the estimator runs it
    (``_sparse.training_input``: X with few non-zeros, dense or sparse, through
    the sparse first layer; sparse X with many through BLAS, densified one
    mini-batch at a time)."""
    def build(X, Y, sizes, order, eta, lmbda, mini_batch_size, n_threads=default_threads):
        X = as_dtype(X, dtype)
        X = _sparse.training_input(_sparse.canonical(X) if sp.issparse(X) else X)
        Y = np.ascontiguousarray(Y, dtype=dtype)
        sizes = np.asarray(sizes, dtype=np.int64)
        params = pack(*initial_parameters(sizes, "default", np.random.default_rng(0), dtype))
        layout = kernels.make_layout(sizes)[0]
        order = np.asarray(order, dtype=np.int64)
        epoch = _train_epoch_call(X, Y, order, params, layout, eta, lmbda, mini_batch_size,
                                  n_threads)

        def run():
            # As a fit runs it: BLAS on one thread, for a reproducible model.
            with numba_threads(n_threads), fastnn_blas_threads(1):
                epoch()
        return run
    return build


def reference_epoch(X, Y, sizes, order, eta, lmbda, mini_batch_size, n_threads=1):
    """``fastnn.reference``: the same algorithm in NumPy, vectorised over the mini-batch."""
    X = as_dtype(X, np.float64)
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    net = Network.random(list(sizes), np.random.default_rng(0))

    def run():
        with blas_threads(n_threads):
            net.SGD(X, Y, 1, mini_batch_size, eta, lmbda, orders=[order])
    return run


def sklearn_epoch(X, Y, sizes, order, eta, lmbda, mini_batch_size, n_threads=1,
                  dtype=np.float64):
    """MLPClassifier set up as the book's SGD: logistic units, no momentum, and
    alpha = λ·m/n (sklearn scales its penalty by the mini-batch, the book by n).
    Trained in ``dtype``: sklearn keeps float32 input as float32 and trains in
    it.  Each run is a fresh ``fit`` with max_iter=1."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X = as_dtype(X, dtype)
    y = Y.argmax(axis=1)
    clf = MLPClassifier(tuple(sizes[1:-1]), activation="logistic", solver="sgd",
                        batch_size=mini_batch_size, momentum=0.0, nesterovs_momentum=False,
                        learning_rate_init=eta, alpha=lmbda * mini_batch_size / len(y),
                        max_iter=1, shuffle=True, random_state=0)

    def run():
        with blas_threads(n_threads), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
    return run


def torch_epoch(X, Y, sizes, order, eta, lmbda, mini_batch_size, n_threads=1):
    """A plain PyTorch CPU loop, float32 (torch's default): ``nn.Sequential`` of
    Linear + Sigmoid, cross-entropy of sigmoid outputs (``BCEWithLogitsLoss``,
    summed over the mini-batch and divided by m as the book does), SGD with
    weight decay λ/n on the weights only, so the update is the book's."""
    try:
        import torch
    except ImportError as error:
        raise Unavailable(f"PyTorch is not installed ({error}); `pip install torch` to compare") \
            from error
    from torch import nn

    _dense_only(X, "PyTorch")
    X = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    Y = torch.from_numpy(np.ascontiguousarray(Y, dtype=np.float32))
    order = torch.from_numpy(np.asarray(order, dtype=np.int64))
    torch.manual_seed(0)
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out), nn.Sigmoid()]
    model = nn.Sequential(*layers[:-1])  # logits out; the loss applies the last sigmoid
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
    optimizer = torch.optim.SGD([{"params": weights, "weight_decay": lmbda / len(X)},
                                 {"params": biases, "weight_decay": 0.0}], lr=eta, momentum=0.0)
    loss_fn = nn.BCEWithLogitsLoss(reduction="sum")
    n = len(X)

    def run():
        before = torch.get_num_threads()
        torch.set_num_threads(n_threads)
        try:
            for start in range(0, n, mini_batch_size):
                idx = order[start:start + mini_batch_size]
                xb, yb = X[idx], Y[idx]
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(xb), yb) / len(idx)
                loss.backward()
                optimizer.step()
        finally:
            torch.set_num_threads(before)
    return run


def sklearn_epoch_f32(X, Y, sizes, order, eta, lmbda, mini_batch_size, n_threads=1):
    """``MLPClassifier`` fed float32, which it then trains in."""
    return sklearn_epoch(X, Y, sizes, order, eta, lmbda, mini_batch_size, n_threads, np.float32)


def jax_epoch(X, Y, sizes, order, eta, lmbda, mini_batch_size, n_threads=1):
    """JAX: the epoch as one XLA program (``bench/jax_peer.py``), float32.  XLA's
    threads are fixed when JAX is imported: one, whatever ``n_threads``."""
    from . import jax_peer

    _dense_only(X, "JAX")
    try:
        return jax_peer.build(X, Y, sizes, order, eta, lmbda, mini_batch_size)
    except jax_peer.Unavailable as why:
        raise Unavailable(str(why)) from None


IMPLEMENTATIONS = {
    "fastnn-f64": fastnn_epoch(np.float64),
    "fastnn-f32": fastnn_epoch(np.float32),
    "reference": reference_epoch,
    "sklearn-mlp": sklearn_epoch,
    "sklearn-mlp-f32": sklearn_epoch_f32,
    "torch": torch_epoch,
    "jax": jax_epoch,
}

# The dtype each implementation trains in, for the report's tables.
DTYPES = {"fastnn-f64": "float64", "fastnn-f32": "float32", "reference": "float64",
          "sklearn-mlp": "float64", "sklearn-mlp-f32": "float32", "torch": "float32",
          "jax": "float32"}

# fastnn is the subject; the others are its peers.
FASTNN = ("fastnn-f64", "fastnn-f32")
PEERS = ("reference", "sklearn-mlp", "sklearn-mlp-f32", "torch", "jax")
