"""Demo section: the classification RBM on digits against scikit-learn's classifiers."""

import time

from heatbath._demo._plots import plot_module, write_plots
from heatbath._format import table
from heatbath.datasets import load_digits


def run(out_dir, quick):
    lines = []
    out = lines.append
    try:
        from sklearn.linear_model import LogisticRegression
        from sklearn.neural_network import BernoulliRBM
        from sklearn.pipeline import Pipeline

        from heatbath.sklearn import RBMClassifier
    except ImportError:
        out("Classification: skipped (scikit-learn is not installed; "
            "pip install heatbath[sklearn])\n")
        return lines
    X, y = load_digits(subset="train", return_X_y=True)
    X_test, y_test = load_digits(subset="test", return_X_y=True)
    out(f"Classification RBM (Larochelle & Bengio 2008) on digits: exact p(y | x); "
        f"{len(X)} training rows, {len(X_test)} test rows\n")
    models = [("heatbath RBMClassifier() (100 hidden, discriminative, L-BFGS)",
               RBMClassifier(n_iter=30 if quick else 200, random_state=0)),
              ("sklearn LogisticRegression(max_iter=2000)", LogisticRegression(max_iter=2000)),
              ("sklearn Pipeline(BernoulliRBM(100), LogisticRegression(C=6000))",
               Pipeline([("rbm", BernoulliRBM(n_components=100, n_iter=20, learning_rate=0.06,
                                              random_state=0)),
                         ("lr", LogisticRegression(C=6000, max_iter=2000))]))]
    rows = []
    for name, est in models:
        start = time.perf_counter()
        est.fit(X, y)
        seconds = time.perf_counter() - start
        rows.append([name, f"{est.score(X_test, y_test):.1%}", f"{seconds:.2f} s"])
    out(table(rows, ["model", "test accuracy", "fit time"]))
    clf = models[0][1]
    out("")
    lines += write_plots({"classification_confusion": lambda: plot_module().confusion_matrix(
        y_test, clf.predict(X_test), title="RBMClassifier on digits (test set)")}, out_dir)
    return lines
