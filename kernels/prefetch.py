"""Cache hints: ``prefetch(a, i)`` asks the CPU to fetch the line holding
a.flat[i] into its L1 cache, ``prefetch_far(a, i)`` into L2 only.

SGD visits the samples in a shuffled order, so each one's rows of X, Y, the
monitors' outputs and costs, and a CSR matrix's row pointer are cache misses
in a data set larger than the caches: measured on a 2-core AMD EPYC, an
epoch on 20,000 sparse samples took 14 ms in order and 21–27 ms shuffled.
The epoch asks for the next mini-batch's lines while it works on this one.

X's rows are the bulk (6 KB each for MNIST's 784 float64 pixels), and the
mini-batch's gather reads them at the memory's pace.  Fetched into L1, a
whole row ahead of the copy was slower (the gather of 20,000 shuffled rows:
16.8 ms against 13.4 ms with no hint); into L2, 9.1–10.9 ms (a ``/tmp``
probe, same machine): L1's few outstanding misses are the copy's own.
A hint only: it changes no value, and an index past the end is never
dereferenced (the hint is skipped).
"""
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic

_i32 = ir.IntType(32)


def _hint(locality, name):
    """An intrinsic ``name(a, i)``: llvm.prefetch of a.flat[i], read, with
    LLVM's ``locality`` (3: every cache level, on x86 prefetcht0; 1: prefetcht2)."""

    def hint(typingctx, a, i):
        if not (isinstance(a, types.Array) and a.layout == "C"):
            raise TypingError(f"{name}: a must be a C-contiguous array, not {a}")
        if not isinstance(i, types.Integer):
            raise TypingError(f"{name}: i must be an integer, not {i}")
        sig = types.void(a, i)

        def codegen(context, builder, signature, args):
            a_t, i_t = signature.args
            array = context.make_array(a_t)(context, builder, args[0])
            index = context.cast(builder, args[1], i_t, types.intp)
            inside = builder.icmp_unsigned("<", index, array.nitems)
            with builder.if_then(inside, likely=True):
                pointer = builder.gep(array.data, [index])
                byte = builder.bitcast(pointer, ir.IntType(8).as_pointer())
                llvm_prefetch = cgutils.get_or_insert_function(
                    builder.module,
                    ir.FunctionType(ir.VoidType(), [byte.type, _i32, _i32, _i32]),
                    "llvm.prefetch." + ("p0" if getattr(byte.type, "is_opaque", False)
                                        else "p0i8"))
                # read (0), the locality, data (1)
                builder.call(llvm_prefetch, [byte, _i32(0), _i32(locality), _i32(1)])
            return context.get_dummy_value()

        return sig, codegen

    hint.__name__ = hint.__qualname__ = name
    return intrinsic(hint)


prefetch = _hint(3, "prefetch")
prefetch.__doc__ = "Hint that a.ravel()[i] of the C-contiguous array ``a`` is read soon."
prefetch_far = _hint(1, "prefetch_far")
prefetch_far.__doc__ = ("Hint that a.ravel()[i] of the C-contiguous array ``a`` is read a "
                        "little later: fetched into L2, not L1.")
