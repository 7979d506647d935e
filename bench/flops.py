"""How many floating-point operations one epoch is, counted densely.

For layers of sizes n_0, …, n_L, with w^l of shape (n_(l−1), n_l):

* forward, per sample:           Σ_l 2 n_(l−1) n_l         (z = a w + b, a multiply-add per weight)
* backward δ, per sample:        Σ_(l≥2) 2 n_(l−1) n_l     (BP2, (w^l)ᵀ δ^l; layer 1 needs no δ^0)
* weight gradient, per sample:   Σ_l 2 n_(l−1) n_l         (BP4, a^(l−1) δ^l summed over the batch)
* update, per mini-batch:        Σ_l 3 n_(l−1) n_l + 2 n_l (w ← (1 − ηλ/n) w − (η/m) Σ, b ← b − (η/m) Σ)

Activations, σ', the cost's δ^L and biases in the forward pass are left out
(O(Σ n_l) per sample, under 1 % here).  The count is DENSE: on
Fashion-MNIST (50 % zeros) fastnn multiplies densely too, through BLAS, so
its GFLOP/s there is the rate it executes; input with under 30 % non-zeros
trains its first layer on the non-zeros only (``kernels/sparse.py``), and
its rate there is a dense-equivalent one, the work a dense implementation
would have done per second.
"""
import math


def _products(sizes):
    return [a * b for a, b in zip(sizes[:-1], sizes[1:])]


def per_sample(sizes):
    w = _products(sizes)
    return 2 * sum(w) + 2 * sum(w[1:]) + 2 * sum(w)


def per_mini_batch(sizes):
    return 3 * sum(_products(sizes)) + 2 * sum(sizes[1:])


def epoch(sizes, n, mini_batch_size):
    """Dense FLOPs of one epoch over n samples in mini-batches of ``mini_batch_size``."""
    return n * per_sample(sizes) + math.ceil(n / mini_batch_size) * per_mini_batch(sizes)


def forward(sizes, n):
    """Dense FLOPs of predicting n samples (the forward pass only)."""
    return n * 2 * sum(_products(sizes))
