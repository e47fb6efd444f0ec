"""Exact references: the 1D transverse-field Ising chain in closed form, and Lanczos.

- :func:`tfim_chain_energy`: the periodic chain maps to free fermions
  (Jordan-Wigner); for even N the ground state lies in the even-parity sector,
  whose momenta are antiperiodic, k = pi (2n + 1) / N, and
  E0 = -sum_k sqrt(J^2 + h^2 + 2 J h cos k).
- :func:`ground_state`: scipy.sparse.linalg.eigsh (Lanczos) on the sparse
  Hamiltonian, in the fixed-Sz sector when the Hilbert space has one. The
  matrix has (1 + connected) * dim entries; N = 20 takes seconds, N = 22-24
  needs the Sz = 0 sector (2.7 million states at N = 24).
- :func:`ground_state_observables`: energy, <Z_i> and <Z_i Z_j> of that state.
"""

import numpy as np

from heatbath._validation import check_int

__all__ = ["tfim_chain_energy", "ground_state", "ground_state_energy",
           "ground_state_observables", "exact_energy"]

#: Largest Hilbert-space dimension :func:`ground_state` accepts.
MAX_DIMENSION = 2**24


def tfim_chain_energy(n_spins, h=1.0, J=1.0):
    """Ground-state energy of the periodic TFIM chain, closed form (even N).

    Examples
    --------
    >>> from heatbath.nqs.exact import tfim_chain_energy
    >>> round(tfim_chain_energy(20, h=1.0) / 20, 6)
    -1.274549
    """
    n = check_int(n_spins, "n_spins", minimum=2)
    if n % 2:
        raise ValueError(f"the closed form needs an even n_spins, got {n}")
    k = np.pi * (2 * np.arange(n) + 1) / n
    return float(-np.sqrt(J * J + h * h + 2 * J * h * np.cos(k)).sum())


def ground_state(hamiltonian):
    """Lowest eigenvalue and eigenvector of ``hamiltonian`` (Lanczos).

    Returns
    -------
    energy : float
    vector : ndarray, shape (dim,)
        In the basis ``hamiltonian.hilbert.all_codes()``.

    Examples
    --------
    >>> from heatbath.nqs import TransverseFieldIsing
    >>> from heatbath.nqs.exact import ground_state, tfim_chain_energy
    >>> e, v = ground_state(TransverseFieldIsing(8, h=0.5))
    >>> abs(e - tfim_chain_energy(8, h=0.5)) < 1e-9
    True
    """
    from scipy.sparse.linalg import eigsh

    dim = hamiltonian.hilbert.size
    if dim > MAX_DIMENSION:
        raise ValueError(f"the Hilbert space has {dim} states, more than Lanczos here allows "
                         f"({MAX_DIMENSION}); fix total_sz or use fewer spins")
    H = hamiltonian.to_sparse()
    if dim <= 64:
        w, v = np.linalg.eigh(H.toarray())
        return float(w[0]), v[:, 0]
    v0 = np.ones(dim) / np.sqrt(dim)      # fixed start vector: a deterministic answer
    w, v = eigsh(H, k=1, which="SA", v0=v0, tol=1e-12)
    return float(w[0]), v[:, 0]


def ground_state_energy(hamiltonian):
    """Lanczos ground-state energy (see :func:`ground_state`).

    Examples
    --------
    >>> from heatbath.nqs import Heisenberg
    >>> from heatbath.nqs.exact import ground_state_energy
    >>> round(ground_state_energy(Heisenberg(4)), 10)
    -8.0
    """
    return ground_state(hamiltonian)[0]


def exact_energy(hamiltonian, max_dimension=2**22):
    """The exact energy where affordable, else None: closed form or Lanczos.

    Examples
    --------
    >>> from heatbath.nqs import TransverseFieldIsing
    >>> from heatbath.nqs.exact import exact_energy
    >>> exact_energy(TransverseFieldIsing(200)) < 0
    True
    """
    from heatbath.nqs.hamiltonians import TransverseFieldIsing

    lat = hamiltonian.lattice
    if (isinstance(hamiltonian, TransverseFieldIsing) and lat.ndim == 1 and lat.periodic[0]
            and lat.n_sites % 2 == 0):
        return tfim_chain_energy(lat.n_sites, hamiltonian.h, hamiltonian.J)
    if hamiltonian.hilbert.size > max_dimension:
        return None
    return ground_state_energy(hamiltonian)


def ground_state_observables(hamiltonian):
    """Exact ground-state energy, <Z_i> and <Z_i Z_j>.

    Returns
    -------
    dict
        ``energy`` (float), ``z`` (n_spins,), ``zz`` (n_spins, n_spins).

    Examples
    --------
    >>> from heatbath.nqs import Heisenberg
    >>> from heatbath.nqs.exact import ground_state_observables
    >>> obs = ground_state_observables(Heisenberg(4))
    >>> round(float(obs["zz"][0, 1]), 10), round(float(obs["zz"][0, 2]), 10)
    (-0.6666666667, 0.3333333333)
    """
    e, v = ground_state(hamiltonian)
    hil = hamiltonian.hilbert
    s = hil.states_of(hil.all_codes()).astype(float)
    p = np.abs(v) ** 2
    p /= p.sum()
    return {"energy": e, "z": p @ s, "zz": (s * p[:, None]).T @ s}
