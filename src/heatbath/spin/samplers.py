"""Samplers for spin models: Metropolis, heat-bath and Wolff, over many chains.

A sampler owns its chains: spins ``(n_chains, n_spins)`` int8, one random
stream per chain, and a temperature per chain. ``run(n_sweeps, burn_in, thin)``
returns a :class:`heatbath.diagnostics.Trace`; calling it again continues
the same chains, and two calls equal one longer call bit for bit.
``get_state()`` / ``set_state()`` save and restore everything (plain arrays
plus a format version), so a saved run resumes exactly.
"""

import numpy as np
from scipy.special import expit

from heatbath import _random
from heatbath._concurrency import Exclusive
from heatbath._openmp import effective_n_threads
from heatbath._validation import MAX_ELEMENTS, check_int, check_temperature
from heatbath.diagnostics import Trace
from heatbath.spin import _cluster, _metropolis
from heatbath.spin.models import BoltzmannMachine, Ising, check_spins

__all__ = ["MetropolisSampler", "HeatBathSampler", "WolffSampler"]

STATE_FORMAT_VERSION = 1
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


class _SpinSampler:
    """Shared machinery: chains, streams, temperatures, resume, state I/O."""

    algorithm = None
    _models = (Ising, BoltzmannMachine)

    def __init__(self, model, temperature=1.0, n_chains=1, seed=None, n_threads=None,
                 init="random"):
        if not isinstance(model, self._models):
            names = " or ".join(m.__name__ for m in self._models)
            raise TypeError(f"model must be a heatbath.spin {names}, got {type(model).__name__}")
        self._check_model(model)
        self.model = model
        self.n_chains = check_int(n_chains, "n_chains", minimum=1)
        if self.n_chains * model.n_spins > MAX_ELEMENTS:
            raise ValueError(f"n_chains * n_spins = {self.n_chains * model.n_spins} is more "
                             f"than {MAX_ELEMENTS}")
        effective_n_threads(n_threads)  # validate now, resolve at each run
        self.n_threads = n_threads
        self._temperature = self._check_temperature(temperature)
        self._streams = _random.spawn_states(seed, self.n_chains)
        self._spins = self._initial_spins(init)
        self.sweeps_done = 0
        self._lock = Exclusive()

    # -- validation ---------------------------------------------------------
    def _check_model(self, model):
        pass

    def _check_temperature(self, temperature):
        T = check_temperature(temperature)
        if T.ndim == 0:
            T = np.full(self.n_chains, float(T))
        if T.shape != (self.n_chains,):
            raise ValueError(f"temperature must be a scalar or have shape ({self.n_chains},) "
                             f"(one per chain), got {T.shape}")
        return np.ascontiguousarray(T)

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
        s = check_spins(init, n, name="init")
        if s.shape[0] == 1 and self.n_chains > 1:
            s = np.repeat(s, self.n_chains, axis=0)
        if s.shape[0] != self.n_chains:
            raise ValueError(f"init must have {self.n_chains} rows (one per chain), "
                             f"got {s.shape[0]}")
        return np.array(s, order="C", copy=True)   # the chains are ours, not the caller's

    # -- state --------------------------------------------------------------
    @property
    def temperature(self):
        """Per-chain temperatures, shape (n_chains,) (a copy; assign to change)."""
        return self._temperature.copy()

    @temperature.setter
    def temperature(self, value):
        self._temperature = self._check_temperature(value)

    @property
    def beta(self):
        return np.where(np.isinf(self._temperature), 0.0, 1.0 / self._temperature)

    @property
    def spins(self):
        """Current spins, int8 (n_chains, n_spins) (a copy)."""
        return self._spins.copy()

    def get_state(self):
        """Everything needed to resume: a dict of plain arrays and a format version."""
        return {
            "format_version": STATE_FORMAT_VERSION,
            "sampler": type(self).__name__,
            "spins": self._spins.copy(),
            "stream_state": self._streams.copy(),
            "temperature": self._temperature.copy(),
            "sweeps_done": self.sweeps_done,
        }

    def set_state(self, state):
        """Restore a state from :meth:`get_state`; checked before anything changes."""
        try:
            version = state["format_version"]
            kind, spins, streams = state["sampler"], state["spins"], state["stream_state"]
            temperature, sweeps = state["temperature"], state["sweeps_done"]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"state is missing a field: {exc}") from None
        if int(version) != STATE_FORMAT_VERSION:
            raise ValueError(f"state format_version {version} is not supported "
                             f"(this heatbath reads {STATE_FORMAT_VERSION})")
        if str(kind) != type(self).__name__:
            raise ValueError(f"state is from a {kind}, not a {type(self).__name__}")
        spins = check_spins(spins, self.model.n_spins, name="state['spins']")
        if spins.shape[0] != self.n_chains:
            raise ValueError(f"state['spins'] has {spins.shape[0]} chains, "
                             f"this sampler has {self.n_chains}")
        streams = _random.check_states(streams, self.n_chains, name="state['stream_state']")
        temperature = self._check_temperature(temperature)
        sweeps = check_int(int(sweeps), "state['sweeps_done']", minimum=0)
        with self._guard():
            self._spins, self._streams = np.array(spins), streams
            self._temperature, self.sweeps_done = temperature, sweeps

    def _guard(self):
        """Refuse (never corrupt) use of one sampler from two threads at once."""
        return self._lock(type(self).__name__)

    # -- running ------------------------------------------------------------
    def run(self, n_sweeps, burn_in=0, thin=1, verbose=False):
        """Run every chain for ``burn_in + n_sweeps`` sweeps.

        Parameters
        ----------
        n_sweeps : int
            Sweeps after burn-in; observables are recorded every ``thin``-th.
        burn_in : int, default=0
            Sweeps run first and not recorded.
        thin : int, default=1
            Record every ``thin``-th sweep.
        verbose : bool, default=False
            Show a progress bar (tqdm). Results are the same either way.

        Returns
        -------
        heatbath.diagnostics.Trace
            ``trace["energy"]`` and ``trace["magnetization"]`` (totals),
            shape ``(n_sweeps // thin, n_chains)``, plus acceptance rates and
            the final states.
        """
        n_sweeps = check_int(n_sweeps, "n_sweeps", minimum=0)
        burn_in = check_int(burn_in, "burn_in", minimum=0)
        thin = check_int(thin, "thin", minimum=1)
        n_rec = n_sweeps // thin
        if n_rec * self.n_chains > MAX_ELEMENTS:
            raise ValueError(f"the trace would hold {n_rec * self.n_chains} records per "
                             f"observable, more than {MAX_ELEMENTS}")
        n_threads = effective_n_threads(self.n_threads)
        with self._guard():
            # Chunks only matter for the progress bar; they change no number.
            chunks = _chunks(burn_in, n_sweeps, thin, verbose)
            parts, accepted, infos = [], 0, []
            bar = None
            if verbose:
                from tqdm.auto import tqdm
                bar = tqdm(total=burn_in + n_sweeps, unit="sweep",
                           desc=f"{type(self).__name__} x{self.n_chains}")
            try:
                for b, n, t in chunks:
                    obs, acc, info = self._sweeps(b, n, t, n_threads)
                    parts.append(obs)
                    accepted = accepted + acc
                    infos.append(info)
                    self.sweeps_done += b + n
                    if bar is not None:
                        bar.update(b + n)
            finally:
                if bar is not None:
                    bar.close()
        observables = {k: np.concatenate([p[k] for p in parts], axis=1).T.copy()
                       for k in parts[0]}
        attempts = (burn_in + n_sweeps) * self.model.n_spins
        rate = accepted / attempts if attempts else np.full(self.n_chains, np.nan)
        info = _merge_info(infos)
        return Trace(observables, self._acceptance(rate, info), self._spins.copy(),
                     self._temperature.copy(), self.model.n_spins, info)

    def _acceptance(self, rate, info):
        return rate


def _chunks(burn_in, n_sweeps, thin, verbose):
    """(burn_in, n_sweeps, thin) pieces; one piece unless a progress bar wants more."""
    if not verbose:
        return [(burn_in, n_sweeps, thin)]
    pieces = []
    step = max(1, (burn_in + n_sweeps) // 50)
    done = 0
    while done < burn_in:
        n = min(step, burn_in - done)
        pieces.append((n, 0, 1))
        done += n
    step = max(thin, (step // thin) * thin)
    done = 0
    while done < n_sweeps:
        n = min(step, n_sweeps - done)
        pieces.append((0, n, thin))
        done += n
    return pieces or [(0, 0, thin)]


def _merge_info(infos):
    merged = {}
    for info in infos:
        for k, v in info.items():
            merged[k] = merged.get(k, 0) + v
    return merged


class _FlipSampler(_SpinSampler):
    """Single-spin flips with a flip probability q (Metropolis or heat-bath)."""

    def _sweeps(self, burn_in, n_sweeps, thin, n_threads):
        model, n_rec = self.model, n_sweeps // thin
        accepted = np.zeros(self.n_chains, dtype=np.int64)
        mag = np.zeros((self.n_chains, n_rec), dtype=np.int64)
        if isinstance(model, Ising):
            bonds = np.zeros((self.n_chains, n_rec), dtype=np.int64)
            q = flip_probabilities(model, self.beta, self.algorithm)
            thr = np.ascontiguousarray(thresholds(q).reshape(self.n_chains, -1))
            if model.ndim == 2:
                rows, cols = model.shape
                if model.periodic[0] != model.periodic[1]:
                    self._table(thr, burn_in, n_sweeps, thin, bonds, mag, accepted, n_threads)
                else:
                    _metropolis._square_sweeps(
                        self._spins, rows, cols, model.periodic[0], model.neighbors, thr,
                        self._streams, burn_in, n_sweeps, thin, bonds, mag, accepted,
                        np.zeros(cols, dtype=np.int8), n_threads)
            else:
                self._table(thr, burn_in, n_sweeps, thin, bonds, mag, accepted, n_threads)
            energy = -model.J * bonds - model.h * mag
        else:
            energy = np.zeros((self.n_chains, n_rec))
            _metropolis._graph_sweeps(
                self._spins, model.indptr, model.indices, model.data, model.h, self.beta,
                self.algorithm == "heat_bath", self._streams, burn_in, n_sweeps, thin,
                energy, mag, accepted, n_threads)
        return {"energy": energy, "magnetization": mag.astype(float)}, accepted, {}

    def _table(self, thr, burn_in, n_sweeps, thin, bonds, mag, accepted, n_threads):
        m = self.model
        _metropolis._table_sweeps(self._spins, m.sweep_order, m.neighbors, thr, self._streams,
                                  burn_in, n_sweeps, thin, bonds, mag, accepted, n_threads)


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

    def __init__(self, model, temperature=1.0, n_chains=1, seed=None, n_threads=None,
                 init="random", clusters_per_sweep=1):
        self.clusters_per_sweep = check_int(clusters_per_sweep, "clusters_per_sweep",
                                            minimum=1, maximum=2**31)
        super().__init__(model, temperature, n_chains, seed, n_threads, init)

    def _check_model(self, model):
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
        p_add = -np.expm1(-2.0 * self.beta * model.J)
        _cluster._wolff_sweeps(self._spins, model.neighbors, thresholds(p_add),
                               self.clusters_per_sweep, self._streams,
                               burn_in, n_sweeps, thin, bonds, mag, clusters, flipped, n_threads)
        obs = {"energy": (-model.J * bonds).astype(float), "magnetization": mag.astype(float)}
        return obs, np.zeros(self.n_chains), {"clusters": clusters, "flipped": flipped}

    def _acceptance(self, rate, info):
        clusters = info.get("clusters", np.zeros(self.n_chains))
        with np.errstate(invalid="ignore", divide="ignore"):
            info["mean_cluster_size"] = info.get("flipped", 0) / clusters
        return np.ones(self.n_chains)
