"""Numerical robustness: extreme weights, temperatures and sizes.

|W| up to 1e3, temperatures from 1e-3 to 1e3 and nv = nh = 4096 must run
without overflow, NaN or lost precision in the sigmoid, softplus,
log-sum-exp and acceptance steps. Each test states what exact answer it
holds the code to.
"""

import warnings

import numpy as np
import pytest
from scipy.special import logsumexp

from heatbath import RBM, Ising, MetropolisSampler, HeatBathSampler, WolffSampler
from heatbath.rbm.estimators import _summary
from heatbath.rbm.units import Binomial, Spin, softplus
from heatbath.spin.exact import torus_thermodynamics


def test_softplus_is_exact_at_both_ends_and_in_between():
    x = np.array([-1e308, -800.0, -40.0, -1.0, 0.0, 1e-300, 1.0, 40.0, 800.0, 1e308])
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no overflow warnings either
        got = softplus(x)
    # log(1 + e^x): e^x below 1e-16 relative, x + e^-x above.
    expected = np.array([0.0, np.exp(-800.0), np.exp(-40.0) - np.exp(-80.0) / 2,
                         np.log1p(np.exp(-1.0)), np.log(2.0), np.log(2.0), 1 + np.log1p(
                             np.exp(-1.0)), 40.0, 800.0, 1e308])
    np.testing.assert_allclose(got, expected, rtol=2e-16, atol=0)
    # log(2 cosh x) for spins, n softplus for binomial: no overflow at |x| = 1e3
    assert Spin().log_partition(np.array([[1e3, -1e3]]), np.zeros(2))[0] == 2e3
    assert Binomial(5).log_partition(np.array([[1e3]]), np.zeros(1))[0] == 5e3


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("units", [("bernoulli", "bernoulli"), ("spin", "binomial(3)"),
                                   ("softmax(2)", "bernoulli"), ("gaussian", "bernoulli")])
def test_weights_of_1e3(dtype, units):
    rng = np.random.default_rng(0)
    m = RBM(6, 4, *units, dtype=dtype)
    W = rng.choice([-1e3, 1e3], size=(6, 4))
    if units[0] == "gaussian":
        W = W * 1e-3          # a gaussian layer needs |W| small for a normalisable joint
    m.set_parameters(W, rng.normal(size=6), rng.normal(size=4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        V = m.sample(50, 20, seed=1)
        F = m.free_energy(V)
        log_z = m.log_partition()
        ll = m.log_likelihood(V)
        if m.visible.discrete:
            pl = m.pseudo_likelihood(V)
            assert np.isfinite(pl).all() and (pl <= 1e-9).all()
    assert np.isfinite(V).all() and np.isfinite(F).all() and np.isfinite(log_z)
    assert ll <= 1e-9 and np.isfinite(ll)
    if units == ("bernoulli", "bernoulli"):
        # log Z is dominated by the best state: log Z >= max(-F) and <= max(-F) + log(64)
        states = m.visible.enumerate(6)
        top = (-m.free_energy(states)).max()
        assert top <= log_z <= top + np.log(64) + 1e-9


def test_ais_with_weights_of_1e3_stays_finite():
    rng = np.random.default_rng(1)
    m = RBM(6, 4).set_parameters(rng.choice([-1e3, 1e3], size=(6, 4)))
    est = m.log_partition("ais", n_runs=20, n_betas=200, seed=0)
    assert np.isfinite(float(est)) and np.isfinite(est.stderr)
    # The log weights span thousands of nats; log-mean-exp keeps them.
    lw = np.array([-5000.0, 0.0, 3000.0, 3000.0])
    value, stderr, ess = _summary(lw)
    assert value == pytest.approx(3000.0 + np.log(0.5), rel=1e-15)
    assert ess == pytest.approx(2.0) and np.isfinite(stderr)
    assert logsumexp([1e308, 1e308]) == pytest.approx(1e308)


@pytest.mark.parametrize("T", [1e-3, 1e-1, 1.0, 1e1, 1e3])
def test_rbm_gibbs_at_temperatures_1e_3_to_1e3(T):
    rng = np.random.default_rng(2)
    m = RBM(8, 5).set_parameters(rng.normal(scale=3, size=(8, 5)), rng.normal(size=8),
                                 rng.normal(size=5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        V = m.sample(4000, 30, temperature=T, seed=3)
    states = m.visible.enumerate(8)
    F = m.free_energy(states)
    p = np.exp(-(F - F.min()) / T)
    p /= p.sum()
    codes = (V.astype(int) << np.arange(8)).sum(axis=1)
    order = (states.astype(int) << np.arange(8)).sum(axis=1)
    freq = np.bincount(codes, minlength=256)[order] / len(V)
    if T == 1e-3:
        # The ground state of F (at T -> 0 the free energy's minimum dominates).
        assert freq[np.argmin(F)] > 0.99
    elif T == 1e3:
        # Nearly uniform: every state within 5 standard errors of 1/256.
        se = np.sqrt((1 / 256) * (1 - 1 / 256) / len(V))
        assert np.abs(freq - 1 / 256).max() < 5 * se + 1e-3
    assert abs(freq.sum() - 1) < 1e-12


@pytest.mark.parametrize("cls", [MetropolisSampler, HeatBathSampler, WolffSampler])
def test_spin_samplers_at_temperatures_1e_3_and_1e3(cls):
    model = Ising((8, 8))
    cold = cls(model, temperature=1e-3, n_chains=4, seed=0, init="up")
    t = cold.run(200)
    assert np.all(t["energy"] == -128) and np.all(np.abs(t["magnetization"]) == 64)
    hot = cls(model, temperature=1e3, n_chains=8, seed=1)
    t = hot.run(2000, burn_in=100)
    # Near beta = 0 a checkerboard Metropolis sweep flips almost every spin, and
    # E(-s) = E(s), so the energy decorrelates slowly: the standard error comes
    # from the integrated autocorrelation time, not from a naive sqrt(n).
    exact = torus_thermodynamics((8, 8), 1e3)["energy_per_spin"]
    assert abs(t.mean("energy") / 64 - exact) < 5 * t.stderr("energy") / 64
    assert np.isfinite(t["energy"]).all()


def test_large_model_4096_by_4096():
    """nv = nh = 4096 (16.8M weights): train, sample, score; all finite."""
    rng = np.random.default_rng(4)
    X = (rng.random((20, 4096)) < 0.1).astype(np.float32)
    m = RBM(4096, 4096, dtype=np.float32, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = m.fit(X, epochs=1, batch_size=10, method="pcd", learning_rate=0.01, seed=0).history_
        V = m.sample(4, 2, seed=1)
        pl = m.pseudo_likelihood(X[:2])
        est = m.log_partition("ais", n_runs=4, n_betas=5, data=X, seed=2)
    assert np.isfinite(h["reconstruction_error"]).all()
    assert set(np.unique(V)) <= {0.0, 1.0}
    assert np.isfinite(pl).all() and (pl < 0).all()
    assert np.isfinite(float(est)) and np.isfinite(est.stderr)
    # With W = 0 the path only moves the hidden biases: every run has the same
    # weight, and AIS must give the closed form sum softplus(a) + sum softplus(b)
    # (8192 terms summed over 50 steps without losing digits).
    m.set_parameters(weights=np.zeros((4096, 4096)))
    est = m.log_partition("ais", n_runs=3, n_betas=50, seed=3)
    exact = softplus(m.visible_bias.astype(float)).sum() + softplus(
        m.hidden_bias.astype(float)).sum()
    assert float(est) == pytest.approx(exact, rel=1e-12) and est.stderr == 0
