"""``FastNNRegressor``: ``FastNN``'s kernels and training with identity
outputs and the quadratic cost, for regression and ch. 4.

Like ``FastNN`` it validates its input once, converts it to C-contiguous
float32 or float64 (or CSR), and hands it to the shared epoch loop
(``_loop``): one compiled call per epoch.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.validation import check_is_fitted

from .._typing import ArrayLike, LayerSizes, MatrixLike, PathLike, RandomState
from ._base import BaseFastNN
from ._docstrings import SHARED_ATTRIBUTES as _SHARED_ATTRIBUTES
from ._docstrings import SHARED_PARAMETERS as _SHARED_DOC
from ._params import make_rng, pack


class FastNNRegressor(RegressorMixin, BaseFastNN):
    __doc__ = """A fully-connected network for regression: the tool of ch. 4.

    The same kernels and training as ``FastNN``, with an identity output layer
    (a^L = z^L) and the quadratic cost C = ½‖a^L − y‖², so δ^L = a^L − y.
    ``y`` may have several columns; ``score`` is R².

    Parameters
    ----------""" + _SHARED_DOC.format(eta=0.1) + """
    Attributes
    ----------""" + _SHARED_ATTRIBUTES.format(score="r2") + """
    Examples
    --------
    >>> import numpy as np
    >>> from fastnn import FastNNRegressor
    >>> x = np.linspace(0, 1, 200)[:, None]
    >>> reg = FastNNRegressor(hidden_layer_sizes=(20,), eta=0.5, epochs=300,
    ...                       random_state=0).fit(x, np.sin(3 * x).ravel())
    >>> reg.score(x, np.sin(3 * x).ravel()) > 0.9
    True
    """

    _multi_output = True
    _stratify = False

    def __init__(self, hidden_layer_sizes: LayerSizes = (30,), eta: float = 0.1, lmbda: float = 0.0,
                 penalty: str = "l2", mini_batch_size: int = 10, epochs: int = 30,
                 momentum: float = 0.0, dropout: float = 0.0, activation: str = "sigmoid",
                 init: str = "default", eta_schedule: str = "constant",
                 n_iter_no_change: Optional[int] = None, restore_best: bool = True,
                 validation_fraction: Optional[float] = None, warm_start: bool = False,
                 on_divergence: str = "raise", on_interrupt: str = "raise",
                 random_state: RandomState = None, n_threads: Optional[int] = None,
                 verbose: int = 0, checkpoint_dir: Optional[PathLike] = None,
                 checkpoint_every: int = 1) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.eta = eta
        self.lmbda = lmbda
        self.penalty = penalty
        self.mini_batch_size = mini_batch_size
        self.epochs = epochs
        self.momentum = momentum
        self.dropout = dropout
        self.activation = activation
        self.init = init
        self.eta_schedule = eta_schedule
        self.n_iter_no_change = n_iter_no_change
        self.restore_best = restore_best
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.on_divergence = on_divergence
        self.on_interrupt = on_interrupt
        self.random_state = random_state
        self.n_threads = n_threads
        self.verbose = verbose
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every

    def fit(self, X: MatrixLike, y: ArrayLike, sample_weight: Optional[ArrayLike] = None,
            eval_set: Optional[Tuple[MatrixLike, ArrayLike]] = None) -> FastNNRegressor:
        """Train on (X, y) for ``epochs`` epochs of mini-batch SGD.

        Parameters
        ----------
        X : array-like or scipy.sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), optional
        eval_set : tuple (X_eval, y_eval), optional

        Returns
        -------
        self : FastNNRegressor
        """
        return self._fit(X, y, sample_weight, eval_set, incremental=False)

    def partial_fit(self, X: MatrixLike, y: ArrayLike,
                    sample_weight: Optional[ArrayLike] = None) -> FastNNRegressor:
        """One epoch of SGD on (X, y), continuing from the current weights.

        Parameters
        ----------
        X : array-like or scipy.sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self : FastNNRegressor
        """
        return self._fit(X, y, sample_weight, None, incremental=True)

    @classmethod
    def from_layers(cls, weights: Sequence[ArrayLike], biases: Sequence[ArrayLike],
                    **params: Any) -> FastNNRegressor:
        """A regressor fitted to the layers given, without training (ch. 4's
        hand-built networks).

        Parameters
        ----------
        weights : list of arrays of shape (fan_in, fan_out)
            w^l for each layer, as ``coefs_``.
        biases : list of arrays of shape (fan_out,)
            b^l for each layer, as ``intercepts_``; the output layer is one neuron.
        **params
            Estimator parameters (``activation``, ``random_state``, …);
            ``hidden_layer_sizes`` follows from the layers.

        Returns
        -------
        FastNNRegressor
            With every attribute a fit leaves (no epochs in ``history_``), so
            that ``predict``, ``score``, ``save``/``load`` and ``warm_start``
            treat it as any fitted model.
        """
        w = [np.asarray(a, dtype=np.float64) for a in weights]
        b = [np.asarray(a, dtype=np.float64) for a in biases]
        sizes = np.array([w[0].shape[0], *(a.shape[0] for a in b)], dtype=np.int64)
        network = cls(**{**params, "hidden_layer_sizes": tuple(int(n) for n in sizes[1:-1])})
        flat = pack(w, b)
        network._set_parameters(flat, sizes)
        network.n_features_in_ = int(sizes[0])
        network.n_iter_ = 0
        network.history_ = {key: [] for key in network._history_keys()}
        network.loss_curve_ = network.history_["train_cost"]
        network._rng = make_rng(network.random_state)
        network._velocity = np.zeros_like(flat)
        network._y_1d = True
        return network

    def reset_momentum(self) -> FastNNRegressor:
        """Forget momentum's velocity (zeros), as after a change of the inputs'
        units: a warm-started fit then starts momentum afresh.

        Returns
        -------
        self : FastNNRegressor
        """
        check_is_fitted(self)
        self._velocity = np.zeros_like(self._velocity)
        return self

    def _cost_name(self):
        return "quadratic"

    def _output_activation(self):
        return "identity"

    def _history_keys(self):
        return ("train_cost", "train_r2", "eval_cost", "eval_r2")

    def _targets(self, y, sample_weight, X, first, classes):
        if not first and y.ndim != (1 if self._y_1d else 2):
            raise ValueError("y has a different number of targets from the fitted model.")
        if first:
            self._y_1d = y.ndim == 1
        return self._eval_targets(y, X.dtype), sample_weight

    def _eval_targets(self, y, dtype):
        with np.errstate(over="ignore"):  # said below, without numpy's cast warning
            Y = np.asarray(y, dtype=dtype)
        if not np.all(np.isfinite(Y)):
            raise ValueError(f"y holds values beyond {np.dtype(dtype).name}'s range (the "
                             f"largest |y| is {np.max(np.abs(y)):.3g}): scale y, or pass "
                             "float64 X to train a float64 model.")
        return np.ascontiguousarray(Y.reshape(len(Y), -1))

    def _score_outputs(self, outputs, y):
        return float(r2_score(y, outputs[:, 0] if y.ndim == 1 else outputs))

    def _format_score(self, r2, n):
        return f"R² {r2:.4f}"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    def score(self, X: MatrixLike, y: ArrayLike,
              sample_weight: Optional[ArrayLike] = None) -> float:
        """R² of ``predict(X)`` (``RegressorMixin.score``).

        Parameters
        ----------
        X : array-like or scipy.sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        score : float
            R²; −inf, without numpy's overflow warning, when a prediction is
            too large to square.
        """
        with np.errstate(over="ignore", invalid="ignore"):
            return super().score(X, y, sample_weight=sample_weight)

    def predict(self, X: MatrixLike) -> np.ndarray:
        """The network's output a^L (identity output units).

        Parameters
        ----------
        X : array-like or scipy.sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_targets), as y was
        """
        outputs = self._outputs(X)
        return outputs[:, 0] if self._y_1d else outputs
