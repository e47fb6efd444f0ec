"""Hilbert space of N spins-1/2 in the Z basis, optionally at fixed total Sz.

A basis state is a row of +-1 (int8): s_i = +1 is spin up (Z_i = +1). As an
integer code, bit i of the code is (s_i + 1) / 2.
"""

import numbers
from math import comb

import numpy as np

from heatbath._validation import check_int

__all__ = ["Spins"]


class Spins:
    """N spins-1/2, optionally restricted to total magnetisation ``total_sz``.

    Parameters
    ----------
    n_spins : int
        Number of spins (>= 1).
    total_sz : float or None, default=None
        Fixed total Sz = sum_i s_i / 2 (for example 0), or None for the whole
        space. N / 2 - total_sz must be a whole number in [0, N].

    Examples
    --------
    >>> from heatbath.nqs import Spins
    >>> Spins(4).size, Spins(4, total_sz=0).size
    (16, 6)
    >>> Spins(4, total_sz=0).all_states()[0].tolist()
    [-1, -1, 1, 1]
    """

    def __init__(self, n_spins, total_sz=None):
        self.n_spins = check_int(n_spins, "n_spins", minimum=1)
        if total_sz is not None:
            if isinstance(total_sz, (bool, np.bool_)) or not isinstance(total_sz, numbers.Real):
                raise TypeError(f"total_sz must be a number or None, got {total_sz!r}")
            n_up = self.n_spins / 2 + float(total_sz)
            if n_up != int(n_up) or not 0 <= n_up <= self.n_spins:
                raise ValueError(f"total_sz must make n_spins/2 + total_sz a whole number in "
                                 f"[0, {self.n_spins}], got {total_sz}")
            total_sz = float(total_sz)
        self.total_sz = total_sz

    def __repr__(self):
        return f"Spins({self.n_spins}, total_sz={self.total_sz})"

    @property
    def n_up(self):
        """Spins up in the fixed-Sz sector (None without a constraint)."""
        if self.total_sz is None:
            return None
        return int(self.n_spins / 2 + self.total_sz)

    @property
    def size(self):
        """Dimension of the space."""
        if self.total_sz is None:
            return 2 ** self.n_spins
        return comb(self.n_spins, self.n_up)

    def all_codes(self):
        """Integer codes of every basis state, increasing, int64."""
        n = self.n_spins
        if n > 30:
            raise ValueError(f"enumerating 2**{n} states is not supported (n_spins <= 30)")
        codes = np.arange(2 ** n, dtype=np.int64)
        if self.total_sz is not None:
            ones = np.zeros(len(codes), dtype=np.int64)
            for i in range(n):
                ones += (codes >> i) & 1
            codes = codes[ones == self.n_up]
        return codes

    def states_of(self, codes):
        """+-1 int8 rows, shape (len(codes), n_spins), of integer codes."""
        codes = np.asarray(codes, dtype=np.int64)
        bits = (codes[:, None] >> np.arange(self.n_spins)) & 1
        return (2 * bits - 1).astype(np.int8)

    def codes_of(self, states):
        """Integer codes of +-1 rows."""
        s = np.asarray(states)
        return (((s > 0).astype(np.int64)) << np.arange(self.n_spins)).sum(axis=1)

    def all_states(self):
        """Every basis state, shape (size, n_spins), in decreasing code order."""
        return self.states_of(self.all_codes()[::-1].copy())

    def random_states(self, uniforms):
        """States from uniforms in [0, 1), shape (n, n_spins): +1 where u < 1/2.

        With a fixed Sz the ``n_up`` smallest uniforms of each row are the up
        spins (a uniformly random state of the sector).
        """
        u = np.asarray(uniforms)
        if self.total_sz is None:
            return np.where(u < 0.5, 1, -1).astype(np.int8)
        rank = np.argsort(np.argsort(u, axis=1, kind="stable"), axis=1, kind="stable")
        return np.where(rank < self.n_up, 1, -1).astype(np.int8)

    def contains(self, states):
        """True where a +-1 row lies in this space (its Sz is the fixed one)."""
        s = np.asarray(states)
        if self.total_sz is None:
            return np.ones(len(s), dtype=bool)
        return (s > 0).sum(axis=1) == self.n_up
