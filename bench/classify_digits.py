"""Digits classification, heatbath's RBMClassifier against scikit-learn's, one run.

Run: python bench/classify_digits.py (needs scikit-learn). Prints the test accuracy and
fit time of each model on heatbath.datasets.load_digits (train/test split documented there).
Not a pytest file: accuracy, not speed, is what it compares.
"""

import time

from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import BernoulliRBM, MLPClassifier
from sklearn.pipeline import Pipeline

from heatbath.datasets import load_digits
from heatbath.sklearn import RBMClassifier


def main():
    X, y = load_digits(subset="train", return_X_y=True)
    X_test, y_test = load_digits(subset="test", return_X_y=True)
    models = [("RBMClassifier()", RBMClassifier(random_state=0))]
    models += [(f"RBMClassifier(solver='sgd', n_iter=40), seed {s}",
                RBMClassifier(solver="sgd", n_iter=40, random_state=s)) for s in range(3)]
    models += [
        ("LogisticRegression(max_iter=2000)", LogisticRegression(max_iter=2000)),
        ("Pipeline(BernoulliRBM(100), LogisticRegression(C=6000))",
         Pipeline([("rbm", BernoulliRBM(n_components=100, n_iter=20, learning_rate=0.06,
                                        random_state=0)),
                   ("lr", LogisticRegression(C=6000, max_iter=2000))])),
        ("MLPClassifier(max_iter=500)", MLPClassifier(max_iter=500, random_state=0)),
    ]
    for name, est in models:
        start = time.perf_counter()
        est.fit(X, y)
        seconds = time.perf_counter() - start
        print(f"{name:60s} {est.score(X_test, y_test):7.2%} {seconds:8.2f} s", flush=True)


if __name__ == "__main__":
    main()
