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
from .forward import U, forward


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
        for i in range(n_here):
            row = U(w_off[l] + i * n_next)
            s = 0.0
            for j in range(U(n_next)):
                s += params[row + j] * deltas[nxt + j]
            deltas[here + i] = s
        if dropout > 0.0:
            derivative_times_kept(deltas[here:here + n_here], acts[here:here + n_here], hidden,
                                  key, U(here), dropout)
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
    n_units = a_off[n_layers] + sizes[n_layers]
    acts = np.zeros(n_units, dtype=params.dtype)
    deltas = np.zeros(n_units, dtype=params.dtype)
    acts[:sizes[0]] = x
    forward(params, layout, hidden, out_act, acts, np.empty(n_units, dtype=np.uint64), dropout,
            key)
    backward(params, layout, hidden, out_act, cost, y, acts, deltas, dropout, key)
    nabla = np.zeros_like(params)
    for l in range(n_layers):
        n_in = sizes[l]
        n_out = sizes[l + 1]
        for i in range(n_in):
            for j in range(n_out):
                nabla[w_off[l] + i * n_out + j] = acts[a_off[l] + i] * deltas[a_off[l + 1] + j]
        for j in range(n_out):
            nabla[b_off[l] + j] = deltas[a_off[l + 1] + j]
    return nabla
