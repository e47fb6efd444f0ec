"""Lattices, Hamiltonians and the exact references they are held against."""

import numpy as np
import pytest

from heatbath.lattice import Lattice, chain, cubic, square
from heatbath.nqs import Heisenberg, Spins, TransverseFieldIsing
from heatbath.nqs.exact import (exact_energy, ground_state, ground_state_observables,
                                tfim_chain_energy)


def test_lattice_bonds_and_sublattices():
    assert chain(5, periodic=False).bonds.tolist() == [[0, 1], [1, 2], [2, 3], [3, 4]]
    assert square(4).bonds.shape == (32, 2) and square(4).bipartite
    assert cubic(3).bonds.shape == (81, 2) and not cubic(3).bipartite
    assert Lattice((3, 4), periodic=(False, True)).bonds.shape == (2 * 4 + 3 * 4, 2)
    # each bond once, no self bonds
    b = square(5).bonds
    assert len({tuple(sorted(x)) for x in b.tolist()}) == len(b) and (b[:, 0] != b[:, 1]).all()


def test_translations_are_lattice_symmetries():
    for lat in (chain(6), square(3), Lattice((3, 4))):
        bonds = {tuple(sorted(x)) for x in lat.bonds.tolist()}
        T = lat.translations
        assert T.shape == (lat.n_sites, lat.n_sites)
        assert (T[0] == np.arange(lat.n_sites)).all()
        for perm in T:
            assert sorted(perm) == list(range(lat.n_sites))
            assert {tuple(sorted((perm[i], perm[j]))) for i, j in bonds} == bonds


def test_lattice_rejects_bad_input():
    with pytest.raises(TypeError, match="shape"):
        Lattice("4")
    with pytest.raises(ValueError, match="side"):
        Lattice(2)
    with pytest.raises(ValueError, match="periodic"):
        Lattice((3, 3), periodic=(True,))


def test_hilbert_sector():
    hil = Spins(6, total_sz=1)
    assert hil.size == 15 and hil.n_up == 4
    assert (hil.all_states().sum(axis=1) == 2).all()
    with pytest.raises(ValueError, match="total_sz"):
        Spins(5, total_sz=0)
    with pytest.raises(TypeError, match="total_sz"):
        Spins(4, total_sz="0")


@pytest.mark.parametrize("n,h", [(8, 0.5), (8, 1.0), (10, 1.0), (10, 2.0)])
def test_tfim_closed_form_matches_lanczos(n, h):
    e, _ = ground_state(TransverseFieldIsing(n, h=h))
    assert abs(e - tfim_chain_energy(n, h=h)) < 1e-9 * n


def test_sparse_matrix_matches_connected_elements():
    # H_{s s'} from the sparse matrix equals the connected elements, row by row
    for H in (TransverseFieldIsing(square(3, periodic=False), h=0.7, J=-0.3),
              Heisenberg(6, delta=0.5, total_sz=None), Heisenberg(6, marshall_sign=True)):
        M = H.to_sparse().toarray()
        assert np.allclose(M, M.T)
        hil = H.hilbert
        codes = hil.all_codes()
        states = hil.states_of(codes)
        conn, mels = H.connected(states)
        dense = np.zeros_like(M)
        for r in range(len(codes)):
            for c, v in zip(hil.codes_of(conn[r]), mels[r]):
                if v != 0:
                    dense[r, np.searchsorted(codes, c)] += v
        assert np.array_equal(dense, M)


def test_sz_sector_and_marshall_sign_keep_the_ground_state():
    full, _ = ground_state(Heisenberg(8, total_sz=None))
    sector, _ = ground_state(Heisenberg(8, total_sz=0))
    marshall, v = ground_state(Heisenberg(8, marshall_sign=True))
    assert abs(full - sector) < 1e-9 and abs(marshall - sector) < 1e-9
    # with the Marshall sign the ground state has one sign
    assert (v > -1e-12).all() or (v < 1e-12).all()
    # a 2D lattice too: Lanczos against dense diagonalisation
    lat = Lattice((4, 3), periodic=(True, False))
    e2d, _ = ground_state(Heisenberg(lat, marshall_sign=True))
    dense = np.linalg.eigvalsh(Heisenberg(lat).to_sparse().toarray())[0]
    assert abs(e2d - dense) < 1e-9


def test_exact_observables_and_energy_dispatch():
    H = TransverseFieldIsing(8, h=1.0)
    obs = ground_state_observables(H)
    assert abs(obs["energy"] - tfim_chain_energy(8, 1.0)) < 1e-9
    assert np.allclose(obs["z"], 0, atol=1e-9)              # Z2 symmetric ground state
    assert np.allclose(obs["zz"], obs["zz"].T) and np.allclose(np.diag(obs["zz"]), 1)
    # translation invariance: <Z_0 Z_r> = <Z_1 Z_{1+r}>
    assert np.allclose(obs["zz"][0, 1:4], [obs["zz"][1, 2], obs["zz"][1, 3], obs["zz"][1, 4]])
    assert exact_energy(TransverseFieldIsing(Lattice(200))) == tfim_chain_energy(200)
    assert exact_energy(Heisenberg(40)) is None
