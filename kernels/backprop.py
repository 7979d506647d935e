"""Backpropagation for one sample, the book's four equations spelled out.

BP1  δ^L = ∇_a C ⊙ σ'(z^L)                     (``costs.delta``)
BP2  δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ σ'(z^l)
BP3  ∂C/∂b^l_j = δ^l_j
BP4  ∂C/∂w^l_ij = a^(l−1)_i δ^l_j             (w stored (fan_in, fan_out))

Training applies them to whole mini-batches, as matrix products (``sgd``);
``gradient`` gives ∇C for one sample, for gradient checks.
"""
import numpy as np

from ._jit import jit
from .activations import derivative_times
from .blas import gemm
from .costs import delta as output_delta
from .costs import other_codes
from .dropout import derivative_times_kept
from .forward import block, first_unit, forward_block, scratch, weights


def gradient(x, y, params, layout, hidden, out_act, cost, dropout=0.0, key=0):
    """∇C for one sample (x, y), laid out like ``params`` (BP1–BP4).

    With ``dropout`` > 0 it is the gradient of the thinned network that ``key``
    keeps, as one training step sees it.

    Parameters
    ----------
    x : array of shape (n_features,)
    y : array of shape (n_outputs,)
    params, layout : the network (``forward.make_layout``)
    hidden, out_act, cost : int
        Codes from ``activations`` and ``costs``.
    dropout : float
        p, the probability of dropping a hidden neuron.
    key : int
        The dropout key of the sample (``dropout.sample_key``).

    Returns
    -------
    array like ``params``
        ∂C/∂w and ∂C/∂b of every layer.
    """
    return _gradient(x, y, params, layout, hidden, out_act, cost,
                     other_codes(hidden, out_act, cost), float(dropout), key)


@jit()
def _gradient(x, y, params, layout, hidden, out_act, cost, others, dropout, key):
    """``gradient``'s compiled body (``others``: ``costs.other_codes``)."""
    sizes, w_off, b_off, a_off = layout
    n_layers = sizes.shape[0] - 1
    keys = np.full(1, key, dtype=np.uint64)
    X = np.ascontiguousarray(x).reshape((1, sizes[0]))
    one = np.int64(1)  # a variable: a constant would compile Literal[int] variants
    acts = scratch(layout, one, params)
    deltas = scratch(layout, one, params)
    # One sample: no product is large enough to cut (``split``).
    unpadded = np.zeros((0, 0), dtype=params.dtype)  # the first layer as it is (``pad``)
    forward_block(X, None, None, 1.0, params, layout, hidden, out_act, others, dropout, keys, acts,
                  one, np.int64(0), params, layout, unpadded)
    Y = np.ascontiguousarray(y).reshape((1, y.shape[0]))
    output_delta(block(acts, layout, n_layers, one, one), Y, np.zeros(1, dtype=np.int64), cost,
                 out_act, block(deltas, layout, n_layers, one, one), others)
    for l in range(n_layers - 1, 0, -1):
        d_prev = block(deltas, layout, l, one, one)
        a_prev = block(acts, layout, l, one, one)
        gemm(False, True, 1.0, block(deltas, layout, l + 1, one, one), weights(params, layout, l),
             0.0, d_prev)
        if dropout > 0.0:
            derivative_times_kept(d_prev[0], a_prev[0], hidden, others, np.uint64(key),
                                  np.uint64(first_unit(sizes, l)), dropout)
        else:
            derivative_times(d_prev[0], a_prev[0], hidden, others)
    nabla = np.zeros_like(params)
    for l in range(n_layers):
        d = block(deltas, layout, l + 1, one, one)[0]
        for i in range(sizes[l]):
            a_i = X[0, i] if l == 0 else block(acts, layout, l, one, one)[0, i]
            for j in range(sizes[l + 1]):
                nabla[w_off[l] + i * sizes[l + 1] + j] = a_i * d[j]
        for j in range(sizes[l + 1]):
            nabla[b_off[l] + j] = d[j]
    return nabla
