"""Mini-batch stochastic gradient descent: one whole epoch per compiled call.

Two phases per mini-batch.  (1) Every sample's forward pass and δ^l (BP1, BP2)
into its own row of the scratch blocks ``acts``/``deltas``: samples are
independent, so a parallel loop over them writes no shared memory.  (2) The
update (``update``) applies BP3/BP4, Σ_x a^(l−1)_i δ^l_j, row i of every w^l at
a time, the sum over samples always in mini-batch order.  Whatever the number
of threads, or whether phase (2) runs in one chunk or many, each weight sees
the very same floating-point operations in the same order: the model is
bitwise identical.
"""
from collections import namedtuple

import numpy as np
from numba import prange

from ._jit import jit
from .backprop import backward
from .dropout import sample_key
from .forward import forward
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
def _sample_deltas(X, Y, sample_weight, row, s, params, layout, codes, dropout, key, acts,
                   deltas, nonzero, counts):
    """Phase 1 for one sample (X's row ``row``, slot s of the mini-batch).

    A sample weight scales δ^l, hence both its ∂C/∂b = δ and ∂C/∂w = a δ.
    """
    sizes, w_off, b_off, a_off = layout
    a = acts[s]
    a[:sizes[0]] = X[row]
    k = sample_key(key, row) if dropout > 0.0 else key
    forward(params, layout, codes.hidden, codes.out_act, a, nonzero[s], counts[s], dropout, k)
    backward(params, layout, codes.hidden, codes.out_act, codes.cost, Y[row], a, deltas[s],
             dropout, k)
    weight = sample_weight[row]
    if weight != 1.0:
        d = deltas[s]
        for u in range(a_off[1], d.shape[0]):
            d[u] = d[u] * weight


@jit(parallel=True)
def _batch_deltas_parallel(X, Y, sample_weight, batch, params, layout, codes, dropout, key, acts,
                           deltas, nonzero, counts):
    for s in prange(batch.shape[0]):
        _sample_deltas(X, Y, sample_weight, batch[s], s, params, layout, codes, dropout, key,
                       acts, deltas, nonzero, counts)


@jit()
def _batch_deltas(X, Y, sample_weight, batch, params, layout, codes, dropout, key, acts, deltas,
                  nonzero, counts):
    for s in range(batch.shape[0]):
        _sample_deltas(X, Y, sample_weight, batch[s], s, params, layout, codes, dropout, key,
                       acts, deltas, nonzero, counts)


@jit(parallel=True)
def _update_rows_parallel(params, velocity, layout, acts, deltas, nonzero, counts, m, scale,
                          penalty, decay, shrink, momentum, n_rows, n_chunks, row_sums):
    # The chunking only spreads work: it does not change any weight's result.
    for c in prange(n_chunks):
        r0 = c * n_rows // n_chunks
        r1 = (c + 1) * n_rows // n_chunks
        if momentum != 0.0:
            update_rows_momentum(params, velocity, layout, acts, deltas, m, scale, penalty, shrink,
                                 momentum, r0, r1, row_sums[c])
        else:
            update_rows(params, layout, acts, deltas, nonzero, counts, m, scale, penalty, decay,
                        shrink, r0, r1)


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
    # Per sample: indices of the nonzero activations of every layer, and counts.
    nonzero = np.empty((mini_batch_size, n_units), dtype=np.uint64)
    counts = np.empty((mini_batch_size, n_layers), dtype=np.int64)
    n_chunks = min(n_chunks, n_rows)
    # Momentum's per-row Σ a δ, one scratch row per chunk.
    row_sums = np.empty((n_chunks, sizes.max()), dtype=params.dtype)
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
                                   hyper.dropout, key, acts, deltas, nonzero, counts)
            if not _all_finite(deltas, m, a_off[n_layers]):
                return False
            _update_rows_parallel(params, velocity, layout, acts, deltas, nonzero, counts, m,
                                  scale, codes.penalty, decay, shrink, momentum, n_rows, n_chunks,
                                  row_sums)
        else:
            _batch_deltas(X, Y, sample_weight, batch, params, layout, codes, hyper.dropout, key,
                          acts, deltas, nonzero, counts)
            if not _all_finite(deltas, m, a_off[n_layers]):
                return False
            if momentum != 0.0:
                update_rows_momentum(params, velocity, layout, acts, deltas, m, scale,
                                     codes.penalty, shrink, momentum, 0, n_rows, row_sums[0])
            else:
                update_rows(params, layout, acts, deltas, nonzero, counts, m, scale,
                            codes.penalty, decay, shrink, 0, n_rows)
        update_biases(params, velocity, layout, deltas, m, scale, momentum)
    return True
