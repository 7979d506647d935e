"""The ``fastnn`` command line: train, evaluate, predict, and its errors."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fastnn import FastNN, FastNNRegressor, load
from fastnn._plot import HINT
from fastnn.cli import main
from fastnn.datasets import load_digits

from .conftest import assert_png_not_blank

FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """`fastnn train --out DIR` on the digits, 3 epochs: the folder."""
    out = tmp_path_factory.mktemp("run")
    assert main(["train", "--epochs", "3", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def model_784(tmp_path_factory):
    """A FastNN trained on 300 random 28x28 images: (model file, model, 4 more images).

    The images are dark with a few bright pixels, as MNIST's, so that
    ``predict`` reads them as they are rather than inverting them.
    """
    rng = np.random.default_rng(0)
    images = np.round(255 * rng.random((304, 28, 28)) ** 4).astype(np.uint8)
    model = FastNN(hidden_layer_sizes=(10,), epochs=2, random_state=0).fit(
        images[:300].reshape(300, -1) / 255.0, rng.integers(0, 10, 300))
    path = tmp_path_factory.mktemp("model784") / "model.npz"
    model.save(path)
    return path, model, images[300:]


@pytest.fixture
def mnist_like(tmp_path):
    """A small MNIST-format .npz: 28x28 uint8 images, labels 0-9."""
    rng = np.random.default_rng(0)
    y_train, y_test = rng.integers(0, 10, 600), rng.integers(0, 10, 100)
    images = rng.integers(0, 256, (700, 28, 28)).astype(np.uint8)
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=images[:600], y_train=y_train, x_test=images[600:], y_test=y_test)
    return path


def test_fastnn_alone_trains_on_the_digits(capsys):
    assert main(["--epochs", "2"]) == 0
    out = capsys.readouterr().out
    assert "Training 64-30-10 on digits" in out
    assert "Epoch 1: " in out and " / 450, cost " in out
    assert "Test accuracy: 0." in out


def test_train_out_writes_a_model_that_loads(trained):
    X, y = load_digits()
    model = load(trained / "model.npz")
    assert isinstance(model, FastNN) and model.n_iter_ == 3
    assert model.score(X, y) > 0.8


def test_train_out_writes_metrics_with_history_params_and_timings(trained):
    metrics = json.loads((trained / "metrics.json").read_text())
    assert len(metrics["history"]["eval_accuracy"]) == 3
    assert metrics["params"]["epochs"] == 3 and metrics["params"]["hidden_layer_sizes"] == [30]
    assert metrics["timings"]["fit_seconds"] > 0
    assert 0.8 < metrics["test_accuracy"] <= 1


def test_train_out_draws_the_learning_curves(trained):
    pytest.importorskip("matplotlib")
    assert_png_not_blank(trained / "learning_curves.png")


def test_train_reads_mnist_format_data_with_the_book_split(mnist_like, capsys):
    assert main(["train", "--data", str(mnist_like), "--epochs", "1", "--hidden", "10"]) == 0
    out = capsys.readouterr().out
    # 600 training images: 500 to train on, the last 100 for validation.
    assert "Training 784-10-10" in out and "500 images" in out and " / 100, cost" in out


def test_train_and_evaluate_read_an_svmlight_file_as_sparse_data(tmp_path, capsys):
    import scipy.sparse as sp
    from sklearn.datasets import dump_svmlight_file

    # 400 samples, 5,000 features, 10 non-zeros each, in the first half of the
    # features for class 1 and in the second for class 0: learnable.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    cols = rng.integers(0, 2500, (400, 10)) + 2500 * (1 - y)[:, None]
    X = sp.csr_matrix((rng.random(4000), (np.repeat(np.arange(400), 10), cols.ravel())),
                      shape=(400, 5000))
    dump_svmlight_file(X, y, str(tmp_path / "toy.svmlight"))
    out = tmp_path / "run"
    assert main(["train", "--data", str(tmp_path / "toy.svmlight"), "--epochs", "30",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "-30-2 on " in printed and " features): 300 samples" in printed
    assert float(printed.split("Test accuracy: ")[1].split()[0]) > 0.7
    assert main(["evaluate", str(out / "model.npz"), "--data", str(tmp_path / "toy.svmlight")]) == 0
    assert "100 test samples: accuracy" in capsys.readouterr().out


def test_a_file_that_is_not_svmlight_is_one_error_line(tmp_path, capsys):
    (tmp_path / "bad.svm").write_text("1 3:x\n")
    assert main(["train", "--data", str(tmp_path / "bad.svm")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("fastnn: error: ") and "not an svmlight/libsvm file" in error


@pytest.mark.skipif(not FASHION.is_dir(), reason="Debian's dataset-fashion-mnist is not "
                                                 "installed (/usr/share/datasets/fashion-mnist)")
def test_train_learns_real_fashion_mnist(capsys):
    assert main(["train", "--data", str(FASHION), "--epochs", "1", "--n-train", "5000"]) == 0
    out = capsys.readouterr().out
    accuracy = float(out.split("Test accuracy: ")[1].split()[0])
    assert "5000 images" in out and accuracy > 0.6


def test_evaluate_prints_accuracy_and_the_confusion_matrix(trained, tmp_path, capsys):
    assert main(["evaluate", str(trained / "model.npz"), "--png", str(tmp_path / "m.png")]) == 0
    out = capsys.readouterr().out
    assert "450 test images: accuracy 0." in out
    rows = out.split("confusion matrix (rows: true, columns: predicted)\n")[1].splitlines()[1:11]
    matrix = np.array([[int(v) for v in row.split()[1:]] for row in rows])
    assert matrix.shape == (10, 10) and matrix.sum() == 450


def test_evaluate_draws_the_misclassified_digits(trained, tmp_path):
    pytest.importorskip("matplotlib")
    assert main(["evaluate", str(trained / "model.npz"), "--png", str(tmp_path / "m.png")]) == 0
    assert_png_not_blank(tmp_path / "m.png")


def test_evaluate_on_features_that_are_not_an_image_skips_only_the_png(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X, y = rng.random((300, 50)), rng.integers(0, 3, 300)
    np.savez(tmp_path / "rows.npz", x_train=X[:200], y_train=y[:200], x_test=X[200:],
             y_test=y[200:])
    FastNN(hidden_layer_sizes=(5,), epochs=1, random_state=0).fit(X[:200], y[:200]).save(
        tmp_path / "model.npz")
    png = tmp_path / "m.png"
    assert main(["evaluate", str(tmp_path / "model.npz"), "--data", str(tmp_path / "rows.npz"),
                 "--png", str(png)]) == 0
    captured = capsys.readouterr()
    assert "100 test images: accuracy 0." in captured.out and "confusion matrix" in captured.out
    assert captured.out.endswith(f"{png} skipped: 50 features are not a square image to draw\n")
    assert captured.err == "" and not png.exists()


def test_predict_classifies_each_row_of_a_npy(trained, tmp_path, capsys):
    X, y = load_digits()
    np.save(tmp_path / "x.npy", X[:5])
    assert main(["predict", str(trained / "model.npz"), str(tmp_path / "x.npy")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["0", "1", "2", "3", "4"]
    assert [int(line.split()[1]) for line in lines] == list(load(trained / "model.npz").predict(
        X[:5]))


def test_predict_reads_a_dark_digit_on_a_light_image(trained, tmp_path, capsys):
    plt = pytest.importorskip("matplotlib.pyplot")
    X, y = load_digits()
    model = load(trained / "model.npz")
    i = next(i for i in range(len(y)) if model.predict(X[i:i + 1])[0] == y[i])
    # A scanned page: dark ink on white, 4x the model's 8x8.
    page = 1.0 - np.kron(X[i].reshape(8, 8), np.ones((4, 4)))
    plt.imsave(tmp_path / "digit.png", page, cmap="gray", vmin=0, vmax=1)
    assert main(["predict", str(trained / "model.npz"), str(tmp_path / "digit.png")]) == 0
    assert capsys.readouterr().out.startswith(f"0: {y[i]} (p = ")


@pytest.mark.parametrize("argv, message", [
    (["evaluate", "missing.npz"], "missing.npz"),
    (["predict", "{model}", "missing.npy"], "missing.npy does not exist"),
    (["train", "--data", "/no/such/folder"], "/no/such/folder does not exist"),
    (["train", "--epochs", "1", "--out", "{text}"], "File exists"),
    (["train", "--epochs", "2", "--eta", "1e30", "--cost", "quadratic", "--activation", "relu"],
     "eta=1e+30 made the weights or the cost non-finite"),
    (["predict", "{model}", "{empty}"], "empty.npy is not a numeric .npy array"),
    (["predict", "{model}", "{nan}"], "nan.npy holds NaN or infinite values"),
    (["evaluate", "{model}", "--data", "{mnist}"], "the model takes 64 features (8x8 images)"),
    (["predict", "{model}", "{text}"], "not an image"),
    (["predict", "{model}", "{strings}"], "expected a non-empty numeric array"),
    (["evaluate", "{text}"], "not a whole fastnn model file"),
    (["evaluate", "{regressor}"], "holds a FastNNRegressor"),
])
def test_a_user_mistake_is_one_error_line_and_status_2(argv, message, trained, mnist_like,
                                                       tmp_path, capsys):
    pytest.importorskip("PIL")
    (tmp_path / "notes.txt").write_text("not a model, not an image")
    np.save(tmp_path / "strings.npy", np.array(["a", "b"]))
    (tmp_path / "empty.npy").write_bytes(b"")
    np.save(tmp_path / "nan.npy", np.full((1, 64), np.nan))
    X, y = load_digits()
    FastNNRegressor(epochs=1, random_state=0).fit(X, y / 9.0).save(tmp_path / "reg.npz")
    names = {"model": trained / "model.npz", "mnist": mnist_like, "text": tmp_path / "notes.txt",
             "strings": tmp_path / "strings.npy", "regressor": tmp_path / "reg.npz",
             "empty": tmp_path / "empty.npy", "nan": tmp_path / "nan.npy"}
    assert main([a.format(**names) for a in argv]) == 2
    captured = capsys.readouterr()
    error = captured.err.split("\r")[-1]  # after the progress bar, if training started
    assert error.startswith("fastnn: error: ") and error.count("\n") == 1
    assert message in error
    assert "Traceback" not in captured.err + captured.out


@pytest.mark.parametrize("flag, value, message", [
    ("--epochs", "many", "'many' is not a int"), ("--epochs", "0", "0 is not a finite number > 0"),
    ("--batch", "0", "> 0"), ("--hidden", "0", "> 0"), ("--threads", "-1", "> 0"),
    ("--n-train", "0", "> 0"), ("--eta", "nan", "> 0"), ("--eta", "-1", "> 0"),
    ("--lmbda", "-1", ">= 0"), ("--lmbda", "inf", ">= 0"),
])
def test_a_bad_flag_is_a_usage_error_naming_the_flag(flag, value, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", flag, value])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: " in err and message in err


def test_a_mistyped_command_is_named_as_such(capsys):
    with pytest.raises(SystemExit):
        main(["evalute", "model.npz"])
    assert "invalid choice: 'evalute'" in capsys.readouterr().err


def test_evaluate_scores_the_digits_the_model_was_not_trained_on(tmp_path, capsys):
    main(["train", "--epochs", "2", "--seed", "5", "--out", str(tmp_path)])
    trained = capsys.readouterr().out.split("Test accuracy: ")[1].split()[0]
    main(["evaluate", str(tmp_path / "model.npz"), "--png", str(tmp_path / "m.png")])
    assert f"accuracy {trained} " in capsys.readouterr().out


def test_predict_reads_one_image_and_uint8_pixels(trained, tmp_path, capsys):
    X, y = load_digits()
    model = load(trained / "model.npz")
    np.save(tmp_path / "image.npy", X[7].reshape(8, 8))
    np.save(tmp_path / "pixels.npy", np.round(X[:3] * 255).astype(np.uint8))
    assert main(["predict", str(trained / "model.npz"), str(tmp_path / "image.npy")]) == 0
    assert capsys.readouterr().out.startswith(f"0: {model.predict(X[7:8])[0]} (p = ")
    assert main(["predict", str(trained / "model.npz"), str(tmp_path / "pixels.npy")]) == 0
    labels = [int(line.split()[1]) for line in capsys.readouterr().out.splitlines()]
    assert labels == list(model.predict(np.round(X[:3] * 255) / 255))


def test_predict_warns_about_pixels_outside_0_1(trained, tmp_path, capsys):
    X, _ = load_digits()
    np.save(tmp_path / "raw.npy", X[:2] * 16.0)  # sklearn's raw 0-16 digits
    assert main(["predict", str(trained / "model.npz"), str(tmp_path / "raw.npy")]) == 0
    assert "values in [0, 16]" in capsys.readouterr().err


def test_predict_reads_a_28x28_png_for_a_784_feature_model(model_784, tmp_path, capsys):
    Image = pytest.importorskip("PIL.Image", reason="reading images needs Pillow")
    path, model, images = model_784
    Image.fromarray(images[0]).save(tmp_path / "item.png")
    assert main(["predict", str(path), str(tmp_path / "item.png")]) == 0
    p = model.predict_proba(images[:1].reshape(1, -1) / 255.0)[0]
    assert capsys.readouterr().out == f"0: {model.classes_[p.argmax()]} (p = {p.max():.3f})\n"


def test_predict_reads_an_n_by_28_by_28_npy_for_a_784_feature_model(model_784, tmp_path,
                                                                     capsys):
    path, model, images = model_784
    np.save(tmp_path / "items.npy", images)
    assert main(["predict", str(path), str(tmp_path / "items.npy")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [int(line.split()[1]) for line in lines] == list(model.predict(
        images.reshape(len(images), -1) / 255.0))


def run_without(module, argv):
    """``fastnn`` ARGV in a fresh Python where importing ``module`` fails."""
    code = (f"import sys; sys.modules[{module!r}] = None\n"  # makes `import {module}` fail
            "from fastnn.cli import main\n"
            f"raise SystemExit(main({[str(a) for a in argv]!r}))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600)


def test_without_matplotlib_evaluate_skips_the_png_with_one_line(trained, tmp_path):
    png = tmp_path / "m.png"
    result = run_without("matplotlib", ["evaluate", trained / "model.npz", "--png", png])
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(f"{png} skipped: {HINT}\n")
    assert "confusion matrix" in result.stdout and not png.exists()


def test_without_pillow_predict_on_an_image_says_how_to_get_it(trained, tmp_path):
    (tmp_path / "digit.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # never opened
    result = run_without("PIL", ["predict", trained / "model.npz", tmp_path / "digit.png"])
    assert result.returncode == 2
    assert result.stderr == ('fastnn: error: reading images needs Pillow: pip install '
                             '"fastnn[plot]" (it comes with matplotlib) or pip install pillow; '
                             'or pass a .npy.\n')


def test_without_matplotlib_train_says_how_to_get_the_plot(tmp_path):
    result = run_without("matplotlib", ["--epochs", "1", "--out", tmp_path])
    assert result.returncode == 0, result.stderr
    assert 'learning_curves.png skipped: plots need matplotlib: pip install "fastnn[plot]"' \
        in result.stdout
    assert (tmp_path / "model.npz").exists() and not (tmp_path / "learning_curves.png").exists()


def test_python_m_fastnn_is_the_same_command_line():
    result = subprocess.run([sys.executable, "-m", "fastnn", "--help"], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0
    for command in ("train", "evaluate", "predict", "book", "approx"):
        assert command in result.stdout
