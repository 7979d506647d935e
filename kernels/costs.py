"""Cost functions C, each a pair as in ``network2.py``: ``fn`` and ``delta``.

``delta`` is the output error δ^L = ∇_a C ⊙ σ'(z^L) (BP1).  For cross-entropy with
sigmoid outputs and log-likelihood with softmax outputs σ'(z^L) cancels and
δ^L = a − y: that is why these pairings learn fast from saturated neurons.
"""
import math

from ._jit import jit
from .activations import SIGMOID, sigmoid

QUADRATIC = 0
CROSS_ENTROPY = 1
LOG_LIKELIHOOD = 2

COSTS = {"quadratic": QUADRATIC, "cross_entropy": CROSS_ENTROPY, "log_likelihood": LOG_LIKELIHOOD}
# The output activation each cost is defined with in the book.
OUTPUT_OF_COST = {"quadratic": "sigmoid", "cross_entropy": "sigmoid", "log_likelihood": "softmax"}


@jit()
def delta(a, y, cost, out_act, out):
    """Write δ^L for one sample into ``out`` (BP1).

    quadratic: (a − y) ⊙ σ'(z^L), with σ'(z) = a(1 − a) for sigmoid outputs
    and 1 for identity outputs; cross-entropy and log-likelihood: a − y.
    """
    n = a.shape[0]
    if cost == QUADRATIC and out_act == SIGMOID:
        for j in range(n):
            out[j] = (a[j] - y[j]) * a[j] * (1.0 - a[j])
    else:
        for j in range(n):
            out[j] = a[j] - y[j]


@jit()
def fn(z, y, cost, out_act):
    """C for one sample, computed from the output layer's weighted input z^L.

    Working from z rather than a keeps ln finite when a neuron saturates:
    −ln σ(z) = softplus(−z), −ln(1 − σ(z)) = softplus(z), with softplus(x) =
    ln(1 + e^x) = max(x, 0) + ln(1 + e^−|x|) never overflowing, and
    −ln softmax(z)_j = logsumexp(z) − z_j.
    """
    n = z.shape[0]
    total = 0.0
    if cost == CROSS_ENTROPY:
        # C = −Σ y ln a + (1 − y) ln(1 − a).  softplus(±z) share ln(1 + e^−|z|):
        # computed once, with the very arithmetic of two ``softplus`` calls.
        for j in range(n):
            x = z[j]
            tail = math.log1p(math.exp(-abs(x)))
            total += y[j] * (max(-x, 0.0) + tail) + (1.0 - y[j]) * (max(x, 0.0) + tail)
    elif cost == LOG_LIKELIHOOD:
        # C = −Σ y_j ln a_j
        zmax = z[0]
        for j in range(1, n):
            zmax = max(zmax, z[j])
        s = 0.0
        for j in range(n):
            s += math.exp(z[j] - zmax)
        lse = zmax + math.log(s)
        for j in range(n):
            if y[j] != 0.0:
                total += y[j] * (lse - z[j])
    else:
        # C = ½ ‖a − y‖²
        for j in range(n):
            a = sigmoid(z[j]) if out_act == SIGMOID else z[j]
            total += 0.5 * (a - y[j]) ** 2
    return total
