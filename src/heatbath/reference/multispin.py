"""NumPy twin of the multispin kernel (heatbath/spin/_multispin.pyx).

It decides each lane on its own: the lane's neighbour sum, its threshold
t = thr[s, sigma + z], then the bit-serial comparison of its bits of fresh
random words against t. It shares no code with the kernel's bit-sliced
counters and threshold groups, so agreeing bit for bit checks both.
"""

import numpy as np

from heatbath.reference.random import bit_generators, states_of

__all__ = ["multispin_sweeps"]

_LANES = np.arange(64, dtype=np.uint64)
_Q_ONE = 2**53


def _bits(word):
    return ((np.uint64(word) >> _LANES) & np.uint64(1)).astype(np.int64)


def _lane_observables(w, neighbors):
    """Per-lane (bond sum, magnetisation) of one block's words w (n,)."""
    n, z = neighbors.shape
    s = 2 * np.array([_bits(x) for x in w]) - 1       # (n, 64)
    mag = s.sum(axis=0)
    bonds = np.zeros(64, dtype=np.int64)
    for i in range(n):
        for k in range(z // 2):
            j = neighbors[i, k]
            if j >= 0:
                bonds += s[i] * s[j]
    return bonds, mag


def multispin_sweeps(neighbors, order, words, states, thr, n_sweeps):
    """Multispin sweeps of every block, one lane at a time.

    ``thr`` is the (n_blocks, 2, 2z + 1) table of 53-bit thresholds
    (heatbath.spin.samplers.thresholds of flip_probabilities). Returns
    ``(words, states, bonds, magnetization, draws)``, the per-lane records
    of shape (n_sweeps, 64 n_blocks).
    """
    neighbors = np.asarray(neighbors)
    z = neighbors.shape[1]
    words = np.array(words, dtype=np.uint64)
    gens = bit_generators(states)
    n_blocks = words.shape[0]
    bonds = np.zeros((n_sweeps, 64 * n_blocks), dtype=np.int64)
    mags = np.zeros((n_sweeps, 64 * n_blocks), dtype=np.int64)
    draws = np.zeros(n_blocks, dtype=np.int64)
    for b in range(n_blocks):
        w, bg = [int(x) for x in words[b]], gens[b]
        for sweep in range(n_sweeps):
            for i in order:
                s = _bits(w[i])
                nbs = [j for j in neighbors[i] if j >= 0]
                anti = sum((_bits(w[i] ^ w[j]) for j in nbs), np.zeros(64, dtype=np.int64))
                sigma = (2 * s - 1) * (len(nbs) - 2 * anti)
                t = [int(thr[b, s[lane], sigma[lane] + z]) for lane in range(64)]
                flip = sum(1 << lane for lane in range(64) if t[lane] >= _Q_ONE)
                und = sum(1 << lane for lane in range(64) if 0 < t[lane] < _Q_ONE)
                bit = 52
                while und and bit >= 0:
                    u = int(bg.random_raw())
                    draws[b] += 1
                    for lane in range(64):
                        if und >> lane & 1 and (u >> lane & 1) != (t[lane] >> bit & 1):
                            und &= ~(1 << lane)
                            if t[lane] >> bit & 1:
                                flip |= 1 << lane
                    bit -= 1
                w[i] ^= flip
            bonds[sweep, 64 * b:64 * b + 64], mags[sweep, 64 * b:64 * b + 64] = \
                _lane_observables(w, neighbors)
        words[b] = w
    return words, states_of(gens), bonds, mags, draws
