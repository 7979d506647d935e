"""fastnn's numeric core: Numba kernels on plain arrays and numbers.

Installed as ``fastnn.kernels``.  Nothing here knows about estimators or
scikit-learn; the facade validates its input once and calls these.
"""
from .activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from .backprop import gradient
from .costs import COSTS, OUTPUT_OF_COST
from .dropout import epoch_key
from .forward import make_layout
from .monitor import evaluate, penalty_cost
from .predict import predict_outputs
from .sparse import CSR, DenseRows
from .sgd import Codes, Hyper, train_epoch
from .update import PENALTIES

__all__ = [
    "COSTS",
    "CSR",
    "DenseRows",
    "Codes",
    "HIDDEN_ACTIVATIONS",
    "Hyper",
    "OUTPUT_ACTIVATIONS",
    "OUTPUT_OF_COST",
    "PENALTIES",
    "epoch_key",
    "evaluate",
    "penalty_cost",
    "gradient",
    "make_layout",
    "predict_outputs",
    "train_epoch",
]
