"""The SGD update of one mini-batch (phase 2 of ``sgd.train_epoch``).

With g = Σ_x ∂C_x/∂w summed over the mini-batch (BP3, BP4), m its size and n
the training-set size, plain SGD does

    L2:  w ← (1 − ηλ/n) w − (η/m) g            L1:  w ← w − (ηλ/n) sgn(w) − (η/m) g

and momentum-based SGD (μ > 0) keeps a velocity per parameter,

    v ← μ v − η ∇C,   w ← w + v,   with ∇C = (λ/n) w (or (λ/n) sgn w) + g/m.

Biases are never regularised.  Every sum over the mini-batch runs in sample
order, and weight rows are independent, so any split of the rows into chunks
gives the same bits.
"""
import numpy as np

from ._jit import jit
from .forward import U
from .simd import ROW_VECTORS, row_update1, row_update2

L2 = 0
L1 = 1
PENALTIES = {"l2": L2, "l1": L1}


@jit()
def _rows_of_layer(n_in, row_start, r0, r1):
    """Layer rows [i0, i1) among the global rows r0..r1 − 1, the layer's first being row_start."""
    return max(r0 - row_start, 0), min(r1 - row_start, n_in)


@jit()
def _regularise(params, k0, k1, penalty, decay, shrink):
    """The weight-decay half of plain SGD on params[k0:k1]."""
    if penalty == L2:
        if decay != 1.0:
            for k in range(k0, k1):
                params[k] *= decay
    elif shrink != 0.0:
        for k in range(k0, k1):
            w = params[k]
            if w > 0.0:
                params[k] = w - shrink
            elif w < 0.0:
                params[k] = w + shrink


@jit()
def _samples_with_input(acts, m, a, pair, samples):
    """List in ``samples`` the s < m with a_s,a ≠ 0 (or a_s,a+1 ≠ 0 if ``pair``); how many.

    Branch-free: whether a pixel is 0 is data, not a pattern a predictor learns.
    """
    k = 0
    if pair:
        for s in range(m):
            samples[k] = s
            k += (acts[s, a] != 0.0) | (acts[s, a + 1] != 0.0)
    else:
        for s in range(m):
            samples[k] = s
            k += acts[s, a] != 0.0
    return k


@jit()
def update_rows(params, layout, acts, deltas, m, scale, penalty, decay, shrink, r0, r1, samples):
    """Plain SGD on weight rows r0..r1 − 1, counted across all layers in order.

    w_ij ← decay · w_ij − Σ_s (scale · a_si) δ_sj (L2), or w_ij − shrink · sgn(w_ij)
    − Σ … (L1), the samples in mini-batch order.  Two rows at a time are loaded
    once per mini-batch and kept in registers while the samples with an input
    ≠ 0 for them update them (``simd.row_update2``); rows whose input is 0 for
    every sample only decay.  ``samples`` is scratch for m sample indices.
    """
    sizes, w_off, b_off, a_off = layout
    width = ROW_VECTORS * (32 // params.itemsize)
    ld = acts.shape[1]
    row_start = 0
    for l in range(sizes.shape[0] - 1):
        n_in = sizes[l]
        n_out = sizes[l + 1]
        i0, i1 = _rows_of_layer(n_in, row_start, r0, r1)
        row_start += n_in
        if i0 >= i1:
            continue
        w0 = w_off[l]
        if penalty == L2:
            keep = decay
        else:
            _regularise(params, w0 + i0 * n_out, w0 + i1 * n_out, penalty, decay, shrink)
            keep = 1.0
        for i in range(i0, i1, 2):
            pair = i + 1 < i1
            k = _samples_with_input(acts, m, a_off[l] + i, pair, samples)
            if k == 0 and keep == 1.0:
                continue
            for jb in range(0, n_out, width):
                row = w0 + i * n_out + jb
                cols = min(width, n_out - jb)
                d0 = a_off[l + 1] + jb
                if pair:
                    row_update2(params, row, n_out, keep, cols, deltas, d0, ld, acts,
                                a_off[l] + i, ld, scale, samples, k)
                else:
                    row_update1(params, row, n_out, keep, cols, deltas, d0, ld, acts,
                                a_off[l] + i, ld, scale, samples, k)


@jit()
def update_rows_momentum(params, velocity, layout, acts, deltas, m, scale, penalty, eta_reg,
                         momentum, r0, r1, g):
    """Momentum SGD on weight rows r0..r1 − 1: v ← μv − η∇C, w ← w + v.

    ``eta_reg`` is ηλ/n, ``scale`` is η/m, ``g`` scratch for one row's Σ a δ.
    Every weight moves every step (its velocity decays), so the rows are
    visited densely.
    """
    sizes, w_off, b_off, a_off = layout
    row_start = 0
    for l in range(sizes.shape[0] - 1):
        n_in = sizes[l]
        n_out = sizes[l + 1]
        i0, i1 = _rows_of_layer(n_in, row_start, r0, r1)
        row_start += n_in
        if i0 >= i1:
            continue
        a0 = U(a_off[l])
        d0 = U(a_off[l + 1])
        nu = U(n_out)
        for i in range(U(i0), U(i1)):
            for j in range(nu):
                g[j] = 0.0
            for s in range(m):
                c = acts[s, a0 + i]
                if c != 0.0:
                    for j in range(nu):
                        g[j] += c * deltas[s, d0 + j]
            row = U(w_off[l]) + i * nu
            for j in range(nu):
                w = params[row + j]
                if penalty == L2:
                    reg = w
                else:
                    reg = np.sign(w)
                v = momentum * velocity[row + j] - eta_reg * reg - scale * g[j]
                velocity[row + j] = v
                params[row + j] = w + v


@jit()
def update_biases(params, velocity, layout, deltas, m, scale, momentum):
    """b_j ← b_j − scale · Σ_s δ_sj (through the velocity if μ > 0); no decay."""
    sizes, w_off, b_off, a_off = layout
    for l in range(sizes.shape[0] - 1):
        n_out = sizes[l + 1]
        d0 = a_off[l + 1]
        for j in range(n_out):
            total = 0.0
            for s in range(m):
                total += deltas[s, d0 + j]
            k = b_off[l] + j
            if momentum != 0.0:
                v = momentum * velocity[k] - scale * total
                velocity[k] = v
                params[k] += v
            else:
                params[k] -= scale * total
