"""``as_dtype_of(x, like)``: the number x in the dtype of the array ``like``.

A float32 network's loops must stay in float32: a float64 scalar such as
η/m or a row's step (−η/(m c)) · x_i, multiplied into float32 weights,
would make numba compute the whole loop in float64 and round each result,
other bits than the NumPy reference's float32 arithmetic.  The conversion
is one instruction in a register: the scalar once went through a 1-element
array (an allocation, or a store and a load on the sparse layer's path for
every non-zero).
"""
from numba import types
from numba.core.errors import TypingError
from numba.extending import intrinsic


@intrinsic
def as_dtype_of(typingctx, x, like):
    """x converted to ``like``'s dtype (numba's conversion, as an array store does it)."""
    if not isinstance(like, types.Array):
        raise TypingError(f"as_dtype_of: like must be an array, not {like}")
    if not isinstance(x, (types.Float, types.Integer)):
        raise TypingError(f"as_dtype_of: x must be a number, not {x}")

    def codegen(context, builder, signature, args):
        return context.cast(builder, args[0], signature.args[0], like.dtype)

    return like.dtype(x, like), codegen
