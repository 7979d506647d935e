"""``FastNN``: the scikit-learn face of fastnn's kernels.

The estimator validates its input once, converts it to C-contiguous float32 or
float64, and then calls the kernels: one compiled call per epoch, the epoch
loop (shuffles, progress lines) here in Python.
"""
import time
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from . import kernels
from ._params import initial_parameters, make_rng, pack, unpack
from ._threads import n_chunks, numba_threads

class FastNN(ClassifierMixin, BaseEstimator):
    """A fully-connected sigmoid network trained by mini-batch SGD, as in
    Nielsen's *Neural Networks and Deep Learning* (ch. 1–3).

    Each epoch shuffles the training set, splits it into mini-batches of
    ``mini_batch_size`` samples and, for each, updates

        w ← (1 − ηλ/n) w − (η/m) Σ_x ∂C_x/∂w,    b ← b − (η/m) Σ_x ∂C_x/∂b

    with n the training-set size and m the mini-batch size; the biases are
    never regularised.  One output neuron per class; the prediction is the
    most active one.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(30,)
        Neurons in each hidden layer; the input and output layers come from
        the data.  ``(30,)`` on MNIST gives the book's 784-30-10 network.
    eta : float, default=0.5
        Learning rate η.
    lmbda : float, default=0.0
        L2 regularisation parameter λ, as in the book: the cost gains
        (λ/2n) Σ w².  scikit-learn's ``MLPClassifier`` scales its ``alpha`` by
        the mini-batch instead, so the same decay is ``alpha = lmbda · m / n``
        (m = ``mini_batch_size``, n = number of training samples).
    mini_batch_size : int, default=10
        m.  1 is online learning.  The last mini-batch of an epoch may be
        smaller, as in the book.
    epochs : int, default=30
        Passes over the training data.
    cost : {"cross_entropy", "quadratic", "log_likelihood"}, default="cross_entropy"
        Cross-entropy and quadratic cost use sigmoid output neurons,
        log-likelihood uses a softmax output layer (ch. 3).
    activation : {"sigmoid", "tanh", "relu"}, default="sigmoid"
        Activation of the hidden neurons.
    init : {"default", "large"}, default="default"
        Initial weights N(0, 1/n_in) (ch. 3), or N(0, 1) as in ch. 1.
        Biases are N(0, 1) in both.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights and the per-epoch shuffles.  The same int
        gives a bitwise-identical model whatever ``n_threads`` is.
    n_threads : int or None, default=None
        Numba threads used by this estimator's kernels; None uses numba's
        current setting.  Changes nothing outside the call.
    verbose : int, default=0
        1 prints one line per epoch in the book's style:
        ``Epoch 3: 431 / 450, 0.01 s`` (evaluation data if given to ``fit``,
        otherwise training data).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coefs_ : list of ndarray
        ``coefs_[l]`` has shape (fan_in, fan_out), as in scikit-learn.
    intercepts_ : list of ndarray
        ``intercepts_[l]`` has shape (fan_out,).
    n_features_in_ : int
    n_layers_ : int
        Layers including input and output.
    n_outputs_ : int
        Output neurons (one per class).
    out_activation_ : str
        "sigmoid" or "softmax".
    n_iter_ : int
        Epochs run.

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
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "eta": [Interval(Real, 0, None, closed="neither")],
        "lmbda": [Interval(Real, 0, None, closed="left")],
        "mini_batch_size": [Interval(Integral, 1, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "cost": [StrOptions(set(kernels.COSTS))],
        "activation": [StrOptions(set(kernels.HIDDEN_ACTIVATIONS))],
        "init": [StrOptions({"default", "large"})],
        "random_state": ["random_state"],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        hidden_layer_sizes=(30,),
        eta=0.5,
        lmbda=0.0,
        mini_batch_size=10,
        epochs=30,
        cost="cross_entropy",
        activation="sigmoid",
        init="default",
        random_state=None,
        n_threads=None,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.eta = eta
        self.lmbda = lmbda
        self.mini_batch_size = mini_batch_size
        self.epochs = epochs
        self.cost = cost
        self.activation = activation
        self.init = init
        self.random_state = random_state
        self.n_threads = n_threads
        self.verbose = verbose

    def fit(self, X, y, eval_set=None):
        """Train on (X, y) for ``epochs`` epochs of mini-batch SGD.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            float32 input trains a float32 model; anything else float64.
        y : array-like of shape (n_samples,)
            Class labels of any type (at least two classes).
        eval_set : tuple (X_eval, y_eval), optional
            Held-out data whose accuracy ``verbose`` reports each epoch.

        Returns
        -------
        self : FastNN
        """
        before = dict(self.__dict__)
        try:
            return self._fit(X, y, eval_set)
        except BaseException:
            # A failed fit leaves the estimator exactly as it was.
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _fit(self, X, y, eval_set):
        self._validate_params()
        hidden = self._hidden_sizes()
        X, y = validate_data(self, X, y, dtype=(np.float64, np.float32), order="C")
        check_classification_targets(y)
        classes, y_index = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"FastNN needs at least 2 classes to learn from; y has 1 class: {classes.tolist()!r}."
            )
        Y = np.zeros((len(y_index), len(classes)), dtype=X.dtype)
        Y[np.arange(len(y_index)), y_index] = 1
        if eval_set is not None:
            X_eval, y_eval = self._check_eval_set(eval_set, X.dtype)

        self.classes_ = classes
        sizes = np.array([X.shape[1], *hidden, len(classes)], dtype=np.int64)
        rng = make_rng(self.random_state)
        params = pack(*initial_parameters(sizes, self.init, rng, X.dtype))
        layout, _, _ = kernels.make_layout(sizes)
        codes = self._codes()
        n = X.shape[0]
        mini_batch_size = min(self.mini_batch_size, n)

        with numba_threads(self.n_threads) as n_threads:
            chunks = n_chunks(n_threads, mini_batch_size)
            for epoch in range(self.epochs):
                started = time.perf_counter()
                order = rng.permutation(n)
                kernels.train_epoch(X, Y, order, params, layout, *codes, float(self.eta),
                                    float(self.lmbda), n, mini_batch_size, chunks)
                self._set_parameters(params, sizes)
                self.n_iter_ = epoch + 1
                if self.verbose:
                    if eval_set is not None:
                        correct, total = self._n_correct(X_eval, y_eval), len(y_eval)
                    else:
                        correct, total = int(np.sum(self._predict_index(X) == y_index)), n
                    print(f"Epoch {epoch}: {correct} / {total}, "
                          f"{time.perf_counter() - started:.2f} s", flush=True)
        return self

    def _hidden_sizes(self):
        hidden = self.hidden_layer_sizes
        hidden = [hidden] if isinstance(hidden, Integral) else list(hidden)
        if not all(isinstance(h, Integral) and h >= 1 for h in hidden):
            raise ValueError(
                f"hidden_layer_sizes must be positive integers; got {self.hidden_layer_sizes!r}."
            )
        return hidden

    def _codes(self):
        """(hidden, output, cost) codes for the kernels."""
        return (
            kernels.HIDDEN_ACTIVATIONS[self.activation],
            kernels.OUTPUT_ACTIVATIONS[kernels.OUTPUT_OF_COST[self.cost]],
            kernels.COSTS[self.cost],
        )

    def _check_eval_set(self, eval_set, dtype):
        if not (isinstance(eval_set, (tuple, list)) and len(eval_set) == 2):
            raise ValueError("eval_set must be a pair (X_eval, y_eval).")
        X_eval, y_eval = validate_data(self, *eval_set, reset=False, dtype=dtype, order="C")
        return X_eval, y_eval

    def _set_parameters(self, params, sizes):
        weights, biases = unpack(params.copy(), sizes)
        self.coefs_ = weights
        self.intercepts_ = biases
        self.n_layers_ = len(sizes)
        self.n_outputs_ = int(sizes[-1])
        self.out_activation_ = kernels.OUTPUT_OF_COST[self.cost]

    def _layout(self):
        sizes = np.array([self.n_features_in_, *(b.shape[0] for b in self.intercepts_)],
                         dtype=np.int64)
        return kernels.make_layout(sizes)[0]

    def _outputs(self, X, normalize):
        """a^L for X, validated against the fitted model and cast to its dtype."""
        check_is_fitted(self)
        dtype = self.coefs_[0].dtype
        X = validate_data(self, X, reset=False, dtype=dtype, order="C")
        hidden, output, _ = self._codes()
        params = pack(self.coefs_, self.intercepts_)
        with numba_threads(self.n_threads):
            return kernels.predict_outputs(X, params, self._layout(), hidden, output, normalize)

    def _predict_index(self, X):
        return np.argmax(self._outputs(X, normalize=False), axis=1)

    def _n_correct(self, X, y):
        return int(np.sum(self.classes_[self._predict_index(X)] == y))

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes).

        Softmax outputs as they are; sigmoid outputs divided by their sum,
        which keeps the book's prediction argmax a^L.
        """
        return self._outputs(X, normalize=True)

    def predict(self, X):
        """The class of the most active output neuron, shape (n_samples,)."""
        index = self._predict_index(X)  # checks the fit first
        return self.classes_[index]
