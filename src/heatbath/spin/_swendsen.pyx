"""Kernel: Swendsen-Wang cluster updates on lattices (ferromagnet, h = 0), many chains.

One sweep:

1. Bond percolation: for each site i in increasing order and each of its
   +e_k neighbours j (k < z/2), if s_i = s_j one draw opens the bond with
   probability p_add = 1 - exp(-2 beta J) (integer threshold ceil(p 2**53),
   as in _metropolis.pyx). Open bonds join i and j in a union-find forest
   (path halving; the larger root is linked under the smaller, so the
   forest does not depend on anything but the bonds).
2. Labelling and flipping: sites are scanned in increasing order; the first
   time a cluster's root is met, one draw (its top bit) decides whether the
   whole cluster flips. Every cluster flips with probability 1/2,
   independently, which is the Swendsen-Wang update.

The draws are in a fixed order (bonds, then clusters in order of their
smallest site), so the NumPy twin (heatbath.reference.swendsen_wang)
reproduces the run bit for bit with scipy's connected components.

Improved estimator: the sum over clusters of |C|^2 (the cluster sizes
squared) is recorded at each recorded sweep; its mean is <M^2> exactly
(Fortuin-Kasteleyn), with a smaller variance than M^2 itself.

The kernel does not check its arguments: heatbath.spin validates them.
"""

from cython.parallel cimport prange
from libc.stdint cimport int8_t, int32_t, int64_t, uint64_t
from libc.stdlib cimport malloc, free

from heatbath._random cimport rng_t, rng_load, rng_store, rng_next
from heatbath.spin._lattice cimport lattice_bonds as _bonds, magnetization as _mag


cdef inline int32_t _find(int32_t* parent, int32_t i) noexcept nogil:
    while parent[i] != i:
        parent[i] = parent[parent[i]]      # path halving
        i = parent[i]
    return i


cdef int _sw_chain(int8_t* s, Py_ssize_t n, const int32_t* nbr, int z, uint64_t thr,
                   uint64_t* state, Py_ssize_t burn_in, Py_ssize_t n_sweeps, Py_ssize_t thin,
                   int64_t* bonds_out, int64_t* mag_out, int64_t* m2_out,
                   int64_t* n_clusters) noexcept nogil:
    cdef rng_t r
    cdef int32_t* parent = <int32_t*>malloc(n * sizeof(int32_t))
    cdef int32_t* size = <int32_t*>malloc(n * sizeof(int32_t))
    cdef int8_t* coin = <int8_t*>malloc(n * sizeof(int8_t))
    cdef Py_ssize_t sweep, i, rec = 0
    cdef int k, half = z // 2
    cdef int32_t j, ri, rj
    cdef int64_t clusters = 0, m2
    if parent == NULL or size == NULL or coin == NULL:
        free(parent)
        free(size)
        free(coin)
        return -1
    rng_load(&r, state)
    for sweep in range(burn_in + n_sweeps):
        for i in range(n):
            parent[i] = <int32_t>i
            coin[i] = -1
            size[i] = 0
        for i in range(n):
            for k in range(half):
                j = nbr[i * z + k]
                if j >= 0 and s[i] == s[j] and (rng_next(&r) >> 11) < thr:
                    ri = _find(parent, <int32_t>i)
                    rj = _find(parent, j)
                    if ri < rj:
                        parent[rj] = ri
                    elif rj < ri:
                        parent[ri] = rj
        for i in range(n):
            ri = _find(parent, <int32_t>i)
            if coin[ri] < 0:
                coin[ri] = <int8_t>(rng_next(&r) >> 63)
                clusters += 1
            size[ri] += 1
            if coin[ri]:
                s[i] = -s[i]
        if sweep >= burn_in and (sweep - burn_in + 1) % thin == 0:
            m2 = 0
            for i in range(n):
                m2 += <int64_t>size[i] * size[i]
            bonds_out[rec] = _bonds(s, nbr, n, z)
            mag_out[rec] = _mag(s, n)
            m2_out[rec] = m2
            rec += 1
    rng_store(&r, state)
    n_clusters[0] = clusters
    free(parent)
    free(size)
    free(coin)
    return 0


def _sw_sweeps(int8_t[:, ::1] spins,         # IN/OUT (n_chains, n)
               const int32_t[:, ::1] nbr,    # IN (n, z): +e_k then -e_k; -1 = none
               const uint64_t[::1] thr,      # IN (n_chains,) ceil(p_add 2**53)
               uint64_t[:, ::1] states,      # IN/OUT (n_chains, 4)
               Py_ssize_t burn_in, Py_ssize_t n_sweeps, Py_ssize_t thin,
               int64_t[:, ::1] bonds_out,    # OUT (n_chains, n_sweeps // thin)
               int64_t[:, ::1] mag_out,      # OUT (n_chains, n_sweeps // thin)
               int64_t[:, ::1] m2_out,       # OUT (n_chains, n_sweeps // thin) sum |C|^2
               int64_t[::1] n_clusters,      # OUT (n_chains,)
               int n_threads):
    cdef Py_ssize_t c, n_chains = spins.shape[0], n = spins.shape[1]
    cdef int z = nbr.shape[1]
    cdef Py_ssize_t rec_stride = bonds_out.shape[1]
    cdef int64_t dummy = 0
    cdef int64_t* b0 = &bonds_out[0, 0] if rec_stride > 0 else &dummy
    cdef int64_t* m0 = &mag_out[0, 0] if rec_stride > 0 else &dummy
    cdef int64_t* q0 = &m2_out[0, 0] if rec_stride > 0 else &dummy
    cdef int failed = 0
    for c in prange(n_chains, schedule="static", num_threads=n_threads, nogil=True):
        if _sw_chain(&spins[c, 0], n, &nbr[0, 0], z, thr[c], &states[c, 0], burn_in,
                     n_sweeps, thin, b0 + c * rec_stride, m0 + c * rec_stride,
                     q0 + c * rec_stride, &n_clusters[c]) != 0:
            failed += 1
    if failed:
        raise MemoryError("could not allocate the Swendsen-Wang work arrays")
