"""Data sets: MNIST (and Fashion-MNIST) and sklearn's digits for the book's
experiments; svmlight/libsvm files and the SpamAssassin corpus for sparse input.

``_loaders`` holds the public functions; ``_mnist_files`` reads MNIST-format
files that nobody vouched for (IDX, Nielsen's pickle, Keras's ``.npz``).

Owns reading data: every file is untrusted, and each loader returns plain
arrays (images as float32 in [0, 1], labels as int64) or a CSR matrix.

May not import ``fastnn.estimators``, ``fastnn.persistence``, ``fastnn.book``,
``fastnn.approx``, ``fastnn.plots`` or ``fastnn.cli``: data is read before
any model exists.
"""
from ._loaders import (
    MNIST,
    SPAM_ASSASSIN_PACKAGE,
    SPLITS,
    SVMLIGHT_SUFFIXES,
    fetch_mnist,
    load_digits,
    load_mnist,
    load_spam_assassin,
    load_svmlight,
    spam_assassin_home,
)

__all__ = ["MNIST", "SPAM_ASSASSIN_PACKAGE", "SPLITS", "SVMLIGHT_SUFFIXES", "fetch_mnist",
           "load_digits", "load_mnist", "load_spam_assassin", "load_svmlight",
           "spam_assassin_home"]
