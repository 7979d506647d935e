"""``read_only(a)``: the same array, typed read-only, so that one compiled
kernel serves writable and read-only inputs.

numba compiles a function once per argument type, and a read-only array
(every input the estimators pass, ``np.load(..., mmap_mode="r")``, joblib's
memory maps) is another type than a writable one.  The forward pass reads
its input from a read-only X in prediction and from the writable gathered
mini-batch or scratch in training: typed the same through ``read_only``,
both call ONE compiled ``forward_block`` and ``weighted_inputs``.  No copy:
the view shares a's data (and holds a reference to it).
"""
from numba import types
from numba.core.errors import TypingError
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic


@intrinsic
def read_only(typingctx, a):
    """a, typed as a read-only array: writes to it are refused at typing."""
    if not isinstance(a, types.Array):
        raise TypingError(f"read_only: a must be an array, not {a}")
    seen = a.copy(readonly=True)

    def codegen(context, builder, signature, args):
        # The same array structure: a new reference to it.
        return impl_ret_borrowed(context, builder, seen, args[0])

    return seen(a), codegen
