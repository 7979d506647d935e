"""Helpers for the model-file tests (test_io.py, test_model_file_refusals.py):
read a file's raw arrays and metadata, rewrite them with one thing wrong,
forge its zip directory, and check a refusal.  Their fixtures (``io_data``,
``model_file``) are in conftest.py."""
import json
import struct

import numpy as np
import pytest

from fastnn import load
from fastnn.persistence import _model_file as fio

SMALL = dict(hidden_layer_sizes=(5,), epochs=2, random_state=0)


def read_raw(path):
    """(arrays, metadata) of a model file, without fastnn's checks."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    metadata = json.loads(arrays.pop(fio.METADATA).tobytes().decode("utf-8"))
    return arrays, metadata


def rewrite(path, arrays, metadata, compressed=False):
    text = json.dumps(metadata).encode("utf-8")
    # savez pickles the hostile object-array file's array (its default; the
    # allow_pickle keyword exists only from NumPy 2.1).
    (np.savez_compressed if compressed else np.savez)(
        path, **arrays, **{fio.METADATA: np.frombuffer(text, dtype=np.uint8)})
    return path


def redeclare(path, member, compressed, uncompressed):
    """Make the zip directory claim other sizes for ``member``, bytes untouched."""
    content = bytearray(path.read_bytes())
    name = f"{member}.npy".encode()
    at = content.find(b"PK\x01\x02")  # the central directory's entries
    while content[at + 46:at + 46 + len(name)] != name or struct.unpack_from(
            "<H", content, at + 28)[0] != len(name):
        at = content.index(b"PK\x01\x02", at + 1)
    struct.pack_into("<II", content, at + 20, compressed, uncompressed)
    path.write_bytes(bytes(content))
    return path


def assert_refused(path, match):
    with pytest.raises(ValueError, match=match) as info:
        load(path)
    assert str(path) in str(info.value)


def same_predictions(a, b, X):
    return (np.array_equal(a.predict(X), b.predict(X))
            and np.array_equal(a.predict_proba(X), b.predict_proba(X)))
