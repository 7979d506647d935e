"""A real text corpus, as a user would search it: TF-IDF into FastNN against MLPClassifier.

``python -m bench.text`` writes ``bench/TEXT.json``; ``bench.report`` renders
it into RESULTS.md ("A real text corpus") and the README quotes it.  The
SpamAssassin corpus (6,046 e-mails, ``fastnn.datasets.load_spam_assassin``;
fetch it with ``.ci/fetch-spam-assassin``) is split 75 / 25, stratified; on
the training part ``GridSearchCV(make_pipeline(TfidfVectorizer(min_df=2),
model), 3 η × 3 λ, cv=3, n_jobs=2)`` picks η and λ, and the refitted best
pipeline is scored on the test part.  ``MLPClassifier`` is set up as the
book's SGD (logistic units, m = 10, no momentum, α = λ·m/n, as in
``bench/implementations.py``) and searched over the same grid.
"""
import argparse
import json
import sys
import time
import warnings
from pathlib import Path

from . import machine

HERE = Path(__file__).resolve().parent
ETAS = (0.1, 0.5, 2.0)
LMBDAS = (0.0, 1.0, 5.0)
EPOCHS = 10
HIDDEN = 30
MINI_BATCH = 10


def _search(name, n_train):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import GridSearchCV
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline

    from fastnn import FastNN

    vectorizer = TfidfVectorizer(min_df=2)
    if name == "fastnn":
        model = FastNN(hidden_layer_sizes=(HIDDEN,), epochs=EPOCHS,
                       mini_batch_size=MINI_BATCH, random_state=0)
        grid = {"fastnn__eta": ETAS, "fastnn__lmbda": LMBDAS}
    else:
        model = MLPClassifier((HIDDEN,), activation="logistic", solver="sgd",
                              batch_size=MINI_BATCH, momentum=0.0, nesterovs_momentum=False,
                              max_iter=EPOCHS, shuffle=True, random_state=0)
        # sklearn's α is the book's λ·m/n, n the size of a search fold's training part.
        n_fold = n_train * 2 // 3
        grid = {"mlpclassifier__learning_rate_init": ETAS,
                "mlpclassifier__alpha": [lmbda * MINI_BATCH / n_fold for lmbda in LMBDAS]}
    return GridSearchCV(make_pipeline(vectorizer, model), grid, cv=3, n_jobs=2)


def run(log, peers=True):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split

    from fastnn.datasets import load_spam_assassin

    texts, y = load_spam_assassin()
    texts_train, texts_test, y_train, y_test = train_test_split(
        texts, y, test_size=0.25, random_state=0, stratify=y)
    out = {"n_train": len(y_train), "n_test": len(y_test), "spam_share": float(y.mean())}
    for name in ("fastnn", "sklearn-mlp") if peers else ("fastnn",):
        search = _search(name, len(y_train))
        began = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            search.fit(texts_train, y_train)
        seconds = time.perf_counter() - began
        features = len(search.best_estimator_[0].vocabulary_)
        out[name] = {"seconds": seconds, "test_accuracy": search.score(texts_test, y_test),
                     "cv_accuracy": search.best_score_,
                     "best": {k.split("__")[1]: v for k, v in search.best_params_.items()},
                     "features": features}
        log(f"{name}: {out[name]}")
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.text",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--no-peers", action="store_true", help="time FastNN only")
    args = parser.parse_args(argv)
    began = time.perf_counter()

    def log(message):
        print(f"[{time.perf_counter() - began:6.0f} s] {message}", file=sys.stderr, flush=True)

    path = HERE / "TEXT.json"
    # --no-peers keeps the peer's row of an earlier run.
    result = json.loads(path.read_text()) if path.exists() and args.no_peers else {}
    result.update(run(log, peers=not args.no_peers))
    result.update(facts=machine.facts(), date=time.strftime("%Y-%m-%d %H:%M %Z"),
                  commit=machine.git_state(HERE.parent), load=machine.load_average())
    path.write_text(json.dumps(result, indent=1, default=str))
    log(f"wrote {path}")
    return 0


def render_section(path=HERE / "TEXT.json"):
    """RESULTS.md's "A real text corpus" section, from ``python -m bench.text``'s JSON."""
    if not Path(path).exists():
        return ["", "## A real text corpus", "", "Not measured: run `python -m bench.text`."]
    res = json.loads(Path(path).read_text())
    cpu = dict(res["facts"]).get("CPU", "?")
    rows = []
    for name in ("fastnn", "sklearn-mlp"):
        r = res.get(name)
        if r:
            best = ", ".join(f"{k} = {v:.3g}" for k, v in r["best"].items())
            rows.append((name, f"{r['seconds']:.1f} s", f"{r['test_accuracy']:.4f}",
                         f"{r['cv_accuracy']:.4f}", best))
    lines = ["| search over | time | test accuracy | best CV accuracy | best |",
             "|---|---|---|---|---|"] + ["| " + " | ".join(row) + " |" for row in rows]
    features = res["fastnn"]["features"]
    out = ["", "## A real text corpus: SpamAssassin through TF-IDF", "",
           f"`python -m bench.text` ({res['date']}, commit `{res['commit'][0]}`, {cpu}, load "
           f"{res.get('load')} after): {res['n_train']:,} e-mails to search and refit on, "
           f"{res['n_test']:,} to test ({res['spam_share']:.0%} spam); "
           f"`GridSearchCV(make_pipeline(TfidfVectorizer(min_df=2), model), 3 η × 3 λ, cv=3, "
           f"n_jobs=2)`, {HIDDEN} hidden neurons, m = {MINI_BATCH}, {EPOCHS} epochs; TF-IDF "
           f"gives ~{features:,} features.", "", "\n".join(lines)]
    return out + [""]


if __name__ == "__main__":
    sys.exit(main())
