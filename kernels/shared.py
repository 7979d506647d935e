"""The epoch on several threads, entered once per epoch.

``sgd._epoch`` on threads opens a numba parallel region for each large
product, two per mini-batch, and under numba's TBB layer a region's worker
woke late each time, so the second core took few blocks (bench/ANALYSIS.md
item 4).  Here the caller's thread and ``threads − 1`` helpers (plain Python
threads, each running the compiled ``_work`` without the GIL; one numba
region for the whole epoch compiled ~4.5 s more) take the epoch's work in
order, in numbered pieces ("tickets", ``atomic.fetch_add``): per mini-batch
the gather (in blocks of samples), each layer's forward product and σ (in
``split``'s blocks of samples, or whole), the output pass, BP2 from the
last layer down, and every layer's update (in ``split``'s blocks of w's
rows, or whole).  A piece starts once every piece of the steps before it is
done (a count of done pieces, ``atomic.load``) — the updates, which write
different layers, wait only for BP2, so a small layer's whole update runs
beside the large layer's blocks.  A thread that holds a piece never
waits on one that nobody holds, so a thread alone — a helper that starts
late finds nothing left — simply takes every piece in turn.  Every piece is
the same arithmetic as in ``sgd._epoch`` on one thread — the same GEMM per
block, σ element by element — so the model is bitwise the same for any
thread count.

Dense X (or ``DenseRows``) only: a sparse first layer keeps ``sgd._epoch``.
"""
import threading

import numpy as np

from . import atomic
from ._jit import jit
from .activations import IDENTITY
from .blas import gemm
from .dropout import sample_key
from .forward import activate_rows, as_dtype_of, block, first_unit, weighted_inputs
from .forward import weights as weights_of
from .readonly import read_only
from .sparse import densify_rows
from .split import N_BLOCKS, SPLIT_MIN_BATCH, bounds, n_blocks, n_row_blocks, product_block, shared
from .split import update_block
from .steps import ROWS_AHEAD, backpropagate, gather, outputs_and_deltas, prefetch_rows
from .steps import update_layer
from .update import regularise, update_biases

# Counters shared by the threads: the next ticket, the pieces done, a failure flag.
NEXT, DONE, FAILED = 0, 1, 2
# A thread waiting for the pieces before its own spins this many times (tens
# of µs: a piece of a small step), then yields its core at every look.
SPINS = 1000


@jit()
def plan(sizes, m, small, whole_update, itemsize):
    """Pieces per step for a mini-batch of m samples: the gather, the forward
    pass of each layer, the output pass, BP2 for l = L−1 … 1, then the update
    of each layer l = L−1 … 0.  A product runs in blocks only where threads
    would share it in ``sgd._epoch`` (``split.shared``); ``whole_update`` ≠ 0
    (momentum) keeps every update whole."""
    n_layers = sizes.shape[0] - 1
    steps = np.ones(3 * n_layers + 1, dtype=np.int64)
    steps[0] = N_BLOCKS if m >= SPLIT_MIN_BATCH else 1
    for l in range(n_layers):
        if shared(m, sizes[l], sizes[l + 1], itemsize):
            steps[1 + l] = n_blocks(m, sizes[l], sizes[l + 1], small)
    for r in range(n_layers):
        l = n_layers - 1 - r
        if whole_update == 0 and shared(m, sizes[l], sizes[l + 1], itemsize):
            steps[2 * n_layers + 1 + r] = n_row_blocks(m, sizes[l], sizes[l + 1], small)
    return steps


@jit(from_python=False)
def _locate(ticket, per_batch, steps, steps_last, n_full, first_update):
    """(mini-batch, step, piece within the step, the ticket it waits for).

    A piece waits until every piece before its step is done, except that the
    updates (steps from ``first_update`` on) wait only for BP2: each writes
    its own layer, so they run side by side — the small layers' whole
    updates beside the large layer's blocks.
    """
    batch = min(ticket // per_batch, n_full)
    within = ticket - batch * per_batch
    table = steps if batch < n_full else steps_last
    step = 0
    start = batch * per_batch
    group = start
    while within >= table[step]:
        within -= table[step]
        start += table[step]
        step += 1
        if step <= first_update:
            group = start
    return batch, step, within, group


@jit(from_python=False)
def _gather_piece(X, rows, Y, order, outputs, costs, key, dropout, keys, x_buf, start, m, mbs,
                  k, pieces):
    """Rows s0 … s1 − 1 of the mini-batch's x (``steps.gather`` or, from a
    ``DenseRows`` matrix, ``sparse.densify_rows``) and their dropout keys;
    piece 0 also hints the next mini-batch's rows of Y and the monitors."""
    s0, s1 = bounds(k, pieces, m)
    batch = order[start:start + m]
    if k == 0:
        if X is not None:
            prefetch_rows(None, Y, outputs, costs, order, start + mbs, mbs)
        if rows is not None:
            prefetch_rows(rows, Y, outputs, costs, order, start + mbs, mbs)
    x = x_buf[:m]
    if X is not None:
        ahead = start + ROWS_AHEAD
        gather(X, batch[s0:s1], x[s0:s1], order[ahead + s0:ahead + s1])
    if rows is not None:
        densify_rows(rows, batch[s0:s1], x[s0:s1])
    if dropout is not None:
        for s in range(s0, s1):
            keys[s] = sample_key(key, batch[s])


@jit(from_python=False)
def _forward_piece(params, layout, l, hidden, dropout, keys, x_buf, acts, m, mbs, k, pieces,
                   small):
    """Layer l's z = a w + b and a = σ(z) (z^L left as it is) for piece k of
    ``pieces`` blocks of samples: the whole layer as ``forward.weighted_inputs``
    computes it on one thread, or one of ``split.n_blocks``'s blocks."""
    sizes, w_off, b_off, a_off = layout
    last = l == sizes.shape[0] - 2
    code = IDENTITY if last else hidden
    z = block(acts, layout, l + 1, m, mbs)
    if l == 0:
        a_prev = read_only(x_buf[:m])
    else:
        a_prev = read_only(block(acts, layout, l, m, mbs))
    if pieces == 1:
        weighted_inputs(a_prev, params, layout, l, z, None, small)
        activate_rows(z, code, dropout, keys, first_unit(sizes, l + 1), not last)
    else:
        s0, s1 = bounds(k, pieces, m)
        for s in range(s0, s1):
            for j in range(z.shape[1]):
                z[s, j] = params[b_off[l] + j]
        product_block(a_prev, weights_of(params, layout, l), z, k, pieces)
        activate_rows(z[s0:s1], code, dropout, keys[s0:s1], first_unit(sizes, l + 1), not last)


@jit(from_python=False)
def _update_piece(params, velocity, layout, l, hidden, penalty, eta_reg, keep, l1_shrink,
                  momentum, dropout, keys, scale, grad, x_buf, acts, deltas, m, mbs, k, pieces,
                  small, backward):
    """BP2 down to layer l (``backward``), or the update of layer l's weights
    and biases: whole (``steps.update_layer`` on one thread) or block k of
    ``split.n_row_blocks``'s blocks of w's rows, the biases with block 0."""
    sizes = layout[0]
    d = block(deltas, layout, l + 1, m, mbs)
    if backward:
        # BP2 with w^(l+1) as it was: before its update, the next step.
        d_prev = block(deltas, layout, l, m, mbs)
        gemm(False, True, 1.0, d, weights_of(params, layout, l), 0.0, d_prev)
        backpropagate(d_prev, block(acts, layout, l, m, mbs), hidden, dropout, keys,
                      first_unit(sizes, l))
        return
    if l == 0:
        a_prev = x_buf[:m]
    else:
        a_prev = block(acts, layout, l, m, mbs)
    if pieces == 1:
        # Each layer's gradient in its own part of ``grad`` (momentum): the
        # updates of different layers run at once.
        update_layer(params, velocity, layout, l, a_prev, d, keep, l1_shrink, scale, momentum,
                     penalty, eta_reg, grad[layout[1][l]:], None, small)
    else:
        w = weights_of(params, layout, l)
        if l1_shrink is not None:
            i0, i1 = bounds(k, pieces, w.shape[0])
            regularise(w[i0:i1].reshape((i1 - i0) * w.shape[1]), l1_shrink)
        update_block(a_prev, d, w, keep, scale, k, pieces)
        if k == 0:
            update_biases(params, velocity, layout, l, d, scale, momentum)


@jit()
def _work(X, rows, Y, sample_weight, order, params, velocity, layout, hidden, out_act, cost,
          penalty, eta, eta_reg, keep, l1_shrink, momentum, dropout, key, mbs, outputs, costs,
          small, x_buf, acts, deltas, grad, keys, c_batch, scale_full, steps, steps_last,
          counters):
    """One thread's share of the epoch: tickets in order until none is left."""
    sizes = layout[0]
    n_layers = sizes.shape[0] - 1
    n = order.shape[0]
    n_full = n // mbs
    # A sum, not a counter from 0: that 0 reached ``_locate`` typed Literal[int].
    per_batch = steps.sum()
    first_update = 2 * n_layers + 1
    total = n_full * per_batch
    if n_full * mbs < n:
        total += steps_last.sum()
    while True:
        ticket = atomic.fetch_add(counters, NEXT, 1)
        if ticket >= total:
            return
        b, step, k, first = _locate(ticket, per_batch, steps, steps_last, n_full, first_update)
        spins = 0
        # A failure anywhere makes every piece left a no-op: nothing to wait for.
        while atomic.load(counters, DONE) < first and atomic.load(counters, FAILED) == 0:
            if spins < SPINS:
                atomic.pause()
                spins += 1
            else:
                atomic.yield_thread()
        if atomic.load(counters, FAILED) == 0:
            start = b * mbs
            m = min(mbs, n - start)
            pieces = steps[step] if b < n_full else steps_last[step]
            if step == 0:
                _gather_piece(X, rows, Y, order, outputs, costs, key, dropout, keys, x_buf, start,
                              m, mbs, k, pieces)
            elif step <= n_layers:
                _forward_piece(params, layout, step - 1, hidden, dropout, keys, x_buf, acts, m,
                               mbs, k, pieces, small)
            elif step == n_layers + 1:
                if not outputs_and_deltas(block(acts, layout, n_layers, m, mbs), Y,
                                          sample_weight, order[start:start + m], cost, out_act,
                                          block(deltas, layout, n_layers, m, mbs), outputs,
                                          costs, c_batch[:m]):
                    atomic.fetch_add(counters, FAILED, 1)
            else:
                # BP2 from the last layer down to layer 1, then the updates.
                backward = step < first_update
                l = first_update - step if backward else 3 * n_layers - step
                scale = scale_full if m == mbs else as_dtype_of(eta / m, params)
                _update_piece(params, velocity, layout, l, hidden, penalty, eta_reg, keep,
                              l1_shrink, momentum, dropout, keys, scale, grad, x_buf, acts,
                              deltas, m, mbs, k, pieces, small, backward)
        atomic.fetch_add(counters, DONE, 1)


def epoch(X, csr, rows, Y, sample_weight, order, params, velocity, layout, hidden, out_act, cost,
          penalty, eta, eta_reg, keep, l1_shrink, momentum, dropout, key, mbs, outputs, costs,
          threads, small):
    """``sgd._epoch`` for dense X (``csr`` None) on ``threads`` threads: the
    caller's and ``threads − 1`` helpers, each running ``_work`` (compiled,
    without the GIL) until the epoch's pieces are gone.  False if a δ^L or a
    weight is not finite.

    Plain Python threads, not a numba parallel region: the region's
    machinery compiled ~4.5 s more, and needs no threading layer this way.
    """
    sizes = layout[0]
    n = order.shape[0]
    whole_update = np.int64(momentum is not None)
    work = (X, rows, Y, sample_weight, order, params, velocity, layout, hidden, out_act, cost,
            penalty, eta, eta_reg, keep, l1_shrink, momentum, dropout, key, mbs, outputs, costs,
            small, np.empty((mbs, int(sizes[0])), dtype=params.dtype),
            np.zeros(mbs * int(sizes[1:].sum()), dtype=params.dtype),
            np.zeros(mbs * int(sizes[1:].sum()), dtype=params.dtype),
            np.empty(params.size if momentum is not None else 0, dtype=params.dtype),
            np.zeros(mbs, dtype=np.uint64), np.empty(mbs, dtype=np.float64),
            params.dtype.type(float(eta) / mbs),
            plan(sizes, mbs, small, whole_update, params.itemsize),
            plan(sizes, max(n % mbs, 1), small, whole_update, params.itemsize),
            np.zeros(3, dtype=np.int64))
    counters = work[-1]
    failures = []

    def helper():
        try:
            _work(*work)
        except BaseException as error:  # never leave the other thread waiting on a lost piece
            counters[FAILED] = 1
            failures.append(error)

    helpers = [threading.Thread(target=helper, name=f"fastnn-epoch-{k}", daemon=True)
               for k in range(1, int(threads))]
    for thread in helpers:
        thread.start()
    try:
        _work(*work)
    except BaseException:
        counters[FAILED] = 1
        raise
    finally:
        for thread in helpers:
            thread.join()
    if failures:
        raise failures[0]
    return bool(counters[FAILED] == 0 and np.isfinite(params).all())
