"""Mini-batch stochastic gradient descent: one whole epoch per compiled call.

Per mini-batch of m samples (the book's ``update_mini_batch``, vectorised over
the mini-batch as ``fastnn.reference`` is):

1. its rows of X are gathered into one (m, n_0) matrix;
2. forward, one GEMM per layer: z^l = a^(l−1) w^l + b^l, a^l = σ(z^l);
3. δ^L (BP1), scaled by each sample's weight; the sample's cost and output
   are recorded for the epoch's training monitors;
4. backward from the last layer: δ^(l−1) = (δ^l (w^l)ᵀ) ⊙ σ'(z^(l−1)) (BP2),
   one GEMM, computed before w^l changes; then w^l's whole update is one
   GEMM with α and β (BP4 summed over the mini-batch, the L2 decay):
   w ← (1 − ηλ/n) w − (η/m) (a^(l−1))ᵀ δ^l, and b ← b − (η/m) Σ δ (BP3).

Momentum and L1 replace step 4's update (``update``).  Every product goes
through BLAS (``blas.gemm``), the element-wise work through plain loops that
numba vectorises.  The caller runs BLAS on one thread
(``fastnn.estimators._threads.blas_threads``): on two, OpenBLAS splits some products so
that the last bits change, and a model must not depend on the thread count.
"""
from collections import namedtuple

import numpy as np

from ._jit import jit
from .activations import IDENTITY
from .blas import small_product_limit
from .costs import other_codes
from .dropout import sample_key
from .dtype import as_dtype_of
from .forward import block, forward_block, scratch
from . import pad, split
from .predict import dense_or_csr
from .readonly import read_only
from .shared import epoch as _epoch_on_threads
from .sparse import DenseRows, densify_rows, fold, update_first
from .steps import ROWS_AHEAD, backpropagate, gather, outputs_and_deltas, prefetch_rows
from .steps import update_layer
from .update import L1, update_biases

# The codes of the network and its training (ints from ``activations``,
# ``costs`` and ``update``) and the hyperparameters (floats), as the book names them.
Codes = namedtuple("Codes", "hidden out_act cost penalty")
Hyper = namedtuple("Hyper", "eta lmbda momentum dropout")


def train_epoch(X, Y, sample_weight, order, params, velocity, layout, codes, hyper, key, n_train,
                mini_batch_size, outputs, costs, n_threads=1):
    """Run one epoch of mini-batch SGD in place on ``params``.

    Parameters
    ----------
    X : array of shape (n_samples, n_features), C-contiguous, or ``sparse.CSR``, ``DenseRows``
        A CSR matrix's first layer takes only its non-zeros (``sparse``);
        ``DenseRows`` (a CSR matrix with many non-zeros) trains as dense X,
        each mini-batch's rows written out densely: the same bits as dense X.
    Y : array of shape (n_samples, n_outputs)
        Targets, one-hot for classification.
    sample_weight : array of shape (n_samples,)
        Scales each sample's gradient; ones for the book's unweighted SGD.
    order : int64 array of shape (n_train,)
        This epoch's shuffle: mini-batches are ``order[k:k + mini_batch_size]``;
        the last one may be smaller, as in the book.
    params : array of shape (n_params,), same dtype as X
        Updated in place (see ``forward.make_layout`` for the layout).
    velocity : array like ``params``
        Momentum's v, updated in place; unused (may be empty) when μ = 0.
    codes : Codes
        hidden/out_act/cost/penalty codes.
    hyper : Hyper
        η, λ, μ (momentum) and the dropout probability p of hidden neurons.
    key : uint64
        This epoch's dropout key (``dropout.epoch_key``); unused when p = 0.
    n_train : int
        n in ηλ/n: the size of the whole training set.
    outputs : array of shape (n_samples, n_outputs), params' dtype
        Filled with each sample's a^L as the epoch's forward pass computed
        it, before its own mini-batch's update: the training monitors.
    costs : float64 array of shape (n_samples,)
        Filled with each sample's weighted cost w_x C_x, likewise.
    n_threads : int
        Threads that share a large layer's products (``split``); the model is
        bitwise the same for any number.  The products' blocks follow the BLAS
        (``blas.small_product_limit``), read once per process.  They enter
        the epoch once (``shared``: the caller's thread and Python helpers);
        a CSR matrix's first layer is one thread's.  BLAS runs on one.

    Returns
    -------
    finite : bool
        False if a mini-batch produced a non-finite δ^L or weight; the epoch
        stops there and ``params`` must be considered lost (the caller
        restores them).
    """
    # An option the fit does not use goes in as None: numba then compiles the
    # epoch without its code, so a default fit compiles none of ch. 3's
    # toolkit, and each option set is one compiled epoch.
    real = params.dtype.type
    eta_reg = hyper.eta * hyper.lmbda / n_train
    l1 = codes.penalty == L1
    if sample_weight is not None and np.all(sample_weight == 1.0):
        sample_weight = None
    rows = X if isinstance(X, DenseRows) else None
    dense, csr = dense_or_csr(X) if rows is None else (None, None)
    small = small_product_limit()
    splits = _splits(layout, mini_batch_size, csr is not None, small, params.itemsize)
    # The first layer padded to whole cache lines (``pad``) only where threads
    # share no product: then every thread count runs this one epoch, padded alike.
    width = int(layout[0][1])
    if csr is None and not splits:
        width = pad.first_width(int(mini_batch_size), int(layout[0][0]), width,
                                params.itemsize, small)
    # ``others`` None: the book's default network, whose epoch compiles no other
    # activation's or cost's code (``costs.other_codes``).
    args = (dense, csr, rows, Y, sample_weight, order, params, velocity, layout, codes.hidden,
            codes.out_act, codes.cost, other_codes(codes.hidden, codes.out_act, codes.cost),
            codes.penalty, real(hyper.eta), real(eta_reg),
            real(1.0 if l1 else 1.0 - eta_reg), real(eta_reg) if l1 and eta_reg != 0.0 else None,
            real(hyper.momentum) if hyper.momentum != 0.0 else None,
            float(hyper.dropout) if hyper.dropout > 0.0 else None,
            np.uint64(key), int(mini_batch_size), outputs, costs)
    # Threads enter the epoch once and share its pieces (``shared``), only
    # where some layer's products split: the same arithmetic, the same bits.
    if n_threads > 1 and splits:
        return _epoch_on_threads(*args, int(n_threads), np.int64(small))
    # Momentum's velocities padded only if there is momentum.
    moving = velocity if hyper.momentum != 0.0 else velocity[:0]
    first = pad.first_layer(params, moving, layout, width, int(mini_batch_size))
    try:
        finite = _epoch(*args, np.int64(small), *first)
    finally:
        stored = pad.store(*first[:3], params, moving, layout)
    return stored and finite


def _splits(layout, mini_batch_size, sparse_first, small, itemsize):
    """Whether any dense layer's products split into blocks that threads share
    (``split.n_blocks``, ``split.n_row_blocks``, ``split.shared``; a sparse
    first layer never splits): only then do threads have work, and only then
    is the epoch's threaded variant compiled."""
    sizes = layout[0]
    m = int(mini_batch_size)
    return any(max(split.n_blocks(m, int(a), int(b), int(small)),
                   split.n_row_blocks(m, int(a), int(b), int(small))) > 1
               and split.shared(m, int(a), int(b), int(itemsize))
               for a, b in list(zip(sizes[:-1], sizes[1:]))[int(sparse_first):])


@jit()
def _epoch(X, csr, rows, Y, sample_weight, order, params, velocity, layout, hidden, out_act, cost,
           others, penalty, eta, eta_reg, keep, l1_shrink, momentum, dropout, key, mbs, outputs,
           costs, small, params1, velocity1, layout1, z1, d1):
    """``train_epoch``'s compiled body on one thread; ``l1_shrink``,
    ``momentum``, ``dropout`` and ``sample_weight`` are None where the fit
    does not use them, and all but one of X, ``csr`` and ``rows``
    (``DenseRows``).  Dense X's first layer may be padded (``pad.first_layer``:
    ``params1``, ``velocity1``, ``layout1``, z and δ¹ through ``z1`` and
    ``d1``), and is then the caller's to store back (``pad.store``)."""
    sizes, w_off, b_off, a_off = layout
    n_layers = sizes.shape[0] - 1
    n = order.shape[0]
    # Two ifs on the argument that is None, never an else: numba prunes only
    # those (``forward.forward_block``).
    n_x = 0
    if X is not None:
        n_x = sizes[0]
    if rows is not None:
        n_x = sizes[0]
    x_buf = np.empty((mbs, n_x), dtype=params.dtype)
    # Sparse input: w¹ = c W (``sparse``), c back to 1 at the epoch's end.
    c = 1.0
    acts = scratch(layout, mbs, params)
    deltas = scratch(layout, mbs, params)
    n_grad = 0
    if momentum is not None:
        for l in range(n_layers):
            n_grad = max(n_grad, sizes[l] * sizes[l + 1])
        # The first layer's gradient may be padded (``pad``).
        n_grad = max(n_grad, layout1[0][0] * layout1[0][1])
    grad = np.empty(n_grad, dtype=params.dtype)
    keys = np.zeros(mbs, dtype=np.uint64)
    c_batch = np.empty(mbs, dtype=np.float64)
    identity = np.int64(IDENTITY)  # a variable: a constant would compile a Literal variant
    scale_full = as_dtype_of(eta / mbs, params)
    for start in range(0, n, mbs):
        m = min(mbs, n - start)
        batch = order[start:start + m]
        if rows is None:
            prefetch_rows(csr, Y, outputs, costs, order, start + mbs, mbs)
        if rows is not None:
            prefetch_rows(rows, Y, outputs, costs, order, start + mbs, mbs)
        x = x_buf[:m]
        if X is not None:
            gather(X, batch, x, order[start + ROWS_AHEAD:start + m + ROWS_AHEAD])
        if rows is not None:
            densify_rows(rows, batch, x)
        if dropout is not None:
            for s in range(m):
                keys[s] = sample_key(key, batch[s])
        # Up to z^L: the cost is computed from z, then a^L.
        if X is not None:
            # Read-only, as prediction passes X: one compiled forward pass.
            forward_block(read_only(x), None, None, c, params, layout, hidden, identity, others,
                          dropout, keys, acts, mbs, small, params1, layout1, z1)
        if rows is not None:
            forward_block(read_only(x), None, None, c, params, layout, hidden, identity, others,
                          dropout, keys, acts, mbs, small, params1, layout1, z1)
        if csr is not None:
            forward_block(None, csr, batch, c, params, layout, hidden, identity, others,
                          dropout, keys, acts, mbs, small, params1, layout1, z1)
        finite = outputs_and_deltas(block(acts, layout, n_layers, m, mbs), Y, sample_weight,
                                     batch, cost, out_act, others,
                                     block(deltas, layout, n_layers, m, mbs),
                                     outputs, costs, c_batch[:m])
        if not finite:
            return False
        # η/m in params' dtype, so that float32 updates stay in float32.
        scale = scale_full if m == mbs else as_dtype_of(eta / m, params)
        for l in range(n_layers - 1, -1, -1):
            d = block(deltas, layout, l + 1, m, mbs)
            if l > 0:
                a_prev = block(acts, layout, l, m, mbs)
                d_prev = block(deltas, layout, l, m, mbs)
                # BP2 with w^(l+1) as it was: before its update below.
                backpropagate(params, layout, l, d, d_prev, a_prev, hidden, others, dropout, keys)
                update_layer(params, velocity, layout, l, a_prev, d, keep, l1_shrink, scale,
                              momentum, penalty, eta_reg, grad, small)
            else:
                if csr is None:
                    # Dense x (X's or ``rows``'), the first layer padded or not.
                    if layout1[0][1] == sizes[1]:
                        update_layer(params, velocity, layout, l, x, d, keep, l1_shrink, scale,
                                      momentum, penalty, eta_reg, grad, small)
                    else:
                        for s in range(m):
                            for j in range(sizes[1]):
                                d1[s, j] = d[s, j]
                        update_layer(params1, velocity1, layout1, l, x, d1[:m], keep,
                                      l1_shrink, scale, momentum, penalty, eta_reg, grad, small)
                if csr is not None:
                    c = update_first(csr, batch, d, params, velocity, layout, c, keep, scale,
                                     l1_shrink, momentum, penalty, eta_reg, grad)
                    update_biases(params, velocity, layout, l, d, scale, momentum)
    fold(params, w_off[0], b_off[0], c)
    for k in range(params.shape[0]):
        if not np.isfinite(params[k]):
            return False
    return True
