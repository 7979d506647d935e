"""What ``FastNN`` and ``FastNNRegressor`` share: parameters, the epoch loop.

The loop follows ``network2.SGD``: each epoch is one compiled call
(``kernels.train_epoch``), then the four monitors go into ``history_``: cost
and accuracy on the training data as the epoch's own pass saw them (as
scikit-learn's ``loss_curve_``), and on the evaluation data after the epoch.
Early stopping, the η schedule, divergence and Ctrl-C are decided here,
between epochs, in Python.
"""
from __future__ import annotations

import os
import sys
import time
import warnings
from numbers import Integral, Real
from typing import Optional, Tuple

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
)
from tqdm.auto import tqdm

from .. import kernels  # type: ignore[attr-defined]  # kernels/, installed as fastnn.kernels
from .._typing import ArrayLike, MatrixLike, PathLike
from ..persistence import _checkpoint
from . import _monitor, _rollback, _sparse
from ._params import initial_parameters, make_rng, pack, unpack
from ._schedule import Schedule
from ._state import TrainingRun
from ._threads import blas_threads, numba_threads


class BaseFastNN(BaseEstimator):
    """Parameters and training loop; subclasses say what the outputs mean.

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
            _rollback.put_back(self, kept)
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
        return _checkpoint.resume(cls, checkpoint_dir, X, y, sample_weight, eval_set,
                                  n_threads=n_threads, verbose=verbose)

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

    # -- the epoch loop -------------------------------------------------------

    def _begin(self, X, Y, y, sample_weight, params, velocity, evaluation, checkpoint, schedule,
               best_params):
        """Everything the epochs share, with ``params`` committed as the model
        and a first ``Snapshot`` of it to go back to."""
        sizes = np.array([X.shape[1], *self._hidden_sizes(), Y.shape[1]], dtype=np.int64)
        plan = Schedule(self.eta, self.eta_schedule if schedule else "constant",
                        self.n_iter_no_change if schedule else None,
                        self.restore_best and schedule)
        if checkpoint is not None and checkpoint["schedule"] is not None:
            plan.restore(checkpoint["schedule"], best_params)
        self._commit(params, velocity, sizes)
        self.__dict__.pop("best_epoch_", None)
        run = TrainingRun.start(X, Y, y, sample_weight, params, velocity, evaluation, checkpoint,
                                sizes, plan,
                                kernels.Codes(*self._codes(), kernels.PENALTIES[self.penalty]),
                                self.mini_batch_size)
        run.last = _rollback.Snapshot(self, plan)
        return run

    def _train(self, run, epochs):
        """Up to ``epochs`` epochs, then the best weights and the final checkpoint.

        Whatever instant a Ctrl-C lands (or a divergence or any error stops
        the loop), the estimator goes back to ``run.last``, the snapshot of
        the last completed epoch, and is finished from there.
        """
        try:
            problem = self._epochs(run, epochs)
            if problem is not None:
                run.last.restore(self, run.plan)
            self._finish(run, problem, write=True)
        except BaseException as exc:
            run.last.restore(self, run.plan)
            problem = _rollback.interrupt_of(exc)
            if problem is None:
                raise
            self._finish(run, problem, write=False)
        self._act_on(problem)

    def _epochs(self, run, epochs):
        """The loop of ``network2.SGD``; returns the divergence that stopped it, if any."""
        plan = run.plan
        with numba_threads(self.n_threads) as n_threads, blas_threads(1), tqdm(
                total=epochs, unit="epoch", desc=type(self).__name__, leave=False,
                # tqdm's own rule for None: no bar where stderr is not a terminal
                # (CI, nohup, a pipe), where its redraws would garble the log.
                file=sys.stderr, disable=True if self.verbose < 2 else None) as progress:
            for _ in range(epochs):
                started = time.perf_counter()
                order = self._rng.permutation(run.n)
                # numba returns uint64 as a Python int: make it uint64 again.
                key = np.uint64(kernels.epoch_key(int(self._rng.integers(2 ** 63)),
                                                  self.n_iter_))
                hyper = kernels.Hyper(float(plan.eta), float(self.lmbda), float(self.momentum),
                                      float(self.dropout))
                finite = kernels.train_epoch(run.X, run.Y, run.sample_weight, order, run.params,
                                             run.velocity, run.layout, run.codes, hyper, key,
                                             run.n, run.mini_batch_size, run.outputs, run.costs,
                                             n_threads)
                monitors = _monitor.monitors(self, run) if finite else None
                if monitors is None:
                    return _monitor.divergence(self, plan.eta, run)
                self._record(monitors, run)
                score = monitors[3] if run.evaluation is not None else monitors[1]
                stop = plan.update(score, self.n_iter_ - 1, run.params)
                run.last = _rollback.Snapshot(self, plan)
                _monitor.report(self, monitors, run, started, progress)
                if stop:
                    break
                if run.checkpoint is not None and self.n_iter_ % self.checkpoint_every == 0:
                    _checkpoint.save_progress(self, run.checkpoint, plan, finished=False)
        return None

    def _finish(self, run, problem, write):
        """End with the best epoch's weights when early stopping kept them, and
        write the final checkpoint (``write``): finished, and marked diverged
        after a divergence, so that a new fit may replace it."""
        if run.plan.best_params is not None:
            self._set_parameters(run.plan.best_params, run.sizes)
            self.best_epoch_ = run.plan.best_epoch
        self.eta_ = run.plan.eta
        if write and run.checkpoint is not None and not isinstance(problem, KeyboardInterrupt):
            _checkpoint.save_progress(self, run.checkpoint, run.plan, finished=True,
                                      diverged=None if problem is None else str(problem))

    def _act_on(self, problem, stacklevel=5):
        """Raise or warn about a divergence or a Ctrl-C, once the model is whole.

        Warnings point at the user's call: _act_on ← _train ← _fit ← fit ← user.
        """
        if isinstance(problem, FloatingPointError):
            if self.on_divergence == "raise":
                raise problem
            warnings.warn(str(problem), RuntimeWarning, stacklevel=stacklevel)
        elif isinstance(problem, KeyboardInterrupt):
            if self.on_interrupt == "raise":
                raise problem
            warnings.warn(f"fit interrupted; the model keeps its {self.n_iter_} completed "
                          "epoch(s).", RuntimeWarning, stacklevel=stacklevel)

    def _commit(self, params, velocity, sizes):
        """Make ``params`` the fitted model (copies: the loop keeps training)."""
        self._set_parameters(params, sizes)
        self._velocity = velocity.copy()

    def _record(self, monitors, run):
        """Make the epoch just run part of the model: its history, ``n_iter_``,
        weights and velocity together (``_train`` rolls back a half-done one)."""
        for key, value in zip(self._history_keys(), monitors):
            if value is not None:
                self.history_[key].append(float(value))
        self.n_iter_ += 1
        self._commit(run.params, run.velocity, run.sizes)

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
        # Prediction is not the model: BLAS may split its products between threads.
        with numba_threads(self.n_threads) as n_threads, blas_threads(n_threads):
            outputs = kernels.predict_outputs(_sparse.kernel_input(X), params, self._layout(),
                                              hidden, output, normalize)
        bad = ~np.all(np.isfinite(outputs), axis=1)
        if bad.any():
            raise ValueError(
                f"{bad.sum()} of {X.shape[0]} rows of X give non-finite outputs (the largest |x| "
                f"in them is {_sparse.rows_max_abs(X, bad):.3g}): these inputs are far outside "
                "what the model can handle.  Scale X as the training data was, or leave those "
                "rows out.")
        return outputs

    def save(self, path: PathLike) -> None:
        """Save the fitted model to ``path``: a .npz of arrays and JSON that
        ``fastnn.load`` reads back without running any code (see ``fastnn.persistence._model_file``)."""
        from ..persistence._model_file import save
        save(self, path)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = True
        return tags
