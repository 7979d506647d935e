"""``stack_lanes(like)``: a small scratch array on the stack.

A loop that reads ``params`` and writes a heap array (``np.empty``) must
allow for the two overlapping: LLVM then checks their addresses every time
the loop starts, or does not vectorise it at all.  An array on the stack
(one ``alloca`` in the function's entry block) overlaps nothing, so the
sparse first layer's short loops over a row of w¹ run without those checks
(``sparse``: 1.2–1.3× faster, the same sums).  Its numbers are not
initialised, nothing frees it, and it lives until the calling kernel
returns: it never leaves a kernel.
"""
from llvmlite import ir
from numba import types
from numba.core.errors import TypingError
from numba.extending import intrinsic
from numba.np.arrayobj import populate_array

# Numbers in one stack array: 8 KB in float64, far below any thread's stack.
STACK_LANES = 1024


@intrinsic
def stack_lanes(typingctx, like):
    """``STACK_LANES`` uninitialised numbers of ``like``'s dtype, on the stack."""
    if not (isinstance(like, types.Array) and isinstance(like.dtype, types.Float)):
        raise TypingError(f"stack_lanes: like must be a float array, not {like}")
    lanes_t = types.Array(like.dtype, 1, "C")

    def codegen(context, builder, signature, args):
        item = context.get_data_type(like.dtype)
        # In the entry block: a fixed frame slot, not a stack that grows per call.
        with builder.goto_entry_block():
            slot = builder.alloca(ir.ArrayType(item, STACK_LANES))
        intp = context.get_value_type(types.intp)
        itemsize = ir.Constant(intp, context.get_abi_sizeof(item))
        lanes = context.make_array(lanes_t)(context, builder)
        populate_array(lanes, data=builder.bitcast(slot, item.as_pointer()),
                       shape=[ir.Constant(intp, STACK_LANES)], strides=[itemsize],
                       itemsize=itemsize, meminfo=None)
        return lanes._getvalue()

    return lanes_t(like), codegen
