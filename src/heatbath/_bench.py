"""Benchmark cases: each compiled kernel against its NumPy twin.

Used by ``heatbath bench`` (a table or JSON from one run) and by the
pytest-benchmark files in ``bench/``. A case prepares its inputs once, then
times ``heatbath()`` and ``reference()``; both do the same work, reported per
``work`` units (draws, chain-steps) so the figures read as ns per unit.
"""

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from heatbath import _markov, _random
from heatbath._openmp import effective_n_threads
from heatbath.markov import transition_cdf
from heatbath.reference import markov as ref_markov
from heatbath.reference import spin as ref_spin
from heatbath.spin import Ising, MetropolisSampler, WolffSampler
from heatbath.spin.exact import critical_temperature

__all__ = ["Case", "cases", "time_call", "run_cases"]


@dataclass
class Case:
    name: str
    unit: str  # what one unit of work is, for "ns per <unit>"
    work: int  # units of work per call
    heatbath: Callable[[], object]
    reference: Callable[[], object]
    reference_name: str


def _rng_cases(n_draws, n_threads):
    states = _random.spawn_states(0, 1)
    out_xor = np.empty(1, dtype=np.uint64)
    out_sum = np.empty(1, dtype=np.float64)
    fill = np.empty((1, n_draws), dtype=np.float64)
    gen = np.random.Generator(np.random.SFC64(0))
    bitgen = np.random.SFC64(0)
    many = _random.spawn_states(1, 64)
    out_many = np.empty(64, dtype=np.uint64)
    return [
        Case("rng: uint64 draw in a kernel, 1 thread", "draw", n_draws,
             lambda: _random._xor_raw(states, n_draws, out_xor, 1),
             lambda: bitgen.random_raw(n_draws), "numpy SFC64.random_raw"),
        Case("rng: float64 draw in a kernel, 1 thread", "draw", n_draws,
             lambda: _random._sum_uniform(states, n_draws, out_sum, 1),
             lambda: gen.random(n_draws), "numpy Generator.random"),
        Case("rng: fill float64 array, 1 thread", "draw", n_draws,
             lambda: _random._fill_uniform(states, fill, 1),
             lambda: gen.random(out=fill[0]), "numpy Generator.random(out=)"),
        Case(f"rng: uint64 draw in a kernel, 64 chains, {n_threads} threads", "draw",
             n_draws,
             lambda: _random._xor_raw(many, n_draws // 64, out_many, n_threads),
             lambda: bitgen.random_raw(n_draws), "numpy SFC64.random_raw"),
    ]


def _markov_case(n_states, n_chains, n_steps, n_threads):
    rng = np.random.default_rng(0)
    P = rng.random((n_states, n_states)) ** 4
    P /= P.sum(axis=1, keepdims=True)
    cdf = transition_cdf(P)
    x0 = np.zeros(n_chains, dtype=np.int64)
    path = np.empty((n_chains, n_steps), dtype=np.int64)
    counts = np.empty((n_chains, 0), dtype=np.int64)
    states = _random.spawn_states(0, n_chains)
    return Case(
        f"markov.simulate: {n_states} states, {n_chains} chains, {n_threads} threads",
        "chain-step", n_chains * n_steps,
        lambda: _markov._simulate(cdf, x0, states, path, counts, 0, n_steps, 1, n_threads),
        lambda: ref_markov.simulate(P, x0, n_steps, states.copy()),
        "heatbath.reference.markov.simulate",
    )


def _ising_case(L, n_chains, n_sweeps, n_threads, reference_sweeps=None):
    model = Ising((L, L))
    sampler = MetropolisSampler(model, critical_temperature(), n_chains=n_chains, seed=0,
                                n_threads=n_threads)
    spins, streams = sampler.spins, sampler.get_state()["stream_state"]
    ref_sweeps = reference_sweeps or n_sweeps
    work = n_chains * model.n_spins
    return Case(
        f"ising 2D Metropolis: {n_chains} x {L}x{L}, {n_threads} thread(s)",
        "attempted flip", work * n_sweeps,
        lambda: sampler.run(n_sweeps),
        # The twin is slow: it runs fewer sweeps, and its time is scaled up.
        _Scaled(lambda: ref_spin.checkerboard_sweeps((L, L), spins, streams,
                                                     critical_temperature(), ref_sweeps),
                n_sweeps / ref_sweeps),
        "heatbath.reference.spin.checkerboard_sweeps (NumPy, vectorised)",
    )


def _wolff_case(L, n_clusters, n_threads):
    model = Ising((L, L))
    sampler = WolffSampler(model, critical_temperature(), n_chains=1, seed=0,
                           n_threads=n_threads, clusters_per_sweep=n_clusters)
    sampler.run(20)
    spins, streams = sampler.spins, sampler.get_state()["stream_state"]
    ref_clusters = max(1, n_clusters // 20)
    return Case(
        f"ising 2D Wolff at T_c: {L}x{L}, 1 chain", "cluster", n_clusters,
        lambda: sampler.run(1),
        _Scaled(lambda: ref_spin.wolff_sweeps(model.neighbors, spins, streams,
                                              critical_temperature(), 1,
                                              clusters_per_sweep=ref_clusters),
                n_clusters / ref_clusters),
        "heatbath.reference.spin.wolff_sweeps (Python loop)",
    )


class _Scaled:
    """A reference call doing 1/factor of the case's work (for slow twins).

    Timings of it are multiplied by ``factor`` (run_cases, bench/conftest.py).
    """

    def __init__(self, fn, factor):
        self.fn, self.factor = fn, factor

    def __call__(self):
        return self.fn()


def cases(quick=False, n_threads=None):
    """The benchmark cases; ``quick`` makes every one small (for CI)."""
    n_threads = effective_n_threads(n_threads)
    n_draws = 2**14 if quick else 2**24
    steps = (20, 50) if quick else (1000, 500)
    if quick:
        ising = [_ising_case(16, 4, 2, 1), _ising_case(16, 4, 2, n_threads)]
        wolff = [_wolff_case(16, 20, 1)]
    else:
        ising = [_ising_case(1024, 1, 10, 1, reference_sweeps=2),
                 _ising_case(64, 64, 50, 1, reference_sweeps=5),
                 _ising_case(64, 64, 50, n_threads, reference_sweeps=5)]
        wolff = [_wolff_case(32, 2000, 1)]
    return _rng_cases(n_draws, n_threads) + [
        _markov_case(50, steps[0] * 10, steps[1], n_threads),
    ] + ising + wolff


def time_call(fn, min_time=0.2, repeat=5):
    """Best seconds per call of ``fn`` over ``repeat`` rounds of >= ``min_time``."""
    fn()  # warm up (first-touch page faults, lazy imports)
    best = float("inf")
    for _ in range(repeat):
        n, elapsed = 0, 0.0
        start = time.perf_counter()
        while elapsed < min_time or n == 0:
            fn()
            n += 1
            elapsed = time.perf_counter() - start
        best = min(best, elapsed / n)
    return best


def run_cases(quick=False, n_threads=None):
    """Time every case once; return a list of result dicts (ns per unit)."""
    min_time, repeat = (0.01, 1) if quick else (0.2, 5)
    results = []
    for case in cases(quick=quick, n_threads=n_threads):
        t_hb = time_call(case.heatbath, min_time, repeat)
        t_ref = time_call(case.reference, min_time, repeat)
        t_ref *= getattr(case.reference, "factor", 1.0)
        results.append({
            "name": case.name,
            "unit": f"ns/{case.unit}",
            "heatbath": 1e9 * t_hb / case.work,
            "reference": 1e9 * t_ref / case.work,
            "reference_name": case.reference_name,
            "ratio": t_ref / t_hb,
        })
    return results
