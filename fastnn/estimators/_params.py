"""Where fastnn's randomness is decided, the flat parameter vector, the kernels' view of data.

All random numbers that shape a model come from one NumPy ``Generator`` made
from ``random_state``: first the initial weights, layer by layer, then one
permutation per epoch.  The kernels and the reference consume them the same way.
"""
import numbers

import numpy as np
from sklearn.utils import check_random_state


def make_rng(random_state):
    """A ``numpy.random.Generator`` from None, an int or a ``RandomState``."""
    if isinstance(random_state, numbers.Integral):
        return np.random.default_rng(int(random_state))
    if random_state is None:
        return np.random.default_rng()
    # A RandomState: draw the seed from it, so it advances like sklearn's do.
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    return np.random.default_rng(seed)


def initial_parameters(sizes, init, rng, dtype=np.float64):
    """Initial (weights, biases), weights shaped (fan_in, fan_out).

    ``init="default"``: w ~ N(0, 1/n_in), so that z = Σ w x + b stays of order
    one and sigmoid neurons do not start saturated (ch. 3); ``"large"``:
    w ~ N(0, 1) as in ch. 1.  Biases ~ N(0, 1) in both.  Drawn in float64 and
    then cast, so a float32 model starts from the same (rounded) weights.

    Parameters
    ----------
    sizes : sequence of int
        Neurons per layer, inputs first.
    init : {"default", "large"}
    rng : numpy.random.Generator
    dtype : float32 or float64

    Returns
    -------
    weights, biases : lists of ndarray
        weights[l] of shape (sizes[l], sizes[l + 1]), biases[l] of sizes[l + 1].
    """
    weights, biases = [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        w = rng.standard_normal((n_in, n_out))
        if init == "default":
            w /= np.sqrt(n_in)
        weights.append(w.astype(dtype))
        biases.append(rng.standard_normal(n_out).astype(dtype))
    return weights, biases


def pack(weights, biases):
    """One contiguous vector [w^1, b^1, w^2, b^2, …], the kernels' layout."""
    parts = []
    for w, b in zip(weights, biases):
        parts.append(np.ravel(w))
        parts.append(np.ravel(b))
    return np.ascontiguousarray(np.concatenate(parts))


def unpack(params, sizes):
    """(weights, biases) as views into ``params``; inverse of ``pack``."""
    weights, biases = [], []
    p = 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        weights.append(params[p:p + n_in * n_out].reshape(n_in, n_out))
        p += n_in * n_out
        biases.append(params[p:p + n_out])
        p += n_out
    return weights, biases


def read_only(a):
    """A read-only plain-ndarray view of ``a`` for the kernels.

    numba compiles a kernel once per argument type, and a read-only array
    (a memory map: ``np.load(mmap_mode="r")``, or joblib's copy of any array
    over 1 MB sent to a ``GridSearchCV(n_jobs=2)`` worker) is another type
    than a writable one: passing every data array read-only lets both share
    one compiled kernel.  The caller's array is not touched.
    """
    view = np.asarray(a).view(np.ndarray)
    view.flags.writeable = False
    return view
