"""The default training recipe of RBM.fit beats scikit-learn's defaults (exact log-likelihood)."""

import numpy as np
import pytest

from heatbath import RBM

#: scikit-learn 1.9.1's BernoulliRBM(n_components=16, random_state=s) with its
#: defaults (PCD-1, lr 0.1, batch 10, 10 epochs), s = 0, 1, 2, on the split
#: below: exact test log-likelihoods -21.32, -21.87, -21.46, mean -21.55 nats.
SKLEARN_DEFAULTS_MEAN = -21.55
#: The goal: at least 0.5 nats better than that.
GOAL = SKLEARN_DEFAULTS_MEAN + 0.5


def test_default_recipe_beats_sklearn_defaults_by_half_a_nat():
    datasets = pytest.importorskip("sklearn.datasets")
    X = (datasets.load_digits().data >= 8).astype(np.float64)
    test = np.arange(X.shape[0]) % 5 == 0
    scores = []
    for seed in range(3):
        m = RBM(64, 16, seed=seed)
        m.fit(X[~test], epochs=10, seed=seed)
        scores.append(m.log_likelihood(X[test]))
    # Measured: -19.51, -19.40, -19.13 (mean -19.35, sd 0.19 over seeds). The
    # goal sits 1.7 nats below the mean, about 15 standard errors of a mean
    # of three: this fails on a real loss of quality, not on seed noise.
    assert np.mean(scores) > GOAL, scores
