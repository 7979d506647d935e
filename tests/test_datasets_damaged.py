"""``load_mnist`` refuses every damaged IDX file with a ValueError (or
FileNotFoundError) naming the file, before allocating what a lying header
declares."""
import struct
import tracemalloc

import pytest

from fastnn.datasets import load_mnist

from .mnist_files import (
    LABELS_MAGIC,
    LECUN_NAMES,
    SIDE,
    fake_mnist,
    idx_bytes,
    write,
    write_idx_folder,
)


# --- damaged IDX files --------------------------------------------------------------

def test_wrong_magic_number_is_a_value_error_naming_the_file(tmp_path):
    paths = write_idx_folder(tmp_path, gz=False)
    train_images = fake_mnist()[0]
    paths[0].write_bytes(idx_bytes(train_images, magic=0x00000903))
    with pytest.raises(ValueError, match=r"idx3-ubyte: magic number 0x00000903 is not 0x00000803"):
        load_mnist(tmp_path)


def test_labels_file_in_place_of_images_fails_on_its_magic_number(tmp_path):
    paths = write_idx_folder(tmp_path, gz=False)
    paths[0].write_bytes(paths[1].read_bytes())
    with pytest.raises(ValueError, match="magic number 0x00000801"):
        load_mnist(tmp_path)


@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "raw"])
def test_truncated_idx_file_is_a_value_error_naming_the_file(tmp_path, gz):
    paths = write_idx_folder(tmp_path, gz=gz)
    t10k_images = idx_bytes(fake_mnist()[2])
    write(tmp_path / LECUN_NAMES[2], t10k_images[:-100], gz)
    assert paths[2].exists()
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte.*holds 9308; it is truncated"):
        load_mnist(tmp_path)


def test_idx_file_cut_inside_its_header_is_a_value_error(tmp_path):
    write_idx_folder(tmp_path, gz=False)
    (tmp_path / LECUN_NAMES[1]).write_bytes(struct.pack(">I", LABELS_MAGIC) + b"\x00\x00")
    with pytest.raises(ValueError, match=r"labels-idx1-ubyte: truncated, the 8-byte IDX header"):
        load_mnist(tmp_path)


def test_idx_file_with_bytes_past_its_declared_size_is_refused(tmp_path):
    paths = write_idx_folder(tmp_path, gz=True)
    write(tmp_path / LECUN_NAMES[3], idx_bytes(fake_mnist()[3]) + b"\x00", gz=True)
    assert paths[3].exists()
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte.*holds more than 12"):
        load_mnist(tmp_path)


def test_truncated_gzip_stream_is_a_value_error_naming_the_file(tmp_path):
    paths = write_idx_folder(tmp_path, gz=True)
    paths[0].write_bytes(paths[0].read_bytes()[:200])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz: damaged"):
        load_mnist(tmp_path)


def test_image_and_label_counts_must_match(tmp_path):
    train_images, train_labels, test_images, test_labels = fake_mnist()
    write_idx_folder(tmp_path, arrays=(train_images, train_labels[:-1], test_images, test_labels))
    with pytest.raises(ValueError, match=r"idx3-ubyte\.gz holds 30 images but .*holds 29 labels"):
        load_mnist(tmp_path)


@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "raw"])
def test_absurd_declared_size_fails_without_allocating_it(tmp_path, gz):
    write_idx_folder(tmp_path, gz=gz)
    # 4 × 10^9 images of 28 × 28: 3 TB declared, a few kB present.
    liar = idx_bytes(fake_mnist()[0], shape=(4_000_000_000, SIDE, SIDE))
    write(tmp_path / LECUN_NAMES[0], liar, gz)
    tracemalloc.start()
    try:
        # Refused at its header: the labels say 30 images.
        with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.*4000000000 images but "
                                             r".*holds 30 labels"):
            load_mnist(tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20  # one read chunk, not terabytes
