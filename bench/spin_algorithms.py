"""The README's "which algorithm when" table, from one run: python bench/spin_algorithms.py

2D Ising at T_c, periodic L x L. For each sampler: the time per sweep of one
system (a multispin sweep updates 64 replicas: its time is divided by 64),
attempted flips per ns, tau_int of |m| in sweeps (Sokal window, averaged
over chains) and the time per independent sample, 2 tau_int x time per
sweep. The multispin rows differ only in the number of blocks of 64
replicas per thread (1 or 4: the kernel updates up to 4 blocks at once with
vector instructions). The time per sweep is the best of two short runs; tau_int comes from
a separate long run of the same chains (at least 100 tau_int for every
sampler at L = 64: single-spin tau_int grows like L^2.17 at T_c). The NumPy checkerboard is /work/shared/baselines/ising_numpy.py
Sublattice (skipped when absent), the fastest plain NumPy we know.
"""

import os
import sys
import time

import numpy as np

from heatbath.diagnostics import tau_int
from heatbath.spin import (Ising, MetropolisSampler, MultispinSampler, SwendsenWangSampler,
                           WolffSampler)
from heatbath.spin.exact import critical_temperature

T = critical_temperature()


def _timed(sampler, n_sweeps, burn_in):
    sampler.run(0, burn_in=burn_in)
    best = np.inf
    for _ in range(2):
        t = time.perf_counter()
        trace = sampler.run(n_sweeps)
        best = min(best, time.perf_counter() - t)
    return trace, best


def row(name, sampler, n_sweeps, burn_in, systems, sweep_flips, n_tau_sweeps, tau=None):
    """One table row; with ``tau`` given (the same dynamics measured in another row), no tau run."""
    trace, seconds = _timed(sampler, n_sweeps, burn_in)
    per_sweep = seconds / n_sweeps / systems
    if tau is None:
        trace = sampler.run(n_tau_sweeps)
        tau = tau_int(np.abs(trace["magnetization"]))
    return [name, f"{per_sweep * 1e6:.1f}", f"{sweep_flips / per_sweep / 1e9:.3f}",
            f"{tau:.1f}", f"{2 * tau * per_sweep * 1e3:.3f}"]


def main(L=64, n_threads=2):
    model = Ising((L, L))
    n = model.n_spins
    rows = []
    single = max(20_000, int(100_000 * (L / 64) ** 2.17))   # sweeps for single-spin tau_int
    rows.append(row("Metropolis (scalar kernel), 2 chains", MetropolisSampler(
        model, temperature=T, n_chains=2, seed=0, n_threads=n_threads), 2000, 5000, 2, n, single))
    rows.append(row("Multispin Metropolis, 2 x 64 replicas", MultispinSampler(
        model, temperature=T, n_chains=128, seed=0, n_threads=n_threads), 2000, 5000, 128, n,
        single // 2))
    # 8 blocks: the kernel updates 4 blocks at once per thread (its vector
    # path); the dynamics, hence tau_int, are those of the row above.
    rows.append(row("Multispin Metropolis, 8 x 64 replicas", MultispinSampler(
        model, temperature=T, n_chains=512, seed=0, n_threads=n_threads), 1000, 2000, 512, n,
        0, tau=float(rows[-1][3])))
    rows.append(row("Swendsen-Wang, 2 chains", SwendsenWangSampler(
        model, temperature=T, n_chains=2, seed=0, n_threads=n_threads), 2000, 100, 2, n, 20_000))
    wolff = WolffSampler(model, temperature=T, n_chains=2, seed=0, n_threads=n_threads,
                         clusters_per_sweep=1)
    pilot = wolff.run(500)
    wolff.clusters_per_sweep = max(1, round(n / float(np.mean(pilot.info["mean_cluster_size"]))))
    rows.append(row(f"Wolff ({wolff.clusters_per_sweep} clusters per sweep), 2 chains", wolff,
                    2000, 100, 2, n, 20_000))
    sys.path.insert(0, "/work/shared/baselines")
    try:
        from ising_numpy import Sublattice
    except ImportError:
        Sublattice = None
    if Sublattice is not None:
        S = np.ones((64, L, L), np.int8)
        ref = Sublattice(S, T, np.random.default_rng(0))
        t = time.perf_counter()
        for _ in range(20):
            ref.sweep()
        per_sweep = (time.perf_counter() - t) / 20 / 64
        rows.append(["NumPy checkerboard (shared Sublattice), 64 chains",
                     f"{per_sweep * 1e6:.1f}", f"{n / per_sweep / 1e9:.3f}", "-", "-"])
    head = ["sampler", "us per sweep", "flips per ns", "tau_int |m| (sweeps)",
            "ms per independent sample"]
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    print(f"2D Ising at T_c, L = {L}, {n_threads} threads, {time.strftime('%Y-%m-%d %H:%M')}, "
          f"load average {os.getloadavg()[0]:.1f}")
    for r in [head] + rows:
        print("| " + " | ".join(str(x).ljust(w) for x, w in zip(r, widths)) + " |")


if __name__ == "__main__":
    main(*(int(x) for x in sys.argv[1:]))
