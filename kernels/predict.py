"""Prediction over many samples: blocks of rows, one GEMM per layer and block.

Samples are independent: each block of ``BLOCK`` rows goes forward as one
matrix (``forward.forward_block``) straight from X, no copy, its products
cut where BLAS multiplies small ones faster (``split.n_blocks``); from a CSR X
the first layer takes only the non-zeros (``sparse``).  Threads share the
rows, not the products: each takes a run of whole blocks (``row_chunks``)
and calls the compiled loop, which releases the GIL, with BLAS on one
thread.  BLAS's own threads inside a 256-row product gained nothing (two
threads: 0.87–1.04× a NumPy pass that got 1.6× from them), and numba's
``prange`` took 14 s to compile against 2 s.  The blocks are the same for
any thread count, so the outputs are bitwise the same.
"""
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ._jit import jit
from .blas import small_product_limit
from .costs import other_codes
from .forward import block, forward_block, scratch
from .readonly import read_only
from .sparse import CSR

BLOCK = 256


def dense_or_csr(X):
    """(X, None) for an array, (None, X) for a ``CSR``: the kernels' two inputs,
    one of them None so that numba compiles only the other's code."""
    return (None, X) if isinstance(X, CSR) else (X, None)


def row_chunks(n, n_threads):
    """[(r0, r1), …]: at most ``n_threads`` runs of whole ``BLOCK``-row blocks
    covering rows 0 … n − 1, as even as whole blocks allow."""
    blocks = -(-n // BLOCK)
    k = max(1, min(int(n_threads), blocks))
    cuts = [min(n, (blocks * i // k) * BLOCK) for i in range(k + 1)]
    return list(zip(cuts[:-1], cuts[1:]))


def predict_outputs(X, params, layout, hidden, out_act, normalize, n_threads=1):
    """Output activations a^L for every row of X, shape (n_samples, n_outputs).

    X is an (n_samples, n_features) array or a ``CSR`` matrix.  With
    ``normalize`` each row is divided by its sum, turning independent sigmoid
    outputs into class probabilities (the book predicts argmax a^L, which
    this keeps).  A row whose outputs all underflowed to 0 becomes uniform.

    Parameters
    ----------
    X : array of shape (n_samples, n_features), or ``sparse.CSR``
    params, layout : the network (``forward.make_layout``)
    hidden, out_act : int
        Codes from ``activations``.
    normalize : bool
    n_threads : int
        Threads that share the rows (``row_chunks``); the caller runs BLAS
        on one.  The outputs are bitwise the same for any number.

    Returns
    -------
    array of shape (n_samples, n_outputs), params' dtype
    """
    dense, csr = dense_or_csr(X)
    n = X.indptr.shape[0] - 1 if csr is not None else X.shape[0]
    out = np.empty((n, layout[0][-1]), dtype=params.dtype)
    small = np.int64(small_product_limit())
    others = other_codes(hidden, out_act)

    def run(chunk):
        r0, r1 = chunk
        # A run of CSR rows keeps the whole data and indices: indptr holds
        # absolute positions in them.
        part = (CSR(csr.data, csr.indices, csr.indptr[r0:r1 + 1]) if csr is not None
                else dense[r0:r1])
        part_dense, part_csr = dense_or_csr(part)
        predict_rows(part_dense, part_csr, r1 - r0, params, layout, hidden, out_act, others,
                     normalize, out[r0:r1], small)

    chunks = row_chunks(n, n_threads)
    if len(chunks) == 1:
        run(chunks[0])
        return out
    with ThreadPoolExecutor(max_workers=len(chunks) - 1) as pool:
        helpers = [pool.submit(run, chunk) for chunk in chunks[1:]]
        run(chunks[0])
        for done in helpers:
            done.result()
    return out


@jit()
def predict_rows(X, csr, n, params, layout, hidden, out_act, others, normalize, out, small):
    """out[r] ← a^L (z^L if ``out_act`` is identity) for rows 0 … n − 1 of X
    or, X None, of ``csr``, ``BLOCK`` rows at a time; each row divided by its
    sum if ``normalize`` (uniform if all underflowed to 0).  Products are cut
    into blocks of at most ``small`` multiply-adds (``blas.small_product_limit``).

    One compiled function, not a loop calling a compiled block: numba
    compiles a callee's code again into each compiled caller, so every level
    costs compile time.  ``monitor.evaluate`` calls this one too: the
    evaluation monitors compile no forward pass of their own.
    """
    sizes = layout[0]
    n_layers = sizes.shape[0] - 1
    capacity = np.int64(BLOCK)  # a variable: a constant would compile a Literal[int] variant
    acts = scratch(layout, capacity, params)
    keys = np.zeros(capacity, dtype=np.uint64)
    rows = np.empty(capacity, dtype=np.int64)
    unpadded = np.zeros((0, 0), dtype=params.dtype)  # the first layer as it is (``pad``)
    for r0 in range(0, n, BLOCK):
        r1 = min(n, r0 + BLOCK)
        m = r1 - r0
        # Two ifs on the argument that is None: see ``forward.forward_block``.
        if X is not None:
            # Read-only whatever the caller passed: the epoch's forward pass.
            forward_block(read_only(X[r0:r1]), None, None, 1.0, params, layout, hidden, out_act,
                          others, None, keys, acts, capacity, small, params, layout, unpadded)
        if csr is not None:
            for s in range(m):
                rows[s] = r0 + s
            forward_block(None, csr, rows[:m], 1.0, params, layout, hidden, out_act, others, None,
                          keys, acts, capacity, small, params, layout, unpadded)
        a = block(acts, layout, n_layers, m, capacity)
        for r in range(m):
            total = 0.0
            for j in range(a.shape[1]):
                out[r0 + r, j] = a[r, j]
                total += a[r, j]
            # Probabilities from independent sigmoid outputs (the book's argmax
            # a^L is unchanged); a NaN total stays NaN.
            if normalize and total > 0.0:
                for j in range(a.shape[1]):
                    out[r0 + r, j] = a[r, j] / total
            if normalize and total == 0.0:
                for j in range(a.shape[1]):
                    out[r0 + r, j] = 1.0 / a.shape[1]
