"""Target densities over R^d: Python callables, built-in compiled targets, user cdef targets.

A target answers ``log_prob_and_grad(x) -> (log_prob (n,), grad (n, dim))`` for
points ``x`` of shape ``(n, dim)``; log densities are up to an additive
constant. Built-in and Cython targets also carry a compiled function that the
samplers call inside their OpenMP loop over chains; Python targets are called
once per step with all chains at once.
"""

import math
import numbers

import numpy as np

from heatbath._openmp import effective_n_threads
from heatbath._validation import check_int, check_real_array
from heatbath.continuous import _kernels

__all__ = ["Target", "PythonTarget", "CythonTarget", "Gaussian", "GaussianMixture",
           "DoubleWell", "Phi4", "RBMMarginal"]


def _check_points(x, dim, name="x"):
    x = check_real_array(x, name, finite=False)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] != dim:
        raise ValueError(f"{name} must have shape (n, {dim}), got {np.shape(x)}")
    return np.ascontiguousarray(x, dtype=np.float64)


def _check_scalar(value, name, *, positive=False):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or (positive and value <= 0):
        raise ValueError(f"{name} must be a finite{' positive' if positive else ''} number, "
                         f"got {value}")
    return value


class Target:
    """Base class: a log density over R^dim, up to a constant.

    Attributes
    ----------
    dim : int
        Dimension of the state.
    mean, variance : ndarray of shape (dim,) or None
        Exact moments where known (tests and the CLI's error columns use them).
    """

    dim = None
    mean = None
    variance = None
    _ctarget = None   # a compiled _kernels.CTarget, or None for Python targets

    @property
    def compiled(self):
        """True when the samplers run this target inside the compiled chain loop."""
        return self._ctarget is not None

    def log_prob_and_grad(self, x, n_threads=None):
        """Log density (n,) and its gradient (n, dim) at points ``x`` (n, dim)."""
        x = _check_points(x, self.dim)
        lp = np.empty(x.shape[0])
        g = np.empty_like(x)
        _kernels.evaluate(self._ctarget, x, lp, g, effective_n_threads(n_threads))
        return lp, g

    def log_prob(self, x, n_threads=None):
        """Log density at points ``x`` (n, dim), up to a constant."""
        return self.log_prob_and_grad(x, n_threads)[0]

    def __repr__(self):
        return f"{type(self).__name__}(dim={self.dim})"

    # Pickling (heatbath.distributed sends targets to other processes): the compiled
    # target is a C pointer, so it is left out and rebuilt from the attributes by
    # ``_compile`` (which every built-in target has; a CythonTarget cannot travel).
    def __getstate__(self):
        state = self.__dict__.copy()
        if state.pop("_ctarget", None) is not None and not hasattr(self, "_compile"):
            raise TypeError(f"a {type(self).__name__} holds a compiled function from a capsule "
                            "and cannot be sent to another process")
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if hasattr(self, "_compile"):
            self._ctarget = self._compile()


class PythonTarget(Target):
    """A target given as Python callables vectorised over chains.

    Parameters
    ----------
    log_prob : callable
        ``log_prob(x)`` with ``x`` of shape (n_chains, dim) returns (n_chains,);
        or, when ``grad_log_prob`` is None, returns the pair (log_prob, grad).
    dim : int
    grad_log_prob : callable or None
        ``grad_log_prob(x)`` returns (n_chains, dim).

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.continuous import PythonTarget
    >>> t = PythonTarget(lambda x: -0.5 * (x**2).sum(1), 3, grad_log_prob=lambda x: -x)
    >>> lp, g = t.log_prob_and_grad(np.ones((2, 3)))
    >>> lp.tolist(), g[0].tolist()
    ([-1.5, -1.5], [-1.0, -1.0, -1.0])
    """

    def __init__(self, log_prob, dim, grad_log_prob=None, mean=None, variance=None):
        if not callable(log_prob):
            raise TypeError("log_prob must be callable")
        if grad_log_prob is not None and not callable(grad_log_prob):
            raise TypeError("grad_log_prob must be callable or None")
        self.dim = check_int(dim, "dim", minimum=1)
        self._f, self._g = log_prob, grad_log_prob
        self.mean = None if mean is None else check_real_array(mean, "mean", ndim=1)
        self.variance = None if variance is None else check_real_array(variance, "variance",
                                                                        ndim=1)

    def log_prob_and_grad(self, x, n_threads=None):
        x = _check_points(x, self.dim)
        if self._g is None:
            out = self._f(x)
            if not (isinstance(out, tuple) and len(out) == 2):
                raise TypeError("log_prob must return (log_prob, grad) when grad_log_prob is None")
            lp, g = out
        else:
            lp, g = self._f(x), self._g(x)
        return self._check_output(lp, g, x.shape[0])

    def _check_output(self, lp, g, n):
        lp = np.asarray(lp, dtype=np.float64)
        g = np.asarray(g, dtype=np.float64)
        if lp.shape != (n,):
            raise ValueError(f"log_prob must return shape ({n},), got {lp.shape}")
        if g.shape != (n, self.dim):
            raise ValueError(f"the gradient must have shape ({n}, {self.dim}), got {g.shape}")
        return lp, g


class CythonTarget(Target):
    """A user's compiled target: a ``logp_grad_t`` in a PyCapsule (see ``_target.pxd``).

    The function runs inside the samplers' OpenMP loop over chains, so it must
    be ``noexcept nogil`` and thread-safe (read ``params`` only).

    Parameters
    ----------
    capsule : PyCapsule
        Named ``"heatbath.continuous.logp_grad_t"``, holding the function.
    dim : int
    params : array_like of float, optional
        Passed to the function as ``const void*`` (float64, C order, copied).

    Examples
    --------
    >>> from heatbath.continuous import CythonTarget
    >>> CythonTarget(object(), 2)
    Traceback (most recent call last):
    ...
    TypeError: capsule must be a PyCapsule named 'heatbath.continuous.logp_grad_t' holding a logp_grad_t
    """

    def __init__(self, capsule, dim, params=None, mean=None, variance=None):
        self.dim = check_int(dim, "dim", minimum=1)
        p = (np.zeros(0) if params is None
             else np.array(check_real_array(params, "params", allow_empty=True).ravel(),
                           dtype=np.float64, order="C"))
        self.params = p
        self._ctarget = _kernels.make_from_capsule(capsule, self.dim, p)
        self.mean, self.variance = mean, variance


def _builtin(kind, dim, a=(), nb=None, k=0, s0=0.0, s1=0.0):
    a = np.ascontiguousarray(a, dtype=np.float64).ravel()
    nb = (np.zeros(0, dtype=np.intp) if nb is None
          else np.ascontiguousarray(nb, dtype=np.intp).ravel())
    return _kernels.make_builtin(kind, dim, a, nb, k, s0, s1)


class Gaussian(Target):
    """Multivariate normal N(mean, cov), full covariance (diagonal ones take a faster path).

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.continuous import Gaussian
    >>> t = Gaussian(np.zeros(2), [[2.0, 0.5], [0.5, 1.0]])
    >>> t.variance.tolist()
    [2.0, 1.0]
    >>> float(t.log_prob(np.zeros((1, 2)))[0])
    0.0
    """

    def __init__(self, mean, cov):
        mean = check_real_array(mean, "mean", ndim=1)
        d = mean.size
        cov = check_real_array(cov, "cov")
        if cov.ndim == 0:
            cov = np.full(d, float(cov))
        if cov.ndim == 1:
            if cov.shape != (d,):
                raise ValueError(f"cov must have shape ({d},) or ({d}, {d}), got {cov.shape}")
            cov = np.diag(cov)
        if cov.shape != (d, d):
            raise ValueError(f"cov must have shape ({d}, {d}), got {cov.shape}")
        if not np.allclose(cov, cov.T, rtol=1e-12, atol=0):
            raise ValueError("cov must be symmetric")
        try:
            np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            raise ValueError("cov must be positive definite") from None
        self.dim, self.mean, self.cov = d, mean.copy(), cov.copy()
        self.variance = np.diag(cov).copy()
        if np.count_nonzero(cov - np.diag(np.diag(cov))) != 0:
            prec = np.linalg.inv(cov)
            self.precision = 0.5 * (prec + prec.T)
        self._ctarget = self._compile()

    def _compile(self):
        d, mean, cov = self.dim, self.mean, self.cov
        if np.count_nonzero(cov - np.diag(np.diag(cov))) == 0:
            return _builtin("gauss_diag", d, np.concatenate([mean, 1 / np.diag(cov)]))
        return _builtin("gauss_full", d, np.concatenate([mean, self.precision.ravel()]))

    def sample(self, n, seed=None):
        """Exact draws (n, dim) with numpy (for tests)."""
        return np.random.default_rng(seed).multivariate_normal(self.mean, self.cov, size=n)


class GaussianMixture(Target):
    """Mixture of Gaussians with diagonal covariances: sum_c w_c N(mu_c, diag(sigma_c^2)).

    Parameters
    ----------
    weights : array_like (k,)
        Positive; normalised here.
    means : array_like (k, dim)
    sigmas : float, (k,) or (k, dim)
        Standard deviations per component (and coordinate).

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.continuous import GaussianMixture
    >>> t = GaussianMixture([0.5, 0.5], [[-2.0], [2.0]], 1.0)
    >>> t.mean.tolist(), t.variance.tolist()
    ([0.0], [5.0])
    """

    def __init__(self, weights, means, sigmas=1.0):
        w = check_real_array(weights, "weights", ndim=1)
        if (w <= 0).any():
            raise ValueError("weights must be positive")
        w = w / w.sum()
        mu = check_real_array(means, "means", ndim=2)
        k, d = mu.shape
        if w.size != k:
            raise ValueError(f"weights has {w.size} entries but means has {k} rows")
        if k > _kernels.MAX_MIXTURE_COMPONENTS:
            raise ValueError(f"at most {_kernels.MAX_MIXTURE_COMPONENTS} components, got {k}")
        s = check_real_array(sigmas, "sigmas")
        s = np.broadcast_to(s.reshape(-1, 1) if s.ndim == 1 else s, (k, d)).astype(float)
        if (s <= 0).any():
            raise ValueError("sigmas must be positive")
        self.dim, self.weights, self.means, self.sigmas = d, w, mu.copy(), s.copy()
        self.mean = w @ mu
        self.variance = w @ (s**2 + mu**2) - self.mean**2
        self._ctarget = self._compile()

    def _compile(self):
        w, mu, s = self.weights, self.means, self.sigmas
        a = np.log(w) - np.log(s).sum(axis=1)
        return _builtin("mixture", self.dim, np.concatenate([a, mu.ravel(), (1 / s**2).ravel()]),
                        k=mu.shape[0])

    def convolved(self, sigma):
        """This mixture convolved with N(0, sigma^2 I): the noised density of a VE diffusion."""
        sigma = _check_scalar(sigma, "sigma")
        return GaussianMixture(self.weights, self.means, np.sqrt(self.sigmas**2 + sigma**2))

    def score(self, x, sigma):
        """Exact score grad log p_sigma(x) of the mixture convolved with N(0, sigma^2 I).

        ``sigma`` is a scalar or one per row of ``x`` (n,). Vectorised NumPy.
        """
        x = _check_points(x, self.dim)
        sig = np.broadcast_to(np.asarray(sigma, dtype=float), (x.shape[0],))[:, None, None]
        var = self.sigmas[None] ** 2 + sig**2                        # (n, k, d)
        r = x[:, None, :] - self.means[None]
        q = np.log(self.weights)[None] - 0.5 * (r**2 / var + np.log(var)).sum(-1)
        q -= q.max(axis=1, keepdims=True)
        p = np.exp(q)
        p /= p.sum(axis=1, keepdims=True)
        return -(p[:, :, None] * r / var).sum(axis=1)

    def sample(self, n, seed=None, return_components=False):
        """Exact draws (n, dim) with numpy (for tests and the demo)."""
        rng = np.random.default_rng(seed)
        comp = rng.choice(self.weights.size, size=n, p=self.weights)
        x = self.means[comp] + self.sigmas[comp] * rng.standard_normal((n, self.dim))
        return (x, comp) if return_components else x


class DoubleWell(Target):
    """Independent double wells: log p(x) = sum_i [-barrier (x_i^2 - 1)^2 + tilt x_i].

    Exact one-coordinate moments and CDF by quadrature (:meth:`marginal_cdf`).

    Examples
    --------
    >>> from heatbath.continuous import DoubleWell
    >>> t = DoubleWell(2, barrier=2.0)
    >>> abs(float(t.mean[0])) < 1e-12
    True
    """

    def __init__(self, dim, barrier=1.0, tilt=0.0):
        self.dim = check_int(dim, "dim", minimum=1)
        self.barrier = _check_scalar(barrier, "barrier", positive=True)
        self.tilt = _check_scalar(tilt, "tilt")
        grid, dens = self._grid()
        m = np.trapezoid(grid * dens, grid)
        v = np.trapezoid((grid - m) ** 2 * dens, grid)
        self.mean, self.variance = np.full(self.dim, m), np.full(self.dim, v)
        self._ctarget = self._compile()

    def _compile(self):
        return _builtin("double_well", self.dim, s0=self.barrier, s1=self.tilt)

    def _grid(self, n=200_001):
        grid = np.linspace(-6, 6, n)
        logd = -self.barrier * (grid**2 - 1) ** 2 + self.tilt * grid
        dens = np.exp(logd - logd.max())
        return grid, dens / np.trapezoid(dens, grid)

    def marginal_cdf(self, x):
        """Exact CDF of one coordinate (trapezoid quadrature on a fine grid)."""
        grid, dens = self._grid()
        cdf = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(grid))])
        return np.interp(x, grid, cdf / cdf[-1])


class Phi4(Target):
    r"""Lattice phi^4 field on a periodic L^D torus (D = 2 or 3), hopping-parameter form.

    S(phi) = sum_x [phi_x^2 + lam (phi_x^2 - 1)^2 - 2 kappa sum_mu phi_x phi_{x+mu}],
    log p = -S. At lam = 0 it is Gaussian with precision 2(1 - kappa H) (H the
    adjacency), solved by Fourier modes: <phi_x phi_0> = (1/V) sum_k cos(k.x) /
    (2(1 - 2 kappa sum_mu cos k_mu)) (needs kappa < 1/(2D)).

    Examples
    --------
    >>> from heatbath.continuous import Phi4
    >>> t = Phi4(4, dim=2, kappa=0.1, lam=0.0)
    >>> t.dim, round(float(t.exact_phi2()), 6)
    (16, 0.522321)
    """

    def __init__(self, size, dim=2, kappa=0.2, lam=0.0):
        self.size = check_int(size, "size", minimum=3)
        self.lattice_dim = check_int(dim, "dim", minimum=2, maximum=3)
        self.kappa = _check_scalar(kappa, "kappa")
        self.lam = _check_scalar(lam, "lam")
        if self.lam < 0:
            raise ValueError(f"lam must be >= 0, got {self.lam}")
        if self.lam == 0 and not abs(self.kappa) < 1 / (2 * self.lattice_dim):
            raise ValueError(f"the free theory (lam=0) needs |kappa| < 1/(2 dim) = "
                             f"{1 / (2 * self.lattice_dim)}, got {self.kappa}")
        shape = (self.size,) * self.lattice_dim
        self.shape = shape
        self.dim = self.size**self.lattice_dim
        idx = np.arange(self.dim).reshape(shape)
        nb = [np.roll(idx, s, axis=a).ravel() for a in range(self.lattice_dim) for s in (-1, 1)]
        self.neighbours = np.stack(nb, axis=1)
        if self.lam == 0:
            self.mean = np.zeros(self.dim)
            self.variance = np.full(self.dim, self.exact_phi2())
        self._ctarget = self._compile()

    def _compile(self):
        return _builtin("phi4", self.dim, nb=self.neighbours, k=2 * self.lattice_dim,
                        s0=self.kappa, s1=self.lam)

    def _free_propagator(self):
        if self.lam != 0:
            raise ValueError("exact results are for the free theory (lam = 0) only")
        k = 2 * np.pi * np.fft.fftfreq(self.size)
        grids = np.meshgrid(*([k] * self.lattice_dim), indexing="ij")
        return 1.0 / (2.0 * (1.0 - 2.0 * self.kappa * sum(np.cos(g) for g in grids)))

    def exact_two_point(self):
        """<phi_x phi_0> on the whole torus, shape (L,)*D (free theory)."""
        return np.real(np.fft.ifftn(self._free_propagator()))

    def exact_phi2(self):
        """<phi_x^2> (free theory)."""
        return float(self._free_propagator().mean())


class RBMMarginal(Target):
    """Visible marginal of a Gaussian-Bernoulli RBM with unit-variance visibles.

    log p(v) = -abs(v - a)^2 / 2 + sum_j softplus(b_j + (v W)_j), the negative free
    energy of ``heatbath.RBM(n_visible, n_hidden, "gaussian", "bernoulli")``.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.continuous import RBMMarginal
    >>> t = RBMMarginal(np.zeros((3, 2)), np.zeros(3), np.zeros(2))
    >>> round(float(t.log_prob(np.zeros((1, 3)))[0]), 6)    # 2 log 2
    1.386294
    """

    def __init__(self, weights, visible_bias, hidden_bias):
        W = check_real_array(weights, "weights", ndim=2)
        d, k = W.shape
        a = check_real_array(visible_bias, "visible_bias", ndim=1)
        b = check_real_array(hidden_bias, "hidden_bias", ndim=1)
        if a.size != d or b.size != k:
            raise ValueError(f"visible_bias must have {d} entries and hidden_bias {k}")
        self.dim, self.weights, self.visible_bias, self.hidden_bias = d, W, a, b
        self._ctarget = self._compile()

    def _compile(self):
        W, a, b = self.weights, self.visible_bias, self.hidden_bias
        return _builtin("rbm_marginal", self.dim, np.concatenate([a, b, W.ravel()]),
                        k=W.shape[1])

    @classmethod
    def from_rbm(cls, rbm):
        """From a ``heatbath.RBM`` with Gaussian visible and Bernoulli hidden units."""
        if (getattr(rbm.visible, "name", None), getattr(rbm.hidden, "name", None)) != \
                ("gaussian", "bernoulli"):
            raise ValueError("rbm must have gaussian visible and bernoulli hidden units, got "
                             f"{rbm.visible!r} and {rbm.hidden!r}")
        return cls(rbm.weights, rbm.visible_bias, rbm.hidden_bias)
