"""Samplers for spin models: Metropolis, heat-bath and Wolff, over many chains.

Each is a thin subclass of :class:`heatbath._sampler.Sampler` (temperatures,
streams, run, progress, state and the thread guard live there). A sampler
owns its chains: spins ``(n_chains, n_spins)`` int8, one random
stream per chain, and a temperature per chain. ``run(n_sweeps, burn_in, thin)``
returns a :class:`heatbath.diagnostics.Trace`; calling it again continues
the same chains, and two calls equal one longer call bit for bit.
``get_state()`` / ``set_state()`` save and restore everything (plain arrays
plus a format version), so a saved run resumes exactly.
"""

import numpy as np
from scipy.special import expit

from heatbath import _random
from heatbath._kernels import lookup, resolve
from heatbath._sampler import Sampler
from heatbath._validation import check_int
from heatbath.spin.models import BoltzmannMachine, Ising, check_spins

__all__ = ["MetropolisSampler", "HeatBathSampler", "WolffSampler"]

_TWO53 = 2.0**53


def thresholds(q):
    """Integer thresholds ceil(q 2**53): ``bits53 < t`` is exactly ``u < q``."""
    return np.ceil(np.clip(q, 0.0, 1.0) * _TWO53).astype(np.uint64)


def flip_probabilities(model, beta, algorithm):
    """Flip probability q(s, sigma) on a lattice, shape (n_chains, 2, 2z + 1).

    Row 0 is s = -1 and row 1 is s = +1; column sigma + z is the neighbour sum.
    ``dE = 2 s (J sigma + h)``; heat-bath q = 1 / (1 + exp(beta dE)); Metropolis
    q = min(1, exp(-beta dE)), except q = 1/2 where beta dE = 0.

    Why 1/2: in a fixed-order sweep, moves with beta dE = 0 accepted with
    probability 1 make deterministic cycles (stripes on a torus, and every
    state at T = inf), so plain sweep Metropolis is not ergodic: the one-sweep
    chain on a 4x4 torus has 19 closed classes at h = 0. Any q symmetric
    between two states of equal weight keeps detailed balance; with 1/2 the
    sweep chain has a single closed class on every lattice we enumerated
    (tests/test_spin.py), and T = inf samples the uniform distribution.
    """
    z = model.coordination
    s = np.array([-1.0, 1.0])[:, None]
    sigma = np.arange(-z, z + 1, dtype=float)[None, :]
    dE = 2.0 * s * (model.J * sigma + model.h)
    x = np.asarray(beta, dtype=float)[:, None, None] * dE[None]
    with np.errstate(over="ignore", invalid="ignore"):
        if algorithm == "metropolis":
            q = np.where(x == 0.0, 0.5, np.minimum(1.0, np.exp(-x)))
        else:
            q = expit(-x)
    return q


class _SpinSampler(Sampler):
    """Spin chains on the sampler core: int8 spins ``(n_chains, n_spins)``."""

    algorithm: str | None = None
    _models: tuple[type, ...] = (Ising, BoltzmannMachine)

    def __init__(self, model, *, temperature=1.0, n_chains=1, seed=None, n_threads=None,
                 init="random"):
        super().__init__(model, temperature=temperature, n_chains=n_chains, seed=seed,
                         n_threads=n_threads)
        self._spins = self._initial_spins(init)

    # -- hooks of heatbath._sampler.Sampler ---------------------------------------
    def _check_model(self, model):
        if not isinstance(model, self._models):
            names = " or ".join(m.__name__ for m in self._models)
            raise TypeError(f"model must be a heatbath.spin {names}, got {type(model).__name__}")

    def _units(self, model):
        return model.n_spins

    def _current_state(self):
        return self._spins.copy()

    def _chain_state(self):
        return {"spins": self._spins.copy()}

    def _check_chain_state(self, state):
        spins = check_spins(state["spins"], self.model.n_spins, name="state['spins']")
        if spins.shape[0] != self.n_chains:
            raise ValueError(f"state['spins'] has {spins.shape[0]} chains, "
                             f"this sampler has {self.n_chains}")
        return np.array(spins, dtype=np.int8, order="C", copy=True)

    def _set_chain_state(self, checked):
        self._spins = checked

    def _initial_spins(self, init):
        n = self.model.n_spins
        if isinstance(init, str):
            if init == "random":
                # A few chains at a time: the uint32 draws would otherwise need 4 bytes
                # per spin of every chain at once. Each chain has its own stream, so
                # the bits are the same however the chains are grouped.
                spins = np.empty((self.n_chains, n), dtype=np.int8)
                step = max(1, 2**20 // max(n, 1))
                for i in range(0, self.n_chains, step):
                    bits = _random.integers(self._streams[i:i + step], 2, n,
                                            n_threads=self.n_threads)
                    np.multiply(bits, 2, out=spins[i:i + step], casting="unsafe")
                    spins[i:i + step] -= 1
                return spins
            if init in ("up", "down"):
                return np.full((self.n_chains, n), 1 if init == "up" else -1, dtype=np.int8)
            raise ValueError(f"init must be 'random', 'up', 'down' or an array, got {init!r}")
        return np.array(self._init_rows(init, n), order="C", copy=True)  # ours, not the caller's

    def _init_rows(self, init, n):
        """An ``init`` array checked as spins, one row per chain (a single row is repeated)."""
        s = check_spins(init, n, name="init")
        if s.shape[0] == 1 and self.n_chains > 1:
            s = np.repeat(s, self.n_chains, axis=0)
        if s.shape[0] != self.n_chains:
            raise ValueError(f"init must have {self.n_chains} rows (one per chain), "
                             f"got {s.shape[0]}")
        return s

    @property
    def spins(self):
        """Current spins, int8 (n_chains, n_spins) (a copy)."""
        return self._spins.copy()


def layout(model):
    """The state layout of ``model`` in the kernel table (:mod:`heatbath._kernels`)."""
    if isinstance(model, BoltzmannMachine):
        return "csr"
    if model.ndim == 2 and model.periodic[0] == model.periodic[1]:
        return "square"
    return "table"


def _model_kind(model):
    return "boltzmann_machine" if isinstance(model, BoltzmannMachine) else "ising"


def _run_square(kernel, sampler, thr, burn_in, n_sweeps, thin, bonds, mag, accepted, n_threads):
    m = sampler.model
    rows, cols = m.shape
    kernel(sampler._spins, rows, cols, m.periodic[0], m.neighbors, thr, sampler._streams,
           burn_in, n_sweeps, thin, bonds, mag, accepted, np.zeros(cols, dtype=np.int8),
           n_threads)


def _run_table(kernel, sampler, thr, burn_in, n_sweeps, thin, bonds, mag, accepted, n_threads):
    m = sampler.model
    kernel(sampler._spins, m.sweep_order, m.neighbors, thr, sampler._streams,
           burn_in, n_sweeps, thin, bonds, mag, accepted, n_threads)


#: How each lattice layout's kernel is called (the kernel itself comes from the table).
_LATTICE_RUNNERS = {"square": _run_square, "table": _run_table}


class _FlipSampler(_SpinSampler):
    """Single-spin flips with a flip probability q (Metropolis or heat-bath)."""

    def _sweeps(self, burn_in, n_sweeps, thin, n_threads):
        model, n_rec = self.model, n_sweeps // thin
        where = layout(model)
        kernel = resolve(lookup(_model_kind(model), self.algorithm, where).kernel)
        accepted = np.zeros(self.n_chains, dtype=np.int64)
        mag = np.zeros((self.n_chains, n_rec), dtype=np.int64)
        if where == "csr":
            energy = np.zeros((self.n_chains, n_rec))
            kernel(self._spins, model.indptr, model.indices, model.data, model.h, self._beta,
                   self.algorithm == "heat_bath", self._streams, burn_in, n_sweeps, thin,
                   energy, mag, accepted, n_threads)
        else:
            bonds = np.zeros((self.n_chains, n_rec), dtype=np.int64)
            q = flip_probabilities(model, self._beta, self.algorithm)
            thr = np.ascontiguousarray(thresholds(q).reshape(self.n_chains, -1))
            _LATTICE_RUNNERS[where](kernel, self, thr, burn_in, n_sweeps, thin, bonds, mag,
                                    accepted, n_threads)
            energy = -model.J * bonds - model.h * mag
        attempted = np.full(self.n_chains, (burn_in + n_sweeps) * model.n_spins, dtype=np.int64)
        return ({"energy": np.ascontiguousarray(energy.T),
                 "magnetization": np.ascontiguousarray(mag.T, dtype=float)},
                {"accepted": accepted, "attempted": attempted})


class MetropolisSampler(_FlipSampler):
    r"""Single-spin Metropolis sampler over many chains.

    Each site is proposed for a flip, accepted with probability
    :math:`\min(1, e^{-\beta \Delta E})`, or 1/2 when
    :math:`\beta \Delta E = 0`: accepting those always would make
    fixed-order sweeps non-ergodic (see :func:`flip_probabilities`).
    Lattices sweep in checkerboard order
    (colour 0, then colour 1) with a precomputed acceptance table; Boltzmann
    machines sweep sites 0, 1, ..., n-1 in order. Every site visit draws one
    number from the chain's stream.

    Parameters
    ----------
    model : heatbath.spin.Ising or heatbath.spin.BoltzmannMachine
    temperature : float or array_like of shape (n_chains,), default=1.0
        T > 0 per chain (``np.inf`` allowed). Settable between runs
        (annealing, tempering).
    n_chains : int, default=1
    seed : None, int, SeedSequence or Generator
        Root of the per-chain streams.
    n_threads : int or None, default=None
        OpenMP threads; never changes the results.
    init : {"random", "up", "down"} or array_like, default="random"
        Initial spins; "random" draws them from the chains' own streams.

    Examples
    --------
    >>> from heatbath.spin import Ising, MetropolisSampler
    >>> sampler = MetropolisSampler(Ising((16, 16)), temperature=2.0, n_chains=4, seed=1)
    >>> trace = sampler.run(200, burn_in=100)
    >>> trace["energy"].shape
    (200, 4)
    >>> -1.8 < trace.mean("energy") / 256 < -1.7   # exact (infinite lattice): -1.7454
    True
    """

    algorithm = "metropolis"


class HeatBathSampler(_FlipSampler):
    r"""Single-spin heat-bath (Gibbs, Glauber) sampler over many chains.

    Each site is redrawn from its conditional distribution given its
    neighbours; for +-1 spins that is a flip with probability
    :math:`1/(1 + e^{\beta \Delta E})`. Order, tables and streams as in
    :class:`MetropolisSampler`; the acceptance rate is the fraction of flips.

    Examples
    --------
    >>> from heatbath.spin import Ising, HeatBathSampler
    >>> trace = HeatBathSampler(Ising((8, 8)), temperature=3.0, n_chains=2, seed=0).run(50)
    >>> trace.acceptance_rate.shape
    (2,)
    """

    algorithm = "heat_bath"


class WolffSampler(_SpinSampler):
    r"""Wolff single-cluster sampler for the Ising ferromagnet (J > 0, h = 0).

    A "sweep" is ``clusters_per_sweep`` cluster flips: each grows a cluster
    from a random site (bond probability :math:`1 - e^{-2\beta J}`) and flips
    it. The number is fixed on purpose: ending a sweep once "n_spins spins
    have flipped" would make the recorded states size-biased (the last
    cluster tends to be large, and large clusters go with ordered states).
    Near the critical point this decorrelates far faster than single-spin
    updates. The trace's ``acceptance_rate`` is 1 (cluster flips are always
    accepted); ``trace.info`` holds ``clusters`` and ``flipped`` counts per
    chain and ``mean_cluster_size``, so that a time in sweeps converts to
    spin flips: ``clusters_per_sweep * mean_cluster_size / n_spins``.

    Parameters
    ----------
    model : heatbath.spin.Ising
        J > 0 and h = 0.
    clusters_per_sweep : int, default=1
        Cluster flips per recorded step.
    temperature, n_chains, seed, n_threads, init
        As in :class:`MetropolisSampler`.

    Examples
    --------
    >>> from heatbath.spin import Ising, WolffSampler
    >>> sampler = WolffSampler(Ising((16, 16)), temperature=2.269, n_chains=2, seed=0)
    >>> trace = sampler.run(100)
    >>> trace.info["mean_cluster_size"].shape
    (2,)
    """

    algorithm = "wolff"
    _models = (Ising,)

    def __init__(self, model, *, temperature=1.0, n_chains=1, seed=None, n_threads=None,
                 init="random", clusters_per_sweep=1):
        self.clusters_per_sweep = check_int(clusters_per_sweep, "clusters_per_sweep",
                                            minimum=1, maximum=2**31)
        super().__init__(model, temperature=temperature, n_chains=n_chains, seed=seed,
                         n_threads=n_threads, init=init)

    def _check_model(self, model):
        super()._check_model(model)
        if model.h != 0.0:
            raise ValueError(f"WolffSampler needs h = 0 (got model.h = {model.h})")
        if model.J <= 0.0:
            raise ValueError(f"WolffSampler needs a ferromagnet, J > 0 (got model.J = {model.J})")

    def _sweeps(self, burn_in, n_sweeps, thin, n_threads):
        model, n_rec = self.model, n_sweeps // thin
        bonds = np.zeros((self.n_chains, n_rec), dtype=np.int64)
        mag = np.zeros((self.n_chains, n_rec), dtype=np.int64)
        clusters = np.zeros(self.n_chains, dtype=np.int64)
        flipped = np.zeros(self.n_chains, dtype=np.int64)
        p_add = -np.expm1(-2.0 * self._beta * model.J)
        wolff = resolve(lookup("ising", "wolff", "table").kernel)
        wolff(self._spins, model.neighbors, thresholds(p_add), self.clusters_per_sweep,
              self._streams, burn_in, n_sweeps, thin, bonds, mag, clusters, flipped, n_threads)
        obs = {"energy": np.ascontiguousarray((-model.J * bonds).T, dtype=float),
               "magnetization": np.ascontiguousarray(mag.T, dtype=float)}
        # Cluster flips are always accepted: the acceptance rate is 1.
        return obs, {"accepted": clusters, "attempted": clusters.copy(), "clusters": clusters,
                     "flipped": flipped}
