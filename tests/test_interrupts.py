"""Divergence and Ctrl-C: whatever stops a fit, the estimator keeps the model
of its last completed epoch (``_rollback``), raises or warns as asked, and a
checkpointed fit continues to the uninterrupted model."""
import os
import signal
import threading
import time

import numpy as np
import pytest

from fastnn import FastNN, FastNNRegressor, kernels
from fastnn.estimators import _monitor, _rollback
from fastnn.estimators._base import BaseFastNN
from fastnn.estimators._params import initial_parameters, make_rng
from fastnn.estimators._schedule import Schedule
from fastnn.persistence import _checkpoint

from .test_training import _same_model

FAST = dict(epochs=3, random_state=0)


# -- divergence and Ctrl-C ----------------------------------------------------

def _diverging(**kwargs):
    # Identity outputs with the quadratic cost: η = 50 overflows within epochs.
    rng = np.random.default_rng(0)
    X = rng.random((200, 5))
    return FastNNRegressor(eta=50.0, epochs=50, random_state=0, **kwargs), X, X @ [1, 2, 3, 4, 5]


def test_divergence_raises_naming_the_epoch_and_keeps_the_last_finite_model():
    reg, X, y = _diverging()
    with pytest.raises(FloatingPointError, match=r"eta=50 .* epoch \d+; try eta <= 5"):
        reg.fit(X, y)
    assert all(np.isfinite(w).all() for w in reg.coefs_ + reg.intercepts_)
    assert reg.n_iter_ == len(reg.history_["train_cost"]) < 50
    assert np.isfinite(reg.predict(X)).all()


def test_divergence_can_warn_instead():
    reg, X, y = _diverging(on_divergence="warn")
    with pytest.warns(RuntimeWarning, match="non-finite"):
        reg.fit(X, y)
    assert reg.n_iter_ < 50


def _interrupt_after_epochs(clf, epochs):
    """Deliver a real SIGINT to this process, as Ctrl-C does, once ``clf`` has
    completed ``epochs`` epochs: a condition, never a fixed time, so a loaded
    machine cannot make it land before the fit or after it."""
    def watch():
        while getattr(clf, "n_iter_", 0) < epochs:
            time.sleep(0.005)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=watch, daemon=True).start()


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(),
                    reason="SIGINT is delivered to the main thread")
def test_ctrl_c_keeps_the_completed_epochs_and_reraises(digits):
    X, y = digits
    clf = FastNN(epochs=100_000, random_state=0)
    _interrupt_after_epochs(clf, 3)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert 0 < clf.n_iter_ < 100_000
    assert len(clf.history_["train_cost"]) == clf.n_iter_
    assert clf.predict(X[:5]).shape == (5,)


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(),
                    reason="SIGINT is delivered to the main thread")
def test_ctrl_c_with_on_interrupt_stop_returns_the_fitted_model(digits):
    X, y = digits
    clf = FastNN(epochs=100_000, on_interrupt="stop", random_state=0)
    _interrupt_after_epochs(clf, 3)
    with pytest.warns(RuntimeWarning, match="interrupted"):
        clf.fit(X, y)
    assert 0 < clf.n_iter_ < 100_000 and clf.score(X, y) > 0.5


# A KeyboardInterrupt made to land at one instant of a 5-epoch fit: (object,
# attribute, which call, before or after the call does its work, epochs the
# model should keep).  _commit's first call stores the initial weights, and
# Snapshot's first call is taken of them; save_progress's sixth call is the
# final checkpoint.
INTERRUPTS = {
    "inside the compiled epoch": (kernels, "train_epoch", 3, "before", 2),
    "after the compiled epoch changed the weights": (kernels, "train_epoch", 3, "after", 2),
    "as the compiled epoch returns (a SystemError)": (kernels, "train_epoch", 3, "system", 2),
    "before the epoch is recorded": (BaseFastNN, "_record", 3, "before", 2),
    "after its history, in storing its weights": (BaseFastNN, "_commit", 4, "before", 2),
    "after its weights, before the schedule": (BaseFastNN, "_commit", 4, "after", 2),
    "in the schedule": (Schedule, "update", 3, "after", 2),
    "while the epoch's snapshot is taken": (_rollback.Snapshot, "__init__", 4, "after", 2),
    "in the epoch's line": (_monitor, "report", 3, "before", 3),
    "before a checkpoint is written": (_checkpoint, "save_progress", 3, "before", 3),
    "after a checkpoint is written": (_checkpoint, "save_progress", 3, "after", 3),
    "in the final checkpoint": (_checkpoint, "save_progress", 6, "before", 5),
    "after the final checkpoint": (_checkpoint, "save_progress", 6, "after", 5),
    "in finishing the fit": (BaseFastNN, "_finish", 1, "before", 5),
}
INTERRUPTED = dict(hidden_layer_sizes=(10,), momentum=0.5, dropout=0.2, random_state=0)


def _interrupt_at(monkeypatch, owner, name, call, when):
    """Make the ``call``-th call of ``owner.name`` raise a KeyboardInterrupt
    before or after it does its work (or, "system", the SystemError a Ctrl-C
    becomes while a compiled kernel returns)."""
    original, calls = getattr(owner, name), []

    def interrupted(*args, **kwargs):
        calls.append(None)
        if len(calls) == call and when == "before":
            raise KeyboardInterrupt
        result = original(*args, **kwargs)
        if len(calls) == call and when == "after":
            raise KeyboardInterrupt
        if len(calls) == call:
            raise SystemError("returned a result with an exception set") from KeyboardInterrupt()
        return result
    monkeypatch.setattr(owner, name, interrupted)


def _interrupted_fit(monkeypatch, tmp_path, digits, case):
    """(the interrupted estimator, the data, the epochs it should keep)."""
    X, y = digits
    data = (X[:500], y[:500], (X[500:700], y[500:700]))
    *where, kept = INTERRUPTS[case]
    clf = FastNN(epochs=5, checkpoint_dir=tmp_path, **INTERRUPTED)
    _interrupt_at(monkeypatch, *where)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(*data[:2], eval_set=data[2])
    monkeypatch.undo()
    return clf, data, kept


@pytest.mark.parametrize("case", INTERRUPTS)
def test_an_interrupt_anywhere_leaves_the_model_of_one_completed_epoch(monkeypatch, tmp_path,
                                                                       digits, case):
    clf, (X, y, eval_set), kept = _interrupted_fit(monkeypatch, tmp_path, digits, case)
    fresh = FastNN(epochs=kept, **INTERRUPTED).fit(X, y, eval_set=eval_set)
    assert clf.n_iter_ == kept
    assert all(len(values) == kept for values in clf.history_.values())
    assert clf.history_ == fresh.history_ and clf.loss_curve_ is clf.history_["train_cost"]
    assert _same_model(clf, fresh)
    np.testing.assert_array_equal(clf._velocity, fresh._velocity)


@pytest.mark.parametrize("case", [c for c in INTERRUPTS if INTERRUPTS[c][-1] < 5])
def test_a_fit_interrupted_anywhere_continues_to_the_uninterrupted_model(monkeypatch, tmp_path,
                                                                         digits, case):
    clf, (X, y, eval_set), kept = _interrupted_fit(monkeypatch, tmp_path, digits, case)
    clf.set_params(warm_start=True, epochs=5 - kept, checkpoint_dir=None)
    clf.fit(X, y, eval_set=eval_set)
    whole = FastNN(epochs=5, **INTERRUPTED).fit(X, y, eval_set=eval_set)
    assert clf.history_ == whole.history_ and _same_model(clf, whole)


def test_an_interrupt_in_the_first_epoch_leaves_the_initial_weights(monkeypatch, digits):
    X, y = digits
    _interrupt_at(monkeypatch, kernels, "train_epoch", 1, "after")
    clf = FastNN(**INTERRUPTED)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    weights, biases = initial_parameters([64, 10, 10], "default", make_rng(0), np.float64)
    assert clf.n_iter_ == 0 and clf.history_["train_cost"] == []
    assert all(np.array_equal(a, b) for a, b in zip(clf.coefs_ + clf.intercepts_,
                                                     weights + biases))


def test_an_interrupt_before_training_starts_leaves_the_estimator_as_it_was(monkeypatch,
                                                                          digits):
    X, y = digits
    clf = FastNN(**INTERRUPTED).fit(X, y)
    before = {name: getattr(clf, name) for name in ("coefs_", "n_iter_", "history_", "_velocity")}
    _interrupt_at(monkeypatch, BaseFastNN, "_commit", 1, "before")
    with pytest.raises(KeyboardInterrupt):
        clf.set_params(random_state=1).fit(X, y)
    assert all(getattr(clf, name) is value for name, value in before.items())


def test_an_interrupt_while_finishing_still_restores_the_best_epoch(monkeypatch, digits):
    X, y = digits
    params = dict(epochs=8, eta=3.0, n_iter_no_change=3, random_state=0)
    _interrupt_at(monkeypatch, BaseFastNN, "_finish", 1, "after")
    clf = FastNN(**params)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X[:500], y[:500], eval_set=(X[500:700], y[500:700]))
    monkeypatch.undo()
    fresh = FastNN(**params).fit(X[:500], y[:500], eval_set=(X[500:700], y[500:700]))
    assert clf.best_epoch_ == fresh.best_epoch_ and clf.n_iter_ == fresh.n_iter_
    assert _same_model(clf, fresh)
