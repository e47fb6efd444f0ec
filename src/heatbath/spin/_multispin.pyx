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

Groups of blocks. Where the compiler has vector extensions (GCC, Clang),
blocks are updated up to 4 at once, one 64-bit vector lane each (AVX2 where
the CPU has it, chosen at import; else the baseline ISA, two SSE2 halves):
hb_ms_group. The lanes run in lockstep over the sites, but each lane keeps
its block's own stream and makes its block's own comparisons: at a step, a
lane's stream advances only while its block has undecided replicas (the
others' states are blended back), and the loop ends when every block of the
group is decided (or 53 bits agree). So each block draws exactly the words
of the one-block kernel (_block) and of the NumPy twin, in the same order,
and gets the same bits whatever the grouping (which follows the thread
count), the ISA or the build; the tests compare them. The price is the
group's slowest block: about 10 steps per site for 4 blocks against 7.25 for
one, for 4 words of work. Thresholds of the usual pattern (h = 0: group c is
n_anti = c, the rest flip always) are built from the adder's bit planes in
registers; other patterns go through the per-category table (any mix of
temperatures in one group works). Callgrind, L = 64 at T_c, Metropolis, 4
blocks on one thread: 1.7 instructions per attempted flip (the one-block
kernel: 7.8); about 60% of them are the steps (the SFC64 draw and the
5-operation comparison, 29 instructions for 4 words), the rest the adder,
the masks and the flip count.

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

    /* ---- Vector kernel: up to 4 blocks (4 x 64 replicas) at once ----------------

       GCC/Clang vector extensions, 4 uint64 lanes (one per block); compiled for
       AVX2 (one ymm register) and for the baseline ISA (two SSE2 registers), the
       loader picking one (target_clones, x86-64 glibc). Every lane runs its
       block's own stream and its own bit-serial comparisons: a lane draws a word
       at a step only while its block has undecided replicas (its state is
       blended, not advanced, otherwise), so each block consumes exactly the
       words, and makes exactly the decisions, of the one-block kernel (_block)
       and of the NumPy twin, whatever the grouping, the ISA or the thread count.
       The words are interleaved (site i of the group's blocks in one vector) in
       a scratch copy for the run. */
    #include <stdint.h>
    #include <stdlib.h>
    #include <string.h>
    #if defined(__GNUC__) && !defined(HB_NO_VECTOR)
    #define HB_MS_VECTOR 1
    #if defined(__x86_64__) && !defined(HB_NO_CLONES)
    #define HB_MS_AVX2 1
    #include <immintrin.h>
    #else
    #define HB_MS_AVX2 0
    #endif
    #pragma GCC diagnostic ignored "-Wpsabi"
    typedef uint64_t hb_v4 __attribute__((vector_size(32)));
    typedef int64_t hb_v4s __attribute__((vector_size(32)));
    #define HB_NV 4
    #define HB_MS_NEVER 14
    #define HB_MS_ALWAYS 15
    #define HB_MS_SLOTS 16

    typedef struct {      /* gm[slot] (= if first, else |=) x[src] & mask */
        hb_v4 mask;
        int32_t src, slot, first, pad[5];
    } hb_ms_term;

    /* The two operations the vector extensions do not express well: the mask
       of lanes whose 64 bits are all ones (one bit a lane), and a blend. The
       body below is inlined into one function per ISA with these as constants. */
    typedef int (*hb_ms_mask_fn)(hb_v4);
    typedef hb_v4 (*hb_ms_blend_fn)(hb_v4, hb_v4, hb_v4);
    static inline int hb_ms_mask_base(hb_v4 m) {
        return (int)((m[0] & 1) | (m[1] & 2) | (m[2] & 4) | (m[3] & 8));
    }
    static inline hb_v4 hb_ms_blend_base(hb_v4 a, hb_v4 b, hb_v4 m) {
        return a ^ ((a ^ b) & m);
    }
    #if HB_MS_AVX2
    __attribute__((target("avx2"))) static inline int hb_ms_mask_avx2(hb_v4 m) {
        return _mm256_movemask_pd((__m256d)m);
    }
    __attribute__((target("avx2"))) static inline hb_v4 hb_ms_blend_avx2(hb_v4 a, hb_v4 b,
                                                                         hb_v4 m) {
        return (hb_v4)_mm256_blendv_pd((__m256d)a, (__m256d)b, (__m256d)m);
    }
    #endif

    static inline hb_v4 hb_v4_of(const uint64_t *p) {
        hb_v4 v;
        memcpy(&v, p, sizeof(v));
        return v;
    }

    #define HB_ALIGN(p) ((void *)(((uintptr_t)(p) + 63) & ~(uintptr_t)63))
    #define HB_ANY(v) (((v)[0] | (v)[1] | (v)[2] | (v)[3]) != 0)

    /* Per-lane counts of up spins and of unsatisfied (+e_k) bonds of the
       interleaved words ws (n sites), into up[k][64], bad[k][64] for k < nb:
       byte-wise counters (8 lanes of a word per accumulator), flushed every 63
       sites (a byte then holds at most 63 (1 + 3) < 256). */
    static inline __attribute__((always_inline)) void hb_ms_counts(
            const hb_v4 *ws, const int32_t *nbr, Py_ssize_t n, int z, int nb,
            int64_t up[HB_NV][64], int64_t bad[HB_NV][64]) {
        const hb_v4 bl = {0x0101010101010101ULL, 0x0101010101010101ULL,
                          0x0101010101010101ULL, 0x0101010101010101ULL};
        hb_v4 au[8], ab[8];
        Py_ssize_t i, since = 0;
        int j, k, m, q, half = z / 2;
        memset(up, 0, sizeof(int64_t) * HB_NV * 64);
        memset(bad, 0, sizeof(int64_t) * HB_NV * 64);
        for (j = 0; j < 8; j++) { au[j] = bl ^ bl; ab[j] = bl ^ bl; }
        for (i = 0; i <= n; i++) {
            if (since == 63 || i == n) {
                for (j = 0; j < 8; j++) {
                    uint64_t u4[HB_NV], b4[HB_NV];
                    memcpy(u4, &au[j], sizeof(u4));
                    memcpy(b4, &ab[j], sizeof(b4));
                    for (q = 0; q < nb; q++)
                        for (m = 0; m < 8; m++) {
                            up[q][8 * m + j] += (u4[q] >> (8 * m)) & 0xFF;
                            bad[q][8 * m + j] += (b4[q] >> (8 * m)) & 0xFF;
                        }
                    au[j] = bl ^ bl;
                    ab[j] = bl ^ bl;
                }
                since = 0;
                if (i == n) break;
            }
            hb_v4 x = ws[i];
            for (j = 0; j < 8; j++) au[j] += (x >> j) & bl;
            for (k = 0; k < half; k++) {
                int32_t nk = nbr[i * z + k];
                if (nk >= 0) {
                    hb_v4 d = x ^ ws[nk];
                    for (j = 0; j < 8; j++) ab[j] += (d >> j) & bl;
                }
            }
            since++;
        }
    }

    /* One comparison step of HB_MS_STEPS on the word u just drawn: lanes whose
       random bit differs from their threshold bit p are decided (flip where
       p is 1), the others stay undecided; then the next step's selection row. */
    #define HB_MS_COMPARE(P)                                                     \
        do {                                                                     \
            hb_v4 p = (P);                                                       \
            hb_v4 diff = (u ^ p) & und;                                          \
            flip |= diff & p;                                                    \
            und ^= diff;                                                         \
            sel += ng_stride;                                                    \
            j++;                                                                 \
            done = mk((hb_v4)(und == zero)) & full;                              \
        } while (0)

    /* The bit-serial comparison, p = this step's threshold bits of each lane's
       group (P: an expression of the group masks and sel, the selection row of
       step j). While every block of the group has undecided replicas, all
       streams advance; once some block is done (bit set in `done`), the
       states are blended so that only the others advance. Padding lanes
       (q >= nb) are never read back. */
    #define HB_MS_STEPS(P)                                                       \
        while (j < 53 && !done) {                                                \
            hb_v4 u = ra + rb + rw;                                              \
            ra = rb ^ (rb >> 11);                                                \
            rb = rc + (rc << 3);                                                 \
            rc = ((rc << 24) | (rc >> 40)) + u;                                  \
            rw += one;                                                           \
            HB_MS_COMPARE(P);                                                    \
        }                                                                        \
        ndr += (hb_v4){j, j, j, j};                                              \
        while (j < 53 && done != full) {                                         \
            hb_v4 act = ~(hb_v4)(und == zero);                                   \
            hb_v4 u = ra + rb + rw;                                              \
            ra = bl(ra, rb ^ (rb >> 11), act);                                   \
            rb = bl(rb, rc + (rc << 3), act);                                    \
            rc = bl(rc, ((rc << 24) | (rc >> 40)) + u, act);                     \
            rw -= act;                                                           \
            ndr -= act;                                                          \
            HB_MS_COMPARE(P);                                                    \
        }

    /* One group of nb <= 4 blocks (the rows of words, stride n; their tables
       and states at the same strides as in _multispin_sweeps). Returns -1 if the
       scratch could not be allocated (nothing is touched then), else 0. */
    static inline __attribute__((always_inline)) int hb_ms_group_body(
            int nb, Py_ssize_t n, int z, int n_bonds, uint64_t *words,
            const int32_t *order, const int32_t *nbr, const int8_t *zc,
            const int32_t *n_groups, const uint64_t *group_sel, const int8_t *cat_slot,
            int by_spin, const uint64_t *lane_mask, uint64_t *states,
            Py_ssize_t burn_in, Py_ssize_t n_sweeps, Py_ssize_t thin,
            int64_t *bonds_out, int64_t *mag_out, Py_ssize_t rec_stride,
            int64_t *flips, int64_t *draws, hb_ms_mask_fn mk, hb_ms_blend_fn bl) {
        const int ncat = 2 * (z + 1), max_terms = (z + 1) * 2 * HB_MS_SLOTS;
        int ngv[8], nterm[8], ident[8];
        int q, zi, c, sb, g, j, ng_stride = 1;
        Py_ssize_t i, t, sweep, rec = 0;
        const hb_v4 zero = {0, 0, 0, 0};
        const hb_v4 m1 = {0x5555555555555555ULL, 0x5555555555555555ULL,
                          0x5555555555555555ULL, 0x5555555555555555ULL};
        const hb_v4 m2 = {0x3333333333333333ULL, 0x3333333333333333ULL,
                          0x3333333333333333ULL, 0x3333333333333333ULL};
        const hb_v4 m4 = {0x0F0F0F0F0F0F0F0FULL, 0x0F0F0F0F0F0F0F0FULL,
                          0x0F0F0F0F0F0F0F0FULL, 0x0F0F0F0F0F0F0F0FULL};
        /* groups per z_i: the most of the group's blocks (lanes of blocks with
           fewer groups select nothing from the extra slots) */
        for (zi = 0; zi <= z; zi++) {
            ngv[zi] = 0;
            for (q = 0; q < nb; q++)
                if (n_groups[q * (z + 1) + zi] > ngv[zi]) ngv[zi] = n_groups[q * (z + 1) + zi];
            if (ngv[zi] > ng_stride) ng_stride = ngv[zi];
        }
        size_t n_sel = (size_t)(z + 1) * 53 * ng_stride;
        char *raw = malloc(64 * 4 + sizeof(hb_v4) * ((size_t)n + n_sel)
                           + sizeof(hb_ms_term) * (size_t)(z + 1) * max_terms);
        if (raw == NULL) return -1;
        hb_v4 *ws = HB_ALIGN(raw);
        hb_v4 *selv = HB_ALIGN(ws + n);
        hb_ms_term *terms = HB_ALIGN(selv + n_sel);

        for (zi = 0; zi <= z; zi++) {
            for (j = 0; j < 53; j++)
                for (g = 0; g < ng_stride; g++) {
                    uint64_t v[HB_NV] = {0, 0, 0, 0};
                    for (q = 0; q < nb; q++)
                        if (g < n_groups[q * (z + 1) + zi])
                            v[q] = group_sel[(((size_t)q * (z + 1) + zi) * 53 + j) * HB_MS_SLOTS + g];
                    selv[((size_t)zi * 53 + j) * ng_stride + g] = hb_v4_of(v);
                }
            /* the usual pattern (h = 0, every block): group c holds n_anti = c */
            ident[zi] = !by_spin && ngv[zi] <= 4;
            for (q = 0; q < nb; q++)
                for (c = 0; c <= zi; c++)
                    if (n_groups[q * (z + 1) + zi] != ngv[zi]
                            || cat_slot[((size_t)q * (z + 1) + zi) * ncat + 2 * c]
                               != (c < ngv[zi] ? c : HB_MS_ALWAYS))
                        ident[zi] = 0;
            /* one term per (slot, category) that some lane of the group uses,
               by slot: every slot below ngv[zi] has one (its lanes' categories) */
            nterm[zi] = 0;
            for (g = 0; g < HB_MS_SLOTS; g++) {
                if (g >= ngv[zi] && g != HB_MS_ALWAYS) continue;
                int first = g != HB_MS_ALWAYS;
                for (c = 0; c <= zi; c++)
                    for (sb = 0; sb < (by_spin ? 2 : 1); sb++) {
                        uint64_t mask[HB_NV] = {0, 0, 0, 0};
                        int used = 0;
                        for (q = 0; q < nb; q++)
                            if (cat_slot[((size_t)q * (z + 1) + zi) * ncat + 2 * c + sb] == g) {
                                mask[q] = ~(uint64_t)0;
                                used = 1;
                            }
                        if (!used) continue;
                        hb_ms_term *tm = &terms[zi * max_terms + nterm[zi]++];
                        tm->mask = hb_v4_of(mask);
                        tm->src = 3 * c + (by_spin ? sb : 2);
                        tm->slot = g;
                        tm->first = first;
                        first = 0;
                    }
            }
        }
        uint64_t st[6][HB_NV];
        memset(st, 0, sizeof(st));
        for (i = 0; i < n; i++) {
            for (q = 0; q < nb; q++) st[0][q] = words[q * n + i];
            ws[i] = hb_v4_of(st[0]);
        }
        memset(st, 0, sizeof(st));
        for (q = 0; q < nb; q++) {
            for (c = 0; c < 4; c++) st[c][q] = states[4 * q + c];
            st[4][q] = lane_mask[q];
        }
        hb_v4 ra = hb_v4_of(st[0]), rb = hb_v4_of(st[1]), rc = hb_v4_of(st[2]);
        hb_v4 rw = hb_v4_of(st[3]), lm = hb_v4_of(st[4]), ndr = zero;
        int64_t nflip[HB_NV] = {0, 0, 0, 0};
        hb_v4 pacc = zero;
        int pcount = 0;
        hb_v4 gm[HB_MS_SLOTS], x[3 * 8];
        const hb_v4 one = {1, 1, 1, 1};
        const int full = (1 << nb) - 1;
        int64_t up[HB_NV][64], bad[HB_NV][64];

        for (sweep = 0; sweep < burn_in + n_sweeps; sweep++) {
            for (t = 0; t < n; t++) {
                i = order[t];
                hb_v4 s = ws[i];
                const int32_t *nr = nbr + i * z;
                hb_v4 c0 = zero, c1 = zero, c2 = zero;
                for (int k = 0; k < z; k++) {
                    int32_t nk = nr[k];
                    if (nk >= 0) {
                        hb_v4 d = s ^ ws[nk];
                        hb_v4 carry = c0 & d;
                        c0 ^= d;
                        d = c1 & carry;
                        c1 ^= carry;
                        c2 |= d;
                    }
                }
                zi = zc[i];
                int ng = ngv[zi];
                hb_v4 lo[4] = {~(c0 | c1), c0 & ~c1, c1 & ~c0, c0 & c1};
                hb_v4 hi[2] = {~c2, c2};
                hb_v4 und, flip, g0 = zero, g1 = zero, g2 = zero, g3 = zero;
                if (ident[zi]) {
                    /* group c is n_anti = c (c < ng), the rest always flip */
                    if (ng > 0) g0 = lo[0] & hi[0];
                    if (ng > 1) g1 = lo[1] & hi[0];
                    if (ng > 2) g2 = lo[2] & hi[0];
                    if (ng > 3) g3 = lo[3] & hi[0];
                    und = g0 | g1 | g2 | g3;
                    flip = ng <= zi ? ~und : zero;
                } else {
                    /* x[3 c + sidx]: lanes with n_anti = c (and s down, up, either) */
                    for (c = 0; c <= zi; c++) {
                        hb_v4 e = lo[c & 3] & hi[c >> 2];
                        x[3 * c] = e & ~s;
                        x[3 * c + 1] = e & s;
                        x[3 * c + 2] = e;
                    }
                    gm[HB_MS_ALWAYS] = zero;
                    const hb_ms_term *tm = terms + zi * max_terms, *tend = tm + nterm[zi];
                    for (; tm < tend; tm++) {
                        hb_v4 e = x[tm->src] & tm->mask;
                        gm[tm->slot] = tm->first ? e : gm[tm->slot] | e;
                    }
                    und = zero;
                    flip = gm[HB_MS_ALWAYS];
                    for (g = 0; g < ng; g++) und |= gm[g];
                    if (ng > 0) g0 = gm[0];
                    if (ng > 1) g1 = gm[1];
                    if (ng > 2) g2 = gm[2];
                    if (ng > 3) g3 = gm[3];
                }
                const hb_v4 *sel = selv + (size_t)zi * 53 * ng_stride;
                int done = mk((hb_v4)(und == zero)) & full;
                j = 0;
                if (ng <= 1) {
                    HB_MS_STEPS(g0 & sel[0])
                } else if (ng == 2) {
                    HB_MS_STEPS((g0 & sel[0]) | (g1 & sel[1]))
                } else if (ng == 3) {
                    HB_MS_STEPS((g0 & sel[0]) | (g1 & sel[1]) | (g2 & sel[2]))
                } else if (ng == 4) {
                    HB_MS_STEPS((g0 & sel[0]) | (g1 & sel[1]) | (g2 & sel[2]) | (g3 & sel[3]))
                } else {
                    hb_v4 pp;
                    HB_MS_STEPS((pp = zero, ({ for (g = 0; g < ng; g++) pp |= gm[g] & sel[g]; }), pp))
                }
                ws[i] = s ^ flip;
                /* flips in reported lanes: byte counts (<= 8 each), 31 sites at most */
                hb_v4 f = flip & lm;
                f = f - ((f >> 1) & m1);
                f = (f & m2) + ((f >> 2) & m2);
                pacc += (f + (f >> 4)) & m4;
                if (++pcount == 31) {
                    uint64_t f4[HB_NV];
                    memcpy(f4, &pacc, sizeof(f4));
                    for (q = 0; q < nb; q++)
                        for (int m = 0; m < 8; m++) nflip[q] += (f4[q] >> (8 * m)) & 0xFF;
                    pacc = zero;
                    pcount = 0;
                }
            }
            if (sweep >= burn_in && (sweep - burn_in + 1) % thin == 0) {
                hb_ms_counts(ws, nbr, n, z, nb, up, bad);
                for (q = 0; q < nb; q++)
                    for (int lane = 0; lane < 64; lane++) {
                        Py_ssize_t o = (64 * (Py_ssize_t)q + lane) * rec_stride + rec;
                        bonds_out[o] = n_bonds - 2 * bad[q][lane];
                        mag_out[o] = 2 * up[q][lane] - n;
                    }
                rec++;
            }
        }
        hb_v4 out[6] = {ra, rb, rc, rw, pacc, ndr};
        memcpy(st, out, sizeof(st));   /* st[6][HB_NV] */
        for (q = 0; q < nb; q++) {
            for (int m = 0; m < 8; m++) nflip[q] += (st[4][q] >> (8 * m)) & 0xFF;
            for (c = 0; c < 4; c++) states[4 * q + c] = st[c][q];
            flips[q] = nflip[q];
            draws[q] = (int64_t)st[5][q];
        }
        for (i = 0; i < n; i++) {
            memcpy(st[0], &ws[i], sizeof(st[0]));
            for (q = 0; q < nb; q++) words[q * n + i] = st[0][q];
        }
        free(raw);
        return 0;
    }
    #define HB_MS_ARGS int nb, Py_ssize_t n, int z, int n_bonds, uint64_t *words, \
            const int32_t *order, const int32_t *nbr, const int8_t *zc, \
            const int32_t *n_groups, const uint64_t *group_sel, const int8_t *cat_slot, \
            int by_spin, const uint64_t *lane_mask, uint64_t *states, \
            Py_ssize_t burn_in, Py_ssize_t n_sweeps, Py_ssize_t thin, \
            int64_t *bonds_out, int64_t *mag_out, Py_ssize_t rec_stride, \
            int64_t *flips, int64_t *draws
    #define HB_MS_PASS nb, n, z, n_bonds, words, order, nbr, zc, n_groups, group_sel, \
            cat_slot, by_spin, lane_mask, states, burn_in, n_sweeps, thin, bonds_out, \
            mag_out, rec_stride, flips, draws
    static int hb_ms_group_base(HB_MS_ARGS) {
        return hb_ms_group_body(HB_MS_PASS, hb_ms_mask_base, hb_ms_blend_base);
    }
    #if HB_MS_AVX2
    __attribute__((target("avx2"))) static int hb_ms_group_avx2(HB_MS_ARGS) {
        return hb_ms_group_body(HB_MS_PASS, hb_ms_mask_avx2, hb_ms_blend_avx2);
    }
    #endif
    /* 1: AVX2 kernel, 0: baseline (set once by hb_ms_select, before any thread runs). */
    static int hb_ms_isa = -1;
    static int hb_ms_select(int allow_avx2) {
    #if HB_MS_AVX2
        __builtin_cpu_init();
        hb_ms_isa = allow_avx2 && __builtin_cpu_supports("avx2");
    #else
        hb_ms_isa = 0;
    #endif
        return hb_ms_isa;
    }
    static int hb_ms_group(HB_MS_ARGS) {
    #if HB_MS_AVX2
        if (hb_ms_isa == 1) return hb_ms_group_avx2(HB_MS_PASS);
    #endif
        return hb_ms_group_base(HB_MS_PASS);
    }
    #else
    #define HB_MS_VECTOR 0
    static int hb_ms_select(int allow_avx2) { return 0; }
    static int hb_ms_group(int nb, Py_ssize_t n, int z, int n_bonds, uint64_t *words,
            const int32_t *order, const int32_t *nbr, const int8_t *zc,
            const int32_t *n_groups, const uint64_t *group_sel, const int8_t *cat_slot,
            int by_spin, const uint64_t *lane_mask, uint64_t *states,
            Py_ssize_t burn_in, Py_ssize_t n_sweeps, Py_ssize_t thin,
            int64_t *bonds_out, int64_t *mag_out, Py_ssize_t rec_stride,
            int64_t *flips, int64_t *draws) { return -2; }
    #endif
    """
    int hb_popcount64(unsigned long long x) nogil
    uint64_t BYTE_LANES "HB_BYTE_LANES"
    int HB_MS_VECTOR
    int hb_ms_select(int allow_avx2) nogil
    int hb_ms_group(int nb, Py_ssize_t n, int z, int n_bonds, uint64_t* words,
                    const int32_t* order, const int32_t* nbr, const int8_t* zc,
                    const int32_t* n_groups, const uint64_t* group_sel, const int8_t* cat_slot,
                    int by_spin, const uint64_t* lane_mask, uint64_t* states,
                    Py_ssize_t burn_in, Py_ssize_t n_sweeps, Py_ssize_t thin,
                    int64_t* bonds_out, int64_t* mag_out, Py_ssize_t rec_stride,
                    int64_t* flips, int64_t* draws) noexcept nogil

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
                      int n_threads, bint vector=True):
    """One call of burn_in + n_sweeps sweeps for every block (see the module docstring).

    With ``vector`` (and a compiler with vector extensions) blocks go to
    hb_ms_group in groups of up to 4, sized so that every thread gets work;
    otherwise one block at a time (_block). Both give the same bits.
    """
    cdef Py_ssize_t b, g, n_blocks = words.shape[0], n = words.shape[1]
    cdef int z = nbr.shape[1], nb, gs, err = 0
    cdef Py_ssize_t rec_stride = bonds_out.shape[1], n_grp
    cdef int64_t dummy = 0
    cdef int64_t* b0 = &bonds_out[0, 0] if rec_stride > 0 else &dummy
    cdef int64_t* m0 = &mag_out[0, 0] if rec_stride > 0 else &dummy
    if vector and HB_MS_VECTOR:
        # (cdivision: rounding up by hand)
        gs = <int>min(4, (n_blocks + max(1, n_threads) - 1) // max(1, n_threads))
        n_grp = (n_blocks + gs - 1) // gs
        for g in prange(n_grp, schedule="static", num_threads=n_threads, nogil=True):
            b = g * gs
            nb = <int>min(gs, n_blocks - b)
            err += hb_ms_group(nb, n, z, n_bonds, &words[b, 0], &order[0], &nbr[0, 0], &zcount[0],
                           &n_groups[b, 0], &group_sel[b, 0, 0, 0], &cat_slot[b, 0, 0], by_spin,
                           &lane_mask[b], &states[b, 0], burn_in, n_sweeps, thin,
                           b0 + 64 * b * rec_stride, m0 + 64 * b * rec_stride, rec_stride,
                           &flips[b], &draws[b]) != 0
        if err:
            raise MemoryError("multispin: no memory for the scratch words")
        return
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


def _select_isa(bint allow_avx2=True):
    """Pick the vector kernel's ISA (AVX2 where the CPU has it and allowed); returns 1 for AVX2.

    Both give the same bits; tests call it to run the baseline kernel on an AVX2 machine.
    Not thread-safe: call it while no kernel runs.
    """
    return hb_ms_select(allow_avx2)


_select_isa()
