"""What ``FastNN`` and ``FastNNRegressor`` share: parameters, validation,
prediction, and the epoch loop (``_loop.EpochLoop``).

``fit`` and ``partial_fit`` go through ``_fit``: validate and convert the
data once (``_prepare``), then hand it to the epoch loop.
"""
from __future__ import annotations

import os
from numbers import Integral, Real
from typing import Optional, Tuple

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
)

from .. import kernels  # type: ignore[attr-defined]  # kernels/, installed as fastnn.kernels
from .._typing import ArrayLike, MatrixLike, PathLike
from ..persistence import _checkpoint, _model_file
from . import _monitor, _rollback, _sparse
from ._loop import EpochLoop
from ._params import initial_parameters, make_rng, pack, unpack
from ._threads import blas_threads, numba_threads


class BaseFastNN(EpochLoop, BaseEstimator):
    """Parameters, validation, prediction and (from ``EpochLoop``) the training
    loop; subclasses say what the outputs mean.

    A subclass defines ``_targets(y, first)`` → (Y, y_kept) and
    ``_score_outputs(outputs, y)``, and the names ``_cost_name``,
    ``_score_name``.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "eta": [Interval(Real, 0, None, closed="neither")],
        "lmbda": [Interval(Real, 0, None, closed="left")],
        "penalty": [StrOptions(set(kernels.PENALTIES))],
        "mini_batch_size": [Interval(Integral, 1, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "activation": [StrOptions(set(kernels.HIDDEN_ACTIVATIONS))],
        "init": [StrOptions({"default", "large"})],
        "eta_schedule": [StrOptions({"constant", "halve"})],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
        "restore_best": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "warm_start": ["boolean"],
        "on_divergence": [StrOptions({"raise", "warn"})],
        "on_interrupt": [StrOptions({"raise", "stop"})],
        "random_state": ["random_state"],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "verbose": ["verbose"],
        "checkpoint_dir": [str, os.PathLike, None],
        "checkpoint_every": [Interval(Integral, 1, None, closed="left")],
    }

    # -- the fit entry points -------------------------------------------------

    def _fit(self, X, y, sample_weight, eval_set, incremental, classes=None, resume=None):
        """Validate, then train; a fit that fails (or is interrupted) before its
        first epoch leaves the estimator exactly as it was.  ``resume`` is a
        checkpoint's (state, best weights)."""
        kept = _rollback.keep(self)
        try:
            *data, checkpoint = self._prepare(X, y, sample_weight, eval_set, incremental,
                                              classes, resume)
            run = self._begin(*data, checkpoint, schedule=not incremental,
                              best_params=resume[1] if resume else None)
        except BaseException:
            self._put_back(kept)
            raise
        if incremental:
            epochs = 1
        else:
            # A resumed fit runs to the epoch the interrupted one was asked for.
            epochs = checkpoint["epochs"] - self.n_iter_ if checkpoint else self.epochs
        self._train(run, epochs)
        return self

    @classmethod
    def resume(cls, checkpoint_dir: PathLike, X: MatrixLike, y: ArrayLike,
               sample_weight: Optional[ArrayLike] = None,
               eval_set: Optional[Tuple[MatrixLike, ArrayLike]] = None, *,
               n_threads: Optional[int] = None, verbose: Optional[int] = None) -> BaseFastNN:
        """Continue a ``fit`` from the checkpoint it left in ``checkpoint_dir``.

        The result is bitwise the model the fit would have given had it never
        stopped, provided the same data is passed again (checked against the
        checkpoint's fingerprint of it).  Further checkpoints go to the same
        folder.  A checkpoint of a finished fit is returned as it is,
        without looking at the data; one of a fit that diverged first raises
        its ``FloatingPointError`` again (or warns, with
        ``on_divergence="warn"``): fit anew with a smaller eta instead, which
        may reuse ``checkpoint_dir``.

        Parameters
        ----------
        checkpoint_dir : str or path-like
            The ``checkpoint_dir`` of the interrupted fit.
        X, y, sample_weight, eval_set
            Exactly what was passed to that ``fit``.
        n_threads, verbose : optional
            Override the saved values (neither changes the model).

        Returns
        -------
        estimator : the fitted estimator

        Raises
        ------
        FileNotFoundError
            If the folder holds no checkpoint.
        ValueError
            If the checkpoint is damaged, of another class, or was written by
            a fit on other data.
        FloatingPointError
            If the checkpointed fit diverged (and ``on_divergence="raise"``).
        """
        estimator, state, best_params = _checkpoint.read(checkpoint_dir, cls)
        overrides = {"n_threads": n_threads, "verbose": verbose}
        estimator.set_params(checkpoint_dir=checkpoint_dir,
                             **{k: v for k, v in overrides.items() if v is not None})
        estimator._validate_params()
        if state["finished"]:
            if state.get("diverged") is not None:  # absent from older checkpoints
                # What the fit did when it diverged (resume <- user: stacklevel 3).
                estimator._act_on(FloatingPointError(
                    f"{state['diverged']}  (That is how the fit saved in "
                    f"{os.fspath(checkpoint_dir)} ended; fit again with a smaller eta: the new "
                    "fit replaces this checkpoint.)"), stacklevel=3)
            return estimator
        return estimator._fit(X, y, sample_weight, eval_set, incremental=False,
                              resume=(state, best_params))

    @classmethod
    def _from_fitted(cls, params, attributes):
        """An estimator with ``params`` and the fitted ``attributes`` given, without training.

        How a model file or a checkpoint becomes an estimator again: called
        by ``fastnn.persistence`` (for ``fastnn.load`` and ``resume``), so
        that nothing outside the class sets its private attributes.

        Parameters
        ----------
        params : dict
            ``get_params()`` as saved; validated against ``_parameter_constraints``.
        attributes : dict
            Fitted attribute name → value, as the model file's reader checked
            them: the public ones ending in ``_`` and the private state a
            further fit continues from (``_velocity``, ``_rng``, ``_y_1d``).

        Returns
        -------
        estimator : cls, fitted

        Raises
        ------
        ValueError or TypeError
            If ``params`` are not valid for ``cls``.
        """
        estimator = cls()
        estimator.set_params(**params)
        estimator._validate_params()
        vars(estimator).update(attributes)
        return estimator

    def _continues(self, incremental):
        return (incremental or self.warm_start) and hasattr(self, "coefs_")

    def _prepare(self, X, y, sample_weight, eval_set, incremental, classes, resume):
        self._validate_params()
        continuing = resume is not None or self._continues(incremental)
        dtype = self.coefs_[0].dtype if continuing else (np.float64, np.float32)
        X, y = _sparse.validate(self, X, y, reset=not continuing, dtype=dtype, order="C",
                              multi_output=self._multi_output, y_numeric=self._multi_output)
        if continuing:
            self._check_same_layers()
        Y, weights = self._targets(y, sample_weight, X, first=not continuing, classes=classes)
        if continuing and Y.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {Y.shape[1]} targets; the fitted model has "
                             f"{self.n_outputs_}.")
        with np.errstate(over="ignore", invalid="ignore"):  # as in _validate
            sample_weight = _check_sample_weight(weights, X, dtype=X.dtype,
                                                 ensure_non_negative=True)
        if not np.all(np.isfinite(sample_weight)):
            raise ValueError(f"sample_weight must be finite numbers within {X.dtype}'s range.")
        # A zero weight means "not there": drop the sample, so that n, the
        # mini-batches and ηλ/n are those of the data without it.
        present = sample_weight > 0
        if not present.any():
            raise ValueError("Every sample has weight 0: nothing to learn from.")
        rng, params, velocity = self._start_parameters(continuing, X.shape[1], Y.shape[1],
                                                       X.dtype)
        evaluation = None
        if eval_set is not None:
            if incremental:
                raise ValueError("partial_fit takes no eval_set; pass it to fit.")
            evaluation = _monitor.check_eval_set(self, eval_set, X.dtype)
        checkpoint = None
        if not incremental and (resume is not None or self.checkpoint_dir is not None):
            arrays = (X, Y, sample_weight, *(evaluation[:2] if evaluation else (None, None)))
            checkpoint = _checkpoint.start(self.checkpoint_dir, self.n_iter_ + self.epochs,
                                           resume and resume[0], arrays)
        if not present.all():
            X, Y, y, sample_weight = X[present], Y[present], y[present], sample_weight[present]

        if evaluation is None and self.validation_fraction is not None and not incremental:
            seed = resume[0]["split_seed"] if resume else int(rng.integers(2 ** 31))
            X, Y, y, sample_weight, evaluation = _monitor.split_validation(
                self, X, Y, y, sample_weight, seed)
            if checkpoint is not None:
                checkpoint["split_seed"] = seed
        self._rng = rng
        return X, Y, y, sample_weight, params, velocity, evaluation, checkpoint

    def _start_parameters(self, continuing, n_in, n_out, dtype):
        """(Generator, parameters, velocity) to train from: the fitted ones
        when continuing, else fresh ones, with an empty history."""
        if continuing:
            params = pack(self.coefs_, self.intercepts_)
            velocity = getattr(self, "_velocity", None)
            if velocity is None or velocity.shape != params.shape:
                velocity = np.zeros_like(params)
            return self._rng, params, velocity
        rng = make_rng(self.random_state)
        sizes = [n_in, *self._hidden_sizes(), n_out]
        params = pack(*initial_parameters(sizes, self.init, rng, dtype))
        self.n_iter_ = 0
        self.history_ = {key: [] for key in self._history_keys()}
        self.loss_curve_ = self.history_["train_cost"]
        return rng, params, np.zeros_like(params)

    # -- helpers --------------------------------------------------------------

    def _hidden_sizes(self):
        hidden = self.hidden_layer_sizes
        hidden = [hidden] if isinstance(hidden, Integral) else list(hidden)
        if not all(isinstance(h, Integral) and h >= 1 for h in hidden):
            raise ValueError(
                f"hidden_layer_sizes must be positive integers; got {self.hidden_layer_sizes!r}."
            )
        return hidden

    def _check_same_layers(self):
        """warm_start and partial_fit continue the fitted layers; a changed
        ``hidden_layer_sizes`` would silently be ignored, so refuse it."""
        fitted = [b.shape[0] for b in self.intercepts_[:-1]]
        if fitted != self._hidden_sizes():
            raise ValueError(
                f"hidden_layer_sizes={self.hidden_layer_sizes!r} differs from the fitted "
                f"{tuple(fitted)}; set warm_start=False (or refit) to change the layers."
            )

    def _codes(self):
        """(hidden, output, cost) codes for the kernels."""
        return (kernels.HIDDEN_ACTIVATIONS[self.activation],
                kernels.OUTPUT_ACTIVATIONS[self._output_activation()],
                kernels.COSTS[self._cost_name()])

    def _output_activation(self):
        return kernels.OUTPUT_OF_COST[self._cost_name()]

    def _set_parameters(self, params, sizes):
        weights, biases = unpack(params.copy(), sizes)
        self.coefs_ = weights
        self.intercepts_ = biases
        self.n_layers_ = len(sizes)
        self.n_outputs_ = int(sizes[-1])
        self.out_activation_ = self._output_activation()

    def _layout(self):
        sizes = np.array([self.n_features_in_, *(b.shape[0] for b in self.intercepts_)],
                         dtype=np.int64)
        return kernels.make_layout(sizes)[0]

    def _outputs(self, X, normalize=False):
        """a^L for X, validated against the fitted model and cast to its dtype.

        Raises ValueError rather than return a non-finite output: finite
        weights give one only for inputs whose activations overflow.
        """
        check_is_fitted(self)
        X = _sparse.validate(self, X, reset=False, dtype=self.coefs_[0].dtype, order="C")
        hidden, output, _ = self._codes()
        params = pack(self.coefs_, self.intercepts_)
        if not np.all(np.isfinite(params)):
            raise ValueError("The model's weights are not finite; refit it with a smaller eta.")
        # The threads share the rows (``kernels.predict``), each with BLAS on one.
        with numba_threads(self.n_threads) as n_threads, blas_threads(1):
            outputs = kernels.predict_outputs(_sparse.kernel_input(X), params, self._layout(),
                                              hidden, output, normalize, n_threads)
        bad = ~np.all(np.isfinite(outputs), axis=1)
        if bad.any():
            raise ValueError(
                f"{bad.sum()} of {X.shape[0]} rows of X give non-finite outputs (the largest |x| "
                f"in them is {_sparse.rows_max_abs(X, bad):.3g}): these inputs are far outside "
                "what the model can handle.  Scale X as the training data was, or leave those "
                "rows out.")
        return outputs

    def save(self, path: PathLike) -> None:
        """Save the fitted model to ``path``, atomically.

        The file is a .npz of arrays and JSON that ``fastnn.load`` reads back
        without running any code (its format: ``fastnn.persistence._model_file``).

        Parameters
        ----------
        path : str or path-like
            Used as given (no ``.npz`` is appended).

        Raises
        ------
        ValueError
            If the estimator is not fitted, or holds something the format
            cannot store.
        """
        _model_file.save(self, path)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = True
        return tags
