"""The network's layout: one flat parameter vector, one activation row per sample.

Parameters live in ONE contiguous vector ``params``: for each layer l the
weights w^l as a (fan_in, fan_out) row-major block (scikit-learn's ``coefs_``
shape), then its biases b^l.  A sample's activations a^1 … a^L live in one row
too, layer after layer; the inputs a^0 are not copied there, the kernels read
them from X in place.  ``layout = (sizes, w_off, b_off, a_off)`` says where.
The forward pass itself is the sweep of ``sweep.py``.
"""
import numpy as np

from ._jit import jit

# Numbers per SIMD vector of float32 (and twice float64's): each layer's share
# of an activation row is a multiple of it.
PAD = 8


@jit()
def make_layout(sizes):
    """Offsets of every layer's weights, biases and activations.

    Parameters
    ----------
    sizes : int64 array of shape (n_layers + 1,)
        Neurons per layer, input layer first, e.g. [784, 30, 10].

    Returns
    -------
    layout : tuple (sizes, w_off, b_off, a_off) of int64 arrays
        ``w_off[l]``/``b_off[l]`` index ``params`` for the weights/biases that
        feed layer l + 1; ``a_off[l]`` (l ≥ 1) indexes layer l in an activation
        row, ``a_off[0]`` = 0 is unused.  Each layer's place is rounded up to
        a whole number of SIMD vectors (``PAD`` numbers): the sweep stores z in
        whole vectors, and the numbers past a layer's neurons stay 0.
    n_params, n_units : int
        Lengths of ``params`` and of one sample's activation row.
    """
    n_layers = sizes.shape[0] - 1
    w_off = np.empty(n_layers, dtype=np.int64)
    b_off = np.empty(n_layers, dtype=np.int64)
    a_off = np.zeros(n_layers + 1, dtype=np.int64)
    p = 0
    for l in range(n_layers):
        w_off[l] = p
        p += sizes[l] * sizes[l + 1]
        b_off[l] = p
        p += sizes[l + 1]
    u = 0
    for l in range(1, n_layers + 1):
        a_off[l] = u
        u += (sizes[l] + PAD - 1) // PAD * PAD
    return (sizes, w_off, b_off, a_off), p, u


@jit()
def first_unit(sizes, l):
    """The number of layer l's first neuron, counting from the inputs (dropout's numbering)."""
    u = 0
    for k in range(l):
        u += sizes[k]
    return u


# Offsets in the hot loops are unsigned: with signed ones numba must allow for
# negative (wrap-around) indices, which blocks LLVM's vectoriser.
U = np.uint64
U1 = U(1)


@jit()
def as_dtype_of(x, like):
    """x as a scalar of ``like``'s dtype, so float32 loops stay in float32."""
    out = np.empty(1, dtype=like.dtype)
    out[0] = x
    return out[0]
