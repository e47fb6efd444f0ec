"""Spin-spin correlation functions from recorded configurations, against exact results."""

import numpy as np
import pytest

from heatbath.spin import Ising, MetropolisSampler
from heatbath.spin.observables import correlation_function


def test_ring_correlation_equals_the_exact_transfer_matrix_result():
    """Periodic chain of 16 spins at T = 1: G(r) = (t^r + t^(L-r)) / (1 + t^L), t = tanh(1/T).

    Each of the 9 distances must lie within 4 standard errors (false alarm
    about 6e-5 each, 6e-4 for all).
    """
    L, T = 16, 1.0
    model = Ising((L,))
    sampler = MetropolisSampler(model, temperature=T, n_chains=16, seed=3)
    trace = sampler.run(3000, burn_in=500, thin=2, record_states=True)
    g = correlation_function(trace, model)
    t = np.tanh(1.0 / T)
    r = g["r"]
    exact = (t ** r + t ** (L - r)) / (1 + t ** L)
    assert r.tolist() == list(range(9)) and g["correlation"][0] == 1.0
    z = np.abs(g["correlation"][1:] - exact[1:]) / g["correlation_stderr"][1:]
    assert np.all(z < 4), z


def test_square_lattice_at_infinite_temperature_is_uncorrelated():
    model = Ising((8, 8))
    trace = MetropolisSampler(model, temperature=np.inf, n_chains=8, seed=1).run(
        200, record_states=True)
    g = correlation_function(trace, model, axis=1)
    assert np.all(np.abs(g["correlation"][1:]) < 4 * g["correlation_stderr"][1:] + 1e-12)


def test_correlation_function_needs_recorded_states_and_a_periodic_axis():
    model = Ising((6, 6), periodic=(True, False))
    sampler = MetropolisSampler(model, temperature=2.0, n_chains=2, seed=0)
    with pytest.raises(ValueError, match="record_states=True"):
        correlation_function(sampler.run(5), model)
    trace = sampler.run(5, record_states=True)
    with pytest.raises(ValueError, match="periodic"):
        correlation_function(trace, model, axis=1)
    with pytest.raises(ValueError, match="axis"):
        correlation_function(trace, model, axis=2)
