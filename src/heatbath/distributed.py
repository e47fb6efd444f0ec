"""Past one machine: blocks of chains, scans, AIS runs, RBM sweeps and VMC sampling on workers.

Every piece of work here is cut into **blocks** that are pure functions of
their inputs, run on any :class:`concurrent.futures.Executor` (a
``ProcessPoolExecutor``, a ``ThreadPoolExecutor``, Dask's
``Client.get_executor()``) or a ``dask.distributed.Client``, and merged
**in a fixed order**, so the result is the single-process result bit for
bit, for any number of workers and any block size:

- :class:`BlockSampler` / :func:`run_chains`: independent chains of any
  sampler (spin samplers, multispin in blocks of 64, Wolff and
  Swendsen-Wang, the RBM Gibbs sampler, continuous samplers, the NQS
  Metropolis sampler). A block of chains is a function of (model, settings,
  the block's start state); the start state of chain ``i`` comes from stream
  ``i`` of the one ``SeedSequence`` (the client builds the chains once, as a
  local sampler would, and ships each block its rows). Traces are joined by
  :meth:`heatbath.diagnostics.Trace.concatenate` along the chains.
- :class:`BlockReplicaExchange`: replica exchange (parallel tempering) with
  its independent sets in blocks.
- :func:`ais`: AIS runs in blocks; block ``k`` uses exactly the streams runs
  ``k b .. (k+1) b - 1`` use locally (``SeedSequence.spawn`` keys), and
  :meth:`heatbath.rbm.estimators.Estimate.concatenate` joins them.
- :func:`scan_ising`: a temperature / field scan, one
  :func:`heatbath.spin.study.run_ising` per point.
- :func:`fit_rbms`: a hyper-parameter sweep of RBM training, one fit per setting.
- :func:`distribute_vmc`: the sampling and local-energy half of each VMC
  iteration on the workers; the optimiser (the SR solve) stays on the client.

Faults. Blocks are pure, so a block that Dask reschedules after a worker
died gives the same answer. With ``checkpoint_dir`` a block of chains saves
its chains and trace so far (atomically) every ``checkpoint_every`` sweeps,
and a rescheduled block resumes from there instead of restarting; the folder
must be one that every worker can reach (a shared file system on a cluster).

Threads. Inside a Dask worker ``n_threads=None`` means the threads that
worker was given (``--nthreads``), never the machine's core count; an
explicit ``n_threads`` is capped at that number. With a local
``ProcessPoolExecutor`` or ``ThreadPoolExecutor`` it means
``cores // max_workers``.

The workers must run the same heatbath version as the client: a Dask client
is checked before any work is sent (:func:`check_workers`), a process pool
or another plain executor too (:func:`check_executor`), and every block
checks its worker's version again before it runs.
"""

import concurrent.futures
import contextlib
import hashlib
import inspect
import os
import pickle
import weakref

import numpy as np

from heatbath import _random
from heatbath._openmp import _cpu_count, effective_n_threads
from heatbath._sampler import Sampler, pieces, progress
from heatbath._validation import check_int
from heatbath._version import __version__
from heatbath.diagnostics import Trace

__all__ = ["BlockSampler", "run_chains", "BlockReplicaExchange", "ais", "scan_ising", "fit_rbms",
           "distribute_vmc", "connect", "check_workers", "check_executor", "worker_threads",
           "SCHEDULER_TIMEOUT"]

#: Seconds :func:`connect` waits for a scheduler before it gives up.
SCHEDULER_TIMEOUT = 10.0
#: Inputs shared by every block (model, data) up to this size travel inside each
#: task; larger ones are scattered to the workers once per call.
INLINE_BYTES = 1 << 20
# Dask clients whose workers were checked, with the workers seen then.
_CHECKED: dict[int, frozenset] = {}
# Plain executors whose workers were checked (check_executor).
_CHECKED_EXECUTORS: "weakref.WeakSet" = weakref.WeakSet()

# State fields of the samplers: split along the chains, per 64-chain word block
# (multispin), or the same for every block. A field in none of these is an
# error (never a silent wrong merge): add it here with the sampler that has it.
# (continuous samplers repeat their diagonal mass matrix once per chain in the state)
_PER_CHAIN = {"stream_state", "temperature", "spins", "visible", "hidden", "x", "inv_mass"}
_PER_WORD = {"words"}
_SHARED = {"format_version", "kind", "n_sweeps_done", "algorithm", "step_size"}
# Trace.info entries of continuous samplers: per chain along this axis; other
# info entries must agree between blocks.
_INFO_CHAIN_AXIS = {"samples": 1, "mean_accept_prob": 0}
# Constructor keywords that are not settings of the chains' kernel.
_NOT_SETTINGS = {"self", "model", "wavefunction", "temperature", "n_chains", "seed",
                 "n_threads", "init"}


# -- executors ---------------------------------------------------------------------------
def _is_dask(obj):
    return type(obj).__module__.split(".")[0] == "distributed"


def _client_of(executor):
    """The Dask client behind ``executor`` (a Client or its executor), else None."""
    if executor is None or not _is_dask(executor):
        return None
    if hasattr(executor, "get_executor"):
        return executor
    return getattr(executor, "_client", None)


def check_workers(client):
    """Raise ``RuntimeError`` unless every worker of ``client`` runs this heatbath version.

    A worker without heatbath, or with another version, is named with what it
    has; returns the number of workers.

    Examples
    --------
    >>> from heatbath.distributed import check_workers
    >>> class Client:     # as dask's: run(fn, ...) -> {worker address: result}
    ...     def run(self, fn, *args, on_error):
    ...         return {"tcp://10.0.0.2:4000": "0.0.1"}
    >>> check_workers(Client())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    RuntimeError: Dask worker tcp://10.0.0.2:4000 has heatbath 0.0.1, this client has ...
    """
    # importlib.metadata.version is a stdlib function: it unpickles on a worker
    # where heatbath is missing or of another version, and says which.
    import importlib.metadata

    found = client.run(importlib.metadata.version, "heatbath", on_error="return")
    if not found:
        raise RuntimeError("the Dask cluster has no workers")
    for address, version in sorted(found.items()):
        if isinstance(version, BaseException):
            raise RuntimeError(f"Dask worker {address} cannot use heatbath (is it installed "
                               f"there?): {type(version).__name__}: {version}; this client has "
                               f"heatbath {__version__}")
        if version != __version__:
            raise RuntimeError(f"Dask worker {address} has heatbath {version}, this client has "
                               f"heatbath {__version__}: install the same version everywhere")
    return len(found)


def check_executor(executor, n_probes=None):
    """Raise ``RuntimeError`` unless the workers of ``executor`` run this heatbath version.

    For a plain :class:`concurrent.futures.Executor` (a ``ProcessPoolExecutor``,
    or one of another library): ``n_probes`` tasks (default: one per worker)
    ask a worker for its installed heatbath version with a standard-library
    call, so a worker without heatbath answers too. An executor spawns its
    processes as it likes, so the probes may miss one: every block checks its
    worker's version again before it runs. Returns the number of probes.

    Examples
    --------
    >>> from concurrent.futures import Future
    >>> from heatbath.distributed import check_executor
    >>> class Executor:        # its workers have heatbath 0.0.1
    ...     def submit(self, fn, *args):
    ...         f = Future()
    ...         f.set_result("0.0.1")
    ...         return f
    >>> check_executor(Executor(), 1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    RuntimeError: a worker of Executor has heatbath 0.0.1, this client has heatbath ...
    """
    import importlib.metadata

    n = n_probes or max(1, int(getattr(executor, "_max_workers", 1) or 1))
    name = type(executor).__name__
    futures = [executor.submit(importlib.metadata.version, "heatbath") for _ in range(n)]
    for f in futures:
        try:
            version = f.result()
        except Exception as exc:    # noqa: BLE001 - said in the error, whatever it is
            raise RuntimeError(f"a worker of {name} cannot use heatbath (is it installed "
                               f"there?): {type(exc).__name__}: {exc}; this client has "
                               f"heatbath {__version__}") from None
        if version != __version__:
            raise RuntimeError(f"a worker of {name} has heatbath {version}, this client has "
                               f"heatbath {__version__}: install the same version everywhere")
    return n


_WORKER_VERSION: list[str] = []


def _checked_block(fn, version, shared, task):
    """Run ``fn(shared, task)`` on a worker after checking its heatbath version (cached)."""
    if not _WORKER_VERSION:
        import importlib.metadata

        try:
            _WORKER_VERSION.append(importlib.metadata.version("heatbath"))
        except importlib.metadata.PackageNotFoundError:      # run from a source tree
            _WORKER_VERSION.append(__version__)
    if _WORKER_VERSION[0] != version:
        raise RuntimeError(f"worker process {os.getpid()} has heatbath {_WORKER_VERSION[0]}, "
                           f"this client has heatbath {version}: install the same version "
                           "everywhere")
    return fn(shared, task)


def worker_threads():
    """Threads of the Dask worker this runs on, or None outside a Dask worker.

    Examples
    --------
    >>> from heatbath.distributed import worker_threads
    >>> worker_threads() is None      # not inside a Dask worker
    True
    """
    try:
        from distributed import get_worker
        worker = get_worker()
    except (ImportError, ValueError):
        return None
    state = getattr(worker, "state", None)
    n = getattr(state, "nthreads", None) or getattr(worker, "nthreads", None)
    return int(n) if n else None


def _block_threads(n_threads, default):
    """Threads for one block, resolved on the worker: never more than the worker has."""
    have = worker_threads()
    if have is None:
        return default if n_threads is None else n_threads
    if n_threads is None:
        return have
    return max(1, min(effective_n_threads(n_threads), have))


class _Runner:
    """Submit blocks to an executor (or run them here) and return the results in order."""

    def __init__(self, executor):
        self.client = _client_of(executor)
        if self.client is not None:
            workers = frozenset(self.client.scheduler_info().get("workers", ()))
            if _CHECKED.get(id(self.client)) != workers or not workers:
                self.n_workers = check_workers(self.client)
                _CHECKED[id(self.client)] = workers
            self.n_workers = max(1, len(workers))
            self.executor = executor if isinstance(executor, concurrent.futures.Executor) \
                else self.client.get_executor()
            self.default_threads = None          # the worker's own (worker_threads)
        elif executor is None:
            self.n_workers, self.executor, self.default_threads = 1, None, None
        elif isinstance(executor, concurrent.futures.Executor):
            self.executor = executor
            self.n_workers = int(getattr(executor, "_max_workers", 1) or 1)
            self.default_threads = max(1, _cpu_count() // self.n_workers)
            # threads share this process (and its heatbath); other executors are checked
            if not isinstance(executor, concurrent.futures.ThreadPoolExecutor) and \
                    executor not in _CHECKED_EXECUTORS:
                check_executor(executor, self.n_workers)
                _CHECKED_EXECUTORS.add(executor)
        else:
            raise TypeError("executor must be None, a concurrent.futures.Executor or a "
                            f"dask.distributed Client, got {type(executor).__name__}")

    def share(self, obj):
        """An input that every block needs: inline if small, else sent to the workers once.

        Dask only: above :data:`INLINE_BYTES` it is scattered, broadcast (every
        worker holds a copy, so losing a worker loses no input).
        """
        if self.client is None or len(pickle.dumps(obj, protocol=5)) <= INLINE_BYTES:
            return obj
        return self.client.scatter([obj], broadcast=True, hash=False)[0]

    def map(self, fn, shared, tasks, verbose, desc):
        if self.executor is None:
            out = []
            with progress(verbose, len(tasks), unit="block", desc=desc) as bar:
                for task in tasks:
                    out.append(fn(shared, task))
                    bar.update(1)
            return out
        futures = [self.executor.submit(_checked_block, fn, __version__, shared, task)
                   for task in tasks]
        try:
            with progress(verbose, len(tasks), unit="block", desc=desc) as bar:
                for f in concurrent.futures.as_completed(futures):
                    f.result()            # the first failure stops the run
                    bar.update(1)
            return [f.result() for f in futures]
        finally:
            for f in futures:
                f.cancel()


def _blocks(n, block_size, n_workers, unit=1, name="block_size"):
    """[(start, stop)] covering range(n): one block per worker by default."""
    if block_size is None:
        per = -(-n // max(1, n_workers))
        block_size = -(-per // unit) * unit
    block_size = check_int(block_size, name, minimum=1)
    if block_size % unit:
        raise ValueError(f"{name} must be a multiple of {unit} for this sampler, got "
                         f"{block_size}")
    return [(a, min(n, a + block_size)) for a in range(0, n, block_size)]


def _digest(*parts):
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, dict):
            for key in sorted(part):
                h.update(str(key).encode())
                h.update(_digest(part[key]).encode())
        elif isinstance(part, np.ndarray):
            h.update(str((part.dtype.str, part.shape)).encode())
            h.update(np.ascontiguousarray(part).tobytes())
        else:
            h.update(pickle.dumps(part, protocol=4))
    return h.hexdigest()


# -- chains --------------------------------------------------------------------------------
def _lanes(cls):
    """Chains per indivisible group: blocks start at multiples of it."""
    from heatbath.rbm._layers import GIBBS_TILE
    from heatbath.rbm.model import GibbsSampler
    from heatbath.spin.multispin import LANES, MultispinSampler

    if issubclass(cls, MultispinSampler):
        return LANES            # 64 replicas per word, one stream per word
    if issubclass(cls, GibbsSampler):
        return GIBBS_TILE       # BLAS products in fixed tiles of chains
    return 1


def _split_state(state, start, stop, lanes):
    out = {}
    for key, value in state.items():
        if key in _PER_CHAIN:
            out[key] = np.asarray(value)[start:stop]
        elif key in _PER_WORD:
            out[key] = np.asarray(value)[start // lanes:-(-stop // lanes)]
        elif key in _SHARED:
            out[key] = value
        else:
            raise ValueError(f"heatbath.distributed does not know how to split the state "
                             f"field {key!r} (state kind {state.get('kind')!r})")
    return out


def _merge_states(states):
    out = {}
    for key in states[0]:
        values = [s[key] for s in states]
        if key in _PER_CHAIN or key in _PER_WORD:
            out[key] = np.concatenate([np.asarray(v) for v in values])
        elif all(np.array_equal(np.asarray(v), np.asarray(values[0])) for v in values[1:]):
            out[key] = values[0]
        else:
            raise ValueError(f"the blocks disagree on the shared state field {key!r}: a "
                             "block is not independent of the others")
    return out


def _merge_traces(traces):
    """Join block traces along the chains; per-chain info entries too (continuous samplers)."""
    merged = Trace.concatenate(traces, axis="chains")
    for key, value in traces[0].info.items():
        if key in merged.counts or key == "states" or key == "mean_cluster_size":
            continue
        if key in _INFO_CHAIN_AXIS:
            merged.info[key] = np.concatenate([t.info[key] for t in traces],
                                              axis=_INFO_CHAIN_AXIS[key])
        elif not all(np.array_equal(np.asarray(t.info[key]), np.asarray(value))
                     for t in traces[1:]):
            raise ValueError(f"the blocks' traces disagree on info[{key!r}]")
    return merged


def _settings_of(sampler, kwargs):
    """The constructor keywords that rebuild ``sampler``'s kernel settings on a worker."""
    names = []
    for klass in type(sampler).__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names += [p.name for p in params if p.kind is p.KEYWORD_ONLY
                  or (p.kind is p.POSITIONAL_OR_KEYWORD and p.name not in _NOT_SETTINGS)]
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    out = {}
    for name in dict.fromkeys(names):
        if name in _NOT_SETTINGS or name in kwargs:
            continue
        if not hasattr(sampler, name):
            raise TypeError(f"cannot tell the {type(sampler).__name__} setting {name!r}: pass "
                            f"it, {name}=..., to BlockSampler.wrap")
        out[name] = getattr(sampler, name)
    out.update(kwargs)
    return out


class _OnTheClient:
    """What a blocked runner shares with the local object (``_local``) it holds the work in."""

    @property
    def blocks(self):
        """The (start, stop) ranges of the blocks (chains, or replica-exchange sets)."""
        return list(self._ranges)

    def __getattr__(self, name):
        # the rest (spins, hamiltonian, temperatures, ...) from the local object
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._local, name)

    def get_state(self):
        """The same dict as the local object's ``get_state``."""
        return self._local.get_state()

    def set_state(self, state):
        """Restore a ``get_state`` dict (checked in full by the local object)."""
        self._local.set_state(state)


class BlockSampler(_OnTheClient):
    """Independent chains of any heatbath sampler, run in blocks on workers, same bits as local.

    ``BlockSampler(cls, model, temperature=..., n_chains=..., seed=...,
    **kwargs)`` takes the arguments of ``cls`` (a sampler class) and behaves
    like that sampler: :meth:`run` returns the trace that
    ``cls(model, ...).run(...)`` returns, bit for bit, whatever the executor,
    the number of workers and ``block_size``; a second :meth:`run`
    continues the same chains; :meth:`get_state` / :meth:`set_state` are the
    local sampler's. The client holds the chains between calls; each call
    ships block ``k`` its rows of the state (chains ``k b .. (k+1) b - 1``)
    and gets back its trace and its new state.

    Parameters
    ----------
    sampler : type
        The sampler class: a :class:`heatbath._sampler.Sampler` subclass
        (``heatbath.spin`` samplers, ``RBM`` Gibbs, NQS Metropolis) or a
        continuous sampler (``RWM``, ``MALA``, ``ULA``, ``HMC``).
    model : object
        What ``sampler`` samples.
    temperature, n_chains, seed
        As for ``sampler``.
    n_threads : int or None, default=None
        Threads per block on a worker (None: the worker's threads; see the
        module docstring). Never changes the results.
    executor : None, concurrent.futures.Executor or dask.distributed.Client
        None runs the blocks here, one after the other.
    block_size : int, optional
        Chains per block (default: one block per worker). A multiple of 64
        for the multispin sampler (64 replicas per word) and of 1024 for the
        RBM Gibbs sampler (its products go to BLAS in tiles of 1024 chains).
    checkpoint_dir : path, optional
        Folder (reachable from every worker) where each block of a
        :meth:`run` saves its progress every ``checkpoint_every`` sweeps; a
        rescheduled block resumes from it. Files are named by a digest of the
        block's work, so a repeated identical call finds them done.
    checkpoint_every : int, optional
        Sweeps between saves (default: a tenth of the run).
    **kwargs
        The sampler's own keywords (``clusters_per_sweep``, ``algorithm``,
        ``hamiltonian``, ``step_size``, ...).

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> from heatbath.spin import Ising, MetropolisSampler
    >>> from heatbath.distributed import BlockSampler
    >>> model = Ising((8, 8))
    >>> with ThreadPoolExecutor(2) as pool:
    ...     s = BlockSampler(MetropolisSampler, model, temperature=2.5, n_chains=6, seed=3,
    ...                      executor=pool, block_size=4)
    ...     trace = s.run(50, burn_in=10)
    >>> local = MetropolisSampler(model, temperature=2.5, n_chains=6, seed=3).run(50, burn_in=10)
    >>> bool((trace["energy"] == local["energy"]).all())
    True
    """

    def __init__(self, sampler, model, *, temperature=1.0, n_chains=1, seed=None,
                 n_threads=None, executor=None, block_size=None, checkpoint_dir=None,
                 checkpoint_every=None, **kwargs):
        if not isinstance(sampler, type):
            raise TypeError(f"sampler must be a sampler class, got {type(sampler).__name__} "
                            "(use BlockSampler.wrap for a sampler object)")
        local = sampler(model, temperature=temperature, n_chains=n_chains, seed=seed,
                        n_threads=n_threads, **kwargs)
        settings = {k: v for k, v in kwargs.items() if k != "init"}
        self._setup(local, settings, n_threads, executor, block_size, checkpoint_dir,
                    checkpoint_every)

    @classmethod
    def wrap(cls, sampler, *, n_threads=None, executor=None, block_size=None,
             checkpoint_dir=None, checkpoint_every=None, **kwargs):
        """Run an existing sampler's chains in blocks from now on (it holds them on the client).

        The sampler's settings (``clusters_per_sweep``, ``hamiltonian``,
        ``move``, ``step_size``, ...) are read from its attributes; pass any
        that it does not expose as keywords.

        Examples
        --------
        >>> from heatbath.spin import Ising, WolffSampler
        >>> from heatbath.distributed import BlockSampler
        >>> wolff = WolffSampler(Ising((8, 8)), temperature=2.3, n_chains=4, seed=1,
        ...                      clusters_per_sweep=3)
        >>> blocks = BlockSampler.wrap(wolff, block_size=2)   # reads clusters_per_sweep
        >>> blocks.run(10)["energy"].shape
        (10, 4)
        """
        self = cls.__new__(cls)
        self._setup(sampler, _settings_of(sampler, kwargs), n_threads, executor, block_size,
                    checkpoint_dir, checkpoint_every)
        return self

    def _setup(self, local, settings, n_threads, executor, block_size, checkpoint_dir,
               checkpoint_every):
        from heatbath.continuous.samplers import ContinuousSampler

        self._local = local
        self._settings = settings
        self._continuous = isinstance(local, ContinuousSampler)
        if not (isinstance(local, Sampler) or self._continuous):
            raise TypeError(f"{type(local).__name__} is not a heatbath sampler")
        if n_threads is not None:
            effective_n_threads(n_threads)
        self._block_n_threads = n_threads
        self._runner = _Runner(executor)
        self._lanes = _lanes(type(local))
        self._ranges = _blocks(local.n_chains, block_size, self._runner.n_workers, self._lanes)
        if checkpoint_dir is not None:
            os.makedirs(checkpoint_dir, exist_ok=True)
            if checkpoint_every is not None:
                checkpoint_every = check_int(checkpoint_every, "checkpoint_every", minimum=1)
        self._checkpoint_dir, self._checkpoint_every = checkpoint_dir, checkpoint_every

    # -- what a local sampler offers -----------------------------------------------------
    @property
    def sampler(self):
        """The client's sampler: it holds the chains between calls (do not run it meanwhile)."""
        return self._local

    @property
    def n_chains(self):
        return self._local.n_chains

    @property
    def n_threads(self):
        """Threads on the client (the local sampler's: VMC's SR solve uses them)."""
        return self._local.n_threads

    @property
    def model(self):
        return self._local.model

    @property
    def n_sweeps_done(self):
        return self._local.n_sweeps_done

    def run(self, n_sweeps, burn_in=0, thin=1, verbose=False, *, record_states=False):
        """``sampler.run(n_sweeps, burn_in, thin)`` in blocks; the progress bar counts blocks.

        Returns
        -------
        heatbath.diagnostics.Trace
            The local sampler's trace, bit for bit.
        """
        n_sweeps = check_int(n_sweeps, "n_sweeps", minimum=0)
        burn_in = check_int(burn_in, "burn_in", minimum=0)
        thin = check_int(thin, "thin", minimum=1)
        if self._continuous:
            if record_states:
                raise ValueError("continuous samplers record positions in trace.info['samples']")
            if burn_in and self._local.adapt and self._local.target_accept is not None:
                raise ValueError(
                    "burn-in tuning pools the acceptance of all chains, so blocks cannot tune "
                    "apart: run the burn-in first (sampler.run(0, burn_in=...) on the client, "
                    "then BlockSampler.wrap(sampler)), or pass adapt=False")
            args = {"n_sweeps": n_sweeps, "burn_in": burn_in, "thin": thin}
        else:
            args = {"n_sweeps": n_sweeps, "burn_in": burn_in, "thin": thin,
                    "record_states": bool(record_states)}
        every = self._checkpoint_every
        if self._checkpoint_dir is not None and every is None:
            every = max(1, (burn_in + n_sweeps) // 10)
        results = self._call("run", args, verbose, every)
        return _merge_traces([r for r in results])

    def sample(self, n_sweeps, burn_in=0, thin=1):
        """The NQS sampler's raw records (``sample``), in blocks, chain-major as locally.

        This is what :class:`heatbath.nqs.VMC` calls each iteration
        (:func:`distribute_vmc`).
        """
        if not hasattr(self._local, "sample"):
            raise AttributeError(f"{type(self._local).__name__} has no sample method")
        results = self._call("sample", {"n_sweeps": n_sweeps, "burn_in": burn_in,
                                        "thin": thin}, False, None)
        return tuple(np.concatenate([r[i] for r in results]) for i in range(len(results[0])))

    def _call(self, method, args, verbose, every):
        state = self._local.get_state()
        cls = type(self._local)
        model = self._local.model
        shared = self._runner.share((cls, model, self._settings))
        tasks = []
        fingerprint = None
        if self._checkpoint_dir is not None and method == "run":
            fingerprint = _digest(cls.__module__ + cls.__qualname__, model, self._settings,
                                  args)
        for k, (a, b) in enumerate(self._ranges):
            block = _split_state(state, a, b, self._lanes)
            task = {"n_chains": b - a, "state": block, "method": method, "args": args,
                    "n_threads": self._block_n_threads,
                    "default_threads": self._runner.default_threads,
                    "temperature": block.get("temperature", 1.0)}
            if fingerprint is not None:
                key = _digest(fingerprint, block, a, b)
                task.update(checkpoint=os.path.join(self._checkpoint_dir,
                                                    f"chains-{a}-{b}-{key[:16]}.npz"),
                            every=every, key=key)
            tasks.append(task)
        out = self._runner.map(_chain_block, shared, tasks, verbose,
                               f"{cls.__name__} x{self.n_chains}")
        self._local.set_state(_merge_states([new for _, new in out]))
        return [result for result, _ in out]


def _chain_block(shared, task):
    """One block of chains on a worker: build, restore the block's state, run, return."""
    cls, model, settings = shared
    n_threads = _block_threads(task["n_threads"], task["default_threads"])
    sampler = cls(model, temperature=task["temperature"], n_chains=task["n_chains"], seed=0,
                  n_threads=n_threads, **settings)
    sampler.set_state(task["state"])
    if task["method"] == "sample":
        return sampler.sample(**task["args"]), sampler.get_state()
    if task.get("checkpoint") is None:
        return sampler.run(**task["args"]), sampler.get_state()
    return _run_checkpointed(sampler, task), sampler.get_state()


class _Checkpoint:
    """One block's checkpoint file: resumed when it holds the same block work (``key``).

    Each save also records how the block got there: ``resumes`` (attempts that
    started from this file), ``resumed_at`` (the work done when the current
    attempt started: 0 for a fresh start) and ``attempt_work`` (the work this
    attempt has done), so a test, or a user, can see that a rescheduled block
    resumed instead of redoing the work. Any other file at the path is
    overwritten.
    """

    KIND = "heatbath.distributed.block"

    def __init__(self, path, key):
        from heatbath import io

        self._io, self.path, self.key = io, path, key
        self.saved, self.resumes = None, 0
        if os.path.exists(path):
            try:
                saved = io.load_arrays(path, self.KIND)
            except ValueError:
                saved = None
            if saved is not None and saved.get("key") == key:
                self.saved, self.resumes = saved, int(saved["resumes"]) + 1
        self.resumed_at = int(self.saved["work_done"]) if self.saved is not None else 0

    def save(self, work_done, payload):
        self._io.save_arrays(self.path, self.KIND, dict(
            payload, key=self.key, work_done=work_done, resumes=self.resumes,
            resumed_at=self.resumed_at, attempt_work=work_done - self.resumed_at,
            pid=os.getpid()))


def _run_checkpointed(sampler, task):
    """``sampler.run(**args)`` in pieces of ``every`` sweeps, saved atomically after each.

    A checkpoint of the same block work (same key) is resumed. The pieces join
    bit for bit (the sampler core guarantees cut invariance,
    :meth:`Trace.concatenate` the join; a continuous sampler carries its
    acceptance sums from piece to piece, so ``info["mean_accept_prob"]`` is the
    whole run's).
    """
    from heatbath.continuous.samplers import ContinuousSampler

    args = task["args"]
    burn_in, n_sweeps, thin = args["burn_in"], args["n_sweeps"], args["thin"]
    continuous = isinstance(sampler, ContinuousSampler)
    run_kw = {} if continuous else {"record_states": args["record_states"]}
    point = _Checkpoint(task["checkpoint"], task["key"])
    done_burn = done = 0
    trace = acc = None
    if point.saved is not None:
        saved = point.saved
        sampler.set_state(saved["state"])
        done_burn, done = int(saved["burn_in_done"]), int(saved["sweeps_done"])
        if "trace" in saved:
            trace = Trace.from_state(saved["trace"])
        acc = saved.get("acc_sum")
    for b, n, t in pieces(burn_in - done_burn, n_sweeps - done, thin, task["every"]):
        if b + n == 0 and trace is not None:
            break
        if continuous:
            sampler._run_carry = (np.zeros(sampler.n_chains) if acc is None else acc, done)
        piece = sampler.run(n, burn_in=b, thin=t, **run_kw)
        trace = piece if trace is None else Trace.concatenate([trace, piece])
        done_burn, done = done_burn + b, done + n
        extra = {}
        if continuous:
            extra["acc_sum"] = acc = sampler._acc_sum.copy()
            trace.info["mean_accept_prob"] = piece.info["mean_accept_prob"]
        point.save(done_burn + done, dict(extra, state=sampler.get_state(),
                                          trace=trace.to_state(), burn_in_done=done_burn,
                                          sweeps_done=done))
    return trace


def run_chains(sampler, model, *, n_sweeps, burn_in=0, thin=1, temperature=1.0, n_chains=1,
               seed=None, n_threads=None, executor=None, block_size=None, record_states=False,
               checkpoint_dir=None, checkpoint_every=None, verbose=False, **kwargs):
    """``sampler(model, ...).run(n_sweeps, burn_in, thin)`` with the chains in blocks on workers.

    The same trace as the local run, bit for bit (see :class:`BlockSampler`,
    which takes the same arguments and keeps the chains for further runs).

    Examples
    --------
    >>> from heatbath.spin import Ising, WolffSampler
    >>> from heatbath.distributed import run_chains
    >>> kw = dict(temperature=2.3, n_chains=4, seed=7, clusters_per_sweep=3)
    >>> trace = run_chains(WolffSampler, Ising((8, 8)), n_sweeps=20, block_size=3, **kw)
    >>> local = WolffSampler(Ising((8, 8)), **kw).run(20)
    >>> bool((trace["magnetization"] == local["magnetization"]).all())
    True
    """
    blocks = BlockSampler(sampler, model, temperature=temperature, n_chains=n_chains,
                          seed=seed, n_threads=n_threads, executor=executor,
                          block_size=block_size, checkpoint_dir=checkpoint_dir,
                          checkpoint_every=checkpoint_every, **kwargs)
    extra = {"record_states": True} if record_states else {}
    return blocks.run(n_sweeps, burn_in=burn_in, thin=thin, verbose=verbose, **extra)


# -- replica exchange ------------------------------------------------------------------------
class BlockReplicaExchange(_OnTheClient):
    """Replica exchange with its sets in blocks on workers, the same bits as one process.

    The sets of a :class:`heatbath.spin.ReplicaExchange` are independent
    ensembles: set ``s`` holds one replica per temperature (chains
    ``s n_T .. (s+1) n_T - 1``, each on its own stream) and swaps only among
    them. Block ``k`` runs sets ``k b .. (k+1) b - 1`` as a replica exchange of
    its own, a pure function of (model, temperatures, its rows of the state);
    the swap uniforms come from the one swap stream, which every block draws
    in full (a few numbers per round) and of which it uses its sets' rows. The
    client merges the records (temperature-major columns), the swap counts,
    the walkers' round trips (in the order one process finds them) and the
    state, so :meth:`run` returns the trace ``ReplicaExchange(...).run(...)``
    returns, bit for bit, and a second :meth:`run` continues.

    Parameters
    ----------
    model, temperatures, n_sets, seed, algorithm, sweeps_per_swap, optimize
        As for :class:`heatbath.spin.ReplicaExchange`. The temperature
        feedback (``optimize``) pools the walkers of every set: run its
        burn-in on the client (``pt.run(0, burn_in=...)``, then
        :meth:`wrap`).
    n_threads : int or None
        Threads per block on a worker (None: the worker's).
    executor : None, concurrent.futures.Executor or dask.distributed.Client
    block_size : int, optional
        Sets per block (default: one block per worker).

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> from heatbath.spin import Ising, ReplicaExchange
    >>> from heatbath.distributed import BlockReplicaExchange
    >>> kw = dict(temperatures=[2.0, 2.3, 2.7], n_sets=5, seed=4)
    >>> with ThreadPoolExecutor(2) as pool:
    ...     pt = BlockReplicaExchange(Ising((6, 6)), executor=pool, block_size=2, **kw)
    ...     trace = pt.run(40, burn_in=10)
    >>> local = ReplicaExchange(Ising((6, 6)), **kw).run(40, burn_in=10)
    >>> bool((trace["energy"] == local["energy"]).all())
    True
    >>> bool((trace.info["swap_rates"] == local.info["swap_rates"]).all())
    True
    """

    def __init__(self, model, *, temperatures, n_sets=1, seed=None, n_threads=None,
                 algorithm="metropolis", sweeps_per_swap=1, optimize=False, executor=None,
                 block_size=None):
        from heatbath.spin.tempering import ReplicaExchange

        local = ReplicaExchange(model, temperatures=temperatures, n_sets=n_sets, seed=seed,
                                n_threads=n_threads, algorithm=algorithm,
                                sweeps_per_swap=sweeps_per_swap, optimize=optimize)
        self._setup(local, n_threads, executor, block_size)

    @classmethod
    def wrap(cls, exchange, *, n_threads=None, executor=None, block_size=None):
        """Run an existing ReplicaExchange's sets in blocks from now on (it holds them here).

        Examples
        --------
        >>> from heatbath.spin import BoltzmannMachine, ReplicaExchange
        >>> from heatbath.distributed import BlockReplicaExchange
        >>> sk = BoltzmannMachine.sherrington_kirkpatrick(12, seed=0)
        >>> pt = ReplicaExchange(sk, temperatures=[0.5, 0.8, 1.3], n_sets=4, seed=1,
        ...                      optimize=True)
        >>> _ = pt.run(0, burn_in=40)          # the temperature feedback, on the client
        >>> BlockReplicaExchange.wrap(pt, block_size=3).run(20)["energy"].shape
        (20, 12)
        """
        self = cls.__new__(cls)
        self._setup(exchange, n_threads, executor, block_size)
        return self

    def _setup(self, local, n_threads, executor, block_size):
        from heatbath.spin.tempering import ReplicaExchange

        if not isinstance(local, ReplicaExchange):
            raise TypeError(f"expected a heatbath.spin.ReplicaExchange, got "
                            f"{type(local).__name__}")
        if n_threads is not None:
            effective_n_threads(n_threads)
        self._local, self._block_n_threads = local, n_threads
        self._runner = _Runner(executor)
        self._ranges = _blocks(local.n_sets, block_size, self._runner.n_workers)

    @property
    def exchange(self):
        """The client's ReplicaExchange: it holds the sets between calls."""
        return self._local

    def run(self, n_sweeps, burn_in=0, verbose=False):
        """``ReplicaExchange.run`` with the sets in blocks; the progress bar counts blocks.

        Returns
        -------
        heatbath.diagnostics.Trace
            The local trace, bit for bit (columns temperature-major).
        """
        pt = self._local
        n_sweeps = check_int(n_sweeps, "n_sweeps", minimum=0)
        burn_in = check_int(burn_in, "burn_in", minimum=0)
        k = pt.sweeps_per_swap
        if n_sweeps % k or burn_in % k:
            raise ValueError(f"n_sweeps and burn_in must be multiples of sweeps_per_swap ({k})")
        if pt.optimize and burn_in:
            raise ValueError("the temperature feedback (optimize=True) pools the walkers of "
                             "every set, so blocks cannot tune apart: run the burn-in on the "
                             "client (exchange.run(0, burn_in=...)), then run in blocks")
        state = pt.get_state()
        n_t, S = state["temperatures"].size, pt.n_sets
        shared = self._runner.share((pt.model, {"algorithm": pt.algorithm,
                                                "sweeps_per_swap": k}))
        tasks = []
        for a, b in self._ranges:
            block = {key: state[key] for key in ("format_version", "sampler", "temperatures",
                                                 "swap_stream", "rounds")}
            block.update(chains=_split_state(state["chains"], a * n_t, b * n_t, 1),
                         slot=state["slot"][a:b], direction=state["direction"][a:b],
                         left_min=state["left_min"][a:b],
                         trip_sweeps=np.zeros(0, dtype=np.int64), n_up=np.zeros(n_t),
                         n_down=np.zeros(n_t))
            tasks.append({"state": block, "first": a, "n_sets": S, "n_sweeps": n_sweeps,
                          "burn_in": burn_in, "n_threads": self._block_n_threads,
                          "default_threads": self._runner.default_threads})
        out = self._runner.map(_exchange_block, shared, tasks, verbose,
                               f"ReplicaExchange x{S} sets")
        # the state: sets joined in order; counts added (integers: exact in any order)
        states = [r["state"] for r in out]
        for key in ("swap_stream", "rounds", "temperatures"):
            if not all(np.array_equal(np.asarray(st[key]), np.asarray(states[0][key]))
                       for st in states[1:]):
                raise ValueError(f"the blocks disagree on {key!r}: a block is not independent")
        rounds = np.concatenate([r["trip_rounds"] for r in out])
        trips = np.concatenate([np.asarray(st["trip_sweeps"], dtype=np.int64) for st in states])
        merged = dict(state, chains=_merge_states([st["chains"] for st in states]),
                      swap_stream=states[0]["swap_stream"], rounds=states[0]["rounds"],
                      temperatures=states[0]["temperatures"],
                      trip_sweeps=np.concatenate([np.asarray(state["trip_sweeps"],
                                                             dtype=np.int64),
                                                  trips[np.argsort(rounds, kind="stable")]]),
                      n_up=state["n_up"] + sum(st["n_up"] for st in states),
                      n_down=state["n_down"] + sum(st["n_down"] for st in states))
        for key in ("slot", "direction", "left_min"):
            merged[key] = np.concatenate([st[key] for st in states])
        pt.set_state(merged)
        # the trace, as ReplicaExchange.run assembles it
        accepted = sum(r["accepted"] for r in out)
        attempted = sum(r["attempted"] for r in out)

        def columns(name):
            parts = [r[name].reshape(r[name].shape[0], n_t, -1) for r in out]
            return np.concatenate(parts, axis=2).reshape(parts[0].shape[0], n_t * S)

        final = np.concatenate([r["final"].reshape(n_t, -1, r["final"].shape[1]) for r in out],
                               axis=1).reshape(n_t * S, -1)
        with np.errstate(invalid="ignore", divide="ignore"):
            rates = accepted / attempted
        all_trips = np.asarray(pt._trip_sweeps, dtype=float)
        info = {"swap_rates": rates, "round_trips": all_trips.size,
                "mean_round_trip_sweeps": all_trips.mean() if all_trips.size else np.nan}
        return Trace({"energy": columns("energy"), "magnetization": columns("magnetization")},
                     np.full(n_t * S, np.nan), final,
                     np.repeat(pt.temperatures, S), pt.model.n_spins, info)


def _exchange_block(shared, task):
    """Sets ``first .. first + b - 1`` of a replica exchange, on a worker."""
    from heatbath.spin.tempering import ReplicaExchange

    model, settings = shared
    first, total = task["first"], task["n_sets"]

    class Block(ReplicaExchange):
        trip_rounds = []

        def _swap_uniforms(self, n_pairs):
            # the whole round's draw from the one swap stream; this block's sets' rows
            u = _random.random(self._swap_stream, total * n_pairs, n_threads=1)[0]
            return u.reshape(total, n_pairs)[first:first + self.n_sets]

        def _track_walkers(self):
            before = len(self._trip_sweeps)
            super()._track_walkers()
            self.trip_rounds += [self._rounds] * (len(self._trip_sweeps) - before)

    state = task["state"]
    pt = Block(model, temperatures=state["temperatures"], n_sets=state["slot"].shape[0],
               seed=0, n_threads=_block_threads(task["n_threads"], task["default_threads"]),
               **settings)
    pt.trip_rounds = []
    pt.set_state(state)
    energy, mag, accepted, attempted = pt._rounds_run(task["n_sweeps"], task["burn_in"])
    return {"energy": energy, "magnetization": mag, "accepted": accepted,
            "attempted": attempted, "final": pt.sampler.spins[pt._at().T.ravel()],
            "trip_rounds": np.asarray(pt.trip_rounds, dtype=np.int64), "state": pt.get_state()}


# -- AIS -------------------------------------------------------------------------------------
def _seed_block(root, start):
    """The SeedSequence whose spawn(b) gives children start .. start + b - 1 of ``root``."""
    return np.random.SeedSequence(root.entropy, spawn_key=root.spawn_key,
                                  pool_size=root.pool_size,
                                  n_children_spawned=root.n_children_spawned + start)


def _ais_block(shared, task):
    from heatbath.rbm.estimators import _ais_runs, _estimate, _Path, ais_schedule
    from heatbath.rbm.estimators import ais as local_ais

    model, base_bias = shared
    n_threads = _block_threads(task["n_threads"], task["default_threads"])
    if task.get("checkpoint") is None:
        return local_ais(model, n_runs=task["n_runs"], n_betas=task["n_betas"],
                         schedule=task["schedule"], seed=task["seed"], base_bias=base_bias,
                         n_threads=n_threads)
    # as estimators.ais, with the loop's state saved every `every` steps and resumed
    betas = ais_schedule(task["n_betas"], task["schedule"])
    path = _Path(model, np.asarray(base_bias, dtype=float), effective_n_threads(n_threads))
    point = _Checkpoint(task["checkpoint"], task["key"])
    log_w = _ais_runs(path, betas, task["seed"], task["n_runs"], resume=point.saved,
                      save=lambda loop: point.save(int(loop["k"]), loop), every=task["every"])
    return _estimate("ais", path.log_z0, log_w, betas.size)


def ais(model, n_runs=100, n_betas=10000, schedule="sigmoid", data=None, seed=None, *,
        executor=None, block_size=None, n_threads=None, checkpoint_dir=None,
        checkpoint_every=None, verbose=False):
    """log Z of an RBM by AIS with the runs in blocks on workers: :func:`heatbath.rbm.estimators.ais`.

    Block ``k`` runs runs ``k b .. (k+1) b - 1`` with exactly the streams they
    have locally (``block_size`` a multiple of 128: the runs' products go to
    BLAS in fixed tiles of 128, see ``heatbath.rbm._layers.ROW_TILE``), and the
    blocks' log weights are joined in order
    (:meth:`Estimate.concatenate`), so the estimate equals the local one bit
    for bit. The base-rate biases are computed here from ``data`` and shipped
    instead of the data.

    With ``checkpoint_dir`` (a folder every worker can reach) each block saves
    its runs (states, streams, log weights) atomically every
    ``checkpoint_every`` temperatures (default: a tenth of ``n_betas``), and a
    rescheduled block resumes from there; the estimate is the same bits.

    Examples
    --------
    >>> from heatbath import RBM
    >>> from heatbath.distributed import ais
    >>> from heatbath.rbm.estimators import ais as local_ais
    >>> rbm = RBM(8, 4, seed=0)
    >>> est = ais(rbm, n_runs=200, n_betas=50, seed=1, block_size=128)
    >>> float(est) == float(local_ais(rbm, n_runs=200, n_betas=50, seed=1))
    True
    """
    from heatbath.rbm._layers import ROW_TILE
    from heatbath.rbm.estimators import Estimate, base_rate_bias

    n_runs = check_int(n_runs, "n_runs", minimum=1)
    if n_threads is not None:
        effective_n_threads(n_threads)
    root = _random.as_seed_sequence(seed)
    runner = _Runner(executor)
    base = base_rate_bias(model, data)
    shared = runner.share((model, base))
    ranges = _blocks(n_runs, block_size, runner.n_workers, ROW_TILE)
    tasks = [{"n_runs": b - a, "n_betas": n_betas, "schedule": schedule,
              "seed": _seed_block(root, a), "n_threads": n_threads,
              "default_threads": runner.default_threads} for a, b in ranges]
    if checkpoint_dir is not None:
        every = max(1, int(n_betas) // 10) if checkpoint_every is None else \
            check_int(checkpoint_every, "checkpoint_every", minimum=1)
        os.makedirs(checkpoint_dir, exist_ok=True)
        fingerprint = _digest("ais", model, base)
        for (a, b), task in zip(ranges, tasks):
            ss = task["seed"]
            key = _digest(fingerprint, n_betas, schedule, a, b,
                          (ss.entropy, ss.spawn_key, ss.n_children_spawned))
            task.update(checkpoint=os.path.join(checkpoint_dir, f"ais-{a}-{b}-{key[:16]}.npz"),
                        key=key, every=every)
    parts = runner.map(_ais_block, shared, tasks, verbose, "AIS")
    root.spawn(n_runs)       # advance a SeedSequence seed as the local call does
    return Estimate.concatenate(parts)


# -- scans and sweeps ---------------------------------------------------------------------------
def _point(shared, task):
    from heatbath.spin.study import run_ising

    kwargs = dict(shared, **task["kwargs"])
    kwargs["n_threads"] = _block_threads(kwargs.get("n_threads"), task["default_threads"])
    return run_ising(**kwargs)


def scan_ising(size, *, temperatures=None, fields=None, seed=None, executor=None,
               checkpoint_dir=None, verbose=False, **kwargs):
    """A temperature and/or field scan of :func:`heatbath.spin.study.run_ising`, a point per task.

    Point ``i`` is ``run_ising(size, temperature=temperatures[i],
    field=fields[i], seed=seed, **kwargs)`` (a scalar is used at every point),
    so the results equal a local loop bit for bit; ``seed=None`` draws one
    seed for the whole scan (each result records it as ``seed_entropy``).
    With ``checkpoint_dir`` each point checkpoints there and a rescheduled
    point resumes.

    Returns
    -------
    list of heatbath.spin.study.IsingResult

    Examples
    --------
    >>> from heatbath.distributed import scan_ising
    >>> rs = scan_ising(4, temperatures=[1.5, 3.0], n_sweeps=50, burn_in=10, n_chains=2, seed=0)
    >>> [r.temperature for r in rs]
    [1.5, 3.0]
    """
    temperatures = np.atleast_1d(np.asarray(2.269 if temperatures is None else temperatures,
                                            dtype=float))
    fields = np.atleast_1d(np.asarray(kwargs.pop("field", 0.0) if fields is None else fields,
                                      dtype=float))
    if temperatures.ndim != 1 or fields.ndim != 1:
        raise ValueError("temperatures and fields must be numbers or 1-D sequences")
    try:
        temperatures, fields = np.broadcast_arrays(temperatures, fields)
    except ValueError:
        raise ValueError(f"temperatures ({temperatures.size}) and fields ({fields.size}) must "
                         "have the same length, or one of them a single value") from None
    for bad in ("temperature", "field", "verbose", "checkpoint", "resume"):
        if bad in kwargs:
            raise TypeError(f"scan_ising sets {bad!r} itself")
    if seed is None:
        seed = int(np.random.SeedSequence().entropy)
    runner = _Runner(executor)
    shared = dict(kwargs, size=size, seed=seed)
    tasks = []
    for i, (T, h) in enumerate(zip(temperatures, fields)):
        point = {"temperature": float(T), "field": float(h)}
        if checkpoint_dir is not None:
            os.makedirs(checkpoint_dir, exist_ok=True)
            key = _digest(shared, point)[:16]
            point.update(checkpoint=os.path.join(checkpoint_dir, f"point-{i}-{key}.npz"),
                         resume=True)
        tasks.append({"kwargs": point, "default_threads": runner.default_threads})
    return runner.map(_point, runner.share(shared), tasks, verbose, "scan")


_RBM_KEYS = ("visible", "hidden", "dtype")


def _fit(X, task):
    from heatbath.rbm.model import RBM

    setting = dict(task["setting"])
    model_kw = {k: setting.pop(k) for k in _RBM_KEYS if k in setting}
    model = RBM(X.shape[1], setting.pop("n_hidden"), seed=setting.pop("model_seed", None),
                **model_kw)
    setting["n_threads"] = _block_threads(setting.get("n_threads"), task["default_threads"])
    return model.fit(X, **setting)


def fit_rbms(X, settings, *, executor=None, verbose=False):
    """Train one RBM per setting (a hyper-parameter sweep), one setting per task.

    Setting ``s`` gives ``RBM(X.shape[1], s["n_hidden"], visible=...,
    hidden=..., dtype=..., seed=s.get("model_seed")).fit(X, **rest)``, where
    ``rest`` is every other key of ``s`` (``learning_rate``, ``k``,
    ``method``, ``epochs``, ``seed``, ``score_every``, ...): the same models,
    bit for bit, as that local loop. ``X`` is sent to each worker once.

    Returns
    -------
    list of heatbath.RBM
        Fitted, with ``history_``, in the order of ``settings``.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.distributed import fit_rbms
    >>> X = (np.random.default_rng(0).random((60, 6)) < 0.3).astype(float)
    >>> models = fit_rbms(X, [{"n_hidden": 3, "learning_rate": lr, "epochs": 2, "seed": 1,
    ...                        "model_seed": 0} for lr in (0.05, 0.1)])
    >>> [m.n_hidden for m in models]
    [3, 3]
    """
    settings = [dict(s) for s in settings]
    for i, s in enumerate(settings):
        if "n_hidden" not in s:
            raise ValueError(f"settings[{i}] has no 'n_hidden'")
        if s.get("verbose") or s.get("checkpoint") or s.get("resume"):
            raise ValueError(f"settings[{i}]: verbose, checkpoint and resume are not for "
                             "sweeps")
    X = np.asarray(X)
    runner = _Runner(executor)
    tasks = [{"setting": s, "default_threads": runner.default_threads} for s in settings]
    return runner.map(_fit, runner.share(X), tasks, verbose, "fit")


# -- VMC -----------------------------------------------------------------------------------------
def distribute_vmc(vmc, executor, *, block_size=None, n_threads=None):
    """Run the sampling half of each iteration of ``vmc`` on workers; the SR solve stays here.

    The VMC's sampler is replaced by a :class:`BlockSampler` over its chains:
    each iteration the workers run their blocks of chains and return the
    samples, local energies and tanh(theta) (compact: the log-derivatives,
    N + M + N M per sample, are formed here from them); the client forms
    O_k, solves the SR system and updates the parameters. ``vmc.run``,
    ``vmc.evaluate`` and the checkpoints then give the same bits as without.

    Returns
    -------
    heatbath.nqs.VMC
        ``vmc`` itself.

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> from heatbath.nqs import RBM, TransverseFieldIsing, VMC
    >>> from heatbath.distributed import distribute_vmc
    >>> H = TransverseFieldIsing(6, h=1.0)
    >>> local = VMC(H, RBM(6, seed=0), n_samples=64, n_chains=4, seed=1).run(3)
    >>> with ThreadPoolExecutor(2) as pool:
    ...     vmc = distribute_vmc(VMC(H, RBM(6, seed=0), n_samples=64, n_chains=4, seed=1), pool)
    ...     history = vmc.run(3)
    >>> history["energy"] == local["energy"]
    True
    """
    if isinstance(vmc.sampler, BlockSampler):
        raise ValueError("this VMC already samples in blocks")
    vmc.sampler = BlockSampler.wrap(vmc.sampler, executor=executor, block_size=block_size,
                                    n_threads=n_threads)
    return vmc


# -- connecting --------------------------------------------------------------------------------
@contextlib.contextmanager
def connect(scheduler=None, n_workers=None, *, timeout=SCHEDULER_TIMEOUT, threads_per_worker=None):
    """A Dask client: of a scheduler at ``scheduler``, or of a new local cluster of ``n_workers``.

    A local cluster has ``n_workers`` processes of ``threads_per_worker``
    threads each (default: the cores divided among them, at least one).
    Errors are one line: dask missing, a scheduler not reached within
    ``timeout`` seconds, a worker with another heatbath version.

    Examples
    --------
    >>> from heatbath.distributed import connect
    >>> with connect("tcp://127.0.0.1:8786", n_workers=2):
    ...     pass
    Traceback (most recent call last):
    ValueError: give a scheduler address or a number of local workers (one of them)

    With Dask installed, ``with connect(n_workers=2) as client:`` starts a
    local cluster, and ``connect("tcp://host:8786")`` joins one.
    """
    if (scheduler is None) == (n_workers is None):
        raise ValueError("give a scheduler address or a number of local workers (one of them)")
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ImportError("distributed runs need Dask: pip install 'heatbath[dask]'") from None
    with contextlib.ExitStack() as stack:
        if scheduler is None:
            n_workers = check_int(n_workers, "n_workers", minimum=1)
            threads = threads_per_worker or max(1, _cpu_count() // n_workers)
            cluster = stack.enter_context(LocalCluster(
                n_workers=n_workers, threads_per_worker=threads, processes=True,
                host="127.0.0.1", dashboard_address=None, scheduler_port=0))
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = Client(scheduler, timeout=timeout)
            except (OSError, TimeoutError, ValueError) as exc:
                raise OSError(f"cannot reach the Dask scheduler at {scheduler} within "
                              f"{timeout:g} s ({type(exc).__name__}: {exc})") from None
            stack.callback(client.close)
        check_workers(client)
        yield client
