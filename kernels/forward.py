"""The network's layout in one flat parameter vector, and the forward pass.

Parameters live in ONE contiguous vector ``params``: for each layer l the
weights w^l as a (fan_in, fan_out) row-major block (scikit-learn's ``coefs_``
shape), then its biases b^l.  Activations of one sample live in one vector too,
input layer first.  ``layout = (sizes, w_off, b_off, a_off)`` says where.
"""
import numpy as np

from ._jit import jit
from .activations import activate
from .dropout import drop_out
from .simd import forward_block1, forward_block4


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


# Offsets in the hot loops are unsigned: with signed ones numba must allow for
# negative (wrap-around) indices, which blocks LLVM's vectoriser.
U = np.uint64
U1 = U(1)

# Samples that share one pass over a layer's weights (``simd.forward_block4``).
GROUP = 4


@jit()
def nonzero_inputs(acts, a0, ld, ns, n, idx):
    """Write the i < n where any of the ns samples has a nonzero input into ``idx``.

    Sample s's inputs are ``acts.flat[a0 + s·ld:][:n]``; branch-free; returns how many.
    """
    a = acts.reshape(acts.size)
    k = 0
    if ns == GROUP:
        a1, a2, a3 = a0 + ld, a0 + 2 * ld, a0 + 3 * ld
        for i in range(n):
            idx[k] = i
            k += ((a[a0 + i] != 0.0) | (a[a1 + i] != 0.0) | (a[a2 + i] != 0.0)
                  | (a[a3 + i] != 0.0))
        return k
    for i in range(n):
        idx[k] = i
        hit = False
        for s in range(ns):
            hit |= a[a0 + s * ld + i] != 0.0
        k += hit
    return k


@jit()
def layer_forward(params, w0, b0, n_in, n_out, acts, a0, z0, ld, ns, idx):
    """z_s = a_s · w + b for ns ≤ 4 samples whose rows in ``acts`` are ld apart.

    Inputs at the flat offset a0 (+ s·ld), outputs at z0 (+ s·ld).  Only the
    inputs where some sample is nonzero are visited (MNIST is ~80 % zeros);
    each z_sj is b_j plus the products fused in input order, for any grouping
    of samples (adding 0·w changes nothing), so the thread count never matters.
    """
    a = acts.reshape(acts.size)
    for s in range(ns):
        for j in range(n_out):
            a[z0 + s * ld + j] = params[b0 + j]
    k = nonzero_inputs(acts, a0, ld, ns, n_in, idx)
    width = 2 * lanes_of(params)
    for jb in range(0, n_out, width):
        cols = min(width, n_out - jb)
        if ns == GROUP:
            forward_block4(a, z0 + jb, ld, a, a0, ld, params, w0 + jb, n_out, idx, k, cols)
        else:
            for s in range(ns):
                forward_block1(a, z0 + s * ld + jb, ld, a, a0 + s * ld, ld, params, w0 + jb,
                               n_out, idx, k, cols)


@jit()
def lanes_of(x):
    """Numbers per SIMD vector for x's dtype (``simd.lanes``)."""
    return 32 // x.itemsize


@jit()
def forward_rows(params, layout, hidden, out_act, acts, s0, ns, idx, dropout, keys):
    """Feed ns ≤ 4 samples, rows s0… of ``acts``, forward together, layer by layer.

    a^l = σ(w^l a^(l−1) + b^l); ``acts[s, :sizes[0]]`` must hold the inputs,
    every later layer's activation is written after them.  The output layer
    uses ``out_act`` (sigmoid, softmax or identity), hidden layers ``hidden``.
    ``idx`` is scratch for ``sizes.max()`` indices.  With ``dropout`` = p > 0
    (training only) hidden layers are dropped out with the sample's
    ``keys[s]`` (see ``dropout``).
    """
    sizes, w_off, b_off, a_off = layout
    n_layers = sizes.shape[0] - 1
    ld = acts.shape[1]
    for l in range(n_layers):
        n_out = sizes[l + 1]
        layer_forward(params, w_off[l], b_off[l], sizes[l], n_out, acts, s0 * ld + a_off[l],
                      s0 * ld + a_off[l + 1], ld, ns, idx)
        for s in range(s0, s0 + ns):
            z = acts[s, a_off[l + 1]:a_off[l + 1] + n_out]
            if l == n_layers - 1:
                activate(z, out_act)
            else:
                activate(z, hidden)
                if dropout > 0.0:
                    drop_out(z, keys[s], U(a_off[l + 1]), dropout)


@jit()
def forward(params, layout, hidden, out_act, acts, idx, dropout=0.0, key=U(0)):
    """``forward_rows`` for one sample whose activation vector is ``acts``."""
    keys = np.empty(1, dtype=np.uint64)
    keys[0] = key
    forward_rows(params, layout, hidden, out_act, acts.reshape((1, acts.size)), 0, 1, idx,
                 dropout, keys)
