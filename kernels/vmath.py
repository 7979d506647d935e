"""e^x and ln(1 + e) in plain arithmetic, so that the loops calling them vectorise.

numba lowers ``math.exp`` to a call into the C library (this platform's
llvmlite has no SVML), and a loop with a call in it runs one number at a
time.  σ(z) takes one exp per neuron, every sample of every epoch: written
here as fdlibm writes it (a range reduction, a short polynomial, a power of
two put straight into the exponent bits), it inlines into σ's loop over a
block of neurons and LLVM runs it over whole vectors.  Error ≤ 1 ulp in
float64 against the C library (``tests/test_kernels_vmath.py`` measures
it); a float32 argument is computed in float64.

The cross-entropy cost takes ln(1 + e^−|z|) per output neuron, every
sample: ``log1p_unit`` is fdlibm's log1p on the only arguments it gets,
0 ≤ e ≤ 1, so that the cost's loop vectorises too.
"""
import numpy as np
from llvmlite import ir
from numba import types
from numba.core.errors import TypingError
from numba.extending import intrinsic

from ._jit import jit

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
# √2 − 1: above it ln(1 + e) = ln 2 + ln((1 + e)/2) keeps |f| ≤ 0.2929 (s_log1p.c).
SQRT2_M1 = 4.14213562373095034e-01
# Remez coefficients of (ln(1 + f) − 2s − s·(2/3)s²…)'s series in s = f/(2 + f) (s_log1p.c).
LP1 = 6.666666666666735130e-01
LP2 = 3.999999999940941908e-01
LP3 = 2.857142874366239149e-01
LP4 = 2.222219843214978396e-01
LP5 = 1.818357216161805012e-01
LP6 = 1.531383769920937332e-01
LP7 = 1.479819860511658591e-01


@intrinsic
def _bits_as_float64(typingctx, bits):
    """The float64 whose IEEE-754 bits are the int64 ``bits``."""
    if bits != types.int64:
        raise TypingError(f"_bits_as_float64: bits must be int64, not {bits}")

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@jit()
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


@jit(from_python=False)
def log1p_unit(e):
    """ln(1 + e) in float64 for 0 ≤ e ≤ 1 (NaN stays NaN), as fdlibm's log1p.

    Below √2 − 1, f = e; above, 1 + e = 2(1 + f) with f = (1 + e)/2 − 1, and
    c, the rounding error of 1 + e, is put back.  Then with s = f/(2 + f),
    ln(1 + f) = f − (f²/2 − s(f²/2 + R(s²))), R a degree-7 polynomial.
    Error ≤ 1 ulp against the C library (``tests/test_kernels_vmath.py``).
    """
    e = np.float64(e)
    u = 1.0 + e
    big = e >= SQRT2_M1
    f = 0.5 * u - 1.0 if big else e
    c = (e - (u - 1.0)) / u if big else 0.0
    k = 1.0 if big else 0.0
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    r = z * (LP1 + z * (LP2 + z * (LP3 + z * (LP4 + z * (LP5 + z * (LP6 + z * LP7))))))
    return k * LN2_HI - ((hfsq - (s * (hfsq + r) + (k * LN2_LO + c))) - f)
