"""fastnn: the networks of Nielsen's *Neural Networks and Deep Learning*,
trained fast with Numba, as scikit-learn estimators."""
from .estimators import FastNN, FastNNRegressor
from .persistence import load

__all__ = ["FastNN", "FastNNRegressor", "load"]
__version__ = "0.1.0"
