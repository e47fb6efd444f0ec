# Shared inline pieces of the lattice kernels (_metropolis.pyx, _cluster.pyx).

from libc.stdint cimport int8_t, int32_t, int64_t


cdef inline int64_t lattice_bonds(const int8_t* s, const int32_t* nbr, Py_ssize_t n,
                                  int z) noexcept nogil:
    """Sum over bonds of s_i s_j: each site with its +e_k neighbours (the first z/2)."""
    cdef Py_ssize_t i
    cdef int k, half = z // 2
    cdef int64_t total = 0
    for i in range(n):
        for k in range(half):
            if nbr[i * z + k] >= 0:
                total += s[i] * s[nbr[i * z + k]]
    return total


cdef inline int64_t magnetization(const int8_t* s, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    cdef int64_t total = 0
    for i in range(n):
        total += s[i]
    return total
