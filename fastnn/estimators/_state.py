"""The state one fit carries from epoch to epoch: ``TrainingRun``.

``EpochLoop._begin`` builds it (``TrainingRun.start``); the epoch loop
(``_loop``) changes only ``params``, ``velocity``, ``outputs``, ``costs`` and
``last``; the monitors (``_monitor``), checkpoints (``persistence._checkpoint``) and
rollback snapshots (``_rollback``) read it.  The data arrays are read-only
(``_params.read_only``: one compiled kernel for writable and read-only
input); the model's are the kernels' working copies, committed to the
estimator after each epoch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Union

import numpy as np

from .. import kernels  # type: ignore[attr-defined]  # kernels/, installed as fastnn.kernels
from . import _sparse
from ._params import read_only
from ._schedule import Schedule


@dataclass(eq=False)
class TrainingRun:
    """What the epochs of one fit share.

    Attributes
    ----------
    X : ndarray of shape (n, n_features) or kernels.CSR
        The training inputs as the kernels take them (``_sparse.training_input``).
    Y : ndarray of shape (n, n_outputs)
        Targets, one-hot for a classifier.
    y : ndarray of shape (n,) or (n, n_outputs)
        The targets as given, for the training score.
    sample_weight : ndarray of shape (n,)
    params, velocity : ndarray of shape (n_params,)
        The network (``kernels.make_layout``) and momentum's v, trained in place.
    evaluation : (X_eval, Y_eval, y_eval) or None
        Evaluation data, X_eval as the kernels take it.
    checkpoint : dict or None
        The checkpoint state (``_checkpoint.start``) when checkpointing.
    sizes : int64 ndarray of shape (n_layers + 1,)
    layout : tuple
        ``kernels.make_layout(sizes)[0]``.
    plan : Schedule
        η, early stopping and the best epoch so far.
    n : int
        Training samples: n in ηλ/n.
    codes : kernels.Codes
    mini_batch_size : int
        m, at most n.
    outputs, costs : ndarray of shape (n, n_outputs) and (n,)
        What each epoch's own pass saw: the training monitors.
    last : _rollback.Snapshot or None
        The estimator as it was after the last completed epoch.
    """

    X: Union[np.ndarray, kernels.CSR]
    Y: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray
    params: np.ndarray
    velocity: np.ndarray
    evaluation: Optional[tuple]
    checkpoint: Optional[dict]
    sizes: np.ndarray
    layout: tuple
    plan: Schedule
    n: int
    codes: kernels.Codes
    mini_batch_size: int
    outputs: np.ndarray
    costs: np.ndarray
    last: Any = None

    @classmethod
    def start(cls, X, Y, y, sample_weight, params, velocity, evaluation, checkpoint, sizes,
              plan, codes, mini_batch_size):
        """A run on validated data: the data made read-only kernel input (dense X
        with few non-zeros as CSR), the monitors' buffers made."""
        if evaluation is not None:
            evaluation = (_sparse.kernel_input(evaluation[0]), read_only(evaluation[1]),
                          evaluation[2])
        n = X.shape[0]
        return cls(X=_sparse.training_input(X), Y=read_only(Y), y=y,
                   sample_weight=read_only(sample_weight), params=params, velocity=velocity,
                   evaluation=evaluation, checkpoint=checkpoint, sizes=sizes,
                   layout=kernels.make_layout(sizes)[0], plan=plan, n=n, codes=codes,
                   mini_batch_size=min(mini_batch_size, n),
                   outputs=np.empty((n, sizes[-1]), dtype=params.dtype), costs=np.empty(n))
