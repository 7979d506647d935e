"""``FastNN``, the classifier: the scikit-learn face of fastnn's kernels
(``FastNNRegressor`` is in ``_regressor.py``).

It validates its input once, converts it to C-contiguous float32 or float64
(or CSR), and hands it to the shared epoch loop (``_loop``): one compiled
call per epoch.
"""
from __future__ import annotations

from typing import Optional, Tuple, Union

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets

from .. import kernels  # type: ignore[attr-defined]  # kernels/, installed as fastnn.kernels
from .._typing import ArrayLike, LayerSizes, MatrixLike, PathLike, RandomState
from ._base import BaseFastNN
from ._docstrings import SHARED_ATTRIBUTES as _SHARED_ATTRIBUTES
from ._docstrings import SHARED_PARAMETERS as _SHARED_DOC


class FastNN(ClassifierMixin, BaseFastNN):
    __doc__ = """A fully-connected network trained by mini-batch SGD, as in
    Nielsen's *Neural Networks and Deep Learning* (ch. 1–3).

    Each epoch shuffles the training set, splits it into mini-batches of m
    samples and, for each, updates

        w ← (1 − ηλ/n) w − (η/m) Σ_x ∂C_x/∂w,    b ← b − (η/m) Σ_x ∂C_x/∂b

    with n the training-set size; the biases are never regularised.  One
    output neuron per class; the prediction is the most active one.

    Parameters
    ----------""" + _SHARED_DOC.format(eta=0.5) + """    cost : {"cross_entropy", "quadratic", "log_likelihood"}, default="cross_entropy"
        Cross-entropy and quadratic cost use sigmoid output neurons,
        log-likelihood uses a softmax output layer (ch. 3).
    class_weight : None, "balanced" or dict, default=None
        Multiplies each sample's weight by its class's: "balanced" uses
        n / (n_classes · count(class)).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)""" + _SHARED_ATTRIBUTES.format(score="accuracy") + """
    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from fastnn import FastNN
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = FastNN(epochs=5, random_state=0).fit(X / 16, y)
    >>> clf.score(X / 16, y) > 0.9
    True
    """

    _parameter_constraints = {
        **BaseFastNN._parameter_constraints,
        "cost": [StrOptions(set(kernels.COSTS))],
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }
    _multi_output = False
    _stratify = True

    def __init__(self, hidden_layer_sizes: LayerSizes = (30,), eta: float = 0.5, lmbda: float = 0.0,
                 penalty: str = "l2", mini_batch_size: int = 10, epochs: int = 30,
                 momentum: float = 0.0, dropout: float = 0.0, activation: str = "sigmoid",
                 init: str = "default", eta_schedule: str = "constant",
                 n_iter_no_change: Optional[int] = None, restore_best: bool = True,
                 validation_fraction: Optional[float] = None, warm_start: bool = False,
                 on_divergence: str = "raise", on_interrupt: str = "raise",
                 random_state: RandomState = None, n_threads: Optional[int] = None,
                 verbose: int = 0, checkpoint_dir: Optional[PathLike] = None,
                 checkpoint_every: int = 1, cost: str = "cross_entropy",
                 class_weight: Union[str, dict, None] = None) -> None:
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
        self.cost = cost
        self.class_weight = class_weight

    def fit(self, X: MatrixLike, y: ArrayLike, sample_weight: Optional[ArrayLike] = None,
            eval_set: Optional[Tuple[MatrixLike, ArrayLike]] = None) -> FastNN:
        """Train on (X, y) for ``epochs`` epochs of mini-batch SGD.

        Parameters
        ----------
        X : array-like or scipy.sparse matrix of shape (n_samples, n_features)
            float32 input trains a float32 model; anything else float64.
        y : array-like of shape (n_samples,)
            Class labels of any type (at least two classes).
        sample_weight : array-like of shape (n_samples,), optional
            Scales each sample's gradient; a weight of 0 removes the sample.
        eval_set : tuple (X_eval, y_eval), optional
            Evaluation data for ``history_``, ``verbose`` and early stopping.

        Returns
        -------
        self : FastNN
        """
        return self._fit(X, y, sample_weight, eval_set, incremental=False)

    def partial_fit(self, X: MatrixLike, y: ArrayLike, classes: Optional[ArrayLike] = None,
                    sample_weight: Optional[ArrayLike] = None) -> FastNN:
        """One epoch of SGD on (X, y), continuing from the current weights.

        k calls on the same data give the model of ``fit`` with ``epochs=k``.

        Parameters
        ----------
        X : array-like or scipy.sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), optional
            Every label there will ever be; required on the first call.
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self : FastNN
        """
        if not hasattr(self, "classes_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return self._fit(X, y, sample_weight, None, incremental=True, classes=classes)

    def _cost_name(self):
        return self.cost

    def _history_keys(self):
        return ("train_cost", "train_accuracy", "eval_cost", "eval_accuracy")

    def _targets(self, y, sample_weight, X, first, classes):
        """One-hot Y and the weights times the class weights."""
        check_classification_targets(y)
        if first:
            found = np.unique(y) if classes is None else np.unique(np.asarray(classes))
            if classes is not None and not np.isin(np.unique(y), found).all():
                raise ValueError(f"y has labels not in classes={found.tolist()!r}.")
            if len(found) < 2:
                raise ValueError(f"FastNN needs at least 2 classes to learn from; y has 1 "
                                 f"class: {found.tolist()!r}.")
            self.classes_ = found
        else:
            unknown = np.setdiff1d(np.unique(y), self.classes_)
            if len(unknown):
                raise ValueError(f"y has labels {unknown.tolist()!r} that the fitted model "
                                 f"does not know ({self.classes_.tolist()!r}).")
        if self.class_weight is not None:
            class_weights = compute_sample_weight(self.class_weight, y)
            with np.errstate(over="ignore"):  # an infinite product is refused as a weight
                sample_weight = class_weights if sample_weight is None else (
                    np.asarray(sample_weight, dtype=np.float64) * class_weights)
        return self._eval_targets(y, X.dtype), sample_weight

    def _eval_targets(self, y, dtype):
        index = np.searchsorted(self.classes_, y)
        index[index == len(self.classes_)] = 0
        known = self.classes_[index] == y
        Y = np.zeros((len(y), len(self.classes_)), dtype=dtype)
        Y[np.flatnonzero(known), index[known]] = 1
        return Y

    def _score_outputs(self, outputs, y):
        return float(np.mean(self.classes_[np.argmax(outputs, axis=1)] == y))

    def _format_score(self, accuracy, n):
        return f"{round(accuracy * n)} / {n}"

    def predict_proba(self, X: MatrixLike) -> np.ndarray:
        """Class probabilities.

        Softmax outputs as they are; sigmoid outputs divided by their sum,
        which keeps the book's prediction argmax a^L.

        Parameters
        ----------
        X : array-like or scipy.sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), the model's dtype
            Columns in the order of ``classes_``.
        """
        return self._outputs(X, normalize=True)

    def predict(self, X: MatrixLike) -> np.ndarray:
        """The class of the most active output neuron, argmax a^L.

        Parameters
        ----------
        X : array-like or scipy.sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        outputs = self._outputs(X)  # checks the fit first
        return self.classes_[np.argmax(outputs, axis=1)]
