"""Checks the spin-sampler test files share (as fixtures: tests import nothing from each other)."""

import numpy as np
import pytest
from scipy import stats

import heatbath
from heatbath.spin import exact, thermodynamics


def _chi_square_joint_pvalue(model, T, final):
    """p-value of the joint (E, M) histogram of states ``final`` against enumeration.

    Bins with expected count < 5 are pooled; a state the Boltzmann
    distribution forbids fails outright.
    """
    _, E, M = exact.enumerate_states(model)
    p = heatbath.boltzmann_probs(E, T)
    keys, inverse = np.unique(np.stack([E, M], axis=1), axis=0, return_inverse=True)
    expected = np.bincount(inverse.ravel(), weights=p) * final.shape[0]
    lookup = {tuple(k): i for i, k in enumerate(keys)}
    pairs = np.stack([model.energy(final), model.magnetization(final)], axis=1)
    observed = np.bincount([lookup[tuple(x)] for x in pairs], minlength=len(keys))
    small = expected < 5.0
    obs = np.append(observed[~small], observed[small].sum())
    exp = np.append(expected[~small], expected[small].sum())
    assert observed[expected == 0].sum() == 0
    return stats.chisquare(obs[exp > 0], exp[exp > 0]).pvalue


def _assert_matches_torus(trace, shape, T, n_se=4.0):
    """Energy and specific heat per spin within n_se standard errors of Kaufman's torus."""
    th = thermodynamics(trace)
    ex = exact.torus_thermodynamics(shape, T)
    for name in ("energy_per_spin", "specific_heat"):
        value, err = th[name]
        assert abs(value - ex[name]) < n_se * err, (name, value, ex[name], err)
    assert trace.rhat("energy") < 1.05


@pytest.fixture
def chi_square_joint_pvalue():
    return _chi_square_joint_pvalue


@pytest.fixture
def assert_matches_torus():
    return _assert_matches_torus
