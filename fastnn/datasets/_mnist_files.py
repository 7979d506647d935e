"""Reading MNIST-format files that nobody vouched for (see ``fastnn.datasets``).

An IDX header must agree with the bytes that follow, and no buffer grows past
the bytes actually there; a pickle is read by an unpickler that can only
rebuild NumPy arrays; an ``.npz`` is read with ``allow_pickle=False``.  Each
problem is a ``ValueError`` naming the file.
"""
import codecs
import gzip
import io
import math
import os
import pickle
import struct
import zipfile
import zlib
from contextlib import contextmanager

import numpy as np
from numpy._core.multiarray import _reconstruct

from .._files import regular_file

# LeCun's names first, then the dotted spelling some mirrors (Kaggle) use.
IDX_NAMES = {
    "train_images": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    "train_labels": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    "test_images": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    "test_labels": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}
PICKLE_NAMES = ("mnist.pkl.gz", "mnist.pkl")
NPZ_NAMES = ("mnist.npz",)

# Deep enough for torchvision's ``root/MNIST/raw`` and the Fashion-MNIST
# repository's ``data/fashion``, shallow enough that a mistaken ``/`` stays quick.
SEARCH_DEPTH = 2

_IDX_UNSIGNED_BYTE = 0x08
_GZIP_MAGIC = b"\x1f\x8b"
# Big enough that MNIST's 47 MB reads in a few calls, small enough that a
# header claiming terabytes costs one chunk before the truth is out.
_CHUNK = 1 << 24

# What Nielsen's pickle (NumPy 1, Python 2) and NumPy 2's protocol-2 pickles
# name; ``_codecs.encode`` is how protocol 2 spells a bytes object.
_SAFE_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): codecs.encode,
}


# --- finding a layout in a folder -------------------------------------------

def _idx_parts(folder):
    """The IDX files in ``folder``, by part; raw preferred to gzipped (same bytes, faster)."""
    found = {}
    for part, names in IDX_NAMES.items():
        for name in names:
            for candidate in (folder / name, folder / (name + ".gz")):
                if candidate.is_file():
                    found.setdefault(part, candidate)
    return found


def _folders(root, depth):
    """``root`` and its sub-folders down to ``depth``, breadth first, hidden ones skipped."""
    level = [root]
    for _ in range(depth + 1):
        yield from level
        level = [child for folder in level
                 for child in sorted(_subfolders(folder)) if not child.name.startswith(".")]


def _subfolders(folder):
    try:
        return [child for child in folder.iterdir() if child.is_dir()]
    except OSError:  # unreadable folders cannot hold our files
        return []


def _find_layout(root):
    """A dict of the four IDX files, or the path of a pickle or ``.npz``, found under ``root``."""
    sets = [(folder, _idx_parts(folder)) for folder in _folders(root, SEARCH_DEPTH)]
    sets = [(folder, parts) for folder, parts in sets if parts]
    complete = [(folder, parts) for folder, parts in sets if len(parts) == len(IDX_NAMES)]
    if len(complete) == 1:
        return complete[0][1]
    if len(complete) > 1:
        folders = ", ".join(str(folder) for folder, _ in complete)
        raise ValueError(f"{root} holds more than one set of MNIST IDX files ({folders}); "
                         "pass one of these folders")
    if sets:
        folder, parts = sets[0]
        missing = [names[0] + "[.gz]" for part, names in IDX_NAMES.items() if part not in parts]
        raise FileNotFoundError(
            f"{folder} holds some MNIST IDX files but not {', '.join(missing)}")
    for name in PICKLE_NAMES + NPZ_NAMES:
        if (root / name).is_file():
            return root / name
    raise ValueError(
        f"{root}: no MNIST layout recognised; expected the four IDX files "
        f"({', '.join(names[0] for names in IDX_NAMES.values())}, each optionally .gz) "
        f"in it or up to {SEARCH_DEPTH} folders down, "
        f"or one of {', '.join(PICKLE_NAMES + NPZ_NAMES)}"
    )


# --- IDX --------------------------------------------------------------------

def _load_idx_set(parts):
    """``((X_train, y_train), (X_test, y_test))`` from the four IDX files."""
    pairs = []
    for images, labels in (("train_images", "train_labels"), ("test_images", "test_labels")):
        # Labels first: their count bounds the images' before any pixel is
        # decompressed, so a small gzip that declares a GB of images is
        # refused at its header.
        y = _read_idx(parts[labels], ndim=1)
        X = _read_idx(parts[images], ndim=3, count=len(y), counted=parts[labels])
        X = X.reshape(len(X), -1).astype(np.float32)
        X /= np.float32(255)
        pairs.append((X, y.astype(np.int64)))
    if pairs[0][0].shape[1] != pairs[1][0].shape[1]:
        raise ValueError(f"{parts['train_images']} and {parts['test_images']} "
                         "hold images of different sizes")
    return pairs


def _read_idx(path, ndim, count=None, counted=None):
    """An IDX file of unsigned bytes, as a uint8 array of the shape its header declares.

    The header is a magic number ``0x000008`` followed by ``ndim``, then
    ``ndim`` big-endian uint32 sizes; the data must be exactly their product
    in bytes.  A raw file's size is checked before any data is read, and a
    gzipped one is read in chunks up to one byte past the declared size, so
    a header that lies about the size cannot make us allocate it.  With
    ``count``, a header declaring another number of items (than the ``counted``
    file's) is refused before any data is read.
    """
    try:
        with _open_maybe_gzip(path) as (stream, gzipped):
            header = _read_up_to(stream, 4 + 4 * ndim)
            shape = _idx_shape(path, header, ndim)
            if count is not None and shape[0] != count:
                raise ValueError(f"{path} holds {shape[0]} images but {counted} holds "
                                 f"{count} labels")
            size = math.prod(shape)
            if not gzipped and os.path.getsize(path) - len(header) != size:
                raise ValueError(_size_error(path, shape, os.path.getsize(path) - len(header)))
            data = _read_up_to(stream, size + 1)
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"{path}: damaged or unreadable ({error})") from error
    if len(data) != size:
        raise ValueError(_size_error(path, shape, len(data), more=len(data) > size))
    return np.frombuffer(data, dtype=np.uint8).reshape(shape)


def _idx_shape(path, header, ndim):
    """The shape an IDX header declares, after checking its magic number."""
    expected = (_IDX_UNSIGNED_BYTE << 8) + ndim
    if len(header) >= 4:
        magic = struct.unpack(">I", header[:4])[0]
        if magic != expected:
            raise ValueError(f"{path}: magic number 0x{magic:08x} is not 0x{expected:08x}, "
                             f"so this is not an IDX file of {ndim}-d unsigned bytes")
    if len(header) < 4 + 4 * ndim:
        raise ValueError(f"{path}: truncated, the {4 + 4 * ndim}-byte IDX header is incomplete")
    return struct.unpack(f">{ndim}I", header[4:])


def _size_error(path, shape, actual, more=False):
    held = f"more than {actual - 1}" if more else f"{actual}"
    return (f"{path}: header declares shape {shape}, {math.prod(shape)} bytes of data, "
            f"but the file holds {held}; it is truncated or its header is wrong")


@contextmanager
def _open_maybe_gzip(path):
    """``(stream, gzipped)``: gzip is told by its magic bytes, not by the file's name."""
    regular_file(path)
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        if not gzipped:
            yield raw, False
            return
        with gzip.GzipFile(fileobj=raw) as stream:
            yield stream, True


def _read_up_to(stream, n_bytes):
    """At most ``n_bytes``, in chunks, so memory grows with the data actually there."""
    buffer = io.BytesIO()
    while buffer.tell() < n_bytes:
        chunk = stream.read(min(_CHUNK, n_bytes - buffer.tell()))
        if not chunk:
            break
        buffer.write(chunk)
    return buffer.getvalue()


# --- Nielsen's pickle ---------------------------------------------------------

class _RefusedGlobal(ValueError):
    """A pickle named something other than NumPy's array constructors."""


class _ArrayUnpickler(pickle.Unpickler):
    """An unpickler that can rebuild NumPy arrays and nothing else.

    Unpickling calls whatever callables the file names, so an unrestricted
    ``pickle.load`` of a downloaded file runs the downloader's code.
    """

    def __init__(self, file, path):
        super().__init__(file, encoding="latin1")  # Nielsen's pickle is Python 2's
        self.path = path

    def find_class(self, module, name):
        try:
            return _SAFE_GLOBALS[module, name]
        except KeyError:
            raise _RefusedGlobal(f"{self.path}: refusing to unpickle {module}.{name}; "
                                 "an MNIST pickle holds only NumPy arrays") from None


def _load_pickle(path):
    """Nielsen's ``(training, validation, test)``, each ``(X float32, y int64)``, checked."""
    try:
        with _open_maybe_gzip(path) as (stream, _):
            data = _ArrayUnpickler(stream, path).load()
    except _RefusedGlobal:
        raise
    except Exception as error:  # garbage makes pickle raise almost anything
        raise ValueError(
            f"{path}: damaged or not a pickle ({type(error).__name__}: {error})") from error
    if not (isinstance(data, (tuple, list)) and len(data) == 3
            and all(isinstance(pair, (tuple, list)) and len(pair) == 2 for pair in data)):
        raise ValueError(
            f"{path}: expected Nielsen's (training, validation, test) tuple of (X, y) pairs")
    names = ("training", "validation", "test")
    sets = [_checked_pair(path, name, X, y) for name, (X, y) in zip(names, data)]
    if len({X.shape[1] for X, _ in sets}) != 1:
        raise ValueError(f"{path}: the training, validation and test images have different sizes")
    return sets


# --- Keras's npz --------------------------------------------------------------

def _load_npz(path):
    """``((X_train, y_train), (X_test, y_test))`` from a Keras-style ``.npz``."""
    # np.load raises any of these on a file that is not a sound .npz, and
    # ValueError for object arrays, which need pickle and are refused.
    damaged = (OSError, EOFError, ValueError, zlib.error, zipfile.BadZipFile)
    regular_file(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except damaged as error:
        raise ValueError(f"{path}: damaged or not a .npz archive ({error})") from error
    if isinstance(archive, np.ndarray):
        raise ValueError(f"{path}: a single .npy array, not a .npz archive")
    with archive:
        try:
            names = {key.lower(): key for key in archive.files}
            missing = [key for key in ("x_train", "y_train", "x_test", "y_test")
                       if key not in names]
            if missing:
                raise ValueError(f"{path}: no {', '.join(missing)} among its arrays "
                                 f"{sorted(names)}")
            # Shapes from the .npy headers first: a deflated member that
            # declares more images than there are labels is refused before
            # it is inflated.
            shapes = {key: _npy_shape(archive.zip, names[key]) for key in
                      ("x_train", "y_train", "x_test", "y_test")}
            for part in ("train", "test"):
                images, labels = shapes[f"x_{part}"], shapes[f"y_{part}"]
                if not images or not labels or images[0] != labels[0]:
                    raise ValueError(f"{path}: x_{part} declares shape {images} but y_{part} "
                                     f"{labels}: not one label per image")
            arrays = {key: archive[names[key]] for key in shapes}
        except damaged as error:
            raise ValueError(f"{path}: damaged .npz archive ({error})") from error
    train = _checked_pair(path, "training", arrays["x_train"], arrays["y_train"])
    test = _checked_pair(path, "test", arrays["x_test"], arrays["y_test"])
    if train[0].shape[1] != test[0].shape[1]:
        raise ValueError(f"{path}: the training and test images have different sizes")
    return train, test


def _npy_shape(archive, key):
    """The shape an .npz member's .npy header declares, read without its data."""
    with archive.open(f"{key}.npy") as member:
        version = np.lib.format.read_magic(member)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        return read_header(member)[0]


def _checked_pair(path, name, X, y):
    """Images as float32 rows in [0, 1] (bytes divided by 255) and labels as int64."""
    if not isinstance(X, np.ndarray) or not isinstance(y, np.ndarray):
        raise ValueError(f"{path}: the {name} set is not a pair of arrays")
    if X.ndim < 2 or y.ndim != 1 or len(X) != len(y):
        raise ValueError(f"{path}: the {name} set has images of shape {X.shape} "
                         f"and labels of shape {y.shape}")
    if y.dtype.kind not in "iu":
        raise ValueError(f"{path}: the {name} labels are {y.dtype}, not integers")
    if X.dtype == np.uint8:
        X = X.reshape(len(X), -1).astype(np.float32) / np.float32(255)
    elif X.dtype.kind == "f":
        X = X.reshape(len(X), -1).astype(np.float32)
        if X.size and not (np.isfinite(X).all() and X.min() >= 0 and X.max() <= 1):
            raise ValueError(f"{path}: the {name} images are floats outside [0, 1]")
    else:
        raise ValueError(f"{path}: the {name} images are {X.dtype}, not uint8 or floats in [0, 1]")
    return X, y.astype(np.int64)
