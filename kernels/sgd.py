"""Mini-batch stochastic gradient descent: one whole epoch per compiled call.

Two phases per mini-batch.  (1) The samples go forward four at a time — every
weight vector loaded serves the four (``forward.forward_rows``) — and then each
sample's δ^l (BP1, BP2) into its own row of the scratch blocks
``acts``/``deltas``: groups are fixed by slot, independent, so a parallel loop
over them writes no shared memory.  (2) The update (``update``) applies BP3/BP4,
Σ_x a^(l−1)_i δ^l_j, two rows i of every w^l at a time, the sum over samples
always in mini-batch order.  Whatever the number of threads, or whether phase
(2) runs in one chunk or many, each weight sees the very same floating-point
operations in the same order: the model is bitwise identical.
"""
from collections import namedtuple

import numpy as np
from numba import prange

from ._jit import jit
from .backprop import backward
from .dropout import sample_key
from .forward import GROUP, forward_rows
from .update import update_biases, update_rows, update_rows_momentum

# The codes of the network and its training (ints from ``activations``,
# ``costs`` and ``update``) and the hyperparameters (floats), as the book names them.
Codes = namedtuple("Codes", "hidden out_act cost penalty")
Hyper = namedtuple("Hyper", "eta lmbda momentum dropout")


@jit()
def _as_dtype_of(x, like):
    """x as a scalar of ``like``'s dtype, so float32 loops stay in float32."""
    out = np.empty(1, dtype=like.dtype)
    out[0] = x
    return out[0]


@jit()
def _group_deltas(X, Y, sample_weight, batch, g, params, layout, codes, dropout, key, acts,
                  deltas, idx, keys):
    """Phase 1 for group g of the mini-batch: its ≤ 4 samples (slots s, rows batch[s] of X).

    Forward together (one pass over each weight matrix), then δ^l per sample.
    A sample weight scales δ^l, hence both its ∂C/∂b = δ and ∂C/∂w = a δ.
    """
    sizes, w_off, b_off, a_off = layout
    s0 = g * GROUP
    ns = min(GROUP, batch.shape[0] - s0)
    for s in range(s0, s0 + ns):
        acts[s, :sizes[0]] = X[batch[s]]
        keys[s] = sample_key(key, batch[s]) if dropout > 0.0 else key
    forward_rows(params, layout, codes.hidden, codes.out_act, acts, s0, ns, idx[g], dropout, keys)
    for s in range(s0, s0 + ns):
        row = batch[s]
        backward(params, layout, codes.hidden, codes.out_act, codes.cost, Y[row], acts[s],
                 deltas[s], dropout, keys[s])
        weight = sample_weight[row]
        if weight != 1.0:
            d = deltas[s]
            for u in range(a_off[1], d.shape[0]):
                d[u] = d[u] * weight


@jit(parallel=True)
def _batch_deltas_parallel(X, Y, sample_weight, batch, params, layout, codes, dropout, key, acts,
                           deltas, idx, keys):
    for g in prange((batch.shape[0] + GROUP - 1) // GROUP):
        _group_deltas(X, Y, sample_weight, batch, g, params, layout, codes, dropout, key, acts,
                      deltas, idx, keys)


@jit()
def _batch_deltas(X, Y, sample_weight, batch, params, layout, codes, dropout, key, acts, deltas,
                  idx, keys):
    for g in range((batch.shape[0] + GROUP - 1) // GROUP):
        _group_deltas(X, Y, sample_weight, batch, g, params, layout, codes, dropout, key, acts,
                      deltas, idx, keys)


@jit(parallel=True)
def _update_rows_parallel(params, velocity, layout, acts, deltas, m, scale, penalty, decay,
                          shrink, momentum, n_rows, n_chunks, row_sums, samples):
    # The chunking only spreads work: it does not change any weight's result.
    for c in prange(n_chunks):
        r0 = c * n_rows // n_chunks
        r1 = (c + 1) * n_rows // n_chunks
        if momentum != 0.0:
            update_rows_momentum(params, velocity, layout, acts, deltas, m, scale, penalty, shrink,
                                 momentum, r0, r1, row_sums[c])
        else:
            update_rows(params, layout, acts, deltas, m, scale, penalty, decay, shrink, r0, r1,
                        samples[c])


@jit()
def _all_finite(deltas, m, start):
    """Whether every output δ of the mini-batch is finite: a cheap divergence probe."""
    for s in range(m):
        for u in range(start, deltas.shape[1]):
            if not np.isfinite(deltas[s, u]):
                return False
    return True


@jit()
def train_epoch(X, Y, sample_weight, order, params, velocity, layout, codes, hyper, key, n_train,
                mini_batch_size, n_chunks):
    """Run one epoch of mini-batch SGD in place on ``params``.

    Parameters
    ----------
    X : array of shape (n_samples, n_features), C-contiguous
    Y : array of shape (n_samples, n_outputs)
        Targets, one-hot for classification.
    sample_weight : array of shape (n_samples,)
        Scales each sample's gradient; ones for the book's unweighted SGD.
    order : int64 array of shape (n_train,)
        This epoch's shuffle: mini-batches are ``order[k:k + mini_batch_size]``;
        the last one may be smaller, as in the book.
    params : array of shape (n_params,), same dtype as X
        Updated in place (see ``forward.make_layout`` for the layout).
    velocity : array like ``params``
        Momentum's v, updated in place; unused (may be empty) when μ = 0.
    codes : Codes
        hidden/out_act/cost/penalty codes.
    hyper : Hyper
        η, λ, μ (momentum) and the dropout probability p of hidden neurons.
    key : uint64
        This epoch's dropout key (``dropout.epoch_key``); unused when p = 0.
    n_train : int
        n in ηλ/n: the size of the whole training set.
    n_chunks : int
        1 runs serially; more spreads each mini-batch over numba's threads, the
        update in ``n_chunks`` pieces (a few per thread).  That pays off from a
        few dozen samples per mini-batch; the result is bitwise the same.

    Returns
    -------
    finite : bool
        False if a mini-batch produced a non-finite δ^L; the epoch stops
        there and ``params`` must be considered lost (the caller restores them).
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
    # Per group of samples: the indices of the inputs some sample of it has nonzero.
    idx = np.empty(((mini_batch_size + GROUP - 1) // GROUP, sizes.max()), dtype=np.uint64)
    keys = np.empty(mini_batch_size, dtype=np.uint64)
    n_chunks = min(n_chunks, n_rows)
    # Per chunk: momentum's per-row Σ a δ, plain SGD's list of samples that update a row.
    row_sums = np.empty((n_chunks, sizes.max()), dtype=params.dtype)
    samples = np.empty((n_chunks, mini_batch_size), dtype=np.int64)
    eta_reg = hyper.eta * hyper.lmbda / n_train
    decay = _as_dtype_of(1.0 - eta_reg, params)
    shrink = _as_dtype_of(eta_reg, params)
    momentum = _as_dtype_of(hyper.momentum, params)
    for start in range(0, n, mini_batch_size):
        m = min(mini_batch_size, n - start)
        batch = order[start:start + m]
        scale = _as_dtype_of(hyper.eta / m, params)
        if n_chunks > 1:
            _batch_deltas_parallel(X, Y, sample_weight, batch, params, layout, codes,
                                   hyper.dropout, key, acts, deltas, idx, keys)
            if not _all_finite(deltas, m, a_off[n_layers]):
                return False
            _update_rows_parallel(params, velocity, layout, acts, deltas, m, scale, codes.penalty,
                                  decay, shrink, momentum, n_rows, n_chunks, row_sums, samples)
        else:
            _batch_deltas(X, Y, sample_weight, batch, params, layout, codes, hyper.dropout, key,
                          acts, deltas, idx, keys)
            if not _all_finite(deltas, m, a_off[n_layers]):
                return False
            if momentum != 0.0:
                update_rows_momentum(params, velocity, layout, acts, deltas, m, scale,
                                     codes.penalty, shrink, momentum, 0, n_rows, row_sums[0])
            else:
                update_rows(params, layout, acts, deltas, m, scale, codes.penalty, decay, shrink,
                            0, n_rows, samples[0])
        update_biases(params, velocity, layout, deltas, m, scale, momentum)
    return True
