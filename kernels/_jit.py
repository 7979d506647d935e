"""The one place where fastnn's kernels are compiled.

Every kernel is a module-level ``@jit`` function: compiled once per dtype
signature, cached on disk, and never stored on an estimator (dispatchers do
not pickle, estimators must travel to joblib/dask workers).
"""
import warnings

import numba

# One fastmath set for every kernel.  No ``nnan``/``ninf``: NaN and overflow
# must still propagate so that divergence is detected.  No ``afn``: approximate
# exp/log would break parity with the NumPy reference at 1e-9.
FASTMATH = {"nsz", "arcp", "contract"}

_NO_CACHE_WARNED = False


def jit(parallel=False, inline="never"):
    """``numba.njit(cache=True, nogil=True, fastmath=FASTMATH)``, cache optional.

    ``inline="always"`` has numba paste the function into its callers, for a
    small helper in a hot loop that LLVM would otherwise leave as a call.

    Numba picks where to cache when a function is decorated: ``NUMBA_CACHE_DIR``,
    then ``__pycache__`` beside the source, then the user's cache folder.  On a
    read-only install with no writable folder it raises ``RuntimeError``; we then
    compile in memory instead, so fastnn still imports (only slower to start).
    """

    def decorate(py_func):
        options = dict(nogil=True, fastmath=set(FASTMATH), parallel=parallel, inline=inline)
        try:
            return numba.njit(cache=True, **options)(py_func)
        except RuntimeError as exc:
            if "cannot cache" not in str(exc):
                raise
            global _NO_CACHE_WARNED
            if not _NO_CACHE_WARNED:
                _NO_CACHE_WARNED = True
                warnings.warn(
                    "fastnn: no writable numba cache folder; kernels are "
                    "compiled in memory each session (set NUMBA_CACHE_DIR to a "
                    "writable folder to cache them).",
                    RuntimeWarning,
                    stacklevel=3,
                )
            return numba.njit(cache=False, **options)(py_func)

    return decorate
