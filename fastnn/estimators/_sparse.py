"""Input validation, and sparse input: scipy.sparse in, the kernels' ``CSR``
out, nothing densified.

``validate`` is ``validate_data(accept_sparse="csr")``, which turns CSC, COO
and the sparse arrays into CSR and refuses NaN and inf in ``.data``;
``canonical`` then sorts the
indices and sums duplicates (the kernels read each row's non-zeros as a
plain list) and keeps the index arrays int32 whenever they fit, so that one
compiled kernel serves scipy's usual matrices.  Dense X with few non-zeros
(MNIST is 81 % zeros) trains from a CSR copy (``training_input``): the first
layer then costs what its non-zeros cost (``kernels.sparse``).
"""
import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import validate_data

from .. import kernels  # type: ignore[attr-defined]  # kernels/, installed as fastnn.kernels
from ._params import read_only

# X with a smaller share of non-zeros trains through the sparse first layer,
# X with more through BLAS's dense products, dense or CSR.  Measured on a
# 2-core AMD EPYC (AVX-512), m = 10, the sparse layer against the same CSR
# data's mini-batches densified (a /tmp probe, 20,000 samples): 784-30-10
# 1.54x faster at 20 %, 1.34x at 25 %, 1.19x at 30 %, level at 40 %;
# 784-100-10 1.32x, 1.11x, 0.97x at 30 %, 0.77x at 40 %.
SPARSE_BELOW = 0.30
# Rows that decide it (``training_input``).
DENSITY_ROWS = 1024

_INT32_MAX = np.iinfo(np.int32).max


def canonical(X):
    """X (CSR, validated) with sorted indices, no duplicates and the smallest
    index dtype that holds them; a copy only where something changes."""
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
        if not np.all(np.isfinite(X.data)):
            raise ValueError("X's duplicate entries sum to a non-finite value; they are added "
                             "as scipy does (X.sum_duplicates()), and must stay finite.")
    index = np.int32 if max(X.nnz, X.shape[1]) <= _INT32_MAX else np.int64
    if X.indices.dtype != index or X.indptr.dtype != index:
        X = sp.csr_matrix((X.data, X.indices.astype(index), X.indptr.astype(index)),
                          shape=X.shape)
    return X


def validate(estimator, *args, **kwargs):
    """``validate_data(estimator, …)`` with sparse X accepted (then ``canonical``),
    its only errors ValueErrors a user can act on.

    A float64 beyond float32 becomes inf in the cast to a float32 model and
    sklearn says so: numpy's cast warning (or its overflow in sklearn's
    finiteness check, a sum) would only repeat it.  A Python int too big for
    float64 raises OverflowError: a ValueError here.
    """
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            validated = validate_data(estimator, *args, accept_sparse="csr", **kwargs)
    except OverflowError as exc:
        raise ValueError(f"X or y holds a number too large for float64: {exc}.") from None
    if isinstance(validated, tuple):
        X, y = validated
        return (canonical(X) if sp.issparse(X) else X), y
    return canonical(validated) if sp.issparse(validated) else validated


def kernel_input(X):
    """What the kernels take for X: a read-only array, or a ``CSR`` of read-only
    arrays (read-only and writable share one compiled kernel)."""
    if sp.issparse(X):
        return kernels.CSR(read_only(X.data), read_only(X.indices), read_only(X.indptr))
    return read_only(X)


def training_input(X):
    """``kernel_input`` for the training pass: dense X with fewer than
    ``SPARSE_BELOW`` non-zeros goes in as a CSR copy, and CSR X with as many
    or more as ``kernels.DenseRows``, whose mini-batches the epoch writes out
    densely for BLAS (the same bits as the dense array; the whole matrix is
    never densified).

    The share of non-zeros of dense X is read from at most ``DENSITY_ROWS``
    evenly spaced rows: counting a whole 10,000 × 784 X took 5 ms, 4 % of a
    3-epoch fit, for a choice that only decides the speed (both paths train
    the same model, to rounding), and the same X always chooses the same.
    """
    if sp.issparse(X):
        if X.nnz and X.nnz >= SPARSE_BELOW * X.shape[0] * X.shape[1]:
            return kernels.DenseRows(read_only(X.data), read_only(X.indices),
                                     read_only(X.indptr))
    elif X.size:
        sample = X[::-(-X.shape[0] // DENSITY_ROWS)]
        if np.count_nonzero(sample) < SPARSE_BELOW * sample.size:
            X = canonical(sp.csr_matrix(X))
    return kernel_input(X)


def rows_max_abs(X, rows):
    """max |x| over the given rows of X, dense or sparse (for error messages)."""
    part = X[rows]
    if sp.issparse(part):
        return float(abs(part).max()) if part.nnz else 0.0
    return float(np.max(np.abs(part)))
