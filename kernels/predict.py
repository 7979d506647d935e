"""Prediction over many samples, in parallel.

Samples are independent, so a parallel loop over fixed blocks of rows (each
with its own scratch vector) needs no synchronisation.
"""
import numpy as np
from numba import prange

from ._jit import jit
from .forward import forward

BLOCK = 256


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
    for blk in prange(n_blocks):
        acts = np.empty(o + n_out, dtype=params.dtype)
        idx = np.empty(o + n_out, dtype=np.uint64)
        counts = np.empty(n_layers, dtype=np.int64)
        for r in range(blk * BLOCK, min(n, (blk + 1) * BLOCK)):
            acts[:sizes[0]] = X[r]
            forward(params, layout, hidden, out_act, acts, idx, counts)
            total = 0.0
            for j in range(n_out):
                out[r, j] = acts[o + j]
                total += acts[o + j]
            if normalize:
                if total > 0.0:
                    for j in range(n_out):
                        out[r, j] = out[r, j] / total
                elif total == 0.0:
                    for j in range(n_out):
                        out[r, j] = 1.0 / n_out
    return out
