"""The checks ``fastnn.load`` makes before it trusts a model file.

File level: the zip directory (only ``.npy`` members, stored uncompressed
within the file, sizes capped before anything is allocated), the JSON
metadata, and each member's ``.npy`` header against its declared shape and
dtype.  Model level, from the metadata before any array is read: the layers
fit together and every array has the shape they imply; after reading: every
weight is finite.  So ``load`` allocates no more than the file's size (plus
the parsed JSON).  Each failure is an ``_Invalid`` naming the
problem; ``load`` adds the file name.
"""
import json
import os
import zipfile

import numpy as np

FORMAT = "fastnn-model"
FORMAT_VERSION = 1
CLASSES = ("FastNN", "FastNNRegressor")
METADATA = "metadata"
# No member of a sane model file is this big; larger declared sizes are
# refused before anything is allocated.
MAX_MEMBER_BYTES = 2 ** 31
MAX_TOTAL_BYTES = 2 ** 32
MAX_METADATA_BYTES = 2 ** 26
ARRAY_KINDS = "biufcUS"


class _Invalid(Exception):
    """A problem with a model file's content; ``load`` adds the file name."""


# -- the file --------------------------------------------------------------------

def _check_directory(archive):
    """Member name → ZipInfo, after checking names and declared sizes.

    Members must be stored uncompressed, as ``numpy.savez`` writes them, and
    lie within the file: then no member can hold more bytes than the file
    does, and nothing ``load`` reads can outgrow it (a deflated member of a
    few KB could inflate to GBs; a zip directory can claim any size).
    """
    members, infos, size = {}, archive.infolist(), _file_size(archive)
    if sum(info.file_size for info in infos) > MAX_TOTAL_BYTES:
        raise _Invalid(f"its members declare more than {MAX_TOTAL_BYTES} bytes in all.")
    if sum(info.compress_size for info in infos) > size:
        raise _Invalid(f"its members declare more bytes than the file's {size}.")
    for info in infos:
        if not info.filename.endswith(".npy"):
            raise _Invalid(f"member {info.filename!r} is not an .npy array.")
        if info.compress_type != zipfile.ZIP_STORED:
            raise _Invalid(f"member {info.filename!r} is compressed (zip method "
                           f"{info.compress_type}); fastnn model files store members as they "
                           "are, so that their size is bounded by the file's.")
        if info.file_size != info.compress_size:
            raise _Invalid(f"member {info.filename!r} declares {info.file_size} bytes but "
                           f"stores {info.compress_size}.")
        if info.header_offset + info.compress_size > size:
            raise _Invalid(f"member {info.filename!r} declares {info.compress_size} bytes "
                           f"from offset {info.header_offset}: past the end of the file "
                           f"({size} bytes).")
        if info.file_size > MAX_MEMBER_BYTES:
            raise _Invalid(f"member {info.filename!r} declares {info.file_size} bytes "
                           f"(more than {MAX_MEMBER_BYTES}).")
        members[info.filename[:-4]] = info
    if METADATA not in members:
        raise _Invalid(f"it has no {METADATA} member.")
    return members


def _file_size(archive):
    file = archive.fp
    here = file.tell()
    try:
        return file.seek(0, os.SEEK_END)
    finally:
        file.seek(here)


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
    _check_declared_model(metadata)
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
    if metadata["class"] not in CLASSES:
        raise _Invalid(f"it holds a {metadata['class']!r}, which is not a class this fastnn "
                       f"can load ({', '.join(CLASSES)}).")
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


# -- the model -------------------------------------------------------------------

def _check_declared_model(metadata):
    """The arrays the metadata declares are those of the network its layers
    imply, with their shapes and dtypes: checked before any array is read, so
    a file cannot make ``load`` allocate for arrays the model has no use for."""
    arrays, attributes, lists = metadata["arrays"], metadata["attributes"], metadata["array_lists"]
    n_layers = lists.get("coefs_")
    # Bounded by the members present before anything is built from it: a
    # count of 10**9 must not make a list of 10**9 names.
    if not (type(n_layers) is int and 1 <= n_layers <= len(arrays) // 2
            and lists.get("intercepts_") == n_layers):
        raise _Invalid("it has no lists of coefs_ and intercepts_ arrays.")
    layer_names = [f"{stem}/{i}" for stem in ("coefs_", "intercepts_") for i in range(n_layers)]
    if not set(layer_names) <= set(arrays):
        raise _Invalid("it has no lists of coefs_ and intercepts_ arrays.")
    for key in ("n_features_in_", "n_outputs_", "n_layers_"):
        if type(attributes.get(key)) is not int or attributes[key] < 1:
            raise _Invalid(f"it has no positive integer {key}.")
    biases = [arrays[f"intercepts_/{layer}"]["shape"] for layer in range(n_layers)]
    if any(len(shape) != 1 for shape in biases):
        raise _Invalid(f"it has {n_layers} coefs_ but intercepts_ of shapes "
                       f"{[tuple(shape) for shape in biases]}.")
    sizes = [attributes["n_features_in_"], *(shape[0] for shape in biases)]
    dtype = arrays["coefs_/0"]["dtype"]
    for layer in range(n_layers):
        w, b = arrays[f"coefs_/{layer}"], arrays[f"intercepts_/{layer}"]
        expected = (sizes[layer], sizes[layer + 1])
        if tuple(w["shape"]) != expected:
            raise _Invalid(f"layer {layer} does not fit: coefs_[{layer}] has shape "
                           f"{tuple(w['shape'])} and intercepts_[{layer}] {tuple(b['shape'])}; "
                           f"expected {expected} and ({expected[1]},).")
        if dtype not in ("<f4", "<f8") or w["dtype"] != dtype or b["dtype"] != dtype:
            raise _Invalid(f"layer {layer} has dtypes {w['dtype']} and {b['dtype']}; expected "
                           "float32 or float64 throughout.")
    if sizes[-1] != attributes["n_outputs_"] or attributes["n_layers_"] != len(sizes):
        raise _Invalid(f"n_outputs_={attributes['n_outputs_']} and n_layers_="
                       f"{attributes['n_layers_']} do not match the layers {sizes}.")
    n_params = sum(sizes[l] * sizes[l + 1] + sizes[l + 1] for l in range(n_layers))
    # Every other array fastnn saves, and the shape the layers give it.
    implied = {"_velocity": (n_params,), "_best_params": (n_params,),
               "feature_names_in_": (sizes[0],), "classes_": (sizes[-1],)}
    if metadata["class"] == "FastNN" and "classes_" not in arrays:
        raise _Invalid(f"classes_ has shape None; the model has {sizes[-1]} outputs.")
    for name in set(arrays) - set(layer_names):
        shape = tuple(arrays[name]["shape"])
        if name not in implied:
            raise _Invalid(f"array {name!r} is not one fastnn saves.")
        if shape != implied[name]:
            raise _Invalid(f"{name} has shape {shape}; the layers {sizes} imply "
                           f"{implied[name]}.")
        if name in ("_velocity", "_best_params") and arrays[name]["dtype"] != dtype:
            raise _Invalid(f"{name} is {arrays[name]['dtype']}; the weights are {dtype}.")


def _check_model(attributes, class_name):
    """Every weight, bias and momentum is finite (the shapes were checked in
    the metadata, and every array read matched its declaration), and every
    fitted attribute the class uses is there, with its type and range."""
    _check_fitted_attributes(attributes, class_name)
    for layer, (w, b) in enumerate(zip(attributes["coefs_"], attributes["intercepts_"])):
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
            raise _Invalid(f"layer {layer} has non-finite weights or biases.")
    for name in ("_velocity", "_best_params"):
        if name in attributes and not np.all(np.isfinite(attributes[name])):
            raise _Invalid(f"{name} holds non-finite numbers.")


def _is_int(value, low=0):
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)


def _check_fitted_attributes(attributes, class_name):
    """The schema of the fitted attributes a model's methods read after ``load``."""
    n_iter = attributes.get("n_iter_")
    if not _is_int(n_iter):
        raise _Invalid(f"n_iter_ {n_iter!r} is not a count of epochs.")
    history = attributes.get("history_")
    if not (isinstance(history, dict) and all(isinstance(k, str) for k in history)):
        raise _Invalid("it has no history_ of named lists.")
    for key, values in history.items():
        if not (isinstance(values, list) and all(_is_number(v) for v in values)):
            raise _Invalid(f"history_[{key!r}] is not a list of finite numbers.")
        monitored = key.startswith("train_") or len(values) > 0
        if monitored and len(values) != n_iter:
            raise _Invalid(f"history_[{key!r}] has {len(values)} epochs; n_iter_ is {n_iter}.")
    best = attributes.get("best_epoch_")
    if best is not None and not (_is_int(best) and best < max(n_iter, 1)):
        raise _Invalid(f"best_epoch_ {best!r} is not one of the {n_iter} epochs.")
    eta = attributes.get("eta_")
    if eta is not None and not (_is_number(eta) and eta > 0):
        raise _Invalid(f"eta_ {eta!r} is not a positive number.")
    if class_name == "FastNNRegressor" and not isinstance(attributes.get("_y_1d"), bool):
        raise _Invalid("it has no _y_1d flag (whether y was 1-D), which a regressor needs.")
    if class_name == "FastNN":
        _check_classes(attributes.get("classes_"))


def _check_classes(classes):
    """classes_ as ``np.unique`` makes it: 1-D, sorted, unique, finite numbers or strings."""
    if not isinstance(classes, np.ndarray) or classes.ndim != 1 or len(classes) < 2:
        raise _Invalid("classes_ is not a 1-D array of at least two labels.")
    if classes.dtype.kind in "fc" and not np.all(np.isfinite(classes)):
        raise _Invalid("classes_ holds NaN or infinite labels.")
    try:
        ordered = bool(np.all(classes[:-1] < classes[1:]))
    except TypeError:  # labels that cannot be compared
        ordered = False
    if not ordered:
        raise _Invalid("classes_ is not sorted and unique, as fit makes it.")
