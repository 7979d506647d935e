"""Matrix products through BLAS, with GEMM's α and β: C ← α op(A) op(B) + β C.

``np.dot`` in numba calls the same BLAS (SciPy's, through numba's
``numba_xxgemm`` helper) but always with α = 1, β = 0, into a new array.  The
book's whole weight update is one GEMM with both:
w ← (1 − ηλ/n) w − (η/m) aᵀδ is β = 1 − ηλ/n, α = −η/m.  ``gemm`` is that call,
on row-major (C-contiguous) 2-D arrays of one float dtype; anything else is
refused when numba types the call, never misread.
"""
import os

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic

_char = ir.IntType(8)
_void_p = ir.IntType(8).as_pointer()


def _check_matrix(name, ty, dtype):
    if not (isinstance(ty, types.Array) and ty.ndim == 2 and ty.layout in "CA"):
        raise TypingError(f"gemm: {name} must be a C-contiguous 2-D array or a block of "
                          f"one, not {ty}")
    if ty.dtype != dtype:
        raise TypingError(f"gemm: {name} is {ty.dtype}, C is {dtype}: one dtype for all three")


@intrinsic
def gemm(typingctx, trans_a, trans_b, alpha, a, b, beta, c):
    """C ← α op(A) op(B) + β C for row-major 2-D arrays; op(X) is Xᵀ if trans_x.

    Each array is C-contiguous, or a block of rows and columns of one
    (``a[:, i0:i1]``): its rows evenly spaced, its numbers within a row
    adjacent, which is checked when it runs (a ValueError otherwise, never a
    misread).  Shapes must agree (op(A): (M, K), op(B): (K, N), C: (M, N));
    the caller checks them.  β = 0 ignores C's old contents (BLAS does not
    read them).
    """
    if not (isinstance(c, types.Array) and c.dtype in (types.float32, types.float64)):
        raise TypingError(f"gemm: C must be a float32 or float64 array, not {c}")
    if not c.mutable:
        raise TypingError("gemm: C must be writable")
    for name, ty in (("A", a), ("B", b), ("C", c)):
        _check_matrix(name, ty, c.dtype)
    for name, ty in (("trans_a", trans_a), ("trans_b", trans_b)):
        if not isinstance(ty, types.Boolean):
            raise TypingError(f"gemm: {name} must be a bool, not {ty}")
    for name, ty in (("alpha", alpha), ("beta", beta)):
        if not isinstance(ty, (types.Float, types.Integer)):
            raise TypingError(f"gemm: {name} must be a number, not {ty}")
    sig = types.void(trans_a, trans_b, alpha, a, b, beta, c)

    def codegen(context, builder, signature, args):
        ta, tb, alpha_v, a_v, b_v, beta_v, c_v = args
        _, _, alpha_t, a_t, b_t, beta_t, c_t = signature.args
        dtype = c_t.dtype
        arrays = [context.make_array(t)(context, builder, v)
                  for t, v in ((a_t, a_v), (b_t, b_v), (c_t, c_v))]
        (a_rows, a_cols), (b_rows, b_cols), _ = [cgutils.unpack_tuple(builder, x.shape, 2)
                                                 for x in arrays]
        lda, ldb, ldc = [_leading_dimension(context, builder, x, t)
                         for x, t in zip(arrays, (a_t, b_t, c_t))]
        # Row-major C = op(A) op(B) is column-major Cᵀ = op(B)ᵀ op(A)ᵀ, and a
        # row-major X is a column-major Xᵀ: B goes first, its flag as given.
        m = builder.select(ta, a_cols, a_rows)
        k = builder.select(ta, a_rows, a_cols)
        n = builder.select(tb, b_rows, b_cols)
        flag = lambda t: builder.select(t, ir.Constant(_char, ord("t")),  # noqa: E731
                                        ir.Constant(_char, ord("n")))
        alpha_slot = cgutils.alloca_once_value(
            builder, context.cast(builder, alpha_v, alpha_t, dtype))
        beta_slot = cgutils.alloca_once_value(
            builder, context.cast(builder, beta_v, beta_t, dtype))
        intp = context.get_value_type(types.intp)
        fnty = ir.FunctionType(ir.IntType(32), [_char, _char, _char, intp, intp, intp, _void_p,
                                                _void_p, intp, _void_p, intp, _void_p, _void_p,
                                                intp])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "numba_xxgemm")
        kind = ir.Constant(_char, ord("s" if dtype == types.float32 else "d"))
        data = [builder.bitcast(x.data, _void_p) for x in arrays]
        builder.call(fn, (kind, flag(tb), flag(ta), n, m, k,
                          builder.bitcast(alpha_slot, _void_p), data[1], ldb, data[0], lda,
                          builder.bitcast(beta_slot, _void_p), data[2], ldc))
        return context.get_dummy_value()

    return sig, codegen


def _leading_dimension(context, builder, array, ty):
    """Numbers from one row to the next: the columns of a C-contiguous array, else
    its row stride over its item size, after checking that a row's numbers
    are adjacent and rows do not overlap (a ValueError when it runs)."""
    cols = cgutils.unpack_tuple(builder, array.shape, 2)[1]
    if ty.layout == "C":
        return cols
    row_stride, item_stride = cgutils.unpack_tuple(builder, array.strides, 2)
    intp = context.get_value_type(types.intp)
    item = ir.Constant(intp, context.get_abi_sizeof(context.get_data_type(ty.dtype)))
    ld = builder.sdiv(row_stride, item)
    bad = builder.or_(builder.icmp_signed("!=", item_stride, item),
                      builder.or_(builder.icmp_signed("!=", builder.srem(row_stride, item),
                                                      ir.Constant(intp, 0)),
                                  builder.icmp_signed("<", ld, cols)))
    with cgutils.if_unlikely(builder, bad):
        context.call_conv.return_user_exc(
            builder, ValueError, ("gemm: an array's rows are not evenly spaced runs of "
                                  "adjacent numbers",))
    return ld


def _load_blas():
    """Load SciPy's BLAS now, as numba's helper would at the first product, so
    that threadpoolctl sees it when a fit sets BLAS's threads."""
    import scipy.linalg.cython_blas  # noqa: F401


_load_blas()

# OpenBLAS (0.3.17 and later) multiplies a product of at most 100³ = 10⁶
# multiply-adds (M·N·K) without packing its operands, through its "small
# matrix" kernels, which exist for its AVX-512 cores only.  A narrow product
# such as 100 × 784 × 30 then runs ~1.5× faster cut into blocks under that
# size than whole (``split.n_blocks``); with OpenBLAS's AVX2 kernels the same
# blocks are slower, so they are cut only where the small kernels run.
SMALL_PRODUCT = 1_000_000
_SMALL_KERNEL_CORES = {"skylakex", "cooperlake", "sapphirerapids"}
_small_limit = None


def small_product_limit():
    """M·N·K up to which the BLAS numba calls (SciPy's) multiplies unpacked, or 0.

    Read once per process from threadpoolctl: SciPy's OpenBLAS, its version
    and the core it runs (``OPENBLAS_CORETYPE`` can change it).  The block
    sizes follow from it, and with them the last bits of a model: it is the
    same for every fit of a process, whatever the thread count.
    """
    global _small_limit
    if _small_limit is None:
        from threadpoolctl import threadpool_info

        scipy_blas = [info for info in threadpool_info() if info.get("user_api") == "blas"
                      and "scipy" in os.path.basename(os.path.dirname(info.get("filepath", "")))]
        _small_limit = SMALL_PRODUCT if any(
            info.get("internal_api") == "openblas"
            and str(info.get("architecture", "")).lower() in _SMALL_KERNEL_CORES
            and _version(info.get("version")) >= (0, 3, 17) for info in scipy_blas) else 0
    return _small_limit


def _version(text):
    """(0, 3, 30) from "0.3.30"; () if unreadable."""
    parts = []
    for part in str(text).split("."):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)
