"""Checkpoints: a long ``fit`` saved every few epochs, and resumed exactly.

A checkpoint is a model file (the ``fastnn.persistence._model_file`` format, so loading it runs no
code) at ``checkpoint_dir/checkpoint.npz``, written atomically right after an
epoch is committed.  Besides the model it holds what the rest of the fit
needs to go on as if it had never stopped: the Generator's state (the next
shuffles and dropout masks), the momentum velocity, the η schedule's state and
best weights, the validation split's seed, the epoch the fit was asked to
reach, and a fingerprint of the training data, so that resuming on other data
is refused instead of quietly giving another model.

A fit that diverges ends its checkpoint as finished, holding the last finite
epoch and the divergence's message (``"diverged"``): resuming it could only
diverge again, so ``resume`` raises or warns as the fit did, and a new fit with
a smaller η may replace it (only an unfinished checkpoint is protected).

Writing and reading is done here; continuing the fit is the estimator's
(``BaseFastNN.resume``), which passes its class to ``read``.
"""
import glob
import hashlib
import os
import warnings

import numpy as np
from scipy.sparse import issparse

from . import _model_file

FILE = "checkpoint.npz"
STATE_KEYS = {"epochs": int, "finished": bool, "data": str, "split_seed": (int, type(None)),
              "schedule": (dict, type(None)), "diverged": (str, type(None))}


def checkpoint_path(folder):
    return os.path.join(os.fspath(folder), FILE)


def fingerprint(*arrays):
    """A hash of the arrays' shapes, dtypes and bytes (None counts too); a
    sparse matrix's structure (shape, indices, indptr) counts as its values do."""
    digest = hashlib.blake2b(digest_size=16)
    for array in arrays:
        if array is None:
            digest.update(b"none;")
            continue
        if issparse(array):
            digest.update(f"sparse{array.shape}:".encode())
            digest.update(fingerprint(array.data, array.indices, array.indptr).encode())
            continue
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape};".encode())
        digest.update(memoryview(array.reshape(-1)).cast("B"))
    return digest.hexdigest()


def start(folder, epochs, saved, arrays):
    """The state a fit's checkpoints carry: a new one for a fit that will
    reach epoch ``epochs``, or the ``saved`` one of a resumed fit after
    checking that ``arrays`` (X, Y, sample_weight, X_eval, Y_eval) are the
    data it was written for."""
    data = fingerprint(*arrays)
    os.makedirs(folder, exist_ok=True)
    # A process killed while writing a checkpoint leaves its temporary file.
    for leftover in glob.glob(os.path.join(glob.escape(os.fspath(folder)), f".{FILE}.*.tmp")):
        os.unlink(leftover)
    if saved is None:
        _refuse_to_overwrite_unfinished(folder)
        return {"epochs": epochs, "finished": False, "data": data, "split_seed": None,
                "schedule": None}
    if saved["data"] != data:
        raise ValueError(f"the checkpoint in {os.fspath(folder)} was written by a fit on other "
                         "data: resume needs the same X, y, sample_weight and eval_set.")
    return dict(saved)


def save_progress(estimator, checkpoint, plan, finished, diverged=None):
    """Write the committed model and the fit's state (its Generator is already
    where the next epoch starts from).  ``diverged`` is the message of the
    divergence that ended a fit.  A failed write warns and training goes on:
    a full disk must not cost the run, and the last checkpoint stays whole."""
    state = {**checkpoint, "finished": finished, "diverged": diverged, "schedule": plan.state()}
    try:
        write(estimator, estimator.checkpoint_dir, state, plan.best_params)
    except OSError as exc:
        # save_progress <- _epochs or _finish <- _train <- _fit <- fit <- the user's call
        warnings.warn(f"checkpoint after epoch {estimator.n_iter_} not written ({exc}); "
                      "training goes on.", RuntimeWarning, stacklevel=6)


def write(estimator, folder, state, best_params):
    """Save ``estimator`` with the fit's ``state`` as the checkpoint in ``folder``."""
    extra = {"_checkpoint": state}
    if best_params is not None:
        extra["_best_params"] = best_params
    _model_file._save(estimator, checkpoint_path(folder), extra)


def read(folder, cls):
    """(estimator, state, best_params) from the checkpoint in ``folder``; the
    estimator is of class ``cls``, which must be the one the fit used."""
    path = checkpoint_path(folder)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} does not exist: no checkpoint in {os.fspath(folder)} "
                                "(fit with checkpoint_dir set writes one after each epoch).")
    saved = _model_file.read(path)
    if saved.class_name != cls.__name__:
        raise ValueError(f"{path} holds a {saved.class_name}; resume it with "
                         f"{saved.class_name}.resume, not {cls.__name__}.resume.")
    state = saved.training.get("_checkpoint")
    best_params = saved.training.get("_best_params")
    if state is None:
        raise ValueError(f"{path} is a saved model, not a checkpoint: it has no training state.")
    for key, kind in STATE_KEYS.items():
        value = state.get(key) if isinstance(state, dict) else None
        valid = isinstance(value, bool) if kind is bool else (
            isinstance(value, kind) and not isinstance(value, bool))
        if not valid:
            raise ValueError(f"{path} is not a valid checkpoint: its state has no valid {key!r}.")
    if state["schedule"] is not None and not _valid_schedule(state["schedule"]):
        raise ValueError(f"{path} is not a valid checkpoint: its schedule state is damaged.")
    return _model_file.rebuild(saved, cls, path), state, best_params


def _valid_schedule(schedule):
    def number(value):
        return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(
            value)

    def count(value):
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0

    return (number(schedule.get("eta")) and schedule["eta"] > 0 and count(schedule.get("stalled"))
            and {"best_epoch", "best_score"} <= schedule.keys()
            and (schedule["best_epoch"] is None or (
                count(schedule["best_epoch"]) and number(schedule.get("best_score")))))


def _refuse_to_overwrite_unfinished(folder):
    """A new fit would replace an interrupted fit's checkpoint after its first
    epoch; rerunning a script after a crash must not lose the run that way."""
    path = checkpoint_path(folder)
    if not os.path.exists(path):
        return
    try:
        saved = _model_file.read(path)
    except (OSError, ValueError):
        return  # damaged: nothing in it could be resumed anyway
    state = saved.training.get("_checkpoint")
    if isinstance(state, dict) and state.get("finished") is False:
        name = saved.class_name
        raise ValueError(
            f"{path} holds an unfinished fit ({saved.attributes['n_iter_']} of "
            f"{state.get('epochs')} epochs): "
            f"{name}.resume({os.fspath(folder)!r}, X, y) continues it; to start over, delete "
            "the file or choose another checkpoint_dir.")
