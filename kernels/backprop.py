"""Backpropagation for one sample: the book's four equations.

BP1  δ^L = ∇_a C ⊙ σ'(z^L)                     (``costs.delta``)
BP2  δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ σ'(z^l)
BP3  ∂C/∂b^l_j = δ^l_j
BP4  ∂C/∂w^l_ij = a^(l−1)_i δ^l_j             (w stored (fan_in, fan_out))

Training applies BP3/BP4 summed over a mini-batch directly in the update
(``sgd``); ``gradient`` spells them out for one sample, for gradient checks.
"""
import numpy as np

from ._jit import jit
from .activations import derivative_times
from .costs import delta as output_delta
from .dropout import derivative_times_kept
from .forward import U, first_unit
from .sweep import forward_samples, forward_scratch


@jit()
def _transpose_times(params, w0, n_here, n_next, deltas, here, nxt):
    """δ^l_i = Σ_j w^(l+1)_ij δ^(l+1)_j (row i of the (fan_in, fan_out) block at w0).

    Four rows at a time: each sum still runs over j in order, but four chains
    of fused multiply-adds overlap instead of one waiting on itself.
    """
    nn = U(n_next)
    i = 0
    while i + 4 <= n_here:
        r0 = w0 + U(i) * nn
        r1 = r0 + nn
        r2 = r1 + nn
        r3 = r2 + nn
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        for j in range(nn):
            d = deltas[nxt + j]
            s0 += params[r0 + j] * d
            s1 += params[r1 + j] * d
            s2 += params[r2 + j] * d
            s3 += params[r3 + j] * d
        deltas[here + i] = s0
        deltas[here + i + 1] = s1
        deltas[here + i + 2] = s2
        deltas[here + i + 3] = s3
        i += 4
    for t in range(i, n_here):
        row = w0 + U(t) * nn
        s = 0.0
        for j in range(nn):
            s += params[row + j] * deltas[nxt + j]
        deltas[here + t] = s


@jit()
def backward(params, layout, hidden, out_act, cost, y, acts, deltas, dropout=0.0, key=U(0)):
    """Write δ^l for every layer l ≥ 1 into ``deltas`` (BP1, BP2).

    ``acts`` holds the sample's activations from ``forward``; ``deltas`` has
    the same layout (its input-layer part is unused).  ``dropout`` and ``key``
    must be those the forward pass used.
    """
    sizes, w_off, b_off, a_off = layout
    n_layers = sizes.shape[0] - 1
    o = a_off[n_layers]
    n_out = sizes[n_layers]
    output_delta(acts[o:o + n_out], y, cost, out_act, deltas[o:o + n_out])
    for l in range(n_layers - 1, 0, -1):
        # δ^l_i = Σ_j w^(l+1)_ij δ^(l+1)_j: row i of the (fan_in, fan_out) block.
        n_here = sizes[l]
        n_next = sizes[l + 1]
        here = a_off[l]
        nxt = a_off[l + 1]
        _transpose_times(params, U(w_off[l]), n_here, n_next, deltas, here, nxt)
        if dropout > 0.0:
            derivative_times_kept(deltas[here:here + n_here], acts[here:here + n_here], hidden,
                                  key, U(first_unit(sizes, l)), dropout)
        else:
            derivative_times(deltas[here:here + n_here], acts[here:here + n_here], hidden)


@jit()
def gradient(x, y, params, layout, hidden, out_act, cost, dropout=0.0, key=U(0)):
    """∇C for one sample (x, y), laid out like ``params`` (BP1–BP4).

    With ``dropout`` > 0 it is the gradient of the thinned network that ``key``
    keeps, as one training step sees it.
    """
    sizes, w_off, b_off, a_off = layout
    n_layers = sizes.shape[0] - 1
    acts, act_rows, marks = forward_scratch(layout, 1, params)
    keys = np.full(1, key, dtype=np.uint64)
    X = np.ascontiguousarray(x).reshape((1, sizes[0]))
    forward_samples(X, np.zeros(1, dtype=np.int64), 1, params, layout, hidden, out_act, dropout,
                    keys, acts, act_rows, marks)
    a = acts[0]
    deltas = np.zeros(acts.shape[1], dtype=params.dtype)
    backward(params, layout, hidden, out_act, cost, y, a, deltas, dropout, key)
    nabla = np.zeros_like(params)
    for l in range(n_layers):
        n_in = sizes[l]
        n_out = sizes[l + 1]
        for i in range(n_in):
            a_i = X[0, i] if l == 0 else a[a_off[l] + i]
            for j in range(n_out):
                nabla[w_off[l] + i * n_out + j] = a_i * deltas[a_off[l + 1] + j]
        for j in range(n_out):
            nabla[b_off[l] + j] = deltas[a_off[l + 1] + j]
    return nabla
