"""The estimators, ``FastNN`` and ``FastNNRegressor``, their epoch loop, and ``fastnn.load``.

``_classifier`` and ``_regressor`` say what the outputs mean; ``_base``
(``BaseFastNN``) holds what they share: the parameters, validation and
prediction; ``_loop`` is the epoch loop, one compiled call per epoch
(``kernels.train_epoch``) with everything between epochs decided in Python.
Between epochs the loop's state is a ``_state.TrainingRun``; ``_monitor``
measures each epoch, ``_schedule`` steps η and early stopping, ``_rollback``
snapshots the epoch a Ctrl-C goes back to, ``_threads`` sets numba's and
BLAS's threads, ``_sparse`` validates input (dense or CSR), ``_params`` makes
and packs the weights, ``_docstrings`` holds the parameters' shared
documentation, and ``_load`` rebuilds a model file as the class it names.

Owns every attribute of an estimator: only these classes set them, the
private ones (``_velocity``, ``_rng``, ``_y_1d``) included; a saved model
comes back through ``BaseFastNN._from_fitted``.  The numerical work is
``fastnn.kernels``'s; model files and checkpoints are ``fastnn.persistence``'s.

May not import ``fastnn.datasets``, ``fastnn.book``, ``fastnn.approx``,
``fastnn.plots``, ``fastnn.cli`` or ``fastnn.reference``: they build on it.
"""
from ._classifier import FastNN
from ._load import load
from ._regressor import FastNNRegressor

__all__ = ["FastNN", "FastNNRegressor", "load"]
