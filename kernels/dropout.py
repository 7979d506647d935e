"""Inverted dropout with masks from a counter-based random number generator.

Neuron j of sample x is kept in epoch t with probability 1 − p, decided by a
hash of (seed, t, x's row in X, j) alone: no generator state is carried from
one sample to the next, so every thread count, chunking and mini-batch order
draws exactly the same masks.  Kept activations are scaled by 1/(1 − p) during
training, so the full network is used unchanged at prediction time.

The hash is SplitMix64's finaliser (Steele, Lea & Flood 2014), a bijection on
64-bit integers whose output bits pass BigCrush; ``fastnn.reference`` has a
NumPy twin of it.
"""
import numpy as np

from ._jit import jit
from .activations import derivative

U = np.uint64
_GOLDEN = U(0x9E3779B97F4A7C15)
_M1 = U(0xBF58476D1CE4E5B9)
_M2 = U(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = U(30), U(27), U(31), U(11)
_TO_UNIT = 2.0 ** -53


@jit()
def mix(x):
    """SplitMix64's finaliser: a well-scrambled uint64 from a uint64."""
    z = U(x) + _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@jit()
def epoch_key(seed, epoch):
    """The key shared by every mask of one epoch.

    Parameters
    ----------
    seed : int
        The fit's dropout seed.
    epoch : int
        The epoch's number.

    Returns
    -------
    numpy.uint64
        mix(seed ⊕ mix(epoch)).
    """
    return mix(U(seed) ^ mix(U(epoch)))


@jit()
def sample_key(key, row):
    """The key of one sample (its row in X) within an epoch."""
    return mix(key ^ mix(U(row)))


@jit(from_python=False)
def kept(key, unit, p):
    """Whether neuron ``unit`` survives: a uniform draw in [0, 1) is ≥ p."""
    return float(mix(key ^ U(unit)) >> _S11) * _TO_UNIT >= p


@jit()
def drop_out(a, key, unit0, p):
    """a_j ← a_j / (1 − p) if neuron unit0 + j is kept, else 0 (in place)."""
    scale = 1.0 / (1.0 - p)
    for j in range(a.shape[0]):
        if kept(key, unit0 + j, p):
            a[j] = a[j] * scale
        else:
            a[j] = 0.0


@jit(from_python=False)
def derivative_times_kept(delta, a, code, others, key, unit0, p):
    """BP2's δ ← δ ⊙ σ'(z) for a layer that was dropped out in the forward pass.

    A dropped neuron passed nothing on, so its δ is 0; a kept one passed on
    σ(z)/(1 − p), so δ_j ← δ_j σ'(z_j)/(1 − p), with σ(z_j) = a_j (1 − p)
    recovered from the scaled activation a_j that ``drop_out`` left.
    """
    keep = 1.0 - p
    for j in range(delta.shape[0]):
        if kept(key, unit0 + j, p):
            delta[j] = delta[j] * derivative(a[j] * keep, code, others) / keep
        else:
            delta[j] = 0.0
