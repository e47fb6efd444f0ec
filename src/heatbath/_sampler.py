"""The sampler core: one base class that every engine's sampler subclasses.

:class:`Sampler` owns what every Markov-chain sampler in heatbath shares:

- the temperatures: a scalar or one per chain, checked, with beta = 1/T
  computed once (T = inf gives beta = 0);
- the per-chain random streams (one SFC64 stream per chain, spawned from the
  seed by :func:`heatbath._random.spawn_states`);
- :meth:`Sampler.run` ``(n_sweeps, burn_in=0, thin=1, verbose=False)``: it
  continues the same chains on every call, shows the one progress bar
  (:func:`progress`), counts ``n_sweeps_done`` and assembles the
  :class:`heatbath.diagnostics.Trace`;
- :meth:`Sampler.get_state` / :meth:`Sampler.set_state`: a plain dict of
  arrays with ``kind`` and ``format_version``, checked in full before anything
  changes;
- the guard that refuses use of one sampler from two threads at once.

Subclassing contract
--------------------
A subclass (spin Metropolis, heat-bath and Wolff, the RBM Gibbs sampler,
and the engines to come: NQS Metropolis, continuous samplers, multispin,
replica exchange) implements these hooks and nothing else of the above:

``_check_model(self, model)``
    Raise ``TypeError``/``ValueError`` if ``model`` is not one this sampler
    can run. Called first, before ``self.model`` is set.
``_units(self, model) -> int``
    Units per chain (spins, visible units, ...): the trace's ``n_units``
    and the size check ``n_chains * units <= MAX_ELEMENTS``.
``_sweeps(self, burn_in, n_sweeps, thin, n_threads) -> (observables, counts)``
    Advance every chain by ``burn_in + n_sweeps`` sweeps, in place. Return
    ``observables``: a dict of arrays of shape ``(n_sweeps // thin, n_chains)``
    (recorded after sweep ``thin``, ``2 thin``, ... of the ``n_sweeps``), and
    ``counts``: a dict of per-chain integer arrays, shape ``(n_chains,)``,
    that add up over pieces of a run (``"accepted"`` and ``"attempted"`` give
    the acceptance rate; others, such as Wolff's ``"clusters"``, go to
    ``trace.info``). The core may cut one ``run`` into pieces (for the
    progress bar, or to record states); a kernel must give the same bits for
    ``_sweeps(b, n, t)`` as for any cut into ``(b, 0, 1)`` and ``(0, m, t)``
    pieces with ``m`` a multiple of ``t``. ``n_threads`` is already resolved
    (a plain int).
``_current_state(self) -> ndarray``
    A copy of the chains, ``(n_chains, n_units)`` (the trace's
    ``final_state`` and the recorded configurations).
``_chain_state(self) -> dict`` and ``_check_chain_state(self, state) -> dict``
    The chain arrays for :meth:`get_state` (copies), and the check of those
    fields in a state given to :meth:`set_state`: return validated copies, or
    raise ``ValueError``; nothing may change yet.
``_set_chain_state(self, checked)``
    Install what ``_check_chain_state`` returned (called under the guard).

Optional: ``_check_temperature_values(self, T)`` (extra checks on the
per-chain temperatures, say finite T for Gaussian units);
``_start_run(self, burn_in, n_sweeps, thin, record_states)``, called under
the guard before a run's first piece (a sampler that tunes during burn-in
sets up its plan for the whole burn-in here, so that how the core cuts the
run changes no number); ``_run_info(self) -> dict``, extras for the run's
``trace.info``, called under the guard after its last piece. Class
attributes: ``kind`` (the name in saved states, default the class name),
``sweep_unit`` (the progress bar's unit, default "sweep"),
``records_states`` (default False; True when the kernel records the
configurations itself: with ``record_states`` the core then does not cut
the run into ``thin``-sized pieces, and ``_sweeps`` returns them as the
extra observable ``"states"``, shape ``(n_sweeps // thin, n_chains,
n_units)``).

A subclass ``__init__`` takes its own keywords after the shared ones,
calls ``super().__init__(model, temperature=..., n_chains=..., seed=...,
n_threads=...)`` and then builds its chains (it may draw from
``self._streams`` and use ``self._beta``).
"""

import contextlib
import warnings

import numpy as np

from heatbath import _random
from heatbath._concurrency import Exclusive
from heatbath._openmp import effective_n_threads
from heatbath._validation import MAX_ELEMENTS, check_int, check_temperature
from heatbath.diagnostics import Trace

__all__ = ["Sampler", "progress", "STATE_FORMAT_VERSION"]

#: Version of the dict that :meth:`Sampler.get_state` returns. Version 1 (before
#: the core) named the kind ``"sampler"`` and the counter ``"sweeps_done"`` or
#: ``"steps_done"``; it is still read.
STATE_FORMAT_VERSION = 2


class _NoBar:
    def update(self, n=1):
        pass

    def set_postfix(self, *args, **kwargs):
        pass


@contextlib.contextmanager
def progress(verbose, total, *, unit, desc, initial=0):
    """A tqdm bar when ``verbose``, else an object whose methods do nothing.

    The one progress bar of the package: samplers, training and AIS use it.

    Examples
    --------
    >>> from heatbath._sampler import progress
    >>> with progress(False, 10, unit="sweep", desc="demo") as bar:
    ...     bar.update(10)
    """
    if not verbose:
        yield _NoBar()
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=total, initial=initial, unit=unit, desc=desc, mininterval=0.5)
    try:
        yield bar
    finally:
        bar.close()


def pieces(burn_in, n_sweeps, thin, step=None):
    """Cut a run into ``(burn_in, n_sweeps, thin)`` pieces of about ``step`` sweeps.

    Recorded pieces hold a multiple of ``thin`` sweeps (the last may hold
    fewer and record nothing), so the pieces record what the whole run does.
    """
    if step is None:
        return [(burn_in, n_sweeps, thin)]
    out = []
    done = 0
    while done < burn_in:
        n = min(step, burn_in - done)
        out.append((n, 0, 1))
        done += n
    step = max(thin, (step // thin) * thin)
    done = 0
    while done < n_sweeps:
        n = min(step, n_sweeps - done)
        out.append((0, n, thin))
        done += n
    return out or [(0, 0, thin)]


class Sampler:
    """Base class of every heatbath sampler (see the module docstring for the hooks).

    Parameters
    ----------
    model : object
        The model to sample; the subclass says which.
    temperature : float or array_like of shape (n_chains,), default=1.0
        T > 0 per chain (``np.inf`` allowed: beta = 0). Settable between runs.
    n_chains : int, default=1
    seed : None, int, SeedSequence or Generator
        Root of the per-chain streams.
    n_threads : int or None, default=None
        OpenMP threads (None: all cores; negative: counted from the end);
        never changes the results.

    Attributes
    ----------
    n_sweeps_done : int
        Sweeps (burn-in included) run so far, over every call to :meth:`run`.
    """

    kind: str | None = None
    sweep_unit = "sweep"
    records_states = False

    def __init__(self, model, *, temperature=1.0, n_chains=1, seed=None, n_threads=None):
        self._check_model(model)
        self.model = model
        self.n_chains = check_int(n_chains, "n_chains", minimum=1)
        units = self._units(model)
        if self.n_chains * units > MAX_ELEMENTS:
            raise ValueError(f"n_chains * n_units = {self.n_chains * units} is more than "
                             f"{MAX_ELEMENTS}")
        effective_n_threads(n_threads)   # validate now, resolve at each run
        self.n_threads = n_threads
        self._lock = Exclusive()
        self.temperature = temperature
        self._streams = _random.spawn_states(seed, self.n_chains)
        self.n_sweeps_done = 0

    # -- hooks (see the module docstring) ---------------------------------------
    def _check_model(self, model):
        pass

    def _units(self, model):
        raise NotImplementedError

    def _sweeps(self, burn_in, n_sweeps, thin, n_threads):
        raise NotImplementedError

    def _current_state(self):
        raise NotImplementedError

    def _chain_state(self):
        raise NotImplementedError

    def _check_chain_state(self, state):
        raise NotImplementedError

    def _set_chain_state(self, checked):
        raise NotImplementedError

    def _check_temperature_values(self, T):
        pass

    def _start_run(self, burn_in, n_sweeps, thin, record_states):
        pass

    def _run_info(self):
        return {}

    # -- temperatures -------------------------------------------------------------
    def _check_temperature(self, value):
        T = check_temperature(value)
        if T.ndim == 0:
            T = np.full(self.n_chains, float(T))
        if T.shape != (self.n_chains,):
            raise ValueError(f"temperature must be a scalar or have shape ({self.n_chains},) "
                             f"(one per chain), got {T.shape}")
        self._check_temperature_values(T)
        return np.ascontiguousarray(T)

    @property
    def temperature(self):
        """Per-chain temperatures, shape (n_chains,) (a copy; assign to change)."""
        return self._temperature.copy()

    @temperature.setter
    def temperature(self, value):
        T = self._check_temperature(value)
        self._temperature = T
        self._beta = np.where(np.isinf(T), 0.0, 1.0 / T)

    @property
    def beta(self):
        """Per-chain inverse temperatures 1/T (0 where T = inf), a copy."""
        return self._beta.copy()

    # -- deprecated counter names -----------------------------------------------
    @property
    def sweeps_done(self):
        """Deprecated alias of :attr:`n_sweeps_done` (removed in the next release)."""
        warnings.warn("sweeps_done is deprecated; use n_sweeps_done", DeprecationWarning,
                      stacklevel=2)
        return self.n_sweeps_done

    @property
    def steps_done(self):
        """Deprecated alias of :attr:`n_sweeps_done` (removed in the next release)."""
        warnings.warn("steps_done is deprecated; use n_sweeps_done", DeprecationWarning,
                      stacklevel=2)
        return self.n_sweeps_done

    # -- the guard ------------------------------------------------------------------
    def _guard(self):
        """Refuse (never corrupt) use of one sampler from two threads at once."""
        return self._lock(type(self).__name__)

    @property
    def _kind(self):
        return self.kind or type(self).__name__

    # -- state ----------------------------------------------------------------------
    def get_state(self):
        """Everything needed to resume: a dict of plain arrays, ``kind`` and ``format_version``.

        Examples
        --------
        >>> from heatbath.spin import Ising, MetropolisSampler
        >>> s = MetropolisSampler(Ising((4, 4)), temperature=2.0, n_chains=2, seed=0)
        >>> state = s.get_state()
        >>> state["kind"], state["format_version"], state["n_sweeps_done"]
        ('MetropolisSampler', 2, 0)
        """
        return {"format_version": STATE_FORMAT_VERSION, "kind": self._kind,
                **self._chain_state(),
                "stream_state": self._streams.copy(), "temperature": self._temperature.copy(),
                "n_sweeps_done": self.n_sweeps_done}

    def set_state(self, state):
        """Restore a :meth:`get_state` dict; every field is checked before anything changes.

        Examples
        --------
        >>> from heatbath.spin import Ising, MetropolisSampler
        >>> a = MetropolisSampler(Ising((4, 4)), temperature=2.0, n_chains=2, seed=0)
        >>> b = MetropolisSampler(Ising((4, 4)), temperature=2.0, n_chains=2, seed=1)
        >>> b.set_state(a.get_state())
        >>> bool((a.run(5)["energy"] == b.run(5)["energy"]).all())
        True
        """
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict from get_state(), got {type(state).__name__}")
        try:
            version = int(state["format_version"])
            if version not in (1, STATE_FORMAT_VERSION):
                raise ValueError(f"state format_version {state['format_version']} is not "
                                 f"supported (this heatbath reads 1 and {STATE_FORMAT_VERSION})")
            if version == 1:
                kind = state["sampler"]
                done = state["sweeps_done"] if "sweeps_done" in state else state["steps_done"]
            else:
                kind, done = state["kind"], state["n_sweeps_done"]
            if str(kind) != self._kind:
                raise ValueError(f"state is from a {kind}, not a {self._kind}")
            chains = self._check_chain_state(state)
            streams = _random.check_states(state["stream_state"], self.n_chains,
                                           name="state['stream_state']")
            temperature = self._check_temperature(state["temperature"])
            done = check_int(int(done), "state['n_sweeps_done']", minimum=0)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"state is missing a field or has a wrong one: {exc}") from None
        with self._guard():
            self._set_chain_state(chains)
            self._streams = streams
            self.temperature = temperature
            self.n_sweeps_done = done

    # -- running ----------------------------------------------------------------------
    def run(self, n_sweeps, burn_in=0, thin=1, verbose=False, *, record_states=False):
        """Run every chain for ``burn_in + n_sweeps`` sweeps, continuing where it stopped.

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
        record_states : bool, default=False
            Also record the configurations at each recorded sweep in
            ``trace.states``, shape ``(n_sweeps // thin, n_chains, n_units)``.

        Returns
        -------
        heatbath.diagnostics.Trace
            Observables of shape ``(n_sweeps // thin, n_chains)``, acceptance
            rates (burn-in included) and the final states. Two calls give the
            same trace as one longer call (:meth:`Trace.concatenate`).
        """
        n_sweeps = check_int(n_sweeps, "n_sweeps", minimum=0)
        burn_in = check_int(burn_in, "burn_in", minimum=0)
        thin = check_int(thin, "thin", minimum=1)
        n_rec = n_sweeps // thin
        per_record = self.n_chains * (self._units(self.model) if record_states else 1)
        if n_rec * per_record > MAX_ELEMENTS:
            raise ValueError(f"the trace would hold {n_rec * per_record} values per record "
                             f"kind, more than {MAX_ELEMENTS}; raise thin")
        n_threads = effective_n_threads(self.n_threads)
        # Pieces only serve the progress bar and state recording; they change no number.
        step = thin if record_states and not self.records_states else \
            (max(1, (burn_in + n_sweeps) // 50) if verbose else None)
        parts, totals, recorded = [], {}, []
        with self._guard(), progress(verbose, burn_in + n_sweeps, unit=self.sweep_unit,
                                     desc=f"{type(self).__name__} x{self.n_chains}") as bar:
            self._start_run(burn_in, n_sweeps, thin, record_states)
            for b, n, t in pieces(burn_in, n_sweeps, thin, step):
                obs, counts = self._sweeps(b, n, t, n_threads)
                if "states" in obs:           # recorded by the kernel (records_states)
                    obs = dict(obs)
                    recorded.append(obs.pop("states"))
                elif record_states and n >= t:
                    recorded.append(self._current_state()[None])
                parts.append(obs)
                for key, value in counts.items():
                    totals[key] = totals[key] + value if key in totals else \
                        np.asarray(value, dtype=np.int64).copy()
                self.n_sweeps_done += b + n
                bar.update(b + n)
            final = self._current_state()
            info = self._run_info()
        observables = {k: np.concatenate([p[k] for p in parts], axis=0) for k in parts[0]}
        states = None
        if record_states:
            states = np.concatenate(recorded) if recorded else \
                np.empty((0,) + final.shape, dtype=final.dtype)
        return Trace(observables, None, final, self._temperature.copy(), self._units(self.model),
                     info, counts=totals, states=states)
