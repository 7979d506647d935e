"""A large layer's products in fixed blocks, so that threads can share them
and BLAS multiplies each without packing it.

A product may be split only where no sum changes: the forward product
z = a w by blocks of samples (rows of a and z), the update
w ← keep · w − scale · aᵀδ by blocks of w's rows (columns of a); each
block is one GEMM (``blas.gemm`` reads blocks in place).  How many blocks
depends on the layer's size, the mini-batch's and the BLAS
(``blas.small_product_limit``), never on the thread count, and one thread
runs the very same blocks in turn: the model is bitwise the same on 1 or
many threads.
"""
from numba import prange

from ._jit import jit
from .blas import gemm

# Below these a layer's products stay whole: too small to share.
SPLIT_MIN_BATCH = 32
SPLIT_MIN_WEIGHTS = 16384
# Blocks of a split product: the machines fastnn runs on have 2 cores or
# more, and a fixed count keeps the bits whatever the thread count.
N_BLOCKS = 2
# Threads share a product's blocks only from this many multiply-adds on:
# below, a parallel region costs what it saves (TBB, 2-core VM: 784-30 at
# m = 100, 2.4 M, ran 0.9-1.0x on two threads; 784-100, 7.8 M, 1.4-1.5x).
PARALLEL_MIN = 4_000_000


@jit()
def n_blocks(m, n_in, n_out, small):
    """How many blocks a layer of n_in × n_out weights splits m samples' products into.

    ``N_BLOCKS`` for a large layer, so that threads share it; and, with
    ``small`` > 0 (``blas.small_product_limit``), enough that each block of
    the forward product (rows of m) and of the update (rows of n_in) has at
    most ``small`` multiply-adds, where one block of a row can.
    """
    blocks = N_BLOCKS if m >= SPLIT_MIN_BATCH and n_in * n_out >= SPLIT_MIN_WEIGHTS else 1
    if small > 0 and m * n_in * n_out > small:
        # A block of k rows of m (or of n_in) gets at most ceil(m / blocks) of them.
        if n_in * n_out <= small:
            per_block = small // (n_in * n_out)
            blocks = max(blocks, (m + per_block - 1) // per_block)
        if m * n_out <= small:
            per_block = small // (m * n_out)
            blocks = max(blocks, (n_in + per_block - 1) // per_block)
        # A multiple of N_BLOCKS, so that threads get equal shares.
        blocks = (blocks + N_BLOCKS - 1) // N_BLOCKS * N_BLOCKS
    return blocks


@jit()
def shared(m, n_in, n_out):
    """Whether threads share the blocks of m samples' products with n_in × n_out
    weights (the blocks are the same either way)."""
    return m * n_in * n_out >= PARALLEL_MIN


@jit()
def _bounds(k, blocks, n):
    return k * n // blocks, (k + 1) * n // blocks


@jit()
def product_rows(a, w, z, blocks):
    """z ← z + a w, block of samples after block."""
    for k in range(blocks):
        s0, s1 = _bounds(k, blocks, z.shape[0])
        gemm(False, False, 1.0, a[s0:s1], w, 1.0, z[s0:s1])


@jit(parallel=True)
def product_rows_parallel(a, w, z, blocks):
    """``product_rows`` with a thread per block."""
    for k in prange(blocks):
        s0, s1 = _bounds(k, blocks, z.shape[0])
        gemm(False, False, 1.0, a[s0:s1], w, 1.0, z[s0:s1])


@jit()
def update_rows(a, d, w, keep, scale, blocks):
    """w ← keep · w − scale · aᵀδ, block of w's rows after block."""
    for k in range(blocks):
        i0, i1 = _bounds(k, blocks, w.shape[0])
        gemm(True, False, -scale, a[:, i0:i1], d, keep, w[i0:i1])


@jit(parallel=True)
def update_rows_parallel(a, d, w, keep, scale, blocks):
    """``update_rows`` with a thread per block."""
    for k in prange(blocks):
        i0, i1 = _bounds(k, blocks, w.shape[0])
        gemm(True, False, -scale, a[:, i0:i1], d, keep, w[i0:i1])
