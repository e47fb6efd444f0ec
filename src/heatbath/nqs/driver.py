"""The VMC driver: sample, estimate the energy and its gradient, step, log, checkpoint.

``VMC(hamiltonian, wavefunction, ...).run(n_iterations)`` runs iterations of

1. Metropolis sampling of abs(psi)^2 (``n_samples`` = ``n_chains`` x sweeps per
   chain, after ``burn_in`` unrecorded sweeps per chain), with the local
   energies and tanh(theta) computed in the kernel;
2. log-derivatives O_k from the samples, then one optimiser step (SR by default);
3. a log line: energy +- stderr (from tau_int), variance of E_loc, acceptance
   and split R-hat of E_loc across chains.

Everything random comes from the sampler's per-chain streams, so a run is
the same for any ``n_threads``, and ``save_checkpoint``/``load_checkpoint``
(wavefunction, optimiser, chains and streams, history) resume it bit for bit.
"""

import time

import numpy as np

from heatbath._io import atomic_write
from heatbath._openmp import effective_n_threads
from heatbath._threads import single_threaded_blas
from heatbath._validation import check_int
from heatbath.diagnostics import split_rhat, stderr
from heatbath.nqs.hamiltonians import _Hamiltonian
from heatbath.nqs.optimizers import SGD, SR, Decay
from heatbath.nqs.sampler import MetropolisSampler
from heatbath.nqs.wavefunctions import _Wavefunction

__all__ = ["VMC", "energy_statistics"]

CHECKPOINT_VERSION = 1
HISTORY_KEYS = ("energy", "energy_stderr", "variance", "acceptance", "rhat")


def energy_statistics(local_energy):
    """Mean, stderr, variance and R-hat of local energies shaped (n_rec, n_chains).

    The energy is the real part of the mean (the imaginary part of <E_loc>
    vanishes on average for a Hermitian H); the variance is <abs(E_loc - E)^2>.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.nqs.driver import energy_statistics
    >>> st = energy_statistics(np.random.default_rng(0).normal(size=(400, 4)))
    >>> sorted(st)
    ['energy', 'energy_stderr', 'rhat', 'variance']
    """
    e = np.asarray(local_energy)
    re = np.ascontiguousarray(e.real, dtype=float)
    mean = float(re.mean())
    var = float(np.mean(np.abs(e - e.mean()) ** 2))
    if var == 0.0:
        return {"energy": mean, "energy_stderr": 0.0, "variance": 0.0, "rhat": 1.0}
    err = stderr(re) if re.shape[0] >= 2 else float(np.sqrt(var / e.size))
    rhat = split_rhat(re) if re.shape[0] >= 4 else float("nan")
    return {"energy": mean, "energy_stderr": float(err), "variance": var, "rhat": float(rhat)}


class VMC:
    """Variational Monte Carlo for an RBM wavefunction.

    Parameters
    ----------
    hamiltonian : TransverseFieldIsing or Heisenberg
    wavefunction : RBM or SymmetricRBM
        Optimised in place.
    optimizer : SR, SGD or Adam, default=SR(0.05, Decay(0.1, 0.001, 600))
        The default is the recipe of ``heatbath nqs``: step 0.05 along
        (S + shift)^-1 F (NetKet's learning rate 0.025), the diagonal shift
        decaying geometrically from 0.1 to 0.001 over 600 iterations.
    n_samples : int, default=1008
        Samples per iteration, rounded up to a multiple of ``n_chains``.
    n_chains : int, default=16
    burn_in : int, default=5
        Unrecorded sweeps per chain at each iteration (the chains persist
        across iterations). A sweep is N proposals.
    thin : int, default=1
        Sweeps between recorded samples.
    move : {"flip", "exchange"} or None
        None: exchange moves when the Hamiltonian fixes Sz.
    seed, n_threads
        As for every sampler.

    Examples
    --------
    >>> from heatbath.nqs import RBM, TransverseFieldIsing, VMC
    >>> H = TransverseFieldIsing(6, h=1.0)
    >>> vmc = VMC(H, RBM(6, seed=0), n_samples=256, seed=1)
    >>> history = vmc.run(20)
    >>> len(history["energy"]), history["energy"][-1] < history["energy"][0]
    (20, True)
    """

    def __init__(self, hamiltonian, wavefunction, *, optimizer=None, n_samples=1008,
                 n_chains=16, burn_in=5, thin=1, move=None, seed=None, n_threads=None):
        if not isinstance(hamiltonian, _Hamiltonian):
            raise TypeError(f"hamiltonian must be a heatbath.nqs Hamiltonian, got "
                            f"{type(hamiltonian).__name__}")
        if not isinstance(wavefunction, _Wavefunction):
            raise TypeError(f"wavefunction must be a heatbath.nqs RBM or SymmetricRBM, got "
                            f"{type(wavefunction).__name__}")
        if optimizer is None:
            # the recipe of heatbath.nqs.study.RECIPE (see the README's NQS section)
            optimizer = SR(0.05, Decay(0.1, 0.001, 600))
        if not isinstance(optimizer, SGD):
            raise TypeError(f"optimizer must be a heatbath.nqs SR, SGD or Adam, got "
                            f"{type(optimizer).__name__}")
        self.hamiltonian = hamiltonian
        self.wavefunction = wavefunction
        self.optimizer = optimizer
        self.sampler = MetropolisSampler(wavefunction, hamiltonian=hamiltonian, move=move,
                                         n_chains=n_chains, seed=seed, n_threads=n_threads)
        self.n_samples = n_samples
        self.burn_in = check_int(burn_in, "burn_in", minimum=0)
        self.thin = check_int(thin, "thin", minimum=1)
        self.iteration = 0
        self.history = {k: [] for k in HISTORY_KEYS}

    @property
    def n_samples(self):
        """Samples per iteration (a multiple of ``n_chains``); may be changed between runs."""
        return self.sweeps_per_chain * self.sampler.n_chains

    @n_samples.setter
    def n_samples(self, value):
        value = check_int(value, "n_samples", minimum=1)
        self.sweeps_per_chain = -(-value // self.sampler.n_chains)

    def __repr__(self):
        return (f"VMC({self.hamiltonian!r}, {self.wavefunction!r}, optimizer={self.optimizer!r}, "
                f"n_samples={self.n_samples})")

    def _sample(self, sweeps_per_chain, burn_in):
        s, eloc, tanh, acc, att = self.sampler.sample(sweeps_per_chain * self.thin, burn_in,
                                                      self.thin)
        if not np.all(np.isfinite(eloc)):
            raise FloatingPointError(f"non-finite local energies at iteration {self.iteration}: "
                                     "the optimisation has diverged (lower the learning rate)")
        rate = float(acc.sum() / max(int(att.sum()), 1))
        return s, eloc, tanh, rate

    def step(self):
        """One iteration; returns its log entry (a dict)."""
        wf = self.wavefunction
        s, eloc, tanh, rate = self._sample(self.sweeps_per_chain, self.burn_in)
        # BLAS pinned to one thread once for the whole step (the products inside
        # would each pin and restore it; threadpoolctl takes ~25 us per round trip).
        with single_threaded_blas():
            stats = energy_statistics(eloc.T)
            stats["acceptance"] = rate
            n = s.shape[0] * s.shape[1]
            O = wf._jacobian(s.reshape(n, -1), tanh.reshape(n, -1))
            wf.parameters = self.optimizer.step(wf.parameters, O, eloc.reshape(n),
                                                effective_n_threads(self.sampler.n_threads),
                                                iteration=self.iteration)
        self.iteration += 1
        for k in HISTORY_KEYS:
            self.history[k].append(stats[k])
        return stats

    def run(self, n_iterations, verbose=False, checkpoint=None, checkpoint_every=50):
        """Run ``n_iterations`` iterations; returns the history (lists per key).

        Parameters
        ----------
        n_iterations : int
        verbose : bool, default=False
            Progress bar with the current energy.
        checkpoint : path or None
            Save a checkpoint here every ``checkpoint_every`` iterations and at the end.
        """
        n_iterations = check_int(n_iterations, "n_iterations", minimum=0)
        checkpoint_every = check_int(checkpoint_every, "checkpoint_every", minimum=1)
        bar = None
        if verbose:
            from tqdm.auto import tqdm
            bar = tqdm(total=n_iterations, unit="it", desc="VMC")
        try:
            for k in range(n_iterations):
                st = self.step()
                if bar is not None:
                    bar.set_postfix_str(f"E={st['energy']:.6f}+-{st['energy_stderr']:.1e} "
                                        f"acc={st['acceptance']:.2f}", refresh=False)
                    bar.update(1)
                if checkpoint is not None and ((k + 1) % checkpoint_every == 0
                                               or k + 1 == n_iterations):
                    self.save_checkpoint(checkpoint)
        finally:
            if bar is not None:
                bar.close()
        return {k: list(v) for k, v in self.history.items()}

    def evaluate(self, n_samples, burn_in=None):
        """Estimate the energy of the current wavefunction from ``n_samples`` fresh samples.

        Returns a dict with ``energy``, ``energy_stderr``, ``variance``,
        ``rhat`` and ``acceptance``; changes no parameter.
        """
        n_samples = check_int(n_samples, "n_samples", minimum=1)
        per_chain = -(-n_samples // self.sampler.n_chains)
        burn = 5 * self.burn_in if burn_in is None else check_int(burn_in, "burn_in", minimum=0)
        s, eloc, tanh, rate = self._sample(per_chain, burn)
        stats = energy_statistics(eloc.T)
        stats["acceptance"] = rate
        stats["n_samples"] = per_chain * self.sampler.n_chains
        return stats

    # -- checkpoints ------------------------------------------------------------
    def get_state(self):
        """Everything a resume needs, as a dict of plain arrays."""
        state = {"format_version": CHECKPOINT_VERSION, "iteration": self.iteration,
                 "parameters": self.wavefunction.parameters}
        for k, v in self.sampler.get_state().items():
            state["sampler." + k] = v
        for k, v in self.optimizer.get_state().items():
            state["optimizer." + k] = v
        for k in HISTORY_KEYS:
            state["history." + k] = np.array(self.history[k], dtype=float)
        return state

    def set_state(self, state):
        """Restore from :meth:`get_state` (the same settings must have been used)."""
        try:
            if int(state["format_version"]) != CHECKPOINT_VERSION:
                raise ValueError(f"checkpoint format_version {state['format_version']} is not "
                                 f"supported (this heatbath reads {CHECKPOINT_VERSION})")
            params = state["parameters"]
            sampler = {k[8:]: state[k] for k in state if k.startswith("sampler.")}
            opt = {k[10:]: state[k] for k in state if k.startswith("optimizer.")}
            history = {k: [float(x) for x in state["history." + k]] for k in HISTORY_KEYS}
            iteration = int(state["iteration"])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"checkpoint is missing a field: {exc}") from None
        self.sampler.set_state(sampler)
        self.wavefunction.parameters = params
        self.optimizer.set_state(opt)
        self.history, self.iteration = history, iteration

    def save_checkpoint(self, path):
        """Write :meth:`get_state` to ``.npz``, atomically."""
        state = self.get_state()
        atomic_write(path, lambda f: np.savez(f, **state), suffix=".npz")

    def load_checkpoint(self, path):
        """Restore from a file written by :meth:`save_checkpoint`."""
        with np.load(path, allow_pickle=False) as f:
            state = {k: (f[k][()] if f[k].ndim == 0 else f[k]) for k in f.files}
        self.set_state(state)
