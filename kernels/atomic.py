"""Atomic counters for the threads of one epoch (``shared``).

numba has no atomic operations; these intrinsics emit LLVM's, sequentially
consistent, on one int64 element of an array: ``fetch_add`` (an atomic
read-modify-write, which also publishes every write the thread made before
it) and ``load`` (which sees them).  ``pause`` is the spin-wait hint of x86
(``pause``), nothing elsewhere; ``yield_thread`` gives the core up
(``sched_yield``, POSIX), for a wait that lasts: with more threads than
cores, the thread waited for may need this one's core.
"""
import os
import platform

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic

_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


def _check(name, counters, index):
    if not (isinstance(counters, types.Array) and counters.dtype == types.int64
            and counters.ndim == 1 and counters.mutable):
        raise TypingError(f"{name}: counters must be a writable 1-D int64 array, not {counters}")
    if not isinstance(index, types.Integer):
        raise TypingError(f"{name}: index must be an integer, not {index}")


def _pointer(context, builder, signature, args):
    counters_t, index_t = signature.args[:2]
    counters = context.make_array(counters_t)(context, builder, args[0])
    index = context.cast(builder, args[1], index_t, types.intp)
    return cgutils.get_item_pointer(context, builder, counters_t, counters, [index],
                                    wraparound=False)


@intrinsic
def fetch_add(typingctx, counters, index, value):
    """counters[index] += value atomically; returns the value before."""
    _check("fetch_add", counters, index)
    if not isinstance(value, types.Integer):
        raise TypingError(f"fetch_add: value must be an integer, not {value}")

    def codegen(context, builder, signature, args):
        ptr = _pointer(context, builder, signature, args)
        add = context.cast(builder, args[2], signature.args[2], types.int64)
        return builder.atomic_rmw("add", ptr, add, "seq_cst")

    return types.int64(counters, index, value), codegen


@intrinsic
def load(typingctx, counters, index):
    """counters[index], read atomically."""
    _check("load", counters, index)

    def codegen(context, builder, signature, args):
        ptr = _pointer(context, builder, signature, args)
        return builder.load_atomic(ptr, "seq_cst", 8)

    return types.int64(counters, index), codegen


def _call(builder, name, returns):
    fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(returns, []), name)
    builder.call(fn, [])


@intrinsic
def pause(typingctx):
    """A spin-wait's hint to the core (x86 ``pause``); nothing elsewhere."""
    def codegen(context, builder, signature, args):
        if _X86:
            _call(builder, "llvm.x86.sse2.pause", ir.VoidType())
        return context.get_dummy_value()

    return types.void(), codegen


@intrinsic
def yield_thread(typingctx):
    """Give this thread's core to another (POSIX ``sched_yield``); elsewhere ``pause``."""
    def codegen(context, builder, signature, args):
        if os.name == "posix":
            _call(builder, "sched_yield", ir.IntType(32))
        elif _X86:
            _call(builder, "llvm.x86.sse2.pause", ir.VoidType())
        return context.get_dummy_value()

    return types.void(), codegen
