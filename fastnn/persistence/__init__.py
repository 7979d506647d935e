"""Persistence: model files and checkpoints.

``_model_file`` writes and reads a model file (one ``.npz`` of arrays and
JSON that loading never runs code from), ``_model_checks`` holds the checks
a file passes before it is trusted, and ``_checkpoint`` saves a long fit
every few epochs so that ``resume`` continues it exactly.
"""
from ._model_file import FORMAT_VERSION, SavedModel, atomic_write, read, rebuild, save

__all__ = ["FORMAT_VERSION", "SavedModel", "atomic_write", "read", "rebuild", "save"]
