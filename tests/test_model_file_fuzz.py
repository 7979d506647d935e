"""A property-based fuzzer of the model file format (issue 16): any mutation of a
valid file's metadata or members ends in a ValueError naming the file, or in a
model that predicts finite, valid labels; and loading allocates at most a small
multiple of the file's size."""
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastnn import FastNN, FastNNRegressor, load

from .model_files import read_raw, rewrite

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.sampled_from([0, 1, -1, 2, 10 ** 9, 2 ** 63, 1e300, -0.5])
    | st.integers(-10, 100) | st.floats(allow_nan=True) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                               max_size=3),
    max_leaves=6)


def _paths(node, prefix=()):
    """Every key path into a JSON tree, the root excluded."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(
        node, list) else ()
    for key, value in items:
        yield (*prefix, key)
        yield from _paths(value, (*prefix, key))


def _mutate_metadata(metadata, data):
    path = data.draw(st.sampled_from(list(_paths(metadata))))
    parent = metadata
    for key in path[:-1]:
        parent = parent[key]
    action = data.draw(st.sampled_from(["replace", "delete", "duplicate"]))
    if action == "delete" and isinstance(parent, dict):
        del parent[path[-1]]
    elif action == "duplicate" and isinstance(parent, list):
        parent.append(parent[path[-1]])
    else:
        parent[path[-1]] = data.draw(JSON_VALUES)


def _mutate_arrays(arrays, data):
    name = data.draw(st.sampled_from(sorted(arrays)))
    array = arrays.pop(name)
    action = data.draw(st.sampled_from(["rename", "drop", "dtype", "shape", "order", "values"]))
    if action == "rename":
        arrays[data.draw(st.sampled_from(["coefs_/7", "classes_", "_velocity", "x", name]))] = array
    elif action == "dtype":
        dtype = data.draw(st.sampled_from(
            [np.float32, np.float64, np.int64, np.bool_, np.str_, np.uint8]))
        try:
            with np.errstate(invalid="ignore", over="ignore"):
                arrays[name] = array.astype(dtype)
        except ValueError:  # strings from an earlier mutation that are not numbers
            arrays[name] = array
    elif action == "shape":
        arrays[name] = data.draw(st.sampled_from(
            [array.reshape(-1), array[:1], np.concatenate([array, array]), array[..., None]]))
    elif action == "order":
        arrays[name] = np.asfortranarray(array.T) if array.ndim == 2 else array[::-1].copy()
    elif action == "values":
        out = array.astype(np.float64) if array.dtype.kind in "biuf" else array
        if out.dtype.kind == "f" and out.size:
            out = out.copy()
            out.flat[data.draw(st.integers(0, out.size - 1))] = data.draw(
                st.sampled_from([np.nan, np.inf, -1e308, 0.0, 3.0]))
        with np.errstate(invalid="ignore", over="ignore"):  # whatever numpy makes of it
            arrays[name] = out.astype(array.dtype) if array.dtype.kind in "biuf" else out


@pytest.fixture(scope="module", params=["classifier", "regressor"])
def valid(request, digits, tmp_path_factory):
    X, y = digits
    X, y = X[:200], y[:200]
    if request.param == "classifier":
        model = FastNN(hidden_layer_sizes=(5,), epochs=2, momentum=0.5, random_state=0)
        model.fit(X, y, eval_set=(X, y))
    else:
        model = FastNNRegressor(hidden_layer_sizes=(5,), epochs=2, random_state=0).fit(X, y / 9)
    path = tmp_path_factory.mktemp("fuzz") / "model.npz"
    model.save(path)
    return path, X


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_mutation_is_refused_by_name_or_loads_a_working_model(valid, tmp_path, data):
    path, X = valid
    arrays, metadata = read_raw(path)
    for _ in range(data.draw(st.integers(1, 3))):
        if data.draw(st.booleans()):
            _mutate_metadata(metadata, data)
        else:
            _mutate_arrays(arrays, data)
    mutated = rewrite(tmp_path / "mutated.npz", arrays, metadata)
    size = mutated.stat().st_size
    tracemalloc.start()
    try:
        model = load(mutated)
    except ValueError as exc:
        assert str(mutated) in str(exc)
        return
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        # The parsed JSON and the arrays, each bounded by the file's bytes.
        assert peak <= 20 * size + 2 ** 20, (peak, size)
    outputs = model.predict(X)
    if isinstance(model, FastNN):
        assert set(np.unique(outputs)) <= set(model.classes_.tolist())
        assert np.all(np.isfinite(model.predict_proba(X)))
    else:
        assert np.all(np.isfinite(outputs))
