"""What the epoch loop measures and says after each epoch, as ``network2.SGD``.

``monitors`` gives the four numbers that go into ``history_`` (cost and score
on the training and the evaluation data), ``divergence`` the error of an
epoch that made them non-finite; ``report`` prints the book's
``Epoch 3: 9512 / 10000`` line and moves the progress bar.  The evaluation
data is ``fit``'s ``eval_set`` (``check_eval_set``) or a share of the
training data held out (``split_validation``).
"""
import sys
import time

import numpy as np
from sklearn.model_selection import train_test_split

from .. import kernels  # type: ignore[attr-defined]  # kernels/, installed as fastnn.kernels
from . import _sparse
from ._params import read_only


def check_eval_set(estimator, eval_set, dtype):
    """(X_eval, Y_eval, y_eval) from ``eval_set``, validated as the training data."""
    if not (isinstance(eval_set, (tuple, list)) and len(eval_set) == 2):
        raise ValueError("eval_set must be a pair (X_eval, y_eval).")
    X_eval, y_eval = _sparse.validate(estimator, *eval_set, reset=False, dtype=dtype, order="C",
                                         multi_output=estimator._multi_output,
                                         y_numeric=estimator._multi_output)
    return X_eval, estimator._eval_targets(y_eval, dtype), y_eval


def split_validation(estimator, X, Y, y, sample_weight, seed):
    """Hold out ``validation_fraction`` of the data as evaluation data
    (stratified for classifiers), as ``network2`` holds out MNIST's 10,000."""
    fraction = estimator.validation_fraction
    stratify = y if estimator._stratify else None
    try:
        train, held = train_test_split(np.arange(X.shape[0]), test_size=fraction,
                                       random_state=seed, stratify=stratify)
    except ValueError as exc:
        raise ValueError(f"validation_fraction={fraction} cannot split {X.shape[0]} "
                         f"samples: {exc}") from None
    train.sort()
    held.sort()
    return X[train], Y[train], y[train], sample_weight[train], (X[held], Y[held], y[held])


def monitors(estimator, run):
    """(train cost, train score, eval cost, eval score), or None if the
    training cost is not finite (the epoch diverged).

    The training numbers are those of the epoch's own forward pass, each
    sample seen before its mini-batch's update (``run.outputs``,
    ``run.costs``: as scikit-learn's ``loss_curve_``, and free); the
    evaluation numbers come from one pass over the evaluation data after the
    epoch.  Each cost is Σ_x w_x C_x / n plus the penalty of the epoch's
    final weights with that set's own n, like ``network2.total_cost``.
    """
    # The penalty's Σ w² (or Σ |w|) once, divided by each set's own n.
    penalty = kernels.penalty_cost(run.params, run.layout, kernels.PENALTIES[estimator.penalty],
                                   estimator.lmbda, 1)
    train = _with_score(estimator, _sum_in_order(run.costs) / run.n + penalty / run.n,
                        run.outputs, run.y)
    if not np.isfinite(train[0]):
        return None
    if run.evaluation is None:
        return (*train, None, None)
    X_eval, Y_eval, y_eval = run.evaluation
    ones = read_only(np.ones(Y_eval.shape[0], dtype=Y_eval.dtype))
    hidden, out_act, cost = estimator._codes()
    outputs, total = kernels.evaluate(X_eval, Y_eval, ones, run.params, run.layout, hidden,
                                      out_act, cost)
    n_eval = Y_eval.shape[0]
    return (*train, *_with_score(estimator, total / n_eval + penalty / n_eval, outputs, y_eval))


def _sum_in_order(values):
    """Σ values, always in the same order (numpy's pairwise sum): reproducible.
    An overflow is inf, which the caller reads as a divergence: no warning."""
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.sum(values))


def _with_score(estimator, total, outputs, y):
    """(cost, score); the score is NaN where the cost is not finite (its
    outputs overflowed: there is nothing to score)."""
    if not np.isfinite(total):
        return total, np.nan
    # Finite but huge outputs may overflow in the score (R²'s squares): the
    # score is then inf or NaN, as it is, without numpy's warning.
    with np.errstate(over="ignore", invalid="ignore"):
        return total, estimator._score_outputs(outputs, y)


def divergence(estimator, eta, run):
    """The FloatingPointError for a diverged epoch, blaming what most likely caused it.

    An L2 decay factor 1 − ηλ/n below −1 makes the weights grow by
    themselves, and sample weights near float's limit overflow every
    gradient: a smaller η is no cure for either.
    """
    kept = f"The model keeps the {estimator.n_iter_} epoch(s) before it."
    where = f"made the weights or the cost non-finite in epoch {estimator.n_iter_}"
    decay = eta * estimator.lmbda / run.n
    if estimator.penalty == "l2" and decay > 2:
        return FloatingPointError(
            f"lmbda={estimator.lmbda:g} {where}: the L2 decay factor 1 - eta*lmbda/n = "
            f"{1 - decay:.3g} flips and grows the weights; try lmbda <= {run.n / eta:g} "
            f"(n/eta).  {kept}")
    heaviest = float(np.max(np.abs(run.sample_weight), initial=0.0))
    if heaviest > 1e6:
        return FloatingPointError(
            f"sample_weight up to {heaviest:g} {where}: weights that large overflow the "
            f"gradients; rescale them (sample_weight / sample_weight.mean(), say).  {kept}")
    return FloatingPointError(f"eta={eta:g} {where}; try eta <= {eta / 10:g}.  {kept}")


def report(estimator, monitors, run, started, progress):
    """The book's line for the epoch (``verbose``), then one step of the progress bar."""
    if estimator.verbose:
        evaluation = run.evaluation
        shown = monitors[:2] if evaluation is None else monitors[2:]
        n_shown = len(evaluation[2]) if evaluation is not None else run.n
        line = (f"Epoch {estimator.n_iter_ - 1}: "
                f"{estimator._format_score(shown[1], n_shown)}, cost {shown[0]:.3f}, "
                f"{time.perf_counter() - started:.2f} s")
        if progress.disable:
            print(line, flush=True)
        else:  # above the progress bar, not through it
            progress.write(line, file=sys.stdout)
    progress.update()
