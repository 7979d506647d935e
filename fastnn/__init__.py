"""fastnn: the networks of Nielsen's *Neural Networks and Deep Learning*,
trained fast with Numba, as scikit-learn estimators."""
from ._version import __version__ as __version__  # the version, re-exported
from .estimators import FastNN, FastNNRegressor, load

__all__ = ["FastNN", "FastNNRegressor", "load"]
