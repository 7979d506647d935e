"""``fastnn compile`` (``fastnn/cli/_compile.py``): numba's cache filled ahead of the first fit."""
import inspect
import json
import os
import subprocess
import sys

import pytest

from fastnn.cli import _compile
from fastnn.kernels import sgd

from .conftest import EPOCH_THREADS

EPOCH_ARGS = list(inspect.signature(sgd._epoch.py_func).parameters)

FIT_AND_COUNT = """
import json
from sklearn.datasets import load_digits
from fastnn import FastNN
from fastnn.kernels import sgd
X, y = load_digits(return_X_y=True)
FastNN(epochs=1, random_state=0).fit(X / 16, y).predict(X / 16)
print(json.dumps({"misses": sum(sgd._epoch.stats.cache_misses.values()),
                  "hits": sum(sgd._epoch.stats.cache_hits.values())}))
"""


def _run(args, env):
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.slow
def test_a_fit_after_fastnn_compile_loads_every_kernel_from_the_cache(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    done = _run(["-m", "fastnn", "compile"], env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"fastnn compile: 1 variant(s) into {tmp_path}"
    assert lines[1].startswith("[1/1] float64 fit, evaluation and prediction: ")
    fit = _run(["-c", FIT_AND_COUNT], env)
    assert fit.returncode == 0, fit.stderr
    assert json.loads(fit.stdout.splitlines()[-1]) == {"misses": 0, "hits": 1}


def test_all_is_both_dtypes_times_every_combination_of_the_five_options_and_threads():
    labels = [label for label, _, _ in _compile.variants(_compile.DTYPES, every_option=True,
                                                          threads=True)]
    assert len(labels) == len(set(labels)) == 2 * 2 ** 5 * 2
    assert ("float32 fit with momentum + l1 + dropout + sample_weight + other activations and "
            "costs + threads") in labels


def test_all_with_sparse_input_doubles_the_variants():
    labels = [label for label, _, _ in _compile.variants(_compile.DTYPES, every_option=True,
                                                          threads=True, sparse=True)]
    assert len(labels) == len(set(labels)) == 2 * 2 ** 5 * 2 * 2
    assert "float64 fit with l1 + threads + sparse input" in labels


@pytest.mark.parametrize("combo", [("threads",), ("threads", "sparse input")])
def test_the_threads_variant_compiles_the_epoch_that_splits_between_threads(epoch_calls,
                                                                            combo):
    _compile.compile_variant("float64", combo)
    assert [args[EPOCH_THREADS] for args in epoch_calls] == [2] * (1 + ("sparse input" in combo))


def test_the_sparse_variant_compiles_the_sparse_layer_and_the_densified_epoch(epoch_calls):
    _compile.compile_variant("float32", ("sparse input",))
    assert [tuple(type(a).__name__ for a in args[:3]) for args in epoch_calls] == [
        ("NoneType", "CSR", "NoneType"), ("NoneType", "NoneType", "DenseRows")]


def test_activations_adds_the_fit_with_the_other_activations_and_costs():
    assert [label for label, _, _ in _compile.variants(("float64",), every_option=False,
                                                       others=True)] == [
        "float64 fit, evaluation and prediction",
        "float64 fit with other activations and costs"]


def test_the_other_activations_variant_compiles_the_epoch_that_has_them(epoch_calls):
    _compile.compile_variant("float64", (_compile.OTHERS,))
    assert [args[EPOCH_ARGS.index("others")] is not None for args in epoch_calls] == [True]


def test_the_default_is_one_float64_variant():
    assert [dtype for _, dtype, _ in _compile.variants(("float64",), every_option=False)] == \
        ["float64"]


def test_without_a_writable_cache_folder_it_says_so_and_exits_2(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(blocker / "cache"), "HOME": str(blocker)}
    env.pop("XDG_CACHE_HOME", None)
    done = _run(["-m", "fastnn", "compile"], env)
    assert done.returncode == 2
    assert "fastnn: error: no writable numba cache folder" in done.stderr
