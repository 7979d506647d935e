"""One pass over a layer's weights per mini-batch: the last step and the next forward pass.

Mini-batch k's SGD step on w^l (BP4 summed over k, the L2 decay) and
mini-batch k + 1's forward pass through w^l, z^l = w^l a^(l−1) + b^l, both walk
the rows of w^l.  ``sweep_layer`` does them in the same walk: two rows i, i + 1
are loaded into registers, decayed, updated by k's samples, stored, and, while
still in registers, multiply k + 1's inputs a_si, a_s,i+1 into z_s
(``simd.row_sweep2``).  Each row is read and written once per mini-batch, and
each sample touches only the rows where its own input is nonzero.

Nothing is reordered for any single number: every weight sees the decay and
then k's samples in mini-batch order, every z_sj is b_j plus the products
fused in input order — the same operations as updating all of w first and then
running the forward pass.  On several threads the two halves are split apart,
the step by rows of w, the forward pass by samples: again no number sees
other operations, so the thread count cannot change a bit.
"""
import numpy as np
from numba import prange

from ._jit import jit
from .activations import activate
from .dropout import drop_out
from .forward import PAD, U, first_unit
from .simd import (ROW_VECTORS, prefetch, row_forward1, row_forward2, row_step1, row_step2,
                   row_sweep1, row_sweep2)


@jit()
def mark_samples(src, rows, m, a0, n_in, masks, p0):
    """Which samples have an input ≠ 0 in each pair of inputs (a0 + 2p, a0 + 2p + 1).

    Sample s's inputs are ``src.flat[rows[s] + a0:][:n_in]``; it is bit s mod 64
    of ``masks[s // 64, p0 + p]``.  Marked once per mini-batch and layer: the
    forward sweep uses the bits, and the next mini-batch's sweep again for the
    step.  Branch-free, and each sample's inputs are read in order (the loop
    over pairs vectorises).
    """
    flat = src.reshape(src.size)
    n_pairs = (n_in + 1) // 2
    whole = n_in // 2
    for w in range(masks.shape[0]):
        for p in range(n_pairs):
            masks[w, p0 + p] = 0
    for s in range(m):
        word = masks[s >> 6]
        bit = U(1) << U(s & 63)
        base = rows[s] + a0
        for p in range(whole):
            nonzero = (flat[base + 2 * p] != 0.0) | (flat[base + 2 * p + 1] != 0.0)
            word[p0 + p] |= U(nonzero) * bit
        if whole < n_pairs:
            word[p0 + whole] |= U(flat[base + n_in - 1] != 0.0) * bit


@jit()
def _any_marked(masks, p):
    for w in range(masks.shape[0]):
        if masks[w, p] != 0:
            return True
    return False


@jit(inline="always")
def _prefetch_share(src, rows_next, m_next, n_in, q, n_q):
    """Prefetch share q of n_q of the m_next rows ``src.flat[rows_next[s]:][:n_in]``."""
    per_line = 64 // src.itemsize
    lines_per_row = (n_in + per_line - 1) // per_line
    n_lines = m_next * lines_per_row
    for line in range(q * n_lines // n_q, (q + 1) * n_lines // n_q):
        s = line // lines_per_row
        prefetch(src, rows_next[s] + (line - s * lines_per_row) * per_line)


@jit()
def sweep_layer(params, w0, n_in, n_out, keep, scale, src_old, rows_old, a0, deltas_old, d0,
                marks_old, m_old, src_new, rows_new, acts_new, z0, marks_new, m_new, p0,
                rows_next, m_next):
    """w^l (at params[w0:], shape (n_in, n_out)): the last step, then the next forward pass.

    Step: w_ij ← keep · w_ij − Σ_s (scale · a_si) δ_sj over the last mini-batch's
    samples (keep = 1 − ηλ/n for L2), with a_s = ``src_old.flat[rows_old[s] + a0:]``
    and δ_s = ``deltas_old[s, d0:]``.  Forward: z_sj += Σ_i a_si w_ij for the
    next mini-batch's samples, a_s from ``src_new``/``rows_new`` likewise and
    z_s = ``acts_new[s, z0:]``, which must already hold b.  Layer 1 reads its
    inputs straight from X (rows = the mini-batch's rows of X); later layers
    from the activation rows.  ``marks_*`` from pair p0 are ``mark_samples``'.
    m_old = 0 skips the step (keep must then be 1), m_new = 0 the forward pass.
    Along the way it prefetches the m_next rows ``src_new.flat[rows_next[s]:][:n_in]``,
    a few cache lines per pair of rows: the following mini-batch is at random
    rows of X, and memory latency would otherwise stall ``mark_samples`` on it.
    The numbers after z_s up to a whole vector (``simd.row_sweep2``) are the
    layer's padding (``forward.make_layout``): they only ever get 0 added.
    """
    width = ROW_VECTORS * (32 // params.itemsize)
    ld_d = deltas_old.shape[1]
    ld_z = acts_new.shape[1]
    n_pairs = marks_old.shape[1]
    words_old = (m_old + 63) // 64
    words_new = (m_new + 63) // 64
    n_q = (n_in + 1) // 2
    for q in range(n_q):
        _prefetch_share(src_new, rows_next, m_next, n_in, q, n_q)
        i = 2 * q
        at = p0 + q
        if keep == 1.0 and (m_old == 0 or not _any_marked(marks_old, at)):
            _forward_rows(params, w0, n_in, n_out, src_new, rows_new, a0, acts_new, z0, marks_new,
                          m_new, at, i)
            continue
        for jb in range(0, n_out, width):
            cols = min(width, n_out - jb)
            if i + 1 < n_in:
                row_sweep2(params, w0 + i * n_out + jb, n_out, keep, cols, deltas_old, d0 + jb,
                           ld_d, src_old, a0 + i, rows_old, scale, marks_old, at, n_pairs,
                           words_old, acts_new, z0 + jb, ld_z, src_new, a0 + i, rows_new,
                           marks_new, at, n_pairs, words_new)
            else:
                row_sweep1(params, w0 + i * n_out + jb, n_out, keep, cols, deltas_old, d0 + jb,
                           ld_d, src_old, a0 + i, rows_old, scale, marks_old, at, n_pairs,
                           words_old, acts_new, z0 + jb, ld_z, src_new, a0 + i, rows_new,
                           marks_new, at, n_pairs, words_new)


@jit(inline="always")
def _forward_rows(params, w0, n_in, n_out, src, rows, a0, acts, z0, marks, m, at, i):
    """The forward half for rows i (and i + 1) of w, pair ``at`` of ``marks``: w is only read."""
    if m == 0 or not _any_marked(marks, at):
        return
    width = ROW_VECTORS * (32 // params.itemsize)
    ld_z = acts.shape[1]
    n_pairs = marks.shape[1]
    words = (m + 63) // 64
    for jb in range(0, n_out, width):
        cols = min(width, n_out - jb)
        if i + 1 < n_in:
            row_forward2(params, w0 + i * n_out + jb, n_out, params[0], cols, acts, z0 + jb, ld_z,
                         src, a0 + i, rows, params[0], marks, at, n_pairs, 0, acts, z0 + jb, ld_z,
                         src, a0 + i, rows, marks, at, n_pairs, words)
        else:
            row_forward1(params, w0 + i * n_out + jb, n_out, params[0], cols, acts, z0 + jb, ld_z,
                         src, a0 + i, rows, params[0], marks, at, n_pairs, 0, acts, z0 + jb, ld_z,
                         src, a0 + i, rows, marks, at, n_pairs, words)


@jit()
def forward_pairs(params, w0, n_in, n_out, src, rows, a0, acts, z0, marks, m, p0, q0, q1,
                  rows_next, m_next):
    """``sweep_layer``'s forward pass alone, for row pairs q0..q1 − 1: w is only read."""
    for q in range(q0, q1):
        _prefetch_share(src, rows_next, m_next, n_in, q - q0, q1 - q0)
        _forward_rows(params, w0, n_in, n_out, src, rows, a0, acts, z0, marks, m, p0 + q, 2 * q)


@jit()
def step_pairs(params, w0, n_in, n_out, keep, scale, src, rows, a0, deltas, d0, marks, m, p0,
               q0, q1):
    """``sweep_layer``'s step alone, for row pairs q0..q1 − 1."""
    width = ROW_VECTORS * (32 // params.itemsize)
    ld_d = deltas.shape[1]
    n_pairs = marks.shape[1]
    words = (m + 63) // 64
    for q in range(q0, q1):
        i = 2 * q
        at = p0 + q
        if keep == 1.0 and not _any_marked(marks, at):
            continue
        for jb in range(0, n_out, width):
            cols = min(width, n_out - jb)
            if i + 1 < n_in:
                row_step2(params, w0 + i * n_out + jb, n_out, keep, cols, deltas, d0 + jb, ld_d,
                          src, a0 + i, rows, scale, marks, at, n_pairs, words, deltas, d0, ld_d,
                          src, a0 + i, rows, marks, at, n_pairs, 0)
            else:
                row_step1(params, w0 + i * n_out + jb, n_out, keep, cols, deltas, d0 + jb, ld_d,
                          src, a0 + i, rows, scale, marks, at, n_pairs, words, deltas, d0, ld_d,
                          src, a0 + i, rows, marks, at, n_pairs, 0)


@jit()
def _samples_between(marks, p0, n_q, s0, s1, out):
    """out ← marks with only the bits of samples s0..s1 − 1, for the layer's n_q pairs."""
    for w in range(marks.shape[0]):
        lo = min(max(s0 - 64 * w, 0), 64)
        hi = min(max(s1 - 64 * w, 0), 64)
        below_hi = ~U(0) if hi == 64 else (U(1) << U(hi)) - U(1)
        below_lo = ~U(0) if lo == 64 else (U(1) << U(lo)) - U(1)
        keep = below_hi & ~below_lo
        for q in range(n_q):
            out[w, p0 + q] = marks[w, p0 + q] & keep


@jit(parallel=True)
def step_layer_parallel(params, w0, n_in, n_out, keep, scale, src_old, rows_old, a0, deltas_old,
                        d0, marks_old, m_old, p0, n_chunks):
    """``sweep_layer``'s step alone, the rows split between n_chunks threads."""
    n_q = (n_in + 1) // 2
    for c in prange(n_chunks):
        step_pairs(params, w0, n_in, n_out, keep, scale, src_old, rows_old, a0, deltas_old, d0,
                   marks_old, m_old, p0, c * n_q // n_chunks, (c + 1) * n_q // n_chunks)


@jit(parallel=True)
def forward_layer_parallel(params, w0, n_in, n_out, src_new, rows_new, a0, acts_new, z0,
                           marks_new, m_new, p0, n_chunks, chunk_marks, rows_next, m_next):
    """``sweep_layer``'s forward pass alone, the samples split between n_chunks threads.

    Each thread walks all of w for its samples (``chunk_marks[c]``: their bits
    only), writing their z: no two threads write to the same row of w or z.
    """
    n_q = (n_in + 1) // 2
    for c in prange(n_chunks):
        mine = chunk_marks[c]
        _samples_between(marks_new, p0, n_q, c * m_new // n_chunks, (c + 1) * m_new // n_chunks,
                         mine)
        forward_pairs(params, w0, n_in, n_out, src_new, rows_new, a0, acts_new, z0, mine, m_new,
                      p0, 0, n_q, rows_next, m_next if c == 0 else 0)


@jit()
def start_layer(params, b0, n_out, acts, z0, m):
    """z_s ← b for the m samples: the forward sweep adds w a onto it."""
    for s in range(m):
        for j in range(n_out):
            acts[s, z0 + j] = params[b0 + j]


@jit()
def activate_layer(acts, z0, unit0, n_out, m, code, dropout, keys, hidden):
    """a_s = σ(z_s) in place for the m samples, dropped out in hidden layers if p > 0.

    The layer's neurons are units unit0… of the network (``forward.first_unit``).
    """
    for s in range(m):
        z = acts[s, z0:z0 + n_out]
        activate(z, code)
        if hidden and dropout > 0.0:
            drop_out(z, keys[s], U(unit0), dropout)


@jit()
def forward_scratch(layout, m, like):
    """(acts, act_rows, marks) for the forward pass of m samples (``forward_samples``).

    Activation rows are zeroed (numbers past a layer's neurons must stay 0)
    and padded to whole cache lines, so that threads working on different
    samples never write to the same line.
    """
    sizes, w_off, b_off, a_off = layout
    n_layers = sizes.shape[0] - 1
    n_units = a_off[n_layers] + (sizes[n_layers] + PAD - 1) // PAD * PAD
    n_pairs = 0
    for l in range(n_layers):
        n_pairs += (sizes[l] + 1) // 2
    line = 64 // like.itemsize
    ld = (n_units + line - 1) // line * line
    acts = np.zeros((m, ld), dtype=like.dtype)
    marks = np.zeros(((m + 63) // 64, n_pairs), dtype=np.uint64)
    return acts, np.arange(m) * ld, marks


@jit()
def forward_samples(X, rows, m, params, layout, hidden, out_act, dropout, keys, acts, act_rows,
                    marks):
    """The forward pass of m samples: a^l = σ(w^l a^(l−1) + b^l), layer by layer.

    Sample s's inputs are ``X.flat[rows[s]:][:sizes[0]]``; its activations go
    to ``acts[s]`` (``forward_scratch``).  The output layer uses ``out_act``
    (identity leaves z^L), hidden layers ``hidden``, dropped out with the
    samples' ``keys`` if p = ``dropout`` > 0.  Each layer is one sweep over its
    weights that only reads them.
    """
    sizes, w_off, b_off, a_off = layout
    n_layers = sizes.shape[0] - 1
    p0 = 0
    for l in range(n_layers):
        n_out = sizes[l + 1]
        start_layer(params, b_off[l], n_out, acts, a_off[l + 1], m)
        n_q = (sizes[l] + 1) // 2
        if l == 0:
            mark_samples(X, rows, m, 0, sizes[0], marks, p0)
            forward_pairs(params, w_off[l], sizes[l], n_out, X, rows, 0, acts, a_off[l + 1],
                          marks, m, p0, 0, n_q, rows, 0)
        else:
            mark_samples(acts, act_rows, m, a_off[l], sizes[l], marks, p0)
            forward_pairs(params, w_off[l], sizes[l], n_out, acts, act_rows, a_off[l], acts,
                          a_off[l + 1], marks, m, p0, 0, n_q, act_rows, 0)
        last = l == n_layers - 1
        activate_layer(acts, a_off[l + 1], first_unit(sizes, l + 1), n_out, m,
                       out_act if last else hidden, dropout, keys, not last)
        p0 += (sizes[l] + 1) // 2
