"""Mini-batch stochastic gradient descent: one whole epoch per compiled call.

Per mini-batch, for each layer l in turn, ONE walk over the rows of w^l
(``sweep.sweep_layer``) applies the previous mini-batch's SGD step to them
(BP3/BP4 summed over its samples in mini-batch order, the L2 decay) and runs
this mini-batch's forward pass through the updated rows, while they are in
registers.  Then each sample's δ^l (BP1, BP2) goes into its own row of the
scratch block ``deltas``; the last mini-batch's step is one more walk with no
forward pass.  The mini-batches alternate between two scratch blocks, the
one being stepped and the one going forward.  Layer 1 reads its inputs from
X in place (nothing is copied), and each walk prefetches the next
mini-batch's rows of X, which lie at random places in memory.

Each weight sees the very same floating-point operations in the same order as
in the plain algorithm (step everything, then go forward), whatever the number
of threads: threads split a walk's step by rows of w^l and its forward pass by
samples, and the δ pass by samples, so the model is bitwise identical on 1 or
many threads.
"""
from collections import namedtuple

import numpy as np
from numba import prange

from ._jit import jit
from .backprop import backward
from .dropout import sample_key
from .forward import as_dtype_of, first_unit
from .sweep import (activate_layer, forward_layer_parallel, forward_scratch, mark_samples,
                    start_layer, step_layer_parallel, sweep_layer)
from .update import L1, L2, regularise, update_biases, update_rows_momentum

# A layer with fewer weights is swept by one thread: waking a second one costs
# more than the sweep (784-30-10's 30 × 10 output layer, say).
PARALLEL_MIN_WEIGHTS = 4096

# The codes of the network and its training (ints from ``activations``,
# ``costs`` and ``update``) and the hyperparameters (floats), as the book names them.
Codes = namedtuple("Codes", "hidden out_act cost penalty")
Hyper = namedtuple("Hyper", "eta lmbda momentum dropout")


@jit()
def _locate(X, batch, rows):
    """The flat offsets in X of the mini-batch's rows."""
    for s in range(batch.shape[0]):
        rows[s] = batch[s] * X.shape[1]


@jit()
def _sample_keys(batch, dropout, key, keys):
    """The dropout key of each sample of the mini-batch (``dropout.sample_key``)."""
    if dropout > 0.0:
        for s in range(batch.shape[0]):
            keys[s] = sample_key(key, batch[s])


@jit()
def _sample_deltas(Y, sample_weight, batch, params, layout, codes, dropout, acts, deltas, keys, s):
    """δ^l of sample s of the mini-batch (BP1, BP2), scaled by its sample weight.

    A sample weight scales δ^l, hence both its ∂C/∂b = δ and ∂C/∂w = a δ.
    """
    sizes, w_off, b_off, a_off = layout
    row = batch[s]
    backward(params, layout, codes.hidden, codes.out_act, codes.cost, Y[row], acts[s], deltas[s],
             dropout, keys[s])
    weight = sample_weight[row]
    if weight != 1.0:
        d = deltas[s]
        for u in range(a_off[1], d.shape[0]):
            d[u] = d[u] * weight


@jit(parallel=True)
def _deltas_parallel(Y, sample_weight, batch, params, layout, codes, dropout, acts, deltas, keys):
    for s in prange(batch.shape[0]):
        _sample_deltas(Y, sample_weight, batch, params, layout, codes, dropout, acts, deltas, keys,
                       s)


@jit()
def _deltas(Y, sample_weight, batch, params, layout, codes, dropout, acts, deltas, keys):
    for s in range(batch.shape[0]):
        _sample_deltas(Y, sample_weight, batch, params, layout, codes, dropout, acts, deltas, keys,
                       s)


@jit(parallel=True)
def _momentum_parallel(params, velocity, w0, n_in, n_out, src, rows, a0, deltas, d0, m, scale,
                       penalty, eta_reg, momentum, n_chunks, row_sums):
    # The chunking only spreads work: it does not change any weight's result.
    for c in prange(n_chunks):
        update_rows_momentum(params, velocity, w0, n_out, src, rows, a0, deltas, d0, m, scale,
                             penalty, eta_reg, momentum, c * n_in // n_chunks,
                             (c + 1) * n_in // n_chunks, row_sums[c])


@jit()
def _step_ahead(params, velocity, layout, l, penalty, keep, eta_reg, momentum, scale_old,
                src_old, rows_old, deltas_old, m_old, row_sums):
    """What precedes layer l's sweep: momentum's step on every weight, or L1's shrink.

    Returns (m_old, keep) for the sweep: momentum leaves it no step (m_old = 0),
    and a sweep with no step must not decay (keep = 1).
    """
    sizes, w_off, b_off, a_off = layout
    n_in = sizes[l]
    w0 = w_off[l]
    if m_old > 0 and momentum != 0.0:
        update_rows_momentum(params, velocity, w0, sizes[l + 1], src_old, rows_old, a_off[l],
                             deltas_old, a_off[l + 1], m_old, scale_old, penalty, eta_reg,
                             momentum, 0, n_in, row_sums[0])
        m_old = 0
    elif m_old > 0 and penalty == L1:
        regularise(params, w0, w0 + n_in * sizes[l + 1], penalty, keep, eta_reg)
    if m_old == 0:
        keep = as_dtype_of(1.0, params)
    return m_old, keep


@jit()
def _layer_pass(params, velocity, layout, l, penalty, keep, eta_reg, momentum, scale_old,
                src_old, rows_old, deltas_old, marks_old, m_old, src_new, rows_new, acts_new,
                marks_new, m_new, p0, row_sums, rows_next, m_next):
    """Layer l on one thread: the last mini-batch's step on w^l, then the next one's forward.

    Inputs a^(l−1) are read from ``src_*.flat[rows_*[s] + a_off[l]:]`` (X itself
    for layer 1).  Momentum moves every weight through its velocity and L1
    shrinks every weight before the sweep (``_step_ahead``); the sweep then
    adds the gradient (plain SGD only) and goes forward.  keep is 1 − ηλ/n for
    L2 and 1 otherwise.  The sweep prefetches the m_next inputs at
    ``src_new.flat[rows_next[s]:]`` (the mini-batch after this one).
    """
    sizes, w_off, b_off, a_off = layout
    m_old, keep = _step_ahead(params, velocity, layout, l, penalty, keep, eta_reg, momentum,
                              scale_old, src_old, rows_old, deltas_old, m_old, row_sums)
    sweep_layer(params, w_off[l], sizes[l], sizes[l + 1], keep, scale_old, src_old, rows_old,
                a_off[l], deltas_old, a_off[l + 1], marks_old, m_old, src_new, rows_new, acts_new,
                a_off[l + 1], marks_new, m_new, p0, rows_next, m_next)


@jit()
def _layer_pass_on(threads, params, velocity, layout, l, penalty, keep, eta_reg, momentum,
                   scale_old, src_old, rows_old, deltas_old, marks_old, m_old, src_new, rows_new,
                   acts_new, marks_new, m_new, p0, row_sums, chunk_marks, rows_next, m_next):
    """``_layer_pass`` on that many threads, or on one if ``threads`` is None or w^l is small.

    Threads split the rows of w for the step, then the samples for the forward
    pass: splitting columns would have them write to the same cache lines of w.
    """
    sizes, w_off, b_off, a_off = layout
    n_in = sizes[l]
    n_out = sizes[l + 1]
    # ``threads is None`` is known when numba compiles: the serial entry point
    # gets no threaded code at all.
    if threads is None or n_in * n_out < PARALLEL_MIN_WEIGHTS:
        _layer_pass(params, velocity, layout, l, penalty, keep, eta_reg, momentum, scale_old,
                    src_old, rows_old, deltas_old, marks_old, m_old, src_new, rows_new, acts_new,
                    marks_new, m_new, p0, row_sums, rows_next, m_next)
        return
    n_chunks = threads
    w0 = w_off[l]
    a0 = a_off[l]
    if m_old > 0 and momentum != 0.0:
        _momentum_parallel(params, velocity, w0, n_in, n_out, src_old, rows_old, a0, deltas_old,
                           a_off[l + 1], m_old, scale_old, penalty, eta_reg, momentum,
                           min(n_chunks, n_in), row_sums)
        m_old = 0
    m_old, keep = _step_ahead(params, velocity, layout, l, penalty, keep, eta_reg, momentum,
                              scale_old, src_old, rows_old, deltas_old, m_old, row_sums)
    if m_old > 0:
        step_layer_parallel(params, w0, n_in, n_out, keep, scale_old, src_old, rows_old, a0,
                            deltas_old, a_off[l + 1], marks_old, m_old, p0, n_chunks)
    if m_new > 0:
        forward_layer_parallel(params, w0, n_in, n_out, src_new, rows_new, a0, acts_new,
                               a_off[l + 1], marks_new, m_new, p0, n_chunks, chunk_marks,
                               rows_next, m_next)


@jit()
def _all_finite(deltas, m, start, n_out):
    """Whether every output δ of the mini-batch is finite: a cheap divergence probe."""
    for s in range(m):
        for u in range(start, start + n_out):
            if not np.isfinite(deltas[s, u]):
                return False
    return True


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
        1 runs serially; more spreads each mini-batch over numba's threads
        (one piece per thread): a large layer's step in n_chunks runs of rows
        and its forward pass in n_chunks shares of the samples, momentum's rows
        likewise, the δ pass over the samples.  That pays off from a few dozen
        samples per mini-batch; the result is bitwise the same.

    Returns
    -------
    finite : bool
        False if a mini-batch produced a non-finite δ^L; the epoch stops
        there and ``params`` must be considered lost (the caller restores them).
    """
    run = _train_threads if n_chunks > 1 else _train_serial
    return run(X, Y, sample_weight, order, params, velocity, layout, codes, hyper, key, n_train,
               mini_batch_size, n_chunks)


# Two compiled entry points, so that a process that never trains on threads
# never compiles the threaded passes (about a third of the kernels' compile
# time): with ``threads`` None, numba prunes their branches before typing them.
@jit()
def _train_serial(X, Y, sample_weight, order, params, velocity, layout, codes, hyper, key,
                  n_train, mini_batch_size, n_chunks):
    return _epoch(X, Y, sample_weight, order, params, velocity, layout, codes, hyper, key,
                  n_train, mini_batch_size, None)


@jit()
def _train_threads(X, Y, sample_weight, order, params, velocity, layout, codes, hyper, key,
                   n_train, mini_batch_size, n_chunks):
    return _epoch(X, Y, sample_weight, order, params, velocity, layout, codes, hyper, key,
                  n_train, mini_batch_size, n_chunks)


@jit()
def _epoch(X, Y, sample_weight, order, params, velocity, layout, codes, hyper, key, n_train,
           mini_batch_size, threads):
    """``train_epoch``'s body, on one thread if ``threads`` is None, else on that many."""
    sizes, w_off, b_off, a_off = layout
    n_layers = sizes.shape[0] - 1
    n = order.shape[0]
    mbs = mini_batch_size
    n_chunks = 1 if threads is None else threads
    # Two of each: the mini-batch being stepped ("old") and the one going
    # forward, which swap roles every mini-batch.  ``marks``: per layer and
    # pair of inputs, which samples have either ≠ 0 (``sweep.mark_samples``).
    acts_a, act_rows, marks_a = forward_scratch(layout, mbs, params)
    acts_b, act_rows, marks_b = forward_scratch(layout, mbs, params)
    acts = (acts_a, acts_b)
    marks = (marks_a, marks_b)
    deltas = np.zeros((2, mbs, acts_a.shape[1]), dtype=params.dtype)
    keys = np.zeros((2, mbs), dtype=np.uint64)
    x_rows = np.zeros((3, mbs), dtype=np.int64)
    # Per chunk: momentum's per-row Σ a δ; the marks of its share of the samples.
    row_sums = np.empty((n_chunks, sizes.max()), dtype=params.dtype)
    chunk_marks = np.zeros((n_chunks, marks_a.shape[0], marks_a.shape[1]), dtype=np.uint64)
    eta_reg = hyper.eta * hyper.lmbda / n_train
    keep = as_dtype_of(1.0 - eta_reg if codes.penalty == L2 else 1.0, params)
    shrink = as_dtype_of(eta_reg, params)
    momentum = as_dtype_of(hyper.momentum, params)
    scale_old = as_dtype_of(0.0, params)
    m_old = 0
    n_batches = (n + mbs - 1) // mbs
    for b in range(n_batches + 1):
        new = b % 2
        old = 1 - new
        start = min(b * mbs, n)
        m_new = min(mbs, n - start)
        batch = order[start:start + m_new]
        _locate(X, batch, x_rows[new])
        _sample_keys(batch, hyper.dropout, key, keys[new])
        after = min(start + m_new, n)
        m_next = min(mbs, n - after)
        _locate(X, order[after:after + m_next], x_rows[2])
        if m_old > 0:
            update_biases(params, velocity, layout, deltas[old], m_old, scale_old, momentum)
        p0 = 0
        for l in range(n_layers):
            n_out = sizes[l + 1]
            start_layer(params, b_off[l], n_out, acts[new], a_off[l + 1], m_new)
            # Layer 1 reads X, the others the previous layer's activations: two
            # calls, since X and the scratch are arrays of different types.
            if l == 0:
                mark_samples(X, x_rows[new], m_new, 0, sizes[0], marks[new], p0)
                _layer_pass_on(threads, params, velocity, layout, l, codes.penalty, keep, shrink,
                               momentum, scale_old, X, x_rows[old], deltas[old], marks[old],
                               m_old, X, x_rows[new], acts[new], marks[new], m_new, p0, row_sums,
                               chunk_marks, x_rows[2], m_next)
            else:
                mark_samples(acts[new], act_rows, m_new, a_off[l], sizes[l], marks[new], p0)
                _layer_pass_on(threads, params, velocity, layout, l, codes.penalty, keep, shrink,
                               momentum, scale_old, acts[old], act_rows, deltas[old], marks[old],
                               m_old, acts[new], act_rows, acts[new], marks[new], m_new, p0,
                               row_sums, chunk_marks, act_rows, 0)
            last = l == n_layers - 1
            activate_layer(acts[new], a_off[l + 1], first_unit(sizes, l + 1), n_out, m_new,
                           codes.out_act if last else codes.hidden, hyper.dropout, keys[new],
                           not last)
            p0 += (sizes[l] + 1) // 2
        if m_new > 0:
            if threads is None:
                _deltas(Y, sample_weight, batch, params, layout, codes, hyper.dropout, acts[new],
                        deltas[new], keys[new])
            else:
                _deltas_parallel(Y, sample_weight, batch, params, layout, codes, hyper.dropout,
                                 acts[new], deltas[new], keys[new])
            if not _all_finite(deltas[new], m_new, a_off[n_layers], sizes[n_layers]):
                return False
        m_old = m_new
        if m_new > 0:
            scale_old = as_dtype_of(hyper.eta / m_new, params)
    return True
