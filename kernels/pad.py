"""The first layer's products on w¹ padded with zero columns to whole cache lines.

OpenBLAS's small-matrix kernels (its AVX-512 cores, ``blas.small_product_limit``)
multiply a narrow product fastest when its width n_1 is a whole number of
512-bit vectors: z = x w¹ with the book's n_1 = 30 (784 inputs, m = 10) took
11.5 µs in float64 and 8.7 µs with w¹ padded to 32 columns, the two extra
columns computed and thrown away (float32: 6.1 and 4.7 µs; a ``/tmp`` probe
calling ``blas.gemm`` on a 2-core AMD EPYC).  Widths short of a whole line
by at most a quarter of one gained (30 in both dtypes, 60 in float32); the
other widths measured (10, 20, 50, 100) were mostly slower padded, by up to
1.45×, and are left as they are.  The epoch (``bench.ab``, one thread,
784-30-10, the same bits): 1.09× (float64) and 1.04× (float32) at m = 10,
1.18× and 1.08× online (m = 1), 1.06× at m = 32 in float64; a default
fit compiles ~0.3 s longer.  Padded only where those kernels multiply
every block of the layer's products (``split``: at most ``small``
multiply-adds each; 784-30 up to m = 85 in float64, 170 in float32), and
never where threads share a product (``sgd``).

The padded first layer is a working copy for the epoch (``first_layer``):
w¹ and b¹ of a one-layer network n_0 × width of their own, ``params1`` and
``layout1``, whose extra neurons have zero weights and biases.  The forward
and update kernels run on it unchanged (``forward.weighted_inputs``,
``steps.update_layer``: no code compiled for it but the copies), z and δ¹
through padded buffers whose extra columns are thrown away and kept 0, so
the extra weights stay 0; ``store`` writes w¹ and b¹ (and, with momentum,
their velocities) back at the epoch's end.  Each column of z and w¹ is the
same sum as without the padding: the same bits on this BLAS (tests).  An
epoch that pads runs on one thread whatever the thread count (no product
is shared), so the thread count never changes a bit.
"""
import numpy as np

from ._jit import jitable
from .forward import make_layout
from .split import n_blocks, n_row_blocks

LINE = 64  # bytes in a cache line


@jitable
def padded_width(n_out, itemsize, small):
    """n_out rounded up to whole cache lines where OpenBLAS's small kernels run
    (``small`` > 0) and the padding is at most a quarter of a line; else n_out."""
    lanes = LINE // itemsize
    short = (lanes - n_out % lanes) % lanes
    if small > 0 and 0 < short * 4 <= lanes:
        return n_out + short
    return n_out


def first_width(m, n_in, n_out, itemsize, small):
    """The first layer's width in an epoch of mini-batches of m: ``padded_width``
    where OpenBLAS's small kernels multiply every block of its products (at
    most ``small`` multiply-adds each, ``split``'s blocks), else n_out."""
    width = padded_width(n_out, itemsize, small)
    if width == n_out:
        return n_out
    samples = -(-m // n_blocks(m, n_in, width, small))  # a forward block's rows
    weights = -(-n_in // n_row_blocks(m, n_in, width, small))  # an update block's rows
    if samples * n_in * width > small or weights * m * width > small:
        return n_out
    return width


def first_layer(params, velocity, layout, width, mbs):
    """(params1, velocity1, layout1, z1, d1): the first layer ``width``
    neurons wide, its extra weights, biases and momentum's velocities 0
    (``velocity`` empty without momentum), with buffers for ``mbs``
    samples' z and δ; or (params, velocity, layout) themselves and two empty
    buffers when ``width`` = n_1.  Plain NumPy, once per epoch."""
    n_in, n_out = int(layout[0][0]), int(layout[0][1])
    if width == n_out:
        empty = np.zeros((0, 0), dtype=params.dtype)
        return params, velocity, layout, empty, empty
    layout1, n_params1, _ = make_layout(np.array([n_in, width], dtype=np.int64))
    params1 = _widened(params, layout, n_params1, width)
    velocity1 = _widened(velocity, layout, n_params1, width) if velocity.size else velocity
    return (params1, velocity1, layout1, np.zeros((mbs, width), dtype=params.dtype),
            np.zeros((mbs, width), dtype=params.dtype))


def _widened(vector, layout, n_params1, width):
    """w¹ and b¹'s part of a parameter-shaped ``vector``, ``width`` neurons
    wide, the extra ones 0."""
    n_in, n_out = int(layout[0][0]), int(layout[0][1])
    w0, b0 = int(layout[1][0]), int(layout[2][0])
    out = np.zeros(n_params1, dtype=vector.dtype)
    out[:n_in * width].reshape(n_in, width)[:, :n_out] = vector[w0:b0].reshape(n_in, n_out)
    out[n_in * width:n_in * width + n_out] = vector[b0:b0 + n_out]
    return out


def store(params1, velocity1, layout1, params, velocity, layout):
    """w¹ and b¹ (and their velocities) from the padded first layer back into
    ``params`` (``velocity``, if not empty), nothing when ``first_layer`` did not pad;
    False if a weight or bias is not finite.  Plain NumPy, once per epoch."""
    if params1 is params:
        return True
    _narrowed(params1, layout1, params, layout)
    if velocity.size:
        _narrowed(velocity1, layout1, velocity, layout)
    w0, b0, n_out = int(layout[1][0]), int(layout[2][0]), int(layout[0][1])
    return bool(np.isfinite(params[w0:b0 + n_out]).all())


def _narrowed(vector1, layout1, vector, layout):
    """``_widened``'s inverse: the real neurons' part back into ``vector``."""
    n_in, n_out, width = int(layout[0][0]), int(layout[0][1]), int(layout1[0][1])
    w0, b0 = int(layout[1][0]), int(layout[2][0])
    vector[w0:b0].reshape(n_in, n_out)[...] = vector1[:n_in * width].reshape(n_in, width)[:, :n_out]
    vector[b0:b0 + n_out] = vector1[n_in * width:n_in * width + n_out]
