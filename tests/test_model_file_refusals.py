"""fastnn.load refuses every hostile model file: each is a real saved model
rewritten with one thing wrong, refused with a ValueError naming the file and
what is wrong, before any array is allocated or unpickled."""
import pickle
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastnn import FastNN, load
from fastnn.persistence import _model_checks
from fastnn.persistence import _model_file as fio

from .model_files import assert_refused, read_raw, redeclare, rewrite


# -- hostile files -----------------------------------------------------------------

def test_a_newer_format_version_is_refused(model_file):
    path, _ = model_file
    arrays, metadata = read_raw(path)
    metadata["format_version"] = fio.FORMAT_VERSION + 1
    assert_refused(rewrite(path, arrays, metadata), "newer fastnn.*upgrade")


def test_another_format_name_is_refused(model_file):
    path, _ = model_file
    arrays, metadata = read_raw(path)
    metadata["format"] = "keras"
    assert_refused(rewrite(path, arrays, metadata), "does not say format")


def test_an_undeclared_extra_array_is_refused(model_file):
    path, _ = model_file
    arrays, metadata = read_raw(path)
    arrays["payload"] = np.zeros(3)
    assert_refused(rewrite(path, arrays, metadata), r"undeclared \['payload'\]")


def test_a_missing_array_is_refused(model_file):
    path, _ = model_file
    arrays, metadata = read_raw(path)
    del arrays["coefs_/1"]
    assert_refused(rewrite(path, arrays, metadata), r"missing \['coefs_/1'\]")


def test_an_array_of_another_shape_than_declared_is_refused(model_file):
    path, _ = model_file
    arrays, metadata = read_raw(path)
    arrays["coefs_/0"] = arrays["coefs_/0"][:-1]
    assert_refused(rewrite(path, arrays, metadata), "coefs_/0.*declares")


def test_an_array_of_another_dtype_than_declared_is_refused(model_file):
    path, _ = model_file
    arrays, metadata = read_raw(path)
    arrays["intercepts_/0"] = arrays["intercepts_/0"].astype(np.float32)
    assert_refused(rewrite(path, arrays, metadata), "intercepts_/0.*<f4.*declares <f8")


def test_a_nan_weight_is_refused(model_file):
    path, _ = model_file
    arrays, metadata = read_raw(path)
    arrays["coefs_/1"][0, 0] = np.nan
    assert_refused(rewrite(path, arrays, metadata), "layer 1 has non-finite")


def test_layers_that_do_not_fit_together_are_refused(model_file):
    path, _ = model_file
    arrays, metadata = read_raw(path)
    # A consistent declaration of a wrong network: 5 hidden neurons feed a
    # layer that expects 6.
    arrays["coefs_/1"] = np.zeros((6, 10))
    metadata["arrays"]["coefs_/1"]["shape"] = [6, 10]
    assert_refused(rewrite(path, arrays, metadata), r"layer 1 does not fit")


def test_classes_that_do_not_match_the_outputs_are_refused(model_file):
    path, _ = model_file
    arrays, metadata = read_raw(path)
    arrays["classes_"] = arrays["classes_"][:3]
    metadata["arrays"]["classes_"]["shape"] = [3]
    assert_refused(rewrite(path, arrays, metadata), "classes_ has shape")


def test_a_truncated_file_is_refused(model_file):
    path, _ = model_file
    content = path.read_bytes()
    path.write_bytes(content[:len(content) // 2])
    assert_refused(path, "truncated")


def test_a_corrupted_byte_is_refused(model_file):
    path, clf = model_file
    content = bytearray(path.read_bytes())
    # Flip a byte inside the raw float64 data of coefs_/0: only the CRC sees it.
    at = content.find(clf.coefs_[0].tobytes()[:16]) + 3
    content[at] ^= 0xFF
    path.write_bytes(bytes(content))
    assert_refused(path, "corrupt")


def test_a_file_that_is_not_a_zip_is_refused(tmp_path):
    path = tmp_path / "model.npz"
    path.write_text("this is not a model")
    assert_refused(path, "not a zip")


class _Exploit:
    """Unpickling this creates the file ``marker``: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_pickled_object_array_is_refused_without_unpickling(model_file):
    path, _ = model_file
    marker = path.parent / "code-was-executed"
    assert pickle.loads(pickle.dumps(_Exploit(marker)))  # the exploit works...
    marker.unlink()
    arrays, metadata = read_raw(path)
    arrays["classes_"] = np.array([_Exploit(marker)] * 10, dtype=object)
    assert_refused(rewrite(path, arrays, metadata), "Python objects")
    assert not marker.exists()  # ...but not through load


def test_an_absurd_declared_shape_is_refused_before_allocating(model_file):
    path, _ = model_file
    arrays, metadata = read_raw(path)
    metadata["arrays"]["coefs_/0"]["shape"] = [2 ** 20, 2 ** 20]
    assert_refused(rewrite(path, arrays, metadata), "more than 2147483648 bytes")


def test_an_npy_header_with_an_absurd_shape_is_refused_before_allocating(model_file):
    path, _ = model_file
    arrays, metadata = read_raw(path)
    with np.load(path) as npz:
        members = {name: npz.zip.read(name + ".npy") for name in npz.files}
    header = np.lib.format.header_data_from_array_1_0(arrays["coefs_/0"])
    header["shape"] = (2 ** 20, 2 ** 20)
    import io
    import zipfile

    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    members["coefs_/0"] = buffer.getvalue() + arrays["coefs_/0"].tobytes()
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name + ".npy", content)
    assert_refused(path, "coefs_/0.*declares")


def test_a_compressed_member_is_refused(model_file):
    path, _ = model_file
    arrays, metadata = read_raw(path)
    assert_refused(rewrite(path, arrays, metadata, compressed=True),
                   r"\.npy' is compressed \(zip method 8\)")


def test_a_member_declaring_another_size_than_it_stores_is_refused(model_file):
    path, clf = model_file
    stored = clf._velocity.nbytes + 128  # its .npy header: 128 bytes
    assert_refused(redeclare(path, "_velocity", stored, 2 * stored),
                   f"'_velocity.npy' declares {2 * stored} bytes but stores {stored}")


def test_a_member_declared_to_reach_past_the_end_of_the_file_is_refused(model_file):
    path, _ = model_file
    assert_refused(redeclare(path, "_velocity", 2 ** 28, 2 ** 28),
                   "more bytes than the file's")


def test_a_tiny_file_declaring_a_huge_array_is_refused_without_allocating_it(model_file):
    path, _ = model_file
    arrays, metadata = read_raw(path)
    n = 2 ** 22  # 32 MiB of zeros, a few KB deflated
    arrays["_velocity"] = np.zeros(n)
    metadata["arrays"]["_velocity"]["shape"] = [n]
    rewrite(path, arrays, metadata, compressed=True)
    size = path.stat().st_size
    tracemalloc.start()
    try:
        with pytest.raises(ValueError):
            load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert size < 2 ** 17 and peak < 4 * size, (size, peak)


def test_a_velocity_declared_of_another_shape_than_the_layers_imply_is_refused_unread(
        model_file, monkeypatch):
    path, clf = model_file
    arrays, metadata = read_raw(path)
    n_params = clf._velocity.size
    arrays["_velocity"] = np.zeros(n_params + 1)
    metadata["arrays"]["_velocity"]["shape"] = [n_params + 1]
    rewrite(path, arrays, metadata)
    reads, read_array = [], np.lib.format.read_array
    monkeypatch.setattr(np.lib.format, "read_array",
                        lambda file, **kw: reads.append(1) or read_array(file, **kw))
    assert_refused(path, rf"_velocity has shape \({n_params + 1},\); the layers .* imply "
                         rf"\({n_params},\)")
    assert len(reads) == 1, "only the metadata was read"


def test_an_array_fastnn_does_not_save_is_refused(model_file):
    path, _ = model_file
    arrays, metadata = read_raw(path)
    arrays["payload_"] = np.zeros(3)
    metadata["arrays"]["payload_"] = {"shape": [3], "dtype": "<f8"}
    assert_refused(rewrite(path, arrays, metadata), "'payload_' is not one fastnn saves")


def test_an_alias_that_would_replace_the_weights_is_refused(model_file):
    path, _ = model_file
    arrays, metadata = read_raw(path)
    metadata["aliases"]["coefs_"] = ["history_", "train_cost"]
    assert_refused(rewrite(path, arrays, metadata), "alias 'coefs_' would replace")


def test_an_infinite_weight_is_refused(model_file):
    path, _ = model_file
    arrays, metadata = read_raw(path)
    arrays["coefs_/0"][3, 2] = -np.inf
    assert_refused(rewrite(path, arrays, metadata), "layer 0 has non-finite")


def test_an_infinite_velocity_is_refused(model_file):
    path, _ = model_file
    arrays, metadata = read_raw(path)
    arrays["_velocity"][0] = np.inf
    assert_refused(rewrite(path, arrays, metadata), "_velocity holds non-finite numbers")


@pytest.mark.parametrize("version", [0, -1, 1.0, 1.5, "1", True, None])
def test_a_format_version_that_is_not_a_positive_integer_is_refused(model_file, version):
    path, _ = model_file
    arrays, metadata = read_raw(path)
    metadata["format_version"] = version
    assert_refused(rewrite(path, arrays, metadata), "format_version .* is not a positive integer")


def test_a_member_whose_zip_entry_declares_too_many_bytes_is_refused(model_file, monkeypatch):
    # Writing a real 2 GiB member would take the test's time and disk; a
    # lower limit exercises the same check on the zip directory.
    monkeypatch.setattr(_model_checks, "MAX_MEMBER_BYTES", 100)
    assert_refused(model_file[0], "declares .* bytes")


def test_an_unknown_class_name_is_refused(model_file):
    path, _ = model_file
    arrays, metadata = read_raw(path)
    metadata["class"] = "os.system"
    assert_refused(rewrite(path, arrays, metadata), "'os.system', which is not a class")


def test_metadata_without_its_array_table_is_refused(model_file):
    path, _ = model_file
    arrays, metadata = read_raw(path)
    del metadata["arrays"]
    assert_refused(rewrite(path, arrays, metadata), "no 'arrays'")


def test_an_invalid_parameter_is_refused(model_file):
    path, _ = model_file
    arrays, metadata = read_raw(path)
    metadata["params"]["activation"] = "__import__('os')"
    assert_refused(rewrite(path, arrays, metadata), "parameters are not valid")


def test_a_private_attribute_fastnn_does_not_save_is_refused(model_file):
    path, _ = model_file
    arrays, metadata = read_raw(path)
    metadata["attributes"]["__class__"] = "x"
    assert_refused(rewrite(path, arrays, metadata), "'__class__' is not a fitted attribute")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_damaged_byte_or_truncation_gives_a_value_error_or_a_model(model_file, data):
    path, _ = model_file
    content = bytearray(path.read_bytes())
    damaged = path.parent / "damaged.npz"
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(content) - 1))
        content[at] = data.draw(st.integers(0, 255))
    end = data.draw(st.one_of(st.just(len(content)), st.integers(0, len(content))))
    damaged.write_bytes(bytes(content[:end]))
    try:
        loaded = load(damaged)
    except ValueError as exc:
        assert str(damaged) in str(exc)
    else:
        assert isinstance(loaded, FastNN)
