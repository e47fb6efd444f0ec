"""Demo section 5: RBMs on digits, heatbath against scikit-learn by exact test log-likelihood; AIS."""

import numpy as np

from heatbath._commands._common import fit_history
from heatbath._demo._plots import plot_module, write_plots
from heatbath._format import table
from heatbath.datasets import load_digits, load_digits_binary

#: The PoissonRBM recipe of the README (bench/poisson_counts.py); quick demos run 10
#: epochs at learning rate 0.003.
POISSON_RECIPE = dict(epochs=30, batch_size=10, method="cd", k=5, learning_rate=0.001,
                      momentum=0.5)


def run(out_dir, quick):
    lines = []
    out = lines.append
    import time

    from heatbath import RBM

    try:
        X, _ = load_digits_binary("train")
        X_test, _ = load_digits_binary("test")
    except ValueError:
        out("5. RBMs on digits: skipped (scikit-learn is not installed; "
            "pip install heatbath[sklearn])\n")
        return lines
    out(f"5. RBMs on scikit-learn's digits (8x8, binarised at >= 8; {len(X)} training rows, "
        f"{len(X_test)} test rows = index % 5 == 0)\n")
    rows = []
    ours = RBM(64, 16, seed=0).init_visible_bias(X)
    history = fit_history(ours.fit(X, epochs=10, batch_size=10, method="cd", k=10,
                                   learning_rate=0.1, momentum=0.5, seed=0, score_every=1,
                                   scores=("pseudo_likelihood", "log_likelihood"),
                                   score_data=X_test), ours)
    t_ours = float(np.sum(history["seconds"]))   # training only, not the scoring
    rows.append(["heatbath RBM: CD-10, lr 0.1, momentum 0.5, visible biases from data",
                 f"{ours.log_likelihood(X_test):.3f}", f"{t_ours:.2f} s"])
    try:
        from sklearn.neural_network import BernoulliRBM

        start = time.perf_counter()
        sk = BernoulliRBM(n_components=16, random_state=0).fit(X)
        t_sk = time.perf_counter() - start
        theirs = RBM(64, 16).set_parameters(sk.components_.T, sk.intercept_visible_,
                                            sk.intercept_hidden_)
        rows.append(["sklearn BernoulliRBM(n_components=16), its defaults (PCD-1, lr 0.1)",
                     f"{theirs.log_likelihood(X_test):.3f}", f"{t_sk:.2f} s"])
    except ImportError:  # pragma: no cover - load_digits needs sklearn already
        pass
    out("   16 hidden units, 10 epochs, batch 10: exact test log-likelihood (log Z by "
        "enumerating 2**16 hidden states)")
    out(table(rows, ["model", "test log-lik (nats/digit)", "fit time"]))
    # AIS against exact, then a model too big to enumerate.
    m20 = RBM(64, 20, seed=1).init_visible_bias(X)
    m20.fit(X, epochs=10, batch_size=10, method="cd", k=10, learning_rate=0.1, momentum=0.5,
            seed=1)
    n_betas = 1000 if quick else 10000
    exact = m20.log_partition()
    ais = m20.log_partition("ais", n_runs=100, n_betas=n_betas, data=X, seed=2)
    rev = m20.log_partition("reverse_ais", data=X, n_runs=100, n_betas=n_betas, seed=3)
    out(f"\n   20 hidden units: log Z exact {exact:.4f}; AIS ({ais.n_runs} runs x {n_betas} "
        f"betas) {ais:.4f} +- {ais.stderr:.4f}; reverse AIS {rev:.4f} +- {rev.stderr:.4f}")
    nh = 64 if quick else 256
    big = RBM(64, nh, seed=2).init_visible_bias(X)
    big.fit(X, epochs=5 if quick else 20, batch_size=10, method="pcd", k=5,
            learning_rate=0.05, momentum=0.5, seed=2)
    start = time.perf_counter()
    ais = big.log_partition("ais", n_runs=100, n_betas=n_betas, data=X, seed=4)
    t_ais = time.perf_counter() - start
    ll = big.log_likelihood(X_test, "ais", n_runs=100, n_betas=n_betas, data=X, seed=4)
    out(f"   {nh} hidden units (2**{nh} states: AIS only): log Z {ais:.3f} +- {ais.stderr:.3f} "
        f"(ESS {ais.ess:.0f} of 100, {t_ais:.1f} s); test log-likelihood {ll:.3f} +- "
        f"{ll.stderr:.3f}")
    # Count data: without binarisation each pixel counts the set pixels of a 4x4 block
    # of the 32x32 bitmap (0..16). Poisson visible units; log Z exact (2**16 states).
    C, _ = load_digits(subset="train", binarize=False, return_X_y=True)
    C_test, _ = load_digits(subset="test", binarize=False, return_X_y=True)
    independent = RBM(64, 1, "poisson").set_parameters(weights=np.zeros((64, 1)))
    independent.init_visible_bias(C)
    recipe = dict(POISSON_RECIPE, epochs=10, learning_rate=0.003) if quick else POISSON_RECIPE
    counts = RBM(64, 16, "poisson", seed=0).fit(C, **recipe, seed=0)
    out(f"   Counts (the unbinarised pixels, 0..16), poisson visible units, 16 hidden, CD-5: "
        f"exact test log-likelihood {counts.log_likelihood(C_test):.3f}, against "
        f"{independent.log_likelihood(C_test):.3f} for independent Poisson pixels\n")
    n_filters = 64
    try:
        plot_module()
    except ImportError:
        return lines + write_plots({"rbm": None}, out_dir)
    samples = big.sample(64, 200 if quick else 1000, seed=6)
    plots = {
        "rbm_filters": lambda: plot_module().weight_grid(
            big, n_filters=n_filters, colorbar=True,
            title=f"RBM filters: the first {n_filters} of {nh} hidden units"),
        "rbm_samples": lambda: plot_module().sample_grid(
            samples, title=f"block-Gibbs samples of the {nh}-hidden RBM"),
        "learning_curves": lambda: plot_module().learning_curves(
            history, title="16-hidden RBM on digits (test set scores)")}
    return lines + write_plots(plots, out_dir)

