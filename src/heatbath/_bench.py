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
    sampler = MetropolisSampler(model, temperature=critical_temperature(), n_chains=n_chains, seed=0,
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
    sampler = WolffSampler(model, temperature=critical_temperature(), n_chains=1, seed=0,
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


def _rbm_data(n, nv, density, dtype):
    """MNIST-like binary rows (pixel density ~0.13), made here: no downloads."""
    return (np.random.default_rng(0).random((n, nv)) < density).astype(dtype)


def _numpy_gibbs_step(W, a, b, V, rng):
    """Hand-written NumPy block Gibbs step (one generator for all chains)."""
    ph = 1.0 / (1.0 + np.exp(-(b + V @ W)))
    H = (rng.random(ph.shape, dtype=ph.dtype) < ph).astype(ph.dtype)
    pv = 1.0 / (1.0 + np.exp(-(a + H @ W.T)))
    return (rng.random(pv.shape, dtype=pv.dtype) < pv).astype(pv.dtype)


def _numpy_cd(W, a, b, V0, k, lr, rng, persistent=None):
    """Hand-written NumPy CD-k / PCD-k update (the textbook loop)."""
    ph0 = 1.0 / (1.0 + np.exp(-(b + V0 @ W)))
    V = V0 if persistent is None else persistent
    H = (rng.random(ph0.shape, dtype=ph0.dtype) < ph0).astype(ph0.dtype) \
        if persistent is None else None
    for step in range(k):
        if H is None or step > 0:
            ph = 1.0 / (1.0 + np.exp(-(b + V @ W)))
            H = (rng.random(ph.shape, dtype=ph.dtype) < ph).astype(ph.dtype)
        pv = 1.0 / (1.0 + np.exp(-(a + H @ W.T)))
        V = (rng.random(pv.shape, dtype=pv.dtype) < pv).astype(pv.dtype)
    phk = 1.0 / (1.0 + np.exp(-(b + V @ W)))
    B = V0.shape[0]
    W += lr * (V0.T @ ph0 - V.T @ phk) / B
    a += lr * (V0.mean(axis=0) - V.mean(axis=0))
    b += lr * (ph0.mean(axis=0) - phk.mean(axis=0))
    return V


def _rbm_cd_case(nv, nh, batch, k, method, dtype, n_threads):
    from heatbath import RBM
    from heatbath.rbm.train import _Chains, cd_step

    model = RBM(nv, nh, dtype=dtype, seed=0)
    V0 = _rbm_data(batch, nv, 0.13, dtype)
    streams = _random.spawn_states(0, batch)
    velocity = [np.zeros_like(model.weights), np.zeros_like(model.visible_bias),
                np.zeros_like(model.hidden_bias)]
    persistent = (_Chains(model, _rbm_data(batch, nv, 0.13, dtype),
                          _random.spawn_states(1, batch), np.ones(batch))
                  if method == "pcd" else None)
    W, a, b = model.weights.copy(), model.visible_bias.copy(), model.hidden_bias.copy()
    rng = np.random.default_rng(0)
    chains = _rbm_data(batch, nv, 0.13, dtype) if method == "pcd" else None
    name = f"rbm {method.upper()}-{k}: {nv}x{nh}, batch {batch}, {np.dtype(dtype).name}"
    from heatbath.rbm._layers import single_threaded_blas

    def heatbath_update():
        with single_threaded_blas():  # as fit does
            cd_step(model, V0, k, streams, velocity, 1e-3, 0.0, 0.0, persistent, n_threads)

    return Case(
        name, "update", 1, heatbath_update,
        lambda: _numpy_cd(W, a, b, V0, k, 1e-3, rng, chains),
        "hand-written NumPy CD/PCD (vectorised, one Generator)",
    )


def _rbm_gibbs_case(nv, nh, n_chains, dtype, n_threads):
    from heatbath import RBM

    model = RBM(nv, nh, dtype=dtype, seed=0)
    sampler = model.gibbs_sampler(n_chains=n_chains, seed=0, n_threads=n_threads,
                                  init=_rbm_data(n_chains, nv, 0.13, dtype))
    W, a, b = model.weights, model.visible_bias, model.hidden_bias
    V = _rbm_data(n_chains, nv, 0.13, dtype)
    rng = np.random.default_rng(0)
    return Case(
        f"rbm block Gibbs: {n_chains} chains, {nv}x{nh}, {np.dtype(dtype).name}", "chain-step",
        n_chains, lambda: sampler.run(0, burn_in=1), lambda: _numpy_gibbs_step(W, a, b, V, rng),
        "hand-written NumPy Gibbs step (vectorised, one Generator)",
    )


def _sklearn_case(n_hidden, dtype, epochs):
    """heatbath's fit against sklearn.neural_network.BernoulliRBM.fit, same settings."""
    try:
        from sklearn.neural_network import BernoulliRBM
    except ImportError:
        return None
    from heatbath import RBM
    from heatbath.cli import load_digits_binary

    X = load_digits_binary()[0].astype(dtype)

    def ours():
        RBM(64, n_hidden, dtype=dtype, seed=0).fit(X, epochs=epochs, batch_size=10,
                                                   method="pcd", learning_rate=0.1, seed=0)

    def theirs():
        BernoulliRBM(n_components=n_hidden, n_iter=epochs, batch_size=10, learning_rate=0.1,
                     random_state=0).fit(X)

    return Case(f"rbm fit vs sklearn: digits 64x{n_hidden}, PCD-1, batch 10, "
                f"{epochs} epochs, {np.dtype(dtype).name}", "fit", 1, ours, theirs,
                "sklearn.neural_network.BernoulliRBM.fit")


def _numpy_ais(W, a, b, a0, betas, rng):
    """Hand-written NumPy AIS (Salakhutdinov & Murray 2008) for a Bernoulli RBM."""
    n = 100
    dt = W.dtype
    v = (rng.random((n, W.shape[0]), dtype=dt) < 1.0 / (1.0 + np.exp(-a0))).astype(dt)
    log_w = np.zeros(n)

    def log_f(beta, v, c):
        m = a0 + beta * (a - a0)
        return v @ m + np.logaddexp(0.0, beta * (b + c)).sum(axis=1)

    c = v @ W
    for k in range(1, len(betas)):
        log_w += log_f(betas[k], v, c) - log_f(betas[k - 1], v, c)
        beta = betas[k]
        ph = 1.0 / (1.0 + np.exp(-beta * (b + c)))
        h = (rng.random(ph.shape, dtype=dt) < ph).astype(dt)
        pv = 1.0 / (1.0 + np.exp(-((h @ W.T) * dt.type(beta) + (a0 + beta * (a - a0)))))
        v = (rng.random(pv.shape, dtype=dt) < pv).astype(dt)
        c = v @ W
    return log_w


def _ais_case(nv, nh, n_betas, n_threads):
    from heatbath import RBM
    from heatbath.rbm.estimators import ais_schedule

    model = RBM(nv, nh, dtype=np.float32, seed=0)
    X = _rbm_data(1000, nv, 0.13, np.float32)
    a0 = model.visible.bias_from_data(X)
    betas = ais_schedule(n_betas)
    rng = np.random.default_rng(0)
    return Case(
        f"rbm AIS: 100 runs x {n_betas} betas, {nv}x{nh}, float32, {n_threads} thread(s)",
        "run-beta", 100 * (n_betas - 1),
        lambda: model.log_partition("ais", n_runs=100, n_betas=n_betas, data=X, seed=1,
                                    n_threads=n_threads),
        lambda: _numpy_ais(model.weights, model.visible_bias.astype(float),
                           model.hidden_bias.astype(float), a0, betas, rng),
        "hand-written NumPy AIS loop (vectorised, one Generator)",
    )


def _exact_log_z_case(nv, nh, n_threads):
    from heatbath import RBM
    from scipy.special import logsumexp

    model = RBM(nv, nh, seed=0)
    W, a, b = model.weights, model.visible_bias, model.hidden_bias

    def numpy_exact():
        # Enumerate the hidden states (bits of 0..2**nh - 1) in chunks; sum v out.
        parts = []
        for start in range(0, 2**nh, 2**14):
            idx = np.arange(start, min(start + 2**14, 2**nh))
            H = ((idx[:, None] >> np.arange(nh)) & 1).astype(float)
            parts.append(logsumexp(H @ b + np.logaddexp(0.0, a + H @ W.T).sum(axis=1)))
        return logsumexp(parts)

    return Case(f"rbm exact log Z: {nv} visible x {nh} hidden (2**{nh} states), "
                f"{n_threads} thread(s)", "state", 2**nh,
                lambda: model.log_partition(n_threads=n_threads), numpy_exact,
                "hand-written NumPy enumeration (chunked, logaddexp)")


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
    if quick:
        rbm = [_rbm_cd_case(20, 10, 10, 1, "cd", np.float32, n_threads),
               _rbm_gibbs_case(20, 10, 16, np.float32, n_threads),
               _ais_case(20, 10, 20, n_threads), _exact_log_z_case(8, 6, n_threads)]
    else:
        rbm = [_rbm_cd_case(784, 500, 100, k, m, dt, n_threads)
               for (m, k) in (("cd", 1), ("cd", 10), ("pcd", 1))
               for dt in (np.float32, np.float64)]
        rbm += [_rbm_gibbs_case(784, 500, 1000, np.float32, n_threads)]
        rbm += [c for c in (_sklearn_case(nh, dt, 10) for nh in (64, 256)
                            for dt in (np.float64, np.float32)) if c is not None]
        # AIS: 1,000 of the 10,000 betas of the size (the time is linear in
        # the betas; a full run is timed once in the README).
        rbm += [_ais_case(784, 500, 1000, n_threads), _exact_log_z_case(64, 20, n_threads)]
    return _rng_cases(n_draws, n_threads) + [
        _markov_case(50, steps[0] * 10, steps[1], n_threads),
    ] + ising + wolff + rbm


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


def demo_cases(quick=False, n_threads=None):
    """A few main kernels at sizes that time in about a second each (heatbath demo)."""
    n_threads = effective_n_threads(n_threads)
    if quick:
        return cases(quick=True, n_threads=n_threads)
    return ([_rng_cases(2**22, n_threads)[0],
             _ising_case(256, 1, 20, 1, reference_sweeps=4),
             _ising_case(64, 64, 20, n_threads, reference_sweeps=4)]
            + [_rbm_gibbs_case(784, 500, 100, np.float32, n_threads),
               _rbm_cd_case(784, 500, 100, 1, "cd", np.float32, n_threads)])


def run_cases(quick=False, n_threads=None, selection="all"):
    """Time every case once; return a list of result dicts (ns per unit)."""
    min_time, repeat = (0.01, 1) if quick else (0.2, 5)
    chosen = demo_cases(quick, n_threads) if selection == "demo" else \
        cases(quick=quick, n_threads=n_threads)
    if selection == "demo" and not quick:
        min_time, repeat = 0.1, 3
    results = []
    for case in chosen:
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
