"""Lattice geometry shared by the spin and quantum engines: chain, square, cubic.

A :class:`Lattice` numbers its sites in C order of ``shape`` and answers the
bond list (each nearest-neighbour pair once), the sublattice (colour) of each
site, whether it is bipartite, and the translations of a periodic lattice
(for translation-symmetric wavefunctions).
"""

import numbers

import numpy as np

__all__ = ["Lattice", "chain", "square", "cubic"]


class Lattice:
    """A hypercubic lattice of any dimension, periodic or open per dimension.

    Parameters
    ----------
    shape : int or tuple of int
        Sides, e.g. ``(L, L)``; each >= 1 (>= 3 where periodic, so that a
        bond is never counted twice round a side of 2).
    periodic : bool or tuple of bool, default=True
        Periodic boundaries for all dimensions or one flag per dimension.

    Examples
    --------
    >>> from heatbath.lattice import Lattice
    >>> lat = Lattice(4)
    >>> lat.n_sites, lat.bonds.tolist()
    (4, [[0, 1], [1, 2], [2, 3], [3, 0]])
    >>> Lattice((2, 3), periodic=False).bonds.shape
    (7, 2)
    """

    def __init__(self, shape, periodic=True):
        if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
            shape = (shape,)
        try:
            shape = tuple(shape)
        except TypeError:
            raise TypeError(f"shape must be an int or a tuple of ints, got {shape!r}") from None
        if not shape or not all(isinstance(L, numbers.Integral) and not isinstance(L, bool)
                                for L in shape):
            raise TypeError(f"shape must be an int or a non-empty tuple of ints, got {shape!r}")
        shape = tuple(int(L) for L in shape)
        if isinstance(periodic, (bool, np.bool_)):
            periodic = (bool(periodic),) * len(shape)
        periodic = tuple(bool(p) for p in periodic)
        if len(periodic) != len(shape):
            raise ValueError(f"periodic must be a bool or have {len(shape)} flags, "
                             f"got {len(periodic)}")
        for L, p in zip(shape, periodic):
            if L < 1 or (p and L < 3 and L != 1):
                raise ValueError(f"each side must be >= 1 (>= 3 if periodic), got shape {shape} "
                                 f"with periodic={periodic}")
        self.shape = shape
        self.periodic = periodic

    def __repr__(self):
        return f"Lattice(shape={self.shape}, periodic={self.periodic})"

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def n_sites(self):
        return int(np.prod(self.shape))

    def coordinates(self):
        """Integer coordinates of each site, shape (n_sites, ndim), C order."""
        return np.stack(np.unravel_index(np.arange(self.n_sites), self.shape), axis=1)

    def _shifted(self, coords, axis, step):
        """Site indices of ``coords`` moved by ``step`` along ``axis``; -1 off an open edge."""
        c = coords.copy()
        c[:, axis] += step
        L = self.shape[axis]
        if self.periodic[axis]:
            c[:, axis] %= L
            ok = np.ones(len(c), dtype=bool)
        else:
            ok = (c[:, axis] >= 0) & (c[:, axis] < L)
            c[:, axis] = np.clip(c[:, axis], 0, L - 1)
        idx = np.ravel_multi_index(tuple(c.T), self.shape)
        return np.where(ok, idx, -1)

    @property
    def bonds(self):
        """Nearest-neighbour bonds, int32 (n_bonds, 2), each pair once.

        Order: for each dimension, each site i and its neighbour in the +
        direction, sites in increasing order.
        """
        coords = self.coordinates()
        out = []
        sites = np.arange(self.n_sites)
        for axis in range(self.ndim):
            if self.shape[axis] == 1:
                continue
            j = self._shifted(coords, axis, 1)
            keep = j >= 0
            out.append(np.stack([sites[keep], j[keep]], axis=1))
        if not out:
            return np.zeros((0, 2), dtype=np.int32)
        return np.ascontiguousarray(np.concatenate(out), dtype=np.int32)

    @property
    def sublattice(self):
        """Colour of each site (coordinate sum mod 2), int8 (n_sites,)."""
        return (self.coordinates().sum(axis=1) % 2).astype(np.int8)

    @property
    def bipartite(self):
        """True if every bond joins the two sublattices (no odd periodic side)."""
        b, c = self.bonds, self.sublattice
        return bool(np.all(c[b[:, 0]] != c[b[:, 1]]))

    @property
    def translations(self):
        """All translations as permutations, int32 (n_translations, n_sites).

        Row t maps site i to ``translations[t, i]``. Open dimensions have only
        the identity; row 0 is the identity.
        """
        coords = self.coordinates()
        ranges = [range(L) if p else range(1) for L, p in zip(self.shape, self.periodic)]
        rows = []
        for shift in np.ndindex(*[len(r) for r in ranges]):
            c = (coords + np.array(shift)) % np.array(self.shape)
            rows.append(np.ravel_multi_index(tuple(c.T), self.shape))
        return np.ascontiguousarray(np.array(rows), dtype=np.int32)


def chain(length, periodic=True):
    """A 1D chain of ``length`` sites.

    Examples
    --------
    >>> from heatbath.lattice import chain
    >>> chain(6).bipartite, chain(5).bipartite
    (True, False)
    """
    return Lattice((length,), periodic)


def square(side, periodic=True):
    """A ``side`` x ``side`` square lattice.

    Examples
    --------
    >>> from heatbath.lattice import square
    >>> square(4).bonds.shape
    (32, 2)
    """
    return Lattice((side, side), periodic)


def cubic(side, periodic=True):
    """A ``side`` x ``side`` x ``side`` cubic lattice.

    Examples
    --------
    >>> from heatbath.lattice import cubic
    >>> cubic(3).n_sites, cubic(3).bonds.shape
    (27, (81, 2))
    """
    return Lattice((side, side, side), periodic)
