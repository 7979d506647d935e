"""``fastnn.load``: a model file back into the estimator class it names.

The file's checks are ``fastnn.persistence``'s; which class a name stands for
is known only here, above both estimator classes.
"""
from __future__ import annotations

from typing import Union

from .._typing import PathLike
from ..persistence import _model_file
from ._classifier import FastNN
from ._regressor import FastNNRegressor

# Every class a model file may name (``_model_checks.CLASSES``).
CLASSES = {cls.__name__: cls for cls in (FastNN, FastNNRegressor)}


def load(path: PathLike) -> Union[FastNN, FastNNRegressor]:
    """Load a model saved by ``save``, checking everything before trusting it.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    estimator : FastNN or FastNNRegressor
        Fitted; predicts bitwise identically to the saved estimator.  A
        checkpoint loads as the model it holds (``resume`` continues its fit).

    Raises
    ------
    ValueError
        Naming the file and the problem: not a zip, truncated or corrupt, a
        newer format, an unknown class, arrays, shapes or dtypes other than
        declared, compressed members or sizes beyond the file's (or over
        2 GiB), object arrays, non-finite weights, layers that do not fit
        together, arrays whose declared shapes are not the ones the layers
        imply, parameters the class refuses.  (A missing file raises
        FileNotFoundError.)

    Everything is checked against the metadata before any array is read,
    and members must be stored uncompressed, so ``load`` never allocates
    more than the file's size (plus its parsed JSON).
    """
    saved = _model_file.read(path)
    return _model_file.rebuild(saved, CLASSES[saved.class_name], path)
