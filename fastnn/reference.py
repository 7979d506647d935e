"""A pure-NumPy twin of fastnn's kernels: the oracle of the tests, the
baseline of the benchmarks.

Written to read like ``network2.py`` from Nielsen's *Neural Networks and Deep
Learning*, but with one sample per row and each mini-batch as one matrix, so
Σ_x becomes a matrix product.  It runs exactly the kernels' algorithm: same
initial weights and sample order (``fastnn._params``), same updates.  Slow and
plain on purpose; no Numba.
"""
import numpy as np

from ._params import initial_parameters


# Activations σ, and σ' written from a = σ(z) (the forward pass keeps only a).
def sigmoid(z):
    # e^−|z| never overflows; same value as 1 / (1 + e^−z).
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


ACTIVATIONS = {
    "sigmoid": sigmoid,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
    "softmax": softmax,
    "identity": lambda z: z,
}
DERIVATIVES = {  # σ'(z) as a function of a = σ(z)
    "sigmoid": lambda a: a * (1 - a),
    "tanh": lambda a: 1 - a * a,
    "relu": lambda a: (a > 0).astype(a.dtype),
}


def softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


class QuadraticCost:
    @staticmethod
    def fn(z, y, output):
        """C = ½‖a − y‖², summed over the rows."""
        return 0.5 * np.sum((ACTIVATIONS[output](z) - y) ** 2)

    @staticmethod
    def delta(a, y, output):
        """δ^L = (a − y) ⊙ σ'(z^L)."""
        return (a - y) * (a * (1 - a) if output == "sigmoid" else 1)


class CrossEntropyCost:
    @staticmethod
    def fn(z, y, output):
        """C = −Σ y ln a + (1 − y) ln(1 − a), from z so that ln stays finite."""
        return np.sum(y * softplus(-z) + (1 - y) * softplus(z))

    @staticmethod
    def delta(a, y, output):
        """δ^L = a − y: σ'(z) cancels, so saturated neurons still learn."""
        return a - y


class LogLikelihoodCost:
    @staticmethod
    def fn(z, y, output):
        """C = −Σ y ln softmax(z)."""
        zmax = z.max(axis=1, keepdims=True)
        lse = zmax + np.log(np.exp(z - zmax).sum(axis=1, keepdims=True))
        return np.sum(np.where(y != 0, y * (lse - z), 0))

    @staticmethod
    def delta(a, y, output):
        """δ^L = a − y for softmax outputs."""
        return a - y


COSTS = {"quadratic": QuadraticCost, "cross_entropy": CrossEntropyCost,
         "log_likelihood": LogLikelihoodCost}
OUTPUT_OF_COST = {"quadratic": "sigmoid", "cross_entropy": "sigmoid", "log_likelihood": "softmax"}


class Network:
    """A fully-connected feedforward network; ``weights[l]`` is (fan_in, fan_out)."""

    def __init__(self, weights, biases, cost="cross_entropy", activation="sigmoid", output=None):
        self.weights = [np.array(w) for w in weights]
        self.biases = [np.array(b) for b in biases]
        self.num_layers = len(weights) + 1
        self.cost = COSTS[cost]
        self.activation = activation
        self.output = output or OUTPUT_OF_COST[cost]

    @classmethod
    def random(cls, sizes, rng, init="default", dtype=np.float64, **kwargs):
        """A network with the estimator's initial weights for this ``rng``."""
        return cls(*initial_parameters(sizes, init, rng, dtype), **kwargs)

    def feedforward(self, X, return_z=False):
        """Output activations a^L for the rows of X (or z^L with ``return_z``)."""
        activations, z_out = self._forward(X)
        return z_out if return_z else activations[-1]

    def _forward(self, X):
        """All activations [x, a^1, …, a^L], and z^L."""
        activations = [X]
        for l, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = activations[-1] @ w + b
            last = l == len(self.weights) - 1
            activations.append(ACTIVATIONS[self.output if last else self.activation](z))
        return activations, z

    def backprop(self, X, Y):
        """(nabla_b, nabla_w): Σ_x ∇C_x over the rows of X, by BP1–BP4."""
        activations, _ = self._forward(X)
        delta = self.cost.delta(activations[-1], Y, self.output)              # BP1
        nabla_b = [None] * len(self.weights)
        nabla_w = [None] * len(self.weights)
        for l in range(len(self.weights) - 1, -1, -1):
            nabla_b[l] = delta.sum(axis=0)                                    # BP3
            nabla_w[l] = activations[l].T @ delta                             # BP4
            if l > 0:
                delta = (delta @ self.weights[l].T) * DERIVATIVES[self.activation](activations[l])  # BP2
        return nabla_b, nabla_w

    def update_mini_batch(self, X, Y, eta, lmbda, n):
        """w ← (1 − ηλ/n) w − (η/m) Σ ∇w;  b ← b − (η/m) Σ ∇b."""
        m = len(X)
        nabla_b, nabla_w = self.backprop(X, Y)
        self.weights = [(1 - eta * (lmbda / n)) * w - (eta / m) * nw
                        for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / m) * nb for b, nb in zip(self.biases, nabla_b)]

    def SGD(self, X, Y, epochs, mini_batch_size, eta, lmbda=0.0, rng=None, orders=None):
        """Mini-batch SGD; each epoch's shuffle is ``rng.permutation(n)`` (or
        taken from ``orders``), as in the estimator."""
        n = len(X)
        for epoch in range(epochs):
            order = orders[epoch] if orders is not None else rng.permutation(n)
            for k in range(0, n, mini_batch_size):
                batch = order[k:k + mini_batch_size]
                self.update_mini_batch(X[batch], Y[batch], eta, lmbda, n)
        return self

    def total_cost(self, X, Y, lmbda=0.0):
        """Σ_x C_x / n + (λ/2n) Σ w², as ``network2.total_cost``."""
        cost = self.cost.fn(self.feedforward(X, return_z=True), Y, self.output) / len(X)
        return cost + 0.5 * (lmbda / len(X)) * sum(np.sum(w * w) for w in self.weights)

    def accuracy(self, X, labels):
        """Number of rows whose argmax output equals the label."""
        return int(np.sum(np.argmax(self.feedforward(X), axis=1) == labels))
