"""Mini-batch stochastic gradient descent: one whole epoch per compiled call.

For each mini-batch of m samples, with n the training-set size:

    w ← (1 − ηλ/n) w − (η/m) Σ_x ∂C_x/∂w        (L2 weight decay)
    b ← b − (η/m) Σ_x ∂C_x/∂b                    (biases are never regularised)

Two phases per mini-batch.  (1) Every sample's forward pass and δ^l (BP1, BP2)
into its own row of the scratch blocks ``acts``/``deltas``: samples are
independent, so a parallel loop over them writes no shared memory.  (2) The
update applies BP3/BP4, Σ_x a^(l−1)_i δ^l_j, row i of every w^l at a time, the
sum over samples always in mini-batch order.  Whatever the number of threads,
or whether phase (2) runs in one chunk or many, each weight sees the very same
floating-point operations in the same order: the model is bitwise identical.
"""
import numpy as np
from numba import prange

from ._jit import jit
from .backprop import backward
from .forward import U, U1, forward


@jit()
def _as_dtype_of(x, like):
    """x as a scalar of ``like``'s dtype, so float32 loops stay in float32."""
    out = np.empty(1, dtype=like.dtype)
    out[0] = x
    return out[0]


@jit()
def _sample_deltas(X, Y, order, start, s, params, layout, hidden, out_act, cost, acts, deltas,
                   nonzero, counts):
    """Phase 1 for sample s of the mini-batch starting at ``order[start]``."""
    sizes = layout[0]
    row = order[start + s]
    a = acts[s]
    a[:sizes[0]] = X[row]
    forward(params, layout, hidden, out_act, a, nonzero[s], counts[s])
    backward(params, layout, hidden, out_act, cost, Y[row], a, deltas[s])


@jit()
def _update_rows(params, layout, acts, deltas, nonzero, counts, m, scale, decay, r0, r1):
    """Phase 2 for weight rows r0..r1 − 1, counted across all layers in order.

    w_ij ← decay · w_ij − scale · Σ_s a_si δ_sj, the sum in sample order.  Only
    the rows where a_si ≠ 0 are visited, from the forward pass's index lists,
    which changes no result.
    """
    sizes, w_off, b_off, a_off = layout
    row_start = 0
    for l in range(sizes.shape[0] - 1):
        n_in = sizes[l]
        n_out = sizes[l + 1]
        i0 = max(r0 - row_start, 0)
        i1 = min(r1 - row_start, n_in)
        row_start += n_in
        if i0 >= i1:
            continue
        w0 = U(w_off[l])
        nu = U(n_out)
        if decay != 1.0:
            for k in range(w0 + U(i0) * nu, w0 + U(i1) * nu):
                params[k] *= decay
        a0 = U(a_off[l])
        d0 = U(a_off[l + 1])
        for s in range(m):
            a_s = acts[s]
            d_s = deltas[s]
            rows = nonzero[s]
            k = U(counts[s, l])
            t = _first_at_least(rows, a0, k, U(i0))
            while t < k and rows[a0 + t] < U(i1):
                i = rows[a0 + t]
                c = scale * a_s[a0 + i]
                row = w0 + i * nu
                for j in range(nu):
                    params[row + j] -= c * d_s[d0 + j]
                t += U1


@jit()
def _first_at_least(rows, start, k, i):
    """The first t < k with rows[start + t] ≥ i (rows ascending): binary search."""
    lo, hi = U(0), k
    while lo < hi:
        mid = (lo + hi) // U(2)
        if rows[start + mid] < i:
            lo = mid + U1
        else:
            hi = mid
    return lo


@jit()
def _update_biases(params, layout, deltas, m, scale):
    """b_j ← b_j − scale · Σ_s δ_sj, the sum in sample order (no decay)."""
    sizes, w_off, b_off, a_off = layout
    for l in range(sizes.shape[0] - 1):
        n_out = sizes[l + 1]
        d0 = a_off[l + 1]
        for j in range(n_out):
            total = 0.0
            for s in range(m):
                total += deltas[s, d0 + j]
            params[b_off[l] + j] -= scale * total


@jit(parallel=True)
def _batch_deltas_parallel(X, Y, order, start, m, params, layout, hidden, out_act, cost, acts,
                           deltas, nonzero, counts):
    for s in prange(m):
        _sample_deltas(X, Y, order, start, s, params, layout, hidden, out_act, cost, acts, deltas,
                       nonzero, counts)


@jit(parallel=True)
def _update_rows_parallel(params, layout, acts, deltas, nonzero, counts, m, scale, decay, n_rows,
                          n_chunks):
    # The chunking only spreads work: it does not change any weight's result.
    for c in prange(n_chunks):
        r0 = c * n_rows // n_chunks
        r1 = (c + 1) * n_rows // n_chunks
        _update_rows(params, layout, acts, deltas, nonzero, counts, m, scale, decay, r0, r1)


@jit()
def train_epoch(X, Y, order, params, layout, hidden, out_act, cost, eta, lmbda, n_train,
                mini_batch_size, n_chunks):
    """Run one epoch of mini-batch SGD in place on ``params``.

    Parameters
    ----------
    X : array of shape (n_samples, n_features), C-contiguous
    Y : array of shape (n_samples, n_outputs)
        Targets, one-hot for classification.
    order : int64 array of shape (n_samples,)
        This epoch's shuffle: mini-batches are ``order[k:k + mini_batch_size]``;
        the last one may be smaller, as in the book.
    params : array of shape (n_params,), same dtype as X
        Updated in place (see ``forward.make_layout`` for the layout).
    hidden, out_act, cost : int
        Codes from ``activations`` and ``costs``.
    eta, lmbda : float
        Learning rate η and L2 parameter λ.
    n_train : int
        n in the decay factor 1 − ηλ/n: the size of the whole training set.
    n_chunks : int
        1 runs serially; more spreads each mini-batch over numba's threads, the
        update in ``n_chunks`` pieces (a few per thread).  That pays off from a
        few dozen samples per mini-batch; the result is bitwise the same.
    """
    sizes, w_off, b_off, a_off = layout
    n_layers = sizes.shape[0] - 1
    n_units = a_off[n_layers] + sizes[n_layers]
    n_rows = 0
    for l in range(n_layers):
        n_rows += sizes[l]
    n = order.shape[0]
    acts = np.empty((mini_batch_size, n_units), dtype=params.dtype)
    deltas = np.empty((mini_batch_size, n_units), dtype=params.dtype)
    # Per sample: indices of the nonzero activations of every layer, and counts.
    nonzero = np.empty((mini_batch_size, n_units), dtype=np.uint64)
    counts = np.empty((mini_batch_size, n_layers), dtype=np.int64)
    n_chunks = min(n_chunks, n_rows)
    parallel = n_chunks > 1
    decay = _as_dtype_of(1.0 - eta * lmbda / n_train, params)
    for start in range(0, n, mini_batch_size):
        m = min(mini_batch_size, n - start)
        scale = _as_dtype_of(eta / m, params)
        if parallel:
            _batch_deltas_parallel(X, Y, order, start, m, params, layout, hidden, out_act, cost,
                                   acts, deltas, nonzero, counts)
            _update_rows_parallel(params, layout, acts, deltas, nonzero, counts, m, scale, decay,
                                  n_rows, n_chunks)
        else:
            for s in range(m):
                _sample_deltas(X, Y, order, start, s, params, layout, hidden, out_act, cost,
                               acts, deltas, nonzero, counts)
            _update_rows(params, layout, acts, deltas, nonzero, counts, m, scale, decay, 0, n_rows)
        _update_biases(params, layout, deltas, m, scale)
