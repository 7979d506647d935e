"""A pure-NumPy twin of fastnn's kernels: the oracle of the tests, the
baseline of the benchmarks.

Written like ``network2.py`` (Nielsen's *Neural Networks and Deep
Learning*), with one sample per row and each mini-batch one matrix, so Σ_x
becomes a matrix product: the kernels' algorithm exactly, from the same
initial weights and sample order (``fastnn.estimators._params``).  Slow and
plain on purpose; no Numba.  A scipy.sparse X takes scipy's products in the
first layer: the oracle of the kernels' sparse layer.

No input makes it warn.  Where IEEE arithmetic already gives the right value
(an overflow to ±inf, a NaN that carries a diverged network's state through
as the kernels do) the warning is off (``_IEEE``); where it would give NaN
for a well-defined value (softmax of an infinite z, 0 · ln 0 in a cost) the
formula takes the limit.  Finite inputs take the plain arithmetic.
"""
import numpy as np

from .estimators._params import initial_parameters

# A decorator (not a ``with`` context: one errstate cannot be entered twice):
# over/underflow and inf − inf → NaN pass silently, as in the compiled kernels.
_IEEE = np.errstate(over="ignore", under="ignore", invalid="ignore")


# Activations σ, and σ' written from a = σ(z) (the forward pass keeps only a).
@_IEEE
def sigmoid(z):
    """σ(z) = 1 / (1 + e^−z), element-wise, from e^−|z|, which never overflows.

    Parameters
    ----------
    z : ndarray

    Returns
    -------
    ndarray
    """
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@_IEEE
def _shifted(z):
    """(z − max z, max z) per row, with 0 where z is the maximum: that is
    z − max z for finite z, and the right limit when the maximum is ±inf
    (where inf − inf would be NaN)."""
    zmax = z.max(axis=1, keepdims=True)
    return np.where(z == zmax, 0.0, z - zmax), zmax


@_IEEE
def softmax(z):
    """e^(z − max z) / Σ e^(z − max z) per row: softmax([inf, 0]) = [1, 0].

    Parameters
    ----------
    z : ndarray of shape (n_samples, n_outputs)

    Returns
    -------
    ndarray of shape (n_samples, n_outputs)
    """
    e = np.exp(_shifted(z)[0])
    return e / e.sum(axis=1, keepdims=True)


ACTIVATIONS = {
    "sigmoid": sigmoid,
    "tanh": _IEEE(np.tanh),
    "relu": lambda z: np.maximum(z, 0),
    "softmax": softmax,
    "identity": lambda z: z,
}
DERIVATIVES = {  # σ'(z) as a function of a = σ(z)
    "sigmoid": _IEEE(lambda a: a * (1 - a)),
    "tanh": _IEEE(lambda a: 1 - a * a),
    "relu": lambda a: (a > 0).astype(a.dtype),
}


@_IEEE
def _softplus(x):
    """ln(1 + e^x) = max(x, 0) + ln(1 + e^−|x|) = −ln σ(−x), never overflowing."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


class QuadraticCost:
    """The quadratic cost C = ½‖a − y‖² (``network2.QuadraticCost``)."""

    @staticmethod
    @_IEEE
    def fn(z, y, output):
        """C = ½‖a − y‖², summed over the rows."""
        return 0.5 * np.sum((ACTIVATIONS[output](z) - y) ** 2)

    @staticmethod
    @_IEEE
    def delta(a, y, output):
        """δ^L = (a − y) ⊙ σ'(z^L)."""
        return (a - y) * (a * (1 - a) if output == "sigmoid" else 1)


class CrossEntropyCost:
    """The cross-entropy cost of sigmoid outputs (``network2.CrossEntropyCost``)."""

    @staticmethod
    @_IEEE
    def fn(z, y, output):
        """C = −Σ y ln a + (1 − y) ln(1 − a), from z so that ln stays finite.

        A term whose factor y or 1 − y is 0 is 0, even where its ln is infinite.
        """
        return np.sum(np.where(y != 0, y * _softplus(-z), 0.0)
                      + np.where(y != 1, (1 - y) * _softplus(z), 0.0))

    @staticmethod
    def delta(a, y, output):
        """δ^L = a − y: σ'(z) cancels, so saturated neurons still learn."""
        return a - y


class LogLikelihoodCost:
    """The log-likelihood cost of softmax outputs (the book's ch. 3)."""

    @staticmethod
    @_IEEE
    def fn(z, y, output):
        """C = −Σ y ln softmax(z), with −ln softmax(z)_j = logsumexp(z) − z_j.

        When max z is ±inf, logsumexp(z) − z_j is taken as
        ln Σ e^(z − max z) − (z_j − max z), its value without inf − inf.
        """
        shifted, zmax = _shifted(z)
        log_total = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        minus_log_a = np.where(np.isfinite(zmax), (zmax + log_total) - z, log_total - shifted)
        return np.sum(np.where(y != 0, y * minus_log_a, 0))

    @staticmethod
    def delta(a, y, output):
        """δ^L = a − y for softmax outputs."""
        return a - y


COSTS = {"quadratic": QuadraticCost, "cross_entropy": CrossEntropyCost,
         "log_likelihood": LogLikelihoodCost}
OUTPUT_OF_COST = {"quadratic": "sigmoid", "cross_entropy": "sigmoid", "log_likelihood": "softmax"}


# Dropout masks: a NumPy twin of ``kernels.dropout`` (SplitMix64's finaliser).
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def mix(x):
    """SplitMix64's finaliser, as ``fastnn.kernels.dropout`` mixes (wrapping arithmetic).

    Parameters
    ----------
    x : uint64 ndarray or numpy.uint64

    Returns
    -------
    uint64 ndarray or numpy.uint64
    """
    with np.errstate(over="ignore"):  # wrapping around is the point
        z = np.asarray(x, dtype=np.uint64) + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def epoch_key(seed, epoch):
    """The dropout key of one epoch, as ``fastnn.kernels.epoch_key`` computes it.

    Parameters
    ----------
    seed, epoch : int
        The fit's dropout seed (drawn from ``random_state``), the epoch's number.

    Returns
    -------
    numpy.uint64
        mix(seed ⊕ mix(epoch)).
    """
    return mix(np.uint64(seed) ^ mix(np.uint64(epoch)))


def dropout_mask(key, rows, unit0, n_units, p):
    """mask[s, j] = 1/(1 − p) if neuron unit0 + j of sample rows[s] is kept, else 0.

    Parameters
    ----------
    key, rows : numpy.uint64, array of int
        The epoch's key (``epoch_key``) and the samples' rows in the training set.
    unit0, n_units : int
        The layer's first neuron, counting from the inputs, and its size.
    p : float
        The probability of dropping a neuron.

    Returns
    -------
    ndarray of shape (len(rows), n_units)
    """
    sample = mix(key ^ mix(np.asarray(rows, dtype=np.uint64)))[:, None]
    units = np.uint64(unit0) + np.arange(n_units, dtype=np.uint64)[None, :]
    uniform = (mix(sample ^ units) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
    return np.where(uniform >= p, 1.0 / (1.0 - p), 0.0)


class Network:
    """A fully-connected feedforward network; ``weights[l]`` is (fan_in, fan_out)."""

    def __init__(self, weights, biases, cost="cross_entropy", activation="sigmoid", output=None):
        self.weights = [np.array(w) for w in weights]
        self.biases = [np.array(b) for b in biases]
        self.velocity_w = [np.zeros_like(w) for w in self.weights]
        self.velocity_b = [np.zeros_like(b) for b in self.biases]
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
        activations, _, z_out = self._forward(X)
        return z_out if return_z else activations[-1]

    @_IEEE
    def _forward(self, X, dropout=0.0, key=None, rows=None):
        """All activations [x, a^1, …, a^L] (hidden ones dropped out and
        scaled when ``dropout`` > 0), the dropout masks, and z^L."""
        activations, masks = [X], [None]
        unit = X.shape[1]
        for l, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = activations[-1] @ w + b
            last = l == len(self.weights) - 1
            a = ACTIVATIONS[self.output if last else self.activation](z)
            mask = None
            if dropout > 0 and not last:
                mask = dropout_mask(key, rows, unit, a.shape[1], dropout)
                a = a * mask
            activations.append(a)
            masks.append(mask)
            unit += w.shape[1]
        return activations, masks, z

    @_IEEE
    def backprop(self, X, Y, sample_weight=None, dropout=0.0, key=None, rows=None):
        """(nabla_b, nabla_w): Σ_x w_x ∇C_x over the rows of X, by BP1–BP4."""
        activations, masks, _ = self._forward(X, dropout, key, rows)
        delta = self.cost.delta(activations[-1], Y, self.output)              # BP1
        if sample_weight is not None:
            delta = delta * sample_weight[:, None]
        nabla_b = [None] * len(self.weights)
        nabla_w = [None] * len(self.weights)
        for l in range(len(self.weights) - 1, -1, -1):
            nabla_b[l] = delta.sum(axis=0)                                    # BP3
            nabla_w[l] = activations[l].T @ delta                             # BP4
            if l > 0:
                a = activations[l]
                if masks[l] is not None:
                    # σ'(z) of the neuron as computed, times the mask it passed on.
                    a = a * (1 - dropout)
                delta = (delta @ self.weights[l].T) * DERIVATIVES[self.activation](a)  # BP2
                if masks[l] is not None:
                    delta = delta * masks[l]
        return nabla_b, nabla_w

    @_IEEE
    def update_mini_batch(self, X, Y, eta, lmbda, n, sample_weight=None, momentum=0.0,
                          penalty="l2", dropout=0.0, key=None, rows=None):
        """L2: w ← (1 − ηλ/n) w − (η/m) Σ ∇w;  L1: w ← w − (ηλ/n) sgn w − (η/m) Σ ∇w;
        b ← b − (η/m) Σ ∇b.  With momentum μ: v ← μv − η∇C, w ← w + v."""
        m = X.shape[0]
        nabla_b, nabla_w = self.backprop(X, Y, sample_weight, dropout, key, rows)
        reg = (lambda w: w) if penalty == "l2" else np.sign
        if momentum:
            self.velocity_w = [momentum * v - eta * (lmbda / n) * reg(w) - (eta / m) * nw
                               for v, w, nw in zip(self.velocity_w, self.weights, nabla_w)]
            self.velocity_b = [momentum * v - (eta / m) * nb
                               for v, nb in zip(self.velocity_b, nabla_b)]
            self.weights = [w + v for w, v in zip(self.weights, self.velocity_w)]
            self.biases = [b + v for b, v in zip(self.biases, self.velocity_b)]
            return
        if penalty == "l2":
            self.weights = [(1 - eta * (lmbda / n)) * w - (eta / m) * nw
                            for w, nw in zip(self.weights, nabla_w)]
        else:
            self.weights = [w - eta * (lmbda / n) * np.sign(w) - (eta / m) * nw
                            for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / m) * nb for b, nb in zip(self.biases, nabla_b)]

    def SGD(self, X, Y, epochs, mini_batch_size, eta, lmbda=0.0, rng=None, orders=None,
            sample_weight=None, momentum=0.0, penalty="l2", dropout=0.0, evaluation_data=None,
            n_iter_no_change=None, eta_schedule="constant", restore_best=True):
        """Mini-batch SGD, drawing from ``rng`` as the estimator does: per epoch
        ``rng.permutation(n)`` (or ``orders[epoch]``) then a dropout seed.

        Returns network2's four monitors per epoch (training cost, training
        accuracy as a fraction, and the same on ``evaluation_data`` = (X, Y)),
        the training pair measured during the epoch as fastnn does (each
        sample by the forward pass that trains on it; the penalty of the
        epoch's final weights), and stops early as ch. 3 describes: no improvement in
        ``n_iter_no_change`` epochs stops ("constant") or halves η ("halve",
        stopping once η < η₀/128).
        """
        n = X.shape[0]
        history = {"train_cost": [], "train_accuracy": [], "eval_cost": [], "eval_accuracy": []}
        if eta_schedule == "halve" and n_iter_no_change is None:
            n_iter_no_change = 10
        eta0, best, best_net, stalled = eta, -np.inf, None, 0
        for epoch in range(epochs):
            order = orders[epoch] if orders is not None else rng.permutation(n)
            key = epoch_key(rng.integers(2 ** 63), epoch) if rng is not None else None
            seen_cost, seen_correct = 0.0, 0
            for k in range(0, n, mini_batch_size):
                batch = order[k:k + mini_batch_size]
                cost, correct = self._monitor_batch(
                    X[batch], Y[batch], None if sample_weight is None else sample_weight[batch],
                    dropout, key, batch)
                seen_cost, seen_correct = seen_cost + cost, seen_correct + correct
                self.update_mini_batch(
                    X[batch], Y[batch], eta, lmbda, n,
                    None if sample_weight is None else sample_weight[batch],
                    momentum, penalty, dropout, key, batch)
            history["train_cost"].append(seen_cost / n + self._penalty(lmbda, penalty, n))
            history["train_accuracy"].append(seen_correct / n)
            score = history["train_accuracy"][-1]
            if evaluation_data is not None:
                X_eval, Y_eval = evaluation_data
                history["eval_cost"].append(self.total_cost(X_eval, Y_eval, lmbda, penalty))
                history["eval_accuracy"].append(
                    self.accuracy(X_eval, Y_eval.argmax(axis=1)) / X_eval.shape[0])
                score = history["eval_accuracy"][-1]
            if score > best:
                best, stalled = score, 0
                best_net = ([w.copy() for w in self.weights], [b.copy() for b in self.biases])
                continue
            stalled += 1
            if n_iter_no_change is None or stalled < n_iter_no_change:
                continue
            if eta_schedule == "constant":
                break
            eta, stalled = eta / 2, 0
            if eta < eta0 / 128:
                break
        if n_iter_no_change is not None and restore_best:
            self.weights, self.biases = best_net
        history["eta"] = eta
        return history

    @_IEEE
    def total_cost(self, X, Y, lmbda=0.0, penalty="l2", sample_weight=None):
        """Σ_x w_x C_x / n + (λ/2n) Σ w² (or (λ/n) Σ |w|), as ``network2.total_cost``."""
        z = self.feedforward(X, return_z=True)
        if sample_weight is None:
            cost = self.cost.fn(z, Y, self.output)
        else:
            cost = sum(w * self.cost.fn(z[i:i + 1], Y[i:i + 1], self.output)
                       for i, w in enumerate(sample_weight))
        return cost / X.shape[0] + self._penalty(lmbda, penalty, X.shape[0])

    def _penalty(self, lmbda, penalty, n):
        """(λ/2n) Σ w² (L2) or (λ/n) Σ |w| (L1), biases left out."""
        if penalty == "l2":
            reg = 0.5 * sum(np.sum(w * w) for w in self.weights)
        else:
            reg = sum(np.sum(np.abs(w)) for w in self.weights)
        return (lmbda / n) * reg

    @_IEEE
    def _monitor_batch(self, X, Y, sample_weight, dropout, key, rows):
        """(Σ_x w_x C_x, correct argmax count) of a mini-batch, by the forward
        pass (dropout included) that its update is about to train on."""
        activations, _, z = self._forward(X, dropout, key, rows)
        if sample_weight is None:
            cost = self.cost.fn(z, Y, self.output)
        else:
            cost = sum(w * self.cost.fn(z[i:i + 1], Y[i:i + 1], self.output)
                       for i, w in enumerate(sample_weight))
        correct = int(np.sum(np.argmax(activations[-1], axis=1) == np.argmax(Y, axis=1)))
        return cost, correct

    def accuracy(self, X, labels):
        """Number of rows whose argmax output equals the label."""
        return int(np.sum(np.argmax(self.feedforward(X), axis=1) == labels))
