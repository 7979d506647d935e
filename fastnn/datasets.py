"""Data sets for the book's experiments: MNIST (and Fashion-MNIST) and sklearn's digits.

``load_mnist`` reads the files people already have, in whichever layout they
came in: LeCun's four IDX files (gzipped or not, also as Fashion-MNIST,
torchvision and Debian's ``dataset-fashion-mnist`` ship them), Nielsen's
``mnist.pkl.gz``, or Keras's ``mnist.npz``.  ``fetch_mnist`` downloads MNIST
from OpenML when there is a network.  All return images as float32 in
[0, 1], one row per image, and labels as int64.

Every file is treated as untrusted: an IDX header must agree with the bytes
that follow, and no buffer grows past the bytes actually there; the pickle
is read by an unpickler that can only rebuild NumPy arrays.
"""
import codecs
import gzip
import http.client
import io
import math
import os
import pickle
import socket
import struct
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import numpy as np

try:
    from numpy._core.multiarray import _reconstruct
except ImportError:  # NumPy < 2
    from numpy.core.multiarray import _reconstruct

SPLITS = ("book", "full")

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

_OFFLINE_HELP = (
    "Without a network, point load_mnist at local files: "
    "load_mnist('/path/to/folder') reads LeCun's four IDX files "
    "(train-images-idx3-ubyte[.gz], ...), Nielsen's mnist.pkl.gz or Keras's mnist.npz. "
    "On Debian, 'apt-get install dataset-fashion-mnist' puts Fashion-MNIST in "
    "/usr/share/datasets/fashion-mnist, which load_mnist reads as it is."
)


class MNIST(NamedTuple):
    """An MNIST-like data set, split as in the book.

    Attributes
    ----------
    X_train, X_val, X_test : ndarray of shape (n_samples, n_features), float32
        Images, one flattened image per row, pixels in [0, 1].
    y_train, y_val, y_test : ndarray of shape (n_samples,), int64
        Labels.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def load_digits():
    """sklearn's bundled 8×8 digits, scaled like MNIST.

    Returns
    -------
    X : ndarray of shape (1797, 64), float32
        Pixels divided by 16, so in [0, 1].
    y : ndarray of shape (1797,), int64
        Digits 0–9.
    """
    from sklearn.datasets import load_digits as sklearn_digits

    X, y = sklearn_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y.astype(np.int64)


def load_mnist(path, split="book"):
    """Read MNIST or Fashion-MNIST from local files.

    Parameters
    ----------
    path : str or path-like
        A folder holding the four IDX files with LeCun's names
        (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
        ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``), each gzipped
        (``.gz``) or not, directly or up to two folders down (so
        ``/usr/share/datasets/fashion-mnist``, torchvision's root and the
        Fashion-MNIST repository all work); or a folder holding
        ``mnist.pkl.gz`` or ``mnist.npz``; or such a file itself, under any
        name ending ``.pkl.gz``, ``.pkl`` or ``.npz``.  The pickle is Nielsen's
        ``(training, validation, test)`` tuple of ``(X, y)`` pairs; the
        ``.npz`` holds ``x_train, y_train, x_test, y_test`` (or ``X_train``, ...).
    split : {"book", "full"}, default="book"
        ``"book"`` keeps the last sixth of the training images for validation,
        as Nielsen did: 50,000 / 10,000 of MNIST's 60,000 (the pickle comes
        split already); on other sizes the validation set is the last
        ``round(n_train / 6)`` images, rounding halves up.  ``"full"`` trains
        on all of them and leaves ``X_val`` with no rows.

    Returns
    -------
    MNIST
        ``(X_train, y_train, X_val, y_val, X_test, y_test)``; images float32
        in [0, 1] of shape (n_samples, n_features), labels int64.

    Raises
    ------
    FileNotFoundError
        If ``path``, or one of the four IDX files next to the others, is missing.
    ValueError
        If no layout is recognised, or a file is damaged (wrong magic number,
        truncated, images and labels of different counts, a pickle that would
        run code), naming the file and what is wrong with it.
    """
    if split not in SPLITS:
        raise ValueError(f"split={split!r} is not one of {SPLITS}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; pass a folder or file holding MNIST")
    layout = _find_layout(path) if path.is_dir() else path
    if isinstance(layout, dict):
        train, test = _load_idx_set(layout)
    elif layout.name.endswith((".pkl.gz", ".pkl")):
        train, val, test = _load_pickle(layout)
        if split == "full":
            train = tuple(np.concatenate(pair) for pair in zip(train, val))
            val = _empty(train[0].shape[1])
        return MNIST(*train, *val, *test)
    elif layout.suffix == ".npz":
        train, test = _load_npz(layout)
    else:
        raise ValueError(
            f"{layout}: not a recognised MNIST file (expected .pkl.gz, .pkl or .npz); "
            "for IDX files pass the folder that holds all four"
        )
    return MNIST(*_split_train(*train, split), *test)


def fetch_mnist(data_home=None, *, split="book", timeout=30.0, n_retries=3, delay=1.0):
    """Download MNIST (``mnist_784``) from OpenML, or read it from sklearn's cache.

    Parameters
    ----------
    data_home : str or path-like, default=None
        sklearn's cache folder (``~/scikit_learn_data`` when None).
    split : {"book", "full"}, default="book"
        As in :func:`load_mnist`: the first 60,000 images are the training
        set, split 50,000 / 10,000 for ``"book"``; the last 10,000 are the test set.
    timeout : float, default=30.0
        Seconds a socket may wait.  sklearn offers no timeout of its own, so
        this is the process-wide socket default while the call lasts, restored after.
    n_retries : int, default=3
        Retries after a network error, at least 1 (sklearn's bound).
    delay : float, default=1.0
        Seconds between retries, more than 0.  Both go to
        :func:`sklearn.datasets.fetch_openml`.

    Returns
    -------
    MNIST
        As :func:`load_mnist` returns.

    Raises
    ------
    ConnectionError
        If OpenML cannot be reached; the message says how to use local files.
    """
    from sklearn.datasets import fetch_openml

    if split not in SPLITS:
        raise ValueError(f"split={split!r} is not one of {SPLITS}")
    before = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        bunch = fetch_openml("mnist_784", version=1, as_frame=False, parser="liac-arff",
                             data_home=data_home, n_retries=n_retries, delay=delay)
    except (OSError, http.client.HTTPException) as error:
        raise ConnectionError(
            f"could not fetch MNIST from OpenML ({error}). {_OFFLINE_HELP}") from error
    finally:
        socket.setdefaulttimeout(before)
    return _from_openml(bunch.data, bunch.target, split)


def _from_openml(data, target, split):
    """Split OpenML's 70,000 rows (pixels 0–255, labels as strings) into an ``MNIST``."""
    if len(data) != 70_000:
        raise ValueError(f"OpenML's mnist_784 has {len(data)} rows, not the 70,000 expected")
    X = np.asarray(data, dtype=np.float32) / np.float32(255)
    y = np.asarray(target).astype(str).astype(np.int64)
    return MNIST(*_split_train(X[:60_000], y[:60_000], split), X[60_000:], y[60_000:])


def _empty(n_features):
    """An empty ``(X, y)`` pair, the validation set of the ``"full"`` split."""
    return np.empty((0, n_features), dtype=np.float32), np.empty(0, dtype=np.int64)


def _split_train(X, y, split):
    """``(X_train, y_train, X_val, y_val)``: the last sixth held out for ``"book"``."""
    if split == "full":
        return (X, y, *_empty(X.shape[1]))
    n_train = len(X) - (len(X) + 3) // 6
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


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
        X = _read_idx(parts[images], ndim=3)
        y = _read_idx(parts[labels], ndim=1)
        if len(X) != len(y):
            raise ValueError(f"{parts[images]} holds {len(X)} images "
                             f"but {parts[labels]} holds {len(y)} labels")
        X = X.reshape(len(X), -1).astype(np.float32)
        X /= np.float32(255)
        pairs.append((X, y.astype(np.int64)))
    if pairs[0][0].shape[1] != pairs[1][0].shape[1]:
        raise ValueError(f"{parts['train_images']} and {parts['test_images']} "
                         "hold images of different sizes")
    return pairs


def _read_idx(path, ndim):
    """An IDX file of unsigned bytes, as a uint8 array of the shape its header declares.

    The header is a magic number ``0x000008`` followed by ``ndim``, then
    ``ndim`` big-endian uint32 sizes; the data must be exactly their product
    in bytes.  A raw file's size is checked before any data is read, and a
    gzipped one is read in chunks up to one byte past the declared size, so
    a header that lies about the size cannot make us allocate it.
    """
    try:
        with _open_maybe_gzip(path) as (stream, gzipped):
            header = _read_up_to(stream, 4 + 4 * ndim)
            shape = _idx_shape(path, header, ndim)
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
    try:
        archive = np.load(path, allow_pickle=False)
    except damaged as error:
        raise ValueError(f"{path}: damaged or not a .npz archive ({error})") from error
    if isinstance(archive, np.ndarray):
        raise ValueError(f"{path}: a single .npy array, not a .npz archive")
    with archive:
        try:
            arrays = {key.lower(): archive[key] for key in archive.files}
        except damaged as error:
            raise ValueError(f"{path}: damaged .npz archive ({error})") from error
    missing = [key for key in ("x_train", "y_train", "x_test", "y_test") if key not in arrays]
    if missing:
        raise ValueError(f"{path}: no {', '.join(missing)} among its arrays {sorted(arrays)}")
    train = _checked_pair(path, "training", arrays["x_train"], arrays["y_train"])
    test = _checked_pair(path, "test", arrays["x_test"], arrays["y_test"])
    if train[0].shape[1] != test[0].shape[1]:
        raise ValueError(f"{path}: the training and test images have different sizes")
    return train, test


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
