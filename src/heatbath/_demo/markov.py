"""Demo section 2: Metropolis-Hastings on a double well, the exact chain and sampled chains."""

import numpy as np

from heatbath import boltzmann, markov
from heatbath._format import table


def run(out_dir, quick):
    n = 24
    x = np.arange(n)
    E = 2.0 * np.cos(4 * np.pi * x / n) + 0.5 * np.sin(2 * np.pi * x / n)
    p = boltzmann.boltzmann_probs(E, temperature=0.7)
    Q = (np.roll(np.eye(n), 1, axis=1) + np.roll(np.eye(n), -1, axis=1)) / 2
    P = markov.metropolis_hastings_matrix(p, Q)
    pi = markov.stationary_distribution(P)
    lines = [f"2. Metropolis-Hastings on a double well: {n} states on a ring, T = 0.7,",
             "   proposal = step left or right. The exact chain, and sampled chains.\n",
             f"   detailed-balance violation  max|p(x)P(x,y) - p(y)P(y,x)| = "
             f"{markov.detailed_balance_violation(P, p):.1e}",
             f"   stationary distribution (GTH) against target: max relative error = "
             f"{np.max(np.abs(pi - p) / p):.1e}",
             f"   spectral gap = {markov.spectral_gap(P):.5f}, "
             f"mixing time t_mix(1/4) = {markov.mixing_time(P)} steps\n"]
    n_chains = 2000 if quick else 20000
    rows = []
    for t in [1, 4, 16, 64, 256, 1024, 4096, 16384]:
        exact = np.linalg.matrix_power(P, t)[0]
        # Same seed each time: these are the same chains, observed at step t.
        final = markov.simulate(P, 0, 1, burn_in=t - 1, n_chains=n_chains, seed=2026)[:, 0]
        emp = np.bincount(final, minlength=n) / n_chains
        rows.append([t, f"{0.5 * np.abs(exact - p).sum():.4f}",
                     f"{0.5 * np.abs(emp - p).sum():.4f}"])
    lines.append(table(rows, ["step", "TV exact (from x=0)", f"TV of {n_chains} sampled chains"]))
    noise = np.sqrt(n / (2 * np.pi * n_chains))
    lines.append(f"   (sampling noise floor of the TV of {n_chains} chains: about {noise:.3f})\n")
    return lines
