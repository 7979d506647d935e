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
U1, U2, U3, U4, U5, U6, U7 = U(1), U(2), U(3), U(4), U(5), U(6), U(7)


@jit()
def nonzero_indices(a, n, idx):
    """Write the i < n with a[i] ≠ 0 into ``idx`` (branch-free); return how many."""
    k = 0
    for i in range(n):
        idx[k] = i
        k += a[i] != 0.0
    return k


@jit()
def _block8(params, w0, n_out, jb, a_in, idx, k, z):
    """z[jb:jb+8] += Σ_t a_in[i_t] w[i_t, jb:jb+8], summed in ``idx`` order.

    Eight named accumulators stay in registers across the whole sum.
    """
    z0, z1, z2, z3 = z[jb], z[jb + U1], z[jb + U2], z[jb + U3]
    z4, z5, z6, z7 = z[jb + U4], z[jb + U5], z[jb + U6], z[jb + U7]
    for t in range(k):
        i = idx[t]
        ai = a_in[i]
        o = w0 + i * n_out + jb
        z0 += ai * params[o]
        z1 += ai * params[o + U1]
        z2 += ai * params[o + U2]
        z3 += ai * params[o + U3]
        z4 += ai * params[o + U4]
        z5 += ai * params[o + U5]
        z6 += ai * params[o + U6]
        z7 += ai * params[o + U7]
    z[jb], z[jb + U1], z[jb + U2], z[jb + U3] = z0, z1, z2, z3
    z[jb + U4], z[jb + U5], z[jb + U6], z[jb + U7] = z4, z5, z6, z7


@jit()
def layer_forward(params, w0, b0, n_in, n_out, a_in, z, idx):
    """z = a_in · w + b for one sample; returns how many inputs were nonzero.

    Only the nonzero inputs are visited (MNIST is ~80 % zeros), and their
    indices are left in ``idx`` for the weight update; each z_j is b_j plus
    the products summed in input order, whatever path computes it.
    """
    k = nonzero_indices(a_in, n_in, idx)
    for j in range(n_out):
        z[j] = params[b0 + j]
    w0, nu = U(w0), U(n_out)
    if n_out >= 8:
        for jb in range(0, n_out, 8):
            # The last block may overlap the one before: it recomputes the
            # same sums from the biases, so the overlap is harmless.
            start = min(jb, n_out - 8)
            for j in range(start, jb):
                z[j] = params[b0 + j]
            _block8(params, w0, nu, U(start), a_in, idx, k, z)
    else:
        for t in range(k):
            i = idx[t]
            ai = a_in[i]
            row = w0 + i * nu
            for j in range(nu):
                z[j] += ai * params[row + j]
    return k


@jit()
def forward(params, layout, hidden, out_act, acts, idx, counts, dropout=0.0, key=U(0)):
    """Feed one sample forward: a^l = σ(w^l a^(l−1) + b^l), layer by layer.

    ``acts[:sizes[0]]`` must hold the input x; every later layer's activation
    is written after it.  The output layer uses ``out_act`` (sigmoid, softmax
    or identity), hidden layers use ``hidden``.  ``idx`` (uint64, laid out
    like ``acts``) receives the indices of each layer's nonzero activations,
    ``counts[l]`` how many there are in layer l.  With ``dropout`` = p > 0
    (training only) the hidden layers are dropped out with the sample's
    ``key`` (see ``dropout``).
    """
    sizes, w_off, b_off, a_off = layout
    n_layers = sizes.shape[0] - 1
    for l in range(n_layers):
        n_in = sizes[l]
        n_out = sizes[l + 1]
        a_in = acts[a_off[l]:a_off[l] + n_in]
        z = acts[a_off[l + 1]:a_off[l + 1] + n_out]
        counts[l] = layer_forward(params, w_off[l], b_off[l], n_in, n_out, a_in, z,
                                  idx[a_off[l]:a_off[l] + n_in])
        if l == n_layers - 1:
            activate(z, out_act)
        else:
            activate(z, hidden)
            if dropout > 0.0:
                drop_out(z, key, U(a_off[l + 1]), dropout)
