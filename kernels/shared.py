"""The epoch on several threads, entered once per epoch.

Threads once shared an epoch through a numba parallel region for each large
product, two per mini-batch, and under numba's TBB layer a region's worker
woke late each time, so the second core took few blocks (bench/ANALYSIS.md
item 4).  Here the caller's thread and ``threads − 1`` helpers (plain Python
threads, each running the compiled ``_work`` without the GIL; one numba
region for the whole epoch compiled ~4.5 s more) take the epoch's work in
numbered pieces ("tickets", ``atomic.fetch_add``), in the order of
``schedule``: per mini-batch the gather (in blocks of samples), each
layer's forward product and σ (in ``split``'s blocks of samples, or whole),
the output pass, BP2 from the last layer down, and every layer's update (in
``split``'s blocks of w's rows, or whole).  A piece starts once the steps it
reads are done (``_ready``, counts of done pieces per step): the updates,
which write different layers, wait only for BP2, so a small layer's whole
update runs beside the large layer's blocks; the next mini-batch's gather,
into the other of two x buffers, comes right after the output pass and
needs only the one before this to be done, so one thread gathers while
the other runs the small layers' serial steps.  A piece waits only for
pieces of lower tickets, all taken by running threads: nothing waits on a
piece nobody holds, and a thread alone — a helper that starts late finds
nothing left — simply takes every piece in turn.  Every piece is the same
arithmetic as in ``sgd._epoch`` on one thread — the same GEMM per block, σ
element by element — so the model is bitwise the same for any thread count.

On CSR input the first layer is ``sparse``'s, in one piece each way (its
forward sum and its update), and threads share the products of the layers
after it.
"""
import threading

import numpy as np

from . import atomic
from ._jit import jit
from .activations import IDENTITY
from .dropout import sample_key
from .dtype import as_dtype_of
from .forward import activate_rows, block, first_unit, weighted_inputs
from .forward import weights as weights_of
from .readonly import read_only
from .sparse import densify_rows, fold, update_first
from .sparse import weighted_inputs as sparse_weighted_inputs
from .split import N_BLOCKS, SPLIT_MIN_BATCH, bounds, n_blocks, n_row_blocks, product_block, shared
from .split import update_block
from .steps import ROWS_AHEAD, backpropagate, gather, outputs_and_deltas, prefetch_rows
from .steps import update_layer
from .update import regularise, update_biases

# Counters shared by the threads: the next ticket, a failure flag, the gather
# pieces done for even and for odd mini-batches (``GATHERED`` + b % 2), then
# per step (``DONE`` + step) its pieces done so far over all mini-batches.
# The gathers count apart: b + 1's may finish before b's.
NEXT, FAILED, GATHERED, DONE = 0, 1, 2, 4
# A thread waiting for the pieces before its own spins this many times (tens
# of µs: a piece of a small step), then yields its core at every look.
SPINS = 1000


@jit()
def plan(sizes, m, small, whole_update, itemsize, sparse_first):
    """Pieces per step for a mini-batch of m samples: the gather, the forward
    pass of each layer, the output pass, BP2 for l = L−1 … 1, then the update
    of each layer l = L−1 … 0.  A product runs in blocks only where threads
    would share it in ``sgd._epoch`` (``split.shared``); ``whole_update`` ≠ 0
    (momentum) keeps every update whole, and ``sparse_first`` ≠ 0 (CSR
    input) the first layer (``sparse``'s, one piece each way)."""
    n_layers = sizes.shape[0] - 1
    steps = np.ones(3 * n_layers + 1, dtype=np.int64)
    steps[0] = N_BLOCKS if m >= SPLIT_MIN_BATCH else 1
    for l in range(sparse_first, n_layers):
        if shared(m, sizes[l], sizes[l + 1], itemsize):
            steps[1 + l] = n_blocks(m, sizes[l], sizes[l + 1], small)
    for r in range(n_layers - sparse_first):
        l = n_layers - 1 - r
        if whole_update == 0 and shared(m, sizes[l], sizes[l + 1], itemsize):
            steps[2 * n_layers + 1 + r] = n_row_blocks(m, sizes[l], sizes[l + 1], small)
    return steps


@jit()
def schedule(steps, steps_last, n_full, n_batches):
    """The epoch's pieces in the order threads take them, as (mini-batch,
    step, piece) per ticket.

    Mini-batch b's steps in order, except that the gather of b + 1 comes
    right after b's output pass: it needs only b − 1 to be done (the gather
    writes the other of two x buffers), so the thread that is not running
    the small layers' serial steps — the output pass, BP2 — gathers the next
    mini-batch meanwhile.
    """
    n_steps = steps.shape[0]
    n_layers = (n_steps - 1) // 3
    total = n_full * steps.sum() + (n_batches - n_full) * steps_last.sum()
    batch_of = np.empty(total, dtype=np.int64)
    step_of = np.empty(total, dtype=np.int64)
    piece_of = np.empty(total, dtype=np.int64)
    t = 0
    for b in range(-1, n_batches):
        for position in range(n_steps):
            # Steps 1 … L + 1 (forward, output pass), the next gather, then
            # BP2 and the updates; before mini-batch 0, only its gather.
            if position <= n_layers:
                step, batch = position + 1, b
            elif position == n_layers + 1:
                step, batch = 0, b + 1
            else:
                step, batch = position, b
            if batch < 0 or batch >= n_batches or (b < 0 and step != 0):
                continue
            pieces = steps[step] if batch < n_full else steps_last[step]
            for k in range(pieces):
                batch_of[t], step_of[t], piece_of[t] = batch, step, k
                t += 1
    return batch_of, step_of, piece_of


@jit(from_python=False)
def _through(b, step, steps, steps_last, n_full):
    """Pieces of ``step`` done once mini-batches 0 … b have done it; for the
    gather (step 0), of mini-batches 0 … b of b's parity."""
    if step == 0:
        p = b % 2
        if b < n_full:
            return (b // 2 + 1) * steps[0]
        return (n_full - p + 1) // 2 * steps[0] + steps_last[0]
    if b < n_full:
        return (b + 1) * steps[step]
    return n_full * steps[step] + steps_last[step]


@jit(from_python=False)
def _counter(b, step):
    """The index in ``counters`` of step's pieces done (``GATHERED``, ``DONE``)."""
    return GATHERED + b % 2 if step == 0 else DONE + step


@jit(from_python=False)
def _done(counters, b, step, steps, steps_last, n_full):
    """Whether every piece of ``step`` of mini-batch b is done."""
    return atomic.load(counters, _counter(b, step)) >= _through(b, step, steps, steps_last,
                                                                n_full)


@jit(from_python=False)
def _ready(counters, b, step, steps, steps_last, n_full):
    """Whether a piece of ``step`` of mini-batch b may start: the gather once
    mini-batch b − 2 is done (its x buffer free), the first layer's forward
    once b's gather and all of b − 1 are, the updates once BP2 (or, with one
    layer, the output pass) is, every other step once the one before it is.
    A mini-batch is done when its updates, its last steps, are."""
    n_steps = steps.shape[0]
    first_update = 2 * (n_steps - 1) // 3 + 1
    if step == 0 or step == 1:
        # step − 1, the gather: a constant 0 would compile a Literal[int] variant.
        if step == 1 and not _done(counters, b, step - 1, steps, steps_last, n_full):
            return False
        before = b - 2 if step == 0 else b - 1
        if before >= 0:
            for u in range(first_update, n_steps):
                if not _done(counters, before, u, steps, steps_last, n_full):
                    return False
        return True
    return _done(counters, b, first_update - 1 if step >= first_update else step - 1, steps,
                 steps_last, n_full)


@jit(from_python=False)
def _gather_piece(X, csr, rows, Y, order, outputs, costs, key, dropout, keys, x_buf, start, m,
                  mbs, k, pieces):
    """Rows s0 … s1 − 1 of the mini-batch's x (``steps.gather`` or, from a
    ``DenseRows`` matrix, ``sparse.densify_rows``; a CSR matrix's first layer
    reads its rows in place) and their dropout keys; piece 0 also hints the
    mini-batch's rows of Y and the monitors, which its output pass reads
    (the gather runs during the mini-batch before)."""
    s0, s1 = bounds(k, pieces, m)
    batch = order[start:start + m]
    if k == 0:
        if X is not None:
            prefetch_rows(None, Y, outputs, costs, order, start, mbs)
        if csr is not None:
            prefetch_rows(csr, Y, outputs, costs, order, start, mbs)
        if rows is not None:
            prefetch_rows(rows, Y, outputs, costs, order, start, mbs)
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
def _forward_piece(csr, batch, c, params, layout, l, hidden, others, dropout, keys, x_buf, acts,
                   m, mbs, k, pieces, small):
    """Layer l's z = a w + b and a = σ(z) (z^L left as it is) for piece k of
    ``pieces`` blocks of samples: the whole layer as ``forward.weighted_inputs``
    computes it on one thread, or one of ``split.n_blocks``'s blocks.  On CSR
    input the first layer is ``sparse``'s, c W, whole."""
    sizes, w_off, b_off, a_off = layout
    last = l == sizes.shape[0] - 2
    code = IDENTITY if last else hidden
    z = block(acts, layout, l + 1, m, mbs)
    if csr is not None:
        if l == 0:
            sparse_weighted_inputs(csr, batch, params, w_off[0], b_off[0], c, z)
            activate_rows(z, code, others, dropout, keys, first_unit(sizes, l + 1), not last)
            return
    if l == 0:
        a_prev = read_only(x_buf[:m])
    else:
        a_prev = read_only(block(acts, layout, l, m, mbs))
    if pieces == 1:
        weighted_inputs(a_prev, params, layout, l, z, small)
        activate_rows(z, code, others, dropout, keys, first_unit(sizes, l + 1), not last)
    else:
        s0, s1 = bounds(k, pieces, m)
        for s in range(s0, s1):
            for j in range(z.shape[1]):
                z[s, j] = params[b_off[l] + j]
        product_block(a_prev, weights_of(params, layout, l), z, k, pieces)
        activate_rows(z[s0:s1], code, others, dropout, keys[s0:s1], first_unit(sizes, l + 1),
                      not last)


@jit(from_python=False)
def _update_piece(csr, batch, c_state, params, velocity, layout, l, hidden, others, penalty,
                  eta_reg, keep, l1_shrink, momentum, dropout, keys, scale, grad, x_buf, acts,
                  deltas, m, mbs, k, pieces, small, backward):
    """BP2 down to layer l (``backward``), or the update of layer l's weights
    and biases: whole (``steps.update_layer`` on one thread) or block k of
    ``split.n_row_blocks``'s blocks of w's rows, the biases with block 0.  On
    CSR input the first layer's is ``sparse.update_first``'s, whole, and
    moves w¹'s scale c (``c_state``)."""
    d = block(deltas, layout, l + 1, m, mbs)
    if csr is not None:
        if l == 0 and not backward:
            c_state[0] = update_first(csr, batch, d, params, velocity, layout, c_state[0], keep,
                                      scale, l1_shrink, momentum, penalty, eta_reg,
                                      grad[layout[1][0]:])
            update_biases(params, velocity, layout, l, d, scale, momentum)
            return
    if backward:
        # BP2 with w^(l+1) as it was: before its update, the next step.
        backpropagate(params, layout, l, d, block(deltas, layout, l, m, mbs),
                      block(acts, layout, l, m, mbs), hidden, others, dropout, keys)
        return
    if l == 0:
        a_prev = x_buf[:m]
    else:
        a_prev = block(acts, layout, l, m, mbs)
    if pieces == 1:
        # Each layer's gradient in its own part of ``grad`` (momentum): the
        # updates of different layers run at once.
        update_layer(params, velocity, layout, l, a_prev, d, keep, l1_shrink, scale, momentum,
                     penalty, eta_reg, grad[layout[1][l]:], small)
    else:
        w = weights_of(params, layout, l)
        if l1_shrink is not None:
            i0, i1 = bounds(k, pieces, w.shape[0])
            regularise(w[i0:i1].reshape((i1 - i0) * w.shape[1]), l1_shrink)
        update_block(a_prev, d, w, keep, scale, k, pieces)
        if k == 0:
            update_biases(params, velocity, layout, l, d, scale, momentum)


@jit()
def _work(X, csr, rows, Y, sample_weight, order, params, velocity, layout, hidden, out_act, cost,
          others, penalty, eta, eta_reg, keep, l1_shrink, momentum, dropout, key, mbs, outputs,
          costs, small, x_bufs, acts, deltas, grad, keys_bufs, c_batch, scale_full, steps,
          steps_last, batch_of, step_of, piece_of, counters, c_state):
    """One thread's share of the epoch: tickets in order until none is left."""
    n_layers = layout[0].shape[0] - 1
    first_update = 2 * n_layers + 1
    n = order.shape[0]
    n_full = n // mbs
    while True:
        ticket = atomic.fetch_add(counters, NEXT, 1)
        if ticket >= batch_of.shape[0]:
            return
        b, step, k = batch_of[ticket], step_of[ticket], piece_of[ticket]
        spins = 0
        # A failure anywhere makes every piece left a no-op: nothing to wait for.
        while (not _ready(counters, b, step, steps, steps_last, n_full)
               and atomic.load(counters, FAILED) == 0):
            if spins < SPINS:
                atomic.pause()
                spins += 1
            else:
                atomic.yield_thread()
        if atomic.load(counters, FAILED) == 0:
            start = b * mbs
            m = min(mbs, n - start)
            pieces = steps[step] if b < n_full else steps_last[step]
            # Mini-batches alternate between two x buffers (and dropout keys).
            x_buf, keys = x_bufs[b % 2], keys_bufs[b % 2]
            batch = order[start:start + m]
            if step == 0:
                _gather_piece(X, csr, rows, Y, order, outputs, costs, key, dropout, keys, x_buf,
                              start, m, mbs, k, pieces)
            elif step <= n_layers:
                _forward_piece(csr, batch, c_state[0], params, layout, step - 1, hidden, others,
                               dropout, keys, x_buf, acts, m, mbs, k, pieces, small)
            elif step == n_layers + 1:
                if not outputs_and_deltas(block(acts, layout, n_layers, m, mbs), Y,
                                          sample_weight, batch, cost, out_act, others,
                                          block(deltas, layout, n_layers, m, mbs), outputs,
                                          costs, c_batch[:m]):
                    atomic.fetch_add(counters, FAILED, 1)
            else:
                # BP2 from the last layer down to layer 1, then the updates.
                backward = step < first_update
                l = first_update - step if backward else 3 * n_layers - step
                scale = scale_full if m == mbs else as_dtype_of(eta / m, params)
                _update_piece(csr, batch, c_state, params, velocity, layout, l, hidden, others,
                              penalty, eta_reg, keep, l1_shrink, momentum, dropout, keys, scale,
                              grad, x_buf, acts, deltas, m, mbs, k, pieces, small, backward)
        atomic.fetch_add(counters, _counter(b, step), 1)


def epoch(X, csr, rows, Y, sample_weight, order, params, velocity, layout, hidden, out_act, cost,
          others, penalty, eta, eta_reg, keep, l1_shrink, momentum, dropout, key, mbs, outputs,
          costs, threads, small):
    """``sgd._epoch`` on ``threads`` threads: the caller's and ``threads − 1``
    helpers, each running ``_work`` (compiled, without the GIL) until the
    epoch's pieces are gone.  False if a δ^L or a weight is not finite.

    Plain Python threads, not a numba parallel region: the region's
    machinery compiled ~4.5 s more, and needs no threading layer this way.
    """
    sizes = layout[0]
    n = order.shape[0]
    whole_update = np.int64(momentum is not None)
    sparse_first = np.int64(csr is not None)
    steps = plan(sizes, mbs, small, whole_update, params.itemsize, sparse_first)
    steps_last = plan(sizes, max(n % mbs, 1), small, whole_update, params.itemsize, sparse_first)
    n_full = n // mbs
    # CSR input is read in place: no x buffers.
    n_x = 0 if csr is not None else int(sizes[0])
    # w¹'s scale c (``sparse``), 1 at the epoch's start and folded back at its end.
    c_state = np.ones(1, dtype=np.float64)
    work = (X, csr, rows, Y, sample_weight, order, params, velocity, layout, hidden, out_act, cost,
            others, penalty, eta, eta_reg, keep, l1_shrink, momentum, dropout, key, mbs, outputs,
            costs, small, np.empty((2, mbs, n_x), dtype=params.dtype),
            np.zeros(mbs * int(sizes[1:].sum()), dtype=params.dtype),
            np.zeros(mbs * int(sizes[1:].sum()), dtype=params.dtype),
            np.empty(params.size if momentum is not None else 0, dtype=params.dtype),
            np.zeros((2, mbs), dtype=np.uint64), np.empty(mbs, dtype=np.float64),
            params.dtype.type(float(eta) / mbs), steps, steps_last,
            *schedule(steps, steps_last, n_full, n_full + int(n_full * mbs < n)),
            np.zeros(DONE + steps.shape[0], dtype=np.int64), c_state)
    counters = work[-2]
    failures = []

    def helper():
        try:
            _work(*work)
        except BaseException as error:  # never leave the other thread waiting on a lost piece
            counters[FAILED] = 1
            failures.append(error)

    started = []
    try:
        for k in range(1, int(threads)):
            thread = threading.Thread(target=helper, name=f"fastnn-epoch-{k}", daemon=True)
            thread.start()
            started.append(thread)
        _work(*work)
    except BaseException:
        # Helpers already running stop at their next piece; none outlives the epoch.
        counters[FAILED] = 1
        raise
    finally:
        for thread in started:
            thread.join()
    if failures:
        raise failures[0]
    if csr is not None:
        _fold_back(params, layout, c_state)
    return bool(counters[FAILED] == 0 and np.isfinite(params).all())


@jit()
def _fold_back(params, layout, c_state):
    """w¹ ← c W at the epoch's end, as ``sgd._epoch`` leaves it (``sparse.fold``)."""
    fold(params, layout[1][0], layout[2][0], c_state[0])
