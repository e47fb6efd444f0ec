"""Kernel: Wolff single-cluster updates on lattices (ferromagnet, h = 0).

A cluster grows from a uniformly chosen seed site: each neighbour that still
has the seed's old orientation joins with probability p_add = 1 - exp(-2 beta J),
tested with one draw (integer threshold ceil(p_add 2**53), as in
_metropolis.pyx). A spin is flipped as it joins, so "in the cluster" is simply
"no longer equal to the old orientation"; the stack holds each site at most
once. One Wolff "sweep" is a fixed number of cluster flips,
clusters_per_sweep. It must be fixed: stopping once "n_spins spins have
flipped" would make the recording time depend on the path, and the last
cluster of each sweep would be size-biased towards ordered states (measured
here: e = -1.202 instead of the exact -1.131 on a 16x16 torus at T = 2.5).

The kernel does not check its arguments: heatbath.spin validates them.
"""

from cython.parallel cimport prange
from libc.stdint cimport int8_t, int32_t, int64_t, uint32_t, uint64_t
from libc.stdlib cimport malloc, free

from heatbath._random cimport rng_t, rng_load, rng_store, rng_next, rng_bounded
from heatbath.spin._lattice cimport lattice_bonds as _bonds, magnetization as _mag


cdef int _wolff_chain(int8_t* s, Py_ssize_t n, const int32_t* nbr, int z, uint64_t thr,
                      Py_ssize_t per_sweep, uint64_t* state, Py_ssize_t burn_in,
                      Py_ssize_t n_sweeps,
                      Py_ssize_t thin, int64_t* bonds_out, int64_t* mag_out,
                      int64_t* n_clusters, int64_t* n_flipped) noexcept nogil:
    cdef rng_t r
    cdef int32_t* stack = <int32_t*>malloc(n * sizeof(int32_t))
    cdef Py_ssize_t sweep, top, size, cl, rec = 0
    cdef int32_t i, j, k
    cdef int8_t old
    cdef int64_t clusters = 0, total = 0
    if stack == NULL:
        return -1
    rng_load(&r, state)
    for sweep in range(burn_in + n_sweeps):
        for cl in range(per_sweep):
            i = <int32_t>rng_bounded(&r, <uint32_t>n)
            old = s[i]
            s[i] = -old
            stack[0] = i
            top = 1
            size = 1
            while top > 0:
                top -= 1
                i = stack[top]
                for k in range(z):
                    j = nbr[i * z + k]
                    if j >= 0 and s[j] == old:
                        if (rng_next(&r) >> 11) < thr:
                            s[j] = -old
                            stack[top] = j
                            top += 1
                            size += 1
            total += size
            clusters += 1
        if sweep >= burn_in and (sweep - burn_in + 1) % thin == 0:
            bonds_out[rec] = _bonds(s, nbr, n, z)
            mag_out[rec] = _mag(s, n)
            rec += 1
    rng_store(&r, state)
    n_clusters[0] = clusters
    n_flipped[0] = total
    free(stack)
    return 0


def _wolff_sweeps(int8_t[:, ::1] spins,         # IN/OUT (n_chains, n)
                  const int32_t[:, ::1] nbr,    # IN (n, z): +e_k then -e_k; -1 = none
                  const uint64_t[::1] thr,      # IN (n_chains,) ceil(p_add 2**53)
                  Py_ssize_t per_sweep,         # cluster flips per sweep, >= 1
                  uint64_t[:, ::1] states,      # IN/OUT (n_chains, 4)
                  Py_ssize_t burn_in, Py_ssize_t n_sweeps, Py_ssize_t thin,
                  int64_t[:, ::1] bonds_out,    # OUT (n_chains, n_sweeps // thin)
                  int64_t[:, ::1] mag_out,      # OUT (n_chains, n_sweeps // thin)
                  int64_t[::1] n_clusters,      # OUT (n_chains,)
                  int64_t[::1] n_flipped,       # OUT (n_chains,)
                  int n_threads):
    cdef Py_ssize_t c, n_chains = spins.shape[0], n = spins.shape[1]
    cdef int z = nbr.shape[1]
    cdef Py_ssize_t rec_stride = bonds_out.shape[1]
    cdef int64_t dummy = 0
    cdef int64_t* b0 = &bonds_out[0, 0] if rec_stride > 0 else &dummy
    cdef int64_t* m0 = &mag_out[0, 0] if rec_stride > 0 else &dummy
    cdef int failed = 0
    for c in prange(n_chains, schedule="static", num_threads=n_threads, nogil=True):
        if _wolff_chain(&spins[c, 0], n, &nbr[0, 0], z, thr[c], per_sweep, &states[c, 0],
                        burn_in, n_sweeps, thin, b0 + c * rec_stride, m0 + c * rec_stride,
                        &n_clusters[c], &n_flipped[c]) != 0:
            failed += 1
    if failed:
        raise MemoryError("could not allocate the Wolff cluster stack")
