"""Kernels compile once per dtype, load from numba's cache in a new process,
and still work where no cache folder is writable."""
import inspect
import json
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap

import numba
import numpy as np
import pytest
import scipy.sparse

import fastnn.kernels as kernels_pkg
from fastnn import FastNN
from fastnn.kernels import (activations, backprop, costs, dropout, forward, monitor, predict, sgd,
                            shared, sparse, split, steps, update, vmath)

KERNEL_MODULES = [activations, backprop, costs, dropout, forward, monitor, predict, sgd, shared,
                  sparse, split, steps, update, vmath]
# The compiled epoch's arguments, by name (read before any test replaces it).
EPOCH_ARGS = list(inspect.signature(sgd._epoch.py_func).parameters)

FIT_SCRIPT = textwrap.dedent("""
    import json, warnings
    from numba.core import event

    compiled = []

    class Compiled(event.Listener):
        def on_start(self, ev):
            compiled.append(ev.data["dispatcher"].py_func.__name__)

        def on_end(self, ev):
            pass

    event.register("numba:compile", Compiled())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from sklearn.datasets import load_digits
        from fastnn import FastNN
        from fastnn.kernels import sgd
        X, y = load_digits(return_X_y=True)
        model = FastNN(epochs=2, random_state=0).fit(X / 16, y, eval_set=(X / 16, y))
        score = model.score(X / 16, y)
    stats = sgd._epoch.stats
    print(json.dumps({
        "score": score,
        "hits": sum(stats.cache_hits.values()),
        "misses": sum(stats.cache_misses.values()),
        "warnings": [str(w.message) for w in caught],
        "compiled": {name: compiled.count(name) for name in set(compiled)},
    }))
""")


def _dispatchers():
    for module in KERNEL_MODULES:
        for name, value in vars(module).items():
            if isinstance(value, numba.core.dispatcher.Dispatcher):
                yield f"{module.__name__}.{name}", value


def _run(env, prefix=()):
    out = subprocess.run([*prefix, sys.executable, "-c", FIT_SCRIPT], env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_second_fit_compiles_nothing(digits):
    X, y = digits
    FastNN(epochs=1, random_state=0, verbose=1).fit(X, y, eval_set=(X, y))
    before = {name: len(d.signatures) for name, d in _dispatchers()}
    FastNN(epochs=2, random_state=1, verbose=1, hidden_layer_sizes=(7, 5)).fit(X, y, eval_set=(X, y))
    assert {name: len(d.signatures) for name, d in _dispatchers()} == before


@pytest.fixture(scope="module")
def cold_cache(tmp_path_factory):
    """(env, result): a fit with evaluation data and a prediction in a new
    process on an empty cache."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path_factory.mktemp("numba-cache"))}
    return env, _run(env)


@pytest.mark.slow
def test_a_second_process_loads_the_kernels_from_the_cache(cold_cache):
    env, first = cold_cache
    second = _run(env)
    assert first["misses"] > 0
    assert second["misses"] == 0 and second["hits"] > 0
    assert second["score"] == first["score"]
    assert second["compiled"] == {}


@pytest.mark.slow
def test_training_evaluation_and_prediction_compile_one_forward_pass(cold_cache):
    # The epoch reads its gathered mini-batch, prediction and the evaluation
    # monitors X, all through ``readonly.read_only``: one compiled forward pass.
    _, first = cold_cache
    assert first["compiled"]["forward_block"] == 1
    assert first["compiled"]["weighted_inputs"] == 1
    assert first["compiled"]["predict_rows"] == 1


@pytest.mark.slow
@pytest.mark.skipif(
    not (hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("unshare")),
    reason="making the install read-only needs root (a private read-only bind mount)",
)
def test_a_read_only_install_without_cache_folder_still_trains(tmp_path):
    # Every place numba could cache to is read-only: the package folder (in-tree
    # __pycache__), NUMBA_CACHE_DIR and HOME.  Root ignores file modes, hence mounts.
    cache = tmp_path / "cache"
    cache.mkdir()
    package = os.path.dirname(kernels_pkg.__file__)
    read_only = " && ".join(
        f"mount --bind {d} {d} && mount -o remount,bind,ro {d}" for d in (package, cache)
    )
    env = {k: v for k, v in os.environ.items() if k != "XDG_CACHE_HOME"}
    env.update(NUMBA_CACHE_DIR=str(cache), HOME=str(cache))
    prefix = ["unshare", "-m", "sh", "-c", f'{read_only} && exec "$0" "$@"']
    result = _run(env, prefix)
    assert result["score"] > 0.8
    assert result["hits"] == 0
    assert any("no writable numba cache folder" in w for w in result["warnings"])


def test_kernels_are_cached_in_the_user_cache_never_in_the_package(tmp_path):
    # A cache inside the installed package outlives `pip uninstall` and its
    # leftover folder shadows a later editable install (README, set-up).
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME")}
    env["HOME"] = str(tmp_path)
    script = ("import numpy as np; from fastnn.kernels import forward; "
              "forward.first_unit(np.array([3, 2, 1]), 1)")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    cached = list((tmp_path / ".cache" / "fastnn").rglob("forward.first_unit-*.nbi"))
    assert len(cached) == 1
    package = pathlib.Path(kernels_pkg.__file__).parent
    assert not list(package.rglob("*.nbi")) and not list(package.rglob("*.nbc"))


def _signatures():
    return {name: list(d.signatures) for name, d in _dispatchers()}


def test_no_kernel_is_compiled_for_a_constant_argument(digits):
    # A constant int or bool passed between kernels is typed Literal[...] and
    # compiles a whole extra call chain (STYLE.md 13).
    from fastnn import FastNNRegressor

    X, y = digits
    FastNN(epochs=1, momentum=0.5, penalty="l1", lmbda=1.0, dropout=0.2, random_state=0,
           validation_fraction=0.2).fit(X, y, sample_weight=np.ones(len(y))).predict_proba(X)
    FastNN(epochs=1, cost="log_likelihood", activation="tanh", random_state=0).fit(X, y)
    FastNNRegressor(epochs=1, activation="relu", random_state=0).fit(X, y / 9.0).predict(X)
    # The epoch on threads (kernels.shared) and on sparse input.
    FastNN(hidden_layer_sizes=(1000,), mini_batch_size=64, epochs=1, n_threads=2,
           momentum=0.5, random_state=0).fit(X, y)
    FastNN(epochs=1, random_state=0).fit(scipy.sparse.csr_matrix(np.where(X < 0.85, 0, X)), y)
    literal = [(name, sig) for name, sigs in _signatures().items() for sig in sigs
               if any(isinstance(t, numba.types.Literal) for t in sig)]
    assert literal == []


def test_writable_read_only_and_memory_mapped_X_share_compiled_kernels(digits, tmp_path):
    X, y = digits
    X = np.ascontiguousarray(X)
    FastNN(epochs=1, random_state=0).fit(X, y).predict(X)
    before = _signatures()
    frozen = X.copy()
    frozen.flags.writeable = False
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    for data in (frozen, mapped):
        FastNN(epochs=1, random_state=0).fit(data, y).predict(data)
    assert _signatures() == before


@pytest.mark.parametrize("options,used", [
    ({}, set()),
    ({"momentum": 0.5}, {"momentum"}),
    ({"dropout": 0.3}, {"dropout"}),
    ({"penalty": "l1", "lmbda": 1.0}, {"l1_shrink"}),
    ({"class_weight": "balanced"}, {"sample_weight"}),
    ({"activation": "tanh"}, {"others"}),
    ({"activation": "relu"}, {"others"}),
    ({"cost": "log_likelihood"}, {"others"}),
    ({"cost": "quadratic"}, {"others"}),
])
def test_a_fit_compiles_only_the_ch3_options_it_uses(digits, epoch_calls, options, used):
    # Unused options reach the compiled epoch as None, so numba leaves their
    # code out: the default fit compiles none of them.
    X, y = digits
    FastNN(epochs=1, random_state=0, **options).fit(X, y)
    assert [{name for name in ("sample_weight", "l1_shrink", "momentum", "dropout", "others")
             if args[EPOCH_ARGS.index(name)] is not None} for args in epoch_calls] == [used]


@pytest.mark.slow
def test_a_fit_without_dropout_compiles_no_dropout_key(cold_cache):
    _, first = cold_cache
    assert "epoch_key" not in first["compiled"] and "sample_key" not in first["compiled"]


def test_a_kernel_without_python_entry_point_refuses_a_python_call():
    # numba would jump to the CPython wrapper it never built: a crash.
    with pytest.raises(TypeError, match="forward.forward_block is compiled for fastnn's kernels"):
        forward.forward_block(None, None, None, 1.0, None, None, 0, 0, None, None, None, None, 0,
                              0, None, None, None)


def test_kernels_called_from_python_keep_their_entry_point():
    # The facade's and the tests' entry points, called from Python.
    entries = [sgd._epoch, monitor._evaluate, predict.predict_rows, backprop._gradient,
               dropout.epoch_key, costs.fn, activations.activate, forward.first_unit]
    assert [e.py_func.__name__ for e in entries if e.targetoptions.get("no_cpython_wrapper")] == []
