"""Multispin-coded Metropolis and heat-bath samplers for Ising lattices.

Spins are bits: bit b of one uint64 word is the same site in 64 independent
replicas (the replica layout), so a sweep updates 64 systems for about the
cost of a few scalar site visits. Every spin still flips with exactly the
probability of :class:`~heatbath.spin.MetropolisSampler` (or
:class:`~heatbath.spin.HeatBathSampler`), and no two replicas share a random
bit: see the kernel's docstring (heatbath/spin/_multispin.pyx) for the
argument.
"""

import numpy as np

from heatbath import _random
from heatbath._kernels import lookup, resolve
from heatbath._sampler import Sampler
from heatbath._validation import check_int
from heatbath.spin.models import Ising
from heatbath.spin.samplers import _SpinSampler, flip_probabilities, thresholds

__all__ = ["MultispinSampler", "pack_spins", "unpack_spins"]

LANES = 64
_NEVER, _ALWAYS, _MAX_SLOT = 14, 15, 16     # the kernel's slots (see _multispin.pyx)
_Q_ONE = np.uint64(2**53)


def pack_spins(spins, n_blocks):
    """Pack +-1 spins (n_chains, n) into words (n_blocks, n): chain 64 k + b is bit b of block k.

    Lanes beyond n_chains are down (bit 0).

    Examples
    --------
    >>> from heatbath.spin.multispin import pack_spins
    >>> pack_spins([[1, -1], [1, 1]], 1)
    array([[3, 2]], dtype=uint64)
    """
    s = np.asarray(spins)
    n_chains, n = s.shape
    bits = np.zeros((n_blocks * LANES, n), dtype=np.uint64)
    bits[:n_chains] = s > 0
    bits = bits.reshape(n_blocks, LANES, n)
    shifts = np.arange(LANES, dtype=np.uint64)[None, :, None]
    return np.bitwise_or.reduce(bits << shifts, axis=1)


def unpack_spins(words, n_chains):
    """Inverse of :func:`pack_spins`: int8 spins (n_chains, n) from words (n_blocks, n).

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.spin.multispin import unpack_spins
    >>> unpack_spins(np.array([[3, 2]], dtype=np.uint64), 2)
    array([[ 1, -1],
           [ 1,  1]], dtype=int8)
    """
    w = np.asarray(words, dtype=np.uint64)
    shifts = np.arange(LANES, dtype=np.uint64)[None, :, None]
    bits = (w[:, None, :] >> shifts) & np.uint64(1)
    bits = bits.reshape(-1, w.shape[1])[:n_chains]
    return np.ascontiguousarray(2 * bits.astype(np.int8) - 1)


def group_tables(model, thr):
    """Threshold groups of each (z_i, n_anti, s) category, per block, for the kernel.

    ``thr`` is the (n_blocks, 2, 2z + 1) table of 53-bit thresholds. A site
    with z_i neighbours present and n_anti of them anti-aligned with s has
    neighbour sum sigma = s (z_i - 2 n_anti). Categories with q = 1 or q = 0
    need no draw; the others are grouped by threshold value.

    Returns ``(n_groups, group_sel, cat_slot, by_spin)``: the number of
    groups per (block, z_i); ``group_sel[b, z_i, j, g]`` all ones where group
    g's threshold has bit 52 - j set; the slot of each category (a group,
    14 for q = 0, 15 for q = 1) at ``[b, z_i, 2 n_anti + (s > 0)]``; and
    whether any threshold depends on s for a given n_anti (h != 0).
    """
    z = model.coordination
    n_blocks = thr.shape[0]
    n_groups = np.zeros((n_blocks, z + 1), dtype=np.int32)
    group_sel = np.zeros((n_blocks, z + 1, 53, _MAX_SLOT), dtype=np.uint64)
    cat_slot = np.full((n_blocks, z + 1, 2 * (z + 1)), _NEVER, dtype=np.int8)
    bit_values = np.uint64(1) << np.arange(52, -1, -1, dtype=np.uint64)
    by_spin = False
    for b in range(n_blocks):
        for zi in range(z + 1):
            groups = {}
            for n_anti in range(zi + 1):
                ts = [thr[b, s_bit, (2 * s_bit - 1) * (zi - 2 * n_anti) + z] for s_bit in (0, 1)]
                by_spin |= bool(ts[0] != ts[1])
                for s_bit, t in enumerate(ts):
                    if t >= _Q_ONE:
                        g = _ALWAYS
                    elif t == 0:
                        g = _NEVER
                    else:
                        g = groups.setdefault(int(t), len(groups))
                        group_sel[b, zi, :, g] = np.where(t & bit_values, ~np.uint64(0), 0)
                    cat_slot[b, zi, 2 * n_anti + s_bit] = g
            n_groups[b, zi] = len(groups)
    return n_groups, group_sel, cat_slot, by_spin


class MultispinSampler(_SpinSampler):
    r"""Multispin-coded Metropolis or heat-bath sampler: 64 replicas per machine word.

    Chains come in blocks of 64 replicas, one per bit of a uint64 word; a
    block shares one random stream (spawned from ``seed``) and one
    temperature, and its replicas are independent: each spin flips with
    exactly the probability of :class:`MetropolisSampler` (1/2 where
    :math:`\beta \Delta E = 0`) or :class:`HeatBathSampler`, decided by
    comparing its own bits of fresh random words with the binary expansion
    of that probability (no replica reads another's bits). Sweeps visit the
    sites in the same checkerboard order as the scalar samplers.

    Parameters
    ----------
    model : heatbath.spin.Ising
        1, 2 or 3 dimensions, periodic or open.
    temperature : float or array_like of shape (n_chains,), default=1.0
        One temperature per block of 64 chains (an array must be constant
        within each block).
    n_chains : int, default=64
        Replicas; ``ceil(n_chains / 64)`` blocks are simulated, and lanes
        beyond ``n_chains`` run but are not reported.
    seed : None, int, SeedSequence or Generator
        Root of the per-block streams.
    n_threads : int or None, default=None
        OpenMP threads over blocks; never changes the results.
    init : {"random", "up", "down"} or array_like, default="random"
        Initial spins; "random" draws one word per site from each block's stream.
    algorithm : {"metropolis", "heat_bath"}, default="metropolis"

    Notes
    -----
    ``trace.acceptance_rate`` is the block's mean over its reported
    replicas (the kernel counts flips per word, not per replica);
    ``trace.info["draws"] / trace.info["site_visits"]`` is the mean number
    of 64-bit random words per site visit of the chain's block.

    Examples
    --------
    >>> from heatbath.spin import Ising
    >>> from heatbath.spin.multispin import MultispinSampler
    >>> sampler = MultispinSampler(Ising((16, 16)), temperature=2.0, n_chains=64, seed=1)
    >>> trace = sampler.run(200, burn_in=100)
    >>> trace["energy"].shape
    (200, 64)
    >>> -1.8 < trace.mean("energy") / 256 < -1.7   # exact (infinite lattice): -1.7454
    True
    """

    _models = (Ising,)

    def __init__(self, model, *, temperature=1.0, n_chains=LANES, seed=None, n_threads=None,
                 init="random", algorithm="metropolis"):
        if algorithm not in ("metropolis", "heat_bath"):
            raise ValueError(f"algorithm must be 'metropolis' or 'heat_bath', got {algorithm!r}")
        self.algorithm = algorithm
        n_chains = check_int(n_chains, "n_chains", minimum=1)
        self.n_blocks = -(-n_chains // LANES)
        # The core spawns one stream per chain; block k runs on the stream of
        # its first chain, 64 k (the others stay unused), so the streams are
        # fixed by the seed and the state has the core's layout.
        Sampler.__init__(self, model, temperature=temperature, n_chains=n_chains, seed=seed,
                         n_threads=n_threads)
        used = np.full(self.n_blocks, np.uint64(2**64 - 1))
        if self.n_chains % LANES:
            used[-1] = np.uint64((1 << (self.n_chains % LANES)) - 1)
        self._lane_mask = used
        self._words = self._initial_words(init)

    def _check_model(self, model):
        super()._check_model(model)
        if model.ndim > 3:
            raise ValueError(f"MultispinSampler handles 1 to 3 dimensions, got {model.ndim}")

    def _check_temperature_values(self, T):
        n_blocks = -(-T.size // LANES)
        padded = np.concatenate([T, np.full(n_blocks * LANES - T.size, T[-1])])
        blocks = padded.reshape(n_blocks, LANES)
        if np.any(blocks != blocks[:, :1]):
            raise ValueError("temperature must be the same for the 64 chains of each block "
                             "(chains 64 k to 64 k + 63)")

    def _block_streams(self):
        return np.ascontiguousarray(self._streams[::LANES])

    def _initial_words(self, init):
        n = self.model.n_spins
        if isinstance(init, str):
            if init == "random":
                streams = self._block_streams()
                words = _random.random_raw(streams, n, n_threads=self.n_threads)
                self._streams[::LANES] = streams
                return words
            if init in ("up", "down"):
                fill = 2**64 - 1 if init == "up" else 0
                return np.full((self.n_blocks, n), fill, dtype=np.uint64)
            raise ValueError(f"init must be 'random', 'up', 'down' or an array, got {init!r}")
        return pack_spins(self._init_rows(init, n), self.n_blocks)

    # -- hooks of heatbath._sampler.Sampler -------------------------------------
    def _current_state(self):
        return unpack_spins(self._words, self.n_chains)

    def _chain_state(self):
        return {"words": self._words.copy(), "algorithm": self.algorithm}

    def _check_chain_state(self, state):
        if str(state["algorithm"]) != self.algorithm:
            raise ValueError(f"state is from the {state['algorithm']} update, this sampler "
                             f"runs {self.algorithm}")
        words = np.asarray(state["words"])
        if words.dtype != np.uint64 or words.shape != self._words.shape:
            raise ValueError(f"state['words'] must be uint64 of shape {self._words.shape}, "
                             f"got {words.dtype} {words.shape}")
        return np.array(words, order="C", copy=True)

    def _set_chain_state(self, checked):
        self._words = checked

    @property
    def spins(self):
        """Current spins, int8 (n_chains, n_spins) (unpacked from the words)."""
        return self._current_state()

    @property
    def words(self):
        """The packed spins, uint64 (n_blocks, n_spins) (a copy)."""
        return self._words.copy()

    def _kernel_tables(self):
        q = flip_probabilities(self.model, self._beta[::LANES], self.algorithm)
        return group_tables(self.model, thresholds(q))

    def _sweeps(self, burn_in, n_sweeps, thin, n_threads):
        model, n_rec = self.model, n_sweeps // thin
        nbr = model.neighbors
        zcount = np.ascontiguousarray((nbr >= 0).sum(axis=1), dtype=np.int8)
        n_groups, group_sel, cat_slot, by_spin = self._kernel_tables()
        bonds = np.zeros((self.n_blocks * LANES, n_rec), dtype=np.int64)
        mag = np.zeros((self.n_blocks * LANES, n_rec), dtype=np.int64)
        flips = np.zeros(self.n_blocks, dtype=np.int64)
        draws = np.zeros(self.n_blocks, dtype=np.int64)
        streams = self._block_streams()
        kernel = resolve(lookup("ising", "multispin_" + self.algorithm, "bits").kernel)
        kernel(self._words, model.sweep_order, nbr, zcount, model.n_bonds, n_groups, group_sel,
               cat_slot, by_spin, self._lane_mask, streams, burn_in, n_sweeps, thin, bonds, mag,
               flips, draws, n_threads)
        self._streams[::LANES] = streams
        c = self.n_chains
        energy = -model.J * bonds[:c] - model.h * mag[:c]
        lanes = np.full(self.n_blocks, LANES, dtype=np.int64)
        lanes[-1] = c - LANES * (self.n_blocks - 1)
        visits = (burn_in + n_sweeps) * model.n_spins
        # Flips are counted per word: every chain of a block gets the block's totals.
        per_chain = {"accepted": np.repeat(flips, LANES)[:c],
                     "attempted": np.repeat(lanes * visits, LANES)[:c],
                     "draws": np.repeat(draws, LANES)[:c],
                     "site_visits": np.full(c, visits, dtype=np.int64)}
        return ({"energy": np.ascontiguousarray(energy.T),
                 "magnetization": np.ascontiguousarray(mag[:c].T, dtype=float)}, per_chain)
