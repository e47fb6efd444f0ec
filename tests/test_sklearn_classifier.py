"""heatbath.sklearn.RBMClassifier: scikit-learn's estimator checks, labels, pipelines."""

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn", minversion="1.6")

import scipy.sparse as sp  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from heatbath.sklearn import RBMClassifier  # noqa: E402


@parametrize_with_checks([RBMClassifier(n_components=8, n_iter=100, random_state=0)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def _blobs(n=120, seed=0):
    rng = np.random.default_rng(seed)
    centres = (rng.random((3, 10)) < 0.5).astype(float)
    y = rng.integers(0, 3, n)
    X = np.abs(centres[y] - (rng.random((n, 10)) < 0.1))
    return X, y


def test_string_labels_probabilities_and_decision_function():
    X, y = _blobs()
    names = np.array(["cat", "dog", "eel"])[y]
    clf = RBMClassifier(n_components=6, random_state=0).fit(X, names)
    np.testing.assert_array_equal(clf.classes_, ["cat", "dog", "eel"])
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    np.testing.assert_array_equal(clf.decision_function(X).argmax(axis=1), proba.argmax(axis=1))
    assert clf.score(X, names) > 0.95


def test_binary_decision_function_is_one_column():
    X, y = _blobs()
    y = (y == 0).astype(int)
    clf = RBMClassifier(n_components=4, random_state=0).fit(X, y)
    d = clf.decision_function(X)
    assert d.shape == (X.shape[0],)
    np.testing.assert_array_equal((d > 0).astype(int), clf.predict(X))


def test_sparse_input_equals_dense_and_random_state_fixes_the_result():
    X, y = _blobs()
    dense = RBMClassifier(n_components=5, n_iter=30, random_state=3).fit(X, y)
    sparse = RBMClassifier(n_components=5, n_iter=30, random_state=3).fit(sp.csr_matrix(X), y)
    np.testing.assert_array_equal(dense.model_.weights, sparse.model_.weights)
    np.testing.assert_array_equal(dense.predict_proba(X), sparse.predict_proba(sp.csr_matrix(X)))


@pytest.mark.parametrize("method", ["generative", "hybrid"])
def test_generative_and_hybrid_training_through_sgd(method):
    X, y = _blobs()
    clf = RBMClassifier(n_components=6, method=method, solver="sgd", n_iter=20,
                        random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.9


def test_one_class_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="only one class"):
        RBMClassifier().fit(np.zeros((3, 2)), [1, 1, 1])
