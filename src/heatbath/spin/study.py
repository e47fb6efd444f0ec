"""An Ising study: one run with observables, exact values, diagnostics and checkpoints.

:func:`run_ising` builds the lattice and the sampler, runs it (in
checkpointed pieces if asked, continuing bit for bit after a kill), and
returns an :class:`IsingResult`: the observables with standard errors, the
exact values wherever one is known, the mixing diagnostics, and warnings when
the chains have not mixed. ``heatbath ising`` is a thin wrapper around it, and
:func:`heatbath.plot.observables_vs_temperature` plots a list of results.
"""

import os
import time
from dataclasses import dataclass, field

import numpy as np

from heatbath import _validation
from heatbath.spin import exact
from heatbath.spin.models import Ising
from heatbath.spin.observables import thermodynamics
from heatbath.spin.multispin import MultispinSampler
from heatbath.spin.samplers import HeatBathSampler, MetropolisSampler, WolffSampler
from heatbath.spin.swendsen_wang import SwendsenWangSampler

__all__ = ["IsingResult", "run_ising", "ALGORITHMS", "RHAT_THRESHOLD", "MIN_TAU_MULTIPLE",
           "estimate_memory"]

ALGORITHMS = {"metropolis": MetropolisSampler, "heatbath": HeatBathSampler,
              "wolff": WolffSampler, "multispin": MultispinSampler,
              "swendsen-wang": SwendsenWangSampler}

#: R-hat(E) above this says the chains disagree: not mixed.
RHAT_THRESHOLD = 1.05
#: A run shorter than this many tau_int gives unreliable errors.
MIN_TAU_MULTIPLE = 50

OBSERVABLES = ("energy_per_spin", "abs_magnetization", "magnetization_squared",
               "specific_heat", "susceptibility", "binder")


@dataclass
class IsingResult:
    """The result of :func:`run_ising`.

    Attributes
    ----------
    model : heatbath.spin.Ising
    algorithm : str
    temperature : float
    n_sweeps, burn_in, n_chains : int
    seed : int or None
        The seed given (None if none was).
    seed_entropy : int
        The entropy actually used; ``run_ising(..., seed=seed_entropy)``
        reproduces the run.
    n_threads : int
    observables : dict of str -> (float, float)
        Value and standard error per observable, as
        :func:`heatbath.spin.thermodynamics` gives them.
    tau_int_energy, tau_int_abs_magnetization : float
        In sweeps, never below 0.5.
    acceptance_rate : float
    rhat_energy : float or None
        Split R-hat of the energy over chains (None below 4 sweeps).
    exact : dict of str -> float
        Exact values where one is known for this model (empty otherwise).
    warnings : list of str
        Why the chains may not have mixed, and what to change.
    seconds, flips_per_second : float
    clusters_per_sweep : int or None
        Wolff only.
    mean_cluster_size : float or None
        Wolff only.
    trace : heatbath.diagnostics.Trace

    Examples
    --------
    >>> from heatbath.spin.study import run_ising
    >>> r = run_ising(8, temperature=3.0, n_sweeps=200, burn_in=50, n_chains=2, seed=0)
    >>> e, err = r.observables["energy_per_spin"]
    >>> abs(e - r.exact["finite_energy_per_spin"]) < 5 * err
    True
    """

    model: Ising
    algorithm: str
    temperature: float
    n_sweeps: int
    burn_in: int
    n_chains: int
    seed: object
    seed_entropy: int
    n_threads: int
    observables: dict
    tau_int_energy: float
    tau_int_abs_magnetization: float
    acceptance_rate: float
    rhat_energy: object
    exact: dict
    warnings: list
    seconds: float
    flips_per_second: float
    trace: object = field(repr=False)
    clusters_per_sweep: object = None
    mean_cluster_size: object = None

    @property
    def size(self):
        """Lattice side L."""
        return int(self.model.shape[0])

    def to_dict(self):
        """Plain ``dict`` of the result (the ``heatbath ising --json`` fields).

        Examples
        --------
        >>> from heatbath.spin.study import run_ising
        >>> d = run_ising(4, n_sweeps=10, n_chains=2, seed=1).to_dict()
        >>> d["model"]["n_spins"], d["n_sweeps"], d["seed"]
        (16, 10, 1)
        """
        m = self.model
        out = {"model": {"size": self.size, "dim": len(m.shape), "J": float(m.J),
                         "h": float(m.h), "periodic": all(m.periodic),
                         "n_spins": int(m.n_spins)},
               "algorithm": self.algorithm, "temperature": self.temperature,
               "n_sweeps": self.n_sweeps, "burn_in": self.burn_in, "n_chains": self.n_chains,
               "seed": self.seed, "seed_entropy": self.seed_entropy,
               "n_threads": self.n_threads}
        for name, (value, err) in self.observables.items():
            out[name], out[name + "_stderr"] = value, err
        out.update(acceptance_rate=self.acceptance_rate, tau_int_energy=self.tau_int_energy,
                   tau_int_abs_magnetization=self.tau_int_abs_magnetization,
                   rhat_energy=self.rhat_energy, mixed=not self.warnings,
                   warnings=list(self.warnings), flips_per_second=self.flips_per_second,
                   seconds=self.seconds)
        if self.algorithm == "wolff":
            out.update(clusters_per_sweep=self.clusters_per_sweep,
                       mean_cluster_size=self.mean_cluster_size)
        out["exact"] = dict(self.exact)
        return out


def exact_values(model, temperature):
    """Exact values known for ``model`` at ``temperature``: finite size and infinite.

    Keys (where known): ``finite_energy_per_spin``, ``finite_specific_heat``,
    ``infinite_energy_per_spin``, ``infinite_specific_heat``,
    ``infinite_abs_magnetization``, ``critical_temperature``. Known: the 2D
    torus (Kaufman; Onsager, Yang) and the 1D ring or open chain in zero
    field; for other models the dict is empty.

    Examples
    --------
    >>> from heatbath.spin import Ising
    >>> from heatbath.spin.study import exact_values
    >>> ex = exact_values(Ising((1000,)), 1.0)
    >>> round(ex["infinite_energy_per_spin"], 6)      # -tanh(1)
    -0.761594
    """
    J, h = float(model.J), float(model.h)
    dim, T = len(model.shape), float(temperature)
    if h != 0.0 or J <= 0 or not np.isfinite(T):
        return {}
    if dim == 1:
        n = int(model.shape[0])
        fin = exact.chain_thermodynamics(n, T, J=J, periodic=all(model.periodic))
        inf = exact.chain_thermodynamics(None, T, J=J)
        return {"finite_energy_per_spin": fin["energy_per_spin"],
                "finite_specific_heat": fin["specific_heat"],
                "infinite_energy_per_spin": inf["energy_per_spin"],
                "infinite_specific_heat": inf["specific_heat"],
                "infinite_abs_magnetization": 0.0}
    if dim == 2:
        out = {}
        if all(model.periodic):
            ex = exact.torus_thermodynamics(tuple(model.shape), T, J=J)
            out.update(finite_energy_per_spin=ex["energy_per_spin"],
                       finite_specific_heat=ex["specific_heat"])
        out.update(infinite_energy_per_spin=exact.onsager_energy(T, J),
                   infinite_specific_heat=exact.onsager_specific_heat(T, J),
                   infinite_abs_magnetization=exact.yang_magnetization(T, J),
                   critical_temperature=exact.critical_temperature(J))
        return out
    return {}


# Bytes per spin per chain held at once: the int8 spins, the neighbour table
# of the model (shared by the chains, counted per chain as an upper bound)
# and the sampler's per-chain work arrays (Wolff's stack and marks).
_BYTES_PER_SPIN = {"metropolis": 1, "heatbath": 1, "wolff": 1 + 4 + 1, "multispin": 1,
                   "swendsen-wang": 1 + 4 + 4 + 1}


def estimate_memory(shape, n_chains, algorithm):
    """Bytes a run needs: per-chain state plus the model's neighbour table.

    Examples
    --------
    >>> from heatbath.spin.study import estimate_memory
    >>> estimate_memory((1024, 1024), 8, "metropolis") > 8 * 1024**2
    True
    """
    n = int(np.prod(shape))
    # neighbour table (int32, 2 dim columns) and sweep order (int32)
    table = n * 4 * (2 * len(shape) + 1)
    return n_chains * n * _BYTES_PER_SPIN[algorithm] + table


def _available_memory():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _check_memory(shape, n_chains, algorithm):
    need = estimate_memory(shape, n_chains, algorithm)
    have = _available_memory()
    if have is not None and need > have:
        side = "x".join(map(str, shape))
        raise MemoryError(f"a {side} lattice with {n_chains} chains ({algorithm}) needs about "
                          f"{need / 2**30:.1f} GiB and {have / 2**30:.1f} GiB is available: "
                          "use a smaller size or fewer chains")
    return need


def _size_wolff_sweep(sampler, equilibrate=10, measure=5):
    """Set ``clusters_per_sweep`` so that one sweep flips about N spins, at equilibrium.

    From a random start the first clusters are small, and a size taken from
    them asks for far too many clusters (hundreds of N spins per sweep at
    L = 128). The pilot therefore runs batches of clusters, starting from
    one and at most doubling, each sized from the latest mean cluster size to
    flip about N/4 spins, until each
    chain has flipped ``equilibrate`` N spins; then ``measure`` sweeps at the
    resulting size give the mean cluster size that fixes the sweep. The pilot
    is burn-in; the measured run keeps one fixed size (a fixed schedule keeps
    the chain unbiased).
    """
    n = sampler.model.n_spins
    chains = sampler.n_chains

    def mean_size(trace):
        return max(1.0, float(np.sum(trace.info["flipped"])
                              / max(1, np.sum(trace.info["clusters"]))))

    size, flipped, cps = 1.0, 0.0, 1
    while flipped < equilibrate * n:
        # at most twice the last batch: clusters can grow fast from a random start
        cps = max(1, min(2 * cps, int(round(n / (4 * size)))))
        sampler.clusters_per_sweep = cps
        t = sampler.run(0, burn_in=1)
        size = mean_size(t)
        flipped += float(np.sum(t.info["flipped"])) / chains
    sampler.clusters_per_sweep = max(1, int(round(n / size)))
    size = mean_size(sampler.run(0, burn_in=measure))
    sampler.clusters_per_sweep = max(1, int(round(n / size)))
    return sampler.clusters_per_sweep


def _settings(**kw):
    return {k: str(v) for k, v in kw.items()}


def _run_pieces(sampler, n_sweeps, burn_in, verbose, checkpoint, every, resume, settings):
    """``sampler.run(n_sweeps, burn_in)``, in pieces of ``every`` sweeps saved to ``checkpoint``.

    The chains continue bit for bit across pieces and across a kill and
    resume; the pieces are joined with :meth:`Trace.concatenate`, and the
    checkpoint (sampler state plus the trace so far) is written atomically
    after every piece.
    """
    from heatbath import io
    from heatbath.diagnostics import Trace

    done_burn = done = 0
    trace = None
    if resume and os.path.exists(checkpoint):
        state = io.load_state(checkpoint)
        for key, value in settings.items():
            if state["settings"].get(key) != value:
                raise ValueError(f"cannot resume from {checkpoint!r}: it was run with "
                                 f"{key}={state['settings'].get(key)}, this run has "
                                 f"{key}={value}")
        sampler.set_state(state["sampler"])
        if isinstance(sampler, WolffSampler):
            sampler.clusters_per_sweep = int(state["clusters_per_sweep"])
        if int(state["burn_in_done"]) + int(state["sweeps_done"]) > 0:
            trace = Trace.from_state(state["trace"])
        done_burn, done = int(state["burn_in_done"]), int(state["sweeps_done"])
    bar = None
    if verbose:
        from tqdm.auto import tqdm
        bar = tqdm(total=burn_in + n_sweeps, initial=done_burn + done, unit="sweep",
                   desc=f"{type(sampler).__name__} x{sampler.n_chains}")
    try:
        while done_burn < burn_in or done < n_sweeps:
            b = min(every, burn_in - done_burn)
            m = min(every - b, n_sweeps - done)
            piece = sampler.run(m, burn_in=b)
            trace = piece if trace is None else Trace.concatenate([trace, piece])
            done_burn, done = done_burn + b, done + m
            io.save_state(checkpoint, {
                "settings": settings, "sampler": sampler.get_state(),
                "trace": trace.to_state(), "burn_in_done": done_burn,
                "sweeps_done": done,
                "clusters_per_sweep": getattr(sampler, "clusters_per_sweep", 0)})
            if bar is not None:
                bar.update(b + m)
    finally:
        if bar is not None:
            bar.close()
    return trace if trace is not None else sampler.run(0)


def mixing_warnings(rhat, tau_int, n_sweeps, algorithm):
    """Why a run's chains may not have mixed, with what to change (empty if none).

    Two checks: split R-hat of the energy above :data:`RHAT_THRESHOLD`, and
    a run shorter than :data:`MIN_TAU_MULTIPLE` times the largest tau_int.

    Examples
    --------
    >>> from heatbath.spin.study import mixing_warnings
    >>> mixing_warnings(1.01, 2.0, 1000, "metropolis")
    []
    >>> len(mixing_warnings(1.2, 2.0, 1000, "metropolis"))
    1
    """
    out = []
    hint = (" near T_c, --algorithm wolff mixes far faster" if algorithm != "wolff" else "")
    if rhat is not None and rhat > RHAT_THRESHOLD:
        out.append(f"R-hat(E) = {rhat:.3f} > {RHAT_THRESHOLD}: the chains disagree, they have "
                   "not forgotten their start; raise --burn-in" + ("," if hint else "") + hint)
    if tau_int is not None and n_sweeps < MIN_TAU_MULTIPLE * tau_int:
        out.append(f"the run ({n_sweeps} sweeps) is shorter than {MIN_TAU_MULTIPLE} tau_int "
                   f"({MIN_TAU_MULTIPLE} x {tau_int:.1f} = {MIN_TAU_MULTIPLE * tau_int:.0f} "
                   "sweeps): the error bars are unreliable; raise --n-sweeps"
                   + ("," if hint else "") + hint)
    return out


def run_ising(size, *, dim=2, temperature=2.269, n_sweeps=1000, burn_in=200, n_chains=8,
              algorithm="metropolis", seed=None, n_threads=None, coupling=1.0, field=0.0,
              periodic=True, clusters_per_sweep=None, verbose=False, checkpoint=None,
              checkpoint_every=1000, resume=False, executor=None, block_size=None):
    """Run an Ising simulation; return observables, diagnostics and exact values.

    Parameters
    ----------
    size : int
        Lattice side L; the lattice is L**dim.
    dim : int, default=2
    temperature : float, default=2.269
    n_sweeps : int, default=1000
        Recorded sweeps per chain.
    burn_in : int, default=200
        Sweeps discarded first. Not scaled with the lattice: near T_c,
        Metropolis needs of order L**2.2 sweeps to equilibrate; the result's
        ``warnings`` say when it did not.
    n_chains : int, default=8
    algorithm : {"metropolis", "heatbath", "wolff"}
    seed : int, optional
        None draws fresh entropy, recorded as ``seed_entropy``.
    n_threads : int, optional
    coupling, field : float
        J and h.
    periodic : bool, default=True
    clusters_per_sweep : int, optional
        Wolff only. Default: chosen after an equilibrating pilot so that one
        sweep flips about L**dim spins, then fixed.
    verbose : bool
        Progress bar.
    checkpoint : path, optional
        Save the chains and the trace so far here (atomically) every
        ``checkpoint_every`` sweeps.
    resume : bool
        Continue an existing ``checkpoint`` bit for bit.
    executor : Executor or dask.distributed.Client, optional
        Run the chains in blocks of ``block_size`` on it
        (:class:`heatbath.distributed.BlockSampler`): the same numbers. The
        Wolff pilot runs here. Not with ``checkpoint`` (Dask reschedules a
        lost block).

    Returns
    -------
    IsingResult

    Examples
    --------
    >>> from heatbath.spin.study import run_ising
    >>> r = run_ising(6, dim=1, temperature=1.0, n_sweeps=300, n_chains=4, seed=2)
    >>> sorted(r.exact)[:2]
    ['finite_energy_per_spin', 'finite_specific_heat']
    """
    size = _validation.check_int(size, "size", minimum=1)
    dim = _validation.check_int(dim, "dim", minimum=1)
    n_sweeps = _validation.check_int(n_sweeps, "n_sweeps", minimum=0)
    burn_in = _validation.check_int(burn_in, "burn_in", minimum=0)
    n_chains = _validation.check_int(n_chains, "n_chains", minimum=1)
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {sorted(ALGORITHMS)}, got {algorithm!r}")
    if clusters_per_sweep is not None:
        clusters_per_sweep = _validation.check_int(clusters_per_sweep, "clusters_per_sweep",
                                                   minimum=1)
    if checkpoint is not None:
        checkpoint_every = _validation.check_int(checkpoint_every, "checkpoint_every",
                                                 minimum=1)
        if executor is not None:
            raise ValueError("checkpoint and executor: a distributed run is not checkpointed "
                             "here (Dask reschedules a lost block); drop one of them")
    seed_sequence = np.random.SeedSequence(seed)
    shape = (size,) * dim
    model = Ising(shape, J=coupling, h=field, periodic=periodic)
    _check_memory(shape, n_chains, algorithm)
    kwargs = {"clusters_per_sweep": clusters_per_sweep or 1} if algorithm == "wolff" else {}
    sampler = ALGORITHMS[algorithm](model, temperature=temperature, n_chains=n_chains,
                                    seed=seed_sequence.entropy, n_threads=n_threads, **kwargs)
    start = time.perf_counter()
    resuming = bool(resume and checkpoint and os.path.exists(checkpoint))
    if algorithm == "wolff" and clusters_per_sweep is None and not resuming:
        _size_wolff_sweep(sampler)
    if executor is not None:
        from heatbath.distributed import BlockSampler

        sampler = BlockSampler.wrap(sampler, executor=executor, block_size=block_size,
                                    n_threads=n_threads)
    if checkpoint is None:
        trace = sampler.run(n_sweeps, burn_in=burn_in, verbose=verbose)
    else:
        settings = _settings(size=size, dim=dim, temperature=temperature, sweeps=n_sweeps,
                             burn_in=burn_in, chains=n_chains, algorithm=algorithm,
                             seed=seed_sequence.entropy, coupling=coupling, field=field,
                             periodic=periodic)
        trace = _run_pieces(sampler, n_sweeps, burn_in, verbose, checkpoint,
                            checkpoint_every, resume, settings)
    seconds = time.perf_counter() - start
    th = thermodynamics(trace)
    if algorithm == "wolff":
        flips = float(np.sum(trace.info["flipped"]))
    else:
        flips = float(n_chains * model.n_spins * (n_sweeps + burn_in))
    # tau_int is at least 0.5 sweeps (independent draws) by definition.
    tau_e = max(0.5, float(th["tau_int_energy"]))
    tau_m = max(0.5, float(th["tau_int_abs_magnetization"]))
    rhat = float(trace.rhat("energy")) if n_sweeps >= 4 else None
    import heatbath

    result = IsingResult(
        model=model, algorithm=algorithm, temperature=float(temperature),
        n_sweeps=n_sweeps, burn_in=burn_in, n_chains=n_chains, seed=seed,
        seed_entropy=int(seed_sequence.entropy),
        n_threads=heatbath.effective_n_threads(n_threads),
        observables={name: th[name] for name in OBSERVABLES},
        tau_int_energy=tau_e, tau_int_abs_magnetization=tau_m,
        acceptance_rate=float(th["acceptance_rate"]), rhat_energy=rhat,
        exact=exact_values(model, temperature),
        warnings=mixing_warnings(rhat, max(tau_e, tau_m), n_sweeps, algorithm),
        seconds=seconds, flips_per_second=flips / seconds if seconds > 0 else float("nan"),
        trace=trace)
    if algorithm == "wolff":
        result.clusters_per_sweep = int(sampler.clusters_per_sweep)
        result.mean_cluster_size = float(np.mean(trace.info["mean_cluster_size"]))
    return result
