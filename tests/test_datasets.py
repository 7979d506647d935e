"""Tests for ``fastnn.datasets``: every layout ``load_mnist`` reads, on tiny files
made here, every way a file can be damaged, and ``fetch_mnist`` offline."""
import gzip
import os
import pickle
import socket

import numpy as np
import pytest

from fastnn.datasets import MNIST, fetch_mnist, load_digits, load_mnist

from .mnist_files import (
    FASHION_MNIST,
    N_TEST,
    N_TRAIN,
    SIDE,
    as_expected,
    fake_mnist,
    write_book_pickle,
    write_idx_folder,
)


# --- IDX folders --------------------------------------------------------------

@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "raw"])
def test_idx_folder_loads_images_as_float32_rows_in_the_unit_interval(tmp_path, gz):
    write_idx_folder(tmp_path, gz=gz)
    data = load_mnist(tmp_path)
    assert isinstance(data, MNIST)
    for X in (data.X_train, data.X_val, data.X_test):
        assert X.dtype == np.float32 and X.shape[1] == SIDE * SIDE
    all_pixels = np.concatenate([data.X_train, data.X_val, data.X_test])
    assert all_pixels.min() == 0.0 and all_pixels.max() == 1.0


@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "raw"])
def test_idx_folder_keeps_every_pixel_and_label(tmp_path, gz):
    train_images, train_labels, test_images, test_labels = fake_mnist()
    write_idx_folder(tmp_path, gz=gz)
    data = load_mnist(tmp_path, split="full")
    X_train, y_train = as_expected(train_images, train_labels)
    X_test, y_test = as_expected(test_images, test_labels)
    np.testing.assert_array_equal(data.X_train, X_train)
    np.testing.assert_array_equal(data.y_train, y_train)
    np.testing.assert_array_equal(data.X_test, X_test)
    np.testing.assert_array_equal(data.y_test, y_test)
    assert data.y_train.dtype == data.y_test.dtype == np.int64


def test_book_split_holds_out_the_last_sixth_of_the_training_images(tmp_path):
    train_images, train_labels, _, _ = fake_mnist()
    write_idx_folder(tmp_path)
    data = load_mnist(tmp_path, split="book")
    X, y = as_expected(train_images, train_labels)
    # 30 training images: round(30 / 6) = 5 kept for validation, the last 5.
    np.testing.assert_array_equal(data.X_train, X[:25])
    np.testing.assert_array_equal(data.y_train, y[:25])
    np.testing.assert_array_equal(data.X_val, X[25:])
    np.testing.assert_array_equal(data.y_val, y[25:])
    assert len(data.X_test) == N_TEST


def test_book_split_rounds_the_validation_sixth_half_up(tmp_path):
    write_idx_folder(tmp_path, arrays=fake_mnist(n_train=9))
    # 9 / 6 = 1.5 rounds to 2.
    assert len(load_mnist(tmp_path).X_val) == 2


def test_full_split_trains_on_every_image_and_leaves_validation_empty(tmp_path):
    write_idx_folder(tmp_path)
    data = load_mnist(tmp_path, split="full")
    assert data.X_train.shape == (N_TRAIN, SIDE * SIDE)
    assert data.X_val.shape == (0, SIDE * SIDE) and data.X_val.dtype == np.float32
    assert data.y_val.shape == (0,) and data.y_val.dtype == np.int64


def test_idx_files_are_found_two_folders_down(tmp_path):
    write_idx_folder(tmp_path / "MNIST" / "raw")  # torchvision's layout
    assert load_mnist(tmp_path).X_train.shape == (25, SIDE * SIDE)


def test_raw_and_gzipped_copies_in_one_folder_count_as_one_set(tmp_path):
    write_idx_folder(tmp_path, gz=True)
    write_idx_folder(tmp_path, gz=False)  # torchvision keeps both
    assert len(load_mnist(tmp_path, split="full").X_train) == N_TRAIN


def test_dotted_idx_names_are_recognised(tmp_path):
    for path in write_idx_folder(tmp_path, gz=False):
        path.rename(path.with_name(path.name.replace("-idx", ".idx")))
    assert len(load_mnist(tmp_path, split="full").X_train) == N_TRAIN


def test_two_idx_sets_under_one_folder_must_be_chosen_between(tmp_path):
    write_idx_folder(tmp_path / "MNIST" / "raw")
    write_idx_folder(tmp_path / "FashionMNIST" / "raw")
    with pytest.raises(ValueError, match="more than one set"):
        load_mnist(tmp_path)


def test_unknown_split_is_refused(tmp_path):
    write_idx_folder(tmp_path)
    with pytest.raises(ValueError, match="split='train'"):
        load_mnist(tmp_path, split="train")


# --- Nielsen's pickle -----------------------------------------------------------

def test_book_pickle_keeps_its_own_three_way_split(tmp_path):
    path = tmp_path / "mnist.pkl.gz"
    written = write_book_pickle(path)
    data = load_mnist(path)
    for (X, y), X_read, y_read in zip(written, data[0::2], data[1::2]):
        np.testing.assert_array_equal(X_read, X)
        np.testing.assert_array_equal(y_read, y)
        assert X_read.dtype == np.float32 and y_read.dtype == np.int64


def test_book_pickle_is_found_in_its_folder(tmp_path):
    write_book_pickle(tmp_path / "mnist.pkl.gz")
    assert load_mnist(tmp_path).X_train.shape == (10, 784)


def test_book_pickle_full_split_joins_training_and_validation(tmp_path):
    path = tmp_path / "mnist.pkl.gz"
    (X_train, y_train), (X_val, y_val), _ = write_book_pickle(path)
    data = load_mnist(path, split="full")
    np.testing.assert_array_equal(data.X_train, np.concatenate([X_train, X_val]))
    np.testing.assert_array_equal(data.y_train, np.concatenate([y_train, y_val]))
    assert data.X_val.shape == (0, 784)


def test_pickle_naming_numpy_1s_module_loads(tmp_path):
    # Nielsen's file was written by NumPy 1, whose arrays name numpy.core.
    path = tmp_path / "mnist.pkl.gz"
    written = write_book_pickle(path)
    new = gzip.decompress(path.read_bytes())
    old = new.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    assert b"numpy.core.multiarray" in old
    path.write_bytes(gzip.compress(old))
    np.testing.assert_array_equal(load_mnist(path).X_test, written[2][0])


class _RunsCode:
    """Unpickling this calls ``os.system``: what a malicious download would do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_malicious_pickle_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(pickle.dumps(_RunsCode(marker), protocol=2)))
    with pytest.raises(ValueError, match=r"mnist\.pkl\.gz.*refusing to unpickle .*system"):
        load_mnist(path)
    assert not marker.exists()


def test_garbage_pickle_is_a_value_error_naming_the_file(tmp_path):
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(b"\x80\x02not a pickle at all"))
    with pytest.raises(ValueError, match=r"mnist\.pkl\.gz.*not a pickle"):
        load_mnist(path)


def test_pickle_of_the_wrong_shape_is_refused(tmp_path):
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(pickle.dumps((np.zeros(3), np.zeros(3)), protocol=2)))
    with pytest.raises(ValueError, match=r"mnist\.pkl\.gz.*\(training, validation, test\)"):
        load_mnist(path)


# --- Keras's npz -----------------------------------------------------------------

@pytest.mark.parametrize("x", ["x", "X"])
def test_npz_archive_loads_with_either_case_of_x(tmp_path, x):
    train_images, train_labels, test_images, test_labels = fake_mnist()
    path = tmp_path / "mnist.npz"
    np.savez(path, **{f"{x}_train": train_images, "y_train": train_labels,
                      f"{x}_test": test_images, "y_test": test_labels})
    data = load_mnist(path, split="full")
    np.testing.assert_array_equal(data.X_train, as_expected(train_images, train_labels)[0])
    np.testing.assert_array_equal(data.y_test, test_labels.astype(np.int64))
    assert data.X_test.dtype == np.float32 and data.y_train.dtype == np.int64


def test_npz_archive_gets_the_book_split(tmp_path):
    train_images, train_labels, test_images, test_labels = fake_mnist()
    np.savez(tmp_path / "mnist.npz", x_train=train_images, y_train=train_labels,
             x_test=test_images, y_test=test_labels)
    data = load_mnist(tmp_path)
    assert (len(data.X_train), len(data.X_val), len(data.X_test)) == (25, 5, N_TEST)


def test_npz_with_object_arrays_is_refused(tmp_path):
    path = tmp_path / "mnist.npz"
    objects = np.array([{"a": 1}], dtype=object)
    np.savez(path, x_train=objects, y_train=objects, x_test=objects, y_test=objects)
    with pytest.raises(ValueError, match=r"mnist\.npz"):
        load_mnist(path)


def test_npz_without_the_four_arrays_names_what_is_missing(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=np.zeros((2, 4), np.uint8), y_train=np.zeros(2, np.uint8))
    with pytest.raises(ValueError, match=r"mnist\.npz.*x_test, y_test"):
        load_mnist(path)


# --- paths and layouts ------------------------------------------------------------------

def test_missing_path_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_mnist(tmp_path / "nowhere")


def test_incomplete_idx_set_names_the_missing_file(tmp_path):
    paths = write_idx_folder(tmp_path)
    paths[3].unlink()
    with pytest.raises(FileNotFoundError, match=r"not t10k-labels-idx1-ubyte\[\.gz\]"):
        load_mnist(tmp_path)


def test_folder_with_no_mnist_layout_is_a_value_error(tmp_path):
    (tmp_path / "notes.txt").write_text("no digits here")
    with pytest.raises(ValueError, match="no MNIST layout recognised"):
        load_mnist(tmp_path)


def test_file_of_an_unknown_kind_is_a_value_error_naming_it(tmp_path):
    path = tmp_path / "digits.csv"
    path.write_text("0,1,2")
    with pytest.raises(ValueError, match=r"digits\.csv: not a recognised MNIST file"):
        load_mnist(path)


# --- the real thing, where Debian's package put it ------------------------------------

@pytest.mark.skipif(not FASHION_MNIST.is_dir(),
                    reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
def test_debians_fashion_mnist_loads_in_the_books_split():
    data = load_mnist(FASHION_MNIST)
    assert [X.shape for X in data[0::2]] == [(50_000, 784), (10_000, 784), (10_000, 784)]
    assert [y.shape for y in data[1::2]] == [(50_000,), (10_000,), (10_000,)]
    assert data.X_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert 0.0 == data.X_train.min() and data.X_train.max() == 1.0
    assert set(np.unique(data.y_test)) == set(range(10))


# --- fetch_mnist ----------------------------------------------------------------------

def offline(test):
    """Expect sklearn's warnings on each retry and on the cache it clears."""
    test = pytest.mark.filterwarnings("ignore:A network error occurred:UserWarning")(test)
    return pytest.mark.filterwarnings("ignore:Invalid cache:RuntimeWarning")(test)


def _no_dns(*args, **kwargs):
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


@offline
def test_fetch_mnist_offline_raises_a_connection_error_naming_local_files(tmp_path, monkeypatch):
    # Cut name resolution, so the test is offline even on a machine with a network.
    lookups = []

    def count_and_fail(host, *args, **kwargs):
        lookups.append(host)
        return _no_dns()

    monkeypatch.setattr(socket, "getaddrinfo", count_and_fail)
    with pytest.raises(ConnectionError, match=r"load_mnist.*dataset-fashion-mnist"):
        fetch_mnist(data_home=tmp_path, n_retries=1, delay=0.01, timeout=2.0)
    # It gave up as told, after the first try and its one retry, not sklearn's default 3.
    assert len(lookups) == 2


@offline
def test_fetch_mnist_restores_the_socket_timeout(tmp_path, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", _no_dns)
    before = socket.getdefaulttimeout()
    with pytest.raises(ConnectionError):
        fetch_mnist(data_home=tmp_path, n_retries=1, delay=0.01, timeout=2.0)
    assert socket.getdefaulttimeout() == before


def test_fetch_mnist_splits_openmls_rows_like_the_book(monkeypatch):
    # OpenML's mnist_784: 70,000 rows of pixels 0–255 and string labels.
    pixels = np.tile(np.array([0.0, 255.0]), (70_000, 1))
    labels = np.array([str(i % 10) for i in range(70_000)], dtype=object)
    fake = lambda *args, **kwargs: type("Bunch", (), {"data": pixels, "target": labels})
    monkeypatch.setattr("sklearn.datasets.fetch_openml", fake)
    data = fetch_mnist()
    assert [len(X) for X in data[0::2]] == [50_000, 10_000, 10_000]
    assert data.X_train.dtype == np.float32 and data.X_train.max() == 1.0
    np.testing.assert_array_equal(data.y_test[:3], [0, 1, 2])  # row 60,000 is a 0
    assert data.y_test.dtype == np.int64


# --- sklearn's digits -----------------------------------------------------------------

def test_load_digits_scales_pixels_to_the_unit_interval():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0
    assert y.dtype == np.int64 and set(np.unique(y)) == set(range(10))
