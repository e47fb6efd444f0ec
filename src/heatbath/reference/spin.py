"""NumPy twins of the spin kernels.

- :func:`ising_energy`, :func:`bm_energy`: energies by the textbook formulas.
- :func:`checkerboard_sweeps`: the vectorised NumPy checkerboard Metropolis or
  heat-bath update of a bipartite lattice, all chains at once. Given the same
  spins and stream states it equals the compiled kernel bit for bit (the
  kernel's sequential sweep over one colour is the same as this simultaneous
  update, because sites of one colour do not interact).
- :func:`table_sweeps`: single-spin flips through a neighbour table in a
  fixed visiting order, one Python loop per chain (any lattice, bipartite or
  not; the twin of the table and square-lattice kernels).
- :func:`graph_sweeps`: single-spin flips on a general coupling graph (CSR J),
  with the kernel's order of floating-point operations and libm's exp.
- :func:`wolff_sweeps`: the Wolff update, one Python loop per chain.
"""

import math


import numpy as np
from scipy.special import expit

from heatbath.reference.random import bit_generators, states_of

__all__ = ["ising_energy", "bm_energy", "checkerboard_sweeps", "table_sweeps", "graph_sweeps",
           "wolff_sweeps"]


def _bonds(s, periodic):
    """Sum of s_i s_j over nearest-neighbour bonds; s has shape (n_chains, *shape)."""
    total = np.zeros(s.shape[0], dtype=np.int64)
    for axis in range(1, s.ndim):
        prod = s * np.roll(s, -1, axis=axis)
        if not periodic[axis - 1]:
            prod = np.delete(prod, -1, axis=axis)
        total += prod.reshape(s.shape[0], -1).sum(axis=1)
    return total


def _neighbour_sum(s, periodic):
    total = np.zeros_like(s)
    for axis in range(1, s.ndim):
        for shift in (1, -1):
            nb = np.roll(s, shift, axis=axis)
            if not periodic[axis - 1]:
                edge = [slice(None)] * s.ndim
                edge[axis] = 0 if shift == 1 else -1
                nb[tuple(edge)] = 0
            total += nb
    return total


def ising_energy(states, shape, J=1.0, h=0.0, periodic=True):
    """Ising energies -J sum_<ij> s_i s_j - h sum_i s_i of states (n_chains, n)."""
    shape = tuple(shape)
    periodic = (periodic,) * len(shape) if np.ndim(periodic) == 0 else tuple(periodic)
    s = np.asarray(states, dtype=np.int64).reshape((-1,) + shape)
    return -J * _bonds(s, periodic) - h * s.reshape(s.shape[0], -1).sum(axis=1)


def bm_energy(states, J, h):
    """Boltzmann-machine energies -s J s / 2 - h s, with dense J."""
    s = np.asarray(states, dtype=np.float64)
    return -0.5 * np.einsum("ci,ij,cj->c", s, np.asarray(J, dtype=float), s) - s @ h


def checkerboard_sweeps(shape, spins, states, temperature, n_sweeps, *, J=1.0, h=0.0,
                        periodic=True, algorithm="metropolis"):
    """Checkerboard Metropolis or heat-bath sweeps, vectorised over chains and sites.

    Returns ``(spins, states, bonds, magnetization, accepted)``: the final spins
    and stream states, the bond sum and magnetisation after each sweep, shape
    ``(n_sweeps, n_chains)``, and the accepted flips per chain.
    """
    shape = tuple(shape)
    periodic = (periodic,) * len(shape) if np.ndim(periodic) == 0 else tuple(periodic)
    if not all(not p or side % 2 == 0 for side, p in zip(shape, periodic)):
        raise ValueError("the checkerboard twin needs a bipartite lattice "
                         "(even sides where periodic)")
    n_chains = spins.shape[0]
    s = np.array(spins, dtype=np.int64).reshape((n_chains,) + shape)
    parity = (np.indices(shape).sum(axis=0) & 1).ravel()
    sites = [np.flatnonzero(parity == c) for c in (0, 1)]
    z = 2 * len(shape)
    T = np.broadcast_to(np.asarray(temperature, dtype=float), (n_chains,))
    beta = np.where(np.isinf(T), 0.0, 1.0 / T)
    gens = [np.random.Generator(bg) for bg in bit_generators(states)]
    n = int(np.prod(shape))
    bonds = np.empty((n_sweeps, n_chains), dtype=np.int64)
    mags = np.empty((n_sweeps, n_chains), dtype=np.int64)
    accepted = np.zeros(n_chains, dtype=np.int64)
    rows = np.arange(n_chains)[:, None]
    for sweep in range(n_sweeps):
        u = np.stack([g.random(n) for g in gens])
        start = 0
        for colour in (0, 1):
            idx = sites[colour]
            sigma = _neighbour_sum(s, periodic).reshape(n_chains, n)[:, idx]
            flat = s.reshape(n_chains, n)
            si = flat[:, idx]
            x = beta[:, None] * 2.0 * si * (J * sigma + h)
            with np.errstate(over="ignore"):
                if algorithm == "metropolis":  # 1/2 at beta dE = 0: see flip_probabilities
                    q = np.where(x == 0.0, 0.5, np.minimum(1.0, np.exp(-x)))
                else:
                    q = expit(-x)
            flip = u[:, start:start + idx.size] < q
            flat[rows, idx[None, :]] = np.where(flip, -si, si)
            accepted += flip.sum(axis=1)
            start += idx.size
        bonds[sweep] = _bonds(s, periodic)
        mags[sweep] = s.reshape(n_chains, n).sum(axis=1)
    final_states = states_of([g.bit_generator for g in gens])
    return s.reshape(n_chains, n).astype(np.int8), final_states, bonds, mags, accepted


def _bounded(bg, n):
    """Uniform integer in [0, n) from raw 64-bit draws (Lemire), as the kernels do."""
    m = (int(bg.random_raw()) >> 32) * n
    low = m & 0xFFFFFFFF
    if low < n:
        threshold = (2**32 - n) % n
        while low < threshold:
            m = (int(bg.random_raw()) >> 32) * n
            low = m & 0xFFFFFFFF
    return m >> 32


def wolff_sweeps(neighbors, spins, states, temperature, n_sweeps, *, J=1.0,
                 clusters_per_sweep=1):
    """Wolff cluster sweeps, one Python loop per chain.

    ``neighbors`` is the model's table (n, z), -1 for a missing neighbour.
    Returns ``(spins, states, magnetization)`` with magnetisation after each
    sweep, shape ``(n_sweeps, n_chains)``.
    """
    nbr = np.asarray(neighbors)
    spins = np.array(spins, dtype=np.int8)
    n_chains, n = spins.shape
    T = np.broadcast_to(np.asarray(temperature, dtype=float), (n_chains,))
    beta = np.where(np.isinf(T), 0.0, 1.0 / T)
    p_add = -np.expm1(-2.0 * beta * J)
    thr = np.ceil(p_add * 2.0**53).astype(np.uint64)
    gens = bit_generators(states)
    mags = np.empty((n_sweeps, n_chains), dtype=np.int64)
    for c in range(n_chains):
        s, bg, t = spins[c], gens[c], int(thr[c])
        for sweep in range(n_sweeps):
            for _ in range(clusters_per_sweep):
                i = _bounded(bg, n)
                old = s[i]
                s[i] = -old
                stack = [i]
                while stack:
                    i = stack.pop()
                    for j in nbr[i]:
                        if j >= 0 and s[j] == old and (int(bg.random_raw()) >> 11) < t:
                            s[j] = -old
                            stack.append(j)
            mags[sweep, c] = s.sum(dtype=np.int64)
    return spins, states_of(gens), mags


def _record(sweep, burn_in, thin):
    return sweep >= burn_in and (sweep - burn_in + 1) % thin == 0


def table_sweeps(order, neighbors, spins, states, thresholds, burn_in, n_sweeps, thin=1):
    """Flip sweeps through a neighbour table, one Python loop per chain.

    Site ``order[t]`` is visited at step t; it flips when the top 53 bits of one
    raw draw are below ``thresholds[c, (s > 0) * (2z + 1) + sigma + z]`` (sigma:
    the neighbour sum; see :func:`heatbath.spin.samplers.flip_probabilities`).
    Returns ``(spins, states, bonds, magnetization, accepted)`` with the bond
    sum (each site with its first z/2 neighbours) and magnetisation after every
    ``thin``-th sweep after ``burn_in``, shape ``(n_recorded, n_chains)``.
    """
    nbr = np.asarray(neighbors)
    z = nbr.shape[1]
    spins = np.array(spins, dtype=np.int8)
    thr = np.asarray(thresholds, dtype=np.uint64)
    n_chains, n = spins.shape
    gens = bit_generators(states)
    n_rec = n_sweeps // thin
    bonds = np.empty((n_rec, n_chains), dtype=np.int64)
    mags = np.empty((n_rec, n_chains), dtype=np.int64)
    accepted = np.zeros(n_chains, dtype=np.int64)
    for c in range(n_chains):
        s, bg, rec = [int(x) for x in spins[c]], gens[c], 0
        table = [int(t) for t in thr[c]]
        for sweep in range(burn_in + n_sweeps):
            for i in order:
                sigma = sum(s[j] for j in nbr[i] if j >= 0)
                if (int(bg.random_raw()) >> 11) < table[(s[i] > 0) * (2 * z + 1) + sigma + z]:
                    s[i] = -s[i]
                    accepted[c] += 1
            if _record(sweep, burn_in, thin):
                bonds[rec, c] = sum(s[i] * s[j] for i in range(n) for j in nbr[i][:z // 2]
                                    if j >= 0)
                mags[rec, c] = sum(s)
                rec += 1
        spins[c] = s
    return spins, states_of(gens), bonds, mags, accepted


def graph_sweeps(indptr, indices, data, h, spins, states, temperature, burn_in, n_sweeps,
                 thin=1, algorithm="metropolis"):
    """Flip sweeps on a general graph (CSR couplings), sites 0..n-1 in order.

    Local fields and energies are summed in CSR order and q uses libm's exp
    (Python's ``math.exp``), as the kernel does, so the results are bit for
    bit the same. Returns ``(spins, states, energy, magnetization, accepted)``,
    records of shape ``(n_recorded, n_chains)``.
    """
    spins = np.array(spins, dtype=np.int8)
    n_chains, n = spins.shape
    T = np.broadcast_to(np.asarray(temperature, dtype=float), (n_chains,))
    betas = np.where(np.isinf(T), 0.0, 1.0 / T)
    gens = [np.random.Generator(bg) for bg in bit_generators(states)]
    indptr, indices = [int(x) for x in indptr], [int(x) for x in indices]
    data, h = [float(x) for x in data], [float(x) for x in h]
    n_rec = n_sweeps // thin
    energy = np.empty((n_rec, n_chains))
    mags = np.empty((n_rec, n_chains), dtype=np.int64)
    accepted = np.zeros(n_chains, dtype=np.int64)

    def field(s, i, start):
        f = start
        for k in range(indptr[i], indptr[i + 1]):
            f += data[k] * s[indices[k]]
        return f

    for c in range(n_chains):
        s, gen, beta, rec = [int(x) for x in spins[c]], gens[c], float(betas[c]), 0
        for sweep in range(burn_in + n_sweeps):
            for i in range(n):
                de = 2.0 * s[i] * field(s, i, h[i])
                u = gen.random()
                if algorithm == "heat_bath":
                    try:
                        q = 1.0 / (1.0 + math.exp(beta * de))
                    except OverflowError:
                        q = 0.0
                elif beta * de == 0.0:
                    q = 0.5
                else:
                    q = math.exp(-beta * de) if de > 0 else 1.0
                if u < q:
                    s[i] = -s[i]
                    accepted[c] += 1
            if _record(sweep, burn_in, thin):
                e = 0.0
                for i in range(n):
                    e -= s[i] * (0.5 * field(s, i, 0.0) + h[i])
                energy[rec, c] = e
                mags[rec, c] = sum(s)
                rec += 1
        spins[c] = s
    return spins, states_of([g.bit_generator for g in gens]), energy, mags, accepted
