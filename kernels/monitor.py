"""What the epoch loop monitors on evaluation data: outputs and total cost in one pass.

``network2.SGD`` monitors cost and accuracy after every epoch; ``evaluate``
gives both from a single forward pass, block by block.  The training data's
monitors come from the training pass itself (``sgd.train_epoch``).
"""
import numpy as np

from ._jit import jit
from .activations import IDENTITY, activate_block
from .blas import small_product_limit
from .costs import fn as cost_fn
from .costs import other_codes
from .predict import dense_or_csr, predict_rows
from .update import L2


def evaluate(X, Y, sample_weight, params, layout, hidden, out_act, cost):
    """Output activations a^L for the rows of X (an array or a ``CSR``), and
    Σ_x w_x C_x (float64).

    No regularisation term: the caller adds it, with its own n.

    Parameters
    ----------
    X : array of shape (n_samples, n_features), or ``sparse.CSR``
    Y : array of shape (n_samples, n_outputs)
        Targets, one-hot for classification.
    sample_weight : float64 array of shape (n_samples,)
    params, layout : the network (``forward.make_layout``)
    hidden, out_act, cost : int
        Codes from ``activations`` and ``costs``.

    Returns
    -------
    outputs : array of shape (n_samples, n_outputs)
    total_cost : float
    """
    dense, csr = dense_or_csr(X)
    # normalize goes in as an argument: a constant False would be typed
    # Literal[bool] and compile a second ``predict_rows``.
    return _evaluate(dense, csr, Y, sample_weight, params, layout, hidden, out_act, cost,
                     other_codes(hidden, out_act, cost), np.int64(small_product_limit()), False)


@jit()
def _evaluate(X, csr, Y, sample_weight, params, layout, hidden, out_act, cost, others, small,
              normalize):
    """z^L for every row by prediction's own compiled pass (``predict``: no
    second copy of the forward pass to compile), then each sample's cost
    from z, for numerical stability, and a^L."""
    sizes = layout[0]
    n = Y.shape[0]
    out = np.empty((n, sizes[sizes.shape[0] - 1]), dtype=params.dtype)
    identity = np.int64(IDENTITY)  # a variable: a constant would compile a Literal variant
    predict_rows(X, csr, n, params, layout, hidden, identity, others, normalize, out, small)
    per_sample = np.empty(n, dtype=np.float64)
    cost_fn(out, Y, np.arange(n), cost, out_act, per_sample, others)
    total = 0.0
    for r in range(n):
        total += sample_weight[r] * per_sample[r]
    activate_block(out, out_act, others)
    return out, total


def penalty_cost(params, layout, penalty, lmbda, n):
    """The regularisation term of the cost: (λ/2n) Σ w² (L2) or (λ/n) Σ |w| (L1).

    Biases are left out, as in the book.  Each w² in params' dtype, as the
    model's own cost (a float32 weight past 1.8e19 makes it inf, read as
    divergence, even with λ = 0), summed in float64.  Plain NumPy: it runs
    once per epoch, where NumPy takes microseconds, and compiling it cost
    ~0.3 s of every first fit.

    Parameters
    ----------
    params, layout : the network (``forward.make_layout``)
    penalty : int
        ``update.L2`` or ``update.L1``.
    lmbda : float
        λ.
    n : int
        The training set's size.

    Returns
    -------
    float
    """
    sizes, w_off, b_off, a_off = layout
    total = 0.0
    # Huge weights overflow to inf, a cost the caller reads as divergence:
    # no warning, as from the compiled kernels.
    with np.errstate(over="ignore", invalid="ignore"):
        for l in range(sizes.shape[0] - 1):
            w = params[w_off[l]:b_off[l]]
            total += float((np.square(w) if penalty == L2 else np.abs(w)).sum(dtype=np.float64))
    return 0.5 * lmbda / n * total if penalty == L2 else lmbda / n * total
