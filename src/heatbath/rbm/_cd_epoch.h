/* One epoch of CD-k / PCD-k for a Bernoulli-Bernoulli RBM (heatbath.rbm._cd).

   Included by _cd.pyx once per (type, instruction set) with these defined:
     HB_T      double or float
     HB_L      lanes of one vector of HB_T, one register: 16 bytes at the baseline (SSE2,
               NEON), 32 under AVX2; 1 without GCC/Clang vector extensions (plain C)
     HB_NB     vectors held in registers by the row sums, the update and the bias steps (8)
     HB_MASK4  optional (x86): the != 0 bit mask of 4 elements (movemask)
     HB_NAME   suffix of the functions (d, f, d_avx2, f_avx2)
     HB_TARGET empty, or __attribute__((target("avx2")))
   The arithmetic is element-wise on vectors of HB_L lanes, each lane one output element,
   in the same order as the scalar description in _cd.pyx and its NumPy twin
   (heatbath.reference.rbm.fused_epoch): the instruction set changes the width of the
   vectors and the register blocking, never the order of the operations an element sees
   (no multiply-add: -ffp-contract=off and no FMA in the avx2 target).

   Measured with callgrind (instructions per update, digits 64 x 64, PCD-1, batch 10, the
   AVX2 code): float64 176k -> 122k -> 108k, float32 134k -> 80k -> 73k (draws of 4 rows in
   lockstep, movemask index lists, register-tile transposes, blocked update and bias steps;
   then draws in blocks of 4 per row and row sums of 0/1 rows in blocks of 16 vectors). Of
   the 108k: the sigmoid 27k (about 10 instructions a value), the update 23k, row sums 19k
   (one vector add per selected row and vector of columns), draws 15k (about 10 per draw,
   counting the lanes that repeat a row), the counting sort of the gradient rows 8k, the
   transpose 6k, nonzero lists of the data rows 4k. */

#define HB_CAT_(a, b) a##_##b
#define HB_CAT(a, b) HB_CAT_(a, b)
#define HB_FN(name) HB_CAT(name, HB_NAME)

#if HB_L > 1
typedef HB_T HB_FN(hb_v) __attribute__((vector_size(HB_L * sizeof(HB_T))));
typedef HB_T HB_FN(hb_vu) __attribute__((vector_size(HB_L * sizeof(HB_T)), aligned(sizeof(HB_T)),
                                         may_alias));
#else
typedef HB_T HB_FN(hb_v);
typedef HB_T HB_FN(hb_vu);
#endif
#define V HB_FN(hb_v)
#define VLD(p) (*(const HB_FN(hb_vu) *)(p))
#define VST(p, x) (*(HB_FN(hb_vu) *)(p) = (x))

/* x[i] = sigmoid(x[i]) (the kernel's sigmoid: hb_sigmoid_d / hb_sigmoid_f). */
static CYTHON_INLINE HB_ALWAYS_INLINE HB_TARGET void HB_FN(hb_sig)(HB_T *HB_RESTRICT x,
                                                                          Py_ssize_t n) {
    if (sizeof(HB_T) == 8) hb_sigmoid_d_body((double *)x, n);
    else hb_sigmoid_f_body((float *)x, n);
}

/* out = bias + sum over t of [s[i_t] *] W[i_t, :] (rows of length n), i_t = idx[t], or t
   where idx is NULL (then s is given: a dense product): HB_NB vectors of columns held in
   registers across the selected rows, then single vectors, then single elements. Each
   element sees bias, then the rows in the order of idx. */
#define HB_ROW(t) (idx ? idx[t] : (t))
static CYTHON_INLINE HB_ALWAYS_INLINE HB_TARGET void HB_FN(hb_rows)(
        HB_T *HB_RESTRICT out, const HB_T *HB_RESTRICT bias, const HB_T *HB_RESTRICT W,
        const Py_ssize_t *HB_RESTRICT idx, Py_ssize_t m, const HB_T *HB_RESTRICT s, Py_ssize_t n) {
    Py_ssize_t j0 = 0;
    if (!s) {
        /* rows of 0/1: twice the block (2 HB_NB vectors, every register: the adds read
           memory), the index loads and address arithmetic shared by twice the columns */
        for (; j0 + 2 * HB_NB * HB_L <= n; j0 += 2 * HB_NB * HB_L) {
            V acc[2 * HB_NB];
            for (int u = 0; u < 2 * HB_NB; u++) acc[u] = VLD(bias + j0 + u * HB_L);
            for (Py_ssize_t t = 0; t < m; t++) {
                const HB_T *HB_RESTRICT row = W + idx[t] * n + j0;
                for (int u = 0; u < 2 * HB_NB; u++) acc[u] += VLD(row + u * HB_L);
            }
            for (int u = 0; u < 2 * HB_NB; u++) VST(out + j0 + u * HB_L, acc[u]);
        }
    }
#define HB_ROWS_BLOCK(NV)                                                                     \
    {                                                                                         \
        V acc[NV];                                                                            \
        for (int u = 0; u < NV; u++) acc[u] = VLD(bias + j0 + u * HB_L);                      \
        if (s) {                                                                              \
            for (Py_ssize_t t = 0; t < m; t++) {                                              \
                const HB_T *HB_RESTRICT row = W + HB_ROW(t) * n + j0;                         \
                HB_T st = s[HB_ROW(t)];                                                       \
                for (int u = 0; u < NV; u++) acc[u] += st * VLD(row + u * HB_L);              \
            }                                                                                 \
        } else {                                                                              \
            for (Py_ssize_t t = 0; t < m; t++) {                                              \
                const HB_T *HB_RESTRICT row = W + idx[t] * n + j0;                            \
                for (int u = 0; u < NV; u++) acc[u] += VLD(row + u * HB_L);                   \
            }                                                                                 \
        }                                                                                     \
        for (int u = 0; u < NV; u++) VST(out + j0 + u * HB_L, acc[u]);                        \
    }
    for (; j0 + HB_NB * HB_L <= n; j0 += HB_NB * HB_L) HB_ROWS_BLOCK(HB_NB)
#if HB_L >= 16
    /* vectors of 16: what is left of the row in one block of 4 or 2 vectors, not one
       vector at a time (64 float32 columns are 4 vectors under AVX-512: one 64 x 64 epoch,
       PCD-1, batch 10, 4.60 -> 3.50 ms, builds interleaved in one process). Narrower
       vectors do without: 64 columns fill their 8-vector block, and the same blocks there
       changed no interleaved timing beyond its noise (2%). */
    if (HB_NB > 4 && j0 + 4 * HB_L <= n) { HB_ROWS_BLOCK(4) j0 += 4 * HB_L; }
    if (HB_NB > 2 && j0 + 2 * HB_L <= n) { HB_ROWS_BLOCK(2) j0 += 2 * HB_L; }
#endif
#undef HB_ROWS_BLOCK
    for (; j0 + HB_L <= n; j0 += HB_L) {
        V acc = VLD(bias + j0);
        if (s) {
            for (Py_ssize_t t = 0; t < m; t++) acc += s[HB_ROW(t)] * VLD(W + HB_ROW(t) * n + j0);
        } else {
            for (Py_ssize_t t = 0; t < m; t++) acc += VLD(W + idx[t] * n + j0);
        }
        VST(out + j0, acc);
    }
    for (; j0 < n; j0++) {
        HB_T acc = bias[j0];
        for (Py_ssize_t t = 0; t < m; t++)
            acc += s ? s[HB_ROW(t)] * W[HB_ROW(t) * n + j0] : W[idx[t] * n + j0];
        out[j0] = acc;
    }
}
#undef HB_ROW

/* Indices of the nonzeros of x, in order, without branches; *binary: all of them are 0 or
   1. On x86 the comparison of 4 elements is one bit mask (movemask), and a table gives the
   positions of its ones, stored as 4 indices at once (the entries past the count are
   overwritten later: they never pass i + 3, which is below n). */
static CYTHON_INLINE HB_ALWAYS_INLINE HB_TARGET Py_ssize_t HB_FN(hb_nonzero)(
        const HB_T *HB_RESTRICT x, Py_ssize_t *HB_RESTRICT idx, Py_ssize_t n, int *binary) {
    Py_ssize_t m = 0, i = 0, j = 0;
    int ones = 1;
#if HB_L > 1
    /* the sum of |x (1 - x)|, which is 0 if and only if every x is 0 or 1 (terms are
       >= 0 and never underflow to 0; inf and NaN stay): on the bits, as comparisons
       made into integer masks are scalar code at the baseline */
    V sum = {0};
    typedef __typeof__(sum == sum) VI;          /* integers of the lanes' width */
    const VI abs_bits = ~(VI)(-sum);            /* all but the sign bit (-0.0's bits) */
    for (; j + HB_L <= n; j += HB_L) {
        V v = VLD(x + j);
        sum += (V)((VI)(v * (1 - v)) & abs_bits);
    }
    for (int l = 0; l < HB_L; l++) ones &= sum[l] == 0;
#endif
    for (; j < n; j++) ones &= (x[j] == 0) | (x[j] == 1);
    *binary = ones;
#if defined(HB_MASK4)
    for (; i + 4 <= n; i += 4) {
        int mask = HB_MASK4(x + i);
        const Py_ssize_t *pos = hb_pack4[mask];
        for (int l = 0; l < 4; l++) idx[m + l] = i + pos[l];
        m += pos[4];
    }
#endif
    for (; i < n; i++) {
        idx[m] = i;
        m += x[i] != 0;
    }
    return m;
}

/* HB_SFC64, HB_SCALED_U, HB_TRANSPOSE4: rbm/_lockstep.h */
#include "rbm/_lockstep.h"

/* out[i] = (u_i < p[i]) with one uniform per unit, in unit order (heatbath._random's
   rng_double / rng_float); p and out may be the same row. Returns the number of ones,
   their indices in idx. One scalar pass: the generator is serial, and building the
   index list from the comparison's integer costs less than reading out back. */
static CYTHON_INLINE HB_ALWAYS_INLINE HB_TARGET Py_ssize_t HB_FN(hb_draw)(
        const HB_T *p, HB_T *out, Py_ssize_t *HB_RESTRICT idx, Py_ssize_t n,
        uint64_t *HB_RESTRICT state, int keep) {
    uint64_t s0 = state[0], s1 = state[1], s2 = state[2], s3 = state[3];
    Py_ssize_t ones = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint64_t x;
        HB_T u;
        HB_SFC64(x, s0, s1, s2, s3);
        if (sizeof(HB_T) == 8) u = (HB_T)((double)(x >> 11) * (1.0 / 9007199254740992.0));
        else u = (HB_T)((float)(x >> 40) * (float)(1.0 / 16777216.0));
        int bit = u < p[i];
        if (keep) out[i] = (HB_T)bit;
        idx[ones] = i;
        ones += bit;
    }
    state[0] = s0; state[1] = s1; state[2] = s2; state[3] = s3;
    return ones;
}

#if HB_L > 1
#define HB_G 4
typedef uint64_t HB_FN(hb_u4) __attribute__((vector_size(32)));
typedef double HB_FN(hb_d4) __attribute__((vector_size(32)));
#if defined(__clang__) || __GNUC__ >= 12
#define HB_DRAW_BLOCKS 1   /* 4 draws of each row at once: needs __builtin_shufflevector */
typedef Py_ssize_t HB_FN(hb_i4) __attribute__((vector_size(4 * sizeof(Py_ssize_t)),
                                               aligned(sizeof(Py_ssize_t)), may_alias));
typedef HB_T HB_FN(hb_t4u) __attribute__((vector_size(4 * sizeof(HB_T)), aligned(sizeof(HB_T)),
                                          may_alias));
/* bit c of the mask is lane c of a comparison (-1 or 0): HB_MASK_D4 where given (AVX2's
   movemask), else lane by lane; hb_bits4[mask] are its 4 bits as 0 and 1 */
#if defined(HB_MASK_D4)
#define HB_MASKD4_ HB_MASK_D4
#else
#define HB_MASKD4_(b) ((int)(((b)[0] & 1) | ((b)[1] & 2) | ((b)[2] & 4) | ((b)[3] & 8)))
#endif
static const HB_T HB_FN(hb_bits4)[16][4] = {
    {0, 0, 0, 0}, {1, 0, 0, 0}, {0, 1, 0, 0}, {1, 1, 0, 0}, {0, 0, 1, 0}, {1, 0, 1, 0},
    {0, 1, 1, 0}, {1, 1, 1, 0}, {0, 0, 0, 1}, {1, 0, 0, 1}, {0, 1, 0, 1}, {1, 1, 0, 1},
    {0, 0, 1, 1}, {1, 0, 1, 1}, {0, 1, 1, 1}, {1, 1, 1, 1}};
#else
#define HB_DRAW_BLOCKS 0
#endif

/* hb_draw for 4 rows at once, each with its own stream: the 4 generators run in lockstep
   on one vector of 64-bit lanes (the same numbers as 4 serial runs). keep: write out
   (else only the index lists: the hidden draws' values are never read). counts[c] is the
   number of ones of row c. Rows may repeat (fewer than 4 rows: the caller repeats one row,
   pointers and state alike): a repeated row draws the same numbers and writes the same
   values to the same places.

   The comparison u < p is made exactly on scaled integers in double (rbm/_lockstep.h:
   HB_SCALED_U). In blocks of 4 draws per row (Clang, GCC 12 and later), the 4 steps' numbers are
   transposed to 4 per row (shuffles), compared with 4 of p, and each row's 4 bits become
   its index list through hb_pack4 (4 indices stored at once, as in hb_nonzero). */
static CYTHON_INLINE HB_ALWAYS_INLINE HB_TARGET void HB_FN(hb_draw4)(
        const HB_T *const p[4], HB_T *const out[4], Py_ssize_t *const idx[4], Py_ssize_t n,
        uint64_t *const state[4], Py_ssize_t *HB_RESTRICT counts, int keep) {
    typedef HB_FN(hb_u4) u4;
    typedef HB_FN(hb_d4) d4;
    HB_LOAD4(u4, state, s0, s1, s2, s3);
    const int dbl = sizeof(HB_T) == 8;
    const double sc = HB_U_SCALE(dbl);
#define HB_NEXT_U(u)                                                                         \
    do {                                                                                     \
        u4 x_;                                                                               \
        HB_SFC64(x_, s0, s1, s2, s3);                                                        \
        HB_SCALED_U(u, x_, dbl, u4, d4);                                                     \
    } while (0)
    Py_ssize_t m0 = 0, m1 = 0, m2 = 0, m3 = 0;
    Py_ssize_t i = 0;
#if HB_DRAW_BLOCKS
    {
        typedef HB_FN(hb_i4) i4;
        typedef HB_FN(hb_t4u) t4u;
        Py_ssize_t m[4] = {0, 0, 0, 0};
        for (; i + 4 <= n; i += 4) {
            d4 u0, u1, u2, u3, U[4];
            HB_NEXT_U(u0);
            HB_NEXT_U(u1);
            HB_NEXT_U(u2);
            HB_NEXT_U(u3);
            HB_TRANSPOSE4(d4, U, u0, u1, u2, u3);
            for (int c = 0; c < 4; c++) {
                d4 P = __builtin_convertvector(*(const t4u *)(p[c] + i), d4) * sc;
                __typeof__(P < P) bit = U[c] < P;
                int mask = HB_MASKD4_(bit);
                if (keep) *(t4u *)(out[c] + i) = *(const t4u *)HB_FN(hb_bits4)[mask];
                const Py_ssize_t *pos = hb_pack4[mask];
                *(i4 *)(idx[c] + m[c]) = *(const i4 *)pos + i;
                m[c] += pos[4];
            }
        }
        m0 = m[0]; m1 = m[1]; m2 = m[2]; m3 = m[3];
    }
#endif
    for (; i < n; i++) {
        d4 u;
        HB_NEXT_U(u);
        d4 pv = {p[0][i], p[1][i], p[2][i], p[3][i]};
        __typeof__(u < pv) bit = u < pv * sc;
        if (keep) {
            out[0][i] = (HB_T)(bit[0] & 1); out[1][i] = (HB_T)(bit[1] & 1);
            out[2][i] = (HB_T)(bit[2] & 1); out[3][i] = (HB_T)(bit[3] & 1);
        }
        idx[0][m0] = i; m0 += bit[0] & 1;
        idx[1][m1] = i; m1 += bit[1] & 1;
        idx[2][m2] = i; m2 += bit[2] & 1;
        idx[3][m3] = i; m3 += bit[3] & 1;
    }
#undef HB_NEXT_U
#if HB_DRAW_BLOCKS
#undef HB_MASKD4_
#endif
    HB_STORE4(state, s0, s1, s2, s3);
    counts[0] = m0; counts[1] = m1; counts[2] = m2; counts[3] = m3;
}
#else
#define HB_G 1
#endif

/* hb_draw for g rows (1 <= g <= HB_G): row c reads p[c], writes out[c] (if keep) and its
   index list idx[c] with stream state[c]; counts[c] = its number of ones. Fewer than HB_G
   rows run in lockstep too, the missing lanes repeating row 0. */
static CYTHON_INLINE HB_ALWAYS_INLINE HB_TARGET void HB_FN(hb_draw_rows)(
        int g, const HB_T *p[HB_G], HB_T *out[HB_G], Py_ssize_t *idx[HB_G],
        Py_ssize_t n, uint64_t *state[HB_G], Py_ssize_t *HB_RESTRICT counts, int keep) {
#if HB_G > 1
    Py_ssize_t m[HB_G];
    for (int c = g; c < HB_G; c++) {
        p[c] = p[0]; out[c] = out[0]; idx[c] = idx[0]; state[c] = state[0];
    }
    HB_FN(hb_draw4)(p, out, idx, n, state, m, keep);
    for (int c = 0; c < g; c++) counts[c] = m[c];
#else
    (void)g;
    counts[0] = HB_FN(hb_draw)(p[0], out[0], idx[0], n, state[0], keep);
#endif
}

/* From per-row lists of nonzero columns (idx[r * stride:][:counts[r]]), the per-column
   lists of rows (as offsets r * scale), in row order (a counting sort); vals[q] =
   values[r * nv + i] when values is not NULL. */
static CYTHON_INLINE HB_ALWAYS_INLINE HB_TARGET void HB_FN(hb_by_column)(
        const Py_ssize_t *HB_RESTRICT idx, const Py_ssize_t *HB_RESTRICT counts, Py_ssize_t n_rows,
        Py_ssize_t stride, const HB_T *HB_RESTRICT values, Py_ssize_t nv, Py_ssize_t scale,
        Py_ssize_t *HB_RESTRICT start, Py_ssize_t *HB_RESTRICT rows, HB_T *HB_RESTRICT vals) {
    for (Py_ssize_t i = 0; i <= nv; i++) start[i] = 0;
    for (Py_ssize_t r = 0; r < n_rows; r++)
        for (Py_ssize_t t = 0; t < counts[r]; t++) start[idx[r * stride + t] + 1] += 1;
    for (Py_ssize_t i = 0; i < nv; i++) start[i + 1] += start[i];
    for (Py_ssize_t r = 0; r < n_rows; r++) {
        for (Py_ssize_t t = 0; t < counts[r]; t++) {
            Py_ssize_t i = idx[r * stride + t], q = start[i];
            rows[q] = r * scale;
            if (values) vals[q] = values[r * nv + i];
            start[i] = q + 1;
        }
    }
    for (Py_ssize_t i = nv; i > 0; i--) start[i] = start[i - 1];
    start[0] = 0;
}

/* The gradient step for visible row i, columns [j0, j0 + NV * HB_L) in NV vectors:
   vel = mom vel - dec W + the data rows' x_ri Hp[r] (Hp[r] where pval is NULL: a binary
   minibatch, 1 x_ri = x_ri) + the negative rows' Hn[r]; W += vel. The
   row lists hold offsets (r nh). */
#define HB_UPDATE_BLOCK(NV)                                                                   \
    {                                                                                         \
        V acc[NV];                                                                            \
        for (int u = 0; u < NV; u++)                                                          \
            acc[u] = mom * VLD(Vi + j0 + u * HB_L) - dec * VLD(Wi + j0 + u * HB_L);          \
        if (pval) {                                                                           \
            for (Py_ssize_t q = pstart[i]; q < pstart[i + 1]; q++) {                          \
                const HB_T *HB_RESTRICT h = Hp + prow[q] + j0;                                \
                HB_T x = pval[q];                                                             \
                for (int u = 0; u < NV; u++) acc[u] += x * VLD(h + u * HB_L);                 \
            }                                                                                 \
        } else {                                                                              \
            for (Py_ssize_t q = pstart[i]; q < pstart[i + 1]; q++) {                          \
                const HB_T *HB_RESTRICT h = Hp + prow[q] + j0;                                \
                for (int u = 0; u < NV; u++) acc[u] += VLD(h + u * HB_L);                     \
            }                                                                                 \
        }                                                                                     \
        for (Py_ssize_t q = nstart[i]; q < nstart[i + 1]; q++) {                              \
            const HB_T *HB_RESTRICT h = Hn + nrow[q] + j0;                                    \
            for (int u = 0; u < NV; u++) acc[u] += VLD(h + u * HB_L);                         \
        }                                                                                     \
        for (int u = 0; u < NV; u++) {                                                        \
            V w = VLD(Wi + j0 + u * HB_L) + acc[u];                                           \
            VST(Vi + j0 + u * HB_L, acc[u]);                                                  \
            VST(Wi + j0 + u * HB_L, w);                                                       \
        }                                                                                     \
    }


static CYTHON_INLINE HB_ALWAYS_INLINE HB_TARGET void HB_FN(hb_update)(
        HB_T *HB_RESTRICT W, HB_T *HB_RESTRICT vel,
        const HB_T *HB_RESTRICT Hp, const Py_ssize_t *HB_RESTRICT pstart,
        const Py_ssize_t *HB_RESTRICT prow, const HB_T *HB_RESTRICT pval,
        const HB_T *HB_RESTRICT Hn, const Py_ssize_t *HB_RESTRICT nstart,
        const Py_ssize_t *HB_RESTRICT nrow, HB_T mom, HB_T dec, Py_ssize_t nv, Py_ssize_t nh) {
    for (Py_ssize_t i = 0; i < nv; i++) {
        HB_T *HB_RESTRICT Wi = W + i * nh, *HB_RESTRICT Vi = vel + i * nh;
        Py_ssize_t j0 = 0;
        for (; j0 + HB_NB * HB_L <= nh; j0 += HB_NB * HB_L) HB_UPDATE_BLOCK(HB_NB)
#if HB_L >= 16   /* as in hb_rows */
        if (HB_NB > 4 && j0 + 4 * HB_L <= nh) { HB_UPDATE_BLOCK(4) j0 += 4 * HB_L; }
        if (HB_NB > 2 && j0 + 2 * HB_L <= nh) { HB_UPDATE_BLOCK(2) j0 += 2 * HB_L; }
#endif
        for (; j0 + HB_L <= nh; j0 += HB_L) HB_UPDATE_BLOCK(1)
        for (; j0 < nh; j0++) {
            HB_T acc = mom * Vi[j0] - dec * Wi[j0];
            for (Py_ssize_t q = pstart[i]; q < pstart[i + 1]; q++)
                acc += pval ? pval[q] * Hp[prow[q] + j0] : Hp[prow[q] + j0];
            for (Py_ssize_t q = nstart[i]; q < nstart[i + 1]; q++) acc += Hn[nrow[q] + j0];
            HB_T w = Wi[j0] + acc;
            Vi[j0] = acc;
            Wi[j0] = w;
        }
    }
}
#undef HB_UPDATE_BLOCK

/* WT = W transposed (W is nv x nh): TL x TL tiles (TL = HB_L, at most 8) transposed in
   registers by shuffles (Clang, GCC 12 and later), the edges and other compilers one element
   at a time. */
#if HB_L > 1 && (defined(__clang__) || __GNUC__ >= 12)
#define HB_SHUF __builtin_shufflevector
#define HB_TILES 1
#define HB_TL (HB_L > 8 ? 8 : HB_L)
typedef HB_T HB_FN(hb_tv) __attribute__((vector_size(HB_TL * sizeof(HB_T))));
typedef HB_T HB_FN(hb_tvu) __attribute__((vector_size(HB_TL * sizeof(HB_T)), aligned(sizeof(HB_T)),
                                          may_alias));
#else
#define HB_TILES 0
#endif
static CYTHON_INLINE HB_ALWAYS_INLINE HB_TARGET void HB_FN(hb_transpose)(
        const HB_T *HB_RESTRICT W, HB_T *HB_RESTRICT WT, Py_ssize_t nv, Py_ssize_t nh) {
    Py_ssize_t i0 = 0;
#if HB_TILES
#define TV HB_FN(hb_tv)
    for (; i0 + HB_TL <= nv; i0 += HB_TL) {
        Py_ssize_t j0 = 0;
        for (; j0 + HB_TL <= nh; j0 += HB_TL) {
            TV r[HB_TL], c[HB_TL];
            for (int l = 0; l < HB_TL; l++) r[l] = *(const HB_FN(hb_tvu) *)(W + (i0 + l) * nh + j0);
#if HB_TL == 2
            c[0] = HB_SHUF(r[0], r[1], 0, 2);
            c[1] = HB_SHUF(r[0], r[1], 1, 3);
#elif HB_TL == 4
            TV t0 = HB_SHUF(r[0], r[1], 0, 4, 2, 6), t1 = HB_SHUF(r[0], r[1], 1, 5, 3, 7);
            TV t2 = HB_SHUF(r[2], r[3], 0, 4, 2, 6), t3 = HB_SHUF(r[2], r[3], 1, 5, 3, 7);
            c[0] = HB_SHUF(t0, t2, 0, 1, 4, 5);
            c[1] = HB_SHUF(t1, t3, 0, 1, 4, 5);
            c[2] = HB_SHUF(t0, t2, 2, 3, 6, 7);
            c[3] = HB_SHUF(t1, t3, 2, 3, 6, 7);
#else   /* 8: elements, then pairs, then quadruples of rows interleaved */
            TV a[4], b[4], e[4], f[4];
            for (int k = 0; k < 4; k++) {
                a[k] = HB_SHUF(r[2 * k], r[2 * k + 1], 0, 8, 2, 10, 4, 12, 6, 14);
                b[k] = HB_SHUF(r[2 * k], r[2 * k + 1], 1, 9, 3, 11, 5, 13, 7, 15);
            }
            for (int k = 0; k < 2; k++) {
                e[2 * k] = HB_SHUF(a[2 * k], a[2 * k + 1], 0, 1, 8, 9, 4, 5, 12, 13);
                e[2 * k + 1] = HB_SHUF(a[2 * k], a[2 * k + 1], 2, 3, 10, 11, 6, 7, 14, 15);
                f[2 * k] = HB_SHUF(b[2 * k], b[2 * k + 1], 0, 1, 8, 9, 4, 5, 12, 13);
                f[2 * k + 1] = HB_SHUF(b[2 * k], b[2 * k + 1], 2, 3, 10, 11, 6, 7, 14, 15);
            }
            c[0] = HB_SHUF(e[0], e[2], 0, 1, 2, 3, 8, 9, 10, 11);
            c[4] = HB_SHUF(e[0], e[2], 4, 5, 6, 7, 12, 13, 14, 15);
            c[2] = HB_SHUF(e[1], e[3], 0, 1, 2, 3, 8, 9, 10, 11);
            c[6] = HB_SHUF(e[1], e[3], 4, 5, 6, 7, 12, 13, 14, 15);
            c[1] = HB_SHUF(f[0], f[2], 0, 1, 2, 3, 8, 9, 10, 11);
            c[5] = HB_SHUF(f[0], f[2], 4, 5, 6, 7, 12, 13, 14, 15);
            c[3] = HB_SHUF(f[1], f[3], 0, 1, 2, 3, 8, 9, 10, 11);
            c[7] = HB_SHUF(f[1], f[3], 4, 5, 6, 7, 12, 13, 14, 15);
#endif
            for (int l = 0; l < HB_TL; l++) *(HB_FN(hb_tvu) *)(WT + (j0 + l) * nv + i0) = c[l];
        }
        for (; j0 < nh; j0++)
            for (Py_ssize_t i = i0; i < i0 + HB_TL; i++) WT[j0 * nv + i] = W[i * nh + j0];
    }
#undef TV
#endif
    for (; i0 < nv; i0++)
        for (Py_ssize_t j = 0; j < nh; j++) WT[j * nv + i0] = W[i0 * nh + j];
}
#undef HB_TILES
#undef HB_SHUF
#undef HB_TL

/* A bias step: vel = mom vel - 0 par, += c1 X1[r] for the n1 rows of X1, += c2 X2[r] for
   the n2 rows of X2 (no multiply where c is 1: the same bits), then par += vel; HB_NB
   vectors at a time held in registers across the rows. */
#define HB_BIAS_ROWS(NV, X, nr, c)                                                            \
    if (c == 1) {                                                                             \
        for (Py_ssize_t r = 0; r < nr; r++)                                                   \
            for (int u = 0; u < NV; u++) acc[u] += VLD(X + r * n + j0 + u * HB_L);            \
    } else {                                                                                  \
        for (Py_ssize_t r = 0; r < nr; r++)                                                   \
            for (int u = 0; u < NV; u++) acc[u] += c * VLD(X + r * n + j0 + u * HB_L);        \
    }
#define HB_BIAS_BLOCK(NV)                                                                     \
    {                                                                                         \
        V acc[NV];                                                                            \
        for (int u = 0; u < NV; u++)                                                          \
            acc[u] = mom * VLD(vel + j0 + u * HB_L) - (HB_T)0 * VLD(par + j0 + u * HB_L);     \
        HB_BIAS_ROWS(NV, X1, n1, c1)                                                          \
        HB_BIAS_ROWS(NV, X2, n2, c2)                                                          \
        for (int u = 0; u < NV; u++) {                                                        \
            VST(vel + j0 + u * HB_L, acc[u]);                                                 \
            VST(par + j0 + u * HB_L, VLD(par + j0 + u * HB_L) + acc[u]);                      \
        }                                                                                     \
    }

static CYTHON_INLINE HB_ALWAYS_INLINE HB_TARGET void HB_FN(hb_bias)(
        HB_T *HB_RESTRICT par, HB_T *HB_RESTRICT vel, HB_T mom, const HB_T *HB_RESTRICT X1,
        Py_ssize_t n1, HB_T c1, const HB_T *HB_RESTRICT X2, Py_ssize_t n2, HB_T c2,
        Py_ssize_t n) {
    Py_ssize_t j0 = 0;
    for (; j0 + HB_NB * HB_L <= n; j0 += HB_NB * HB_L) HB_BIAS_BLOCK(HB_NB)
#if HB_L >= 16   /* as in hb_rows */
    if (HB_NB > 4 && j0 + 4 * HB_L <= n) { HB_BIAS_BLOCK(4) j0 += 4 * HB_L; }
    if (HB_NB > 2 && j0 + 2 * HB_L <= n) { HB_BIAS_BLOCK(2) j0 += 2 * HB_L; }
#endif
    for (; j0 + HB_L <= n; j0 += HB_L) HB_BIAS_BLOCK(1)
    for (; j0 < n; j0++) {
        HB_T acc = mom * vel[j0] - (HB_T)0 * par[j0];
        for (Py_ssize_t r = 0; r < n1; r++) acc += c1 == 1 ? X1[r * n + j0] : c1 * X1[r * n + j0];
        for (Py_ssize_t r = 0; r < n2; r++) acc += c2 == 1 ? X2[r * n + j0] : c2 * X2[r * n + j0];
        vel[j0] = acc;
        par[j0] += acc;
    }
}
#undef HB_BIAS_BLOCK
#undef HB_BIAS_ROWS

/* The whole epoch (the arguments in hb_epoch_args): see _bernoulli_epoch in _cd.pyx for
   the order of the operations. Returns the number of updates. */
static HB_TARGET Py_ssize_t HB_FN(hb_epoch)(const hb_epoch_args *args) {
    HB_T *HB_RESTRICT W = args->W, *HB_RESTRICT a = args->a, *HB_RESTRICT b = args->b;
    HB_T *HB_RESTRICT vW = args->vW, *HB_RESTRICT va = args->va, *HB_RESTRICT vb = args->vb;
    const HB_T *HB_RESTRICT X = args->X;
    const int64_t *HB_RESTRICT order = args->order;
    const Py_ssize_t n = args->n, nv = args->nv, nh = args->nh, batch_size = args->batch_size;
    const int k = args->k, persistent = args->persistent;
    const double lr = args->lr, momentum = args->momentum, weight_decay = args->weight_decay;
    HB_T *HB_RESTRICT chains = args->chains;
    const Py_ssize_t n_chains = args->n_chains;
    uint64_t *HB_RESTRICT streams = args->streams;
    HB_T *HB_RESTRICT H0 = args->H0, *HB_RESTRICT Hs = args->Hs, *HB_RESTRICT Vs = args->Vs;
    HB_T *HB_RESTRICT Pv = args->Pv, *HB_RESTRICT WT = args->WT, *HB_RESTRICT hbuf = args->hbuf;
    HB_T *HB_RESTRICT XB = args->XB, *HB_RESTRICT PX = args->PX;
    Py_ssize_t *HB_RESTRICT IX = args->IX, *HB_RESTRICT MX = args->MX, *HB_RESTRICT IV = args->IV;
    Py_ssize_t *HB_RESTRICT MV = args->MV, *HB_RESTRICT IH = args->IH, *HB_RESTRICT PS = args->PS;
    Py_ssize_t *HB_RESTRICT NS = args->NS, *HB_RESTRICT PR = args->PR, *HB_RESTRICT NR = args->NR;
    const HB_T f_mom = (HB_T)momentum, f_decay = (HB_T)(lr * weight_decay);
    Py_ssize_t updates = 0;
    int bin_row, chains_bin = 1, g = 1;
    HB_FN(hb_transpose)(W, WT, nv, nh);
    for (Py_ssize_t start = 0; start < n; start += batch_size) {
        Py_ssize_t B = n - start < batch_size ? n - start : batch_size, Bn;
        HB_T *V;
        /* positive phase: hidden means of the data rows (copied together) */
        int batch_bin = 1;
        for (Py_ssize_t r = 0; r < B; r++) {
            memcpy(XB + r * nv, X + order[start + r] * nv, nv * sizeof(HB_T));
            MX[r] = HB_FN(hb_nonzero)(XB + r * nv, IX + r * nv, nv, &bin_row);
            batch_bin &= bin_row;
            HB_FN(hb_rows)(H0 + r * nh, b, W, IX + r * nv, MX[r], bin_row ? NULL : XB + r * nv, nh);
            HB_FN(hb_sig)(H0 + r * nh, nh);
        }
        /* negative phase: the CD samples or the persistent chains, in groups of HB_G rows
           whose draws run in lockstep (each row its own stream, hidden draws before visible
           ones, as one at a time) */
        Bn = persistent ? n_chains : B;
        V = persistent ? chains : Vs;
        if (persistent && start == 0) {
            /* the chains start from data rows, which may be probabilities (times 1 gives
               the same bits for a binary row); later minibatches reuse the index lists of
               the last draws */
            chains_bin = 1;
            for (Py_ssize_t r = 0; r < Bn; r++) {
                MV[r] = HB_FN(hb_nonzero)(chains + r * nv, IV + r * nv, nv, &bin_row);
                chains_bin &= bin_row;
            }
        }
        for (Py_ssize_t r0 = 0; r0 < Bn; r0 += g) {
            const HB_T *ph[HB_G], *pv[HB_G];
            HB_T *hout[HB_G], *vout[HB_G];
            Py_ssize_t *hidx[HB_G], *vidx[HB_G], mh[HB_G];
            uint64_t *st[HB_G];
            g = Bn - r0 < HB_G ? (int)(Bn - r0) : HB_G;
            for (int c = 0; c < g; c++) {
                Py_ssize_t r = r0 + c;
                hout[c] = hbuf + c * nh;
                hidx[c] = IH + c * nh;
                pv[c] = Pv + r * nv;
                vout[c] = V + r * nv;
                vidx[c] = IV + r * nv;
                st[c] = streams + 4 * r;
            }
            for (int step = 0; step < k; step++) {
                for (int c = 0; c < g; c++) {
                    Py_ssize_t r = r0 + c;
                    if (!persistent && step == 0) {
                        ph[c] = H0 + r * nh;
                        continue;
                    }
                    HB_FN(hb_rows)(hout[c], b, W, IV + r * nv, MV[r],
                                   persistent && start == 0 && step == 0 && !chains_bin
                                   ? chains + r * nv : NULL, nh);
                    ph[c] = hout[c];
                }
                if (persistent || step > 0) HB_FN(hb_sig)(hbuf, g * nh);
                HB_FN(hb_draw_rows)(g, ph, hout, hidx, nh, st, mh, 0);
                for (int c = 0; c < g; c++)
                    HB_FN(hb_rows)(Pv + (r0 + c) * nv, a, WT, hidx[c], mh[c], NULL, nv);
                HB_FN(hb_sig)(Pv + r0 * nv, g * nv);
                HB_FN(hb_draw_rows)(g, pv, vout, vidx, nv, st, MV + r0, 1);
            }
        }
        /* hidden means of the negative samples */
        for (Py_ssize_t r = 0; r < Bn; r++) {
            HB_FN(hb_rows)(Hs + r * nh, b, W, IV + r * nv, MV[r], NULL, nh);
            HB_FN(hb_sig)(Hs + r * nh, nh);
        }
        /* gradient into the velocity, then the update, and W's transposed copy */
        const HB_T c_pos = (HB_T)(lr / B), c_neg = (HB_T)(-lr / Bn);
        for (Py_ssize_t q = 0; q < B * nh; q++) H0[q] *= c_pos;
        for (Py_ssize_t q = 0; q < Bn * nh; q++) Hs[q] *= c_neg;
        HB_FN(hb_by_column)(IX, MX, B, nv, batch_bin ? NULL : XB, nv, nh, PS, PR, PX);
        HB_FN(hb_by_column)(IV, MV, Bn, nv, NULL, nv, nh, NS, NR, NULL);
        HB_FN(hb_update)(W, vW, H0, PS, PR, batch_bin ? NULL : PX, Hs, NS, NR, f_mom, f_decay,
                         nv, nh);
        HB_FN(hb_transpose)(W, WT, nv, nh);
        HB_FN(hb_bias)(a, va, f_mom, XB, B, c_pos, V, Bn, c_neg, nv);
        HB_FN(hb_bias)(b, vb, f_mom, H0, B, 1, Hs, Bn, 1, nh);
        updates += 1;
    }
    return updates;
}

/* R[r] = sigmoid(a + sum over j of h_j WT[j]) with h = sigmoid(b + V[r] W), for the n rows
   of V: the visible means of the hidden means (the reconstruction), with the epoch's
   arithmetic. WT is W transposed; hbuf (nh) and IX (nv) are work space. */
static HB_TARGET void HB_FN(hb_reconstruct)(const hb_reconstruct_args *args) {
    const HB_T *HB_RESTRICT W = args->W, *HB_RESTRICT WT = args->WT, *HB_RESTRICT a = args->a;
    const HB_T *HB_RESTRICT b = args->b, *HB_RESTRICT X = args->X;
    HB_T *HB_RESTRICT R = args->R, *HB_RESTRICT h = args->hbuf;
    const Py_ssize_t n = args->n, nv = args->nv, nh = args->nh;
    Py_ssize_t *HB_RESTRICT IX = args->IX;
    for (Py_ssize_t r = 0; r < n; r++) {
        int bin_row;
        Py_ssize_t m = HB_FN(hb_nonzero)(X + r * nv, IX, nv, &bin_row);
        HB_FN(hb_rows)(h, b, W, IX, m, bin_row ? NULL : X + r * nv, nh);
        HB_FN(hb_sig)(h, nh);
        HB_FN(hb_rows)(R + r * nv, a, WT, NULL, nh, h, nv);
        HB_FN(hb_sig)(R + r * nv, nv);
    }
}

#undef V
#undef VLD
#undef VST
#undef HB_FN
#undef HB_CAT
#undef HB_CAT_
