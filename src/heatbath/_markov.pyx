"""Kernel: run many finite-state Markov chains, one random stream per chain.

Called by :func:`heatbath.markov.simulate`, which validates every argument.
This kernel does not check shapes, indices or that the CDF rows end in 1.0.
"""

from cython.parallel cimport prange
from libc.stdint cimport int64_t, uint64_t

from heatbath._random cimport rng_t, rng_load, rng_store, rng_double


cdef inline Py_ssize_t _search(const double* cdf, Py_ssize_t n, double u) noexcept nogil:
    """First j with u < cdf[j]; cdf is non-decreasing with cdf[n-1] == 1 > u.

    Zero-probability states have cdf[j] == cdf[j-1] and can never be returned.
    Branch-free: the answer stays in [base, base + n); each step keeps the
    upper part when its first element's predecessor is <= u. The select
    compiles to a conditional move, so random u cost no mispredicted branches.
    """
    cdef Py_ssize_t base = 0, half
    while n > 1:
        half = n >> 1
        base = base + half if cdf[base + half - 1] <= u else base
        n -= half
    return base


cdef void _chain(const double* cdf, Py_ssize_t n_states, Py_ssize_t x,
                 uint64_t* state, Py_ssize_t burn_in, Py_ssize_t n_steps,
                 Py_ssize_t thin, int64_t* path, int64_t* counts,
                 bint record_path, bint record_counts) noexcept nogil:
    cdef rng_t r
    cdef Py_ssize_t t, k = 0
    rng_load(&r, state)
    for t in range(burn_in):
        x = _search(cdf + x * n_states, n_states, rng_double(&r))
    for t in range(1, n_steps + 1):
        x = _search(cdf + x * n_states, n_states, rng_double(&r))
        if t % thin == 0:
            if record_path:
                path[k] = x
                k += 1
            if record_counts:
                counts[x] += 1
    rng_store(&r, state)


def _simulate(const double[:, ::1] cdf,   # IN  (n_states, n_states) row CDFs
              const int64_t[::1] x0,      # IN  (n_chains,) start states
              uint64_t[:, ::1] states,    # IN/OUT (n_chains, 4) stream states
              int64_t[:, ::1] path,       # OUT (n_chains, n_steps // thin) or (n_chains, 0)
              int64_t[:, ::1] counts,     # OUT (n_chains, n_states), zeroed, or (n_chains, 0)
              Py_ssize_t burn_in, Py_ssize_t n_steps, Py_ssize_t thin,
              int n_threads):
    cdef Py_ssize_t c, n_chains = x0.shape[0], n_states = cdf.shape[0]
    cdef bint record_path = path.shape[1] > 0
    cdef bint record_counts = counts.shape[1] > 0
    # Raw row pointers are taken only where the rows exist: &a[c, 0] of an
    # empty row would be an out-of-bounds index in a bounds-checked build.
    cdef int64_t* path_ptr = &path[0, 0] if record_path else NULL
    cdef int64_t* counts_ptr = &counts[0, 0] if record_counts else NULL
    cdef Py_ssize_t path_stride = path.shape[1], counts_stride = counts.shape[1]
    for c in prange(n_chains, schedule="static", num_threads=n_threads, nogil=True):
        _chain(&cdf[0, 0], n_states, x0[c], &states[c, 0], burn_in, n_steps, thin,
               path_ptr + c * path_stride if record_path else NULL,
               counts_ptr + c * counts_stride if record_counts else NULL,
               record_path, record_counts)
