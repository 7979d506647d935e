"""Tiny MNIST-format files made on the spot, for the data tests
(test_datasets.py, test_datasets_damaged.py): fake images and labels, IDX
bytes with a header that may lie, LeCun's four files, Nielsen's pickle."""
import gzip
import pickle
import struct
from pathlib import Path

import numpy as np

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
N_TRAIN, N_TEST, SIDE = 30, 12, 28

LABELS_MAGIC = 0x00000801
LECUN_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def fake_mnist(n_train=N_TRAIN, n_test=N_TEST, seed=0):
    """Random uint8 images (n, SIDE, SIDE) and labels 0–9: train then test."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n_train + n_test, SIDE, SIDE), dtype=np.uint8)
    images[0, 0, :2] = (0, 255)  # so both ends of [0, 1] are present
    labels = rng.integers(0, 10, size=n_train + n_test, dtype=np.uint8)
    return images[:n_train], labels[:n_train], images[n_train:], labels[n_train:]


def idx_bytes(array, magic=None, shape=None):
    """``array`` in IDX format; ``magic`` and ``shape`` override the header to make it lie."""
    shape = array.shape if shape is None else shape
    magic = (0x0800 + len(shape)) if magic is None else magic
    return struct.pack(f">I{len(shape)}I", magic, *shape) + array.tobytes()


def write(path, data, gz):
    path = Path(str(path) + ".gz") if gz else Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def write_idx_folder(folder, gz=True, arrays=None):
    """The four IDX files with LeCun's names in ``folder``; returns their paths."""
    arrays = fake_mnist() if arrays is None else arrays
    return [write(Path(folder) / name, idx_bytes(array), gz)
            for name, array in zip(LECUN_NAMES, arrays)]


def as_expected(images, labels):
    """What load_mnist should make of raw uint8 images and labels."""
    return images.reshape(len(images), -1).astype(np.float32) / 255, labels.astype(np.int64)


def write_book_pickle(path, sizes=(10, 4, 5), n_features=784):
    """A small ``mnist.pkl.gz`` shaped like Nielsen's: three (X float32, y int64) pairs."""
    rng = np.random.default_rng(1)
    data = tuple((rng.random((n, n_features), dtype=np.float32),
                  rng.integers(0, 10, n).astype(np.int64)) for n in sizes)
    path.write_bytes(gzip.compress(pickle.dumps(data, protocol=2)))
    return data
