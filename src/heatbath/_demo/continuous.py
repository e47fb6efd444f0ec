"""Demo section: continuous states (MALA / HMC on exact targets) and a diffusion sampler on a 2D mixture."""

import numpy as np

from heatbath._demo._plots import write_plots
from heatbath._format import table


def run(out_dir, quick):
    from heatbath import continuous as C
    from heatbath.continuous.diffusion import reverse_sde

    lines = ["Continuous states: samplers held against exact moments, and a diffusion sampler.\n"]
    n_steps = 300 if quick else 2000
    rows = []
    q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(10, 10)))
    cases = [("Gaussian d=10, cond 100", C.Gaussian(np.zeros(10), (q * np.geomspace(0.1, 10, 10))
                                                     @ q.T)),
             ("double well d=4", C.DoubleWell(4, 1.0, 0.2)),
             ("phi^4 2D L=8, lambda=0", C.Phi4(8, dim=2, kappa=0.2, lam=0.0))]
    for name, target in cases:
        for cls in (C.MALA, C.HMC):
            s = cls(target, n_chains=32, seed=1)
            tr = s.run(n_steps, burn_in=500)
            x = tr.info["samples"].reshape(-1, target.dim)
            summ = C.summary(tr)
            rows.append([name, cls.__name__, f"{tr.acceptance_rate.mean():.2f}",
                         f"{np.abs(x.mean(0) - target.mean).max():.3f}",
                         f"{np.abs(x.var(0) / target.variance - 1).max():.3f}",
                         f"{summ['ess'].min():.0f}", f"{summ['rhat'].max():.3f}"])
    lines.append(table(rows, ["target", "sampler", "accept", "max|mean err|", "max|var rel err|",
                              "min ESS", "max R-hat"]))
    mix = C.GaussianMixture([0.2, 0.3, 0.5], [[-4.0, 0.0], [4.0, 0.0], [0.0, 5.0]], 0.7)
    n = 500 if quick else 4000
    x = reverse_sde(mix.score, n, 2, "ve", n_steps=200 if quick else 1000, sigma_max=12.0,
                    corrector_snr=0.16, seed=2)
    comp = ((x[:, None, :] - mix.means[None]) ** 2).sum(-1).argmin(1)
    frac = np.bincount(comp, minlength=3) / n
    lines.append(f"\n   reverse-SDE (VE, predictor-corrector) on a 3-component 2D mixture, {n} samples:"
                 f" component fractions {np.round(frac, 3).tolist()} against "
                 f"{mix.weights.tolist()}\n")

    def figure():
        import matplotlib.pyplot as plt

        g = np.linspace(-8, 8, 200)
        X, Y = np.meshgrid(g, g)
        dens = np.exp(mix.log_prob(np.c_[X.ravel(), Y.ravel()])).reshape(X.shape)
        fig, ax = plt.subplots(figsize=(5, 5))
        ax.contour(X, Y, dens, levels=8, cmap="viridis")
        ax.scatter(x[:, 0], x[:, 1], s=2, c="k", alpha=0.4)
        ax.set_title("reverse-SDE samples against the mixture density")
        return fig

    return lines + write_plots({"diffusion_mixture": figure}, out_dir)
