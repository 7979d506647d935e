"""Prediction over many samples, in parallel.

Samples are independent, so a parallel loop over fixed blocks of rows (each
with its own scratch) needs no synchronisation.  Within a block, rows go
through the network four at a time (``forward.forward_rows``), so every
weight vector loaded serves four samples.
"""
import numpy as np
from numba import prange

from ._jit import jit
from .forward import GROUP, forward_rows

BLOCK = 256


@jit()
def _output_row(a, out, normalize):
    """out ← a^L, divided by its sum with ``normalize`` (uniform if it underflowed to 0)."""
    n_out = out.shape[0]
    total = 0.0
    for j in range(n_out):
        out[j] = a[j]
        total += a[j]
    if normalize:
        if total > 0.0:
            for j in range(n_out):
                out[j] = out[j] / total
        elif total == 0.0:
            for j in range(n_out):
                out[j] = 1.0 / n_out


@jit(parallel=True)
def predict_outputs(X, params, layout, hidden, out_act, normalize):
    """Output activations a^L for every row of X, shape (n_samples, n_outputs).

    With ``normalize`` each row is divided by its sum, turning independent
    sigmoid outputs into class probabilities (the book predicts argmax a^L, which
    this keeps).  A row whose outputs all underflowed to 0 becomes uniform.
    """
    sizes, w_off, b_off, a_off = layout
    n_layers = sizes.shape[0] - 1
    n_out = sizes[n_layers]
    o = a_off[n_layers]
    n = X.shape[0]
    out = np.empty((n, n_out), dtype=params.dtype)
    n_blocks = (n + BLOCK - 1) // BLOCK
    keys = np.zeros(GROUP, dtype=np.uint64)
    for blk in prange(n_blocks):
        acts = np.empty((GROUP, o + n_out), dtype=params.dtype)
        idx = np.empty(sizes.max(), dtype=np.uint64)
        for r0 in range(blk * BLOCK, min(n, (blk + 1) * BLOCK), GROUP):
            ns = min(GROUP, n - r0)
            for s in range(ns):
                acts[s, :sizes[0]] = X[r0 + s]
            forward_rows(params, layout, hidden, out_act, acts, 0, ns, idx, 0.0, keys)
            for s in range(ns):
                _output_row(acts[s, o:], out[r0 + s], normalize)
    return out
