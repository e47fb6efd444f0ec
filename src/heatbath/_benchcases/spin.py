"""Bench cases: spin systems (heatbath.spin)."""

import numpy as np

from heatbath._bench import Side, case, load_shared
from heatbath._benchcases._numpy import IsingCheckerboard
from heatbath.reference import spin as twin
from heatbath.spin import Ising, MetropolisSampler, WolffSampler
from heatbath.spin.exact import critical_temperature


def _ising(L, n_chains, n_sweeps, n_threads, twin_sweeps):
    T = critical_temperature()
    model = Ising((L, L))
    sampler = MetropolisSampler(model, temperature=T, n_chains=n_chains, seed=0,
                                n_threads=n_threads)
    spins, streams = sampler.spins.copy(), sampler.get_state()["stream_state"]
    start = spins.reshape((n_chains, L, L) if n_chains > 1 else (L, L))
    ours = IsingCheckerboard(start, T, np.random.default_rng(0))
    sides = dict(
        work=n_chains * L * L * n_sweeps,
        title=f"Metropolis {n_chains} x {L}^2, {n_threads} thread(s), {n_sweeps} sweeps",
        heatbath=lambda: sampler.run(n_sweeps),
        # The twin is slow: it runs fewer sweeps, and its time is scaled up.
        twin=Side(lambda: twin.checkerboard_sweeps((L, L), spins, streams, T, twin_sweeps),
                  "reference.spin", n_sweeps / twin_sweeps),
        numpy=Side(lambda: [ours.sweep() for _ in range(n_sweeps)],
                   "NumPy checkerboard"))
    shared = load_shared("ising_numpy")
    if shared is not None:
        theirs = shared.Sublattice(start.astype(np.int8), T, np.random.default_rng(0))
        sides["shared_sublattice"] = Side(lambda: [theirs.sweep() for _ in range(n_sweeps)],
                                          "shared Sublattice")
    return sides


_SIDES = ("twin", "numpy", "shared_sublattice")


@case("spin", "ising-metropolis-1024sq-1t", unit="flip", sides=_SIDES, demo=True)
def _ising_big(quick, n_threads):
    return _ising(16, 1, 2, 1, 1) if quick else _ising(1024, 1, 10, 1, 2)


@case("spin", "ising-metropolis-64x64sq-1t", unit="flip", sides=_SIDES)
def _ising_many_1(quick, n_threads):
    return _ising(16, 4, 2, 1, 1) if quick else _ising(64, 64, 50, 1, 5)


@case("spin", "ising-metropolis-64x64sq-nt", unit="flip", sides=_SIDES, demo=True)
def _ising_many_n(quick, n_threads):
    return _ising(16, 4, 2, n_threads, 1) if quick else _ising(64, 64, 50, n_threads, 5)


@case("spin", "ising-wolff-32sq", unit="cluster", sides=("twin",))
def _wolff(quick, n_threads):
    L, n_clusters = (16, 20) if quick else (32, 2000)
    T = critical_temperature()
    model = Ising((L, L))
    sampler = WolffSampler(model, temperature=T, n_chains=1, seed=0, n_threads=1,
                           clusters_per_sweep=n_clusters)
    sampler.run(20)
    spins, streams = sampler.spins, sampler.get_state()["stream_state"]
    twin_clusters = max(1, n_clusters // 20)
    # The twin is a plain Python loop over a stack, which is what a user would write too.
    return dict(work=n_clusters, title=f"Wolff at T_c, {L}^2, 1 chain",
                heatbath=lambda: sampler.run(1),
                twin=Side(lambda: twin.wolff_sweeps(model.neighbors, spins, streams, T, 1,
                                                    clusters_per_sweep=twin_clusters),
                          "twin (Python loop)", n_clusters / twin_clusters))
