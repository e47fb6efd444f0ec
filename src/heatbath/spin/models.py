"""Spin models with +-1 spins: Ising lattices and general Boltzmann machines.

Models are light: they hold parameters and answer ``energy(states)`` and
``magnetization(states)`` for a batch of states of shape ``(n_chains, n_spins)``.
Samplers live in :mod:`heatbath.spin.samplers`.
"""

import numbers
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from heatbath._openmp import effective_n_threads
from heatbath._validation import MAX_ELEMENTS, check_real_array
from heatbath.spin import _metropolis

__all__ = ["Ising", "BoltzmannMachine", "check_spins"]


def check_spins(states, n_spins, name="states"):
    """Return ``states`` as a C-contiguous int8 array of shape (n_chains, n_spins).

    A single state of shape ``(n_spins,)`` becomes one row. Every entry must
    be -1 or +1 (bool, int or float dtypes are accepted).
    """
    arr = np.asarray(states)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold -1/+1 spins, got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != n_spins:
        raise ValueError(f"{name} must have shape (n_chains, {n_spins}), got {np.shape(states)}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one state (got 0 rows)")
    if arr.dtype.kind == "b" or not np.all((arr == 1) | (arr == -1)):
        raise ValueError(f"{name} must contain only -1 and +1")
    return np.ascontiguousarray(arr, dtype=np.int8)


def _check_scalar(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def _check_energy_bound(bound):
    """Refuse couplings and fields whose energies could overflow float64."""
    with np.errstate(over="ignore"):
        if not np.isfinite(bound) or bound > 1e300:
            raise ValueError(
                "J and h are too large: |E| could reach "
                f"{float(bound):.3g}, beyond float64 (limit 1e300); rescale them "
                "(and the temperature) together")


class Ising:
    r"""Ising model on a hypercubic lattice of any dimension.

    .. math:: E(s) = -J \sum_{\langle ij \rangle} s_i s_j - h \sum_i s_i,
              \quad s_i = \pm 1,

    where :math:`\langle ij \rangle` runs over nearest-neighbour bonds. Sites
    are numbered in C order of ``shape``. With periodic boundaries a side of
    length 2 joins each pair of sites by two bonds (one each way round), the
    usual convention of the transfer-matrix results.

    Parameters
    ----------
    shape : int or tuple of int
        Lattice sides, e.g. ``(L, L)``. Each side >= 1, or >= 2 if periodic.
    J : float, default=1.0
        Coupling (> 0: ferromagnet).
    h : float, default=0.0
        External field.
    periodic : bool or tuple of bool, default=True
        Periodic boundaries, for all dimensions or one flag per dimension.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.spin import Ising
    >>> model = Ising((4, 4))
    >>> up = np.ones((1, 16))
    >>> model.energy(up), model.magnetization(up)   # 32 bonds on a 4x4 torus
    (array([-32.]), array([16.]))
    """

    def __init__(self, shape, J=1.0, h=0.0, periodic=True):
        if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
            shape = (shape,)
        try:
            shape = tuple(shape)
        except TypeError:
            raise TypeError(f"shape must be an int or a tuple of ints, got {shape!r}") from None
        if not shape:
            raise ValueError("shape must have at least one dimension")
        for side in shape:
            if isinstance(side, (bool, np.bool_)) or not isinstance(side, numbers.Integral):
                raise TypeError(f"shape must hold ints, got {shape!r}")
        shape = tuple(int(s) for s in shape)
        if isinstance(periodic, (bool, np.bool_)):
            periodic = (bool(periodic),) * len(shape)
        else:
            periodic = tuple(bool(p) for p in periodic)
            if len(periodic) != len(shape):
                raise ValueError(
                    f"periodic must be a bool or have one flag per dimension ({len(shape)}), "
                    f"got {len(periodic)}")
        for side, per in zip(shape, periodic):
            if side < (2 if per else 1):
                raise ValueError(
                    f"shape sides must be >= 1 (>= 2 when periodic), got shape {shape}")
        n = int(np.prod(shape, dtype=np.int64))
        if n > MAX_ELEMENTS // 8:
            raise ValueError(f"shape {shape} has {n} sites, more than {MAX_ELEMENTS // 8}")
        self.shape = shape
        self.periodic = periodic
        self.J = _check_scalar(J, "J")
        self.h = _check_scalar(h, "h")
        self.n_spins = n
        self.ndim = len(shape)
        self.coordination = 2 * len(shape)
        _check_energy_bound(abs(self.J) * n * len(shape) + abs(self.h) * n)

    def __repr__(self):
        return (f"Ising(shape={self.shape}, J={self.J}, h={self.h}, "
                f"periodic={self.periodic if len(set(self.periodic)) > 1 else self.periodic[0]})")

    @cached_property
    def neighbors(self):
        """Neighbour table, int32 (n_spins, 2 ndim): +e_k for each k, then -e_k; -1 = none."""
        # Filled column by column in int32: 16 bytes per site in 2D, peak 24 (an
        # int64 stack of rolled copies peaked at 88 bytes per site).
        idx = np.arange(self.n_spins, dtype=np.int32).reshape(self.shape)
        table = np.empty((self.n_spins, 2 * self.ndim), dtype=np.int32)
        col = 0
        for sign in (+1, -1):
            for axis, (side, per) in enumerate(zip(self.shape, self.periodic)):
                nb = np.roll(idx, -sign, axis=axis)
                if not per:
                    edge = [slice(None)] * self.ndim
                    edge[axis] = -1 if sign > 0 else 0
                    nb[tuple(edge)] = -1
                table[:, col] = nb.ravel()
                col += 1
                del nb
        return table

    @cached_property
    def sweep_order(self):
        """Visiting order of a sweep: colour 0 (even coordinate sum), then colour 1."""
        parity = np.indices(self.shape).sum(axis=0).ravel() & 1
        return np.ascontiguousarray(np.argsort(parity, kind="stable"), dtype=np.int32)

    @property
    def bipartite(self):
        """True if the two colours never touch (no periodic side of odd length)."""
        return all(not per or side % 2 == 0 for side, per in zip(self.shape, self.periodic))

    @property
    def n_bonds(self):
        """Number of bonds (a periodic side of length 2 counts its bonds twice)."""
        return int((self.neighbors[:, : self.ndim] >= 0).sum())

    def bond_sums(self, states, n_threads=None):
        """Return (B, M): sum of s_i s_j over bonds and sum of s_i, as int64 arrays."""
        s = check_spins(states, self.n_spins)
        bonds = np.empty(s.shape[0], dtype=np.int64)
        mag = np.empty(s.shape[0], dtype=np.int64)
        _metropolis._table_bonds_mag(s, self.neighbors, bonds, mag,
                                     effective_n_threads(n_threads))
        return bonds, mag

    def energy(self, states, n_threads=None):
        """Energy of each state: ``-J B - h M``, float64 array (n_chains,).

        Examples
        --------
        >>> from heatbath.spin import Ising
        >>> Ising(3, J=2.0, h=0.5).energy([1, -1, 1])   # ring of 3: bonds -1, -1, +1
        array([1.5])
        """
        bonds, mag = self.bond_sums(states, n_threads)
        return -self.J * bonds - self.h * mag

    def magnetization(self, states):
        """Total magnetisation of each state, float64 array (n_chains,).

        Examples
        --------
        >>> from heatbath.spin import Ising
        >>> Ising(4).magnetization([[1, 1, -1, 1], [-1, -1, -1, -1]])
        array([ 2., -4.])
        """
        return check_spins(states, self.n_spins).sum(axis=1, dtype=np.int64).astype(float)


class BoltzmannMachine:
    r"""Fully connected (or sparse) Boltzmann machine with +-1 spins.

    .. math:: E(s) = -\sum_{i<j} J_{ij} s_i s_j - \sum_i h_i s_i
                   = -\tfrac12 s^\top J s - h^\top s.

    With Gaussian random J this is the Sherrington-Kirkpatrick spin glass
    (:meth:`sherrington_kirkpatrick`). For a {0, 1} Boltzmann machine, use
    :meth:`from_binary`.

    Parameters
    ----------
    J : array_like or scipy.sparse matrix, shape (n, n)
        Symmetric couplings with a zero diagonal (diagonal terms would only add
        a constant, since s_i**2 = 1; they are refused rather than dropped).
    h : float or array_like, shape (n,), default=0.0
        Fields.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.spin import BoltzmannMachine
    >>> J = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> BoltzmannMachine(J, h=[0.5, 0.0]).energy([[1, 1], [1, -1]])
    array([-1.5,  0.5])
    """

    def __init__(self, J, h=0.0):
        if sp.issparse(J):
            if J.ndim != 2 or J.shape[0] != J.shape[1]:
                raise ValueError(f"J must be square, got shape {J.shape}")
            if J.dtype.kind not in "biuf":
                raise TypeError(f"J must hold real numbers, got dtype {J.dtype}")
            csr = sp.csr_matrix(J, dtype=np.float64)
            if not np.all(np.isfinite(csr.data)):
                raise ValueError("J must be finite, but it contains NaN or inf")
            asym = abs(csr - csr.T)
            scale = abs(csr).max() if csr.nnz else 0.0
            if asym.nnz and asym.max() > 1e-12 * scale:
                raise ValueError("J must be symmetric (J == J.T)")
            if np.any(csr.diagonal() != 0):
                raise ValueError("J must have a zero diagonal (s_i**2 = 1: diagonal terms are "
                                 "a constant; remove them and add it to the energy yourself)")
        else:
            Jd = check_real_array(J, "J", ndim=2)
            if Jd.shape[0] != Jd.shape[1]:
                raise ValueError(f"J must be square, got shape {Jd.shape}")
            if np.abs(Jd - Jd.T).max() > 1e-12 * np.abs(Jd).max():
                raise ValueError("J must be symmetric (J == J.T)")
            if np.any(np.diag(Jd) != 0):
                raise ValueError("J must have a zero diagonal (s_i**2 = 1: diagonal terms are "
                                 "a constant; remove them and add it to the energy yourself)")
            csr = sp.csr_matrix(Jd)
        n = csr.shape[0]
        if n == 0:
            raise ValueError("J must have at least one spin (got shape (0, 0))")
        # Symmetrise exactly, so that the sampler and the energy agree.
        csr = ((csr + csr.T) * 0.5).tocsr()
        csr.eliminate_zeros()
        csr.sort_indices()
        if csr.nnz > np.iinfo(np.int32).max:
            raise ValueError(f"J has {csr.nnz} non-zeros, more than int32 indices allow")
        self.n_spins = n
        self.indptr = csr.indptr.astype(np.int32)
        self.indices = csr.indices.astype(np.int32)
        self.data = csr.data.astype(np.float64)
        h = check_real_array(h, "h", allow_empty=True)
        if h.ndim == 0:
            h = np.full(n, float(h))
        if h.shape != (n,):
            raise ValueError(f"h must be a scalar or have shape ({n},), got {h.shape}")
        self.h = np.ascontiguousarray(h)
        _check_energy_bound(np.abs(self.data).sum() / 2 + np.abs(self.h).sum())

    def __repr__(self):
        return f"BoltzmannMachine(n_spins={self.n_spins}, nnz={self.data.size})"

    @property
    def J(self):
        """The couplings as a scipy.sparse CSR matrix."""
        return sp.csr_matrix((self.data, self.indices, self.indptr),
                             shape=(self.n_spins, self.n_spins))

    @classmethod
    def sherrington_kirkpatrick(cls, n_spins, seed=None, h=0.0):
        """SK glass: J_ij ~ N(0, 1/n) for i < j, symmetric, zero diagonal.

        Examples
        --------
        >>> from heatbath.spin import BoltzmannMachine
        >>> BoltzmannMachine.sherrington_kirkpatrick(10, seed=0).n_spins
        10
        """
        from heatbath._validation import check_int

        n = check_int(n_spins, "n_spins", minimum=1, maximum=2**15)
        rng = np.random.default_rng(seed)
        upper = np.triu(rng.normal(scale=1.0 / np.sqrt(n), size=(n, n)), 1)
        return cls(upper + upper.T, h=h)

    @classmethod
    def from_binary(cls, W, b):
        r"""Convert a {0, 1} Boltzmann machine to +-1 form.

        The {0, 1} energy :math:`E(x) = -\tfrac12 x^\top W x - b^\top x`
        (W symmetric, zero diagonal) equals, with :math:`x = (1 + s)/2`,

        .. math:: E = -\tfrac12 s^\top J s - h^\top s + c, \quad
                  J = W/4, \quad h = W\mathbf{1}/4 + b/2, \quad
                  c = -\mathbf{1}^\top W \mathbf{1}/8 - \mathbf{1}^\top b / 2.

        Returns
        -------
        model : BoltzmannMachine
        offset : float
            The constant c: ``E_binary(x) = model.energy(2 x - 1) + offset``.

        Examples
        --------
        >>> import numpy as np
        >>> from heatbath.spin import BoltzmannMachine
        >>> W = np.array([[0.0, 2.0], [2.0, 0.0]]); b = np.array([1.0, -1.0])
        >>> model, c = BoltzmannMachine.from_binary(W, b)
        >>> x = np.array([1, 1])
        >>> float(model.energy(2 * x - 1)[0] + c), float(-0.5 * x @ W @ x - b @ x)
        (-2.0, -2.0)
        """
        W = check_real_array(W, "W", ndim=2)
        b = check_real_array(b, "b", ndim=1)
        if W.shape != (b.size, b.size):
            raise ValueError(f"W must have shape ({b.size}, {b.size}) to match b, got {W.shape}")
        ones = np.ones(b.size)
        model = cls(W / 4.0, h=W @ ones / 4.0 + b / 2.0)
        return model, float(-(ones @ W @ ones) / 8.0 - b.sum() / 2.0)

    def energy(self, states, n_threads=None):
        """Energy of each state, float64 array (n_chains,)."""
        s = check_spins(states, self.n_spins)
        out = np.empty(s.shape[0])
        _metropolis._graph_energy_batch(s, self.indptr, self.indices, self.data, self.h, out,
                                        effective_n_threads(n_threads))
        return out

    def magnetization(self, states):
        """Total magnetisation of each state, float64 array (n_chains,)."""
        return check_spins(states, self.n_spins).sum(axis=1, dtype=np.int64).astype(float)
