"""Kernel: a matrix product cut into fixed output blocks, one BLAS call per block.

OpenBLAS gives different bits for different thread counts (it cuts the sum
differently when threaded). Here BLAS runs on one thread and the product is
cut into output blocks fixed by the shapes alone; OpenMP threads run the
blocks (prange), so any n_threads, and a build without OpenMP, make exactly
the same BLAS calls. The BLAS is scipy's (scipy.linalg.cython_blas), found
at import through its C-API capsules, so building needs no scipy headers.

Row-major C = A @ B is column-major C^T = B^T A^T: each operand is passed
as stored, with 'N' for a C-ordered one and 'T' for a Fortran-ordered one.
The Python caller (heatbath.rbm._layers.matmul) checks shapes and strides.
"""

from cpython.pycapsule cimport PyCapsule_GetName, PyCapsule_GetPointer
from cython cimport floating
from cython.parallel cimport prange

ctypedef void (*sgemm_t)(char*, char*, int*, int*, int*, float*, float*, int*, float*,
                         int*, float*, float*, int*) noexcept nogil
ctypedef void (*dgemm_t)(char*, char*, int*, int*, int*, double*, double*, int*, double*,
                         int*, double*, double*, int*) noexcept nogil

cdef sgemm_t _sgemm = NULL
cdef dgemm_t _dgemm = NULL


def _load():
    global _sgemm, _dgemm
    from scipy.linalg import cython_blas

    caps = cython_blas.__pyx_capi__
    _sgemm = <sgemm_t>PyCapsule_GetPointer(caps["sgemm"], PyCapsule_GetName(caps["sgemm"]))
    _dgemm = <dgemm_t>PyCapsule_GetPointer(caps["dgemm"], PyCapsule_GetName(caps["dgemm"]))


_load()


cdef void _block(floating* a, int lda, char ta, floating* b, int ldb, char tb,
                 floating* c, int ldc, int m, int n, int k) noexcept nogil:
    """c (m x n, row-major, ld ldc) = a (m x k) @ b (k x n)."""
    cdef floating one = 1, zero = 0
    if floating is float:
        _sgemm(&tb, &ta, &n, &m, &k, &one, b, &ldb, a, &lda, &zero, c, &ldc)
    else:
        _dgemm(&tb, &ta, &n, &m, &k, &one, b, &ldb, a, &lda, &zero, c, &ldc)


def _matmul(const floating[:, :] A, bint a_f, int lda,   # IN (M, K); a_f: Fortran-ordered
            const floating[:, :] B, bint b_f, int ldb,   # IN (K, N)
            floating[:, ::1] C,                       # OUT (M, N)
            bint by_rows,                             # cut rows (else columns)
            const Py_ssize_t[::1] cuts,               # block edges: 0 = e0 < ... = M or N
            int n_threads):
    cdef Py_ssize_t blk, n_blocks = cuts.shape[0] - 1, lo, hi
    cdef int M = A.shape[0], K = A.shape[1], N = B.shape[1], ldc = C.shape[1]
    cdef char ta = b'T' if a_f else b'N', tb = b'T' if b_f else b'N'
    cdef floating* pa = <floating*>&A[0, 0]   # BLAS only reads them
    cdef floating* pb = <floating*>&B[0, 0]
    cdef floating* pc = &C[0, 0]
    for blk in prange(n_blocks, schedule="static", num_threads=n_threads, nogil=True):
        lo = cuts[blk]
        hi = cuts[blk + 1]
        if hi <= lo:
            continue
        if by_rows:   # rows lo..hi of A and C
            _block(pa + (lo if a_f else lo * lda), lda, ta, pb, ldb, tb,
                   pc + lo * ldc, ldc, <int>(hi - lo), N, K)
        else:         # columns lo..hi of B and C
            _block(pa, lda, ta, pb + (lo * ldb if b_f else lo), ldb, tb,
                   pc + lo, ldc, M, <int>(hi - lo), K)
