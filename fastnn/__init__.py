"""fastnn: the networks of Nielsen's *Neural Networks and Deep Learning*,
trained fast with Numba, as scikit-learn estimators."""
from .estimator import FastNN
from .regressor import FastNNRegressor
from .io import load

__all__ = ["FastNN", "FastNNRegressor", "load"]
__version__ = "0.1.0"
