"""A cache hint: ``prefetch(a, i)`` asks the CPU to fetch the line holding a.flat[i].

SGD visits the samples in a shuffled order, so each one's rows of X (its
first cache line), Y, the monitors' outputs and costs, and a CSR matrix's
row pointer are cache misses in a data set larger than the caches: measured
on a 2-core AMD EPYC, an epoch on 20,000 sparse samples took 14 ms in order
and 21–27 ms shuffled.  The epoch asks for the next mini-batch's lines while
it works on this one.  A hint only: it changes no value, and an index past
the end is never dereferenced (the hint is skipped).
"""
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic

_i32 = ir.IntType(32)


@intrinsic
def prefetch(typingctx, a, i):
    """Hint that a.ravel()[i] of the C-contiguous array ``a`` is read soon."""
    if not (isinstance(a, types.Array) and a.layout == "C"):
        raise TypingError(f"prefetch: a must be a C-contiguous array, not {a}")
    if not isinstance(i, types.Integer):
        raise TypingError(f"prefetch: i must be an integer, not {i}")
    sig = types.void(a, i)

    def codegen(context, builder, signature, args):
        a_t, i_t = signature.args
        array = context.make_array(a_t)(context, builder, args[0])
        index = context.cast(builder, args[1], i_t, types.intp)
        inside = builder.icmp_unsigned("<", index, array.nitems)
        with builder.if_then(inside, likely=True):
            pointer = builder.gep(array.data, [index])
            byte = builder.bitcast(pointer, ir.IntType(8).as_pointer())
            hint = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), [byte.type, _i32, _i32, _i32]),
                "llvm.prefetch." + ("p0" if getattr(byte.type, "is_opaque", False) else "p0i8"))
            # read (0), keep in all cache levels (3), data (1)
            builder.call(hint, [byte, _i32(0), _i32(3), _i32(1)])
        return context.get_dummy_value()

    return sig, codegen
