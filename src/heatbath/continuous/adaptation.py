"""Tuning for the continuous samplers, kept apart from the kernels (as in BlackJAX).

Both adapters run during burn-in only; ``run`` then freezes what they give,
so the chain after burn-in is one fixed Markov kernel.

- :class:`DualAveraging`: the step size that makes the mean acceptance
  probability hit a target (Nesterov's dual averaging as in Hoffman & Gelman
  2014, Algorithm 5; Stan's constants gamma=0.05, t0=10, kappa=0.75).
- :class:`WindowedVariance`: Stan's windowed adaptation of a diagonal
  preconditioner: a fast initial window (step size only), slow windows that
  double in length, each ending with a new preconditioner (the pooled
  per-coordinate variance over chains, shrunk towards 1e-3 as Stan does) and
  a restart of dual averaging, then a fast terminal window.
"""

import math

import numpy as np

__all__ = ["DualAveraging", "WindowedVariance", "window_schedule"]


class DualAveraging:
    """Dual averaging of log step size towards a target acceptance probability.

    Examples
    --------
    >>> from heatbath.continuous.adaptation import DualAveraging
    >>> da = DualAveraging(1.0, target=0.6)
    >>> for _ in range(50):
    ...     da.update(0.2)            # accepting too rarely: the step shrinks
    >>> da.step_size < 1.0
    True
    """

    def __init__(self, step_size, target, gamma=0.05, t0=10.0, kappa=0.75):
        self.target, self.gamma, self.t0, self.kappa = target, gamma, t0, kappa
        self.restart(step_size)

    def restart(self, step_size):
        self.mu = math.log(10.0 * step_size)
        self.log_step = math.log(step_size)
        self.log_step_avg = 0.0
        self.h_bar = 0.0
        self.count = 0

    def update(self, accept_prob):
        """One update from the mean acceptance probability of the last step."""
        self.count += 1
        m = self.count
        eta = 1.0 / (m + self.t0)
        self.h_bar = (1 - eta) * self.h_bar + eta * (self.target - accept_prob)
        self.log_step = self.mu - math.sqrt(m) / self.gamma * self.h_bar
        w = m ** (-self.kappa)
        self.log_step_avg = w * self.log_step + (1 - w) * self.log_step_avg
        # keep the step finite whatever the acceptance does
        self.log_step = min(max(self.log_step, -50.0), 50.0)

    @property
    def step_size(self):
        """The step size to use for the next step."""
        return math.exp(self.log_step)

    @property
    def final_step_size(self):
        """The averaged step size to freeze after burn-in."""
        return math.exp(min(max(self.log_step_avg, -50.0), 50.0)) if self.count else self.step_size


def window_schedule(n_burn_in, init=75, term=50, base=25):
    """Stan's slow windows, as (start, end) step indices, for ``n_burn_in`` steps.

    Returns [] when burn-in is too short for a preconditioner (< 150 steps):
    then only the step size is tuned. Shorter burn-ins than 1000 whose
    default windows do not fit scale them as Stan does (15% / 75% / 10%).

    Examples
    --------
    >>> from heatbath.continuous.adaptation import window_schedule
    >>> window_schedule(1000)
    [(75, 100), (100, 150), (150, 250), (250, 450), (450, 950)]
    """
    if n_burn_in < 150:
        return []
    if init + term + base > n_burn_in:
        init, term = int(0.15 * n_burn_in), int(0.1 * n_burn_in)
        base = n_burn_in - init - term
    windows, start, size = [], init, base
    end_slow = n_burn_in - term
    while start < end_slow:
        end = start + size
        if end + 2 * size > end_slow:   # the last window takes what is left
            end = end_slow
        windows.append((start, end))
        start, size = end, 2 * size
    return windows


class WindowedVariance:
    """Pooled per-coordinate variance over the chains in one window."""

    def __init__(self, dim):
        self.dim = dim
        self.reset()

    def reset(self):
        self.n = 0
        self.s1 = np.zeros(self.dim)
        self.s2 = np.zeros(self.dim)

    def add(self, x):
        """Add the chains' positions (n_chains, dim): sums in a fixed order."""
        self.n += x.shape[0]
        self.s1 += x.sum(axis=0)
        self.s2 += (x * x).sum(axis=0)

    def regularised(self):
        """Stan's shrunk variance: n/(n+5) var + 1e-3 * 5/(n+5)."""
        n = self.n
        mean = self.s1 / n
        var = np.maximum(self.s2 / n - mean * mean, 0.0) * n / max(n - 1, 1)
        return (n / (n + 5.0)) * var + 1e-3 * (5.0 / (n + 5.0))
