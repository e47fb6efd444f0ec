"""Metropolis sampling of |psi|^2 over many chains, with local energies from the look-up table.

The sampler owns its chains: spins ``(n_chains, N)`` int8 and one random
stream per chain. Each call of ``run`` rebuilds the wavefunction's tables
(exp(+-2W), exp(+-2a), exp(2b), in NumPy) from its current parameters, so the
optimiser may change them between calls; the kernel
(:mod:`heatbath.nqs._metropolis`) rebuilds each chain's look-up table at the
start of every sweep, so a run split into several calls gives the same bits
as one call, and ``get_state``/``set_state`` resume exactly.
"""

import numpy as np

from heatbath import _random
from heatbath._concurrency import Exclusive
from heatbath._openmp import effective_n_threads
from heatbath._validation import MAX_ELEMENTS, check_int, check_temperature
from heatbath.diagnostics import Trace
from heatbath.nqs import _metropolis
from heatbath.nqs.hamiltonians import _Hamiltonian
from heatbath.nqs.hilbert import Spins
from heatbath.nqs.wavefunctions import _Wavefunction, _states

__all__ = ["MetropolisSampler", "tables"]

STATE_FORMAT_VERSION = 1
MOVES = {"flip": 0, "exchange": 1}


def tables(wavefunction):
    """The kernel's tables (exp(-2W), exp(2W), exp(-2a), exp(2a), exp(2b)), C-contiguous."""
    a, b, W = wavefunction.expanded()
    out = (np.exp(-2.0 * W), np.exp(2.0 * W), np.exp(-2.0 * a), np.exp(2.0 * a),
           np.exp(2.0 * b))
    if not all(np.all(np.isfinite(t)) for t in out):
        raise FloatingPointError("the wavefunction's parameters are too large: exp(2 p) "
                                 "overflows (the optimisation has diverged)")
    return tuple(np.ascontiguousarray(t) for t in out)


class MetropolisSampler:
    """Metropolis on |psi(s)|^2 with single-spin flips or Sz-conserving exchanges.

    Parameters
    ----------
    wavefunction : heatbath.nqs.RBM or SymmetricRBM
    hamiltonian : TransverseFieldIsing, Heisenberg or None
        The local energies recorded; its Hilbert space (fixed Sz or not) and
        its lattice bonds (the exchange pairs) are used.
    move : {"flip", "exchange"} or None
        None: "exchange" when the Hilbert space fixes Sz, else "flip".
    temperature : float, default=1.0
        Only 1 (sampling |psi|^2) is supported; the argument is there for the
        common sampler signature.
    n_chains : int, default=16
    seed : None, int, SeedSequence or Generator
    n_threads : int or None
        OpenMP threads over chains (None: all cores); results do not depend on it.

    Examples
    --------
    >>> from heatbath.nqs import RBM, TransverseFieldIsing
    >>> from heatbath.nqs.sampler import MetropolisSampler
    >>> H = TransverseFieldIsing(6, h=1.0)
    >>> sampler = MetropolisSampler(RBM(6, seed=0), hamiltonian=H, n_chains=4, seed=1)
    >>> trace = sampler.run(50, burn_in=10)
    >>> trace["energy"].shape, trace.info["samples"].shape
    ((50, 4), (50, 4, 6))
    """

    def __init__(self, wavefunction, *, hamiltonian=None, move=None, temperature=1.0,
                 n_chains=16, seed=None, n_threads=None):
        if not isinstance(wavefunction, _Wavefunction):
            raise TypeError(f"wavefunction must be a heatbath.nqs RBM or SymmetricRBM, got "
                            f"{type(wavefunction).__name__}")
        if hamiltonian is not None and not isinstance(hamiltonian, _Hamiltonian):
            raise TypeError(f"hamiltonian must be a heatbath.nqs Hamiltonian or None, got "
                            f"{type(hamiltonian).__name__}")
        N = wavefunction.n_visible
        if hamiltonian is not None and hamiltonian.n_spins != N:
            raise ValueError(f"the hamiltonian has {hamiltonian.n_spins} spins, the "
                             f"wavefunction {N}")
        T = check_temperature(temperature)
        if T.ndim != 0 or float(T) != 1.0:
            raise ValueError(f"temperature must be 1 (sampling |psi|^2), got {temperature!r}")
        self.wavefunction = wavefunction
        self.hamiltonian = hamiltonian
        self.hilbert = hamiltonian.hilbert if hamiltonian is not None else Spins(N)
        if move is None:
            move = "flip" if self.hilbert.total_sz is None else "exchange"
        if move not in MOVES:
            raise ValueError(f"move must be 'flip' or 'exchange', got {move!r}")
        if move == "flip" and self.hilbert.total_sz is not None:
            raise ValueError("move='flip' changes Sz, but the Hilbert space fixes total_sz; "
                             "use move='exchange'")
        self.move = move
        if hamiltonian is not None and len(hamiltonian.lattice.bonds):
            self._pairs = hamiltonian.lattice.bonds
        else:
            i, k = np.triu_indices(N, 1)
            self._pairs = np.ascontiguousarray(np.stack([i, k], axis=1), dtype=np.int32)
        if move == "exchange" and len(self._pairs) == 0:
            raise ValueError("move='exchange' needs at least two spins")
        self.n_chains = check_int(n_chains, "n_chains", minimum=1)
        if self.n_chains * N > MAX_ELEMENTS:
            raise ValueError(f"n_chains * n_spins = {self.n_chains * N} is more than "
                             f"{MAX_ELEMENTS}")
        effective_n_threads(n_threads)  # validate now, resolve at each run
        self.n_threads = n_threads
        self._streams = _random.spawn_states(seed, self.n_chains)
        u = _random.random(self._streams, N, n_threads=n_threads)
        self._spins = np.ascontiguousarray(self.hilbert.random_states(u))
        self.n_sweeps_done = 0
        self._lock = Exclusive()

    def __repr__(self):
        return (f"MetropolisSampler({self.wavefunction!r}, move={self.move!r}, "
                f"n_chains={self.n_chains})")

    @property
    def spins(self):
        """Current states, int8 (n_chains, N) (a copy)."""
        return self._spins.copy()

    def get_state(self):
        """Everything needed to resume: a dict of plain arrays and a format version."""
        return {"format_version": STATE_FORMAT_VERSION, "kind": type(self).__name__,
                "spins": self._spins.copy(), "stream_state": self._streams.copy(),
                "n_sweeps_done": self.n_sweeps_done}

    def set_state(self, state):
        """Restore a state from :meth:`get_state`; checked before anything changes."""
        try:
            version, kind = state["format_version"], state["kind"]
            spins, streams, done = state["spins"], state["stream_state"], state["n_sweeps_done"]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"state is missing a field: {exc}") from None
        if int(version) != STATE_FORMAT_VERSION:
            raise ValueError(f"state format_version {version} is not supported "
                             f"(this heatbath reads {STATE_FORMAT_VERSION})")
        if str(kind) != type(self).__name__:
            raise ValueError(f"state is from a {kind}, not a {type(self).__name__}")
        spins = _states(spins, self.wavefunction.n_visible)
        if spins.shape[0] != self.n_chains:
            raise ValueError(f"state['spins'] has {spins.shape[0]} chains, this sampler has "
                             f"{self.n_chains}")
        if not self.hilbert.contains(spins).all():
            raise ValueError("state['spins'] has states outside the Hilbert space (wrong Sz)")
        streams = _random.check_states(streams, self.n_chains, name="state['stream_state']")
        done = check_int(int(done), "state['n_sweeps_done']", minimum=0)
        with self._lock(type(self).__name__):
            self._spins, self._streams, self.n_sweeps_done = np.array(spins), streams, done

    def _ham_args(self):
        H = self.hamiltonian
        if H is None:
            return 0, np.zeros((0, 2), dtype=np.int32), 0.0, 0.0
        return H.code, H.lattice.bonds, float(H._diag_coef), float(H.off_diagonal)

    def sample(self, n_sweeps, burn_in=0, thin=1):
        """Run the chains; return the raw records, chain-major.

        Returns
        -------
        samples : int8 (n_chains, n_rec, N)
        local_energy : (n_chains, n_rec), the wavefunction's dtype
        tanh_theta : (n_chains, n_rec, M)
        accepted, attempted : int64 (n_chains,)
        """
        n_sweeps = check_int(n_sweeps, "n_sweeps", minimum=0)
        burn_in = check_int(burn_in, "burn_in", minimum=0)
        thin = check_int(thin, "thin", minimum=1)
        wf = self.wavefunction
        n_rec = n_sweeps // thin
        N, M = wf.n_visible, wf.n_hidden
        if n_rec * self.n_chains * max(N, M) > MAX_ELEMENTS:
            raise ValueError(f"the records would hold more than {MAX_ELEMENTS} numbers")
        X, Y, am, ap, eb = tables(wf)
        ham, bonds, c_diag, c_off = self._ham_args()
        dt = wf.dtype
        s_out = np.zeros((self.n_chains, n_rec, N), dtype=np.int8)
        eloc = np.zeros((self.n_chains, n_rec), dtype=dt)
        tanh = np.zeros((self.n_chains, n_rec, M), dtype=dt)
        accepted = np.zeros(self.n_chains, dtype=np.int64)
        attempted = np.zeros(self.n_chains, dtype=np.int64)
        work = np.zeros((self.n_chains, 2 * M), dtype=dt)
        n_threads = effective_n_threads(self.n_threads)
        with self._lock(type(self).__name__):
            _metropolis._sample(self._spins, X, Y, am, ap, eb, work, self._streams,
                                MOVES[self.move], self._pairs, ham, bonds, c_diag, c_off,
                                burn_in, n_sweeps, thin, s_out, eloc, tanh, accepted,
                                attempted, n_threads)
            self.n_sweeps_done += burn_in + n_sweeps
        return s_out, eloc, tanh, accepted, attempted

    def run(self, n_sweeps, burn_in=0, thin=1, verbose=False):
        """Run every chain for ``burn_in + n_sweeps`` sweeps (N proposals each).

        Parameters
        ----------
        n_sweeps, burn_in, thin : int
            Sweeps recorded (every ``thin``-th), and sweeps run first unrecorded.
        verbose : bool, default=False
            Show a progress bar.

        Returns
        -------
        heatbath.diagnostics.Trace
            ``trace["energy"]`` (real part of the local energy; 0 without a
            Hamiltonian) and ``trace["magnetization"]`` (sum of s_i), shape
            ``(n_rec, n_chains)``. ``trace.info`` holds ``local_energy``
            (complex for complex parameters), ``samples`` (n_rec, n_chains, N)
            and ``tanh_theta``. Acceptance is accepted over attempted moves
            (exchanges of two equal spins are not attempts).
        """
        bar = None
        if verbose:
            from tqdm.auto import tqdm
            bar = tqdm(total=check_int(burn_in, "burn_in", minimum=0)
                       + check_int(n_sweeps, "n_sweeps", minimum=0), unit="sweep",
                       desc=f"{type(self).__name__} x{self.n_chains}")
        try:
            s_out, eloc, tanh, acc, att = self.sample(n_sweeps, burn_in, thin)
            if bar is not None:
                bar.update(burn_in + n_sweeps)
        finally:
            if bar is not None:
                bar.close()
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(att > 0, acc / np.maximum(att, 1), np.nan)
        obs = {"energy": np.ascontiguousarray(eloc.real.T),
               "magnetization": np.ascontiguousarray(s_out.sum(axis=2, dtype=np.int64).T
                                                     .astype(float))}
        info = {"local_energy": np.ascontiguousarray(eloc.T),
                "samples": np.ascontiguousarray(s_out.transpose(1, 0, 2)),
                "tanh_theta": np.ascontiguousarray(tanh.transpose(1, 0, 2)),
                "attempted": att}
        return Trace(obs, rate, self._spins.copy(), np.ones(self.n_chains),
                     self.wavefunction.n_visible, info)

    def local_energies(self, states):
        """Local energies and tanh(theta) of given states, by the kernel (no moves).

        Examples
        --------
        >>> from heatbath.nqs import RBM, Heisenberg
        >>> from heatbath.nqs.sampler import MetropolisSampler
        >>> H = Heisenberg(4)
        >>> psi = RBM(4, seed=0)
        >>> e, t = MetropolisSampler(psi, hamiltonian=H, seed=0).local_energies([[1, -1, 1, -1]])
        >>> bool(abs(e[0] - H.local_energy(psi, [[1, -1, 1, -1]])[0]) < 1e-12)
        True
        """
        if self.hamiltonian is None:
            raise ValueError("local_energies needs a hamiltonian")
        wf = self.wavefunction
        s = _states(states, wf.n_visible)
        X, Y, am, ap, eb = tables(wf)
        ham, bonds, c_diag, c_off = self._ham_args()
        eloc = np.zeros(len(s), dtype=wf.dtype)
        tanh = np.zeros((len(s), wf.n_hidden), dtype=wf.dtype)
        work = np.zeros((len(s), 2 * wf.n_hidden), dtype=wf.dtype)
        _metropolis._measure(s, X, Y, am, ap, eb, work, ham, bonds, c_diag, c_off, eloc, tanh,
                             effective_n_threads(self.n_threads))
        return eloc, tanh
