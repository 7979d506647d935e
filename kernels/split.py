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
from ._jit import jit, jitable
from .blas import gemm

# The rules below are ``jitable``: the epoch's set-up calls them from Python
# (``sgd._splits``) without compiling them apart.

# Below these a layer's products stay whole: too small to share.
SPLIT_MIN_BATCH = 32
SPLIT_MIN_WEIGHTS = 16384
# Blocks of a split product: the machines fastnn runs on have 2 cores or
# more, and a fixed count keeps the bits whatever the thread count.
N_BLOCKS = 2
# Threads share a product's blocks only from this many multiply-adds times
# the bytes of a number on: below, sharing costs what it saves (2-core VM,
# threads entering the epoch once, ``shared``: 784-30 at m = 100, 2.4 M,
# ran 1.55x on two threads in float64 and 0.67-1.0x in float32; 784-100,
# 7.8 M, 1.6-1.8x in both).
PARALLEL_MIN_BYTES = 16_000_000


# Cuts for BLAS (``blas.small_product_limit``) only where measured to pay
# (numba calling SciPy's OpenBLAS, SkylakeX kernels, one thread): products
# with at most NARROW outputs per row (30 and 100 gained 1.2-1.6x; 300 little,
# 1000 lost), in blocks of at least MIN_BLOCK_ROWS rows (5-row blocks lost).
NARROW = 128
MIN_BLOCK_ROWS = 8


@jitable
def _large(m, n_in, n_out):
    """``N_BLOCKS`` for a large layer and mini-batch, so that threads can share it; else 1."""
    return N_BLOCKS if m >= SPLIT_MIN_BATCH and n_in * n_out >= SPLIT_MIN_WEIGHTS else 1


@jitable
def _cut(blocks, rows, per_row, n_out, small):
    """``blocks`` raised so that each block of ``rows`` (each ``per_row``
    multiply-adds) has at most ``small``, where that leaves every block
    ``MIN_BLOCK_ROWS`` rows or more; an even count where it can be."""
    if small > 0 and n_out <= NARROW and per_row <= small < rows * per_row:
        per_block = small // per_row
        cut = (rows + per_block - 1) // per_block
        if rows // cut >= MIN_BLOCK_ROWS:
            blocks = max(blocks, cut)
            even = (blocks + N_BLOCKS - 1) // N_BLOCKS * N_BLOCKS
            if rows // even >= MIN_BLOCK_ROWS:
                blocks = even
    return blocks


@jitable
def n_blocks(m, n_in, n_out, small):
    """How many blocks of samples the forward product of m samples through
    n_in × n_out weights runs in: ``N_BLOCKS`` for a large layer, so that
    threads share it, or, with ``small`` > 0 (``blas.small_product_limit``),
    as many as keep each under ``small`` multiply-adds (``_cut``)."""
    return _cut(_large(m, n_in, n_out), m, n_in * n_out, n_out, small)


@jitable
def n_row_blocks(m, n_in, n_out, small):
    """``n_blocks`` for the update w ← keep · w − scale · aᵀδ, cut by w's n_in rows."""
    return _cut(_large(m, n_in, n_out), n_in, m * n_out, n_out, small)


@jitable
def shared(m, n_in, n_out, itemsize):
    """Whether threads share the blocks of m samples' products with n_in × n_out
    weights of ``itemsize`` bytes (the blocks are the same either way)."""
    return m * n_in * n_out * itemsize >= PARALLEL_MIN_BYTES


@jit(from_python=False)
def bounds(k, blocks, n):
    """[first, last) of block k when n rows are cut into ``blocks`` fixed blocks."""
    return k * n // blocks, (k + 1) * n // blocks


@jit(from_python=False)
def product_block(a, w, z, k, blocks):
    """z ← z + a w on block k of ``blocks`` blocks of samples."""
    s0, s1 = bounds(k, blocks, z.shape[0])
    gemm(False, False, 1.0, a[s0:s1], w, 1.0, z[s0:s1])


@jit(from_python=False)
def product_rows(a, w, z, blocks):
    """z ← z + a w, block of samples after block."""
    for k in range(blocks):
        product_block(a, w, z, k, blocks)


@jit(from_python=False)
def gradient_rows(a, d, g, blocks):
    """g ← aᵀδ (the gradient momentum needs apart), block of g's rows after block."""
    for k in range(blocks):
        i0, i1 = bounds(k, blocks, g.shape[0])
        gemm(True, False, 1.0, a[:, i0:i1], d, 0.0, g[i0:i1])


@jit(from_python=False)
def update_block(a, d, w, keep, scale, k, blocks):
    """w ← keep · w − scale · aᵀδ on block k of ``blocks`` blocks of w's rows."""
    i0, i1 = bounds(k, blocks, w.shape[0])
    gemm(True, False, -scale, a[:, i0:i1], d, keep, w[i0:i1])


@jit(from_python=False)
def update_rows(a, d, w, keep, scale, blocks):
    """w ← keep · w − scale · aᵀδ, block of w's rows after block."""
    for k in range(blocks):
        update_block(a, d, w, keep, scale, k, blocks)

