"""Replica exchange against enumeration of an SK glass, and its swap rule against exact pairs.

False-alarm rates: each chi-square test (4 temperatures) fails a correct
sampler with probability 1e-4; the swap-rate comparison allows 4 binomial
standard errors per pair (6.3e-5 each).
"""

import numpy as np
import pytest
from scipy import stats

import heatbath
from heatbath.spin import BoltzmannMachine, Ising, exact
from heatbath.spin.tempering import ReplicaExchange, swap_acceptance

TEMPERATURES = [0.3, 0.5, 0.8, 1.3]


@pytest.fixture(scope="module")
def sk():
    model = BoltzmannMachine.sherrington_kirkpatrick(12, seed=3)
    _, E, _ = exact.enumerate_states(model)
    return model, E


def _binned_chi_square_pvalue(E, T, samples, n_bins=20):
    """Energies in n_bins bins of about equal exact probability, against enumeration."""
    p = heatbath.boltzmann_probs(E, T)
    order = np.argsort(E, kind="stable")
    levels, cum = E[order], np.cumsum(p[order])
    edges = levels[np.searchsorted(cum, np.linspace(0, 1, n_bins + 1)[1:-1])]
    edges = np.unique(edges)
    expected = np.bincount(np.searchsorted(edges, E, side="right"), weights=p,
                           minlength=edges.size + 1) * samples.size
    observed = np.bincount(np.searchsorted(edges, samples, side="right"),
                           minlength=edges.size + 1)
    assert observed[expected == 0].sum() == 0
    keep = expected > 0
    return stats.chisquare(observed[keep], expected[keep]).pvalue


@pytest.mark.parametrize("algorithm", ["metropolis", "heat_bath"])
def test_sk_energy_histograms_against_enumeration(sk, algorithm):
    model, E = sk
    pt = ReplicaExchange(model, temperatures=TEMPERATURES, n_sets=3000, seed=5,
                         algorithm=algorithm, n_threads=1)
    trace = pt.run(1, burn_in=100)
    final = trace["energy"][-1].reshape(len(TEMPERATURES), -1)
    # energies are recorded in (temperature, set) order; compare with the states too
    np.testing.assert_allclose(model.energy(trace.final_state), trace["energy"][-1],
                               rtol=1e-12, atol=1e-12)
    for k, T in enumerate(TEMPERATURES):
        assert _binned_chi_square_pvalue(E, T, final[k]) > 1e-4, T
    assert np.all(trace.info["swap_rates"][~np.isnan(trace.info["swap_rates"])] > 0)


def test_swap_rates_equal_exact_pair_probabilities(sk):
    # After burn-in, one round: every set's swap attempt is an independent
    # Bernoulli draw whose mean is E[min(1, exp(dbeta dE))] under the product
    # of the two Boltzmann distributions, computed by enumeration.
    model, E = sk
    T = [0.6, 0.75, 0.95]
    pt = ReplicaExchange(model, temperatures=T, n_sets=10_000, seed=8, n_threads=1)
    pt.run(0, burn_in=60)
    for _ in range(2):                     # round parity alternates: both pairs once
        rates = pt.run(1).info["swap_rates"]
        k = int(np.flatnonzero(~np.isnan(rates))[0])
        levels, inverse = np.unique(E, return_inverse=True)   # E(s) = E(-s): half as many
        p_lo = np.bincount(inverse, heatbath.boltzmann_probs(E, T[k]))
        p_hi = np.bincount(inverse, heatbath.boltzmann_probs(E, T[k + 1]))
        pair = swap_acceptance(1 / T[k], 1 / T[k + 1], levels[:, None], levels[None, :])
        exact_rate = p_lo @ pair @ p_hi
        se = np.sqrt(exact_rate * (1 - exact_rate) / 10_000)
        assert abs(rates[k] - exact_rate) < 4 * se


def test_resume_round_trips_and_feedback():
    model = Ising((6, 6))
    T = [1.8, 2.1, 2.4, 2.8, 3.3]

    def make(**kw):
        return ReplicaExchange(model, **{"temperatures": T, "n_sets": 3, "seed": 2,
                                         "n_threads": 1, **kw})

    whole = make().run(60, burn_in=20)
    a = make()
    first = a.run(30, burn_in=20)
    b = make(seed=99)
    b.set_state(a.get_state())
    second = b.run(30)
    np.testing.assert_array_equal(np.vstack([first["energy"], second["energy"]]),
                                  whole["energy"])
    np.testing.assert_array_equal(second.final_state, whole.final_state)
    assert second.info["round_trips"] == whole.info["round_trips"] > 0
    for n_threads in (2, 3):
        np.testing.assert_array_equal(make(n_threads=n_threads).run(10)["energy"],
                                      make().run(10)["energy"])
    # feedback moves the inner temperatures during burn-in only, keeping the ends
    opt = make(optimize=True, n_sets=8)
    opt.run(0, burn_in=200)
    moved = opt.temperatures
    assert moved[0] == T[0] and moved[-1] == T[-1] and np.all(np.diff(moved) > 0)
    assert not np.array_equal(moved, T)
    opt.run(50)
    np.testing.assert_array_equal(opt.temperatures, moved)


def test_errors():
    model = Ising((4, 4))
    for kw, exc, match in [
        (dict(temperatures=[1.0]), ValueError, "at least 2"),
        (dict(temperatures=[2.0, 1.0]), ValueError, "increasing"),
        (dict(temperatures=[1.0, np.inf]), ValueError, "finite"),
        (dict(temperatures=[0.0, 1.0]), ValueError, "temperatures"),
        (dict(temperatures=[1.0, 2.0], algorithm="wolff"), ValueError, "algorithm"),
        (dict(temperatures=[1.0, 2.0], n_sets=0), ValueError, "n_sets"),
    ]:
        with pytest.raises(exc, match=match):
            ReplicaExchange(model, **kw)
    pt = ReplicaExchange(model, temperatures=[1.0, 2.0], sweeps_per_swap=2)
    with pytest.raises(ValueError, match="multiples"):
        pt.run(3)
    with pytest.raises(ValueError, match="fit"):
        ReplicaExchange(model, temperatures=[1.0, 2.0, 3.0]).set_state(pt.get_state())
