"""One mini-batch's steps, shared by the epoch on one thread (``sgd``) and on
several (``shared``): the gather of X's rows, cache hints, the output pass
(cost, a^L, δ^L), BP2's σ' factor and a layer's update."""
import numpy as np

from ._jit import jit
from .activations import activate_block, derivative_times
from .blas import gemm
from .costs import delta as output_delta
from .costs import fn as cost_fn
from .dropout import derivative_times_kept
from .forward import first_unit
from .forward import weights as weights_of
from .prefetch import prefetch, prefetch_far
from .split import gradient_rows, n_row_blocks, update_rows
from .update import regularise, update_biases, update_momentum

LINE = 64  # bytes in a cache line


# The gather hints X's row this many samples ahead in the epoch's order
# (``prefetch_far``): 1, 2 and 4 gained alike, 4 a little more at m = 100.
ROWS_AHEAD = 4


@jit(from_python=False)
def gather(X, batch, x, ahead):
    """x[s] ← X[batch[s]]: the mini-batch's inputs as one matrix, while X's
    row ``ahead[s]`` (``ROWS_AHEAD`` samples later) is fetched into L2.

    Element by element: an array assignment would compile numba's
    shape-mismatch error machinery, seconds of compile time for nothing.
    """
    n_j = x.shape[1]
    line = LINE // X.itemsize
    for s in range(batch.shape[0]):
        if s < ahead.shape[0]:
            first = ahead[s] * n_j
            for k in range(first, first + n_j, line):
                prefetch_far(X, k)
        row = batch[s]
        for j in range(n_j):
            x[s, j] = X[row, j]


@jit(from_python=False)
def prefetch_rows(csr, Y, outputs, costs, order, start, mbs):
    """Cache hints for the mini-batch at ``start``: its samples' rows of Y,
    outputs and costs (``prefetch``); from a CSR matrix each row's non-zeros,
    every line of them into L2 (``prefetch_far``; against the first line
    only, ``bench.ab``: 1.03–1.06× in float64 and 1.10–1.15× in float32 at
    20 % and 5 % non-zeros), and the row pointers of the mini-batch after
    it.  Dense X's rows are
    the gather's to hint (``gather``): hinting their first lines here too
    changed nothing (``bench.ab``, 0.97–1.02×)."""
    n = order.shape[0]
    n_out = Y.shape[1]
    for s in range(start, min(n, start + mbs)):
        row = order[s]
        prefetch(Y, row * n_out)
        prefetch(outputs, row * n_out)
        prefetch(costs, row)
        if csr is not None:
            # The row's every line, into L2: its non-zeros are read twice, by
            # the forward sum and by the update, 157 × 12 B = 30 lines a
            # sample at 20 %, from anywhere in the matrix.
            first, end = csr.indptr[row], csr.indptr[row + 1]
            for k in range(first, end, LINE // csr.data.itemsize):
                prefetch_far(csr.data, k)
            for k in range(first, end, LINE // csr.indices.itemsize):
                prefetch_far(csr.indices, k)
            # A row that starts inside a line may end in one the steps skipped.
            if end > first:
                prefetch_far(csr.data, end - 1)
                prefetch_far(csr.indices, end - 1)
    if csr is not None:
        for s in range(start + mbs, min(n, start + 2 * mbs)):
            prefetch(csr.indptr, order[s])


@jit(from_python=False)
def outputs_and_deltas(z, Y, sample_weight, batch, cost, out_act, others, d, outputs, costs,
                       c_batch):
    """From z^L: each sample's cost (times its weight), a^L into ``outputs``, δ^L (BP1).

    The cost comes from z for numerical stability (``costs.fn``, through
    ``c_batch``, m floats); a sample weight scales δ^L, hence ∂C/∂b = δ and
    ∂C/∂w = a δ at every layer (``sample_weight`` None: all weigh 1).
    Returns False if some δ^L is not finite: the epoch has diverged.
    """
    m, n = z.shape
    cost_fn(z, Y, batch, cost, out_act, c_batch, others)
    activate_block(z, out_act, others)
    output_delta(z, Y, batch, cost, out_act, d, others)
    finite = True
    for s in range(m):
        row = batch[s]
        costs[row] = c_batch[s]
        for j in range(n):
            outputs[row, j] = z[s, j]
        if sample_weight is not None:
            weight = sample_weight[row]
            costs[row] = weight * costs[row]
            for j in range(n):
                d[s, j] = d[s, j] * weight
        for j in range(n):
            finite &= np.isfinite(d[s, j])
    return finite


@jit(from_python=False)
def backpropagate(params, layout, l, d, d_prev, a, code, others, dropout, keys):
    """BP2 into layer l: δ^l = (δ^(l+1) (w^(l+1))ᵀ) ⊙ σ'(z^l), with w as it is
    before its update.  One GEMM, then σ' over the whole C-contiguous block at
    once, or row by row through the dropout masks if p > 0."""
    gemm(False, True, 1.0, d, weights_of(params, layout, l), 0.0, d_prev)
    m, n = d_prev.shape
    if dropout is None:
        derivative_times(d_prev.reshape(m * n), a.reshape(m * n), code, others)
    if dropout is not None:
        unit0 = np.uint64(first_unit(layout[0], l))
        for s in range(m):
            derivative_times_kept(d_prev[s], a[s], code, others, keys[s], unit0, dropout)


@jit(from_python=False)
def update_layer(params, velocity, layout, l, a_prev, d, keep, l1_shrink, scale, momentum,
                  penalty, eta_reg, grad, small):
    """w^l and b^l from the mini-batch's a^(l−1) and δ^l (BP3, BP4).

    Plain SGD is one GEMM: w ← keep · w − scale · aᵀδ, keep = 1 − ηλ/n for L2
    and 1 after L1's shrink w ← w − (ηλ/n) sgn(w) (``l1_shrink``, None for
    L2).  Momentum (μ = ``momentum``, None without) needs the gradient on its
    own (``grad``) to move the velocity, with ``penalty`` and ``eta_reg`` = ηλ/n.
    A large layer's or product's update (momentum's gradient) runs in
    ``split``'s fixed blocks of rows (``small``: ``blas.small_product_limit``),
    one after the other (threads share them in ``shared``).
    """
    w = weights_of(params, layout, l)
    if momentum is not None:
        g = grad[:w.size].reshape(w.shape)
        gradient_rows(a_prev, d, g, n_row_blocks(d.shape[0], w.shape[0], w.shape[1], small))
        update_momentum(params, velocity, layout, l, g, penalty, eta_reg, scale, momentum)
    else:
        if l1_shrink is not None:
            regularise(w.reshape(w.size), l1_shrink)
        blocks = n_row_blocks(d.shape[0], w.shape[0], w.shape[1], small)
        if blocks == 1:
            gemm(True, False, -scale, a_prev, d, keep, w)
        else:
            update_rows(a_prev, d, w, keep, scale, blocks)
    update_biases(params, velocity, layout, l, d, scale, momentum)
