"""The checks ``fastnn.load`` makes before it trusts a model file.

File level: the zip directory (only ``.npy`` members, sizes capped before
anything is allocated), the JSON metadata, and each member's ``.npy`` header
against its declared shape and dtype.  Model level: the layers fit together
and every weight is finite.  Each failure is an ``_Invalid`` naming the
problem; ``load`` adds the file name.
"""
import json

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


# -- the model -------------------------------------------------------------------

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
    n_params = sum(w.size + b.size for w, b in zip(coefs, intercepts))
    for name in ("_velocity", "_best_params"):
        array = attributes.get(name)
        if array is not None and (array.shape != (n_params,) or array.dtype != dtype
                                  or not np.all(np.isfinite(array))):
            raise _Invalid(f"{name} is not {n_params} finite {dtype} numbers.")
