"""Model files: ``save(estimator, path)`` (atomically: ``_atomic``) and ``read(path)``.

``read`` checks a file and returns what it holds (a ``SavedModel``); the
class it names turns that back into an estimator (``rebuild`` calls its
``_from_fitted``), so this module never imports the estimators:
``fastnn.load`` (``fastnn.estimators._load``) knows which class is which.

A model file is one ``.npz`` written by ``numpy.savez``: a zip of ``.npy``
members, stored uncompressed, holding only numbers, bools, strings and JSON, so
loading it never runs code (object arrays are refused before they are read;
every read passes ``allow_pickle=False``).

``metadata.npy``
    uint8 array of the UTF-8 bytes of one JSON object (bytes rather than a
    unicode array, so any text round-trips exactly)::

        {"format": "fastnn-model", "format_version": 1, "fastnn_version": "0.1.0",
         "class": "FastNN", "params": {...get_params()...},
         "param_kinds": {"hidden_layer_sizes": "tuple"},
         "attributes": {"n_iter_": 3, "history_": {...}, ...},
         "aliases": {"loss_curve_": ["history_", "train_cost"]},
         "array_lists": {"coefs_": 2, "intercepts_": 2},
         "arrays": {"coefs_/0": {"shape": [64, 30], "dtype": "<f8"}, ...},
         "rng": {"bit_generator": "PCG64", "state": {...}, ...}}

    ``param_kinds`` marks parameters JSON cannot hold as they are: "tuple"
    (stored as a list), "items" (a dict with non-string keys, such as
    ``class_weight={0: 2.0}``, stored as ``[[key, value], ...]``) and
    "dropped" (a ``RandomState`` as ``random_state`` is stored as null: the
    loaded estimator has ``random_state=None``, and the fitted ``_rng`` is
    saved instead).  ``aliases`` records that ``loss_curve_`` *is*
    ``history_["train_cost"]``, so training after ``load`` keeps them one list.
``<name>.npy``, ``<name>/<i>.npy``
    One member per array attribute, and per item of a list of arrays
    (``coefs_/0``, ...), each declared in ``"arrays"`` with its shape and
    ``dtype.str``; ``"object": true`` marks an object array of strings
    (``classes_`` of string labels), stored as unicode.

Saved: every public attribute ending in ``_``, and ``_velocity`` (momentum),
``_rng`` (the ``Generator`` that ``warm_start`` continues) and ``_y_1d``; a
checkpoint adds ``_checkpoint`` (JSON training state) and ``_best_params``.
"""
from __future__ import annotations

import json
import os
import struct
import zipfile
from numbers import Integral, Real
from typing import Any, Dict, NamedTuple

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .. import _version
from .._files import regular_file
from .._typing import PathLike
from ._atomic import atomic_write
from ._model_checks import (  # noqa: F401  (FORMAT_VERSION: part of the API)
    ARRAY_KINDS,
    CLASSES,
    FORMAT,
    FORMAT_VERSION,
    METADATA,
    _check_directory,
    _check_model,
    _Invalid,
    _read_member,
    _read_metadata,
)

# Private attributes that are part of a fitted model, and how each is stored.
PRIVATE = {"_velocity": "array", "_rng": "rng", "_y_1d": "json",
           # A checkpoint's training state (``fastnn.persistence._checkpoint``).
           "_checkpoint": "json", "_best_params": "array"}
# The checkpoint's entries: read into ``SavedModel.training``, never onto an estimator.
TRAINING = ("_checkpoint", "_best_params")
# Parameters bound to the machine a model was fitted on, never restored by ``load``.
ENVIRONMENT_PARAMS = {"checkpoint_dir": None, "n_threads": None}
# Bit generators whose state is plain integers (``default_rng`` makes PCG64).
BIT_GENERATORS = ("PCG64", "PCG64DXSM")


class SavedModel(NamedTuple):
    """What a model file holds, every part checked by ``read``.

    Attributes
    ----------
    class_name : str
        One of ``CLASSES``.
    params : dict
        ``get_params()`` as saved, with ``checkpoint_dir`` and ``n_threads``
        reset to None (they belong to the machine, not the file); checked
        against the class only by ``rebuild``.
    attributes : dict
        Fitted attribute name → value: the public ones ending in ``_`` and
        ``_velocity``, ``_rng`` (a ``Generator``) and ``_y_1d`` where saved.
    training : dict
        A checkpoint's ``_checkpoint`` (its JSON state) and ``_best_params``;
        empty for a saved model.
    """

    class_name: str
    params: Dict[str, Any]
    attributes: Dict[str, Any]
    training: Dict[str, Any]


def save(estimator: Any, path: PathLike) -> None:
    """Save a fitted ``FastNN`` or ``FastNNRegressor`` to ``path`` (atomically).

    The file name is used as given (no ``.npz`` is appended).  See the
    module docstring for the format.

    Parameters
    ----------
    estimator : FastNN or FastNNRegressor, fitted
    path : str or path-like
        Written to a temporary file next to it, then renamed over it.

    Raises
    ------
    ValueError
        If the estimator is not fitted, not one of fastnn's classes, or has an
        attribute the format cannot hold (an object array of non-strings, say).
    """
    _save(estimator, path, {})


def _save(estimator, path, extra):
    """``save``, plus ``extra`` private attributes (a checkpoint's training state)."""
    name = type(estimator).__name__
    # A file is loaded as the fastnn class of its name: a subclass, or another
    # class so named, would come back as something else.
    if name not in CLASSES or not type(estimator).__module__.startswith("fastnn."):
        raise ValueError(f"fastnn.save saves {' or '.join(CLASSES)} estimators, not {name}.")
    check_is_fitted(estimator)
    arrays, metadata = {}, _header(estimator)
    for attribute, value in {**vars(estimator), **extra}.items():
        if attribute in PRIVATE or (attribute.endswith("_") and not attribute.startswith("_")):
            _store(attribute, value, arrays, metadata)
    metadata["aliases"] = _aliases(estimator, metadata["attributes"])
    for name in metadata["aliases"]:
        del metadata["attributes"][name]
    text = json.dumps(metadata, ensure_ascii=False).encode("utf-8")
    arrays[METADATA] = np.frombuffer(text, dtype=np.uint8)
    # Numbers only, so nothing is pickled.  (np.savez takes allow_pickle= only
    # from NumPy 2.1; before, the keyword would be saved as an array.)
    objects = sorted(name for name, a in arrays.items() if np.asarray(a).dtype.hasobject)
    if objects:
        raise TypeError(f"fastnn.save stores numbers only; {objects} hold Python objects.")
    atomic_write(path, lambda file: np.savez(file, **arrays))


def read(path: PathLike) -> SavedModel:
    """What the model file at ``path`` holds, checking everything before trusting it.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    SavedModel
        Whose ``rebuild`` gives an estimator that predicts bitwise identically
        to the saved one.

    Raises
    ------
    ValueError
        Naming the file and the problem (``fastnn.load`` lists them); a
        missing file raises FileNotFoundError.  Nothing is allocated beyond
        the file's size (plus its parsed JSON): every array is checked
        against the metadata before it is read.
    """
    regular_file(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = _check_directory(archive)
            metadata = _read_metadata(archive, members)
            arrays = {name: _read_member(archive, members[name], spec)
                      for name, spec in metadata["arrays"].items()}
        return _saved_model(metadata, arrays)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except _Invalid as exc:
        raise ValueError(f"{os.fspath(path)} is not a valid fastnn model file: {exc}") from None
    except (KeyError, TypeError, IndexError, AttributeError, OverflowError,
            RecursionError) as exc:
        # Metadata of a shape no check above foresaw: still the file's fault.
        raise ValueError(f"{os.fspath(path)} is not a valid fastnn model file: its metadata "
                         f"is malformed ({type(exc).__name__}: {exc})") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
            NotImplementedError, RuntimeError, struct.error) as exc:
        # zipfile and numpy's .npy reader raise all of these for damaged bytes.
        raise ValueError(f"{os.fspath(path)} is not a whole fastnn model file "
                         f"(not a zip, truncated or corrupt): {exc}") from None


def rebuild(saved: SavedModel, cls: Any, path: PathLike) -> Any:
    """The fitted estimator of class ``cls`` that ``saved`` describes.

    Parameters
    ----------
    saved : SavedModel
        What ``read(path)`` returned.
    cls : type
        The estimator class named by ``saved.class_name``; its
        ``_from_fitted(params, attributes)`` makes the estimator.
    path : str or path-like
        The file ``saved`` was read from, for the error message.

    Returns
    -------
    estimator : cls, fitted

    Raises
    ------
    ValueError
        Naming the file, if its parameters are not valid for ``cls``.
    """
    try:
        return cls._from_fitted(saved.params, saved.attributes)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{os.fspath(path)} is not a valid fastnn model file: its parameters "
                         f"are not valid for {cls.__name__}: {exc}") from None


# -- saving -------------------------------------------------------------------

def _header(estimator):
    params, kinds = {}, {}
    for key, value in estimator.get_params(deep=False).items():
        if key == "random_state" and isinstance(value, np.random.RandomState):
            params[key], kinds[key] = None, "dropped"
        elif isinstance(value, tuple):
            params[key], kinds[key] = _plain(value, f"parameter {key}"), "tuple"
        elif isinstance(value, os.PathLike):
            params[key] = os.fspath(value)  # checkpoint_dir: loads as a str
        elif isinstance(value, dict) and not all(isinstance(k, str) for k in value):
            params[key] = [[_plain(k, f"parameter {key}"), _plain(v, f"parameter {key}")]
                           for k, v in value.items()]
            kinds[key] = "items"
        else:
            params[key] = _plain(value, f"parameter {key}")
    return {"format": FORMAT, "format_version": FORMAT_VERSION,
            "fastnn_version": _version.__version__,
            "class": type(estimator).__name__, "params": params, "param_kinds": kinds,
            "attributes": {}, "array_lists": {}, "arrays": {}}


def _plain(value, what):
    """``value`` as JSON: numbers, strings, None, lists and str-keyed dicts of them."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v, what) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _plain(v, what) for k, v in value.items()}
    raise ValueError(f"fastnn.save cannot store {what}: a {type(value).__name__} is not "
                     "a number, string, None, or a list or dict of them.")


def _add_array(name, array, arrays, metadata):
    spec = {}
    if array.dtype == object:
        if not all(isinstance(v, str) for v in array.flat):
            raise ValueError(f"fastnn.save cannot store {name}: an object array holding "
                             "anything but strings could only be saved by pickling it.")
        array, spec["object"] = array.astype(str), True
    if array.dtype.kind not in ARRAY_KINDS:
        raise ValueError(f"fastnn.save cannot store {name}: dtype {array.dtype} is not a "
                         "number, bool or string dtype.")
    metadata["arrays"][name] = {"shape": list(array.shape), "dtype": array.dtype.str, **spec}
    arrays[name] = array


def _store(name, value, arrays, metadata):
    if PRIVATE.get(name) == "rng":
        metadata["rng"] = _plain(value.bit_generator.state, f"attribute {name}")
    elif isinstance(value, np.ndarray):
        _add_array(name, value, arrays, metadata)
    elif isinstance(value, (list, tuple)) and value and all(
            isinstance(v, np.ndarray) for v in value):
        for i, array in enumerate(value):
            _add_array(f"{name}/{i}", array, arrays, metadata)
        metadata["array_lists"][name] = len(value)
    else:
        metadata["attributes"][name] = _plain(value, f"attribute {name}")


def _aliases(estimator, attributes):
    aliases = {}
    for name, value in vars(estimator).items():
        if name not in attributes or not isinstance(value, list):
            continue
        for owner, mapping in vars(estimator).items():
            if owner in attributes and isinstance(mapping, dict):
                for key, entry in mapping.items():
                    if entry is value:
                        aliases[name] = [owner, key]
    return aliases


# -- loading: the estimator ---------------------------------------------------

def _saved_model(metadata, arrays):
    # Where to write and how many threads belong to the caller's machine,
    # not to a file: a loaded model writes nowhere unless told to.
    params = {**_params(metadata), **ENVIRONMENT_PARAMS}
    attributes = _attributes(metadata, arrays)
    _check_model(attributes, metadata["class"])  # one of CLASSES (_check_metadata)
    if "rng" in metadata:
        attributes["_rng"] = _generator(metadata["rng"])
    training = {name: attributes.pop(name) for name in TRAINING if name in attributes}
    return SavedModel(metadata["class"], params, attributes, training)


def _params(metadata):
    params = dict(metadata["params"])
    for key, kind in metadata["param_kinds"].items():
        if key not in params or kind not in ("tuple", "items", "dropped"):
            raise _Invalid(f"parameter kind {kind!r} of {key!r} is unknown.")
        if kind == "tuple":
            params[key] = tuple(params[key])
        elif kind == "items":
            params[key] = {tuple(k) if isinstance(k, list) else k: v for k, v in params[key]}
    return params


def _attributes(metadata, arrays):
    """Name → value of every saved attribute, arrays and JSON alike."""
    def allowed(name, kind):
        public = name.isidentifier() and name.endswith("_") and not name.startswith("_")
        if not (public or PRIVATE.get(name) == kind):
            raise _Invalid(f"{name!r} is not a fitted attribute fastnn saves as {kind}.")
        return name

    attributes = {allowed(k, "json"): v for k, v in metadata["attributes"].items()}
    listed = set()
    for name, count in metadata["array_lists"].items():
        names = [f"{name}/{i}" for i in range(count)] if (
            isinstance(count, int) and 1 <= count <= len(arrays)) else None
        if names is None or not set(names) <= set(arrays):
            raise _Invalid(f"array list {name!r} of {count!r} arrays is not in the file.")
        attributes[allowed(name, "array")] = [arrays[n] for n in names]
        listed.update(names)
    attributes.update({allowed(k, "array"): v for k, v in arrays.items() if k not in listed})
    for name, target in metadata["aliases"].items():
        owner, key = target if isinstance(target, list) and len(target) == 2 else (None, None)
        if not (isinstance(key, str) and isinstance(attributes.get(owner), dict)
                and key in attributes[owner]):
            raise _Invalid(f"alias {name!r} refers to a missing entry {target!r}.")
        if name in attributes:  # the checked coefs_ or n_features_in_, say
            raise _Invalid(f"alias {name!r} would replace a saved attribute.")
        attributes[allowed(name, "json")] = attributes[owner][key]
    return attributes


def _generator(state):
    """A Generator with the saved bit generator and state."""
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in BIT_GENERATORS:
        raise _Invalid(f"rng bit generator {name!r} is not one of {BIT_GENERATORS}.")
    bit_generator = getattr(np.random, name)()
    try:
        bit_generator.state = state
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise _Invalid(f"rng state is not valid for {name}: {exc!r}") from None
    return np.random.Generator(bit_generator)
