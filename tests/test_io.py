"""fastnn.persistence._model_file: model files round-trip exactly; saving refuses what it cannot
store and never leaves a half-written file (hostile files:
test_model_file_refusals.py)."""
import os

import numpy as np
import pytest

import fastnn
from fastnn import FastNN, load
from fastnn.estimators._load import CLASSES
from fastnn.persistence import _model_checks, atomic_write
from fastnn.persistence import _model_file as fio

from .model_files import SMALL, same_predictions


# -- round trips ---------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_loaded_model_predicts_bitwise_identically(tmp_path, io_data, dtype):
    X, y = io_data
    clf = FastNN(**SMALL).fit(X.astype(dtype), y)
    fio.save(clf, tmp_path / "m.npz")
    loaded = load(tmp_path / "m.npz")
    assert loaded.coefs_[0].dtype == dtype
    assert same_predictions(clf, loaded, X.astype(dtype))


@pytest.mark.parametrize("labels", [np.array(["zero", "one", "two"]),
                                    np.array(["zero", "one", "two"], dtype=object),
                                    np.array([-1, 7, 30])])
def test_labels_come_back_with_their_type(tmp_path, io_data, labels):
    X, y = io_data
    clf = FastNN(**SMALL).fit(X, labels[y % 3])
    fio.save(clf, tmp_path / "m.npz")
    loaded = load(tmp_path / "m.npz")
    assert loaded.classes_.dtype == clf.classes_.dtype
    assert same_predictions(clf, loaded, X)


def test_parameters_and_history_come_back_equal(model_file):
    path, clf = model_file
    loaded = load(path)
    assert loaded.get_params() == clf.get_params()
    assert loaded.history_ == clf.history_
    assert loaded.n_iter_ == clf.n_iter_


def test_loss_curve_stays_the_same_list_as_the_train_cost_history(model_file):
    loaded = load(model_file[0])
    assert loaded.loss_curve_ is loaded.history_["train_cost"]


def test_a_dict_class_weight_with_int_keys_comes_back(tmp_path, io_data):
    X, y = io_data
    clf = FastNN(class_weight={k: 1.0 + k for k in range(10)}, **SMALL).fit(X, y)
    fio.save(clf, tmp_path / "m.npz")
    assert load(tmp_path / "m.npz").class_weight == clf.class_weight


def test_a_randomstate_random_state_is_stored_as_none(tmp_path, io_data):
    X, y = io_data
    clf = FastNN(hidden_layer_sizes=(5,), epochs=1,
                 random_state=np.random.RandomState(0)).fit(X, y)
    fio.save(clf, tmp_path / "m.npz")
    assert load(tmp_path / "m.npz").random_state is None


def test_warm_start_after_load_continues_exactly_like_the_original(model_file, io_data):
    path, clf = model_file
    X, y = io_data
    loaded = load(path)
    for estimator in (clf, loaded):
        estimator.set_params(warm_start=True, momentum=0.5).fit(X, y)
    for a, b in zip(clf.coefs_ + clf.intercepts_, loaded.coefs_ + loaded.intercepts_):
        assert np.array_equal(a, b)
    assert np.array_equal(clf._velocity, loaded._velocity)


def test_the_regressor_round_trips(tmp_path, io_data):
    X, _ = io_data
    reg = fastnn.FastNNRegressor(**SMALL).fit(X, X[:, :2])
    fio.save(reg, tmp_path / "r.npz")
    loaded = load(tmp_path / "r.npz")
    assert type(loaded) is fastnn.FastNNRegressor
    assert np.array_equal(reg.predict(X), loaded.predict(X))


def test_the_file_holds_no_pickle(model_file):
    path, _ = model_file
    with np.load(path, allow_pickle=False) as npz:
        assert all(npz[name].dtype != object for name in npz.files)


# -- saving ----------------------------------------------------------------------

def test_an_unfitted_estimator_is_not_saved(tmp_path):
    with pytest.raises(ValueError, match="not fitted"):
        fio.save(FastNN(), tmp_path / "m.npz")
    assert not os.listdir(tmp_path)


def test_a_subclass_is_not_saved_since_it_would_load_as_fastnn(tmp_path, io_data):
    class Mine(FastNN):
        pass

    with pytest.raises(ValueError, match="saves FastNN or FastNNRegressor estimators, not Mine"):
        fio.save(Mine(**SMALL).fit(*io_data), tmp_path / "m.npz")


def test_load_rebuilds_every_class_a_model_file_may_name():
    assert set(CLASSES) == set(_model_checks.CLASSES)


def test_an_object_array_of_non_strings_is_refused_on_save(tmp_path, io_data):
    X, y = io_data
    clf = FastNN(**SMALL).fit(X, y)
    clf.classes_ = clf.classes_.astype(object)
    with pytest.raises(ValueError, match="classes_.*pickling"):
        fio.save(clf, tmp_path / "m.npz")


def test_a_failed_save_leaves_the_old_file_and_no_temporary_file(model_file):
    path, clf = model_file
    before = path.read_bytes()
    clf.history_["train_cost"].append(object())
    with pytest.raises(ValueError, match="history_"):
        fio.save(clf, path)
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == [path.name]


def test_atomic_write_removes_its_temporary_file_when_writing_fails(tmp_path):
    def fail(file):
        file.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(tmp_path / "out", fail)
    assert not os.listdir(tmp_path)


def test_atomic_write_replaces_the_whole_file(tmp_path):
    (tmp_path / "out").write_bytes(b"old content, longer")
    atomic_write(tmp_path / "out", lambda file: file.write(b"new"))
    assert (tmp_path / "out").read_bytes() == b"new"
