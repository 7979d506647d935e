"""scikit-learn's own estimator suite, every check, nothing marked to fail."""
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastnn import FastNN


@parametrize_with_checks([FastNN(epochs=3, random_state=0)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
