"""Activation functions σ and their derivatives σ'.

Every derivative is written in terms of the activation a = σ(z), not z, so the
forward pass need not keep z: σ'(z) = a(1 − a) for the sigmoid, 1 − a² for tanh,
[a > 0] for relu.  Each function works in place on one layer's vector.

The book's default network (sigmoid neurons, cross-entropy; z^L left as it is,
identity, where the cost needs it) is all most fits use.  Every function here
and in ``costs`` takes ``others``: None for such a fit, so that numba compiles
only the sigmoid's code, and an int otherwise (``costs.other_codes``), which
compiles tanh, relu, softmax and the other costs too, once, into a second
variant.
"""
import math

from . import vmath
from ._jit import jit

SIGMOID = 0
TANH = 1
RELU = 2
SOFTMAX = 3
IDENTITY = 4

HIDDEN_ACTIVATIONS = {"sigmoid": SIGMOID, "tanh": TANH, "relu": RELU}
OUTPUT_ACTIVATIONS = {"sigmoid": SIGMOID, "softmax": SOFTMAX, "identity": IDENTITY}


@jit(from_python=False)
def sigmoid(z):
    """σ(z) = 1 / (1 + e^−z), evaluated so that e^x never overflows.

    With e = e^−|z|: σ(z) = 1 / (1 + e) for z ≥ 0 and e / (1 + e) below.  One
    exp either way, and a select rather than a branch: z's sign is data.  The
    exp is ``vmath``'s, so that a layer's loop over its neurons vectorises.
    """
    e = vmath.exp(-abs(z))
    top = 1.0 if z >= 0.0 else e
    return top / (1.0 + e)


@jit()
def activate(z, code, others):
    """Replace z by σ(z) in place, for one layer's weighted inputs z^l
    (``others`` None: sigmoid or identity only)."""
    n = z.shape[0]
    if code == SIGMOID:
        for j in range(n):
            z[j] = sigmoid(z[j])
    if others is not None:
        _activate_other(z, code)
    # IDENTITY: nothing to do


@jit(from_python=False)
def _activate_other(z, code):
    """tanh, relu or softmax in place (``activate``'s, where ``others`` is set)."""
    n = z.shape[0]
    if code == TANH:
        for j in range(n):
            z[j] = math.tanh(z[j])
    elif code == RELU:
        for j in range(n):
            if z[j] <= 0.0:  # not `not z > 0`: NaN must stay NaN (divergence)
                z[j] = 0.0
    elif code == SOFTMAX:
        # e^(z − max z) / Σ e^(z − max z): never overflows, same result.
        zmax = z[0]
        for j in range(1, n):
            if z[j] > zmax:
                zmax = z[j]
        # The exps apart from their sum: a loop with a sum in it is not vectorised.
        for j in range(n):
            z[j] = vmath.exp(z[j] - zmax)
        total = 0.0
        for j in range(n):
            total += z[j]
        for j in range(n):
            z[j] = z[j] / total


@jit(from_python=False)
def activate_block(z, code, others):
    """σ in place on an (m, n) C-contiguous block of weighted inputs: neuron by
    neuron over the whole block at once, one long vectorised loop rather than
    a short one per row; softmax needs its row."""
    m, n = z.shape
    if code != SOFTMAX:
        activate(z.reshape(m * n), code, others)
    if others is not None:
        if code == SOFTMAX:
            for s in range(m):
                activate(z[s], code, others)


@jit(from_python=False)
def derivative(a, code, others):
    """σ'(z) written from a = σ(z), for one hidden neuron."""
    if others is not None:
        if code == TANH:
            return 1.0 - a * a
        if code == RELU:
            return 1.0 if a > 0.0 else 0.0
    return a * (1.0 - a)  # SIGMOID


@jit()
def derivative_times(delta, a, code, others):
    """δ ← δ ⊙ σ'(z), with σ'(z) written from a = σ(z) (hidden layers only)."""
    n = delta.shape[0]
    if code == SIGMOID:
        for j in range(n):
            delta[j] = delta[j] * a[j] * (1.0 - a[j])
    if others is not None:
        if code == TANH:
            for j in range(n):
                delta[j] = delta[j] * (1.0 - a[j] * a[j])
        elif code == RELU:
            for j in range(n):
                if a[j] <= 0.0:
                    delta[j] = 0.0
