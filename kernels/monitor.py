"""What the epoch loop monitors: outputs and total cost in one forward pass.

``network2.SGD`` monitors cost and accuracy on the training and evaluation
data after every epoch; ``evaluate`` gives both from a single pass, in fixed
blocks of rows (private scratch, subtotals summed in block order), so the
numbers do not depend on the thread count.
"""
import numpy as np
from numba import prange

from ._jit import jit
from .activations import IDENTITY, activate
from .costs import fn as cost_fn
from .forward import GROUP, forward_rows
from .update import L2

BLOCK = 256


@jit(parallel=True)
def evaluate(X, Y, sample_weight, params, layout, hidden, out_act, cost):
    """Output activations a^L for the rows of X, and Σ_x w_x C_x (float64).

    No regularisation term: the caller adds it, with its own n.
    """
    sizes, w_off, b_off, a_off = layout
    n_layers = sizes.shape[0] - 1
    n_out = sizes[n_layers]
    o = a_off[n_layers]
    n = X.shape[0]
    out = np.empty((n, n_out), dtype=params.dtype)
    n_blocks = (n + BLOCK - 1) // BLOCK
    subtotals = np.zeros(n_blocks)
    keys = np.zeros(GROUP, dtype=np.uint64)
    for blk in prange(n_blocks):
        acts = np.empty((GROUP, o + n_out), dtype=params.dtype)
        idx = np.empty(sizes.max(), dtype=np.uint64)
        s = 0.0
        for r0 in range(blk * BLOCK, min(n, (blk + 1) * BLOCK), GROUP):
            ns = min(GROUP, n - r0)
            for t in range(ns):
                acts[t, :sizes[0]] = X[r0 + t]
            # Stop at z^L: the cost is computed from z for numerical stability.
            forward_rows(params, layout, hidden, IDENTITY, acts, 0, ns, idx, 0.0, keys)
            for t in range(ns):
                z = acts[t, o:o + n_out]
                s += sample_weight[r0 + t] * cost_fn(z, Y[r0 + t], cost, out_act)
                activate(z, out_act)
                out[r0 + t] = z
        subtotals[blk] = s
    # A plain loop, not subtotals.sum(): parallel=True would split that sum
    # by thread count and change its rounding.
    total = 0.0
    for blk in range(n_blocks):
        total += subtotals[blk]
    return out, total


@jit()
def penalty_cost(params, layout, penalty, lmbda, n):
    """The regularisation term of the cost: (λ/2n) Σ w² (L2) or (λ/n) Σ |w| (L1).

    Biases are left out, as in the book.
    """
    sizes, w_off, b_off, a_off = layout
    total = 0.0
    for l in range(sizes.shape[0] - 1):
        for k in range(w_off[l], b_off[l]):
            w = params[k]
            total += w * w if penalty == L2 else abs(w)
    return 0.5 * lmbda / n * total if penalty == L2 else lmbda / n * total
