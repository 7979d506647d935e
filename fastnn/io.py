"""Model files: ``save(estimator, path)``, ``load(path)`` and ``atomic_write``.

A model file is one ``.npz`` written by ``numpy.savez``: a zip of ``.npy``
members holding only numbers, bools, strings and JSON, so loading it never runs
code (object arrays are refused before they are read; every read passes
``allow_pickle=False``).

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
``_rng`` (the ``Generator`` that ``warm_start`` continues) and ``_y_1d``.
"""
import json
import os
import struct
import tempfile
import zipfile
from numbers import Integral, Real

import numpy as np
from sklearn.utils.validation import check_is_fitted

FORMAT = "fastnn-model"
FORMAT_VERSION = 1
CLASSES = ("FastNN", "FastNNRegressor")
METADATA = "metadata"
# No member of a sane model file is this big; larger declared sizes are
# refused before anything is allocated.
MAX_MEMBER_BYTES = 2 ** 31
MAX_TOTAL_BYTES = 2 ** 32
MAX_METADATA_BYTES = 2 ** 26
# Private attributes that are part of a fitted model, and how each is stored.
PRIVATE = {"_velocity": "array", "_rng": "rng", "_y_1d": "json"}
ARRAY_KINDS = "biufcUS"
# Bit generators whose state is plain integers (``default_rng`` makes PCG64).
BIT_GENERATORS = ("PCG64", "PCG64DXSM")


def atomic_write(path, write):
    """Write a file so that ``path`` holds either its old or its whole new content.

    ``write(file)`` writes to a temporary file in the same folder (a rename
    is atomic only within one file system); the file is flushed and fsynced,
    renamed over ``path`` with ``os.replace``, and the folder is fsynced so
    the rename itself survives a crash.  On any error the temporary file is
    removed and ``path`` is untouched.

    Parameters
    ----------
    path : str or os.PathLike
    write : callable
        Called with the open binary file object.
    """
    path = os.path.abspath(os.fspath(path))
    folder, name = os.path.split(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        # mkstemp creates the file 0600; give it the mode open() would have.
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(folder)


def save(estimator, path):
    """Save a fitted ``FastNN`` or ``FastNNRegressor`` to ``path`` (atomically).

    The file name is used as given (no ``.npz`` is appended).  See the
    module docstring for the format.

    Raises
    ------
    ValueError
        If the estimator is not fitted, not one of fastnn's classes, or has an
        attribute the format cannot hold (an object array of non-strings, say).
    """
    name = type(estimator).__name__
    if name not in CLASSES or _estimator_class(name) is not type(estimator):
        raise ValueError(f"fastnn.save saves {' or '.join(CLASSES)} estimators, not {name}.")
    check_is_fitted(estimator)
    arrays, metadata = {}, _header(estimator)
    for attribute, value in vars(estimator).items():
        if attribute in PRIVATE or (attribute.endswith("_") and not attribute.startswith("_")):
            _store(attribute, value, arrays, metadata)
    metadata["aliases"] = _aliases(estimator, metadata["attributes"])
    for name in metadata["aliases"]:
        del metadata["attributes"][name]
    text = json.dumps(metadata, ensure_ascii=False).encode("utf-8")
    arrays[METADATA] = np.frombuffer(text, dtype=np.uint8)
    atomic_write(path, lambda file: np.savez(file, allow_pickle=False, **arrays))


def load(path):
    """Load a model saved by ``save``, checking everything before trusting it.

    Returns
    -------
    estimator : FastNN or FastNNRegressor
        Fitted; predicts bitwise identically to the saved estimator.

    Raises
    ------
    ValueError
        Naming the file and the problem: not a zip, truncated or corrupt, a
        newer format, an unknown class, arrays, shapes or dtypes other than
        declared, sizes over 2 GiB, object arrays, non-finite weights, layers
        that do not fit together.  (A missing file raises FileNotFoundError.)
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = _check_directory(archive)
            metadata = _read_metadata(archive, members)
            arrays = {name: _read_member(archive, members[name], spec)
                      for name, spec in metadata["arrays"].items()}
        return _rebuild(metadata, arrays)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except _Invalid as exc:
        raise ValueError(f"{os.fspath(path)} is not a valid fastnn model file: {exc}") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
            NotImplementedError, RuntimeError, struct.error) as exc:
        # zipfile and numpy's .npy reader raise all of these for damaged bytes.
        raise ValueError(f"{os.fspath(path)} is not a whole fastnn model file "
                         f"(not a zip, truncated or corrupt): {exc}") from None


class _Invalid(Exception):
    """A problem with a model file's content; ``load`` adds the file name."""


# -- saving -------------------------------------------------------------------

def _header(estimator):
    params, kinds = {}, {}
    for key, value in estimator.get_params(deep=False).items():
        if key == "random_state" and isinstance(value, np.random.RandomState):
            params[key], kinds[key] = None, "dropped"
        elif isinstance(value, tuple):
            params[key], kinds[key] = _plain(value, f"parameter {key}"), "tuple"
        elif isinstance(value, dict) and not all(isinstance(k, str) for k in value):
            params[key] = [[_plain(k, f"parameter {key}"), _plain(v, f"parameter {key}")]
                           for k, v in value.items()]
            kinds[key] = "items"
        else:
            params[key] = _plain(value, f"parameter {key}")
    from . import __version__
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "fastnn_version": __version__,
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


# -- loading: the file --------------------------------------------------------

def _check_directory(archive):
    """Member name → ZipInfo, after checking names and declared sizes."""
    members = {}
    if sum(info.file_size for info in archive.infolist()) > MAX_TOTAL_BYTES:
        raise _Invalid(f"its members declare more than {MAX_TOTAL_BYTES} bytes in all.")
    for info in archive.infolist():
        if not info.filename.endswith(".npy"):
            raise _Invalid(f"member {info.filename!r} is not an .npy array.")
        if info.file_size > MAX_MEMBER_BYTES:
            raise _Invalid(f"member {info.filename!r} declares {info.file_size} bytes "
                           f"(more than {MAX_MEMBER_BYTES}).")
        members[info.filename[:-4]] = info
    if METADATA not in members:
        raise _Invalid(f"it has no {METADATA} member.")
    return members


def _read_metadata(archive, members):
    if members[METADATA].file_size > MAX_METADATA_BYTES:
        raise _Invalid(f"its metadata declares {members[METADATA].file_size} bytes.")
    spec = {"shape": [members[METADATA].file_size], "dtype": "|u1"}
    array = _read_member(archive, members[METADATA], spec, exact_shape=False)
    if array.ndim != 1:
        raise _Invalid("the metadata is not a 1-D uint8 array.")
    try:
        metadata = json.loads(array.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _Invalid(f"the metadata is not UTF-8 JSON ({exc}).") from None
    _check_metadata(metadata)
    declared, found = set(metadata["arrays"]), set(members) - {METADATA}
    if declared != found:
        problems = [f"{what} {sorted(names)}" for what, names in
                    (("missing", declared - found), ("undeclared", found - declared)) if names]
        raise _Invalid(f"its arrays are not the declared ones: {', '.join(problems)}.")
    return metadata


def _check_metadata(metadata):
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise _Invalid(f"its metadata does not say format {FORMAT!r}.")
    version = metadata.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _Invalid(f"format_version {version!r} is not a positive integer.")
    if version > FORMAT_VERSION:
        raise _Invalid(f"it has format version {version}, written by a newer fastnn "
                       f"({metadata.get('fastnn_version')}); this fastnn reads versions up "
                       f"to {FORMAT_VERSION}: upgrade fastnn to load it.")
    expected = {"class": str, "params": dict, "param_kinds": dict, "attributes": dict,
                "array_lists": dict, "arrays": dict, "aliases": dict}
    for key, kind in expected.items():
        if not isinstance(metadata.get(key), kind):
            raise _Invalid(f"its metadata has no {key!r} {kind.__name__}.")
    for name, spec in metadata["arrays"].items():
        _check_spec(name, spec)


def _check_spec(name, spec):
    shape = spec.get("shape") if isinstance(spec, dict) else None
    if not (isinstance(shape, list) and all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)):
        raise _Invalid(f"array {name!r} declares no valid shape: {spec!r}.")
    try:
        dtype = np.dtype(spec.get("dtype"))
    except (TypeError, ValueError):
        raise _Invalid(f"array {name!r} declares an unknown dtype {spec.get('dtype')!r}.") from None
    if dtype.kind not in ARRAY_KINDS or dtype.str != spec["dtype"]:
        raise _Invalid(f"array {name!r} declares dtype {spec['dtype']!r}; only numbers, "
                       "bools and strings are allowed.")
    if int(np.prod(shape, dtype=object)) * dtype.itemsize > MAX_MEMBER_BYTES:
        raise _Invalid(f"array {name!r} declares shape {tuple(shape)} of {dtype}: more "
                       f"than {MAX_MEMBER_BYTES} bytes.")


def _read_member(archive, info, spec, exact_shape=True):
    """Check an .npy member's header against ``spec`` first, then read it."""
    name = info.filename[:-4]
    with archive.open(info) as file:
        version = np.lib.format.read_magic(file)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(file)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(file)
        else:
            raise _Invalid(f"array {name!r} has .npy version {version}.")
    if dtype.hasobject:
        raise _Invalid(f"array {name!r} holds Python objects; reading it would unpickle.")
    if dtype.str != spec["dtype"] or (exact_shape and list(shape) != spec["shape"]):
        raise _Invalid(f"array {name!r} is {dtype.str} of shape {shape}; the metadata "
                       f"declares {spec['dtype']} of shape {tuple(spec['shape'])}.")
    if int(np.prod(shape, dtype=object)) * dtype.itemsize > info.file_size:
        raise _Invalid(f"array {name!r} declares shape {shape}, more than its "
                       f"{info.file_size} bytes hold.")
    with archive.open(info) as file:
        try:
            array = np.lib.format.read_array(file, allow_pickle=False)
        except ValueError as exc:
            raise _Invalid(f"array {name!r} cannot be read: {exc}") from None
        # Reading to the end makes zipfile check the CRC.
        if file.read():
            raise _Invalid(f"array {name!r} has bytes after its data.")
    if spec.get("object"):
        array = array.astype(object)
    return array


# -- loading: the estimator ---------------------------------------------------

def _rebuild(metadata, arrays):
    cls = _estimator_class(metadata["class"]) if metadata["class"] in CLASSES else None
    if cls is None:
        raise _Invalid(f"it holds a {metadata['class']!r}, which is not a class this fastnn "
                       f"can load ({', '.join(c for c in CLASSES if _estimator_class(c))}).")
    estimator = cls()
    try:
        estimator.set_params(**_params(metadata))
        estimator._validate_params()
    except (ValueError, TypeError) as exc:
        raise _Invalid(f"its parameters are not valid for {cls.__name__}: {exc}") from None
    attributes = _attributes(metadata, arrays)
    _check_model(attributes, cls.__name__)
    if "rng" in metadata:
        attributes["_rng"] = _generator(metadata["rng"])
    vars(estimator).update(attributes)
    return estimator


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
        attributes[allowed(name, "json")] = attributes[owner][key]
    return attributes


def _check_model(attributes, class_name):
    """The layers fit together, the sizes agree and every weight is finite."""
    coefs, intercepts = attributes.get("coefs_"), attributes.get("intercepts_")
    if not (isinstance(coefs, list) and isinstance(intercepts, list) and coefs
            and all(isinstance(a, np.ndarray) for a in coefs + intercepts)):
        raise _Invalid("it has no lists of coefs_ and intercepts_ arrays.")
    if len(coefs) != len(intercepts) or any(b.ndim != 1 for b in intercepts):
        raise _Invalid(f"it has {len(coefs)} coefs_ but intercepts_ of shapes "
                       f"{[b.shape for b in intercepts]}.")
    for key in ("n_features_in_", "n_outputs_", "n_layers_"):
        if type(attributes.get(key)) is not int:
            raise _Invalid(f"it has no integer {key}.")
    sizes = [attributes["n_features_in_"], *(b.shape[0] for b in intercepts)]
    dtype = coefs[0].dtype
    for layer, (w, b) in enumerate(zip(coefs, intercepts)):
        expected = (sizes[layer], sizes[layer + 1])
        if w.shape != expected:
            raise _Invalid(f"layer {layer} does not fit: coefs_[{layer}] has shape {w.shape} "
                           f"and intercepts_[{layer}] {b.shape}; expected {expected} and "
                           f"({expected[1]},).")
        if dtype not in (np.float32, np.float64) or w.dtype != dtype or b.dtype != dtype:
            raise _Invalid(f"layer {layer} has dtypes {w.dtype} and {b.dtype}; expected "
                           "float32 or float64 throughout.")
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
            raise _Invalid(f"layer {layer} has non-finite weights or biases.")
    if sizes[-1] != attributes["n_outputs_"] or attributes["n_layers_"] != len(sizes):
        raise _Invalid(f"n_outputs_={attributes['n_outputs_']} and n_layers_="
                       f"{attributes['n_layers_']} do not match the layers {sizes}.")
    classes = attributes.get("classes_")
    if class_name == "FastNN" and getattr(classes, "shape", None) != (sizes[-1],):
        raise _Invalid(f"classes_ has shape {getattr(classes, 'shape', None)}; the model "
                       f"has {sizes[-1]} outputs.")
    velocity = attributes.get("_velocity")
    n_params = sum(w.size + b.size for w, b in zip(coefs, intercepts))
    if velocity is not None and (velocity.shape != (n_params,) or velocity.dtype != dtype
                                 or not np.all(np.isfinite(velocity))):
        raise _Invalid(f"_velocity is not {n_params} finite {dtype} numbers.")


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


def _estimator_class(name):
    import fastnn

    return getattr(fastnn, name, None)


def _umask():
    # Reading the umask from /proc avoids os.umask's set-and-restore, which
    # would briefly change it for every thread of the process.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


def _fsync_folder(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open a folder; its rename is durable enough.
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
