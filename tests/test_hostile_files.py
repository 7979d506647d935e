"""Hostile files, round 2 (issue 16): each crafted file is refused with a clear
error naming it, or loads into a model that works; nothing reads without bound."""
import os
import subprocess
import sys

import numpy as np
import pytest

from fastnn import FastNN, FastNNRegressor, load

from .model_files import SMALL, assert_refused, read_raw, rewrite


@pytest.fixture
def saved(tmp_path, digits):
    """(path, arrays, metadata) of a saved digits classifier."""
    X, y = digits
    path = tmp_path / "model.npz"
    FastNN(**SMALL).fit(X[:300], y[:300]).save(path)
    return (path, *read_raw(path))


def test_a_huge_declared_array_list_is_refused_before_anything_is_built(saved):
    # 10**9 would have built 2·10**9 member names: ~23 GB.
    path, arrays, metadata = saved
    metadata["array_lists"]["coefs_"] = metadata["array_lists"]["intercepts_"] = 10 ** 9
    code = ("import resource, fastnn\n"
            "resource.setrlimit(resource.RLIMIT_AS, (2 * 1024 ** 3, 2 * 1024 ** 3))\n"
            f"try:\n    fastnn.load({str(rewrite(path, arrays, metadata))!r})\n"
            "except ValueError as exc:\n    print(exc)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-1000:]
    assert "no lists of coefs_ and intercepts_" in done.stdout


@pytest.mark.parametrize("classes,why", [
    (np.array([np.nan] * 10), "NaN"),
    (np.arange(10)[::-1].copy(), "sorted and unique"),
    (np.zeros(10, dtype=np.int64), "sorted and unique"),
])
def test_classes_that_fit_never_makes_are_refused(saved, classes, why):
    path, arrays, metadata = saved
    arrays["classes_"] = classes
    metadata["arrays"]["classes_"] = {"shape": [10], "dtype": classes.dtype.str}
    assert_refused(rewrite(path, arrays, metadata), why)


def test_a_loaded_model_writes_no_checkpoint_where_its_file_said(saved, digits, tmp_path):
    path, arrays, metadata = saved
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    metadata["params"].update(checkpoint_dir=str(elsewhere), n_threads=2)
    model = load(rewrite(path, arrays, metadata))
    assert model.checkpoint_dir is None and model.n_threads is None
    X, y = digits
    model.set_params(warm_start=True, epochs=1).fit(X[:300], y[:300])
    assert list(elsewhere.iterdir()) == []


def test_a_regressor_file_without_its_y_shape_flag_is_refused(tmp_path, digits):
    X, y = digits
    path = tmp_path / "regressor.npz"
    FastNNRegressor(epochs=1, random_state=0).fit(X[:100], y[:100] / 9.0).save(path)
    arrays, metadata = read_raw(path)
    del metadata["attributes"]["_y_1d"]
    assert_refused(rewrite(path, arrays, metadata), "_y_1d")


@pytest.mark.parametrize("n_iter,why", [("abc", "n_iter_"), (-3, "n_iter_"), (5, "history_")])
def test_an_epoch_count_that_is_not_the_historys_is_refused(saved, n_iter, why):
    path, arrays, metadata = saved
    metadata["attributes"]["n_iter_"] = n_iter
    assert_refused(rewrite(path, arrays, metadata), why)


def test_a_checkpoint_whose_schedule_lacks_its_best_epoch_is_refused(tmp_path, digits):
    X, y = digits
    folder = tmp_path / "run"
    FastNN(epochs=2, random_state=0, checkpoint_dir=str(folder), validation_fraction=0.2,
           n_iter_no_change=3).fit(X[:300], y[:300])
    path = folder / "checkpoint.npz"
    arrays, metadata = read_raw(path)
    del metadata["attributes"]["_checkpoint"]["schedule"]["best_epoch"]
    rewrite(path, arrays, metadata)
    with pytest.raises(ValueError, match="schedule state is damaged"):
        FastNN.resume(str(folder), X[:300], y[:300])


# -- files that are not files ----------------------------------------------------

@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_load_refuses_a_device_directly_or_through_a_symlink(tmp_path, device):
    if not os.path.exists(device):
        pytest.skip(f"{device} does not exist here")
    link = tmp_path / "model.npz"
    link.symlink_to(device)
    for path in (device, link):
        with pytest.raises(ValueError, match="not a regular file"):
            load(path)


def test_load_refuses_a_fifo_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file"):
        load(fifo)


def test_the_mnist_readers_refuse_a_fifo(tmp_path):
    from fastnn.datasets import load_mnist

    os.mkfifo(tmp_path / "mnist.pkl.gz")
    with pytest.raises(ValueError, match="not a regular file"):
        load_mnist(tmp_path / "mnist.pkl.gz")


def test_fastnn_predict_on_a_fifo_is_one_error_line(saved, tmp_path, capsys):
    from fastnn.cli import main

    path = saved[0]
    os.mkfifo(tmp_path / "rows.npy")
    assert main(["predict", str(path), str(tmp_path / "rows.npy")]) == 2
    assert "not a regular file" in capsys.readouterr().err


# -- the command line --------------------------------------------------------------

def test_a_negative_seed_is_a_usage_error_naming_the_flag(capsys):
    from fastnn.cli import main

    with pytest.raises(SystemExit) as info:
        main(["train", "--seed", "-1"])
    assert info.value.code == 2
    assert "argument --seed: -1 is not between 0 and 2**32 - 1" in capsys.readouterr().err


def test_a_npy_header_that_lies_about_its_size_is_reported_as_such(saved, tmp_path, capsys):
    from fastnn.cli import main

    rows = tmp_path / "rows.npy"
    with open(rows, "wb") as file:  # declares 10**9 rows (477 GiB), holds 2
        np.lib.format.write_array_header_1_0(
            file, {"descr": "<f8", "fortran_order": False, "shape": (10 ** 9, 64)})
        file.write(np.zeros((2, 64)).tobytes())
    assert main(["predict", str(saved[0]), str(rows)]) == 2
    err = capsys.readouterr().err
    assert "is not a numeric .npy array" in err and "memory" not in err


def test_a_png_decompression_bomb_is_one_error_line(saved, tmp_path, capsys):
    Image = pytest.importorskip("PIL.Image", reason="reading images needs Pillow")
    from fastnn.cli import main

    bomb = tmp_path / "bomb.png"
    Image.new("1", (20_000, 20_000)).save(bomb)
    assert main(["predict", str(saved[0]), str(bomb)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fastnn: error:") and "too large an image" in err
    assert "Traceback" not in err


# -- divergence advice ---------------------------------------------------------------

def test_a_divergence_caused_by_lmbda_names_lmbda(digits):
    X, y = digits
    with pytest.raises(FloatingPointError, match=r"lmbda=1e\+300 .* try lmbda <="):
        FastNN(lmbda=1e300, epochs=2, random_state=0).fit(X[:200], y[:200])


def test_a_divergence_caused_by_sample_weights_names_them(digits):
    X, y = digits
    weights = np.full(200, 1e308)
    with pytest.raises(FloatingPointError, match=r"sample_weight up to 1e\+308 .* rescale"):
        FastNN(epochs=2, random_state=0).fit(X[:200], y[:200], sample_weight=weights)


# -- decompression bombs in data files ----------------------------------------------

def test_a_gzipped_idx_declaring_a_gb_of_images_is_refused_at_its_header(tmp_path):
    import gzip
    import struct
    import tracemalloc

    from fastnn.datasets import load_mnist

    def idx(shape, data=b""):
        return struct.pack(">I", 0x800 + len(shape)) + struct.pack(f">{len(shape)}I", *shape) + data

    for part, n in (("train", 60), ("t10k", 10)):
        (tmp_path / f"{part}-labels-idx1-ubyte.gz").write_bytes(
            gzip.compress(idx((n,), bytes(n))))
        (tmp_path / f"{part}-images-idx3-ubyte.gz").write_bytes(
            gzip.compress(idx((n, 28, 28), bytes(n * 784))))
    # 1.3 million 28×28 images of zeros: ~1 GB inflated, ~1 MB on disk.
    with gzip.open(tmp_path / "train-images-idx3-ubyte.gz", "wb") as bomb:
        bomb.write(idx((1_300_000, 28, 28)))
        zeros = bytes(2 ** 24)
        for _ in range(1_300_000 * 784 // len(zeros)):
            bomb.write(zeros)
    assert (tmp_path / "train-images-idx3-ubyte.gz").stat().st_size < 2 * 2 ** 20
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="1300000 images but .* 60 labels"):
            load_mnist(tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2 ** 20


def test_a_deflated_npz_declaring_more_images_than_labels_is_refused_before_inflating(tmp_path):
    import tracemalloc

    from fastnn.datasets import load_mnist

    path = tmp_path / "mnist.npz"
    np.savez_compressed(path, x_train=np.zeros((200_000, 28, 28), np.uint8),
                        y_train=np.zeros(60, np.uint8), x_test=np.zeros((10, 28, 28), np.uint8),
                        y_test=np.zeros(10, np.uint8))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"x_train declares shape \(200000, 28, 28\)"):
            load_mnist(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2 ** 20  # the 157 MB member is never inflated
