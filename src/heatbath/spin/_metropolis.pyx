"""Kernels: single-spin flip sweeps (Metropolis and heat-bath) over many chains.

Both updates flip spin i with a probability q that depends only on the spin,
its neighbour sum (lattices) or its local field (general graphs):

- Metropolis: q = min(1, exp(-beta dE)), and q = 1/2 where beta dE = 0 (always
  accepting those makes fixed-order sweeps non-ergodic; see
  heatbath.spin.samplers.flip_probabilities);
- heat-bath (Gibbs): q = 1 / (1 + exp(beta dE)). For +-1 spins, redrawing s_i
  from p(s_i | rest) is exactly a flip with this probability.

On lattices q takes at most 2 (2d + 1) values, so the Python layer passes a
per-chain table of integer thresholds ceil(q 2**53): a flip happens when the
top 53 bits of one 64-bit draw are below the threshold, which is the same
event as u < q for the double u = bits * 2**-53. There is no exp and no
float conversion in the inner loop. Every site visit draws exactly one
number, so a NumPy twin can reproduce the run bit for bit.

Sweep order (lattices): all sites of colour 0 (even coordinate sum) in
increasing index, then all of colour 1. On a bipartite lattice that is the
checkerboard update; on any lattice it is a fixed systematic scan, which
leaves the Boltzmann distribution invariant.

These kernels do not check their arguments: heatbath.spin validates them.
"""

from cython.parallel cimport prange
from libc.stdint cimport int8_t, int32_t, int64_t, uint64_t
from libc.math cimport exp

from heatbath._random cimport rng_t, rng_load, rng_store, rng_next, rng_double
from heatbath.spin._lattice cimport lattice_bonds as _table_bonds, magnetization as _magnetization


# --- lattices, any dimension, via a neighbour table ---------------------------

cdef inline int _nbr_sum(const int8_t* s, const int32_t* nb, int z) noexcept nogil:
    cdef int k, total = 0
    for k in range(z):
        if nb[k] >= 0:
            total += s[nb[k]]
    return total


cdef void _table_chain(int8_t* s, const int32_t* order, const int32_t* nbr,
                       Py_ssize_t n, int z, const uint64_t* thr, uint64_t* state,
                       Py_ssize_t burn_in, Py_ssize_t n_sweeps, Py_ssize_t thin,
                       int64_t* bonds_out, int64_t* mag_out,
                       int64_t* accepted) noexcept nogil:
    cdef rng_t r
    cdef Py_ssize_t sweep, t, i, rec = 0
    cdef int sigma, si, flip, mask
    cdef int64_t acc = 0, ssum = 0, msum = 0
    cdef int64_t bonds = _table_bonds(s, nbr, n, z)
    cdef int64_t mag = _magnetization(s, n)
    rng_load(&r, state)
    for sweep in range(burn_in + n_sweeps):
        for t in range(n):
            i = order[t]
            si = s[i]
            sigma = _nbr_sum(s, nbr + i * z, z)
            # Branch-free (acceptance is random): see _square_visit.
            flip = (rng_next(&r) >> 11) < thr[(si > 0) * (2 * z + 1) + sigma + z]
            mask = -flip
            s[i] = <int8_t>(si ^ (mask & 0xFE))
            acc += flip
            ssum += (si * sigma) & mask
            msum += si & mask
        if sweep >= burn_in and (sweep - burn_in + 1) % thin == 0:
            bonds_out[rec] = bonds - 2 * ssum
            mag_out[rec] = mag - 2 * msum
            rec += 1
    accepted[0] = acc
    rng_store(&r, state)


def _table_sweeps(int8_t[:, ::1] spins,          # IN/OUT (n_chains, n)
                  const int32_t[::1] order,      # IN (n,) visiting order
                  const int32_t[:, ::1] nbr,     # IN (n, z): +e_k then -e_k; -1 = none
                  const uint64_t[:, ::1] thr,    # IN (n_chains, 2 (z + 1) ... 2 (2z+1))
                  uint64_t[:, ::1] states,       # IN/OUT (n_chains, 4)
                  Py_ssize_t burn_in, Py_ssize_t n_sweeps, Py_ssize_t thin,
                  int64_t[:, ::1] bonds_out,     # OUT (n_chains, n_sweeps // thin)
                  int64_t[:, ::1] mag_out,       # OUT (n_chains, n_sweeps // thin)
                  int64_t[::1] accepted,         # OUT (n_chains,)
                  int n_threads):
    cdef Py_ssize_t c, n_chains = spins.shape[0], n = spins.shape[1]
    cdef int z = nbr.shape[1]
    cdef Py_ssize_t rec_stride = bonds_out.shape[1]
    # Pointers to row 0 so that an empty record (n_sweeps < thin) is fine.
    cdef int64_t dummy = 0
    cdef int64_t* b0 = &bonds_out[0, 0] if rec_stride > 0 else &dummy
    cdef int64_t* m0 = &mag_out[0, 0] if rec_stride > 0 else &dummy
    for c in prange(n_chains, schedule="static", num_threads=n_threads, nogil=True):
        _table_chain(&spins[c, 0], &order[0], &nbr[0, 0], n, z, &thr[c, 0],
                     &states[c, 0], burn_in, n_sweeps, thin,
                     b0 + c * rec_stride, m0 + c * rec_stride, &accepted[c])


def _table_bonds_mag(const int8_t[:, ::1] spins,   # IN (n_chains, n)
                     const int32_t[:, ::1] nbr,    # IN (n, z)
                     int64_t[::1] bonds,           # OUT (n_chains,)
                     int64_t[::1] mag,             # OUT (n_chains,)
                     int n_threads):
    cdef Py_ssize_t c
    for c in prange(spins.shape[0], schedule="static", num_threads=n_threads, nogil=True):
        bonds[c] = _table_bonds(&spins[c, 0], &nbr[0, 0], spins.shape[1], nbr.shape[1])
        mag[c] = _magnetization(&spins[c, 0], spins.shape[1])


# --- 2D lattices: neighbours by arithmetic (the fast path) --------------------
#
# Same visiting order, same draws and same results as the table kernel with
# z = 4; the tests hold the two against each other bit for bit.

cdef inline int _square_visit(int8_t* here, Py_ssize_t col, int sigma, const uint64_t* thr,
                              rng_t* r, int64_t* ssum) noexcept nogil:
    """One site visit: flip with probability q(s, sigma); return 1 if flipped.

    Adds s * sigma of a flipped spin to ssum[0] and s to ssum[1] (the bond sum
    and magnetisation then change by -2 times those). +-1 as int8 is 0x01 or
    0xFF, so xor with 0xFE negates it without a multiply.
    """
    cdef int si = here[col]
    cdef int flip = (rng_next(r) >> 11) < thr[(si > 0) * 9 + sigma + 4]
    cdef int mask = -flip
    here[col] = <int8_t>(si ^ (mask & 0xFE))
    ssum[0] += (si * sigma) & mask
    ssum[1] += si & mask
    return flip


cdef void _square_chain(int8_t* s, Py_ssize_t rows, Py_ssize_t cols, bint periodic,
                        const int8_t* zeros, const uint64_t* thr, uint64_t* state,
                        Py_ssize_t burn_in, Py_ssize_t n_sweeps, Py_ssize_t thin,
                        int64_t bonds, int64_t* bonds_out, int64_t* mag_out,
                        int64_t* accepted) noexcept nogil:
    cdef rng_t r
    cdef Py_ssize_t sweep, row, col, colour, first, last, rec = 0
    cdef int8_t* here
    cdef const int8_t* up
    cdef const int8_t* down
    cdef int left, right
    cdef int64_t acc = 0
    cdef int64_t mag = _magnetization(s, rows * cols)
    cdef int64_t ssum[2]
    ssum[0] = 0
    ssum[1] = 0
    rng_load(&r, state)
    for sweep in range(burn_in + n_sweeps):
        for colour in range(2):
            for row in range(rows):
                here = s + row * cols
                if row > 0:
                    up = here - cols
                elif periodic:
                    up = s + (rows - 1) * cols
                else:
                    up = zeros
                if row < rows - 1:
                    down = here + cols
                elif periodic:
                    down = s
                else:
                    down = zeros
                # Columns of this colour in increasing order: the left edge,
                # the interior (no boundary checks), then the right edge.
                first = (row + colour) & 1
                last = cols - 1
                col = first
                if col == 0:
                    right = here[1] if cols > 1 else (here[0] if periodic else 0)
                    left = here[last] if periodic else 0
                    if cols == 1:
                        right = left
                    acc += _square_visit(here, 0, up[0] + down[0] + left + right, thr, &r, ssum)
                    col = 2
                while col < last:
                    acc += _square_visit(here, col, up[col] + down[col] + here[col - 1]
                                         + here[col + 1], thr, &r, ssum)
                    col += 2
                if col == last and last > 0:
                    right = here[0] if periodic else 0
                    acc += _square_visit(here, last, up[last] + down[last] + here[last - 1]
                                         + right, thr, &r, ssum)
        if sweep >= burn_in and (sweep - burn_in + 1) % thin == 0:
            bonds_out[rec] = bonds - 2 * ssum[0]
            mag_out[rec] = mag - 2 * ssum[1]
            rec += 1
    accepted[0] = acc
    rng_store(&r, state)


def _square_sweeps(int8_t[:, ::1] spins,          # IN/OUT (n_chains, rows * cols)
                   Py_ssize_t rows, Py_ssize_t cols, bint periodic,
                   const int32_t[:, ::1] nbr,     # IN (n, 4), for the starting bond sums
                   const uint64_t[:, ::1] thr,    # IN (n_chains, 18)
                   uint64_t[:, ::1] states,       # IN/OUT (n_chains, 4)
                   Py_ssize_t burn_in, Py_ssize_t n_sweeps, Py_ssize_t thin,
                   int64_t[:, ::1] bonds_out,     # OUT (n_chains, n_sweeps // thin)
                   int64_t[:, ::1] mag_out,       # OUT (n_chains, n_sweeps // thin)
                   int64_t[::1] accepted,         # OUT (n_chains,)
                   const int8_t[::1] zeros,       # IN (cols,) all zero: the missing row
                   int n_threads):
    cdef Py_ssize_t c, n_chains = spins.shape[0]
    cdef Py_ssize_t rec_stride = bonds_out.shape[1]
    cdef int64_t dummy = 0
    cdef int64_t* b0 = &bonds_out[0, 0] if rec_stride > 0 else &dummy
    cdef int64_t* m0 = &mag_out[0, 0] if rec_stride > 0 else &dummy
    for c in prange(n_chains, schedule="static", num_threads=n_threads, nogil=True):
        _square_chain(&spins[c, 0], rows, cols, periodic, &zeros[0], &thr[c, 0],
                      &states[c, 0], burn_in, n_sweeps, thin,
                      _table_bonds(&spins[c, 0], &nbr[0, 0], rows * cols, 4),
                      b0 + c * rec_stride, m0 + c * rec_stride, &accepted[c])


# --- general graphs (Boltzmann machines), CSR couplings -----------------------

cdef inline double _field(const int8_t* s, const int32_t* indptr, const int32_t* indices,
                          const double* data, double h, Py_ssize_t i) noexcept nogil:
    cdef Py_ssize_t k
    cdef double f = h
    for k in range(indptr[i], indptr[i + 1]):
        f += data[k] * s[indices[k]]
    return f


cdef double _graph_energy(const int8_t* s, Py_ssize_t n, const int32_t* indptr,
                          const int32_t* indices, const double* data,
                          const double* h) noexcept nogil:
    """E = -sum_{i<j} J_ij s_i s_j - sum_i h_i s_i (J symmetric, zero diagonal)."""
    cdef Py_ssize_t i
    cdef double e = 0.0
    for i in range(n):
        e -= s[i] * (0.5 * (_field(s, indptr, indices, data, 0.0, i)) + h[i])
    return e


cdef void _graph_chain(int8_t* s, Py_ssize_t n, const int32_t* indptr,
                       const int32_t* indices, const double* data, const double* h,
                       double beta, bint heat_bath, uint64_t* state,
                       Py_ssize_t burn_in, Py_ssize_t n_sweeps, Py_ssize_t thin,
                       double* energy_out, int64_t* mag_out,
                       int64_t* accepted) noexcept nogil:
    cdef rng_t r
    cdef Py_ssize_t sweep, i, rec = 0
    cdef int si
    cdef double de, q, u
    cdef int64_t acc = 0
    cdef int64_t mag = _magnetization(s, n)
    rng_load(&r, state)
    for sweep in range(burn_in + n_sweeps):
        for i in range(n):
            si = s[i]
            de = 2.0 * si * _field(s, indptr, indices, data, h[i], i)
            u = rng_double(&r)
            if heat_bath:
                q = 1.0 / (1.0 + exp(beta * de))   # exp overflow -> inf -> q = 0
            elif beta * de == 0.0:
                q = 0.5
            else:
                q = exp(-beta * de) if de > 0 else 1.0
            if u < q:
                s[i] = <int8_t>(-si)
                acc += 1
                mag -= 2 * si
        if sweep >= burn_in and (sweep - burn_in + 1) % thin == 0:
            energy_out[rec] = _graph_energy(s, n, indptr, indices, data, h)
            mag_out[rec] = mag
            rec += 1
    accepted[0] = acc
    rng_store(&r, state)


def _graph_sweeps(int8_t[:, ::1] spins,         # IN/OUT (n_chains, n)
                  const int32_t[::1] indptr,    # IN CSR of J (symmetric, no diagonal)
                  const int32_t[::1] indices,
                  const double[::1] data,
                  const double[::1] h,          # IN (n,)
                  const double[::1] beta,       # IN (n_chains,)
                  bint heat_bath,
                  uint64_t[:, ::1] states,      # IN/OUT (n_chains, 4)
                  Py_ssize_t burn_in, Py_ssize_t n_sweeps, Py_ssize_t thin,
                  double[:, ::1] energy_out,    # OUT (n_chains, n_sweeps // thin)
                  int64_t[:, ::1] mag_out,      # OUT (n_chains, n_sweeps // thin)
                  int64_t[::1] accepted,        # OUT (n_chains,)
                  int n_threads):
    cdef Py_ssize_t c, n_chains = spins.shape[0], n = spins.shape[1]
    cdef Py_ssize_t rec_stride = energy_out.shape[1]
    cdef double ddummy = 0.0
    cdef int64_t idummy = 0
    cdef double* e0 = &energy_out[0, 0] if rec_stride > 0 else &ddummy
    cdef int64_t* m0 = &mag_out[0, 0] if rec_stride > 0 else &idummy
    # An empty CSR (no couplings) still needs valid pointers.
    cdef int32_t izero = 0
    cdef double dzero = 0.0
    cdef const int32_t* ind = &indices[0] if indices.shape[0] > 0 else &izero
    cdef const double* dat = &data[0] if data.shape[0] > 0 else &dzero
    for c in prange(n_chains, schedule="static", num_threads=n_threads, nogil=True):
        _graph_chain(&spins[c, 0], n, &indptr[0], ind, dat, &h[0], beta[c], heat_bath,
                     &states[c, 0], burn_in, n_sweeps, thin,
                     e0 + c * rec_stride, m0 + c * rec_stride, &accepted[c])


def _graph_energy_batch(const int8_t[:, ::1] spins, const int32_t[::1] indptr,
                        const int32_t[::1] indices, const double[::1] data,
                        const double[::1] h, double[::1] out, int n_threads):
    cdef Py_ssize_t c
    cdef int32_t izero = 0
    cdef double dzero = 0.0
    cdef const int32_t* ind = &indices[0] if indices.shape[0] > 0 else &izero
    cdef const double* dat = &data[0] if data.shape[0] > 0 else &dzero
    for c in prange(spins.shape[0], schedule="static", num_threads=n_threads, nogil=True):
        out[c] = _graph_energy(&spins[c, 0], spins.shape[1], &indptr[0], ind, dat, &h[0])
