"""scikit-learn's own estimator suite, every check, for both estimators."""
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastnn import FastNN, FastNNRegressor

# The one check we are known to fail, on dense and on sparse data, and why
# (the README lists it too).
_WHY = ("SGD is stochastic: a weight of 2 scales one sample's gradient in one mini-batch, "
        "which is not the same as that sample appearing twice in the shuffle (zero weights "
        "do remove samples exactly; tested in test_training.py).")
EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": _WHY,
    "check_sample_weight_equivalence_on_sparse_data": _WHY,
}


def _listed(mark):
    """The same parametrize mark with its values in a list: scikit-learn < 1.7
    passes a generator, which pytest 9 deprecates and pytest 10 refuses (the
    floor-version CI job runs scikit-learn 1.6 with the latest pytest)."""
    names, values = mark.args
    return pytest.mark.parametrize(names, list(values), **mark.kwargs)


@_listed(parametrize_with_checks(
    [FastNN(epochs=3, random_state=0),
     FastNNRegressor(epochs=20, eta=0.1, random_state=0)],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS,
))
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
