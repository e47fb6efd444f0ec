"""Boltzmann distribution and thermodynamics against independent computations."""

import decimal
from decimal import Decimal

import numpy as np
import pytest

import heatbath
from heatbath import (boltzmann_probs, entropy, free_energy, heat_capacity,
                      log_partition, mean_energy)

FUNCS = [boltzmann_probs, log_partition, free_energy, mean_energy, entropy, heat_capacity]


def _oracle(E, T):
    """Everything in 50-digit decimal arithmetic, by the textbook formulas."""
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        E = [Decimal(float(e)) for e in E]
        T = Decimal(float(T))
        w = [(-e / T).exp() for e in E]
        Z = sum(w)
        p = [x / Z for x in w]
        U = sum(pi * e for pi, e in zip(p, E))
        S = -sum(pi * pi.ln() for pi in p if pi > 0)
        C = sum(pi * (e - U) ** 2 for pi, e in zip(p, E)) / T**2
        return {
            "p": np.array([float(x) for x in p]), "logZ": float(Z.ln()),
            "F": float(-T * Z.ln()), "U": float(U), "S": float(S), "C": float(C),
        }


@pytest.mark.parametrize("seed", range(12))
def test_against_decimal_oracle(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 40))
    E = rng.normal(scale=rng.choice([0.1, 5.0, 60.0]), size=n)
    T = float(rng.choice([0.05, 0.3, 1.0, 7.0]))
    ex = _oracle(E, T)
    np.testing.assert_allclose(boltzmann_probs(E, T), ex["p"], rtol=1e-12, atol=1e-300)
    scale = max(1.0, np.abs(E).max() / T)  # the size of the cancelling terms
    assert log_partition(E, T) == pytest.approx(ex["logZ"], rel=1e-13, abs=1e-13 * scale)
    assert free_energy(E, T) == pytest.approx(ex["F"], rel=1e-13, abs=1e-13 * scale * T)
    assert mean_energy(E, T) == pytest.approx(ex["U"], rel=1e-12, abs=1e-12 * scale * T)
    assert entropy(E, T) == pytest.approx(ex["S"], rel=1e-11, abs=1e-12 * scale)
    assert heat_capacity(E, T) == pytest.approx(ex["C"], rel=1e-10, abs=1e-12 * scale**2)


@pytest.mark.parametrize("T", [0.2, 1.0, 3.0])
def test_thermodynamic_identities(T):
    E = np.random.default_rng(1).normal(size=30) * 2
    U, F, S = mean_energy(E, T), free_energy(E, T), entropy(E, T)
    assert F == pytest.approx(U - T * S, rel=1e-12, abs=1e-12)
    # C = dU/dT = T dS/dT, by central differences (error O(h^2) ~ 1e-10).
    h = 1e-5 * T
    dU = (mean_energy(E, T + h) - mean_energy(E, T - h)) / (2 * h)
    dS = (entropy(E, T + h) - entropy(E, T - h)) / (2 * h)
    C = heat_capacity(E, T)
    assert C == pytest.approx(dU, rel=1e-6)
    assert C == pytest.approx(T * dS, rel=1e-6)


def test_infinite_temperature_is_uniform():
    E = np.array([-1e300, 3.0, 1e300, 0.0])
    np.testing.assert_array_equal(boltzmann_probs(E, np.inf), np.full(4, 0.25))
    assert log_partition(E, np.inf) == np.log(4)
    assert entropy(E, np.inf) == pytest.approx(np.log(4), rel=1e-15)
    assert heat_capacity(E, np.inf) == 0.0
    assert free_energy(E, np.inf) == -np.inf
    assert free_energy([5.0], np.inf) == 5.0  # one state: F = E
    # and the finite-T curve approaches it
    np.testing.assert_allclose(boltzmann_probs([0.0, 1.0, 2.0], 1e12), 1 / 3, rtol=1e-11)


@pytest.mark.parametrize("T", [1e-3, 1e-30, 1e-300, 5e-324])
def test_zero_temperature_limit_concentrates_on_minima(T):
    E = np.array([2.0, -1.0, 0.5, -1.0, -1.0 + 1e-9])
    p = boltzmann_probs(E, T)
    expected = np.array([0, 0.5, 0, 0.5, 0.0])
    if T == 1e-3:  # the near-tie at +1e-9 is still resolved
        expected = np.array([0, 1, 0, 1, np.exp(-1e-6)]) / (2 + np.exp(-1e-6))
    np.testing.assert_allclose(p, expected, rtol=1e-12, atol=0)
    assert free_energy(E, T) == pytest.approx(-1.0 - T * np.log(p[1] ** -1 if T == 1e-3 else 2),
                                              rel=1e-12)
    assert mean_energy(E, T) == pytest.approx(-1.0, abs=2e-9)
    assert np.isfinite(heat_capacity(E, T)) and np.isfinite(entropy(E, T))


@pytest.mark.parametrize("c", [1e300, -1e300, 8e307, -8e307, 3.0])
def test_extreme_energies_have_exact_answers(c):
    # E = c * [0, 1, 1, 2] at T = 1: |E|/T from 2e300 up to 1.6e308. All mass
    # on the minimum (index 0 if c > 0, index 3 if c < 0), except for small c.
    # Differences that overflow are test_energies_spanning_the_whole_float_range.
    E = c * np.array([0.0, 1.0, 1.0, 2.0])
    out = {f.__name__: f(E, 1.0) for f in FUNCS}
    for name, value in out.items():
            assert np.all(np.isfinite(value)), name
    if c == 3.0:
        return
    k = 0 if c > 0 else 3
    expected_p = np.zeros(4)
    expected_p[k] = 1.0
    np.testing.assert_array_equal(out["boltzmann_probs"], expected_p)
    assert out["log_partition"] == -E[k]
    assert out["free_energy"] == E[k]
    assert out["mean_energy"] == E[k]
    assert out["entropy"] == 0.0
    assert out["heat_capacity"] == 0.0


def test_energies_spanning_the_whole_float_range():
    E = np.array([1.7e308, -1.7e308, 0.0])  # differences overflow to inf
    p = boltzmann_probs(E, 0.5)
    np.testing.assert_array_equal(p, [0.0, 1.0, 0.0])
    assert mean_energy(E, 0.5) == -1.7e308
    assert log_partition(E, 2.0) == 0.85e308
    for f in FUNCS:
        assert not np.isnan(f(E, 0.5)).any()


def test_ties_share_equally_at_any_scale():
    for scale in [1.0, 1e-200, 1e200]:
        # gap / T = 1000: exp(-1000) underflows to exactly 0.
        p = boltzmann_probs(scale * np.array([1.0, 0.0, 0.0, 1.0, 0.0]), scale * 1e-3)
        np.testing.assert_array_equal(p, [0, 1 / 3, 1 / 3, 0, 1 / 3])


def test_axis_and_temperature_broadcasting():
    rng = np.random.default_rng(0)
    E = rng.normal(size=(3, 5))
    T = np.array([0.5, 1.0, 2.0])
    # axis=1, one temperature per row
    np.testing.assert_allclose(log_partition(E, T, axis=1),
                               [log_partition(E[i], T[i]) for i in range(3)], rtol=1e-15)
    # axis=0: states down the columns
    np.testing.assert_allclose(boltzmann_probs(E, 1.3, axis=0),
                               boltzmann_probs(E.T, 1.3).T, rtol=1e-15)
    # a temperature curve for one spectrum: T dimensions lead
    curve = heat_capacity(E[0], T)
    assert curve.shape == (3,)
    np.testing.assert_allclose(curve, [heat_capacity(E[0], t) for t in T], rtol=1e-15)
    probs = boltzmann_probs(E[0], T)
    assert probs.shape == (3, 5)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-15)
    # (4, 1) temperatures against 3 spectra: a (4, 3) grid
    grid = free_energy(E, np.linspace(1, 2, 4)[:, None])
    assert grid.shape == (4, 3)
    assert grid[2, 1] == pytest.approx(free_energy(E[1], np.linspace(1, 2, 4)[2]), rel=1e-15)
    # integer and boolean energies are numbers too
    assert log_partition([0, 0, 1]) == pytest.approx(np.log(2 + np.exp(-1)))
    assert isinstance(log_partition([1.0, 2.0]), float)


@pytest.mark.parametrize("f", FUNCS)
def test_bad_input(f):
    with pytest.raises(ValueError, match="energies"):
        f([0.0, np.nan])
    with pytest.raises(ValueError, match="energies"):
        f([0.0, np.inf])
    with pytest.raises(ValueError, match="energies"):
        f([])
    with pytest.raises(ValueError, match="energies"):
        f(1.0)  # a scalar has no states axis
    with pytest.raises(TypeError, match="energies"):
        f([1 + 2j])
    with pytest.raises(TypeError, match="energies"):
        f(["a", "b"])
    for T in [0.0, -1.0, np.nan, -np.inf, [1.0, 0.0]]:
        with pytest.raises(ValueError, match="temperature"):
            f([0.0, 1.0], T)
    with pytest.raises(TypeError, match="temperature"):
        f([0.0, 1.0], "hot")
    with pytest.raises(ValueError, match="axis"):
        f([0.0, 1.0], 1.0, axis=1)
    with pytest.raises(TypeError, match="axis"):
        f([0.0, 1.0], 1.0, axis=0.5)
    with pytest.raises(ValueError, match="temperature"):
        f(np.zeros((3, 2)), [1.0, 2.0])  # 2 temperatures, 3 spectra


def test_top_level_names():
    for f in FUNCS:
        assert getattr(heatbath, f.__name__) is f
