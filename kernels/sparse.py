"""The first layer on sparse input: work in proportion to the non-zeros.

X arrives as CSR (``CSR``: scipy's three arrays, sorted and without
duplicates).  Only the first layer sees X, and there a zero input costs
nothing in BP4 or in the forward pass: for sample x with non-zeros x_i,

    z¹ = b¹ + Σ_i x_i w¹_i·            (w¹_i· is row i of w¹)
    w¹_i· ← w¹_i· − (η/m) Σ_x x_i δ¹_x  only for the rows i some x uses.

What remains is the L2 decay w¹ ← (1 − ηλ/n) w¹, which touches every weight
after every mini-batch.  It is kept as a scale instead: w¹ = c W with W the
stored matrix, so that the decay is c ← (1 − ηλ/n) c, O(1), and the
gradient's step on W is divided by the new c.  Rounding is relative, so W's
size does not cost precision; c is folded back into W (``fold``) when it
gets small and at the end of every epoch, so that the model between epochs
is always the plain w¹.  L1 and momentum move every weight after every
mini-batch by definition (sgn w, μv): with them the update touches all of
w¹, and only the gradient is sparse.
"""
from collections import namedtuple

import numpy as np

from ._jit import jit
from .dtype import as_dtype_of
from .stack import STACK_LANES, stack_lanes
from .update import regularise, update_momentum

# scipy.sparse's CSR arrays: row r's non-zeros are data[indptr[r]:indptr[r + 1]]
# in the columns indices[indptr[r]:indptr[r + 1]].
CSR = namedtuple("CSR", "data indices indptr")
# The same arrays, of a matrix with so many non-zeros that BLAS's dense
# products beat this module's layer: the epoch writes each mini-batch's rows
# out densely (``densify_rows``) and trains as on dense X, to the same bits.
DenseRows = namedtuple("DenseRows", "data indices indptr")

# |c| below this is folded into W: W's entries then stay within a factor
# 1/FOLD_BELOW of w¹'s, far from float32's overflow.
FOLD_BELOW = 1e-6

U = np.uint64
U1 = U(1)


# The forward sum takes this many non-zeros per pass over z's row: fewer
# loads and stores of the running sum, which otherwise bound the loop.
JAM = 4
# z's row is padded to a multiple of this many lanes (a multiple of every vector
# width), so that the sum has no scalar remainder.
LANES = 16


@jit(from_python=False)
def weighted_inputs(csr, rows, params, w0, b0, c, z):
    """z[s] ← b¹ + c · Σ_i x_i W_i· for x = row ``rows[s]`` of the CSR matrix.

    W is the (n_0, n_1) block of ``params`` at ``w0``, b¹ the n_1 biases at
    ``b0``; z is (len(rows), n_1).  The sum runs in a stack array
    (``stack_lanes``), ``STACK_LANES`` neurons at a time, over a row padded
    to a multiple of ``LANES`` when ``params`` has room after W: the padding
    reads the next row (or the parameters after W), lanes that are never
    used, so that no scalar remainder loop is left.  Offsets are unsigned:
    no code for negative indices.
    """
    n_out = U(z.shape[1])
    acc = stack_lanes(params)
    for j0 in range(U(0), n_out, U(STACK_LANES)):
        width = min(U(STACK_LANES), n_out - j0)
        n_pad = (width + U(LANES - 1)) // U(LANES) * U(LANES)
        if U(params.shape[0]) - U(b0) < n_pad - width:
            n_pad = width
        first = U(w0) + j0
        for s in range(rows.shape[0]):
            r = rows[s]
            for j in range(n_pad):
                acc[j] = 0.0
            k = U(csr.indptr[r])
            end = U(csr.indptr[r + 1])
            while k + U(JAM) <= end:
                v0, v1 = csr.data[k], csr.data[k + U(1)]
                v2, v3 = csr.data[k + U(2)], csr.data[k + U(3)]
                r0 = first + U(csr.indices[k]) * n_out
                r1 = first + U(csr.indices[k + U(1)]) * n_out
                r2 = first + U(csr.indices[k + U(2)]) * n_out
                r3 = first + U(csr.indices[k + U(3)]) * n_out
                for j in range(n_pad):
                    acc[j] += (v0 * params[r0 + j] + v1 * params[r1 + j]
                               + v2 * params[r2 + j] + v3 * params[r3 + j])
                k += U(JAM)
            while k < end:
                v = csr.data[k]
                row = first + U(csr.indices[k]) * n_out
                for j in range(n_pad):
                    acc[j] += v * params[row + j]
                k += U1
            for j in range(width):
                z[s, j0 + j] = params[U(b0) + j0 + j] + c * acc[j]


@jit(from_python=False)
def add_gradient(csr, rows, d, params, w0, step):
    """W_i· ← W_i· + step · Σ_s x_si δ_s· over the non-zeros x_si of the rows.

    ``step`` is −η/(m c) for the scaled plain update; step · x_si is taken to
    params' dtype (``as_dtype_of``), so that float32 rows move in float32
    (``bench.ab``: 1.02–1.08× in float64 at 20 % non-zeros against a store
    and a load of a 1-element array per non-zero).  Each
    sample's δ is copied to the stack first (``stack_lanes``): the loop
    writing W then reads nothing it could overlap.
    """
    n_out = U(d.shape[1])
    d_s = stack_lanes(params)
    for j0 in range(U(0), n_out, U(STACK_LANES)):
        width = min(U(STACK_LANES), n_out - j0)
        first = U(w0) + j0
        for s in range(rows.shape[0]):
            r = rows[s]
            for j in range(width):
                d_s[j] = d[s, j0 + j]
            for k in range(U(csr.indptr[r]), U(csr.indptr[r + 1])):
                f = as_dtype_of(step * csr.data[k], params)
                row = first + U(csr.indices[k]) * n_out
                for j in range(width):
                    params[row + j] += f * d_s[j]


@jit(from_python=False)
def fold(params, w0, b0, c):
    """W ← c W: the stored matrix becomes w¹ itself (c = 1 from here)."""
    if c != 1.0:
        for k in range(w0, b0):
            params[k] = c * params[k]


@jit(from_python=False)
def update_first(csr, rows, d, params, velocity, layout, c, keep, scale, l1_shrink, momentum,
                 penalty, eta_reg, grad):
    """w¹ from the mini-batch's δ¹ (BP4), the non-zero inputs only; returns the new c.

    Plain L2: c ← keep · c, then W_i· ← W_i· − (scale/c) Σ x_i δ.  L1 shrinks
    every weight first, then steps (c stays 1); momentum (μ not None) needs
    the whole gradient g = xᵀδ in ``grad`` to move every velocity.  Biases
    are the caller's.
    """
    sizes, w_off, b_off, a_off = layout
    w0, b0 = w_off[0], b_off[0]
    if momentum is not None:
        n_w = b0 - w0
        g = grad[:n_w]
        for k in range(n_w):
            g[k] = 0.0
        # Variables, not constants: numba would compile Literal[int] variants.
        first, one = np.int64(0), np.float64(1.0)
        # g's rows start at 0: the gradient of W's row i is g[i * n_1:].
        add_gradient(csr, rows, d, grad, first, one)
        update_momentum(params, velocity, layout, first, g.reshape((sizes[0], sizes[1])),
                        penalty, eta_reg, scale, momentum)
        return c
    if l1_shrink is not None:
        regularise(params[w0:b0], l1_shrink)
        add_gradient(csr, rows, d, params, w0, -scale)
        return c
    c = keep * c
    if abs(c) < FOLD_BELOW:
        fold(params, w0, b0, c)
        c = 1.0
    add_gradient(csr, rows, d, params, w0, -scale / c)
    return c


@jit(from_python=False)
def densify_rows(rows, batch, x):
    """x[s] ← row ``batch[s]`` of the CSR (``DenseRows``) matrix, zeros written out."""
    for s in range(batch.shape[0]):
        for j in range(x.shape[1]):
            x[s, j] = 0.0
        r = batch[s]
        for k in range(rows.indptr[r], rows.indptr[r + 1]):
            x[s, rows.indices[k]] = rows.data[k]
