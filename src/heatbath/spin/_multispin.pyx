"""Kernel: multispin-coded single-spin updates (Metropolis, heat-bath) on lattices.

Replica layout: bit b of ``words[k, i]`` is spin i of replica 64 k + b
(1 = up). One machine word holds site i of 64 independent systems, so one
pass over a site's neighbour words updates 64 spins at once. Each block of
64 replicas has its own random stream and its own temperature.

Exactness. At a site, lane b (one replica) flips with probability
q_b = q(s_b, sigma_b): the same table of 53-bit integer thresholds
t = ceil(q 2**53) as the scalar kernels (_metropolis.pyx), so the event is
"u_b < t_b" for a uniform 53-bit integer u_b, exactly as there. The 64
comparisons are made bit-serially, most significant bit first, 64 lanes per
step: step j draws one fresh 64-bit word U_j whose bit b is bit j of u_b,
and builds the word P_j whose bit b is bit j of t_b. A lane whose bits
agreed so far is decided at the first step where they differ: it flips if
t_b has the 1 there (u_b < t_b), and not otherwise. Steps continue until
every lane is decided or all 53 bits agree (u_b = t_b: no flip). Lanes with
q = 1 (t = 2**53) or q = 0 (t = 0) are decided before any draw.

- Each lane's decision is a function of its own bits of the words only, so
  it equals "u_b < t_b" with u_b uniform on [0, 2**53): the flip probability
  is t_b / 2**53, the scalar kernels' q. Drawing more words than a lane
  needs (because other lanes are undecided) changes nothing for it.
- No two lanes share a random bit: lane b only ever reads bit b. The bits
  of different lanes are independent (up to the generator), so the 64
  replicas are independent chains; the tests measure their correlation.
- The number of words per site is the largest of the lanes' stopping
  times, geometric with mean 2 each: about log2(m) + 1.3 words for m
  undecided lanes (m <= 64), instead of 64 uniforms.

Per-lane thresholds are built from the neighbour words: d_k = s XOR n_k
marks the lanes whose k-th neighbour is anti-aligned; a bit-sliced adder
counts them (n_anti, three bit planes); sigma = s (z_i - 2 n_anti), with z_i
the number of neighbours present at site i (open boundaries). The Python
layer groups the (s, n_anti) categories of each z_i by threshold value
(Metropolis at h = 0 has three groups in 2D), and P_j ORs each group's mask
when its threshold has bit j set.

Observables at recorded sweeps: per-lane counts of up spins and of
unsatisfied bonds, by byte-wise counters (8 lanes per uint64 accumulator, 8
accumulators), flushed before a byte can overflow.

These kernels do not check their arguments: heatbath.spin validates them.
"""

from cython.parallel cimport prange
from libc.stdint cimport int8_t, int32_t, int64_t, uint32_t, uint64_t

from heatbath._random cimport rng_t, rng_load, rng_store, rng_next

cdef extern from *:
    """
    static inline int hb_popcount64(unsigned long long x) {
    #if defined(__GNUC__) || defined(__clang__)
        return __builtin_popcountll(x);
    #else
        int c = 0; while (x) { x &= x - 1; c++; } return c;
    #endif
    }
    #define HB_BYTE_LANES 0x0101010101010101ULL
    """
    int hb_popcount64(unsigned long long x) nogil
    uint64_t BYTE_LANES "HB_BYTE_LANES"

cdef enum:
    # Slots of the group masks: up to 14 threshold groups (2 (z + 1) categories
    # (s, n_anti), z <= 6: up to 3 dimensions), then lanes that never flip
    # (q = 0) and lanes that always flip (q = 1).
    NEVER = 14
    ALWAYS = 15
    MAX_SLOT = 16


cdef inline void _lane_counts(const uint64_t* w, const int32_t* nbr, Py_ssize_t n, int z,
                              int64_t* up, int64_t* unsat) noexcept nogil:
    """Per-lane number of up spins and of unsatisfied (+e_k) bonds, into up[64], unsat[64]."""
    cdef uint64_t acc_up[8]
    cdef uint64_t acc_bad[8]
    cdef Py_ssize_t i, since = 0
    cdef int j, k, m, half = z // 2
    cdef int32_t nb
    cdef uint64_t x, bad
    for j in range(64):
        up[j] = 0
        unsat[j] = 0
    for j in range(8):
        acc_up[j] = 0
        acc_bad[j] = 0
    for i in range(n + 1):
        # Flush every 63 sites: a byte then holds at most 63 (1 + 3) < 256.
        if since == 63 or i == n:
            for j in range(8):
                for m in range(8):
                    up[8 * m + j] += (acc_up[j] >> (8 * m)) & 0xFF
                    unsat[8 * m + j] += (acc_bad[j] >> (8 * m)) & 0xFF
                acc_up[j] = 0
                acc_bad[j] = 0
            since = 0
            if i == n:
                break
        x = w[i]
        for j in range(8):
            acc_up[j] += (x >> j) & BYTE_LANES
        for k in range(half):
            nb = nbr[i * z + k]
            if nb >= 0:
                bad = x ^ w[nb]
                for j in range(8):
                    acc_bad[j] += (bad >> j) & BYTE_LANES
        since += 1


cdef inline uint64_t _decide(rng_t* r, uint64_t und, uint64_t flip, const uint64_t* gm,
                             int ng, const uint64_t* sel, int64_t* ndraw) noexcept nogil:
    """Bit-serial comparison of the undecided lanes with their groups' thresholds.

    sel[j * MAX_SLOT + g] is all ones if group g's threshold has bit 52 - j set.
    Returns the flip mask.
    """
    cdef uint64_t u, p, diff
    cdef uint64_t g0 = gm[0], g1 = gm[1], g2 = gm[2], g3 = gm[3]
    cdef int j = 0, g
    if ng <= 4:   # unrolled: the usual case (Metropolis at h = 0 has 3 groups in 2D)
        while und != 0 and j < 53:
            u = rng_next(r)
            p = (g0 & sel[0]) | (g1 & sel[1]) | (g2 & sel[2]) | (g3 & sel[3])
            diff = (u ^ p) & und
            flip |= diff & p
            und &= ~diff
            sel += MAX_SLOT
            j += 1
    else:
        while und != 0 and j < 53:
            u = rng_next(r)
            p = 0
            for g in range(ng):
                p |= gm[g] & sel[g]
            diff = (u ^ p) & und
            flip |= diff & p
            und &= ~diff
            sel += MAX_SLOT
            j += 1
    ndraw[0] += j
    return flip


cdef void _block(uint64_t* w, const int32_t* order, const int32_t* nbr, const int8_t* zc,
                 Py_ssize_t n, int z, int n_bonds,
                 const int32_t* n_groups,        # (z + 1,)
                 const uint64_t* group_sel,      # (z + 1, 53, MAX_SLOT)
                 const int8_t* cat_slot,         # (z + 1, 2 (z + 1)): slot of (n_anti, s)
                 bint by_spin,                   # do thresholds depend on s (h != 0)?
                 uint64_t lane_mask, uint64_t* state,
                 Py_ssize_t burn_in, Py_ssize_t n_sweeps, Py_ssize_t thin,
                 int64_t* bonds_out, int64_t* mag_out, Py_ssize_t rec_stride,
                 int64_t* flips, int64_t* draws) noexcept nogil:
    cdef rng_t r
    cdef Py_ssize_t sweep, t, i, rec = 0
    cdef int k, zi, c, g, ng, ncat = 2 * (z + 1)
    cdef int32_t nb
    cdef uint64_t s, d, c0, c1, c2, carry, e, und, flip
    cdef uint64_t gm[MAX_SLOT]
    cdef const int8_t* cs
    cdef int64_t nflip = 0, ndraw = 0
    cdef int64_t up[64]
    cdef int64_t bad[64]
    cdef int lane
    rng_load(&r, state)
    for sweep in range(burn_in + n_sweeps):
        for t in range(n):
            i = order[t]
            s = w[i]
            zi = zc[i]
            # n_anti per lane, bit-sliced in (c2 c1 c0)
            c0 = 0
            c1 = 0
            c2 = 0
            for k in range(z):
                nb = nbr[i * z + k]
                if nb >= 0:
                    d = s ^ w[nb]
                    carry = c0 & d
                    c0 = c0 ^ d
                    d = c1 & carry
                    c1 = c1 ^ carry
                    c2 = c2 | d
            ng = n_groups[zi]
            cs = cat_slot + zi * ncat
            for g in range(MAX_SLOT):
                gm[g] = 0
            # Each category's lanes go to its group's slot (or NEVER / ALWAYS).
            for c in range(zi + 1):
                e = ((c0 if c & 1 else ~c0) & (c1 if c & 2 else ~c1)
                     & (c2 if c & 4 else ~c2))
                if by_spin:
                    gm[cs[2 * c]] |= e & ~s
                    gm[cs[2 * c + 1]] |= e & s
                else:
                    gm[cs[2 * c]] |= e
            und = gm[0] | gm[1] | gm[2] | gm[3]
            for g in range(4, ng):
                und |= gm[g]
            flip = _decide(&r, und, gm[ALWAYS], gm, ng, group_sel + zi * 53 * MAX_SLOT,
                           &ndraw)
            w[i] = s ^ flip
            nflip += hb_popcount64(flip & lane_mask)
        if sweep >= burn_in and (sweep - burn_in + 1) % thin == 0:
            _lane_counts(w, nbr, n, z, up, bad)
            for lane in range(64):
                bonds_out[lane * rec_stride + rec] = n_bonds - 2 * bad[lane]
                mag_out[lane * rec_stride + rec] = 2 * up[lane] - n
            rec += 1
    flips[0] = nflip
    draws[0] = ndraw
    rng_store(&r, state)


def _multispin_sweeps(uint64_t[:, ::1] words,            # IN/OUT (n_blocks, n)
                      const int32_t[::1] order,          # IN (n,) visiting order
                      const int32_t[:, ::1] nbr,         # IN (n, z): +e_k then -e_k; -1 = none
                      const int8_t[::1] zcount,          # IN (n,) neighbours present
                      int n_bonds,
                      const int32_t[:, ::1] n_groups,    # IN (n_blocks, z + 1)
                      const uint64_t[:, :, :, ::1] group_sel,  # IN (n_blocks, z + 1, 53, 16)
                      const int8_t[:, :, ::1] cat_slot,  # IN (n_blocks, z + 1, 2 (z + 1))
                      bint by_spin,
                      const uint64_t[::1] lane_mask,     # IN (n_blocks,) lanes reported
                      uint64_t[:, ::1] states,           # IN/OUT (n_blocks, 4)
                      Py_ssize_t burn_in, Py_ssize_t n_sweeps, Py_ssize_t thin,
                      int64_t[:, ::1] bonds_out,         # OUT (64 n_blocks, n_sweeps // thin)
                      int64_t[:, ::1] mag_out,           # OUT (64 n_blocks, n_sweeps // thin)
                      int64_t[::1] flips,                # OUT (n_blocks,) flips in reported lanes
                      int64_t[::1] draws,                # OUT (n_blocks,) 64-bit words drawn
                      int n_threads):
    cdef Py_ssize_t b, n_blocks = words.shape[0], n = words.shape[1]
    cdef int z = nbr.shape[1]
    cdef Py_ssize_t rec_stride = bonds_out.shape[1]
    cdef int64_t dummy = 0
    cdef int64_t* b0 = &bonds_out[0, 0] if rec_stride > 0 else &dummy
    cdef int64_t* m0 = &mag_out[0, 0] if rec_stride > 0 else &dummy
    for b in prange(n_blocks, schedule="static", num_threads=n_threads, nogil=True):
        _block(&words[b, 0], &order[0], &nbr[0, 0], &zcount[0], n, z, n_bonds,
               &n_groups[b, 0], &group_sel[b, 0, 0, 0], &cat_slot[b, 0, 0], by_spin,
               lane_mask[b],
               &states[b, 0], burn_in, n_sweeps, thin,
               b0 + 64 * b * rec_stride, m0 + 64 * b * rec_stride, rec_stride,
               &flips[b], &draws[b])


cdef void _block_bonds_mag(const uint64_t* w, const int32_t* nbr, Py_ssize_t n, int z,
                           int n_bonds, int64_t* bonds, int64_t* mag) noexcept nogil:
    cdef int64_t up[64]
    cdef int64_t bad[64]
    cdef int lane
    _lane_counts(w, nbr, n, z, up, bad)
    for lane in range(64):
        bonds[lane] = n_bonds - 2 * bad[lane]
        mag[lane] = 2 * up[lane] - n


def _multispin_bonds_mag(const uint64_t[:, ::1] words,   # IN (n_blocks, n)
                         const int32_t[:, ::1] nbr,      # IN (n, z)
                         int n_bonds,
                         int64_t[::1] bonds,             # OUT (64 n_blocks,)
                         int64_t[::1] mag,               # OUT (64 n_blocks,)
                         int n_threads):
    cdef Py_ssize_t b
    for b in prange(words.shape[0], schedule="static", num_threads=n_threads, nogil=True):
        _block_bonds_mag(&words[b, 0], &nbr[0, 0], words.shape[1], nbr.shape[1], n_bonds,
                         &bonds[64 * b], &mag[64 * b])
