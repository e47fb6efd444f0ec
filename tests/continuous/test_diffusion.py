"""Diffusion-model samplers against a 2-D Gaussian mixture with an exact score.

Component weights: each within 4.5 binomial standard errors (false alarm 7e-6
each). Energy distance: a permutation test against exact draws (199
permutations), failing only below p = 0.005: false alarm 0.5% per test.
"""

import numpy as np
import pytest

from heatbath.continuous import GaussianMixture
from heatbath.continuous.diffusion import (
    annealed_langevin, mixture_vp_score, reverse_sde, ve_sigmas,
)

MIX = GaussianMixture([0.2, 0.3, 0.5], [[-4.0, 0.0], [4.0, 0.0], [0.0, 5.0]],
                      [[0.6, 0.6], [0.8, 0.5], [0.5, 0.9]])


def _permutation_p(a, b, n_perm=199, seed=0):
    """Two-sample energy-distance permutation test (pairwise distances computed once)."""
    pooled = np.concatenate([a, b])
    D = np.sqrt(((pooled[:, None, :] - pooled[None, :, :]) ** 2).sum(-1))
    n = len(a)

    def stat(idx):
        i, j = idx[:n], idx[n:]
        return 2 * D[np.ix_(i, j)].mean() - D[np.ix_(i, i)].mean() - D[np.ix_(j, j)].mean()

    rng = np.random.default_rng(seed)
    obs = stat(np.arange(len(pooled)))
    count = sum(stat(rng.permutation(len(pooled))) >= obs for _ in range(n_perm))
    return (count + 1) / (n_perm + 1)


def _check(x, n):
    # component of each sample: the nearest mean (components are > 8 sigma apart)
    d = ((x[:, None, :] - MIX.means[None]) ** 2).sum(-1)
    counts = np.bincount(d.argmin(1), minlength=3)
    se = np.sqrt(MIX.weights * (1 - MIX.weights) / n)
    assert (np.abs(counts / n - MIX.weights) < 4.5 * se).all(), counts / n
    exact = MIX.sample(n, seed=123)
    assert _permutation_p(x, exact) > 0.005


def test_score_is_the_gradient_of_the_convolved_log_density():
    x = np.random.default_rng(0).normal(size=(5, 2)) * 3
    for sigma in (0.0, 0.5, 3.0):
        target = MIX.convolved(sigma)
        np.testing.assert_allclose(MIX.score(x, sigma), target.log_prob_and_grad(x)[1],
                                   rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("method", ["ve-em", "vp-em"] + [
    pytest.param(m, marks=pytest.mark.slow) for m in ("ve-pc", "vp-pc", "annealed")])
def test_samples_match_the_mixture(method):
    n = 400
    if method == "annealed":
        x = annealed_langevin(MIX.score, n, 2, ve_sigmas(0.02, 10.0, 20), 100, 2e-5 * 50, seed=1)
    elif method.startswith("ve"):
        x = reverse_sde(MIX.score, n, 2, "ve", n_steps=400, sigma_min=0.01, sigma_max=12.0,
                        corrector_snr=0.16 if method.endswith("pc") else None, seed=2)
    else:
        x = reverse_sde(mixture_vp_score(MIX), n, 2, "vp", n_steps=400,
                        corrector_snr=0.16 if method.endswith("pc") else None, seed=3)
    _check(x, n)


def test_same_seed_same_samples_and_bad_input():
    a = reverse_sde(MIX.score, 10, 2, n_steps=20, seed=5)
    np.testing.assert_array_equal(a, reverse_sde(MIX.score, 10, 2, n_steps=20, seed=5))
    with pytest.raises(ValueError, match="schedule"):
        reverse_sde(MIX.score, 10, 2, "xx")
    with pytest.raises(ValueError, match="score must return shape"):
        reverse_sde(lambda x, s: x[:, :1], 10, 2, n_steps=2)
    with pytest.raises(ValueError, match="sigmas"):
        annealed_langevin(MIX.score, 10, 2, [0.1, 1.0])
