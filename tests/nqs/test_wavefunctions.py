"""RBM wavefunctions: log psi, log-derivatives, symmetry, files, validation."""

import numpy as np
import pytest

from heatbath.lattice import Lattice
from heatbath.nqs import RBM, Spins, SymmetricRBM, load_wavefunction

DTYPES = ["float64", "complex128"]


def _brute_log_psi(a, b, W, s):
    s = s.astype(float)
    return np.log(np.exp(s @ a) * np.prod(2 * np.cosh(b + s @ W), axis=1))


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_psi_matches_the_product_formula(dtype):
    psi = RBM(6, alpha=1.5, dtype=dtype, seed=3, scale=0.4)
    s = Spins(6).all_states()
    got = psi.log_psi(s)
    want = _brute_log_psi(psi.a, psi.b, psi.W, s)
    # logs of complex numbers agree modulo 2 pi i
    assert np.allclose(np.exp(got - want), 1.0, atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["rbm", "symmetric"])
def test_log_derivatives_match_finite_differences(dtype, kind):
    psi = (RBM(5, alpha=1, dtype=dtype, seed=1, scale=0.3) if kind == "rbm"
           else SymmetricRBM(5, alpha=2, dtype=dtype, seed=1, scale=0.3))
    s = Spins(5).all_states()
    O = psi.log_derivatives(s)
    p0 = psi.parameters
    eps = 1e-6
    for k in range(psi.n_parameters):
        dp = np.zeros_like(p0)
        dp[k] = eps
        psi.parameters = p0 + dp
        up = psi.log_psi(s)
        psi.parameters = p0 - dp
        down = psi.log_psi(s)
        # holomorphic: a real step gives the complex derivative
        assert np.allclose((up - down) / (2 * eps), O[:, k], atol=1e-7), k
    psi.parameters = p0


@pytest.mark.parametrize("dtype", DTYPES)
def test_symmetric_rbm_is_the_expanded_rbm_and_invariant(dtype):
    lat = Lattice((3, 4))
    sym = SymmetricRBM(lat, alpha=2, dtype=dtype, seed=2, scale=0.3)
    a, b, W = sym.expanded()
    full = RBM(12, alpha=sym.n_hidden / 12, dtype=dtype)
    full.parameters = np.concatenate([a, b, W.ravel()])
    s = np.random.default_rng(0).choice([-1, 1], size=(20, 12))
    assert np.allclose(sym.log_psi(s), full.log_psi(s))
    for perm in lat.translations:
        moved = np.empty_like(s)
        moved[:, perm] = s
        assert np.allclose(np.exp(sym.log_psi(moved) - sym.log_psi(s)), 1.0)


def test_save_load_roundtrip(tmp_path):
    for psi in (RBM(4, alpha=2, dtype="complex128", seed=0),
                SymmetricRBM(Lattice((3, 3)), alpha=2, seed=0)):
        path = tmp_path / "psi.npz"
        psi.save(path)
        back = load_wavefunction(path)
        assert type(back) is type(psi) and back.dtype == psi.dtype
        assert np.array_equal(back.parameters, psi.parameters)
        assert np.array_equal(back.log_psi([[1] * psi.n_visible]),
                              psi.log_psi([[1] * psi.n_visible]))


def test_validation():
    with pytest.raises(ValueError, match="dtype"):
        RBM(4, dtype="float32")
    with pytest.raises(TypeError, match="alpha"):
        RBM(4, alpha="1")
    with pytest.raises(ValueError, match="alpha"):
        RBM(4, alpha=0)
    psi = RBM(4)
    with pytest.raises(TypeError, match="complex"):
        psi.parameters = psi.parameters + 1j
    with pytest.raises(ValueError, match="finite"):
        psi.parameters = np.full(psi.n_parameters, np.nan)
    with pytest.raises(ValueError, match="shape"):
        psi.parameters = np.zeros(3)
    with pytest.raises(ValueError, match="-1 and \\+1"):
        psi.log_psi([[0, 1, 1, 1]])
    with pytest.raises(ValueError, match="shape"):
        psi.log_psi([[1, 1, 1]])
