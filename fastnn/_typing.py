"""Type aliases of the public API (checked by mypy in CI: ``[tool.mypy]`` in pyproject.toml)."""
from __future__ import annotations

import os
from typing import Sequence, Union

import numpy as np
from numpy.typing import ArrayLike
from scipy.sparse import sparray, spmatrix

# X: anything array-like, or a scipy.sparse matrix or array.
MatrixLike = Union[ArrayLike, spmatrix, sparray]
PathLike = Union[str, "os.PathLike[str]"]
RandomState = Union[int, np.random.RandomState, np.random.Generator, None]
LayerSizes = Union[int, Sequence[int]]

__all__ = ["ArrayLike", "LayerSizes", "MatrixLike", "PathLike", "RandomState"]
