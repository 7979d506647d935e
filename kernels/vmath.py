"""exp and log1p in plain arithmetic, so that the loops calling them vectorise.

numba lowers ``math.exp`` and ``math.log1p`` to calls into the C library
(this platform's llvmlite has no SVML), and a loop with a call in it runs
one number at a time.  σ(z) takes one exp per hidden neuron and the
cross-entropy cost an exp and a log1p per output, every sample of every
epoch: written here as fdlibm writes them (a range reduction, a short
polynomial, a power of two put straight into the exponent bits), they
inline into those loops and LLVM runs them over whole vectors.  Error < 1
ulp in float64 against the C library (``tests/test_kernels_vmath.py``
measures it); float32 arguments are computed in float64.
"""
import numpy as np
from llvmlite import ir
from numba import types
from numba.core.errors import TypingError
from numba.extending import intrinsic

from ._jit import jit

_i64 = ir.IntType(64)

# ln 2 in two parts: k · LN2_HI is exact for |k| < 2^11, so r = x − k ln 2
# keeps its low bits (fdlibm's e_exp.c).
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
INV_LN2 = 1.44269504088896338700e+00
# e^x overflows above, and is below the smallest normal number below, these.
EXP_MAX = 7.09782712893383973096e+02
EXP_MIN_NORMAL = -7.08396418532264106224e+02
# Remez coefficients of x (e^x + 1)/(e^x − 1) − 2 on [−ln2/2, ln2/2] (e_exp.c).
P1 = 1.66666666666666019037e-01
P2 = -2.77777777770155933842e-03
P3 = 6.61375632143793436117e-05
P4 = -1.65339022054652515390e-06
P5 = 4.13813679705723846039e-08
# Remez coefficients of (log(1 + f) − 2s − s·…)/s, s = f/(2 + f) (e_log.c).
LG1 = 6.666666666666735130e-01
LG2 = 3.999999999940941908e-01
LG3 = 2.857142874366239149e-01
LG4 = 2.222219843214978396e-01
LG5 = 1.818357216161805012e-01
LG6 = 1.531383769920937332e-01
LG7 = 1.479819860511658591e-01
SQRT2 = 1.41421356237309504880e+00


@intrinsic
def _bits_as_float64(typingctx, bits):
    """The float64 whose IEEE-754 bits are the int64 ``bits``."""
    if bits != types.int64:
        raise TypingError(f"_bits_as_float64: bits must be int64, not {bits}")

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def _float64_bits(typingctx, x):
    """The IEEE-754 bits of the float64 ``x`` as an int64."""
    if x != types.float64:
        raise TypingError(f"_float64_bits: x must be float64, not {x}")

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], _i64)

    return types.int64(types.float64), codegen


@jit(inline="always")
def exp(x):
    """e^x in float64: x = k ln2 + r, |r| ≤ ln2/2, e^x = 2^k e^r.

    e^r = 1 + 2r/(2 − c) with c from a degree-5 polynomial in r² (fdlibm);
    2^k goes straight into the exponent bits.  NaN stays NaN, above
    ``EXP_MAX`` is inf, below the normal range 0 (C's exp would give a
    subnormal there, smaller than 2.3e-308).
    """
    x = np.float64(x)
    # Clamped for the arithmetic only; the selects at the end restore the
    # out-of-range results, and keep the loop free of branches.
    xc = min(max(x, EXP_MIN_NORMAL), EXP_MAX)
    k = np.floor(xc * INV_LN2 + 0.5)
    hi = xc - k * LN2_HI
    lo = k * LN2_LO
    r = hi - lo
    t = r * r
    c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))))
    y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    # At k = 1024 (x just below EXP_MAX) 2^k is not a float64: 2 · 2^1023.
    y = y * _bits_as_float64((np.int64(min(k, 1023.0)) + 1023) << 52)
    y = y * 2.0 if k > 1023.0 else y
    y = 0.0 if x < EXP_MIN_NORMAL else y
    y = np.inf if x > EXP_MAX else y
    return x if x != x else y


@jit(inline="always")
def log1p(x):
    """ln(1 + x) in float64 for x ≥ 0 (and NaN, inf): fdlibm's log1p.

    1 + x = 2^k (1 + f) with √2/2 ≤ 1 + f < √2, and ln(1 + f) = 2s + s·R(s²),
    s = f/(2 + f).  Below √2 − 1, f is x itself; above, u = 1 + x is rounded,
    and its rounding error goes back in as c = (x − (u − 2^k))/u, so no digit
    of x is lost.  Not for x < 0.
    """
    x = np.float64(x)
    small = x < SQRT2 - 1.0
    u = 1.0 + x
    bits = _float64_bits(u)
    k = ((bits >> 52) & 0x7FF) - 1023
    c = (1.0 - (u - x)) / u if k > 0 else (x - (u - 1.0)) / u
    # From 2^53 up, u is x: nothing was rounded off.
    c = 0.0 if k >= 53 else c
    # u's mantissa as 1 + f in [1, √2), or halved into [√2/2, 1) with k + 1.
    mantissa = bits & 0xFFFFFFFFFFFFF
    big = mantissa >= 0x6A09E667F3BCD
    k = k + 1 if big else k
    f = _bits_as_float64(mantissa | (0x3FE0000000000000 if big else 0x3FF0000000000000)) - 1.0
    f = x if small else f
    k = 0 if small else k
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    r = z * (LG1 + z * (LG2 + z * (LG3 + z * (LG4 + z * (LG5 + z * (LG6 + z * LG7))))))
    kf = np.float64(k)
    y = kf * LN2_HI - ((hfsq - (s * (hfsq + r) + (kf * LN2_LO + c))) - f)
    y = f - (hfsq - s * (hfsq + r)) if k == 0 else y
    y = np.inf if x == np.inf else y
    return x if x != x else y
