"""The network's layout and its forward pass over a block of samples.

Parameters live in ONE contiguous vector ``params``: for each layer l the
weights w^l as a (fan_in, fan_out) row-major block (scikit-learn's ``coefs_``
shape), then its biases b^l.  ``layout = (sizes, w_off, b_off, a_off)`` says
where.  A block of m samples keeps each layer's activations as one (m, n_l)
row-major matrix in a flat scratch vector (``scratch``/``block``), so that
z^l = a^(l−1) w^l + b^l is one GEMM per layer (``blas.gemm``).
"""
import numpy as np

from ._jit import jit
from .activations import activate_block
from .blas import gemm
from .dropout import drop_out
from .readonly import read_only
from .split import n_blocks, product_rows
from . import sparse

# Offsets in the hot loops are unsigned: with signed ones numba must allow for
# negative (wrap-around) indices, which blocks LLVM's vectoriser.
U = np.uint64
U1 = U(1)


def make_layout(sizes):
    """Offsets of every layer's weights, biases and activations.

    Plain Python: it runs once per fit, and compiling it would cost more
    than it ever saves.

    Parameters
    ----------
    sizes : int64 array of shape (n_layers + 1,)
        Neurons per layer, input layer first, e.g. [784, 30, 10].

    Returns
    -------
    layout : tuple (sizes, w_off, b_off, a_off) of int64 arrays
        ``w_off[l]``/``b_off[l]`` index ``params`` for the weights/biases that
        feed layer l + 1; ``a_off[l]`` (l ≥ 1) is the number of neurons before
        layer l, counting from layer 1 (``a_off[0]`` = 0 is unused): a block of
        m samples keeps layer l at ``m * a_off[l]`` of its scratch.
    n_params, n_units : int
        Lengths of ``params`` and of one sample's share of a scratch vector.
    """
    sizes = np.ascontiguousarray(sizes, dtype=np.int64)
    n_layers = sizes.shape[0] - 1
    w_off = np.empty(n_layers, dtype=np.int64)
    b_off = np.empty(n_layers, dtype=np.int64)
    a_off = np.zeros(n_layers + 1, dtype=np.int64)
    p = 0
    for l in range(n_layers):
        w_off[l] = p
        p += int(sizes[l] * sizes[l + 1])
        b_off[l] = p
        p += int(sizes[l + 1])
    u = 0
    for l in range(1, n_layers + 1):
        a_off[l] = u
        u += int(sizes[l])
    return (sizes, w_off, b_off, a_off), p, u


@jit(from_python=False)
def weights(params, layout, l):
    """w^(l+1) as a (fan_in, fan_out) view of ``params``."""
    sizes, w_off, b_off, a_off = layout
    return params[w_off[l]:b_off[l]].reshape((sizes[l], sizes[l + 1]))


@jit(from_python=False)
def scratch(layout, m, like):
    """A flat vector for the activations (or δ) of every layer of m samples."""
    sizes, w_off, b_off, a_off = layout
    n_layers = sizes.shape[0] - 1
    return np.zeros(m * (a_off[n_layers] + sizes[n_layers]), dtype=like.dtype)


@jit(from_python=False)
def block(buf, layout, l, m, capacity):
    """Layer l (≥ 1) of m samples in ``scratch(layout, capacity, …)``: an (m, n_l) view."""
    sizes, w_off, b_off, a_off = layout
    start = capacity * a_off[l]
    return buf[start:start + m * sizes[l]].reshape((m, sizes[l]))


@jit()
def first_unit(sizes, l):
    """The number of layer l's first neuron, counting from the inputs (dropout's numbering)."""
    u = 0
    for k in range(l):
        u += sizes[k]
    return u


@jit(from_python=False)
def weighted_inputs(a_prev, params, layout, l, z, small):
    """z ← a^(l−1) w^l + b^l for every row: a GEMM onto the broadcast biases, in
    ``split``'s fixed blocks of samples for a large layer or product (``small``:
    ``blas.small_product_limit``), one after the other (threads share them in
    ``shared``)."""
    sizes, w_off, b_off, a_off = layout
    b0 = b_off[l]
    for s in range(z.shape[0]):
        for j in range(z.shape[1]):
            z[s, j] = params[b0 + j]
    w = weights(params, layout, l)
    blocks = n_blocks(z.shape[0], sizes[l], sizes[l + 1], small)
    if blocks == 1:
        gemm(False, False, 1.0, a_prev, w, 1.0, z)
    else:
        product_rows(a_prev, w, z, blocks)


@jit(from_python=False)
def activate_rows(z, code, others, dropout, keys, unit0, hidden):
    """a = σ(z) in place for every row (``activate_block``), dropped out
    (hidden layers; ``dropout`` is p, or None without dropout) with the rows'
    keys."""
    activate_block(z, code, others)
    if dropout is not None:
        if hidden and dropout > 0.0:
            for s in range(z.shape[0]):
                drop_out(z[s], keys[s], U(unit0), dropout)


@jit(from_python=False)
def forward_block(x, csr, rows, c, params, layout, hidden, out_act, others, dropout, keys, acts,
                  capacity, small, params1, layout1, z1):
    """The forward pass of a block of m samples: a^l = σ(w^l a^(l−1) + b^l).

    The samples are the rows of x, an (m, n_0) matrix, or (x None) the rows
    ``rows`` of the CSR matrix ``csr``, whose first layer is c W
    (``sparse``).  Activations go to ``acts`` (``scratch(layout, capacity,
    …)``, m ≤ capacity); the output layer is left as z^L if ``out_act`` is
    identity (``others``: ``costs.other_codes``).  Hidden layers are dropped
    out with the samples' ``keys`` if p = ``dropout`` > 0 (None: no dropout
    code is compiled).  A large dense
    layer's product is cut into ``split``'s blocks (``small``:
    ``blas.small_product_limit``).  The epoch may hold the first layer padded
    (``pad.first_layer``: ``params1``, ``layout1``, z through ``z1``);
    elsewhere these are ``params``, ``layout`` and an empty array.
    """
    sizes, w_off, b_off, a_off = layout
    n_layers = sizes.shape[0] - 1
    # One of x and csr is None, and numba prunes only a branch that tests the
    # None one: hence two ifs, never an else.
    m = 0
    if x is not None:
        m = x.shape[0]
    if csr is not None:
        m = rows.shape[0]
    # Every layer's input read-only (``read_only``): one compiled
    # ``weighted_inputs`` for X, read-only from the estimators, and for the
    # writable scratch.
    for l in range(n_layers):
        z = block(acts, layout, l + 1, m, capacity)
        if l > 0:
            weighted_inputs(read_only(block(acts, layout, l, m, capacity)), params, layout, l, z,
                            small)
        else:
            if x is not None:
                if layout1[0][1] == sizes[1]:
                    weighted_inputs(read_only(x), params, layout, l, z, small)
                else:
                    weighted_inputs(read_only(x), params1, layout1, l, z1[:m], small)
                    for s in range(m):
                        for j in range(sizes[1]):
                            z[s, j] = z1[s, j]
            if csr is not None:
                sparse.weighted_inputs(csr, rows, params, w_off[0], b_off[0], c, z)
        last = l == n_layers - 1
        activate_rows(z, out_act if last else hidden, others, dropout, keys,
                      first_unit(sizes, l + 1), not last)
