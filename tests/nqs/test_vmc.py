"""SR against a dense NumPy twin, VMC against Lanczos, resume and thread counts."""

import numpy as np
import pytest

from heatbath.nqs import (RBM, SGD, SR, VMC, Adam, Heisenberg, MetropolisSampler,
                          SymmetricRBM, TransverseFieldIsing, observables)
from heatbath.nqs.exact import ground_state_energy, ground_state_observables


def _dense_sr_twin(O, E, diag_shift):
    """S = <O* O> - <O*><O>, F = <O* E> - <O*><E>, by explicit sums; solve (S + eps) x = F."""
    n, p = O.shape
    mo = O.sum(axis=0) / n
    me = E.sum() / n
    S = np.einsum("nk,nl->kl", O.conj(), O) / n - np.outer(mo.conj(), mo)
    F = np.einsum("nk,n->k", O.conj(), E) / n - mo.conj() * me
    return np.linalg.solve(S + diag_shift * np.eye(p), F)


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
@pytest.mark.parametrize("solver", ["dense", "kernel"])
def test_sr_step_equals_dense_twin_on_fixed_samples(dtype, solver):
    H = Heisenberg(6, marshall_sign=dtype == "float64")
    psi = RBM(6, alpha=2, dtype=dtype, seed=3, scale=0.3)
    sampler = MetropolisSampler(psi, hamiltonian=H, n_chains=8, seed=2)
    n_sweeps = 40 if solver == "dense" else 6           # N_s > P and N_s < P (P = 90)
    s, e, t, _, _ = sampler.sample(n_sweeps, 5)
    n = s.shape[0] * s.shape[1]
    O = psi._derivatives(s.reshape(n, -1), t.reshape(n, -1))
    E = e.reshape(n)
    sr = SR(learning_rate=0.05, diag_shift=0.02, solver=solver)
    assert sr.uses_kernel(n, psi.n_parameters) == (solver == "kernel")
    got = sr.direction(O, E)
    want = _dense_sr_twin(O, E, 0.02)
    assert np.iscomplexobj(got) == (dtype == "complex128")
    assert np.max(np.abs(got - want)) <= 1e-10 * max(1.0, np.max(np.abs(want)))
    new = sr.step(psi.parameters, O, E)
    assert np.allclose(new, psi.parameters - 0.05 * want, rtol=0, atol=1e-11)


def test_vmc_tfim_n8_reaches_lanczos():
    """N = 8, h = 1, real RBM alpha = 1: within 1e-3 relative after 150 SR iterations."""
    H = TransverseFieldIsing(8, h=1.0)
    exact = ground_state_energy(H)
    vmc = VMC(H, RBM(8, alpha=1, seed=0), optimizer=SR(0.05, 0.01), n_samples=512,
              n_chains=16, seed=1)
    vmc.run(150)
    ev = vmc.evaluate(20000)
    assert abs(ev["energy"] - exact) / abs(exact) < 1e-3
    assert ev["energy_stderr"] < 2e-4 * abs(exact)
    # the variational principle, up to 4 standard errors
    assert ev["energy"] > exact - 4 * ev["energy_stderr"]


@pytest.mark.slow
def test_vmc_heisenberg_n8_complex_reaches_lanczos():
    """N = 8 Heisenberg, complex RBM alpha = 2, Marshall sign: 2e-3 relative.

    Without the Marshall sign this seed stalls at 2.9e-3 after 300 iterations (the sign
    structure has to be learned; NetKet applies the rule by default too).
    """
    H = Heisenberg(8, marshall_sign=True)
    exact = ground_state_energy(H)
    vmc = VMC(H, RBM(8, alpha=2, dtype="complex128", seed=0), optimizer=SR(0.05, 0.01),
              n_samples=1024, seed=2)
    vmc.run(300)
    ev = vmc.evaluate(20000)
    assert abs(ev["energy"] - exact) / abs(exact) < 2e-3


def test_observables_against_exact_ground_state():
    """A VMC state's <Z_0 Z_r> agree with Lanczos to 0.02 (a converged N = 8 TFIM)."""
    H = TransverseFieldIsing(8, h=1.0)
    vmc = VMC(H, SymmetricRBM(8, alpha=2, seed=0), optimizer=SR(0.05, 0.01), n_samples=512,
              seed=3)
    vmc.run(100)
    trace = vmc.sampler.run(400, burn_in=20, record_states=True)
    obs = observables(trace)
    ex = ground_state_observables(H)
    assert np.all(np.abs(obs["zz"][0] - ex["zz"][0]) < 0.02 + 5 * obs["zz_stderr"][0])
    assert abs(obs["energy"] - ex["energy"]) / abs(ex["energy"]) < 2e-3


@pytest.mark.parametrize("optimizer", [lambda: SR(0.02, 0.01), lambda: SGD(0.02),
                                       lambda: Adam(0.01)], ids=["sr", "sgd", "adam"])
def test_resume_is_bit_exact(tmp_path, optimizer):
    H = TransverseFieldIsing(6, h=0.8)

    def make():
        return VMC(H, RBM(6, alpha=1, dtype="complex128", seed=5), optimizer=optimizer(),
                   n_samples=96, n_chains=8, seed=7)

    ref = make()
    ref.run(6)
    first = make()
    first.run(3, checkpoint=tmp_path / "ck.npz", checkpoint_every=3)
    resumed = make()
    resumed.load_checkpoint(tmp_path / "ck.npz")
    assert resumed.iteration == 3
    resumed.run(3)
    assert np.array_equal(resumed.wavefunction.parameters, ref.wavefunction.parameters)
    assert resumed.history == ref.history


def test_vmc_same_bits_for_any_thread_count(thread_count):
    H = Heisenberg(8)

    def run(t):
        vmc = VMC(H, RBM(8, alpha=1, dtype="complex128", seed=1), n_samples=64, n_chains=5,
                  seed=4, n_threads=t)
        vmc.run(3)
        return vmc.wavefunction.parameters

    assert np.array_equal(run(thread_count), run(1))


def test_sgd_and_adam_lower_the_energy():
    H = TransverseFieldIsing(6, h=1.0)
    for opt in (SGD(0.05), Adam(0.02)):
        vmc = VMC(H, RBM(6, seed=0), optimizer=opt, n_samples=256, seed=0)
        h = vmc.run(40)
        assert np.mean(h["energy"][-5:]) < np.mean(h["energy"][:5]) - 0.1


def test_vmc_validation():
    H = TransverseFieldIsing(6)
    with pytest.raises(TypeError, match="optimizer"):
        VMC(H, RBM(6), optimizer="sr")
    with pytest.raises(TypeError, match="hamiltonian"):
        VMC(None, RBM(6))
    with pytest.raises(ValueError, match="learning_rate"):
        SR(learning_rate=-1)
    with pytest.raises(ValueError, match="diag_shift"):
        SR(diag_shift=float("nan"))
    with pytest.raises(ValueError, match="n_samples"):
        VMC(H, RBM(6), n_samples=0)
    vmc = VMC(H, RBM(6), n_samples=32)
    st = vmc.get_state()
    del st["parameters"]
    with pytest.raises(ValueError, match="missing"):
        vmc.set_state(st)
