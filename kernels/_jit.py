"""The one place where fastnn's kernels are compiled, and where they are cached.

Every kernel is a module-level ``@jit`` function: compiled once per dtype
signature, cached on disk, and never stored on an estimator (dispatchers do
not pickle, estimators must travel to joblib/dask workers).

Where the cache lives: ``NUMBA_CACHE_DIR`` if it is set, else the user's
cache folder (``$XDG_CACHE_HOME/fastnn``, by default ``~/.cache/fastnn``),
never numba's default ``__pycache__`` beside the source.  A cache inside
``site-packages/fastnn/`` outlives ``pip uninstall`` (pip removes only the
files it installed), and the folder it leaves behind is an empty namespace
package that shadows an editable install of fastnn.
"""
import contextlib
import os
import sys
import tempfile
import warnings

import numba
from numba.core.registry import CPUDispatcher
from numba.extending import register_jitable

# One fastmath set for every kernel.  No ``nnan``/``ninf``: NaN and overflow
# must still propagate so that divergence is detected.  No ``afn``: approximate
# exp/log would break parity with the NumPy reference at 1e-9.
FASTMATH = {"nsz", "arcp", "contract"}
# NumPy's error model, not Python's: a float division by zero gives inf or NaN
# (which the epoch's divergence check catches) instead of raising, so no
# division carries a zero test, a branch that keeps LLVM from vectorising
# the loop around it (σ's, for one).
ERROR_MODEL = "numpy"

_NO_CACHE_WARNED = False
_UNSET = object()
_CACHE_DIR = _UNSET


def user_cache_dir():
    """fastnn's folder in the user's cache: ``$XDG_CACHE_HOME/fastnn``, ``~/.cache/fastnn``."""
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        base = os.environ["LOCALAPPDATA"]
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "fastnn")


def cache_dir():
    """The folder the kernels are cached in, or None if it is not writable.

    ``NUMBA_CACHE_DIR`` (numba's own setting, for Docker images and clusters
    that share one cache) wins over ``user_cache_dir()``.  Numba keeps each
    source folder's kernels in a subfolder named after a hash of its path, so
    regular and editable installs and several virtual environments never mix.
    Decided once per process.
    """
    global _CACHE_DIR
    if _CACHE_DIR is _UNSET:
        chosen = numba.config.CACHE_DIR or user_cache_dir()
        try:
            os.makedirs(chosen, exist_ok=True)
            tempfile.TemporaryFile(dir=chosen).close()
        except OSError:
            chosen = None
        _CACHE_DIR = chosen
    return _CACHE_DIR


@contextlib.contextmanager
def _numba_cache_dir(path):
    """numba's CACHE_DIR set to path while a kernel is decorated: numba picks a
    function's cache folder then, and reads this setting to do so.  Only the
    kernels decorated inside see it; other numba users keep their own."""
    saved = numba.config.CACHE_DIR
    numba.config.CACHE_DIR = path
    try:
        yield
    finally:
        numba.config.CACHE_DIR = saved


def _warn_no_cache():
    global _NO_CACHE_WARNED
    if not _NO_CACHE_WARNED:
        _NO_CACHE_WARNED = True
        warnings.warn(
            "fastnn: no writable numba cache folder; kernels are compiled in "
            f"memory each session (set NUMBA_CACHE_DIR to a writable folder, or "
            f"make {user_cache_dir()} writable, to cache them).",
            RuntimeWarning,
            stacklevel=4,
        )


class _KernelOnly(CPUDispatcher):
    """A kernel compiled without the CPython wrapper that boxes and unboxes
    its arguments: other kernels call it, Python cannot.  numba would jump
    to the missing wrapper (a crash); this refuses the call instead."""

    def __call__(self, *args, **kwargs):
        raise TypeError(f"{self.py_func.__module__}.{self.py_func.__qualname__} is compiled "
                        "for fastnn's kernels only (no Python entry point): call it from a "
                        "jitted function, or call .py_func")


def jit(parallel=False, inline="never", from_python=True):
    """``numba.njit(cache=True, nogil=True, fastmath=FASTMATH, error_model=ERROR_MODEL)``,
    cached in ``cache_dir()``.

    ``inline="always"`` has numba paste the function into its callers, for a
    small helper in a hot loop that LLVM would otherwise leave as a call.

    ``from_python=False`` for a kernel that only other kernels call: numba
    then builds no CPython wrapper for it (``no_cpython_wrapper``), code that
    unboxes every argument from Python objects and that each compiled caller
    would compile again.  A default fit compiled 0.8–0.9 s faster (medians
    of 8 and of 5 alternated fresh-cache runs, faster in 11 pairs of 13,
    2-core AMD EPYC).  Called from Python, such a kernel raises TypeError.

    With no writable cache folder (a read-only install and home) the kernels
    are compiled in memory instead, so fastnn still imports (only slower to
    start), with one warning.
    """

    def decorate(py_func):
        options = dict(nopython=True, nogil=True, fastmath=set(FASTMATH), parallel=parallel,
                       inline=inline, error_model=ERROR_MODEL)
        if not from_python:
            options.update(no_cpython_wrapper=True, no_cfunc_wrapper=True)
        # numba.njit's own steps (numba.core.decorators._jit), with the class
        # that refuses Python calls where there is no wrapper to call.
        dispatcher = (CPUDispatcher if from_python else _KernelOnly)(
            py_func=py_func, locals={}, targetoptions=options)
        path = cache_dir()
        if path is None:
            _warn_no_cache()
            return dispatcher
        with _numba_cache_dir(path):
            dispatcher.enable_caching()
        return dispatcher

    return decorate


def jitable(py_func):
    """A small pure helper for both sides: plain Python where Python calls it
    (nothing to compile: the epoch's set-up asks ``split`` how a layer cuts),
    compiled into the kernels that call it (``numba.extending.register_jitable``,
    no cache entry or dispatcher of its own)."""
    return register_jitable(py_func)
