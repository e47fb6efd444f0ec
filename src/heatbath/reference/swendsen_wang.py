"""NumPy twin of the Swendsen-Wang kernel (heatbath/spin/_swendsen.pyx).

Bonds are opened with vectorised draws in the kernel's order (sites in
increasing order, +e_k neighbours, aligned pairs only); clusters come from
scipy's connected components and flip by one draw each, in the order of
their smallest site. Nothing is shared with the kernel's union-find.
"""

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from heatbath.reference.random import bit_generators, states_of

__all__ = ["swendsen_wang_sweeps"]


def swendsen_wang_sweeps(neighbors, spins, states, temperature, n_sweeps, *, J=1.0):
    """Swendsen-Wang sweeps, one chain at a time.

    Returns ``(spins, states, magnetization, m2_improved)``, the records of
    shape (n_sweeps, n_chains).
    """
    nbr = np.asarray(neighbors)
    n, z = nbr.shape
    spins = np.array(spins, dtype=np.int8)
    n_chains = spins.shape[0]
    T = np.broadcast_to(np.asarray(temperature, dtype=float), (n_chains,))
    beta = np.where(np.isinf(T), 0.0, 1.0 / T)
    thr = np.ceil(-np.expm1(-2.0 * beta * J) * 2.0**53).astype(np.uint64)
    src = np.repeat(np.arange(n), z // 2)
    dst = nbr[:, : z // 2].ravel()
    present = dst >= 0
    src, dst = src[present], dst[present]
    gens = bit_generators(states)
    mags = np.empty((n_sweeps, n_chains), dtype=np.int64)
    m2 = np.empty((n_sweeps, n_chains), dtype=np.int64)
    for c in range(n_chains):
        s, bg = spins[c], gens[c]
        for sweep in range(n_sweeps):
            aligned = s[src] == s[dst]
            draws = bg.random_raw(int(aligned.sum()))
            is_open = np.zeros(src.size, dtype=bool)
            is_open[aligned] = (draws >> np.uint64(11)) < thr[c]
            graph = coo_matrix((np.ones(is_open.sum()), (src[is_open], dst[is_open])),
                               shape=(n, n))
            k, labels = connected_components(graph, directed=False)
            _, first = np.unique(labels, return_index=True)
            order = np.argsort(first)                  # clusters by smallest site
            coins = np.empty(k, dtype=np.uint64)
            coins[order] = bg.random_raw(k) >> np.uint64(63)
            s[coins[labels] == 1] *= -1
            mags[sweep, c] = s.sum(dtype=np.int64)
            m2[sweep, c] = (np.bincount(labels, minlength=k).astype(np.int64) ** 2).sum()
    return spins, states_of(gens), mags, m2
