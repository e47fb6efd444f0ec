"""Bench cases: finite Markov chains (heatbath.markov)."""

import numpy as np

from heatbath import _random, markov
from heatbath._bench import Side, case
from heatbath._benchcases._numpy import markov_simulate
from heatbath.reference import markov as twin


@case("markov", "markov-simulate-50states", unit="step", sides=("twin", "numpy"))
def _simulate(quick, n_threads):
    n_states, n_chains, n_steps = (50, 200, 50) if quick else (50, 10000, 500)
    rng = np.random.default_rng(0)
    P = rng.random((n_states, n_states)) ** 4
    P /= P.sum(axis=1, keepdims=True)
    cdf = markov.transition_cdf(P)
    x0 = np.zeros(n_chains, dtype=np.int64)
    states = _random.spawn_states(0, n_chains)
    x = x0.copy()
    gen = np.random.default_rng(1)
    return dict(
        work=n_chains * n_steps,
        title=f"{n_states} states, {n_chains} chains x {n_steps} steps, {n_threads} thread(s)",
        heatbath=lambda: markov.simulate(P, 0, n_steps, n_chains=n_chains, seed=0,
                                         n_threads=n_threads),
        twin=Side(lambda: twin.simulate(P, x0, n_steps, states.copy()), "reference.markov"),
        numpy=Side(lambda: markov_simulate(cdf, x, n_steps, gen), "NumPy inverse CDF"))
