"""NumPy twin of :func:`heatbath.markov.simulate`, vectorised over chains."""

import numpy as np

from heatbath.reference.random import random

__all__ = ["simulate"]


def simulate(P, x0, n_steps, states, *, burn_in=0, thin=1, return_counts=False):
    """Run the chains of :func:`heatbath.markov.simulate` with NumPy.

    ``states`` are the per-chain stream states (as from
    ``heatbath._random.spawn_states(seed, n_chains)``); given the same ones,
    the result equals the compiled kernel's bit for bit. Returns
    ``(result, final_states)``.
    """
    P = np.asarray(P, dtype=np.float64)
    cdf = np.cumsum(P, axis=1)
    cdf /= cdf[:, -1:]
    n_chains = states.shape[0]
    x = np.broadcast_to(np.asarray(x0, dtype=np.int64), (n_chains,)).copy()
    u, final_states = random(states, burn_in + n_steps)
    n_record = n_steps // thin
    path = np.empty((n_chains, n_record), dtype=np.int64)
    k = 0
    for t in range(burn_in + n_steps):
        # First y with u < cdf[x, y], as np.searchsorted(side="right") would give.
        x = (cdf[x] <= u[:, t, None]).sum(axis=1)
        step = t - burn_in + 1
        if step > 0 and step % thin == 0:
            path[:, k] = x
            k += 1
    if return_counts:
        counts = np.zeros((n_chains, P.shape[0]), dtype=np.int64)
        np.add.at(counts, (np.repeat(np.arange(n_chains), n_record), path.ravel()), 1)
        return counts, final_states
    return path, final_states
