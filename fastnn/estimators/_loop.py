"""The epoch loop of ``network2.SGD``, shared by ``FastNN`` and ``FastNNRegressor``.

Each epoch is one compiled call (``kernels.train_epoch``), then the four
monitors go into ``history_``: cost and accuracy on the training data as the
epoch's own pass saw them (as scikit-learn's ``loss_curve_``), and on the
evaluation data after the epoch.  Early stopping, the η schedule, divergence
and Ctrl-C are decided here, between epochs, in Python.
"""
import sys
import time
import warnings

import numpy as np
from tqdm.auto import tqdm

from .. import kernels  # type: ignore[attr-defined]  # kernels/, installed as fastnn.kernels
from ..persistence import _checkpoint
from . import _monitor, _rollback
from ._schedule import Schedule
from ._state import TrainingRun
from ._threads import blas_threads, numba_threads


class EpochLoop:
    """The epochs of a fit, between ``BaseFastNN._prepare`` and the fitted model.

    A mixin of ``BaseFastNN``: it reads the parameters and calls the
    ``_codes``, ``_set_parameters`` and ``_history_keys`` that the estimator
    classes define.
    """

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
                self._roll_back(run.last, run.plan)
            self._finish(run, problem, write=True)
        except BaseException as exc:
            self._roll_back(run.last, run.plan)
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
                # Drawn whether or not dropout uses it, so that the shuffles
                # stay the same; numba returns uint64 as a Python int: make it
                # uint64 again.  Without dropout the key is unused and
                # epoch_key is not compiled.
                seed = int(self._rng.integers(2 ** 63))
                key = (np.uint64(kernels.epoch_key(seed, self.n_iter_)) if self.dropout > 0
                       else np.uint64(0))
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

    # -- going back (``_rollback``) ------------------------------------------

    def _roll_back(self, snapshot, plan):
        """Put the estimator and ``plan`` back as they were when ``snapshot`` was taken."""
        vars(self).update(snapshot.attributes)
        for key, n in snapshot.lengths.items():
            # In place: loss_curve_ is the same list as history_["train_cost"].
            del self.history_[key][n:]
        self._rng.bit_generator.state = snapshot.rng
        plan.rewind(snapshot.plan)

    def _put_back(self, kept):
        """The estimator exactly as ``_rollback.keep`` saw it, its Generator's state included."""
        attributes, rng, state = kept
        vars(self).clear()
        vars(self).update(attributes)
        if rng is not None:
            rng.bit_generator.state = state
