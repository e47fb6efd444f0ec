"""Count data: a PoissonRBM on the digits' pixel counts against independent Poisson units, one run.

Run: python bench/poisson_counts.py (needs scikit-learn for the digits). The data are
scikit-learn's bundled 8x8 digits without binarisation: each pixel counts the set pixels of
a 4x4 block of the 32x32 bitmap (0..16), split as heatbath.datasets.load_digits documents
(1437 training rows, 360 test rows). Prints the exact test log-likelihood (nats per digit:
hidden states enumerated, counts summed in closed form) of

- the independent-Poisson baseline: each pixel its own Poisson with the training mean
  (smoothed by half a count, so an all-zero training column keeps a nonzero rate); it is
  the RBM with no hidden units' influence (W = 0), scored by the same code;
- PoissonRBM with 16 and 20 hidden units (seeds 0, 1, 2), log Z exact.

``--ais`` also checks AIS against exact log Z on a 20-hidden model (100 runs; 3,000,
10,000 and 30,000 betas): on these counts it is far from converged (see the README).

Not a pytest file: likelihood, not speed, is what it compares.
"""

import sys
import time

import numpy as np

from heatbath import RBM
from heatbath.datasets import load_digits
from heatbath.sklearn import PoissonRBM

SETTINGS = dict(n_iter=30, learning_rate=0.001, batch_size=10, method="cd", k=5, momentum=0.5)


def main():
    X, _ = load_digits(subset="train", binarize=False, return_X_y=True)
    X_test, _ = load_digits(subset="test", binarize=False, return_X_y=True)
    base = RBM(64, 1, "poisson").set_parameters(weights=np.zeros((64, 1)))
    base.init_visible_bias(X)
    # one hidden unit with zero weights adds log 2 to log Z and to every -F(v): it cancels
    print(f"{'independent Poisson (training means)':48s} {base.log_likelihood(X_test):9.3f}")
    for n_hidden in (16, 20):
        for seed in range(3):
            start = time.perf_counter()
            est = PoissonRBM(n_components=n_hidden, random_state=seed, **SETTINGS).fit(X)
            seconds = time.perf_counter() - start
            ll = est.score_samples(X_test).mean()
            print(f"{f'PoissonRBM({n_hidden} hidden), seed {seed}':48s} {ll:9.3f} "
                  f"(fit {seconds:.2f} s)", flush=True)
    if "--ais" in sys.argv:
        m = RBM(64, 20, "poisson", seed=0).fit(X, epochs=30, batch_size=10, k=5,
                                              learning_rate=0.001, momentum=0.5, seed=0)
        print(f"20 hidden: exact log Z {m.log_partition():.3f}")
        for n_betas in (3000, 10000, 30000):
            est = m.log_partition("ais", n_runs=100, n_betas=n_betas, data=X, seed=1)
            print(f"  AIS, 100 runs x {n_betas} betas: {est:.3f} +- {est.stderr:.3f} "
                  f"(ESS {est.ess:.1f})", flush=True)


if __name__ == "__main__":
    main()
