"""fastnn: the networks of Nielsen's *Neural Networks and Deep Learning*,
trained fast with Numba, as scikit-learn estimators."""
from .estimator import FastNN

__all__ = ["FastNN"]
__version__ = "0.1.0"
