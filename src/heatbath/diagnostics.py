r"""MCMC diagnostics and the one trace type every sampler returns.

Series are arrays of shape ``(n_samples, n_chains)`` (a 1-d array is one
chain). Chains are assumed independent of each other; samples within a
chain are not.

- :func:`tau_int`: integrated autocorrelation time
  :math:`\tau = 1 + 2\sum_{t \ge 1} \rho(t)`, with Sokal's automatic window
  (the smallest W with W >= c tau(W)). The normalised autocorrelation is
  averaged over chains, each about its own mean.
- :func:`ess` = total samples / tau; :func:`stderr` = sqrt(variance / ess).
- :func:`split_rhat`: the potential scale reduction of Gelman et al. (BDA3)
  on chains split in halves; close to 1 when the chains agree.
- :func:`rank_normalized_rhat`: the rank-normalised, folded split R-hat of
  Vehtari et al. (2021).
- :func:`jackknife`: value and error bar of any function of the samples
  (specific heat, susceptibility, Binder cumulant), leaving out one group at
  a time. A group is a whole chain when there are enough chains, otherwise
  a contiguous block of one; groups must be longer than a few tau.
"""

import numpy as np

from heatbath._validation import check_real_array

__all__ = ["autocorrelation", "tau_int", "ess", "stderr", "split_rhat", "rank_normalized_rhat",
           "jackknife", "Trace"]


def _as_series(x, name="x", min_samples=1):
    x = check_real_array(x, name, allow_empty=False)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"{name} must have shape (n_samples, n_chains), got {x.shape}")
    if x.shape[0] < min_samples:
        raise ValueError(f"{name} needs at least {min_samples} samples per chain, "
                         f"got {x.shape[0]}")
    return x


def _unit_scale(x):
    """x / s and s = max abs(x) (1 if x is all zero).

    Autocorrelations and R-hat do not depend on the scale, and standard errors
    scale with it; working on x / s keeps squares and sums finite for any
    finite input (values up to 1e308 would overflow when squared).
    """
    s = float(np.abs(x).max()) if x.size else 1.0
    s = s if s > 0 else 1.0
    return x / s, s


def autocorrelation(x):
    """Normalised autocorrelation rho(t), t = 0..n-1, averaged over chains.

    Computed by FFT, each chain about its own mean. A constant series has
    rho = [1, 0, 0, ...].

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.diagnostics import autocorrelation
    >>> rho = autocorrelation(np.sin(np.arange(1000) / 10))
    >>> float(rho[0])
    1.0
    """
    x, _ = _unit_scale(_as_series(x))
    n = x.shape[0]
    y = x - x.mean(axis=0)
    size = 1 << (2 * n - 1).bit_length()
    f = np.fft.rfft(y, n=size, axis=0)
    acov = np.fft.irfft(f * np.conj(f), n=size, axis=0)[:n] / n
    var = acov[0]
    rho = np.zeros_like(acov)
    live = var > 0
    rho[:, live] = acov[:, live] / var[live]
    rho[0, ~live] = 1.0
    return rho.mean(axis=1)


def tau_int(x, c=5.0):
    """Integrated autocorrelation time, in samples (1 for independent samples).

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.diagnostics import tau_int
    >>> rng = np.random.default_rng(0)
    >>> round(tau_int(rng.normal(size=(20000, 4))), 1)   # white noise
    1.0
    >>> ar = np.zeros(20000); e = rng.normal(size=20000)
    >>> for t in range(1, 20000): ar[t] = 0.9 * ar[t - 1] + e[t]
    >>> abs(tau_int(ar) - 19) < 3                         # (1 + 0.9) / (1 - 0.9)
    True
    """
    rho = autocorrelation(x)
    taus = 2.0 * np.cumsum(rho) - 1.0
    window = np.arange(taus.size) >= c * taus
    m = int(np.argmax(window)) if window.any() else taus.size - 1
    return float(max(taus[m], 1.0 / taus.size))


def ess(x, c=5.0):
    """Effective sample size: total samples / tau_int.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.diagnostics import ess
    >>> 3000 < ess(np.random.default_rng(1).normal(size=(1000, 4))) < 5000
    True
    """
    x = _as_series(x)
    return x.size / tau_int(x, c)


def stderr(x, c=5.0):
    """Standard error of the mean of all samples, corrected for autocorrelation.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.diagnostics import stderr
    >>> x = np.random.default_rng(2).normal(size=(10000, 1))
    >>> abs(stderr(x) - 0.01) < 0.002
    True
    """
    x, scale = _unit_scale(_as_series(x))
    return float(scale * np.sqrt(x.var() / ess(x, c)))


def split_rhat(x):
    """Split R-hat: chains halved, then the between/within variance ratio.

    Needs at least 4 samples per chain. Returns 1.0 when every chain is
    constant and they all agree, and inf when they are constant but disagree.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.diagnostics import split_rhat
    >>> rng = np.random.default_rng(0)
    >>> round(split_rhat(rng.normal(size=(2000, 4))), 2)
    1.0
    >>> split_rhat(rng.normal(size=(2000, 4)) + np.arange(4)) > 1.5   # chains disagree
    True
    """
    x, _ = _unit_scale(_as_series(x, min_samples=4))
    half = x.shape[0] // 2
    parts = np.concatenate([x[:half], x[x.shape[0] - half:]], axis=1)
    n = parts.shape[0]
    means = parts.mean(axis=0)
    W = parts.var(axis=0, ddof=1).mean()
    B = n * means.var(ddof=1)
    if W == 0:
        return 1.0 if B == 0 else float("inf")
    var_plus = (n - 1) / n * W + B / n
    return float(np.sqrt(var_plus / W))


def rank_normalized_rhat(x):
    """Rank-normalised split R-hat of Vehtari et al. (2021), Bayesian Analysis 16(2).

    The larger of the bulk R-hat (split R-hat of the normal scores of the
    pooled ranks) and the tail R-hat (the same on the folded draws
    abs(x - median)). Robust to heavy tails and sensitive to chains that differ
    in scale; below 1.01 is the authors' threshold.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.diagnostics import rank_normalized_rhat
    >>> rng = np.random.default_rng(0)
    >>> bool(rank_normalized_rhat(rng.standard_cauchy(size=(2000, 4))) < 1.01)
    True
    >>> x = rng.normal(size=(2000, 4)) * np.array([1, 1, 1, 5])   # one chain too wide
    >>> bool(rank_normalized_rhat(x) > 1.05)
    True
    """
    from scipy.special import ndtri
    from scipy.stats import rankdata

    x = _as_series(x, min_samples=4)

    def scores(v):
        ranks = rankdata(v, method="average").reshape(v.shape)
        return ndtri((ranks - 0.375) / (v.size + 0.25))

    return max(split_rhat(scores(x)), split_rhat(scores(np.abs(x - np.median(x)))))


def jackknife(fn, *series, n_groups=None):
    """Jackknife estimate and standard error of ``fn(*series)``.

    Parameters
    ----------
    fn : callable
        Takes 1-d arrays of pooled samples (one per series) and returns a float.
    *series : array_like, shape (n_samples, n_chains)
        Series of the same shape.
    n_groups : int, optional
        Number of groups. Default: one per chain if there are at least 16
        chains, otherwise each chain cut into ``ceil(16 / n_chains)`` blocks.

    Returns
    -------
    value, stderr : float
        The bias-corrected jackknife estimate and its standard error. If any
        estimate is infinite (an overflowing ratio, say), the plain estimate
        and an infinite error.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.diagnostics import jackknife
    >>> x = np.random.default_rng(0).normal(size=(1000, 16))
    >>> value, err = jackknife(np.var, x)
    >>> abs(value - 1) < 3 * err
    True
    """
    arrays = [_as_series(s, "series") for s in series]
    shape = arrays[0].shape
    if any(a.shape != shape for a in arrays):
        raise ValueError("all series must have the same shape")
    n, n_chains = shape
    if n_groups is None:
        per_chain = 1 if n_chains >= 16 else -(-16 // n_chains)
    else:
        per_chain = max(1, -(-int(n_groups) // n_chains))
    per_chain = min(per_chain, n)
    edges = np.linspace(0, n, per_chain + 1).astype(int)
    groups = []  # each group: list of 1-d arrays (one per series)
    for k in range(n_chains):
        for a, b in zip(edges[:-1], edges[1:]):
            groups.append([arr[a:b, k] for arr in arrays])
    G = len(groups)
    full = fn(*[arr.T.ravel() for arr in arrays])
    if G < 2:
        return float(full), float("nan")
    leave_out = np.empty(G)
    for g in range(G):
        rest = [np.concatenate([groups[j][i] for j in range(G) if j != g])
                for i in range(len(arrays))]
        leave_out[g] = fn(*rest)
    if not (np.isfinite(full) and np.isfinite(leave_out).all()):
        # e.g. a variance / T**2 that overflows: no bias correction (it would
        # be inf - inf), and an honest infinite error bar.
        return float(full), float("inf")
    mean_lo = leave_out.mean()
    value = G * full - (G - 1) * mean_lo
    with np.errstate(over="ignore"):   # huge spreads give an honest infinite error
        err = np.sqrt((G - 1) / G * ((leave_out - mean_lo) ** 2).sum())
    return float(value), float(err)


#: Entries of ``Trace.info`` that are ratios of two counts (recomputed when traces join).
_RATIOS = {"mean_cluster_size": ("flipped", "clusters")}


def _ratio(num, den):
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


class Trace:
    """The result of ``sampler.run``: per-sweep observables and final states.

    Attributes
    ----------
    observables : dict of str -> ndarray, shape (n_recorded, n_chains)
        Recorded observables (for spin samplers: ``"energy"`` and
        ``"magnetization"``, totals over the system).
    acceptance_rate : ndarray, shape (n_chains,)
        Fraction of attempted updates accepted during the run (burn-in included).
    final_state : ndarray, shape (n_chains, n_units)
        The chains' states at the end of the run (a copy).
    temperature : ndarray, shape (n_chains,)
    n_units : int
        Units (spins) per chain, for per-unit observables.
    info : dict
        Sampler-specific extras (for example Wolff cluster sizes).
    counts : dict of str -> int ndarray, shape (n_chains,)
        Per-chain counts that add up over pieces of a run (``"accepted"``,
        ``"attempted"``, Wolff's ``"clusters"`` and ``"flipped"``). When
        ``acceptance_rate`` is None it is ``accepted / attempted``.
    states : ndarray, shape (n_recorded, n_chains, n_units), or None
        The configurations at each recorded sweep, when the run recorded them.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.diagnostics import Trace
    >>> t = Trace({"energy": np.zeros((10, 2))}, np.ones(2), np.ones((2, 4)), np.ones(2), 4)
    >>> t["energy"].shape, t.mean("energy")
    ((10, 2), 0.0)
    """

    def __init__(self, observables, acceptance_rate, final_state, temperature, n_units,
                 info=None, *, counts=None, states=None):
        self.observables = dict(observables)
        self.counts = {k: np.asarray(v, dtype=np.int64) for k, v in (counts or {}).items()}
        if acceptance_rate is None:
            if "attempted" in self.counts:
                acceptance_rate = _ratio(self.counts.get("accepted", 0), self.counts["attempted"])
            else:
                acceptance_rate = np.ones(np.shape(temperature)[0])
        self.acceptance_rate = np.asarray(acceptance_rate, dtype=float)
        self.final_state = final_state
        self.temperature = np.asarray(temperature, dtype=float)
        self.n_units = int(n_units)
        self.states = states
        self.info = dict(info or {})
        for key, value in self.counts.items():
            if key not in ("accepted", "attempted"):
                self.info.setdefault(key, value)
        for key, (num, den) in _RATIOS.items():
            if num in self.counts and den in self.counts:
                self.info[key] = _ratio(self.counts[num], self.counts[den])
        if states is not None:
            self.info.setdefault("states", states)   # where GibbsSampler put them before

    def __repr__(self):
        shapes = {k: v.shape for k, v in self.observables.items()}
        return f"Trace({shapes}, n_units={self.n_units})"

    def __getitem__(self, name):
        return self.observables[name]

    @property
    def n_recorded(self):
        return next(iter(self.observables.values())).shape[0]

    @property
    def n_chains(self):
        return self.acceptance_rate.shape[0]

    @classmethod
    def concatenate(cls, traces, axis="time"):
        """Join traces: consecutive pieces of one run, or blocks of chains.

        ``axis="time"``: the traces are consecutive runs of the same chains
        (``sampler.run`` called several times, or a run resumed from a
        checkpoint). Observables and states are joined along the records,
        counts add up (so the acceptance rate is that of the whole run), and
        the final state is the last one. ``axis="chains"``: the traces are
        runs of different chains over the same sweeps (blocks of chains on
        several workers); everything is joined along the chains. Either way
        the result equals the trace of one run, bit for bit.

        Examples
        --------
        >>> from heatbath.diagnostics import Trace
        >>> from heatbath.spin import Ising, MetropolisSampler
        >>> s = MetropolisSampler(Ising((4, 4)), temperature=2.0, n_chains=2, seed=0)
        >>> first, second = s.run(10, burn_in=5), s.run(10)
        >>> Trace.concatenate([first, second])["energy"].shape
        (20, 2)
        """
        traces = list(traces)
        if not traces or not all(isinstance(t, Trace) for t in traces):
            raise TypeError("traces must be a non-empty sequence of Trace objects")
        if axis not in ("time", "chains"):
            raise ValueError(f"axis must be 'time' or 'chains', got {axis!r}")
        first = traces[0]
        names = set(first.observables)
        for t in traces[1:]:
            if set(t.observables) != names:
                raise ValueError("the traces record different observables: "
                                 f"{sorted(names)} and {sorted(t.observables)}")
            if t.n_units != first.n_units:
                raise ValueError(f"the traces have {first.n_units} and {t.n_units} units")
            if set(t.counts) != set(first.counts):
                raise ValueError("the traces have different counts")
            if (t.states is None) != (first.states is None):
                raise ValueError("some traces recorded states and some did not")
        aliases = first._state_aliases()
        extra = {k: v for k, v in first.info.items()
                 if k not in first.counts and k not in _RATIOS and k not in aliases}
        if axis == "time":
            for t in traces[1:]:
                if t.n_chains != first.n_chains or not np.array_equal(t.temperature,
                                                                      first.temperature):
                    raise ValueError("axis='time' joins runs of the same chains: the traces "
                                     "differ in n_chains or temperature")
            observables = {k: np.concatenate([t.observables[k] for t in traces], axis=0)
                           for k in first.observables}
            counts = {k: sum(t.counts[k] for t in traces[1:]) + first.counts[k]
                      for k in first.counts}
            states = None if first.states is None else \
                np.concatenate([t.states for t in traces], axis=0)
            if states is not None:
                extra.update(dict.fromkeys(aliases, states))
            if "attempted" in counts:
                rate = None
            else:
                weights = np.array([max(t.n_recorded, 1) for t in traces], dtype=float)
                rate = sum(w * t.acceptance_rate for w, t in zip(weights, traces)) / weights.sum()
            return cls(observables, rate, traces[-1].final_state, first.temperature.copy(),
                       first.n_units, extra, counts=counts, states=states)
        n_rec = first.n_recorded if first.observables else 0
        for t in traces[1:]:
            if t.observables and t.n_recorded != n_rec:
                raise ValueError("axis='chains' joins runs of the same length: the traces "
                                 f"have {n_rec} and {t.n_recorded} records")
        observables = {k: np.concatenate([t.observables[k] for t in traces], axis=1)
                       for k in first.observables}
        counts = {k: np.concatenate([t.counts[k] for t in traces]) for k in first.counts}
        states = None if first.states is None else \
            np.concatenate([t.states for t in traces], axis=1)
        if states is not None:
            extra.update(dict.fromkeys(aliases, states))
        rate = None if "attempted" in counts else \
            np.concatenate([t.acceptance_rate for t in traces])
        final = np.concatenate([t.final_state for t in traces], axis=0)
        temperature = np.concatenate([t.temperature for t in traces])
        return cls(observables, rate, final, temperature, first.n_units, extra,
                   counts=counts, states=states)

    def _state_aliases(self):
        # info entries that are the recorded states themselves ("states", and the
        # continuous samplers' "samples"): joined with the states
        return {"states"} | {k for k, v in self.info.items()
                             if self.states is not None and v is self.states}

    # -- files and other libraries ---------------------------------------------------
    #: Version of the layout that :meth:`save` writes inside a heatbath.io file.
    FORMAT_VERSION = 1

    def to_state(self):
        """The trace as a plain dict of arrays, numbers and text (no pickle needed).

        What :meth:`save` writes, and what checkpoints hold; :meth:`from_state`
        rebuilds the trace. Numeric ``info`` entries are kept, others dropped.

        Examples
        --------
        >>> from heatbath.diagnostics import Trace
        >>> from heatbath.spin import Ising, MetropolisSampler
        >>> trace = MetropolisSampler(Ising((4, 4)), temperature=2.0, n_chains=2, seed=0).run(5)
        >>> again = Trace.from_state(trace.to_state())
        >>> bool((again["energy"] == trace["energy"]).all())
        True
        """
        aliases = self._state_aliases()
        info = {k: v for k, v in self.info.items()
                if k not in self.counts and k not in _RATIOS and k not in aliases
                and np.asarray(v).dtype.kind in "biufU"}
        state = {"observables": dict(self.observables), "acceptance_rate": self.acceptance_rate,
                 "final_state": self.final_state, "temperature": self.temperature,
                 "n_units": self.n_units, "counts": dict(self.counts), "info": info}
        if self.states is not None:
            state["states"] = self.states
            # info entries that are the states themselves (a continuous trace's "samples")
            state["state_aliases"] = " ".join(sorted(aliases - {"states"}))
        return state

    @classmethod
    def from_state(cls, state):
        """Rebuild a trace from :meth:`to_state` (missing ``info``, ``counts`` or ``states``: none)."""
        try:
            arrays = lambda d: {k: np.asarray(v) for k, v in d.items()}  # noqa: E731
            counts = arrays(state.get("counts", {}))
            states = np.asarray(state["states"]) if "states" in state else None
            info = dict(state.get("info", {}))
            if states is not None:
                info.update(dict.fromkeys(str(state.get("state_aliases", "")).split(), states))
            return cls(arrays(state.get("observables", {})),
                       None if "attempted" in counts else np.asarray(state["acceptance_rate"]),
                       np.asarray(state["final_state"]), np.asarray(state["temperature"]),
                       int(state["n_units"]), info, counts=counts, states=states)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a complete trace state (missing {exc})") from None

    def save(self, path):
        """Write the trace to ``path`` (.npz, no pickle, atomic; :mod:`heatbath.io`).

        Examples
        --------
        >>> import os, tempfile
        >>> from heatbath.diagnostics import Trace
        >>> from heatbath.spin import Ising, MetropolisSampler
        >>> trace = MetropolisSampler(Ising((4, 4)), temperature=2.0, n_chains=2, seed=0).run(5)
        >>> path = os.path.join(tempfile.mkdtemp(), "trace.npz")
        >>> trace.save(path)
        >>> bool((Trace.load(path)["energy"] == trace["energy"]).all())
        True
        """
        from heatbath import io

        io.save_arrays(path, "heatbath.Trace",
                       {"layout_version": self.FORMAT_VERSION, **self.to_state()})

    @classmethod
    def load(cls, path):
        """Read a trace written by :meth:`save`."""
        from heatbath import io

        data = io.load_arrays(path, "heatbath.Trace")
        try:
            if int(data["layout_version"]) > cls.FORMAT_VERSION:
                raise ValueError(f"{path!r} holds a trace of layout {data['layout_version']}; "
                                 f"this heatbath reads up to {cls.FORMAT_VERSION}")
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{path!r} is not a complete trace (missing {exc})") from None
        try:
            return cls.from_state(data)
        except ValueError as exc:
            raise ValueError(f"{path!r} is not a complete trace ({exc})") from None

    def to_xarray(self):
        """The observables as an ``xarray.Dataset`` with dims ``(chain, draw)``.

        ArviZ's order: one row per chain. Recorded states, when present, are
        the variable ``states`` with dims ``(chain, draw, unit)``. Needs
        xarray (``pip install heatbath[arviz]``).
        """
        try:
            import xarray as xr
        except ImportError:
            raise ImportError("Trace.to_xarray needs xarray: pip install 'heatbath[arviz]'") \
                from None
        data = {k: (("chain", "draw"), np.asarray(v).T) for k, v in self.observables.items()}
        if self.states is not None:
            data["states"] = (("chain", "draw", "unit"), np.moveaxis(self.states, 0, 1))
        coords = {"chain": np.arange(self.n_chains), "draw": np.arange(self.n_recorded)}
        return xr.Dataset(data, coords=coords,
                          attrs={"n_units": self.n_units, "inference_library": "heatbath"})

    def to_arviz(self):
        """The trace as an ``arviz.InferenceData`` (posterior group, dims (chain, draw)).

        Each observable is a posterior variable of dims ``(chain, draw)``;
        recorded states (the configurations, or a continuous sampler's
        positions) are the variable ``states`` of dims ``(chain, draw, unit)``,
        so ArviZ's summaries, ESS and R-hat apply per unit. Needs ArviZ
        (``pip install heatbath[arviz]``).
        """
        try:
            import arviz as az
        except ImportError:
            raise ImportError("Trace.to_arviz needs ArviZ: pip install 'heatbath[arviz]'") \
                from None
        posterior = {k: np.asarray(v).T for k, v in self.observables.items()}
        dims = None
        if self.states is not None:
            posterior["states"] = np.moveaxis(self.states, 0, 1)
            dims = {"states": ["unit"]}
        return az.from_dict(posterior=posterior, dims=dims,
                            attrs={"n_units": self.n_units, "inference_library": "heatbath"})

    def mean(self, name):
        """Mean of an observable over all recorded samples and chains."""
        return float(self.observables[name].mean())

    def stderr(self, name):
        """Standard error of :meth:`mean`, from tau_int."""
        return stderr(self.observables[name])

    def tau_int(self, name):
        """Integrated autocorrelation time, in recorded samples."""
        return tau_int(self.observables[name])

    def ess(self, name):
        """Effective sample size of an observable."""
        return ess(self.observables[name])

    def rhat(self, name):
        """Split R-hat of an observable across chains."""
        return split_rhat(self.observables[name])
