"""Spin-1/2 Hamiltonians on a lattice, any dimension: transverse-field Ising and XXZ.

Each Hamiltonian gives its connected elements: for a state s, the states s'
with H_{s s'} != 0 and those elements, so that a local energy
E_loc(s) = sum_{s'} H_{s s'} psi(s') / psi(s) needs only wavefunction ratios.
(X, Y, Z are Pauli matrices; Z_i s = s_i s.)
"""

import numbers

import numpy as np
import scipy.sparse as sp

from heatbath.lattice import Lattice
from heatbath.nqs.hilbert import Spins

__all__ = ["TransverseFieldIsing", "Heisenberg"]

# Kernel codes (heatbath.nqs._metropolis): which local energy to compute.
TFIM, XXZ = 1, 2


def _real(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def _lattice(lattice):
    if isinstance(lattice, Lattice):
        return lattice
    if isinstance(lattice, (numbers.Integral, tuple, list)) and not isinstance(lattice, bool):
        return Lattice(lattice)
    raise TypeError(f"lattice must be a heatbath.lattice.Lattice, an int or a tuple of ints, "
                    f"got {type(lattice).__name__}")


class _Hamiltonian:
    """Shared parts: the lattice, the Hilbert space, connected elements, sparse matrix."""

    code: int | None = None

    @property
    def n_spins(self):
        return self.lattice.n_sites

    def diagonal(self, states):
        """Diagonal elements H_{ss}, float64 (n,)."""
        s = np.asarray(states, dtype=np.int64)
        b = self.lattice.bonds
        return self._diag_coef * (s[:, b[:, 0]] * s[:, b[:, 1]]).sum(axis=1).astype(float)

    def connected(self, states):
        """Connected states and elements of each row of ``states``.

        Returns
        -------
        conn : ndarray of int8, shape (n, K, n_spins)
            ``conn[:, 0]`` is s itself (the diagonal); the others are the
            off-diagonal partners (rows whose element is 0 are placeholders).
        mels : ndarray of float64, shape (n, K)
            H_{s, conn[k]}.
        """
        s = np.asarray(states, dtype=np.int8)
        flips, coef = self._flips(s)               # (n, K-1, n_spins) bool, (n, K-1)
        conn = np.concatenate([s[:, None, :], np.where(flips, -s[:, None, :], s[:, None, :])],
                              axis=1).astype(np.int8)
        mels = np.concatenate([self.diagonal(s)[:, None], coef], axis=1)
        return conn, mels

    def local_energy(self, wavefunction, states):
        """E_loc(s) = sum_s' H_{ss'} psi(s')/psi(s), by brute force over connected states."""
        conn, mels = self.connected(states)
        n, k, N = conn.shape
        logp = wavefunction.log_psi(conn.reshape(n * k, N)).reshape(n, k)
        return (mels * np.exp(logp - logp[:, :1])).sum(axis=1)

    def to_sparse(self):
        """The matrix in the basis ``hilbert.all_codes()`` (increasing codes), CSR."""
        codes = self.hilbert.all_codes()
        states = self.hilbert.states_of(codes)
        rows, cols, vals = [np.arange(len(codes))], [np.arange(len(codes))], [
            self.diagonal(states)]
        flips, coef = self._flips(states)
        weights = (1 << np.arange(self.n_spins, dtype=np.int64))
        for k in range(flips.shape[1]):
            nz = coef[:, k] != 0
            if not nz.any():
                continue
            # flipping a set of spins xors their bits
            target = codes[nz] ^ (flips[nz, k].astype(np.int64) * weights).sum(axis=1)
            rows.append(np.nonzero(nz)[0])
            cols.append(np.searchsorted(codes, target))
            vals.append(coef[nz, k])
        n = len(codes)
        return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows),
                                                     np.concatenate(cols))), shape=(n, n))


class TransverseFieldIsing(_Hamiltonian):
    r"""Transverse-field Ising model, H = -J sum_<ij> Z_i Z_j - h sum_i X_i.

    Parameters
    ----------
    lattice : heatbath.lattice.Lattice, int or tuple
        The lattice (an int is a periodic chain).
    h : float, default=1.0
        Transverse field.
    J : float, default=1.0
        Coupling (> 0: ferromagnetic).

    Examples
    --------
    >>> from heatbath.nqs import TransverseFieldIsing
    >>> H = TransverseFieldIsing(4, h=1.0)
    >>> conn, mels = H.connected([[1, 1, 1, 1]])
    >>> conn.shape, mels[0].tolist()
    ((1, 5, 4), [-4.0, -1.0, -1.0, -1.0, -1.0])
    """

    code = TFIM

    def __init__(self, lattice, h=1.0, J=1.0):
        self.lattice = _lattice(lattice)
        self.h = _real(h, "h")
        self.J = _real(J, "J")
        self.hilbert = Spins(self.lattice.n_sites)
        self._diag_coef = -self.J

    def __repr__(self):
        return f"TransverseFieldIsing({self.lattice!r}, h={self.h}, J={self.J})"

    @property
    def off_diagonal(self):
        """The element of each connected partner (one flipped spin): -h."""
        return -self.h

    def _flips(self, s):
        n, N = s.shape
        flips = np.broadcast_to(np.eye(N, dtype=bool), (n, N, N))
        return flips, np.full((n, N), -self.h)


class Heisenberg(_Hamiltonian):
    r"""XXZ / Heisenberg model, H = J sum_<ij> (X_i X_j + Y_i Y_j + Delta Z_i Z_j).

    X X + Y Y swaps an antiparallel pair with element 2 J. With
    ``marshall_sign=True`` (bipartite lattices) the basis is rotated by the
    Marshall sign, prod over sublattice B of Z_i, which turns that element into
    -2 J: the spectrum is the same, and for J > 0 the ground state becomes
    positive, which a real wavefunction can represent.

    Parameters
    ----------
    lattice : heatbath.lattice.Lattice, int or tuple
    J : float, default=1.0
        Exchange (> 0: antiferromagnet).
    delta : float, default=1.0
        Anisotropy (1: isotropic Heisenberg).
    marshall_sign : bool, default=False
    total_sz : float or None, default=0
        Work in this Sz sector (None: the whole space).

    Examples
    --------
    >>> from heatbath.nqs import Heisenberg
    >>> H = Heisenberg(4)
    >>> conn, mels = H.connected([[1, -1, 1, -1]])
    >>> mels[0].tolist()
    [-4.0, 2.0, 2.0, 2.0, 2.0]
    """

    code = XXZ

    def __init__(self, lattice, J=1.0, delta=1.0, marshall_sign=False, total_sz=0):
        self.lattice = _lattice(lattice)
        self.J = _real(J, "J")
        self.delta = _real(delta, "delta")
        self.marshall_sign = bool(marshall_sign)
        if self.marshall_sign and not self.lattice.bipartite:
            raise ValueError("marshall_sign needs a bipartite lattice (even periodic sides)")
        self.hilbert = Spins(self.lattice.n_sites, total_sz=total_sz)
        self._diag_coef = self.J * self.delta

    def __repr__(self):
        return (f"Heisenberg({self.lattice!r}, J={self.J}, delta={self.delta}, "
                f"marshall_sign={self.marshall_sign}, total_sz={self.hilbert.total_sz})")

    @property
    def off_diagonal(self):
        """The element of each exchange partner: 2 J, or -2 J with the Marshall sign."""
        return -2.0 * self.J if self.marshall_sign else 2.0 * self.J

    def _flips(self, s):
        n, N = s.shape
        b = self.lattice.bonds
        flips = np.zeros((len(b), N), dtype=bool)
        flips[np.arange(len(b)), b[:, 0]] = True
        flips[np.arange(len(b)), b[:, 1]] = True
        anti = s[:, b[:, 0]] != s[:, b[:, 1]]
        return np.broadcast_to(flips, (n, len(b), N)), np.where(anti, self.off_diagonal, 0.0)
