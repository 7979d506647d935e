"""Cost functions C, each a pair as in ``network2.py``: ``fn`` and ``delta``.

``delta`` is the output error δ^L = ∇_a C ⊙ σ'(z^L) (BP1).  For cross-entropy with
sigmoid outputs and log-likelihood with softmax outputs σ'(z^L) cancels and
δ^L = a − y: that is why these pairings learn fast from saturated neurons.
"""
import math

import numpy as np

from ._jit import jit
from . import vmath
from .activations import IDENTITY, SIGMOID, sigmoid
from .stack import STACK_LANES, stack_lanes

QUADRATIC = 0
CROSS_ENTROPY = 1
LOG_LIKELIHOOD = 2

COSTS = {"quadratic": QUADRATIC, "cross_entropy": CROSS_ENTROPY, "log_likelihood": LOG_LIKELIHOOD}
# The output activation each cost is defined with in the book.
OUTPUT_OF_COST = {"quadratic": "sigmoid", "cross_entropy": "sigmoid", "log_likelihood": "softmax"}


def other_codes(hidden, out_act, cost=CROSS_ENTROPY):
    """The kernels' ``others`` for these codes: None where they are the book's
    default network's (sigmoid hidden layers, sigmoid or identity outputs,
    cross-entropy), so that numba compiles none of the other activations'
    and costs' code; an int64 otherwise.  Prediction passes no cost."""
    if hidden == SIGMOID and out_act in (SIGMOID, IDENTITY) and cost == CROSS_ENTROPY:
        return None
    return np.int64(1)


@jit()
def delta(a, Y, rows, cost, out_act, out, others):
    """Write δ^L of each sample of a block into ``out`` (BP1): sample s has
    output a[s] and target Y[rows[s]].

    quadratic: (a − y) ⊙ σ'(z^L), with σ'(z) = a(1 − a) for sigmoid outputs
    and 1 for identity outputs; cross-entropy and log-likelihood: a − y.
    The block and Y's rows are indexed, never sliced: a row view per sample
    costs two atomic reference counts, a tenth of a small network's epoch.
    ``others`` None (``other_codes``): cross-entropy's a − y only.
    """
    m, n = a.shape
    if others is not None:
        if cost == QUADRATIC and out_act == SIGMOID:
            for s in range(m):
                r = rows[s]
                for j in range(n):
                    out[s, j] = (a[s, j] - Y[r, j]) * a[s, j] * (1.0 - a[s, j])
            return
    for s in range(m):
        r = rows[s]
        for j in range(n):
            out[s, j] = a[s, j] - Y[r, j]


@jit()
def fn(z, Y, rows, cost, out_act, out, others):
    """C of each sample of a block, from the output layer's weighted inputs:
    out[s] ← C(z[s], Y[rows[s]]).

    Working from z rather than a keeps ln finite when a neuron saturates:
    −ln σ(z) = softplus(−z), −ln(1 − σ(z)) = softplus(z), with softplus(x) =
    ln(1 + e^x) = max(x, 0) + ln(1 + e^−|x|) never overflowing, and
    −ln softmax(z)_j = logsumexp(z) − z_j.  ``others`` None
    (``other_codes``): cross-entropy's code only.
    """
    m, n = z.shape
    terms = stack_lanes(out)
    for s in range(m):
        r = rows[s]
        total = 0.0
        if cost == CROSS_ENTROPY:
            # C = −Σ y ln a + (1 − y) ln(1 − a).  softplus(±z) share ln(1 + e^−|z|),
            # computed once, in ``vmath``'s arithmetic.  The terms apart from
            # their sum (in ``terms``, on the stack): a loop with a sum in it
            # is not vectorised.
            for j0 in range(0, n, STACK_LANES):
                width = min(STACK_LANES, n - j0)
                for j in range(width):
                    x = z[s, j0 + j]
                    y = Y[r, j0 + j]
                    tail = vmath.log1p_unit(vmath.exp(-abs(x)))
                    terms[j] = y * (max(-x, 0.0) + tail) + (1.0 - y) * (max(x, 0.0) + tail)
                for j in range(width):
                    total += terms[j]
        if others is not None:
            total += _other_cost(z, Y, s, r, cost, out_act)
        out[s] = total


@jit(from_python=False)
def _other_cost(z, Y, s, r, cost, out_act):
    """C of sample s (row r of Y) for log-likelihood or quadratic cost, 0 for
    cross-entropy (``fn``'s, where ``others`` is set)."""
    n = z.shape[1]
    total = 0.0
    if cost == LOG_LIKELIHOOD:
        # C = −Σ y_j ln a_j
        zmax = z[s, 0]
        for j in range(1, n):
            zmax = max(zmax, z[s, j])
        total_exp = 0.0
        for j in range(n):
            total_exp += math.exp(z[s, j] - zmax)
        lse = zmax + math.log(total_exp)
        for j in range(n):
            if Y[r, j] != 0.0:
                total += Y[r, j] * (lse - z[s, j])
    elif cost == QUADRATIC:
        # C = ½ ‖a − y‖²
        for j in range(n):
            a = sigmoid(z[s, j]) if out_act == SIGMOID else z[s, j]
            total += 0.5 * (a - Y[r, j]) ** 2
    return total
