"""The NQS Metropolis kernel: local energies and ratios against brute force, the NumPy
twin bit for bit, thread counts, resume, and chi-square against exact |psi|^2."""

import numpy as np
import pytest
from scipy import stats

from heatbath.lattice import Lattice
from heatbath.nqs import RBM, Heisenberg, MetropolisSampler, Spins, SymmetricRBM
from heatbath.nqs import TransverseFieldIsing
from heatbath.nqs.sampler import MOVES, tables
from heatbath.reference import nqs as twin

DTYPES = ["float64", "complex128"]

HAMILTONIANS = {
    "tfim chain": lambda: TransverseFieldIsing(8, h=0.7, J=1.3),
    "tfim 3x3 open": lambda: TransverseFieldIsing(Lattice((3, 3), periodic=False), h=1.1),
    "heisenberg": lambda: Heisenberg(8, total_sz=None),
    "xxz marshall": lambda: Heisenberg(Lattice(10), delta=0.4, marshall_sign=True),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", HAMILTONIANS)
def test_kernel_local_energies_match_brute_force(name, dtype):
    H = HAMILTONIANS[name]()
    psi = RBM(H.n_spins, alpha=1.5, dtype=dtype, seed=4, scale=0.5)
    states = H.hilbert.all_states()
    e, t = MetropolisSampler(psi, hamiltonian=H, seed=0).local_energies(states)
    want = H.local_energy(psi, states)                   # from log psi of every s'
    assert np.allclose(e, want, rtol=1e-11, atol=1e-11 * np.abs(want).max())
    assert np.allclose(t, np.tanh(psi.theta(states)), rtol=1e-12, atol=1e-13)
    # log-derivatives from the kernel's table equal the wavefunction's
    assert np.allclose(psi._derivatives(states, t), psi.log_derivatives(states), atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_one_and_two_spin_ratios_match_brute_force(dtype):
    # A Hamiltonian with unit elements makes E_loc a sum of ratios; a one-bond
    # lattice isolates single ratios: TFIM on a 2-site open chain with J = 0 gives
    # -h (r_0 + r_1), the XXZ bond 2 J r_01 for an antiparallel pair.
    psi = RBM(2, alpha=3, dtype=dtype, seed=5, scale=0.8)
    for s in ([1, 1], [1, -1], [-1, 1], [-1, -1]):
        s = np.array([s])
        lp = psi.log_psi(s)[0]
        r = [np.exp(psi.log_psi(s * np.array([[-1, 1]]))[0] - lp),
             np.exp(psi.log_psi(s * np.array([[1, -1]]))[0] - lp)]
        H = TransverseFieldIsing(Lattice(2, periodic=False), h=1.0, J=0.0)
        e, _ = MetropolisSampler(psi, hamiltonian=H, seed=0).local_energies(s)
        assert np.isclose(e[0], -(r[0] + r[1]), rtol=1e-12)
        H = Heisenberg(Lattice(2, periodic=False), J=0.5, delta=0.0, total_sz=None)
        e, _ = MetropolisSampler(psi, hamiltonian=H, seed=0).local_energies(s)
        if s[0, 0] != s[0, 1]:
            assert np.isclose(e[0], np.exp(psi.log_psi(-s)[0] - lp), rtol=1e-12)


def _run_both(psi, H, move, n_chains, burn_in, n_sweeps, thin, seed):
    sampler = MetropolisSampler(psi, hamiltonian=H, move=move, n_chains=n_chains, seed=seed,
                                n_threads=2)
    spins0, states0 = sampler.spins, sampler.get_state()["stream_state"]
    got = sampler.sample(n_sweeps, burn_in, thin)
    a, b, W = psi.expanded()
    ham, bonds, c_diag, c_off = sampler._ham_args()
    ref = twin.sample(spins0, *twin.tables(a, b, W), states0, MOVES[move], sampler._pairs,
                      ham, bonds, c_diag, c_off, burn_in, n_sweeps, thin)
    return sampler, got, ref


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("move", ["flip", "exchange"])
def test_kernel_equals_numpy_twin_bit_for_bit(dtype, move):
    H = (TransverseFieldIsing(6, h=0.8) if move == "flip"
         else Heisenberg(6, marshall_sign=True))
    psi = RBM(6, alpha=1, dtype=dtype, seed=6, scale=0.6)
    sampler, got, ref = _run_both(psi, H, move, 3, 2, 6, 2, 11)
    s_out, eloc, tanh, acc, att = got
    r_spins, r_states, r_s, r_e, r_t, r_acc, r_att = ref
    assert np.array_equal(sampler.spins, r_spins)
    assert np.array_equal(sampler.get_state()["stream_state"], r_states)
    assert np.array_equal(s_out, r_s) and np.array_equal(acc, r_acc)
    assert np.array_equal(att, r_att)
    assert np.array_equal(eloc, r_e) and np.array_equal(tanh, r_t)
    assert (acc > 0).all()
    # and the twin of _measure
    e, t = sampler.local_energies(s_out[0])
    a, b, W = psi.expanded()
    ham, bonds, c_diag, c_off = sampler._ham_args()
    re, rt = twin.measure(s_out[0], *twin.tables(a, b, W), ham, bonds, c_diag, c_off)
    assert np.array_equal(e, re) and np.array_equal(t, rt)
    assert all(np.array_equal(x, y) for x, y in zip(tables(psi), twin.tables(a, b, W)))


def test_same_bits_for_any_thread_count_and_split(thread_count):
    H = Heisenberg(8)
    psi = SymmetricRBM(8, alpha=2, dtype="complex128", seed=1, scale=0.5)
    ref = MetropolisSampler(psi, hamiltonian=H, n_chains=7, seed=3, n_threads=1).run(
        20, 3, verbose=True)                  # the progress bar cuts the run into pieces
    s = MetropolisSampler(psi, hamiltonian=H, n_chains=7, seed=3, n_threads=thread_count)
    first = s.run(8, 3)
    state = s.get_state()
    second = s.run(12, record_states=True)
    for key in ("energy", "energy_imag", "magnetization"):
        assert np.array_equal(np.concatenate([first[key], second[key]]), ref[key])
    assert np.array_equal(second.final_state, ref.final_state)
    # resume from the saved state in a new sampler
    s2 = MetropolisSampler(psi, hamiltonian=H, n_chains=7, seed=99, n_threads=thread_count)
    s2.set_state(state)
    again = s2.run(12, record_states=True)
    assert np.array_equal(again.states, second.states)
    assert np.array_equal(again.acceptance_rate, second.acceptance_rate)


def _chi_square_pvalue(samples, hilbert, psi):
    codes = hilbert.all_codes()
    p = np.exp(2 * psi.log_psi(hilbert.states_of(codes)).real)
    p /= p.sum()
    idx = np.searchsorted(codes, hilbert.codes_of(samples))
    counts = np.bincount(idx, minlength=len(codes))
    expected = p * counts.sum()
    # states expected fewer than 5 times are pooled into one bin
    low = expected < 5
    counts = np.append(counts[~low], counts[low].sum())
    expected = np.append(expected[~low], expected[low].sum())
    return stats.chisquare(counts, expected).pvalue


@pytest.mark.parametrize("move", ["flip", pytest.param("exchange", marks=pytest.mark.slow)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_chi_square_against_exact_psi_squared(move, dtype, global_seed):
    """One state per chain after 200 sweeps (flips) or 2000 sweeps (nearest-neighbour
    exchanges, which mix diffusively) from a random start: independent draws.

    False-alarm rate: each case rejects at p < 1e-3, so 4e-3 for the four cases
    at one seed. N = 8, a random RBM with parameters of scale 0.3: |psi|^2 spans
    about five decades, far from uniform, and the chains mix in far fewer than
    200 sweeps (at scale 0.5, acceptance 8%, they need over 1000). States
    expected < 5 times are pooled into one bin.
    """
    H = TransverseFieldIsing(8) if move == "flip" else Heisenberg(8)
    psi = RBM(8, alpha=1, dtype=dtype, seed=100 + global_seed, scale=0.3)
    sampler = MetropolisSampler(psi, hamiltonian=H, move=move, n_chains=6000,
                                seed=global_seed)
    trace = sampler.run(1, burn_in=200 if move == "flip" else 2000, record_states=True)
    samples = trace.states[0]
    assert _chi_square_pvalue(samples, H.hilbert, psi) > 1e-3


def test_sampler_validation():
    psi = RBM(6)
    with pytest.raises(ValueError, match="total_sz"):
        MetropolisSampler(psi, hamiltonian=Heisenberg(6), move="flip")
    with pytest.raises(ValueError, match="move"):
        MetropolisSampler(psi, move="swap")
    with pytest.raises(ValueError, match="temperature"):
        MetropolisSampler(psi, temperature=2.0)
    with pytest.raises(ValueError, match="spins"):
        MetropolisSampler(psi, hamiltonian=TransverseFieldIsing(8))
    with pytest.raises(TypeError, match="wavefunction"):
        MetropolisSampler(object())
    with pytest.raises(ValueError, match="n_chains"):
        MetropolisSampler(psi, n_chains=0)
    s = MetropolisSampler(psi, hamiltonian=Heisenberg(6))
    st = s.get_state()
    st["spins"] = np.ones_like(st["spins"])
    with pytest.raises(ValueError, match="Sz"):
        s.set_state(st)
    assert Spins(6, total_sz=0).contains(s.spins).all()
