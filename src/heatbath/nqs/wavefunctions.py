r"""RBM wavefunctions (Carleo & Troyer 2017): real or complex parameters, plain or translation-symmetric.

.. math:: \psi(s) = e^{\sum_i a_i s_i} \prod_j 2 \cosh \theta_j(s),
          \quad \theta_j = b_j + \sum_i W_{ij} s_i .

The log-derivatives O_k(s) = d log psi(s) / d p_k are s_i (for a_i),
tanh theta_j (for b_j) and s_i tanh theta_j (for W_ij). With complex
parameters psi is holomorphic in them, and the same formulas hold.

A wavefunction is light: it holds parameters (one flat vector, in the order
a, b, W) and answers log psi and O_k; the sampler (heatbath.nqs.sampler)
keeps the look-up tables.
"""

import numbers

import numpy as np

from heatbath._io import atomic_write
from heatbath._random import as_seed_sequence
from heatbath._validation import check_int
from heatbath.lattice import Lattice

__all__ = ["RBM", "SymmetricRBM", "load_wavefunction", "log_cosh"]

FORMAT_VERSION = 1
_DTYPES = (np.dtype(np.float64), np.dtype(np.complex128))


def log_cosh(z):
    """log cosh z without overflow, for real or complex z (even in z)."""
    z = np.asarray(z)
    z = np.where(z.real < 0, -z, z)
    return z + np.log1p(np.exp(-2.0 * z)) - np.log(2.0)


def _check_dtype(dtype):
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be float64 or complex128, got {dtype!r}") from None
    if dt not in _DTYPES:
        raise ValueError(f"dtype must be float64 or complex128, got {dt}")
    return dt


def _check_alpha(alpha):
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"alpha must be a positive number, got {alpha!r}")
    if not np.isfinite(alpha) or alpha <= 0:
        raise ValueError(f"alpha must be a positive finite number, got {alpha}")
    return float(alpha)


def _initial(rng, n, dtype, scale):
    if dtype.kind == "c":
        return (rng.normal(0.0, scale / np.sqrt(2), n)
                + 1j * rng.normal(0.0, scale / np.sqrt(2), n)).astype(dtype)
    return rng.normal(0.0, scale, n).astype(dtype)


def _states(states, n):
    s = np.asarray(states)
    if s.dtype.kind not in "biuf":
        raise TypeError(f"states must hold -1/+1 spins, got dtype {s.dtype}")
    if s.ndim == 1:
        s = s[None, :]
    if s.ndim != 2 or s.shape[1] != n:
        raise ValueError(f"states must have shape (n, {n}), got {np.shape(states)}")
    if not np.all((s == 1) | (s == -1)):
        raise ValueError("states must contain only -1 and +1")
    return s.astype(np.int8)


class _Wavefunction:
    """Shared parts: flat parameters, log psi from the expanded (a, b, W), files."""

    def __init__(self, n_visible, n_hidden, dtype, n_parameters, seed, scale):
        self.dtype = _check_dtype(dtype)
        if isinstance(scale, (bool, np.bool_)) or not isinstance(scale, numbers.Real) or \
                not np.isfinite(scale) or scale < 0:
            raise ValueError(f"scale must be a finite number >= 0, got {scale!r}")
        self.n_visible = n_visible
        self.n_hidden = n_hidden
        rng = np.random.Generator(np.random.SFC64(as_seed_sequence(seed)))
        self._params = _initial(rng, n_parameters, self.dtype, float(scale))

    @property
    def n_parameters(self):
        return self._params.size

    @property
    def is_complex(self):
        return self.dtype.kind == "c"

    @property
    def parameters(self):
        """The flat parameter vector (a copy)."""
        return self._params.copy()

    @parameters.setter
    def parameters(self, value):
        p = np.asarray(value)
        if p.dtype.kind not in "biufc":
            raise TypeError(f"parameters must be numbers, got dtype {p.dtype}")
        if p.dtype.kind == "c" and not self.is_complex:
            raise TypeError("parameters are complex but this wavefunction is real (float64)")
        if p.shape != self._params.shape:
            raise ValueError(f"parameters must have shape {self._params.shape}, got {p.shape}")
        if not np.all(np.isfinite(p)):
            raise ValueError("parameters must be finite (no NaN or inf)")
        self._params = np.array(p, dtype=self.dtype)

    def theta(self, states):
        """Effective angles theta_j(s), shape (n, n_hidden)."""
        a, b, W = self.expanded()
        s = _states(states, self.n_visible)
        return b + s.astype(float) @ W

    def log_psi(self, states):
        """log psi(s) for each row of ``states`` (complex for complex parameters)."""
        a, b, W = self.expanded()
        s = _states(states, self.n_visible)
        sf = s.astype(float)
        out = sf @ a + (log_cosh(b + sf @ W) + np.log(2.0)).sum(axis=1)
        return out

    def _jacobian(self, s, tanh):
        return self._derivatives(s, tanh)

    def log_derivatives(self, states):
        """O_k(s) = d log psi / d p_k, shape (n, n_parameters)."""
        s = _states(states, self.n_visible)
        a, b, W = self.expanded()
        return self._derivatives(s, np.tanh(b + s.astype(float) @ W))

    # -- files ----------------------------------------------------------------
    def save(self, path):
        """Save to ``.npz`` (no pickle), atomically."""
        data = dict(format_version=FORMAT_VERSION, kind=type(self).__name__,
                    parameters=self._params, **self._config())
        atomic_write(path, lambda f: np.savez(f, **data), suffix=".npz")


class RBM(_Wavefunction):
    """The Carleo-Troyer RBM wavefunction with ``alpha * n_visible`` hidden units.

    Parameters
    ----------
    n_visible : int
        Spins N.
    alpha : float, default=1
        Hidden units per spin; M = round(alpha * N) >= 1.
    dtype : {"float64", "complex128"}, default="float64"
        Real or complex parameters (complex: psi can carry signs and phases).
    seed : None, int, SeedSequence or Generator
        Initial parameters are normal with standard deviation ``scale``.
    scale : float, default=0.01

    Examples
    --------
    >>> from heatbath.nqs import RBM
    >>> psi = RBM(4, alpha=2, seed=0)
    >>> psi.n_hidden, psi.n_parameters
    (8, 44)
    >>> psi.log_psi([[1, -1, 1, 1]]).shape
    (1,)
    """

    def __init__(self, n_visible, alpha=1, dtype="float64", seed=None, scale=0.01):
        n = check_int(n_visible, "n_visible", minimum=1)
        m = max(1, int(round(_check_alpha(alpha) * n)))
        self.alpha = alpha
        super().__init__(n, m, dtype, n + m + n * m, seed, scale)

    def __repr__(self):
        return f"RBM({self.n_visible}, alpha={self.alpha}, dtype={self.dtype})"

    @property
    def a(self):
        return self._params[:self.n_visible]

    @property
    def b(self):
        return self._params[self.n_visible:self.n_visible + self.n_hidden]

    @property
    def W(self):
        return self._params[self.n_visible + self.n_hidden:].reshape(self.n_visible,
                                                                    self.n_hidden)

    def expanded(self):
        """(a, b, W) of the full RBM (views)."""
        return self.a, self.b, self.W

    def _derivatives(self, s, tanh):
        return self._jacobian(s, tanh).dense()

    def _jacobian(self, s, tanh):
        # O = [s, tanh, s (x) tanh], kept factored (the SR step uses its structure).
        from heatbath.nqs.optimizers import RBMJacobian

        return RBMJacobian(s, np.asarray(tanh, dtype=self.dtype))

    def _config(self):
        return dict(n_visible=self.n_visible, alpha=self.alpha)


class SymmetricRBM(_Wavefunction):
    """Translation-symmetric RBM: ``alpha`` filters w_f, each applied at every translation.

    The full RBM it stands for has W[i, (f, t)] = w[f, T_t(i)], b[(f, t)] = b_f
    and a_i = a, so psi is invariant under the lattice translations T_t, with
    1 + alpha + alpha N parameters instead of N + M + N M.

    Parameters
    ----------
    lattice : heatbath.lattice.Lattice or int
        The lattice whose translations are used (an int is a periodic chain).
    alpha : int, default=1
        Filters (the full RBM has alpha * n_translations hidden units).
    dtype, seed, scale
        As for :class:`RBM`.

    Examples
    --------
    >>> from heatbath.nqs import SymmetricRBM
    >>> psi = SymmetricRBM(6, alpha=2, seed=0)
    >>> psi.n_parameters, psi.n_hidden
    (15, 12)
    >>> import numpy as np
    >>> s = np.array([[1, 1, -1, 1, -1, -1]])
    >>> bool(np.isclose(psi.log_psi(s)[0], psi.log_psi(np.roll(s, 1, axis=1))[0]))
    True
    """

    def __init__(self, lattice, alpha=1, dtype="float64", seed=None, scale=0.01):
        if not isinstance(lattice, Lattice):
            lattice = Lattice(lattice)
        self.lattice = lattice
        self.alpha = check_int(alpha, "alpha", minimum=1)
        self._perm = lattice.translations
        self._inv = np.argsort(self._perm, axis=1).astype(np.int32)
        n, t = lattice.n_sites, len(self._perm)
        super().__init__(n, self.alpha * t, dtype, 1 + self.alpha + self.alpha * n, seed, scale)

    def __repr__(self):
        return f"SymmetricRBM({self.lattice!r}, alpha={self.alpha}, dtype={self.dtype})"

    def expanded(self):
        n, f = self.n_visible, self.alpha
        a = np.full(n, self._params[0])
        b = np.repeat(self._params[1:1 + f], len(self._perm))
        w = self._params[1 + f:].reshape(f, n)
        W = np.ascontiguousarray(w[:, self._perm].transpose(2, 0, 1).reshape(n, -1))
        return a, b, W

    def _derivatives(self, s, tanh):
        n, f, t = s.shape[0], self.alpha, len(self._perm)
        th = tanh.reshape(n, f, t).astype(self.dtype)
        gathered = s[:, self._inv].astype(self.dtype)          # (n, t, N): s[T_t^-1(k)]
        ow = np.einsum("nft,ntk->nfk", th, gathered).reshape(n, -1)
        return np.concatenate([s.sum(axis=1, dtype=np.int64)[:, None].astype(self.dtype),
                               th.sum(axis=2), ow], axis=1)

    def _config(self):
        return dict(shape=np.array(self.lattice.shape), periodic=np.array(self.lattice.periodic),
                    alpha=self.alpha)


def load_wavefunction(path):
    """Load a wavefunction saved with ``save``.

    Examples
    --------
    >>> import os, tempfile
    >>> from heatbath.nqs import RBM, load_wavefunction
    >>> psi = RBM(3, dtype="complex128", seed=1)
    >>> path = os.path.join(tempfile.mkdtemp(), "psi.npz")
    >>> psi.save(path)
    >>> bool((load_wavefunction(path).parameters == psi.parameters).all())
    True
    """
    with np.load(path, allow_pickle=False) as f:
        try:
            version, kind, params = int(f["format_version"]), str(f["kind"]), f["parameters"]
            if version != FORMAT_VERSION:
                raise ValueError(f"{path}: format_version {version} is not supported")
            if kind == "RBM":
                psi = RBM(int(f["n_visible"]), alpha=float(f["alpha"]), dtype=params.dtype)
            elif kind == "SymmetricRBM":
                lat = Lattice(tuple(int(x) for x in f["shape"]),
                              tuple(bool(x) for x in f["periodic"]))
                psi = SymmetricRBM(lat, alpha=int(f["alpha"]), dtype=params.dtype)
            else:
                raise ValueError(f"{path}: unknown wavefunction kind {kind!r}")
        except KeyError as exc:
            raise ValueError(f"{path}: not a heatbath wavefunction file ({exc})") from None
    psi.parameters = params
    return psi
