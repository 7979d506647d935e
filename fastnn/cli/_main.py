"""The ``fastnn`` command line (also ``python -m fastnn``).

``fastnn`` alone trains the book's network on sklearn's 8×8 digits, the data
that ships with scikit-learn; ``fastnn train --data PATH`` trains on MNIST-format
data or an svmlight/libsvm file (sparse); ``evaluate``, ``predict``, ``book``
and ``approx`` do what they say;
``compile`` fills numba's cache ahead of the first fit.
A user's mistake (a missing file, a model that does not fit the data) is one
``fastnn: error: ...`` line and exit status 2, never a traceback.
"""
import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from .._files import regular_file
from .._plot import HINT, PlotUnavailable, image_side
from .._version import __version__
from ..datasets import SVMLIGHT_SUFFIXES, load_digits, load_mnist, load_svmlight
from ..estimators import FastNN, load
from ..persistence import atomic_write
from . import _approx_command, _book_command, _compile

COMMANDS = ("train", "evaluate", "predict", "book", "approx", "compile")
# A user's mistake or the machine's refusal (a full disk, a file where a folder
# should be, an eta that diverges): one line, not a traceback.
USER_ERRORS = (ValueError, OSError, PlotUnavailable, FloatingPointError, MemoryError)


def main(argv=None):
    """Run the ``fastnn`` command: ``fastnn`` alone trains on the digits.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0; 1 if the reader of stdout left; 2 for a user's
        mistake (one ``fastnn: error:`` line on stderr); 130 after Ctrl-C.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        argv.insert(0, "train")  # `fastnn` and `fastnn --epochs 5` train on the digits
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:
        # The reader left (`fastnn evaluate ... | head`); as the Python docs
        # advise, point stdout at devnull so the exit flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except USER_ERRORS as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, MemoryError):
            message = "not enough memory for a network this size (MemoryError)"
        print(f"fastnn: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fastnn: interrupted", file=sys.stderr)
        return 130


def parser():
    top = argparse.ArgumentParser(
        prog="fastnn", description="Train and use the networks of Nielsen's 'Neural Networks "
                                   "and Deep Learning' (ch. 1-4), fast.")
    top.add_argument("--version", action="version", version=f"fastnn {__version__}")
    commands = top.add_subparsers(title="commands", metavar="COMMAND", required=True)
    train = commands.add_parser("train", help="train a network (default: on the 8x8 digits)")
    _train_arguments(train)
    train.set_defaults(run=run_train)
    evaluate = commands.add_parser("evaluate", help="accuracy, confusion matrix, mistakes")
    evaluate.add_argument("model", help="a model file written by `fastnn train --out`")
    _data_argument(evaluate)
    evaluate.add_argument("--png", default="misclassified.png",
                          help="where to draw the misclassified images (default: %(default)s)")
    evaluate.add_argument("--seed", type=_seed, default=None,
                          help="the digits' split seed (default: the model's random_state, "
                               "which `fastnn train --seed` also uses for the split)")
    evaluate.set_defaults(run=run_evaluate)
    predict = commands.add_parser("predict", help="classify a .npy array or an image")
    predict.add_argument("model", help="a model file written by `fastnn train --out`")
    predict.add_argument("input", help=".npy array (one sample per row, or images) or a "
                                       "grayscale image (PNG, JPEG, ...)")
    predict.set_defaults(run=run_predict)
    for name, module, text in (("book", _book_command, "rerun the book's experiments"),
                               ("approx", _approx_command,
                                "ch. 4: a network can compute any function"),
                               ("compile", _compile, "compile the kernels into numba's cache "
                                                     "ahead of time (Docker images, clusters)")):
        sub = commands.add_parser(name, help=text)
        module.add_arguments(sub)
        sub.set_defaults(run=module.command)
    return top


def _positive(kind, or_zero=False):
    """An argparse type: a finite ``kind`` (int or float) > 0 (or ≥ 0), so a
    bad flag is a usage error that names the flag, before any data loads."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind.__name__}") from None
        if not (np.isfinite(value) and (value >= 0 if or_zero else value > 0)):
            raise argparse.ArgumentTypeError(
                f"{text} is not a finite number {'>=' if or_zero else '>'} 0")
        return value
    return parse


def _seed(text):
    """An argparse type: a seed numpy and scikit-learn both take, 0 ≤ seed < 2**32."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an int") from None
    if not 0 <= value < 2 ** 32:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 2**32 - 1")
    return value


def _data_argument(command):
    command.add_argument("--data", default="digits",
                         help="'digits' (sklearn's 8x8, built in), MNIST-format data: a "
                              "folder of the four IDX files, mnist.pkl.gz or mnist.npz, or an "
                              "svmlight/libsvm file (.svmlight, .svm, .libsvm; read as sparse) "
                              "(default: %(default)s)")


def _train_arguments(command):
    _data_argument(command)
    command.add_argument("--hidden", type=_positive(int), nargs="+", default=[30], metavar="N",
                         help="hidden layer sizes (default: 30)")
    command.add_argument("--eta", type=_positive(float), default=0.5,
                         help="learning rate η (default: 0.5)")
    command.add_argument("--lmbda", type=_positive(float, or_zero=True), default=0.0,
                         help="L2 regularisation λ (default: 0)")
    command.add_argument("--epochs", type=_positive(int), default=30, help="(default: 30)")
    command.add_argument("--batch", type=_positive(int), default=10,
                         help="mini-batch size m (default: 10)")
    command.add_argument("--cost", default="cross_entropy",
                         choices=["cross_entropy", "quadratic", "log_likelihood"])
    command.add_argument("--activation", default="sigmoid", choices=["sigmoid", "tanh", "relu"])
    command.add_argument("--init", default="default", choices=["default", "large"],
                         help="N(0, 1/n_in) weights (ch. 3) or N(0, 1) (ch. 1)")
    command.add_argument("--n-train", type=_positive(int), default=None, metavar="N",
                         help="train on the first N training images only")
    command.add_argument("--seed", type=_seed, default=0,
                         help="random_state of the network and of the digits' split (default: 0)")
    command.add_argument("--threads", type=_positive(int), default=None, help="numba threads")
    command.add_argument("--out", type=Path, default=None, metavar="DIR",
                         help="write model.npz, metrics.json and learning_curves.png here")


def load_data(spec, seed=0):
    """(X_train, y_train, X_eval, y_eval, X_test, y_test, what) for ``--data``.

    The digits and svmlight files: three quarters train, one quarter test
    (also the evaluation data), stratified where every class has two samples.
    MNIST-format data: the book's split, monitored on validation.
    """
    if spec == "digits" or Path(spec).suffix.lower() in SVMLIGHT_SUFFIXES:
        from sklearn.model_selection import train_test_split

        X, y = load_digits() if spec == "digits" else load_svmlight(spec)
        if len(y) < 4:
            raise ValueError(f"{spec} holds {len(y)} samples; a train/test split needs 4.")
        stratify = y if np.unique(y, return_counts=True)[1].min() >= 2 else None
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25,
                                                            random_state=seed, stratify=stratify)
        what = "digits (8x8)" if spec == "digits" else f"{spec} (sparse, {X.shape[1]} features)"
        return X_train, y_train, X_test, y_test, X_test, y_test, what
    data = load_mnist(spec)
    if len(data.y_val):
        return (data.X_train, data.y_train, data.X_val, data.y_val, data.X_test, data.y_test,
                str(spec))
    return (data.X_train, data.y_train, data.X_test, data.y_test, data.X_test, data.y_test,
            str(spec))


def _noun(spec):
    """What a sample of ``--data`` is called."""
    return "samples" if Path(spec).suffix.lower() in SVMLIGHT_SUFFIXES else "images"


def run_train(args):
    X_train, y_train, X_eval, y_eval, X_test, y_test, what = load_data(args.data, args.seed)
    if args.n_train is not None:
        X_train, y_train = X_train[:args.n_train], y_train[:args.n_train]
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)  # fail before training, not after
    model = FastNN(hidden_layer_sizes=tuple(args.hidden), eta=args.eta, lmbda=args.lmbda,
                   mini_batch_size=args.batch, epochs=args.epochs, cost=args.cost,
                   activation=args.activation, init=args.init, random_state=args.seed,
                   n_threads=args.threads, verbose=2, on_interrupt="stop")
    sizes = "-".join(str(s) for s in (X_train.shape[1], *args.hidden, len(np.unique(y_train))))
    print(f"Training {sizes} on {what}: {len(y_train)} {_noun(args.data)}, η={args.eta}, "
          f"λ={args.lmbda}, "
          f"m={args.batch}, {args.epochs} epochs (the first run compiles the kernels, ~10 s; "
          "they are cached)", flush=True)
    started = time.perf_counter()
    with warnings.catch_warnings():
        # on_interrupt="stop" warns; the line below says it for the command line.
        warnings.filterwarnings("ignore", message="fit interrupted", category=RuntimeWarning)
        model.fit(X_train, y_train, eval_set=(X_eval, y_eval))
    seconds = time.perf_counter() - started
    interrupted = model.n_iter_ < args.epochs
    if interrupted:
        print(f"Interrupted: the model keeps its {model.n_iter_} completed epoch(s).")
    accuracy = model.score(X_test, y_test)
    print(f"Test accuracy: {accuracy:.4f} ({seconds:.1f} s in all)")
    if args.out is not None:
        # The saved model predicts quietly and lets Ctrl-C through, as a default one.
        model.set_params(verbose=0, on_interrupt="raise")
        _write_outputs(args, model, f"{what}, {sizes}", accuracy, seconds, len(y_train))
    return 130 if interrupted else 0


def _write_outputs(args, model, what, accuracy, seconds, n_train):
    model.save(args.out / "model.npz")
    metrics = {
        "fastnn_version": __version__, "data": what, "params": _plain_params(model),
        "n_train": n_train,
        "split_seed": args.seed if args.data == "digits" else None,
        "epochs_run": model.n_iter_, "test_accuracy": accuracy, "history": model.history_,
        "timings": {"fit_seconds": seconds, "seconds_per_epoch": seconds / max(model.n_iter_, 1),
                    "note": "fit_seconds includes compiling the kernels on a first run"},
    }
    text = json.dumps(metrics, indent=2).encode()
    atomic_write(args.out / "metrics.json", lambda file: file.write(text))
    written = [args.out / "model.npz", args.out / "metrics.json"]
    try:
        from ..plots import learning_curves

        written.append(learning_curves(model.history_, args.out / "learning_curves.png",
                                       title=what))
    except PlotUnavailable:
        print(f"learning_curves.png skipped: {HINT}")
    print("Wrote " + ", ".join(str(path) for path in written))


def _plain_params(model):
    return {key: (list(value) if isinstance(value, tuple) else value)
            for key, value in model.get_params().items()
            if value is None or isinstance(value, (int, float, str, bool, tuple))}


def run_evaluate(args):
    model = _load_classifier(args.model)
    seed = args.seed
    if seed is None:  # the split `fastnn train` made, so no training image is scored
        seed = model.random_state if isinstance(model.random_state, int) else 0
    _, _, _, _, X_test, y_test, what = load_data(args.data, seed)
    _check_fits(model, X_test, args.data)
    predicted = model.predict(X_test)
    from sklearn.metrics import confusion_matrix

    print(f"{what}, {len(y_test)} test {_noun(args.data)}: accuracy "
          f"{np.mean(predicted == y_test):.4f} ({np.sum(predicted == y_test)} / {len(y_test)})")
    labels = np.union1d(model.classes_, y_test)  # a class the model never saw counts too
    matrix = confusion_matrix(y_test, predicted, labels=labels)
    width = max(5, *(len(str(v)) for v in matrix.flat), *(len(str(c)) for c in labels))
    print("confusion matrix (rows: true, columns: predicted)")
    print(" " * width + "".join(f"{c!s:>{width + 1}}" for c in labels))
    for label, row in zip(labels, matrix):
        print(f"{label!s:>{width}}" + "".join(f"{v:>{width + 1}}" for v in row))
    n_features = X_test.shape[1]
    if image_side(n_features) is None:  # rows of features, not images
        print(f"{args.png} skipped: {n_features} features are not a square image to draw")
        return 0
    try:
        from ..plots import misclassified

        print(f"Wrote {misclassified(X_test, y_test, predicted, args.png)}")
    except PlotUnavailable:
        print(f"{args.png} skipped: {HINT}")
    return 0


def run_predict(args):
    model = _load_classifier(args.model)
    X = _read_input(Path(args.input), model.n_features_in_)
    _check_fits(model, X, args.input)
    probabilities = model.predict_proba(X)
    for i, p in enumerate(probabilities):
        best = int(np.argmax(p))
        print(f"{i}: {model.classes_[best]} (p = {p[best]:.3f})")
    return 0


def _load_classifier(path):
    model = load(path)
    if not isinstance(model, FastNN):
        raise ValueError(f"{path} holds a {type(model).__name__}; evaluate and predict take a "
                         "FastNN classifier.")
    return model


def _check_fits(model, X, source):
    if X.shape[1] != model.n_features_in_:
        raise ValueError(f"the model takes {_describe(model.n_features_in_)}; {source} has "
                         f"{_describe(X.shape[1])}.")


def _describe(n_features):
    side = image_side(n_features)
    return f"{n_features} features" + (f" ({side}x{side} images)" if side else "")


def _read_input(path, n_features):
    """Rows to classify: a .npy of rows or of images, or one grayscale image
    resized to the model's side, scaled to [0, 1] and made light-on-dark like
    MNIST (a dark digit on a light page is inverted)."""
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist.")
    regular_file(path)
    side = image_side(n_features)
    if path.suffix == ".npy":
        return _read_npy(path, n_features, side)

    if side is None:
        raise ValueError(f"the model takes {n_features} features, not a square image; pass a .npy.")
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise PlotUnavailable('reading images needs Pillow: pip install "fastnn[plot]" (it '
                              "comes with matplotlib) or pip install pillow; or pass a .npy."
                              ) from None
    try:
        with Image.open(path) as image:
            if image.mode.startswith("I"):
                # 16- and 32-bit grayscale: "L" would clip everything over 255.
                depth = 65535.0 if image.mode.startswith("I;16") else float(2 ** 32 - 1)
                image = Image.fromarray(np.asarray(image, dtype=np.float32) / np.float32(depth))
            elif image.mode != "F":
                image = image.convert("L")
            image = image.resize((side, side), Image.LANCZOS)
    except UnidentifiedImageError:
        raise ValueError(f"{path} is not an image Pillow can read (or a .npy).") from None
    except Image.DecompressionBombError as exc:
        raise ValueError(f"{path} is too large an image to read safely ({exc})") from None
    pixels = np.asarray(image, dtype=np.float64)
    pixels = np.clip(pixels if image.mode == "F" else pixels / 255.0, 0.0, 1.0)
    if pixels.mean() > 0.5:
        pixels = 1.0 - pixels
    return pixels.reshape(1, -1)


def _read_npy(path, n_features, side):
    """Rows of a .npy: (n, features), (n, side, side), one row or one image.

    uint8 pixels (0-255, as images are stored) are scaled to [0, 1]; other
    values outside [0, 1] are used as they are, with a warning, since the
    models ``fastnn train`` makes learned from [0, 1].
    """
    try:
        # Mapped first: a header that declares more data than the file holds
        # is then a ValueError, not an allocation of the declared size.
        array = np.array(np.load(path, mmap_mode="r", allow_pickle=False))
    except (ValueError, EOFError, OSError) as exc:
        raise ValueError(f"{path} is not a numeric .npy array ({exc}).") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf" or array.size == 0 \
            or array.ndim not in (1, 2, 3):
        raise ValueError(f"{path}: expected a non-empty numeric array of rows or images; got "
                         f"{getattr(array, 'dtype', '?')} of shape {getattr(array, 'shape', '?')}.")
    if array.shape in ((n_features,), (side, side)):
        array = array.reshape(1, -1)  # one sample, as a row or as an image
    array = array.reshape(len(array), -1)
    if array.dtype == np.uint8:
        return array / 255.0
    array = np.asarray(array, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{path} holds NaN or infinite values.")
    if array.min() < 0 or array.max() > 1:
        print(f"fastnn: warning: {path} has values in [{array.min():g}, {array.max():g}]; the "
              "model was trained on pixels in [0, 1] (divide by 255?).", file=sys.stderr)
    return array
