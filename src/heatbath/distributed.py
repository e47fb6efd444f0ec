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
is checked before any work is sent (:func:`check_workers`).
"""

import concurrent.futures
import contextlib
import hashlib
import inspect
import os
import pickle

import numpy as np

from heatbath import _random
from heatbath._openmp import _cpu_count, effective_n_threads
from heatbath._sampler import Sampler, pieces, progress
from heatbath._validation import check_int
from heatbath._version import __version__
from heatbath.diagnostics import Trace

__all__ = ["BlockSampler", "run_chains", "ais", "scan_ising", "fit_rbms", "distribute_vmc",
           "connect", "check_workers", "worker_threads", "SCHEDULER_TIMEOUT"]

#: Seconds :func:`connect` waits for a scheduler before it gives up.
SCHEDULER_TIMEOUT = 10.0
#: Inputs shared by every block (model, data) up to this size travel inside each
#: task; larger ones are scattered to the workers once per call.
INLINE_BYTES = 1 << 20
# Dask clients whose workers were checked, with the workers seen then.
_CHECKED: dict[int, frozenset] = {}

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
        futures = [self.executor.submit(fn, shared, task) for task in tasks]
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


class BlockSampler:
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
            if self._continuous:
                raise ValueError("checkpoints need a sampler whose trace pieces join exactly "
                                 "(a heatbath._sampler.Sampler subclass); a continuous "
                                 "sampler runs each block in one piece")
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

    @property
    def blocks(self):
        """The (start, stop) chain ranges of the blocks."""
        return list(self._ranges)

    def __getattr__(self, name):
        # the rest (spins, hamiltonian, local_energies, ...) from the local sampler
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._local, name)

    def get_state(self):
        """The chains' state: the same dict as the local sampler's ``get_state``."""
        return self._local.get_state()

    def set_state(self, state):
        """Restore a ``get_state`` dict (checked in full by the local sampler)."""
        self._local.set_state(state)

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


def _run_checkpointed(sampler, task):
    """``sampler.run(**args)`` in pieces of ``every`` sweeps, saved atomically after each.

    A checkpoint of the same block work (same key) is resumed; any other file
    at that path is overwritten. The pieces join bit for bit (the sampler core
    guarantees cut invariance, :meth:`Trace.concatenate` the join).
    """
    from heatbath import io

    path, key, args = task["checkpoint"], task["key"], task["args"]
    burn_in, n_sweeps, thin = args["burn_in"], args["n_sweeps"], args["thin"]
    done_burn = done = resumes = 0
    trace = None
    if os.path.exists(path):
        try:
            saved = io.load_arrays(path, "heatbath.distributed.block")
        except ValueError:
            saved = None
        if saved is not None and saved.get("key") == key:
            sampler.set_state(saved["state"])
            done_burn, done = int(saved["burn_in_done"]), int(saved["sweeps_done"])
            resumes = int(saved["resumes"]) + 1
            if "trace" in saved:
                trace = Trace.from_state(saved["trace"])
    for b, n, t in pieces(burn_in - done_burn, n_sweeps - done, thin, task["every"]):
        if b + n == 0 and trace is not None:
            break
        piece = sampler.run(n, burn_in=b, thin=t, record_states=args["record_states"])
        trace = piece if trace is None else Trace.concatenate([trace, piece])
        done_burn, done = done_burn + b, done + n
        io.save_arrays(path, "heatbath.distributed.block", {
            "key": key, "state": sampler.get_state(), "trace": trace.to_state(),
            "burn_in_done": done_burn, "sweeps_done": done, "resumes": resumes,
            "pid": os.getpid()})
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


# -- AIS -------------------------------------------------------------------------------------
def _seed_block(root, start):
    """The SeedSequence whose spawn(b) gives children start .. start + b - 1 of ``root``."""
    return np.random.SeedSequence(root.entropy, spawn_key=root.spawn_key,
                                  pool_size=root.pool_size,
                                  n_children_spawned=root.n_children_spawned + start)


def _ais_block(shared, task):
    from heatbath.rbm.estimators import ais as local_ais

    model, base_bias = shared
    return local_ais(model, n_runs=task["n_runs"], n_betas=task["n_betas"],
                     schedule=task["schedule"], seed=task["seed"], base_bias=base_bias,
                     n_threads=_block_threads(task["n_threads"], task["default_threads"]))


def ais(model, n_runs=100, n_betas=10000, schedule="sigmoid", data=None, seed=None, *,
        executor=None, block_size=None, n_threads=None, verbose=False):
    """log Z of an RBM by AIS with the runs in blocks on workers: :func:`heatbath.rbm.estimators.ais`.

    Block ``k`` runs runs ``k b .. (k+1) b - 1`` with exactly the streams they
    have locally (``block_size`` a multiple of 128: the runs' products go to
    BLAS in fixed tiles of 128, see ``heatbath.rbm._layers.ROW_TILE``), and the
    blocks' log weights are joined in order
    (:meth:`Estimate.concatenate`), so the estimate equals the local one bit
    for bit. The base-rate biases are computed here from ``data`` and shipped
    instead of the data.

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
    shared = runner.share((model, base_rate_bias(model, data)))
    tasks = [{"n_runs": b - a, "n_betas": n_betas, "schedule": schedule,
              "seed": _seed_block(root, a), "n_threads": n_threads,
              "default_threads": runner.default_threads}
             for a, b in _blocks(n_runs, block_size, runner.n_workers, ROW_TILE)]
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
