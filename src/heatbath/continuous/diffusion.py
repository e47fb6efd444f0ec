"""Samplers of score-based diffusion models, over a user score ``score(x, sigma_or_t)``.

- :func:`annealed_langevin`: annealed Langevin dynamics (Song & Ermon 2019):
  Langevin steps at each noise level sigma_1 > ... > sigma_L, step
  ``eps * sigma_i^2 / sigma_L^2``; the score is called as ``score(x, sigma)``.
- :func:`reverse_sde`: the reverse-time SDE of Song et al. (2021) integrated by
  Euler-Maruyama, optionally with one Langevin corrector step per time
  (predictor-corrector), for the variance-exploding (``score(x, sigma)``) and
  variance-preserving (``score(x, t)``) schedules.

The score is called once per step with every sample, ``x`` of shape
(n_samples, dim), so it can be any vectorised NumPy function (or a neural
network). Noise comes from one heatbath stream per sample, so a seed gives
the same samples whatever the thread count. For tests and the demo,
``GaussianMixture.score`` / :func:`mixture_vp_score` are exact scores of a
Gaussian mixture under both schedules.
"""

import math

import numpy as np

from heatbath import _random
from heatbath._validation import check_int, check_real_array
from heatbath.continuous.targets import _check_scalar

__all__ = ["annealed_langevin", "reverse_sde", "ve_sigmas", "vp_alpha_sigma", "mixture_vp_score"]


def ve_sigmas(sigma_min, sigma_max, n):
    """Geometric noise levels from sigma_max down to sigma_min (n of them)."""
    return np.geomspace(sigma_max, sigma_min, n)


def vp_alpha_sigma(t, beta_min=0.1, beta_max=20.0):
    """VP schedule: x_t = alpha(t) x_0 + sigma(t) eps, beta(t) linear in t in [0, 1]."""
    t = np.asarray(t, dtype=float)
    log_alpha = -0.5 * (beta_min * t + 0.5 * (beta_max - beta_min) * t * t)
    alpha = np.exp(log_alpha)
    return alpha, np.sqrt(-np.expm1(2 * log_alpha))


def mixture_vp_score(mixture, beta_min=0.1, beta_max=20.0):
    """The exact score ``score(x, t)`` of a GaussianMixture under the VP schedule."""
    def score(x, t):
        alpha, sigma = vp_alpha_sigma(t, beta_min, beta_max)
        scaled = type(mixture)(mixture.weights, alpha * mixture.means, alpha * mixture.sigmas)
        return scaled.score(x, sigma)
    return score


def _start(n_samples, dim, seed, scale):
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    dim = check_int(dim, "dim", minimum=1)
    states = _random.spawn_states(seed, n_samples)
    return states, scale * _random.standard_normal(states, dim, n_threads=1)


def _score(score, x, level):
    s = np.asarray(score(x, level), dtype=np.float64)
    if s.shape != x.shape:
        raise ValueError(f"score must return shape {x.shape}, got {s.shape}")
    return s


def annealed_langevin(score, n_samples, dim, sigmas, n_steps_each=100, eps=2e-5, seed=None):
    """Annealed Langevin dynamics (Song & Ermon 2019, Algorithm 1).

    Parameters
    ----------
    score : callable
        ``score(x, sigma)`` -> (n_samples, dim): the score of the data convolved with N(0, sigma^2 I).
    n_samples, dim : int
    sigmas : array_like
        Decreasing noise levels; start from N(0, sigmas[0]^2 I).
    n_steps_each : int
        Langevin steps per level.
    eps : float
        Step at the smallest level; level i uses eps * sigma_i^2 / sigma_L^2.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.continuous import GaussianMixture
    >>> from heatbath.continuous.diffusion import annealed_langevin, ve_sigmas
    >>> mix = GaussianMixture([0.5, 0.5], [[-3.0, 0.0], [3.0, 0.0]], 0.5)
    >>> x = annealed_langevin(mix.score, 200, 2, ve_sigmas(0.05, 8.0, 10), 100, 1e-3, seed=0)
    >>> bool(0.3 < (x[:, 0] > 0).mean() < 0.7)
    True
    """
    sig = check_real_array(sigmas, "sigmas", ndim=1)
    if (sig <= 0).any() or (np.diff(sig) > 0).any():
        raise ValueError("sigmas must be positive and decreasing")
    n_steps_each = check_int(n_steps_each, "n_steps_each", minimum=1)
    eps = _check_scalar(eps, "eps", positive=True)
    states, x = _start(n_samples, dim, seed, sig[0])
    for s in sig:
        alpha = eps * (s / sig[-1]) ** 2
        for _ in range(n_steps_each):
            z = _random.standard_normal(states, dim, n_threads=1)
            x = x + 0.5 * alpha * _score(score, x, s) + math.sqrt(alpha) * z
    return x


def reverse_sde(score, n_samples, dim, schedule="ve", n_steps=500, sigma_min=0.01,
                sigma_max=10.0, beta_min=0.1, beta_max=20.0, corrector_snr=None, seed=None,
                t_min=1e-3):
    """Sample by integrating the reverse-time SDE (Euler-Maruyama; predictor-corrector).

    Parameters
    ----------
    score : callable
        VE: ``score(x, sigma)``; VP: ``score(x, t)`` with t in [t_min, 1].
    schedule : {'ve', 'vp'}
        Variance exploding (sigma(t) = sigma_min (sigma_max/sigma_min)^t) or variance
        preserving (beta(t) = beta_min + t (beta_max - beta_min)).
    n_steps : int
        Euler-Maruyama steps from t = 1 to t_min (VP) or 0 (VE).
    corrector_snr : float or None
        With a value r (Song et al. use 0.16), one Langevin corrector step per time,
        its step set by the signal-to-noise ratio r.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.continuous import GaussianMixture
    >>> from heatbath.continuous.diffusion import reverse_sde
    >>> mix = GaussianMixture([0.5, 0.5], [[-3.0, 0.0], [3.0, 0.0]], 0.5)
    >>> x = reverse_sde(mix.score, 200, 2, "ve", n_steps=200, seed=0)
    >>> bool(abs(np.abs(x[:, 0]).mean() - 3.0) < 0.3)
    True
    """
    if schedule not in ("ve", "vp"):
        raise ValueError(f"schedule must be 've' or 'vp', got {schedule!r}")
    n_steps = check_int(n_steps, "n_steps", minimum=1)
    snr = None if corrector_snr is None else _check_scalar(corrector_snr, "corrector_snr",
                                                           positive=True)
    if schedule == "ve":
        smin = _check_scalar(sigma_min, "sigma_min", positive=True)
        smax = _check_scalar(sigma_max, "sigma_max", positive=True)
        states, x = _start(n_samples, dim, seed, smax)
        ts = np.linspace(1.0, 0.0, n_steps + 1)
        sig = smin * (smax / smin) ** ts
        log_ratio = math.log(smax / smin)
        for i in range(n_steps):
            dt = ts[i] - ts[i + 1]
            g2 = 2.0 * sig[i] ** 2 * log_ratio
            z = _random.standard_normal(states, dim, n_threads=1)
            x = x + g2 * dt * _score(score, x, sig[i]) + math.sqrt(g2 * dt) * z
            if snr is not None:
                x = _corrector(score, x, sig[i + 1], snr, states, dim)
        return x
    states, x = _start(n_samples, dim, seed, 1.0)
    ts = np.linspace(1.0, t_min, n_steps + 1)
    for i in range(n_steps):
        t, dt = ts[i], ts[i] - ts[i + 1]
        beta = beta_min + t * (beta_max - beta_min)
        z = _random.standard_normal(states, dim, n_threads=1)
        x = x + (0.5 * beta * x + beta * _score(score, x, t)) * dt + math.sqrt(beta * dt) * z
        if snr is not None:
            x = _corrector(score, x, ts[i + 1], snr, states, dim, vp_alpha=True,
                           beta=(beta_min, beta_max))
    return x


def _corrector(score, x, level, snr, states, dim, vp_alpha=False, beta=None):
    """One Langevin step at a fixed noise level, step from the signal-to-noise ratio.

    As in Song et al.'s code, the norms are averaged over the samples: one step
    for all, so that a sample's step does not depend on its own noise (which
    would bias the move in low dimension).
    """
    g = _score(score, x, level)
    z = _random.standard_normal(states, dim, n_threads=1)
    g_norm = np.linalg.norm(g, axis=1).mean()
    z_norm = np.linalg.norm(z, axis=1).mean()
    step = 2.0 * (snr * z_norm / max(g_norm, 1e-300)) ** 2
    if vp_alpha:
        step = step * vp_alpha_sigma(level, *beta)[0] ** 2
    return x + step * g + np.sqrt(2.0 * step) * z
