"""fastnn's numeric core: Numba kernels on plain arrays and numbers.

Installed as ``fastnn.kernels``.  Nothing here knows about estimators or
scikit-learn; the facade validates its input once and calls these.
"""
from .activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from .backprop import gradient
from .costs import COSTS, OUTPUT_OF_COST
from .forward import make_layout
from .predict import predict_outputs, total_cost
from .sgd import train_epoch

__all__ = [
    "COSTS",
    "HIDDEN_ACTIVATIONS",
    "OUTPUT_ACTIVATIONS",
    "OUTPUT_OF_COST",
    "gradient",
    "make_layout",
    "predict_outputs",
    "total_cost",
    "train_epoch",
]
