"""The SGD update of one mini-batch, beyond plain SGD's single GEMM (``sgd``).

With g = Σ_x ∂C_x/∂w summed over the mini-batch (BP3, BP4), m its size and n
the training-set size, plain SGD does

    L2:  w ← (1 − ηλ/n) w − (η/m) g            L1:  w ← w − (ηλ/n) sgn(w) − (η/m) g

and momentum-based SGD (μ > 0) keeps a velocity per parameter,

    v ← μ v − η ∇C,   w ← w + v,   with ∇C = (λ/n) w (or (λ/n) sgn w) + g/m.

Biases are never regularised.
"""
import numpy as np

from ._jit import jit

L2 = 0
L1 = 1
PENALTIES = {"l2": L2, "l1": L1}


@jit(from_python=False)
def regularise(w, shrink):
    """L1's half of plain SGD, w ← w − shrink · sgn(w) (shrink = ηλ/n); L2 decays in the GEMM."""
    if shrink != 0.0:
        for k in range(w.shape[0]):
            v = w[k]
            if v > 0.0:
                w[k] = v - shrink
            elif v < 0.0:
                w[k] = v + shrink


@jit(from_python=False)
def update_momentum(params, velocity, layout, l, g, penalty, eta_reg, scale, momentum):
    """Momentum SGD on w^(l+1): v ← μv − (ηλ/n) reg(w) − scale · g, w ← w + v.

    ``g`` is the (fan_in, fan_out) gradient Σ aᵀδ, ``eta_reg`` ηλ/n, ``scale``
    η/m; reg(w) is w for L2 and sgn(w) for L1.
    """
    sizes, w_off, b_off, a_off = layout
    w0 = w_off[l]
    flat = g.reshape(g.size)
    for k in range(flat.shape[0]):
        w = params[w0 + k]
        reg = w if penalty == L2 else np.sign(w)
        v = momentum * velocity[w0 + k] - eta_reg * reg - scale * flat[k]
        velocity[w0 + k] = v
        params[w0 + k] = w + v


@jit(from_python=False)
def update_biases(params, velocity, layout, l, d, scale, momentum):
    """b_j ← b_j − scale · Σ_s δ_sj (through the velocity if μ is not None); no decay."""
    sizes, w_off, b_off, a_off = layout
    b0 = b_off[l]
    for j in range(d.shape[1]):
        total = 0.0
        for s in range(d.shape[0]):
            total += d[s, j]
        k = b0 + j
        if momentum is not None:
            v = momentum * velocity[k] - scale * total
            velocity[k] = v
            params[k] += v
        else:
            params[k] -= scale * total
