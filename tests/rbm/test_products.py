"""The blocked, thread-count-independent products under the RBM kernels (heatbath.rbm._layers)."""

import numpy as np
import pytest

from heatbath.rbm import _blas, _layers
from heatbath.rbm._layers import matmul


def _tol(dtype, K):
    # Each entry is a K-term sum of O(1) products: the rounding error is at most about
    # K eps times the sum of |terms|; 4 K eps is a loose but exact-arithmetic bound here.
    return 4 * K * np.finfo(dtype).eps


@pytest.fixture(params=["numpy", "scipy"])
def blas(request):
    """Each product runs on numpy's ILP64 OpenBLAS (where found) and on scipy's."""
    addresses = _layers._numpy_ilp64_blas()
    if request.param == "numpy" and addresses == (0, 0):
        pytest.skip("numpy here does not bundle scipy-openblas64")
    _blas._use_ilp64(*(addresses if request.param == "numpy" else (0, 0)))
    yield request.param
    _blas._use_ilp64(*_layers._numpy_ilp64_blas())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(7, 5, 3), (300, 784, 500), (5000, 200, 9), (9, 200, 5000)])
@pytest.mark.parametrize("order", ["CC", "FC", "CF", "FF"])
def test_matmul_equals_numpy_and_is_thread_count_independent(blas, dtype, shape, order):
    M, K, N = shape
    rng = np.random.default_rng(M + N)
    A = rng.random((M, K)).astype(dtype)
    B = rng.random((K, N)).astype(dtype)
    A = np.asfortranarray(A) if order[0] == "F" else A
    B = np.asfortranarray(B) if order[1] == "F" else B
    expected = A.astype(np.float64) @ B.astype(np.float64)
    results = [matmul(A, B, n_threads) for n_threads in (1, 2, 3)]
    np.testing.assert_allclose(results[0], expected, rtol=_tol(dtype, K))
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_alpha_beta_update_in_place(blas, dtype):
    # out = alpha A @ B + beta out: what the trainer uses to update the weights' velocity.
    rng = np.random.default_rng(3)
    A = rng.random((784, 200)).astype(dtype).T.copy().T   # Fortran-ordered, as V^T is
    B = rng.random((200, 500)).astype(dtype)
    C0 = rng.random((784, 500)).astype(dtype)
    expected = 0.1 * (A.astype(float) @ B.astype(float)) + 0.5 * C0
    outs = []
    for n_threads in (1, 2, 3):
        C = C0.copy()
        assert matmul(A, B, n_threads, out=C, alpha=0.1, beta=0.5) is C
        outs.append(C)
    np.testing.assert_allclose(outs[0], expected, rtol=_tol(dtype, 200))
    for C in outs[1:]:
        np.testing.assert_array_equal(C, outs[0])


def test_bad_out_is_refused():
    A, B = np.ones((3, 4)), np.ones((4, 5))
    with pytest.raises(ValueError, match="beta != 0 needs out"):
        matmul(A, B, beta=1.0)
    with pytest.raises(ValueError, match="C-contiguous"):
        matmul(A, B, out=np.ones((5, 3)).T)
    with pytest.raises(ValueError, match="C-contiguous"):
        matmul(A, B, out=np.ones((3, 5), np.float32))
