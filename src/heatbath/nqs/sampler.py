"""Metropolis sampling of abs(psi)^2 over many chains, with local energies from the look-up table.

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
from heatbath._openmp import effective_n_threads
from heatbath._sampler import Sampler
from heatbath._threads import run_parallel
from heatbath._validation import MAX_ELEMENTS, check_int
from heatbath.nqs import _metropolis
from heatbath.nqs.hamiltonians import _Hamiltonian
from heatbath.nqs.hilbert import Spins
from heatbath.nqs.wavefunctions import _Wavefunction, _states

__all__ = ["MetropolisSampler", "tables"]

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


class MetropolisSampler(Sampler):
    """Metropolis on abs(psi(s))^2 with single-spin flips or Sz-conserving exchanges.

    A subclass of the sampler core (:class:`heatbath._sampler.Sampler`): the
    streams, ``run``, the progress bar, ``get_state``/``set_state`` and the
    trace come from there.

    Parameters
    ----------
    wavefunction : heatbath.nqs.RBM or SymmetricRBM
    hamiltonian : TransverseFieldIsing, Heisenberg or None
        The local energies recorded; its Hilbert space (fixed Sz or not) and
        its lattice bonds (the exchange pairs) are used.
    move : {"flip", "exchange"} or None
        None: "exchange" when the Hilbert space fixes Sz, else "flip".
    temperature : float, default=1.0
        Only 1 (sampling abs(psi)^2) is supported; the argument is there for the
        common sampler signature.
    n_chains : int, default=16
    seed : None, int, SeedSequence or Generator
    n_threads : int or None
        Threads over chains (None: all cores): groups of chains on heatbath's
        thread pool, the kernel on one thread each; results do not depend on it.

    Examples
    --------
    >>> from heatbath.nqs import RBM, TransverseFieldIsing
    >>> from heatbath.nqs.sampler import MetropolisSampler
    >>> H = TransverseFieldIsing(6, h=1.0)
    >>> sampler = MetropolisSampler(RBM(6, seed=0), hamiltonian=H, n_chains=4, seed=1)
    >>> trace = sampler.run(50, burn_in=10, record_states=True)
    >>> trace["energy"].shape, trace.states.shape
    ((50, 4), (50, 4, 6))
    """

    kind = "nqs.MetropolisSampler"

    def __init__(self, wavefunction, *, hamiltonian=None, move=None, temperature=1.0,
                 n_chains=16, seed=None, n_threads=None):
        if hamiltonian is not None and not isinstance(hamiltonian, _Hamiltonian):
            raise TypeError(f"hamiltonian must be a heatbath.nqs Hamiltonian or None, got "
                            f"{type(hamiltonian).__name__}")
        self.hamiltonian = hamiltonian
        self._move_arg = move
        super().__init__(wavefunction, temperature=temperature, n_chains=n_chains, seed=seed,
                         n_threads=n_threads)
        N = wavefunction.n_visible
        u = _random.random(self._streams, N, n_threads=n_threads)
        self._spins = np.ascontiguousarray(self.hilbert.random_states(u))

    # -- hooks of the sampler core ---------------------------------------------
    def _check_model(self, wavefunction):
        if not isinstance(wavefunction, _Wavefunction):
            raise TypeError(f"wavefunction must be a heatbath.nqs RBM or SymmetricRBM, got "
                            f"{type(wavefunction).__name__}")
        N = wavefunction.n_visible
        H = self.hamiltonian
        if H is not None and H.n_spins != N:
            raise ValueError(f"the hamiltonian has {H.n_spins} spins, the wavefunction {N}")
        self.hilbert = H.hilbert if H is not None else Spins(N)
        move = self._move_arg
        if move is None:
            move = "flip" if self.hilbert.total_sz is None else "exchange"
        if move not in MOVES:
            raise ValueError(f"move must be 'flip' or 'exchange', got {move!r}")
        if move == "flip" and self.hilbert.total_sz is not None:
            raise ValueError("move='flip' changes Sz, but the Hilbert space fixes total_sz; "
                             "use move='exchange'")
        self.move = move
        if H is not None and len(H.lattice.bonds):
            self._pairs = H.lattice.bonds
        else:
            i, k = np.triu_indices(N, 1)
            self._pairs = np.ascontiguousarray(np.stack([i, k], axis=1), dtype=np.int32)
        if move == "exchange" and len(self._pairs) == 0:
            raise ValueError("move='exchange' needs at least two spins")

    def _check_temperature_values(self, T):
        if not np.all(T == 1.0):
            raise ValueError(f"temperature must be 1 (sampling |psi|^2), got {T[T != 1.0][0]}")

    def _units(self, wavefunction):
        return wavefunction.n_visible

    def _current_state(self):
        return self._spins.copy()

    def _chain_state(self):
        return {"spins": self._spins.copy()}

    def _check_chain_state(self, state):
        spins = _states(state["spins"], self.model.n_visible)
        if spins.shape[0] != self.n_chains:
            raise ValueError(f"state['spins'] has {spins.shape[0]} chains, this sampler has "
                             f"{self.n_chains}")
        if not self.hilbert.contains(spins).all():
            raise ValueError("state['spins'] has states outside the Hilbert space (wrong Sz)")
        return {"spins": np.ascontiguousarray(spins)}

    def _set_chain_state(self, checked):
        self._spins = checked["spins"]

    def _sweeps(self, burn_in, n_sweeps, thin, n_threads):
        s_out, eloc, tanh, acc, att = self._kernel(burn_in, n_sweeps, thin, n_threads)
        obs = {"energy": np.ascontiguousarray(eloc.real.T),
               "magnetization": np.ascontiguousarray(
                   s_out.sum(axis=2, dtype=np.int64).T.astype(float))}
        if self.model.is_complex:
            obs["energy_imag"] = np.ascontiguousarray(eloc.imag.T)
        return obs, {"accepted": acc, "attempted": att}

    # -- the kernel --------------------------------------------------------------------
    @property
    def wavefunction(self):
        return self.model

    def __repr__(self):
        return (f"MetropolisSampler({self.model!r}, move={self.move!r}, "
                f"n_chains={self.n_chains})")

    @property
    def spins(self):
        """Current states, int8 (n_chains, N) (a copy)."""
        return self._spins.copy()

    def _ham_args(self):
        H = self.hamiltonian
        if H is None:
            return 0, np.zeros((0, 2), dtype=np.int32), 0.0, 0.0
        # Lattice.bonds builds its array at each call: kept per lattice geometry.
        key = (H.lattice.shape, H.lattice.periodic)
        cached = getattr(self, "_bonds_of", None)
        if cached is None or cached[0] != key:
            self._bonds_of = cached = (key, H.lattice.bonds)
        return H.code, cached[1], float(H._diag_coef), float(H.off_diagonal)

    def _kernel(self, burn_in, n_sweeps, thin, n_threads):
        wf = self.model
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

        def chains(c):
            _metropolis._sample(self._spins[c], X, Y, am, ap, eb, work[c], self._streams[c],
                                MOVES[self.move], self._pairs, ham, bonds, c_diag, c_off,
                                burn_in, n_sweeps, thin, s_out[c], eloc[c], tanh[c],
                                accepted[c], attempted[c], 1)

        # Groups of chains on heatbath's thread pool (the kernel on one thread each, GIL
        # released), not an OpenMP team: the VMC step's other parallel part (the SR
        # products) runs on the same pool, and an OpenMP team's threads would spin-wait
        # between the sampling calls, on the cores the pool needs. Each chain has its own
        # stream, so any grouping gives the same bits.
        count = min(n_threads, self.n_chains)
        cuts = [slice(self.n_chains * i // count, self.n_chains * (i + 1) // count)
                for i in range(count)]
        run_parallel([lambda c=c: chains(c) for c in cuts], count)
        return s_out, eloc, tanh, accepted, attempted

    def sample(self, n_sweeps, burn_in=0, thin=1):
        """Run the chains and return the raw records, chain-major (what VMC needs).

        The same chains and counter as :meth:`run`, without a trace.

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
        with self._guard():
            out = self._kernel(burn_in, n_sweeps, thin, effective_n_threads(self.n_threads))
            self.n_sweeps_done += burn_in + n_sweeps
        return out

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
        wf = self.model
        s = _states(states, wf.n_visible)
        X, Y, am, ap, eb = tables(wf)
        ham, bonds, c_diag, c_off = self._ham_args()
        eloc = np.zeros(len(s), dtype=wf.dtype)
        tanh = np.zeros((len(s), wf.n_hidden), dtype=wf.dtype)
        work = np.zeros((len(s), 2 * wf.n_hidden), dtype=wf.dtype)
        _metropolis._measure(s, X, Y, am, ap, eb, work, ham, bonds, c_diag, c_off, eloc, tanh,
                             effective_n_threads(self.n_threads))
        return eloc, tanh
