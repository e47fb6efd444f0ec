"""Exact finite Markov chains, and the simulate kernel against them.

Sampling tests use fixed seeds. Each chi-square or z test has a stated
per-case false-alarm rate: 1e-4 for chi-square p-values, and 4.5 standard
errors (Bonferroni over at most 50 states: below 3.4e-4) for z tests.
"""

import numpy as np
import pytest
from scipy import linalg, stats

from heatbath import markov
from heatbath._random import spawn_states
from heatbath.reference import markov as ref

SIZES = [2, 3, 5, 8, 13, 25, 50]


def _random_target(rng, n, zeros=False):
    p = rng.random(n) ** 3 + 1e-3
    if zeros and n > 3:
        p[rng.choice(n, size=n // 4, replace=False)] = 0.0
    return p / p.sum()


def _random_proposal(rng, n):
    """A row-stochastic proposal with a symmetric, connected zero pattern."""
    mask = rng.random((n, n)) < 0.3
    mask = mask | mask.T
    ring = np.roll(np.eye(n, dtype=bool), 1, axis=1)
    mask |= ring | ring.T | np.eye(n, dtype=bool)
    Q = np.where(mask, rng.random((n, n)), 0.0)
    return Q / Q.sum(axis=1, keepdims=True)


def _naive_mh(p, Q):
    """Metropolis-Hastings by the textbook formula, one entry at a time."""
    n = len(p)
    P = np.zeros((n, n))
    for x in range(n):
        for y in range(n):
            if x != y and Q[x, y] > 0:
                if p[x] == 0:
                    P[x, y] = Q[x, y]
                else:
                    P[x, y] = Q[x, y] * min(1.0, p[y] * Q[y, x] / (p[x] * Q[x, y]))
        P[x, x] = 1.0 - P[x].sum()
    return P


def _null_space_stationary(P):
    v = linalg.null_space(P.T - np.eye(len(P)))
    assert v.shape[1] == 1
    v = v[:, 0]
    return v / v.sum()


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("zeros", [False, True])
def test_metropolis_hastings_against_naive_formula(n, zeros):
    rng = np.random.default_rng(n + 100 * zeros)
    p = _random_target(rng, n, zeros)
    Q = _random_proposal(rng, n)
    P = markov.metropolis_hastings_matrix(p, Q)
    np.testing.assert_allclose(P, _naive_mh(p, Q), rtol=1e-12, atol=1e-15)
    assert (P >= 0).all()
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=0, atol=1e-14)
    assert markov.detailed_balance_violation(P, p) < 1e-16
    np.testing.assert_allclose(markov.stationary_distribution(P), p, rtol=1e-11, atol=1e-15)
    np.testing.assert_allclose(p @ P, p, rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("n", SIZES)
def test_flow_balancing_reaches_the_closed_form(n):
    rng = np.random.default_rng(n)
    p = _random_target(rng, n, zeros=n > 5)
    Q = _random_proposal(rng, n)
    closed = markov.metropolis_hastings_matrix(p, Q)
    # One sweep balances every pair; the second finds nothing to change.
    iterative = markov.metropolis_hastings_matrix(p, Q, method="flow_balance", max_iter=2)
    np.testing.assert_allclose(iterative, closed, rtol=1e-13, atol=1e-16)
    with pytest.raises(RuntimeError, match="converge"):
        markov.metropolis_hastings_matrix(p, Q, method="flow_balance", max_iter=1)


def test_default_proposal_is_uniform():
    p = np.array([1.0, 2.0, 3.0, 4.0])  # unnormalised weights are fine
    P = markov.metropolis_hastings_matrix(p)
    np.testing.assert_allclose(P, _naive_mh(p / 10, np.full((4, 4), 0.25)), rtol=1e-14)


@pytest.mark.parametrize("Q", [
    np.kron(np.eye(2), np.full((2, 2), 0.5)),            # two separate blocks
    np.triu(np.ones((4, 4))) / np.arange(4, 0, -1)[:, None],  # one-way moves only
])
def test_proposal_that_cannot_reach_the_support_is_rejected(Q):
    with pytest.raises(ValueError, match="proposal"):
        markov.metropolis_hastings_matrix(np.full(4, 0.25), Q)


def test_zero_probability_states_must_drain_into_the_support():
    p = np.array([0.5, 0.5, 0.0])
    Q = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])  # state 2 is stuck
    with pytest.raises(ValueError, match="irreducible"):
        markov.metropolis_hastings_matrix(p, Q)
    Q[2] = [0.5, 0.0, 0.5]
    P = markov.metropolis_hastings_matrix(p, Q)
    np.testing.assert_array_equal(markov.stationary_distribution(P), [0.5, 0.5, 0.0])


def _naive_heat_bath(p, scan):
    shape, n = p.shape, p.size
    cells = list(np.ndindex(shape))
    kernels = []
    for axis in range(len(shape)):
        K = np.zeros((n, n))
        for i, x in enumerate(cells):
            rest = [v for v in range(shape[axis])]
            ys = [x[:axis] + (v,) + x[axis + 1:] for v in rest]
            mass = sum(p[y] for y in ys)
            for y in ys:
                K[i, np.ravel_multi_index(y, shape)] = p[y] / mass if mass > 0 else 1 / len(ys)
        kernels.append(K)
    if scan == "random":
        return sum(kernels) / len(kernels)
    return np.linalg.multi_dot(kernels) if len(kernels) > 1 else kernels[0]


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 2, 2), (2, 3, 2, 2)])
@pytest.mark.parametrize("scan", ["random", "systematic"])
def test_heat_bath_matrix(shape, scan):
    rng = np.random.default_rng(len(shape))
    p = rng.random(shape) + 0.05
    p /= p.sum()
    P = markov.heat_bath_matrix(p, scan=scan)
    np.testing.assert_allclose(P, _naive_heat_bath(p, scan), rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(markov.stationary_distribution(P), p.ravel(), rtol=1e-11)
    violation = markov.detailed_balance_violation(P, p.ravel())
    if scan == "random" or len(shape) == 1:
        assert violation < 1e-16
    else:  # a systematic scan is stationary but not reversible
        assert violation > 1e-6


def test_heat_bath_refuses_a_support_it_cannot_connect():
    with pytest.raises(ValueError, match="irreducible"):
        markov.heat_bath_matrix(np.eye(2) / 2)  # (0,0) and (1,1): no single-site path


def test_gth_keeps_relative_accuracy_for_tiny_probabilities():
    # A birth-death chain whose stationary weights fall from 1 to 1e-304.
    n = 60
    E = np.linspace(0.0, 700.0, n)
    p = np.exp(-E)
    p /= p.sum()
    Q = (np.roll(np.eye(n), 1, axis=1) + np.roll(np.eye(n), -1, axis=1)) / 2
    P = markov.metropolis_hastings_matrix(p, Q)
    pi = markov.stationary_distribution(P)
    np.testing.assert_allclose(pi, p, rtol=1e-12, atol=0)
    # An ordinary dense solve loses the small ones entirely (absolute accuracy).
    solved = _null_space_stationary(P)
    assert np.max(np.abs(solved[-10:] - p[-10:]) / p[-10:]) > 1.0


@pytest.mark.parametrize("n", [2, 7, 30])
def test_stationary_distribution_of_nonreversible_chains(n):
    rng = np.random.default_rng(n)
    P = rng.random((n, n)) ** 2
    P /= P.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(markov.stationary_distribution(P),
                               _null_space_stationary(P), rtol=1e-9)


def test_transient_states_get_zero_and_reducible_chains_are_refused():
    P = np.array([[0.2, 0.8, 0.0], [0.0, 0.5, 0.5], [0.0, 0.5, 0.5]])
    np.testing.assert_allclose(markov.stationary_distribution(P), [0, 0.5, 0.5], atol=1e-16)
    with pytest.raises(ValueError, match="closed classes"):
        markov.stationary_distribution(np.eye(3))


def test_detailed_balance_violation_detects_cycles():
    lazy_cycle = 0.5 * np.eye(3) + 0.5 * np.roll(np.eye(3), 1, axis=1)
    assert markov.detailed_balance_violation(lazy_cycle) == pytest.approx(1 / 6)
    assert markov.detailed_balance_violation(lazy_cycle, [1, 1, 1]) == pytest.approx(1 / 6)


@pytest.mark.parametrize("a, b", [(0.1, 0.3), (0.9, 0.8), (0.5, 0.5), (1.0, 1.0)])
def test_spectral_gap_two_states(a, b):
    P = np.array([[1 - a, a], [b, 1 - b]])
    assert markov.spectral_gap(P) == pytest.approx(1 - abs(1 - a - b), abs=1e-14)


def test_spectral_gap_nonreversible_cycle():
    # Lazy 4-cycle: eigenvalues 1/2 + 1/2 * i^k; the largest non-unit modulus
    # is |1/2 + i/2| = sqrt(2)/2.
    P = 0.5 * np.eye(4) + 0.5 * np.roll(np.eye(4), 1, axis=1)
    assert markov.spectral_gap(P) == pytest.approx(1 - np.sqrt(0.5), abs=1e-12)


def _brute_mixing_time(P, eps):
    pi = markov.stationary_distribution(P)
    Pt, t = P.copy(), 1
    while 0.5 * np.abs(Pt - pi).sum(axis=1).max() > eps:
        Pt, t = Pt @ P, t + 1
    return t


@pytest.mark.parametrize("n", [2, 5, 12])
@pytest.mark.parametrize("eps", [0.25, 1e-3, 1e-8])
def test_mixing_time_against_brute_force(n, eps):
    rng = np.random.default_rng(n)
    p = _random_target(rng, n)
    Q = (np.roll(np.eye(n), 1, axis=1) + np.roll(np.eye(n), -1, axis=1) + np.eye(n)) / 3
    P = markov.metropolis_hastings_matrix(p, Q)
    assert markov.mixing_time(P, eps) == _brute_mixing_time(P, eps)


def test_periodic_chain_never_mixes():
    with pytest.raises(ValueError, match="periodic"):
        markov.mixing_time(np.array([[0.0, 1.0], [1.0, 0.0]]), max_steps=1000)
    assert markov.spectral_gap(np.array([[0.0, 1.0], [1.0, 0.0]])) == pytest.approx(0.0)


@pytest.mark.parametrize("bad, match", [
    (np.array([[0.5, 0.6], [0.5, 0.5]]), "row-stochastic"),
    (np.array([[1.5, -0.5], [0.5, 0.5]]), "non-negative"),
    (np.array([[np.nan, 1.0], [0.5, 0.5]]), "finite"),
    (np.ones((2, 3)) / 3, "square"),
    (np.ones(3), "2-dimensional"),
])
def test_bad_matrices(bad, match):
    for f in (markov.stationary_distribution, markov.spectral_gap, markov.mixing_time,
              markov.detailed_balance_violation):
        with pytest.raises(ValueError, match=match):
            f(bad)


def test_bad_targets():
    with pytest.raises(ValueError, match="p"):
        markov.metropolis_hastings_matrix([0.0, 0.0])
    with pytest.raises(ValueError, match="p"):
        markov.metropolis_hastings_matrix([0.5, -0.1, 0.6])
    with pytest.raises(ValueError, match="p"):
        markov.metropolis_hastings_matrix([])
    with pytest.raises(ValueError, match="proposal"):
        markov.metropolis_hastings_matrix([0.5, 0.5], np.eye(3))
    with pytest.raises(ValueError, match="method"):
        markov.metropolis_hastings_matrix([0.5, 0.5], method="gibbs")
    with pytest.raises(ValueError, match="scan"):
        markov.heat_bath_matrix([[0.5, 0.5]], scan="zigzag")
    with pytest.raises(ValueError, match="at most"):
        markov.metropolis_hastings_matrix(np.ones(markov.MAX_DENSE_STATES + 1))


# --- simulate ---------------------------------------------------------------

def _chain(n, seed):
    rng = np.random.default_rng(seed)
    p = _random_target(rng, n, zeros=n > 8)
    return p, markov.metropolis_hastings_matrix(p, _random_proposal(rng, n))


@pytest.mark.parametrize("burn_in, thin", [(0, 1), (3, 1), (5, 4)])
def test_simulate_equals_numpy_twin_bit_for_bit(burn_in, thin):
    _, P = _chain(9, 1)
    x0 = np.arange(17) % 9
    path = markov.simulate(P, x0, 40, burn_in=burn_in, thin=thin, seed=8)
    twin, _ = ref.simulate(P, x0, 40, spawn_states(8, 17), burn_in=burn_in, thin=thin)
    assert path.shape == (17, 40 // thin)
    np.testing.assert_array_equal(path, twin)
    counts = markov.simulate(P, x0, 40, burn_in=burn_in, thin=thin, seed=8, return_counts=True)
    twin_counts, _ = ref.simulate(P, x0, 40, spawn_states(8, 17), burn_in=burn_in, thin=thin,
                                  return_counts=True)
    np.testing.assert_array_equal(counts, twin_counts)
    np.testing.assert_array_equal(counts, [np.bincount(r, minlength=9) for r in path])


def test_simulate_same_for_any_thread_count():
    _, P = _chain(30, 2)
    runs = [markov.simulate(P, 0, 500, n_chains=41, seed=3, n_threads=t) for t in (1, 2, 3, 4)]
    for r in runs[1:]:
        np.testing.assert_array_equal(r, runs[0])


@pytest.mark.parametrize("n", SIZES)
def test_simulated_final_states_chi_square(n):
    # Run each chain past the exact mixing time for TV <= 1e-6 (so the bias is
    # far below the noise) and test the final states of 20,000 independent
    # chains against p. Bins with expected count < 5 are merged.
    p, P = _chain(n, 10 + n)
    t = markov.mixing_time(P, 1e-6)
    n_chains = 20_000
    final = markov.simulate(P, 0, 1, burn_in=t - 1, n_chains=n_chains, seed=n)[:, 0]
    observed = np.bincount(final, minlength=n)
    assert observed[p == 0].sum() == 0  # zero-probability states are never visited
    expected = n_chains * p
    small = expected < 5
    obs = np.append(observed[~small & (p > 0)], observed[small & (p > 0)].sum())
    exp = np.append(expected[~small & (p > 0)], expected[small & (p > 0)].sum())
    keep = exp > 0
    if keep.sum() > 1:
        assert stats.chisquare(obs[keep], exp[keep]).pvalue > 1e-4


@pytest.mark.parametrize("n", [3, 13, 50])
def test_simulated_visit_frequencies(n):
    # Visit fractions along 200 independent chains of 5,000 steps each, after
    # burn-in. The chains are independent, so the spread of the per-chain
    # fractions gives an honest standard error despite autocorrelation.
    p, P = _chain(n, 20 + n)
    counts = markov.simulate(P, 0, 5000, burn_in=markov.mixing_time(P, 1e-6), n_chains=200,
                             seed=n, return_counts=True)
    frac = counts / 5000
    mean = frac.mean(axis=0)
    se = frac.std(axis=0, ddof=1) / np.sqrt(200)
    pos = p > 0
    assert np.all(np.abs(mean[pos] - p[pos]) < 4.5 * se[pos] + 1e-12)
    assert (counts[:, ~pos] == 0).all()


def test_simulate_arguments():
    P = np.array([[0.9, 0.1], [0.5, 0.5]])
    assert markov.simulate(P, 0, 10).shape == (1, 10)
    assert markov.simulate(P, [0, 1, 1], 10).shape == (3, 10)
    assert markov.simulate(P, 1, 10, n_chains=4, thin=3).shape == (4, 3)
    assert markov.simulate(P, 1, 0, n_chains=2).shape == (2, 0)
    assert markov.simulate(P, 1, 2, n_chains=2, thin=5).shape == (2, 0)
    np.testing.assert_array_equal(markov.simulate(P, 1, 2, n_chains=2, thin=5,
                                                  return_counts=True), 0)
    for kwargs, exc, match in [
        (dict(x0=2), ValueError, "x0"),
        (dict(x0=-1), ValueError, "x0"),
        (dict(x0=0.0), TypeError, "x0"),
        (dict(x0=[[0]]), TypeError, "x0"),
        (dict(x0=[0, 1], n_chains=3), ValueError, "x0"),
        (dict(n_chains=0), ValueError, "n_chains"),
        (dict(n_steps=-1), ValueError, "n_steps"),
        (dict(n_steps=1.5), TypeError, "n_steps"),
        (dict(thin=0), ValueError, "thin"),
        (dict(burn_in=-2), ValueError, "burn_in"),
        (dict(n_threads=0), ValueError, "n_threads"),
        (dict(seed="x"), TypeError, "seed"),
        (dict(n_steps=2**40), ValueError, "entries"),
    ]:
        args = dict(P=P, x0=0, n_steps=5)
        args.update(kwargs)
        with pytest.raises(exc, match=match):
            markov.simulate(**args)


def test_simulate_frozen_digest():
    # Frozen from the OpenMP build on 2026-11-22. CI runs this file again on a
    # build without OpenMP (HEATBATH_NO_OPENMP=1) and with bounds checks on:
    # every build must give these exact bits. P is built with elementwise
    # arithmetic only, so it is the same on every platform.
    import hashlib

    p = np.arange(1, 11) / 55.0
    P = markov.metropolis_hastings_matrix(p)
    path = markov.simulate(P, np.arange(64) % 10, 1000, burn_in=7, thin=3, seed=20261122)
    np.testing.assert_array_equal(path[:2, :8], [[9, 7, 9, 6, 9, 9, 6, 3],
                                                 [0, 5, 3, 2, 3, 2, 9, 9]])
    digest = hashlib.sha256(path.tobytes()).hexdigest()
    assert digest == "21b3ba2e7f1a1680c658d7e163453b1db2ecc214aac5c905aa5e0147b5568845"
