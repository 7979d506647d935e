"""Persistence: model files and checkpoints.

``_model_file`` writes a model file (one ``.npz`` of arrays and JSON) and
reads one back without running any code; ``_model_checks`` holds the checks
a file passes before it is trusted; ``_checkpoint`` saves a long fit every
few epochs so that ``resume`` continues it exactly; ``_atomic`` writes a
file so that a crash leaves its old or its whole new content.

Owns the file format: what is stored, how, and every check on reading.  It
never builds an estimator: ``rebuild`` hands what a file holds to the class
it names (``BaseFastNN._from_fitted``), and ``fastnn.load``, which knows the
classes, lives with them.

May not import ``fastnn.estimators`` (which imports it to save, checkpoint
and load), ``fastnn.datasets``, ``fastnn.book``, ``fastnn.approx``,
``fastnn.plots`` or ``fastnn.cli``.
"""
from ._atomic import atomic_write
from ._model_file import FORMAT_VERSION, SavedModel, read, rebuild, save

__all__ = ["FORMAT_VERSION", "SavedModel", "atomic_write", "read", "rebuild", "save"]
