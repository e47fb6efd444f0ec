"""The SR-matrix kernels (heatbath.nqs._sr): pair products, scatter and force against their
NumPy twins bit for bit, against the dense S and F of the n x P log-derivatives, and the
same bits for 1, 2 and 3 threads."""

import numpy as np
import pytest

from heatbath.nqs import RBM, SR, Heisenberg, MetropolisSampler, TransverseFieldIsing, _sr
from heatbath.nqs.optimizers import pair_moments
from heatbath.reference import nqs as twin


def _samples(dtype, n_sweeps=40, N=6, alpha=2):
    H = TransverseFieldIsing(N, h=0.9) if dtype == "float64" else Heisenberg(N)
    psi = RBM(N, alpha=alpha, dtype=dtype, seed=3, scale=0.3)
    s, e, t, _, _ = MetropolisSampler(psi, hamiltonian=H, n_chains=8, seed=2).sample(n_sweeps, 5)
    n = s.shape[0] * s.shape[1]
    return psi._jacobian(s.reshape(n, -1), t.reshape(n, -1)), e.reshape(n)


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_kernels_equal_numpy_twins_bit_for_bit(dtype, thread_count):
    J, e = _samples(dtype)
    n, P = J.shape
    N, M = J.s.shape[1], J.t.shape[1]
    U, G = J.pair_products(thread_count)
    assert np.array_equal(U, twin.pairs(J.s)) and np.array_equal(G, twin.pairs(J.t))
    R = pair_moments(U, G, thread_count)
    mean, S = np.empty(P, dtype=J.dtype), np.zeros((P, P), dtype=J.dtype, order="F")
    _sr._scatter(R, N, M, 1.0 / n, 0.03, mean, S, thread_count)
    want_mean, want_S = twin.scatter(R, N, M, 1.0 / n, 0.03)
    assert np.array_equal(mean, want_mean) and np.array_equal(S, want_S)
    c = (e - e.mean()) * (1.0 / n)
    F = np.empty(P, dtype=J.dtype)
    _sr._force(J.s, J.t, c, F, np.empty(M, dtype=J.dtype))
    assert np.array_equal(F, twin.force(J.s, J.t, c))


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_pair_form_equals_dense_s_and_force(dtype):
    """S (lower triangle) and F from pair products equal O_bar^H O_bar and O_bar^H eps_bar."""
    J, e = _samples(dtype)
    n, P = J.shape
    O = J.dense()
    mo = O.mean(axis=0)
    S_dense = O.conj().T @ O / n - np.outer(mo.conj(), mo) + 0.01 * np.eye(P)
    S, mean = J.sr_matrix(0.01)
    assert np.array_equal(mean, J.sr_matrix(0.01)[1])
    assert np.max(np.abs(np.tril(S) - np.tril(S_dense))) <= 1e-13
    assert np.max(np.abs(mean - mo)) <= 1e-14
    F = O.conj().T @ (e - e.mean()) / n
    assert np.max(np.abs(J.force(e) - F)) <= 1e-13 * max(1.0, np.max(np.abs(F)))


def test_buffers_are_reused_and_resized():
    """The SR optimiser keeps its buffers between steps and remakes them for a new shape."""
    sr = SR(0.02, 0.01, solver="dense")
    J, e = _samples("float64", n_sweeps=40)
    d1 = sr.direction(J, e)
    S_buffer = sr._work["S"]
    assert np.array_equal(sr.direction(J, e), d1) and sr._work["S"] is S_buffer
    J2, e2 = _samples("float64", n_sweeps=40, N=5, alpha=1)
    d2 = sr.direction(J2, e2)
    assert d2.shape == (5 + 5 + 25,) and sr._work["S"].shape == (35, 35)
    assert np.array_equal(SR(0.02, 0.01, solver="dense").direction(J2, e2), d2)


def test_not_positive_definite_is_an_error():
    J, e = _samples("float64", n_sweeps=40)
    S, _ = J.sr_matrix(0.0)
    S[0, 0] = -1.0
    from heatbath.nqs.optimizers import _solve_lower

    with pytest.raises(np.linalg.LinAlgError, match="positive definite"):
        _solve_lower(S, np.ones(J.shape[1]))
