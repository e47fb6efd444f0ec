"""Replica exchange (parallel tempering) over a set of temperatures.

Each of ``n_sets`` independent sets holds one replica per temperature. A
round is ``sweeps_per_swap`` single-spin sweeps of every replica (the
Metropolis or heat-bath kernels, each replica on its own stream) followed by
one swap attempt per neighbouring pair of temperatures: pairs (0, 1),
(2, 3), ... on even rounds and (1, 2), (3, 4), ... on odd ones, accepted
with probability min(1, exp((beta_k - beta_{k+1}) (E_k - E_{k+1}))). The
swap uniforms come from their own stream, spawned from the root seed
beside the replicas' streams, so results do not depend on the thread count
and a saved state resumes bit for bit.

With ``optimize=True`` the temperatures between the fixed end points are
moved during burn-in (and only then) by the feedback method of Katzgraber,
Trebst, Huse and Troyer (2006): the fraction f(T) of walkers that last
visited the lowest rather than the highest temperature is measured, and the
new temperatures put equal shares of sqrt(df) between neighbours, so that
the density of temperatures follows sqrt(df/dT / dT).

References
----------
H. G. Katzgraber, S. Trebst, D. A. Huse and M. Troyer, J. Stat. Mech. P03018 (2006).
"""

import numpy as np

from heatbath import _random
from heatbath._validation import check_int, check_temperature
from heatbath.diagnostics import Trace
from heatbath.spin.samplers import HeatBathSampler, MetropolisSampler

__all__ = ["ReplicaExchange", "swap_acceptance"]

STATE_FORMAT_VERSION = 1
_SAMPLERS = {"metropolis": MetropolisSampler, "heat_bath": HeatBathSampler}


def swap_acceptance(beta_low, beta_high, e_low, e_high):
    """Acceptance probability min(1, exp((beta_low - beta_high) (e_low - e_high))).

    Examples
    --------
    >>> from heatbath.spin.tempering import swap_acceptance
    >>> float(swap_acceptance(1.0, 0.5, -2.0, -4.0))     # the colder replica has more energy
    1.0
    """
    x = (np.asarray(beta_low) - beta_high) * (np.asarray(e_low) - e_high)
    return np.exp(np.minimum(x, 0.0))


class ReplicaExchange:
    r"""Parallel tempering for Ising models and Boltzmann machines (SK glasses).

    Parameters
    ----------
    model : heatbath.spin.Ising or heatbath.spin.BoltzmannMachine
    temperatures : array_like, shape (n_temperatures,)
        At least 2, strictly increasing, finite and > 0.
    n_sets : int, default=1
        Independent sets of replicas (one replica per temperature each).
    seed : None, int, SeedSequence or Generator
        Root seed: the replicas' streams and the swap stream are spawned from it.
    n_threads : int or None, default=None
        OpenMP threads over replicas; never changes the results.
    algorithm : {"metropolis", "heat_bath"}, default="metropolis"
        The single-spin update within each replica.
    sweeps_per_swap : int, default=1
    optimize : bool, default=False
        Feedback-optimise the temperatures during burn-in (see the module docstring).

    Notes
    -----
    ``run`` returns a Trace whose columns are (temperature, set) pairs,
    temperature-major: column ``k * n_sets + s`` is set s at temperature k,
    whichever replica is there. ``trace.info`` holds ``swap_rates`` (per
    neighbouring pair, over the call), ``round_trips`` (walkers that went
    from the lowest temperature to the highest and back, over the sampler's
    life) and ``mean_round_trip_sweeps``.

    Examples
    --------
    >>> from heatbath.spin import BoltzmannMachine
    >>> from heatbath.spin.tempering import ReplicaExchange
    >>> sk = BoltzmannMachine.sherrington_kirkpatrick(16, seed=0)
    >>> pt = ReplicaExchange(sk, temperatures=[0.4, 0.6, 0.9, 1.4], n_sets=4, seed=1)
    >>> trace = pt.run(100, burn_in=50)
    >>> trace["energy"].shape, trace.info["swap_rates"].shape
    ((100, 16), (3,))
    """

    def __init__(self, model, *, temperatures, n_sets=1, seed=None, n_threads=None,
                 algorithm="metropolis", sweeps_per_swap=1, optimize=False):
        if algorithm not in _SAMPLERS:
            raise ValueError(f"algorithm must be one of {sorted(_SAMPLERS)}, got {algorithm!r}")
        T = self._check_temperatures(temperatures)
        self.n_sets = check_int(n_sets, "n_sets", minimum=1)
        self.sweeps_per_swap = check_int(sweeps_per_swap, "sweeps_per_swap", minimum=1)
        self.optimize = bool(optimize)
        self.algorithm = algorithm
        root = _random.as_seed_sequence(seed)
        chain_seed, swap_seed = root.spawn(2)
        self._temperatures = T
        self._slot = np.tile(np.arange(T.size), (self.n_sets, 1))   # temperature of each replica
        self.sampler = _SAMPLERS[algorithm](model, temperature=self._chain_temperatures(),
                                            n_chains=self.n_sets * T.size, seed=chain_seed,
                                            n_threads=n_threads)
        self.model = model
        self._swap_stream = _random.spawn_states(swap_seed, 1)
        self._rounds = 0
        self._direction = np.zeros((self.n_sets, T.size), dtype=np.int8)  # +1 from T_min
        self._left_min = np.zeros((self.n_sets, T.size), dtype=np.int64)
        self._trip_sweeps = []
        self._n_up = np.zeros(T.size)
        self._n_down = np.zeros(T.size)

    @staticmethod
    def _check_temperatures(temperatures):
        T = np.atleast_1d(check_temperature(temperatures, "temperatures")).astype(float)
        if T.ndim != 1 or T.size < 2:
            raise ValueError(f"temperatures must be a 1-d list of at least 2, got shape {T.shape}")
        if not np.all(np.isfinite(T)) or np.any(np.diff(T) <= 0):
            raise ValueError("temperatures must be finite and strictly increasing")
        return T

    @property
    def temperatures(self):
        """The temperature set (a copy)."""
        return self._temperatures.copy()

    def _chain_temperatures(self):
        """Temperature of each replica (chain s * n_temperatures + r)."""
        return self._temperatures[self._slot].ravel()

    def _at(self):
        """Chain index at each (set, temperature): inverse of the slot permutation."""
        n_t = self._temperatures.size
        at = np.empty_like(self._slot)
        rows = np.arange(self.n_sets)[:, None]
        at[rows, self._slot] = np.arange(n_t)[None, :]
        return at + rows * n_t

    # -- one round -----------------------------------------------------------
    def _swap(self, energy):
        n_t = self._temperatures.size
        first = self._rounds % 2
        pairs = np.arange(first, n_t - 1, 2)
        accepted = np.zeros(n_t - 1)
        attempted = np.zeros(n_t - 1)
        if pairs.size:
            u = self._swap_uniforms(pairs.size)
            at = self._at()
            beta = 1.0 / self._temperatures
            e_lo, e_hi = energy[at[:, pairs]], energy[at[:, pairs + 1]]
            acc = u < swap_acceptance(beta[pairs], beta[pairs + 1], e_lo, e_hi)
            sets, which = np.nonzero(acc)
            lo, hi = at[sets, pairs[which]], at[sets, pairs[which] + 1]
            n_t_rows = sets * n_t
            self._slot[sets, lo - n_t_rows] += 1
            self._slot[sets, hi - n_t_rows] -= 1
            accepted[pairs] = acc.sum(axis=0)
            attempted[pairs] = self.n_sets
        self._rounds += 1
        self._track_walkers()
        return accepted, attempted

    def _swap_uniforms(self, n_pairs):
        """This round's swap uniforms, (n_sets, n_pairs), set-major from the one swap stream."""
        u = _random.random(self._swap_stream, self.n_sets * n_pairs, n_threads=1)[0]
        return u.reshape(self.n_sets, n_pairs)

    def _track_walkers(self):
        top = self._temperatures.size - 1
        now = self._rounds * self.sweeps_per_swap
        at_min, at_max = self._slot == 0, self._slot == top
        done = at_min & (self._direction == -1)
        self._trip_sweeps.extend((now - self._left_min[done]).tolist())
        start = at_min & (self._direction != 1)
        self._left_min[start] = now
        self._direction[at_min] = 1
        self._direction[at_max] = -1
        up = np.bincount(self._slot[self._direction == 1], minlength=top + 1)
        down = np.bincount(self._slot[self._direction == -1], minlength=top + 1)
        self._n_up += up
        self._n_down += down

    def _feedback(self):
        """Katzgraber et al.: equal shares of sqrt(df) between neighbouring temperatures."""
        total = self._n_up + self._n_down
        if np.any(total == 0):
            return
        f = self._n_up / total
        df = np.maximum(-np.diff(f), 1e-3)   # f falls from 1 at T_min to 0 at T_max
        weight = np.concatenate([[0.0], np.cumsum(np.sqrt(df))])
        T = self._temperatures
        targets = np.linspace(0.0, weight[-1], T.size)
        new = np.interp(targets, weight, T)
        new[0], new[-1] = T[0], T[-1]
        if np.all(np.diff(new) > 0):
            self._temperatures = new
        self._n_up[:] = 0
        self._n_down[:] = 0

    # -- running ---------------------------------------------------------------
    def run(self, n_sweeps, burn_in=0, verbose=False):
        """Run ``burn_in + n_sweeps`` sweeps (multiples of ``sweeps_per_swap``), a swap after each round.

        Energies and magnetisations are recorded after each round past burn-in.
        """
        energies, mags, accepted, attempted = self._rounds_run(n_sweeps, burn_in)
        n = self._temperatures.size * self.n_sets
        order = self._at().T.ravel()
        with np.errstate(invalid="ignore", divide="ignore"):
            rates = accepted / attempted
        trips = np.asarray(self._trip_sweeps, dtype=float)
        info = {"swap_rates": rates, "round_trips": trips.size,
                "mean_round_trip_sweeps": trips.mean() if trips.size else np.nan}
        observables = {"energy": energies.reshape(-1, n), "magnetization": mags.reshape(-1, n)}
        return Trace(observables, np.full(n, np.nan), self.sampler.spins[order],
                     np.repeat(self._temperatures, self.n_sets), self.model.n_spins, info)

    def _rounds_run(self, n_sweeps, burn_in):
        """The rounds of :meth:`run`: records (rounds, n_temperatures * n_sets) and swap counts."""
        n_sweeps = check_int(n_sweeps, "n_sweeps", minimum=0)
        burn_in = check_int(burn_in, "burn_in", minimum=0)
        k = self.sweeps_per_swap
        if n_sweeps % k or burn_in % k:
            raise ValueError(f"n_sweeps and burn_in must be multiples of sweeps_per_swap ({k})")
        n_t = self._temperatures.size
        stages = 4 if self.optimize else 1
        burn_rounds = burn_in // k
        for stage in range(stages):
            rounds = burn_rounds * (stage + 1) // stages - burn_rounds * stage // stages
            for _ in range(rounds):
                tr = self.sampler.run(k, thin=k)
                self._swap(tr["energy"][-1])
                self.sampler.temperature = self._chain_temperatures()
            if self.optimize and rounds:
                self._feedback()
                self.sampler.temperature = self._chain_temperatures()
        energies, mags = [], []
        accepted = np.zeros(n_t - 1)
        attempted = np.zeros(n_t - 1)
        for _ in range(n_sweeps // k):
            tr = self.sampler.run(k, thin=k)
            acc, att = self._swap(tr["energy"][-1])
            order = self._at().T.ravel()      # (temperature, set), temperature-major
            energies.append(tr["energy"][-1][order])
            mags.append(tr["magnetization"][-1][order])
            accepted += acc
            attempted += att
            self.sampler.temperature = self._chain_temperatures()
        n = n_t * self.n_sets
        return (np.array(energies).reshape(-1, n), np.array(mags).reshape(-1, n), accepted,
                attempted)

    # -- state -----------------------------------------------------------------
    def get_state(self):
        """Everything needed to resume: a dict of plain arrays and a format version."""
        return {"format_version": STATE_FORMAT_VERSION, "sampler": type(self).__name__,
                "chains": self.sampler.get_state(), "temperatures": self._temperatures.copy(),
                "slot": self._slot.copy(), "swap_stream": self._swap_stream.copy(),
                "rounds": self._rounds, "direction": self._direction.copy(),
                "left_min": self._left_min.copy(),
                "trip_sweeps": np.asarray(self._trip_sweeps, dtype=np.int64),
                "n_up": self._n_up.copy(), "n_down": self._n_down.copy()}

    def set_state(self, state):
        """Restore a state from :meth:`get_state`; checked before anything changes."""
        try:
            if int(state["format_version"]) != STATE_FORMAT_VERSION:
                raise ValueError(f"state format_version {state['format_version']} is not "
                                 f"supported (this heatbath reads {STATE_FORMAT_VERSION})")
            T = self._check_temperatures(state["temperatures"])
            slot = np.array(state["slot"], dtype=np.int64)
            swap = _random.check_states(state["swap_stream"], 1, name="state['swap_stream']")
            fields = [np.array(state[k]) for k in ("direction", "left_min", "trip_sweeps",
                                                   "n_up", "n_down")]
            rounds = check_int(int(state["rounds"]), "state['rounds']", minimum=0)
            chains = state["chains"]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"state is missing a field: {exc}") from None
        if T.size != self._temperatures.size or slot.shape != self._slot.shape or not all(
                np.array_equal(np.sort(row), np.arange(T.size)) for row in slot):
            raise ValueError("state does not fit this sampler (temperatures or sets differ)")
        self.sampler.set_state(chains)
        self._temperatures, self._slot, self._swap_stream, self._rounds = T, slot, swap, rounds
        self._direction = fields[0].astype(np.int8)
        self._left_min = fields[1].astype(np.int64)
        self._trip_sweeps = fields[2].astype(np.int64).tolist()
        self._n_up, self._n_down = fields[3].astype(float), fields[4].astype(float)
