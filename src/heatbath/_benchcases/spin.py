"""Bench cases: spin systems (heatbath.spin)."""

import numpy as np

from heatbath._bench import Side, case, load_shared
from heatbath._benchcases._numpy import IsingCheckerboard
from heatbath.reference import spin as twin
from heatbath.reference import swendsen_wang as sw_twin
from heatbath.spin import (Ising, MetropolisSampler, MultispinSampler, SwendsenWangSampler,
                           WolffSampler)
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
    _add_shared_sublattice(sides, start, T, n_sweeps)
    return sides


def _add_shared_sublattice(sides, start, T, n_sweeps):
    """The shared baselines' NumPy checkerboard (``Sublattice``), where it is present."""
    shared = load_shared("ising_numpy")
    if shared is not None:
        theirs = shared.Sublattice(start.astype(np.int8), T, np.random.default_rng(0))
        sides["shared_sublattice"] = Side(lambda: [theirs.sweep() for _ in range(n_sweeps)],
                                          "shared Sublattice")


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


def _multispin(L, n_blocks, n_sweeps, n_threads):
    T = critical_temperature()
    model = Ising((L, L))
    sampler = MultispinSampler(model, temperature=T, n_chains=64 * n_blocks, seed=0,
                               n_threads=n_threads)
    start = sampler.spins.reshape(64 * n_blocks, L, L)
    ours = IsingCheckerboard(start.copy(), T, np.random.default_rng(0))
    sides = dict(
        work=64 * n_blocks * L * L * n_sweeps,
        title=f"Multispin Metropolis {64 * n_blocks} x {L}^2, {n_threads} thread(s), "
              f"{n_sweeps} sweeps",
        heatbath=lambda: sampler.run(n_sweeps, thin=n_sweeps),
        numpy=Side(lambda: [ours.sweep() for _ in range(n_sweeps)], "NumPy checkerboard"))
    _add_shared_sublattice(sides, start, T, n_sweeps)
    return sides


@case("spin", "ising-multispin-128sq-nt", unit="flip", sides=("numpy", "shared_sublattice"),
      demo=True)
def _multispin_n(quick, n_threads):
    return _multispin(16, 1, 2, n_threads) if quick else _multispin(128, 2, 10, n_threads)


@case("spin", "ising-multispin-512x64sq-nt", unit="flip", sides=("numpy", "shared_sublattice"))
def _multispin_grouped(quick, n_threads):
    # 8 blocks of 64 replicas: each thread's group fills the 4 lanes of the vector kernel.
    return _multispin(16, 2, 2, n_threads) if quick else _multispin(64, 8, 10, n_threads)


@case("spin", "ising-swendsen-wang-64sq", unit="sweep", sides=("twin",))
def _swendsen_wang(quick, n_threads):
    L, n_chains, n_sweeps = (8, 2, 2) if quick else (64, 2, 50)
    T = critical_temperature()
    model = Ising((L, L))
    sampler = SwendsenWangSampler(model, temperature=T, n_chains=n_chains, seed=0,
                                  n_threads=n_threads)
    spins, streams = sampler.spins, sampler.get_state()["stream_state"]
    twin_sweeps = max(1, n_sweeps // 10)
    return dict(work=n_sweeps, title=f"Swendsen-Wang at T_c, {L}^2, {n_chains} chains",
                heatbath=lambda: sampler.run(n_sweeps),
                twin=Side(lambda: sw_twin.swendsen_wang_sweeps(model.neighbors, spins, streams,
                                                               T, twin_sweeps),
                          "twin (scipy components)", n_sweeps / twin_sweeps))
