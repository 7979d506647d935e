"""The SGD update of one mini-batch (phase 2 of ``sgd.train_epoch``).

With g = Σ_x ∂C_x/∂w summed over the mini-batch (BP3, BP4), m its size and n
the training-set size, plain SGD does

    L2:  w ← (1 − ηλ/n) w − (η/m) g            L1:  w ← w − (ηλ/n) sgn(w) − (η/m) g

and momentum-based SGD (μ > 0) keeps a velocity per parameter,

    v ← μ v − η ∇C,   w ← w + v,   with ∇C = (λ/n) w (or (λ/n) sgn w) + g/m.

Biases are never regularised.  Every sum over the mini-batch runs in sample
order, and weight rows are independent, so any split of the rows into chunks
gives the same bits.  Plain SGD's step on the weights is fused with the next
forward pass (``sweep``); this module has the rest.
"""
import numpy as np

from ._jit import jit
from .forward import U

L2 = 0
L1 = 1
PENALTIES = {"l2": L2, "l1": L1}


@jit()
def regularise(params, k0, k1, penalty, decay, shrink):
    """The weight-decay half of plain SGD on params[k0:k1]: ×decay (L2) or −shrink·sgn (L1)."""
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
def update_rows_momentum(params, velocity, w0, n_out, src, rows, a0, deltas, d0, m, scale,
                         penalty, eta_reg, momentum, i0, i1, g):
    """Momentum SGD on rows i0..i1 − 1 of one layer's w (at params[w0:]): v ← μv − η∇C, w ← w + v.

    Sample s's inputs are ``src.flat[rows[s] + a0:]``, its δ ``deltas[s, d0:]``.
    ``eta_reg`` is ηλ/n, ``scale`` is η/m, ``g`` scratch for one row's Σ a δ.
    Every weight moves every step (its velocity decays), so the rows are
    visited densely.
    """
    flat = src.reshape(src.size)
    nu = U(n_out)
    du = U(d0)
    for i in range(i0, i1):
        for j in range(nu):
            g[j] = 0.0
        for s in range(m):
            c = flat[rows[s] + a0 + i]
            if c != 0.0:
                for j in range(nu):
                    g[j] += c * deltas[s, du + j]
        row = U(w0 + i * n_out)
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
