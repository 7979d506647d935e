"""The estimators, ``FastNN`` and ``FastNNRegressor``, and their epoch loop.

``_classifier`` and ``_regressor`` say what the outputs mean; ``_base``
(``BaseFastNN``) holds what they share: the parameters, validation and
prediction, and ``_loop`` the epoch loop.  Between epochs the loop's state is a
``_state.TrainingRun``; ``_monitor`` measures each epoch, ``_schedule``
steps η and early stopping, ``_rollback`` takes the snapshot a Ctrl-C goes
back to, ``_threads`` sets numba's and BLAS's threads for a fit, ``_sparse``
validates input (dense or CSR), ``_params`` makes and packs the weights, and
``_docstrings`` holds the parameters' shared documentation.
"""
from ._classifier import FastNN
from ._load import load
from ._regressor import FastNNRegressor

__all__ = ["FastNN", "FastNNRegressor", "load"]
