"""The network's layout in one flat parameter vector, and the forward pass.

Parameters live in ONE contiguous vector ``params``: for each layer l the
weights w^l as a (fan_in, fan_out) row-major block (scikit-learn's ``coefs_``
shape), then its biases b^l.  Activations of one sample live in one vector too,
input layer first.  ``layout = (sizes, w_off, b_off, a_off)`` says where.
"""
import numpy as np

from ._jit import jit
from .activations import activate


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
        feed layer l + 1; ``a_off[l]`` indexes a sample's activation vector.
    n_params, n_units : int
        Lengths of ``params`` and of one sample's activation vector.
    """
    n_layers = sizes.shape[0] - 1
    w_off = np.empty(n_layers, dtype=np.int64)
    b_off = np.empty(n_layers, dtype=np.int64)
    a_off = np.empty(n_layers + 1, dtype=np.int64)
    p = 0
    for l in range(n_layers):
        w_off[l] = p
        p += sizes[l] * sizes[l + 1]
        b_off[l] = p
        p += sizes[l + 1]
    u = 0
    for l in range(n_layers + 1):
        a_off[l] = u
        u += sizes[l]
    return (sizes, w_off, b_off, a_off), p, u


@jit()
def layer_forward(params, w0, b0, n_in, n_out, a_in, z):
    """z = a_in · w + b for one sample; zero inputs are skipped (MNIST is ~80 % zeros)."""
    for j in range(n_out):
        z[j] = params[b0 + j]
    for i in range(n_in):
        ai = a_in[i]
        if ai != 0.0:
            row = w0 + i * n_out
            for j in range(n_out):
                z[j] += ai * params[row + j]


@jit()
def forward(params, layout, hidden, out_act, acts):
    """Feed one sample forward: a^l = σ(w^l a^(l−1) + b^l), layer by layer.

    ``acts[:sizes[0]]`` must hold the input x; every later layer's activation
    is written after it.  The output layer uses ``out_act`` (sigmoid, softmax
    or identity), hidden layers use ``hidden``.
    """
    sizes, w_off, b_off, a_off = layout
    n_layers = sizes.shape[0] - 1
    for l in range(n_layers):
        n_in = sizes[l]
        n_out = sizes[l + 1]
        a_in = acts[a_off[l]:a_off[l] + n_in]
        z = acts[a_off[l + 1]:a_off[l + 1] + n_out]
        layer_forward(params, w_off[l], b_off[l], n_in, n_out, a_in, z)
        activate(z, out_act if l == n_layers - 1 else hidden)
