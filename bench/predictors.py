"""Prediction: fastnn's compiled forward pass against a plain NumPy BLAS one.

Each builder ``build(X, sizes, n_threads) -> run`` returns a callable computing
the output activations a^L of every row of X with the same trained-shape
weights (drawn once, seed 0).  The NumPy twin is what anyone would write:
``a = sigmoid(a @ W + b)`` layer by layer, one GEMM per layer over all samples.
"""
import numpy as np

from fastnn import kernels
from fastnn.estimators._params import initial_parameters, pack
# fastnn's own BLAS limit for both: a controller built once, ~16 µs a call,
# where threadpoolctl's ``threadpool_limits`` costs ~2 ms, 10–20 % of a
# 10,000-sample prediction.
from fastnn.estimators._threads import blas_threads


def _weights(sizes, dtype):
    return initial_parameters(np.asarray(sizes, dtype=np.int64), "default",
                              np.random.default_rng(0), dtype)


def fastnn_predict(dtype):
    def build(X, sizes, n_threads=1):
        X = np.ascontiguousarray(X, dtype=dtype)
        sizes = np.asarray(sizes, dtype=np.int64)
        params = pack(*_weights(sizes, dtype))
        layout = kernels.make_layout(sizes)[0]
        sigmoid = kernels.HIDDEN_ACTIVATIONS["sigmoid"]

        def run():
            with blas_threads(1):
                return kernels.predict_outputs(X, params, layout, sigmoid, sigmoid, False,
                                               n_threads)
        return run
    return build


def numpy_predict(dtype):
    def build(X, sizes, n_threads=1):
        X = np.ascontiguousarray(X, dtype=dtype)
        weights, biases = _weights(sizes, dtype)

        def run():
            with blas_threads(n_threads):
                a = X
                for w, b in zip(weights, biases):
                    z = a @ w
                    z += b
                    # σ(z) = 1 / (1 + e^−z), in place: the whole pass makes one array per layer.
                    np.negative(z, out=z)
                    np.exp(z, out=z)
                    z += 1
                    a = np.reciprocal(z, out=z)
                return a
        return run
    return build


PREDICTORS = {
    "fastnn-f64": fastnn_predict(np.float64),
    "fastnn-f32": fastnn_predict(np.float32),
    "numpy-f64": numpy_predict(np.float64),
    "numpy-f32": numpy_predict(np.float32),
}

# Which NumPy pass each fastnn predictor is measured against.
PREDICT_PEER = {"fastnn-f64": "numpy-f64", "fastnn-f32": "numpy-f32"}
