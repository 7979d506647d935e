"""Checkpoints (``checkpoint_dir``) and ``resume``: a killed fit loses nothing.

The kill tests run a real fit in a child process and SIGKILL it; the child
prints the book's per-epoch lines (``verbose=1``), which is how the parent
knows how far it got.  A "gated" child stops inside the print of a chosen
epoch's line (before that epoch is checkpointed), so the kill lands at a known
epoch; an ungated child is killed wherever it happens to be, possibly in the
middle of writing a checkpoint.
"""
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from fastnn import FastNN, FastNNRegressor, load
from fastnn.datasets import load_digits
from fastnn.persistence import _checkpoint

CHILD = r"""
import json, sys, time
import numpy as np
from fastnn import FastNN, FastNNRegressor
from fastnn.datasets import load_digits

class Gate:
    '''stdout that stops for good once the line starting with `stop` is out.'''
    def __init__(self, stream, stop):
        self.stream, self.stop, self.seen = stream, stop, ""
    def write(self, text):
        self.stream.write(text)
        self.stream.flush()
        self.seen += text
        if self.stop and "\n" in text and self.stop in self.seen:
            time.sleep(600)
        return len(text)
    def flush(self):
        self.stream.flush()

kind, params, stop = json.loads(sys.argv[1])
X, y = load_digits()
estimator = FastNN if kind == "classifier" else FastNNRegressor
if kind == "regressor":
    y = y / 9.0
sys.stdout = Gate(sys.__stdout__, stop)
estimator(**params, verbose=1).fit(X, y)
print("finished")
"""

CASES = {
    "classifier with momentum, dropout and a validation split": (
        "classifier", dict(hidden_layer_sizes=(30,), mini_batch_size=1, epochs=150,
                           momentum=0.5, dropout=0.2, validation_fraction=0.2, random_state=3)),
    "classifier with the halving schedule": (
        "classifier", dict(hidden_layer_sizes=(20,), eta=3.0, epochs=60, eta_schedule="halve",
                           n_iter_no_change=1, validation_fraction=0.25, random_state=4)),
    "regressor": (
        "regressor", dict(hidden_layer_sizes=(20,), mini_batch_size=1, epochs=150,
                          momentum=0.3, random_state=5)),
}


def run_and_kill(tmp_path, kind, params, stop_at=None, kill_after="Epoch 3:"):
    """Start a child fit, SIGKILL it once it has printed ``kill_after`` (and,
    when ``stop_at`` is given, stopped in that epoch's line); return its output."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen([sys.executable, str(script), json.dumps([kind, params, stop_at])],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline, lines = time.monotonic() + 300, []  # the first run may compile the kernels
    try:
        while not (lines and lines[-1].startswith(stop_at or kill_after)):
            ready, _, _ = select.select([child.stdout], [], [], max(deadline - time.monotonic(),
                                                                    0))
            line = child.stdout.readline() if ready else ""
            if not line:
                raise AssertionError(f"child ended or stalled before {kill_after!r}: "
                                     f"{lines} {child.stderr.read() if child.poll() else ''}")
            lines.append(line)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    return lines


def assert_same_model(resumed, uninterrupted):
    assert resumed.n_iter_ == uninterrupted.n_iter_
    assert resumed.history_ == uninterrupted.history_
    assert resumed.loss_curve_ is resumed.history_["train_cost"]
    for ours, theirs in zip(resumed.coefs_ + resumed.intercepts_,
                            uninterrupted.coefs_ + uninterrupted.intercepts_):
        np.testing.assert_array_equal(ours, theirs)
    assert resumed.eta_ == uninterrupted.eta_
    assert getattr(resumed, "best_epoch_", None) == getattr(uninterrupted, "best_epoch_", None)


def data(kind):
    X, y = load_digits()
    return (X, y) if kind == "classifier" else (X, y / 9.0)


@pytest.mark.parametrize("case", CASES)
def test_a_fit_killed_between_epochs_resumes_to_the_uninterrupted_model(tmp_path, case):
    kind, params = CASES[case]
    folder = tmp_path / "checkpoints"
    run_and_kill(tmp_path, kind, {**params, "checkpoint_dir": str(folder)}, stop_at="Epoch 5:")
    estimator = FastNN if kind == "classifier" else FastNNRegressor
    # Stopped while printing epoch 5's line: epochs 0-4 are checkpointed, 5 is lost.
    assert load(_checkpoint.checkpoint_path(folder)).n_iter_ == 5

    resumed = estimator.resume(folder, *data(kind), verbose=0)

    uninterrupted = estimator(**params).fit(*data(kind))
    assert_same_model(resumed, uninterrupted)
    if case == "classifier with the halving schedule":
        assert uninterrupted.eta_ < params["eta"] and uninterrupted.n_iter_ < params["epochs"]


def test_a_fit_killed_anywhere_resumes_to_the_uninterrupted_model(tmp_path):
    kind, params = CASES["classifier with momentum, dropout and a validation split"]
    folder = tmp_path / "checkpoints"
    run_and_kill(tmp_path, kind, {**params, "checkpoint_dir": str(folder)})
    saved = load(_checkpoint.checkpoint_path(folder))
    assert 3 <= saved.n_iter_ < params["epochs"], "the kill should land mid-fit"

    resumed = FastNN.resume(folder, *data(kind), verbose=0)

    assert_same_model(resumed, FastNN(**params).fit(*data(kind)))
    # A kill in the middle of a write leaves a temporary file; resume removes it.
    assert os.listdir(folder) == [_checkpoint.FILE]


def test_checkpoints_are_written_every_k_epochs(tmp_path):
    kind, params = CASES["regressor"]
    folder = tmp_path / "checkpoints"
    run_and_kill(tmp_path, kind, {**params, "checkpoint_dir": str(folder),
                                  "checkpoint_every": 3}, stop_at="Epoch 7:")
    # Epochs 0-6 done when epoch 7's line stopped the child: the last
    # checkpoint is the one after 6 epochs.
    assert load(_checkpoint.checkpoint_path(folder)).n_iter_ == 6


def test_fit_ends_with_a_finished_checkpoint_that_resume_returns_as_it_is(tmp_path):
    X, y = load_digits()
    fitted = FastNN(epochs=3, random_state=0, checkpoint_dir=tmp_path).fit(X, y)

    resumed = FastNN.resume(tmp_path, X[:10], y[:10])  # finished: the data is not used

    assert_same_model(resumed, fitted)
    assert "_checkpoint" not in vars(resumed)


def test_checkpoints_do_not_change_the_model(tmp_path):
    X, y = load_digits()
    params = dict(epochs=4, momentum=0.5, random_state=1, validation_fraction=0.2)
    with_checkpoints = FastNN(**params, checkpoint_dir=tmp_path / "new").fit(X, y)
    assert_same_model(with_checkpoints, FastNN(**params).fit(X, y))


def test_a_warm_started_fit_checkpoints_its_own_epochs(tmp_path):
    X, y = load_digits()
    model = FastNN(epochs=2, random_state=0, warm_start=True).fit(X, y)
    model.set_params(epochs=3, checkpoint_dir=tmp_path).fit(X, y)
    assert model.n_iter_ == 5
    assert load(_checkpoint.checkpoint_path(tmp_path)).n_iter_ == 5


def test_resume_refuses_other_data(tmp_path):
    X, y = load_digits()
    state = _interrupted_checkpoint(tmp_path, X, y)
    assert not state["finished"]
    with pytest.raises(ValueError, match="other data"):
        FastNN.resume(tmp_path, X[:-1], y[:-1])


def test_resume_without_a_checkpoint_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint in"):
        FastNN.resume(tmp_path, *load_digits())


def test_a_saved_model_is_not_a_checkpoint(tmp_path):
    X, y = load_digits()
    FastNN(epochs=1, random_state=0).fit(X, y).save(_checkpoint.checkpoint_path(tmp_path))
    with pytest.raises(ValueError, match="not a checkpoint"):
        FastNN.resume(tmp_path, X, y)


def test_resume_with_the_other_class_says_which_to_use(tmp_path):
    X, y = load_digits()
    FastNN(epochs=1, random_state=0, checkpoint_dir=tmp_path).fit(X, y)
    with pytest.raises(ValueError, match="FastNN.resume, not FastNNRegressor.resume"):
        FastNNRegressor.resume(tmp_path, X, y)


@pytest.mark.parametrize("damage", [
    {"epochs": "many"}, {"finished": 1}, {"data": None},
    {"schedule": {"eta": -1.0, "best_score": None, "best_epoch": None, "stalled": 0}},
    {"schedule": {"eta": 0.5, "best_score": None, "best_epoch": 2, "stalled": 0}},
])
def test_a_damaged_checkpoint_state_is_refused(tmp_path, damage):
    X, y = load_digits()
    state = _interrupted_checkpoint(tmp_path, X, y)
    estimator, _, _ = _checkpoint.read(tmp_path, FastNN)
    _checkpoint.write(estimator, tmp_path, {**state, **damage}, None)
    with pytest.raises(ValueError, match="not a valid checkpoint"):
        FastNN.resume(tmp_path, X, y)


def test_a_checkpoint_without_the_best_weights_it_needs_is_refused(tmp_path):
    X, y = load_digits()
    params = dict(epochs=3, random_state=0, n_iter_no_change=5)
    state = _interrupted_checkpoint(tmp_path, X, y, **params)
    estimator, _, _ = _checkpoint.read(tmp_path, FastNN)
    _checkpoint.write(estimator, tmp_path, state, None)
    with pytest.raises(ValueError, match="no best weights"):
        FastNN.resume(tmp_path, X, y)


def test_checkpoint_dir_must_be_a_path(tmp_path):
    X, y = load_digits()
    with pytest.raises(ValueError, match="checkpoint_dir"):
        FastNN(checkpoint_dir=3).fit(X, y)


def _interrupted_checkpoint(folder, X, y, **params):
    """A checkpoint of a finished fit marked unfinished, as one cut short
    after its last epoch would be; returns its state."""
    FastNN(**{"epochs": 2, "random_state": 0, **params}, checkpoint_dir=folder).fit(X, y)
    estimator, state, best_params = _checkpoint.read(folder, FastNN)
    state = {**state, "finished": False, "epochs": 4}
    _checkpoint.write(estimator, folder, state, best_params)
    return state


def test_a_fit_removes_the_temporary_file_a_killed_write_left(tmp_path):
    leftover = tmp_path / f".{_checkpoint.FILE}.k1ll3d.tmp"
    leftover.write_bytes(b"half a checkpoint")
    FastNN(epochs=1, random_state=0, checkpoint_dir=tmp_path).fit(*load_digits())
    assert sorted(os.listdir(tmp_path)) == [_checkpoint.FILE]


def test_a_new_fit_refuses_to_overwrite_an_unfinished_checkpoint(tmp_path):
    X, y = load_digits()
    _interrupted_checkpoint(tmp_path, X, y)
    with pytest.raises(ValueError, match=r"unfinished fit \(2 of 4 epochs\): FastNN.resume"):
        FastNN(epochs=2, random_state=0, checkpoint_dir=tmp_path).fit(X, y)
    assert FastNN.resume(tmp_path, X, y).n_iter_ == 4, "the checkpoint is still there"


def test_a_new_fit_replaces_a_finished_checkpoint(tmp_path):
    X, y = load_digits()
    FastNN(epochs=2, random_state=0, checkpoint_dir=tmp_path).fit(X, y)
    FastNN(epochs=3, random_state=1, checkpoint_dir=tmp_path).fit(X, y)
    assert load(_checkpoint.checkpoint_path(tmp_path)).n_iter_ == 3


def test_resuming_a_finished_checkpoint_still_validates_the_overrides(tmp_path):
    X, y = load_digits()
    FastNN(epochs=1, random_state=0, checkpoint_dir=tmp_path).fit(X, y)
    with pytest.raises(ValueError, match="n_threads"):
        FastNN.resume(tmp_path, X, y, n_threads=0)


FULL_DISK_CHILD = r"""
import json, os, resource, signal, sys, warnings
import numpy as np
from fastnn import FastNN
from fastnn.datasets import load_digits

X, y = load_digits()
reference = FastNN(epochs=3, random_state=0).fit(X, y)  # compiled and cached before the limit
# Files may not grow past 4 KiB: every checkpoint write fails with EFBIG, as on a full disk.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    model = FastNN(epochs=3, random_state=0, checkpoint_dir=sys.argv[1]).fit(X, y)
print(json.dumps({
    "same": all(np.array_equal(a, b) for a, b in zip(model.coefs_, reference.coefs_)),
    "n_iter": model.n_iter_, "warnings": [str(w.message) for w in caught],
    "files": os.listdir(sys.argv[1])}))
"""


def test_a_checkpoint_that_cannot_be_written_warns_and_training_goes_on(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(FULL_DISK_CHILD)
    folder = tmp_path / "checkpoints"
    result = subprocess.run([sys.executable, str(script), str(folder)], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["same"] and report["n_iter"] == 3
    assert len(report["warnings"]) == 4  # after epochs 1, 2, 3 and the final one
    assert all("not written" in w and "training goes on" in w for w in report["warnings"])
    assert report["files"] == [], "no half-written file is left"


RESUME_CASES = {
    "eval_set with early stopping": (
        dict(n_iter_no_change=2, eta=3.0), dict(eval_set="eval")),
    "zero weights and class_weight": (
        dict(class_weight="balanced"), dict(sample_weight="zeros")),
    "zero weights and a validation split": (
        dict(validation_fraction=0.2), dict(sample_weight="zeros")),
    "float32 with dropout and momentum": (
        dict(dropout=0.3, momentum=0.7), dict(dtype=np.float32)),
    "every 3 epochs with early stopping": (
        dict(checkpoint_every=3, n_iter_no_change=2, eta=3.0, epochs=30), dict(eval_set="eval")),
    "L1": (dict(penalty="l1", lmbda=1.0), {}),
}


@pytest.mark.parametrize("case", RESUME_CASES)
def test_resuming_from_any_checkpoint_gives_the_uninterrupted_model(tmp_path, monkeypatch, case):
    params, data = RESUME_CASES[case]
    X, y = load_digits()
    X = X.astype(data.get("dtype", np.float64))
    X_train, y_train = X[:600], y[:600]
    fit_kw = {}
    if data.get("eval_set"):
        fit_kw["eval_set"] = (X[600:900], y[600:900])
    if data.get("sample_weight"):
        weights = np.ones(600)
        weights[::7], weights[::5] = 0.0, 2.5
        fit_kw["sample_weight"] = weights
    params = {"hidden_layer_sizes": (16,), "epochs": 12, "random_state": 0, **params}
    uninterrupted = FastNN(**params).fit(X_train, y_train, **fit_kw)

    # Keep a copy of every checkpoint as it is written (only observing the writes).
    copies, write = [], _checkpoint.write

    def write_and_copy(estimator, folder, state, best_params):
        write(estimator, folder, state, best_params)
        copy = tmp_path / f"copy{len(copies)}"
        copy.mkdir()
        saved = Path(_checkpoint.checkpoint_path(folder))
        (copy / _checkpoint.FILE).write_bytes(saved.read_bytes())
        copies.append(copy)
    monkeypatch.setattr(_checkpoint, "write", write_and_copy)
    FastNN(**params, checkpoint_dir=tmp_path / "run").fit(X_train, y_train, **fit_kw)
    monkeypatch.undo()

    assert len(copies) >= 2, "at least one checkpoint mid-fit, and the last"
    for copy in copies:
        assert_same_model(FastNN.resume(copy, X_train, y_train, **fit_kw), uninterrupted)


# -- a fit that diverges ----------------------------------------------------------

def _diverging_fit(folder, **params):
    """A regressor whose η = 50 overflows within a few epochs, fitted with
    checkpoints in ``folder``: (estimator, X, y)."""
    rng = np.random.default_rng(0)
    X = rng.random((200, 5))
    y = X @ [1.0, 2.0, 3.0, 4.0, 5.0]
    reg = FastNNRegressor(eta=50.0, epochs=50, random_state=0, checkpoint_dir=folder, **params)
    if params.get("on_divergence") == "warn":
        with pytest.warns(RuntimeWarning, match="non-finite"):
            reg.fit(X, y)
    else:
        with pytest.raises(FloatingPointError):
            reg.fit(X, y)
    return reg, X, y


def test_a_diverged_fit_ends_its_checkpoint_as_finished_with_the_last_finite_model(tmp_path):
    reg, _, _ = _diverging_fit(tmp_path)
    saved, state, _ = _checkpoint.read(tmp_path, FastNNRegressor)
    assert state["finished"] and "eta=50" in state["diverged"]
    assert 0 < saved.n_iter_ == reg.n_iter_ < 50
    assert_same_model(saved, reg)


def test_a_new_fit_with_a_smaller_eta_may_reuse_the_folder_of_a_diverged_fit(tmp_path):
    _, X, y = _diverging_fit(tmp_path)
    FastNNRegressor(eta=0.05, epochs=3, random_state=0, checkpoint_dir=tmp_path).fit(X, y)
    saved, state, _ = _checkpoint.read(tmp_path, FastNNRegressor)
    assert saved.n_iter_ == 3 and state["finished"] and state["diverged"] is None


def test_resuming_a_diverged_fit_raises_its_divergence_and_says_how_to_start_over(tmp_path):
    _, X, y = _diverging_fit(tmp_path)
    with pytest.raises(FloatingPointError,
                       match=r"eta=50 .* try eta <= 5.* the new fit replaces this checkpoint"):
        FastNNRegressor.resume(tmp_path, X, y)


def test_resuming_a_diverged_fit_that_warned_warns_and_returns_its_model(tmp_path):
    reg, X, y = _diverging_fit(tmp_path, on_divergence="warn")
    with pytest.warns(RuntimeWarning, match="eta=50 .* fit again with a smaller eta"):
        resumed = FastNNRegressor.resume(tmp_path, X, y)
    assert_same_model(resumed, reg)
