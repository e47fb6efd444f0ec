"""Kernel: a matrix product cut into fixed output blocks, one BLAS call per block.

OpenBLAS gives different bits for different thread counts (it cuts the sum
differently when threaded). Here BLAS runs on one thread and the product is
cut into output blocks fixed by the shapes alone; OpenMP threads run the
blocks (prange), so any n_threads, and a build without OpenMP, make exactly
the same BLAS calls. scipy's BLAS (scipy.linalg.cython_blas) is found at
import through its C-API capsules, so building needs no scipy headers.

Row-major C = A @ B is column-major C^T = B^T A^T: each operand is passed
as stored, with 'N' for a C-ordered one and 'T' for a Fortran-ordered one.
The Python caller (heatbath.rbm._layers.matmul) checks shapes and strides.

Which BLAS. numpy's wheels bundle an OpenBLAS with 64-bit integers
(scipy_openblas64_, symbols scipy_sgemm_64_ ...) that is often newer than
scipy's. Where heatbath.rbm._layers finds it, it hands its gemm addresses
to :func:`_use_ilp64` and every block runs on numpy's BLAS, the library
NumPy's own threaded matmul uses (on the 2-core x86-64 machine of the
bench, 2-15% faster per call single-threaded than scipy's 0.3.30, measured
at the 784x500 shapes). Otherwise scipy's LP64 BLAS runs them. The choice
is made once, at import, so one process always makes the same calls.
"""

from cpython.pycapsule cimport PyCapsule_GetName, PyCapsule_GetPointer
from cython cimport floating
from cython.parallel cimport prange
from libc.stdint cimport int64_t

ctypedef void (*sgemm_t)(char*, char*, int*, int*, int*, float*, float*, int*, float*,
                         int*, float*, float*, int*) noexcept nogil
ctypedef void (*dgemm_t)(char*, char*, int*, int*, int*, double*, double*, int*, double*,
                         int*, double*, double*, int*) noexcept nogil

ctypedef void (*sgemm64_t)(char*, char*, int64_t*, int64_t*, int64_t*, float*, float*,
                           int64_t*, float*, int64_t*, float*, float*, int64_t*) noexcept nogil
ctypedef void (*dgemm64_t)(char*, char*, int64_t*, int64_t*, int64_t*, double*, double*,
                           int64_t*, double*, int64_t*, double*, double*, int64_t*) noexcept nogil

cdef sgemm_t _sgemm = NULL
cdef dgemm_t _dgemm = NULL
cdef sgemm64_t _sgemm64 = NULL
cdef dgemm64_t _dgemm64 = NULL


def _load():
    global _sgemm, _dgemm
    from scipy.linalg import cython_blas

    caps = cython_blas.__pyx_capi__
    _sgemm = <sgemm_t>PyCapsule_GetPointer(caps["sgemm"], PyCapsule_GetName(caps["sgemm"]))
    _dgemm = <dgemm_t>PyCapsule_GetPointer(caps["dgemm"], PyCapsule_GetName(caps["dgemm"]))


_load()


def _use_ilp64(size_t sgemm_address, size_t dgemm_address):
    """Run the blocks on an ILP64 BLAS (``?gemm_`` with 64-bit integers) at these addresses.

    0, 0 goes back to scipy's BLAS. Returns whether the ILP64 BLAS is in use.
    """
    global _sgemm64, _dgemm64
    if sgemm_address == 0 or dgemm_address == 0:
        _sgemm64, _dgemm64 = NULL, NULL
        return False
    _sgemm64 = <sgemm64_t>sgemm_address
    _dgemm64 = <dgemm64_t>dgemm_address
    return True


cdef void _block(floating* a, int lda, char ta, floating* b, int ldb, char tb,
                 floating* c, int ldc, int m, int n, int k, floating one,
                 floating zero) noexcept nogil:
    """c (m x n, row-major, ld ldc) = one a (m x k) @ b (k x n) + zero c.

    ``one`` and ``zero`` are BLAS's alpha and beta (1 and 0 for a plain product).
    """
    cdef int64_t m8 = m, n8 = n, k8 = k, lda8 = lda, ldb8 = ldb, ldc8 = ldc
    if floating is float:
        if _sgemm64 != NULL:
            _sgemm64(&tb, &ta, &n8, &m8, &k8, &one, b, &ldb8, a, &lda8, &zero, c, &ldc8)
        else:
            _sgemm(&tb, &ta, &n, &m, &k, &one, b, &ldb, a, &lda, &zero, c, &ldc)
    else:
        if _dgemm64 != NULL:
            _dgemm64(&tb, &ta, &n8, &m8, &k8, &one, b, &ldb8, a, &lda8, &zero, c, &ldc8)
        else:
            _dgemm(&tb, &ta, &n, &m, &k, &one, b, &ldb, a, &lda, &zero, c, &ldc)


def _matmul(const floating[:, :] A, bint a_f, int lda,   # IN (M, K); a_f: Fortran-ordered
            const floating[:, :] B, bint b_f, int ldb,   # IN (K, N)
            floating[:, ::1] C,                       # IN/OUT (M, N): alpha A B + beta C
            bint by_rows,                             # cut rows (else columns)
            const Py_ssize_t[::1] cuts,               # block edges: 0 = e0 < ... = M or N
            int n_threads, double alpha=1.0, double beta=0.0):
    cdef Py_ssize_t blk, n_blocks = cuts.shape[0] - 1, lo, hi
    cdef floating f_alpha = <floating>alpha, f_beta = <floating>beta
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
                   pc + lo * ldc, ldc, <int>(hi - lo), N, K, f_alpha, f_beta)
        else:         # columns lo..hi of B and C
            _block(pa, lda, ta, pb + (lo * ldb if b_f else lo), ldb, tb,
                   pc + lo, ldc, M, <int>(hi - lo), K, f_alpha, f_beta)
