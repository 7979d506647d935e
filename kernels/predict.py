"""Prediction over many samples: blocks of rows, one GEMM per layer and block.

Samples are independent: each block of ``BLOCK`` rows goes forward as one
matrix (``forward.forward_block``) straight from X, no copy.  The threads, if
any, are BLAS's, inside each product.  A serial loop, not numba's ``prange``:
a parallel loop took 14 s to compile against 2 s.
"""
import numpy as np

from ._jit import jit
from .forward import block, forward_block, scratch

BLOCK = 256


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
def outputs_scratch(layout, params):
    """(acts, keys): the scratch ``block_outputs`` works in, made once per call."""
    capacity = np.int64(BLOCK)  # a variable: a constant would compile a Literal[int] variant
    return scratch(layout, capacity, params), np.zeros(capacity, dtype=np.uint64)


@jit()
def block_outputs(X, r0, r1, params, layout, hidden, out_act, out, acts, keys):
    """out[r] ← a^L (z^L if ``out_act`` is identity) for rows r0 … r1 − 1 of X
    (at most ``BLOCK``), in the scratch of ``outputs_scratch``."""
    sizes = layout[0]
    n_layers = sizes.shape[0] - 1
    capacity = keys.shape[0]
    forward_block(X[r0:r1], params, layout, hidden, out_act, None, keys, acts, capacity, None)
    a = block(acts, layout, n_layers, r1 - r0, capacity)
    for r in range(r1 - r0):
        for j in range(a.shape[1]):
            out[r0 + r, j] = a[r, j]


@jit()
def predict_outputs(X, params, layout, hidden, out_act, normalize):
    """Output activations a^L for every row of X, shape (n_samples, n_outputs).

    With ``normalize`` each row is divided by its sum, turning independent
    sigmoid outputs into class probabilities (the book predicts argmax a^L, which
    this keeps).  A row whose outputs all underflowed to 0 becomes uniform.
    """
    sizes = layout[0]
    n = X.shape[0]
    out = np.empty((n, sizes[sizes.shape[0] - 1]), dtype=params.dtype)
    acts, keys = outputs_scratch(layout, params)
    for r0 in range(0, n, BLOCK):
        r1 = min(n, r0 + BLOCK)
        block_outputs(X, r0, r1, params, layout, hidden, out_act, out, acts, keys)
        if normalize:
            for r in range(r0, r1):
                _normalize(out[r])
    return out
