"""Prediction over many samples, in parallel.

Samples are independent, so a parallel loop over fixed blocks of rows (each
with its own scratch) needs no synchronisation.  Within a block, groups of
``SWEEP`` rows go forward together: each layer is one sweep over its weights
(``sweep.forward_samples``), every weight vector loaded serving every sample
of the group whose input for it is nonzero.
"""
import numpy as np
from numba import prange

from ._jit import jit
from .sweep import forward_samples, forward_scratch

BLOCK = 256
# Rows per sweep: enough to share each weight load, few enough that their
# activation rows stay in the level-1 cache.
SWEEP = 32


@jit()
def _normalize(out):
    """out ← out / Σ out: probabilities from sigmoid outputs (uniform if all underflowed to 0)."""
    n_out = out.shape[0]
    total = 0.0
    for j in range(n_out):
        total += out[j]
    if total > 0.0:
        for j in range(n_out):
            out[j] = out[j] / total
    elif total == 0.0:
        for j in range(n_out):
            out[j] = 1.0 / n_out


@jit()
def block_outputs(X, blk, params, layout, hidden, out_act, out):
    """out[r] ← a^L (z^L if ``out_act`` is identity) for the rows r of block ``blk`` of X."""
    sizes, w_off, b_off, a_off = layout
    n_layers = sizes.shape[0] - 1
    n_out = sizes[n_layers]
    o = a_off[n_layers]
    n = X.shape[0]
    acts, act_rows, marks = forward_scratch(layout, SWEEP, params)
    keys = np.zeros(SWEEP, dtype=np.uint64)
    rows = np.empty(SWEEP, dtype=np.int64)
    for r0 in range(blk * BLOCK, min(n, (blk + 1) * BLOCK), SWEEP):
        ns = min(SWEEP, n - r0)
        for s in range(ns):
            rows[s] = (r0 + s) * X.shape[1]
        forward_samples(X, rows, ns, params, layout, hidden, out_act, 0.0, keys, acts, act_rows,
                        marks)
        for s in range(ns):
            for j in range(n_out):
                out[r0 + s, j] = acts[s, o + j]


@jit(parallel=True)
def predict_outputs(X, params, layout, hidden, out_act, normalize):
    """Output activations a^L for every row of X, shape (n_samples, n_outputs).

    With ``normalize`` each row is divided by its sum, turning independent
    sigmoid outputs into class probabilities (the book predicts argmax a^L, which
    this keeps).  A row whose outputs all underflowed to 0 becomes uniform.
    """
    sizes = layout[0]
    n = X.shape[0]
    out = np.empty((n, sizes[sizes.shape[0] - 1]), dtype=params.dtype)
    for blk in prange((n + BLOCK - 1) // BLOCK):
        block_outputs(X, blk, params, layout, hidden, out_act, out)
        if normalize:
            for r in range(blk * BLOCK, min(n, (blk + 1) * BLOCK)):
                _normalize(out[r])
    return out
