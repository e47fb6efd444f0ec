"""Diagnostics against processes whose answers are known exactly."""

import numpy as np
import pytest

from heatbath import diagnostics as D


def _ar1(phi, n, n_chains, seed):
    """AR(1) chains x_t = phi x_{t-1} + e_t, started in equilibrium.

    tau_int = (1 + phi) / (1 - phi); Var(x) = 1 / (1 - phi^2).
    """
    rng = np.random.default_rng(seed)
    e = rng.normal(size=(n, n_chains))
    x = np.empty((n, n_chains))
    x[0] = e[0] / np.sqrt(1 - phi**2)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return x


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.9, 0.97])
def test_tau_int_of_ar1(phi):
    x = _ar1(phi, 40_000, 8, seed=int(phi * 100))
    tau = (1 + phi) / (1 - phi)
    # The windowed estimator has relative s.d. about sqrt(2 (2W + 1) / N) with
    # W ~ 5 tau and N = 320,000 samples: under 6% at phi = 0.97. Allow 4 s.d.
    sd = np.sqrt(2 * (2 * 5 * tau + 1) / x.size)
    assert D.tau_int(x) == pytest.approx(tau, rel=4 * sd)
    assert D.ess(x) == pytest.approx(x.size / tau, rel=4 * sd)


def test_stderr_is_honest_over_many_replicas():
    # 400 independent AR(1) runs: the z-scores of their means against the
    # true mean 0, using each run's own stderr, must have s.d. close to 1.
    # The s.d. of 400 standard normals is 1 +- 0.035; allow 4 of those plus
    # the small bias of estimated errors.
    z = []
    for k in range(400):
        x = _ar1(0.8, 2000, 2, seed=1000 + k)
        z.append(x.mean() / D.stderr(x))
    assert abs(np.std(z) - 1.0) < 4 * 0.035 + 0.05


def test_autocorrelation_and_constant_series():
    rho = D.autocorrelation(_ar1(0.5, 50_000, 2, seed=0))
    np.testing.assert_allclose(rho[:4], [1, 0.5, 0.25, 0.125], atol=0.02)
    const = np.ones((100, 3))
    assert D.autocorrelation(const)[0] == 1.0
    assert D.tau_int(const) >= 0 and D.stderr(const) == 0.0
    assert D.split_rhat(const) == 1.0
    assert D.split_rhat(np.hstack([np.zeros((10, 1)), np.ones((10, 1))])) == np.inf


def test_split_rhat():
    x = _ar1(0.5, 4000, 4, seed=3)
    assert D.split_rhat(x) < 1.01
    shifted = x + np.array([0.0, 0.0, 0.0, 3.0])
    assert D.split_rhat(shifted) > 1.2
    # Drift within chains: halves differ by 1.5, so W ~ 4/3 + 0.19 and B/n ~ 0.64,
    # R-hat ~ sqrt((W + B/n) / W) ~ 1.19. Splitting is what catches this.
    drift = x + np.linspace(0, 3, 4000)[:, None]
    assert D.split_rhat(drift) > 1.1


def test_jackknife_of_variance_and_ratio():
    rng = np.random.default_rng(5)
    x = rng.normal(loc=2.0, scale=3.0, size=(2000, 32))
    value, err = D.jackknife(np.var, x)
    # Var of the sample variance of N normals: 2 sigma^4 / (N - 1).
    assert err == pytest.approx(np.sqrt(2 * 81 / (x.size - 1)), rel=0.3)
    assert abs(value - 9.0) < 4 * err
    # a ratio of means, two series, fewer chains (blocks inside chains)
    y = rng.normal(loc=4.0, size=(1000, 2))
    x2 = rng.normal(loc=2.0, size=(1000, 2))
    value, err = D.jackknife(lambda a, b: a.mean() / b.mean(), x2, y)
    assert abs(value - 0.5) < 4 * err and err > 0


def test_bad_inputs():
    with pytest.raises(ValueError, match="finite"):
        D.tau_int([1.0, np.nan, 2.0])
    with pytest.raises(ValueError, match="empty"):
        D.stderr([])
    with pytest.raises(ValueError, match="4 samples"):
        D.split_rhat(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="shape"):
        D.tau_int(np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match="same shape"):
        D.jackknife(lambda a, b: 0.0, np.zeros((10, 2)), np.zeros((10, 3)))
    with pytest.raises(TypeError, match="real"):
        D.ess(np.array(["a", "b"]))


def test_rank_normalized_rhat_flags_scale_and_location_differences():
    from heatbath.diagnostics import rank_normalized_rhat, split_rhat

    rng = np.random.default_rng(5)
    good = rng.normal(size=(1000, 4))
    assert rank_normalized_rhat(good) < 1.01
    # same location, one chain 3x wider: the folded (tail) R-hat sees it;
    # plain split R-hat barely moves
    wide = good * np.array([1, 1, 1, 3])
    assert rank_normalized_rhat(wide) > 1.05 and split_rhat(wide) < rank_normalized_rhat(wide)
    # heavy tails: ranks make it finite and close to 1 for agreeing chains
    assert rank_normalized_rhat(rng.standard_cauchy(size=(1000, 4))) < 1.01
    assert rank_normalized_rhat(good + np.array([0, 0, 0, 1.0])) > 1.05
