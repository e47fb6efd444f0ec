/* One epoch of CD-k / PCD-k for a Bernoulli-Bernoulli RBM (heatbath.rbm._cd).

   Included by _cd.pyx once per (type, instruction set) with these defined:
     HB_T      double or float
     HB_L      lanes of one vector of HB_T (4 doubles or 8 floats: 32 bytes; 1 without
               GCC/Clang vector extensions)
     HB_NB     vectors held in registers by the row sums (8 under AVX2, 4 at the baseline)
     HB_NAME   suffix of the functions (d, f, d_avx2, f_avx2)
     HB_TARGET empty, or __attribute__((target("avx2")))
   The arithmetic is element-wise on vectors of HB_L lanes, each lane one output element,
   in the same order as the scalar description in _cd.pyx and its NumPy twin
   (heatbath.reference.rbm.fused_epoch): the instruction set changes the width of the
   vectors and the register blocking, never the order of the operations an element sees
   (no multiply-add: -ffp-contract=off and no FMA in the avx2 target).

   Measured with callgrind (instructions per update, digits 64 x 64, PCD-1, batch 10, the
   AVX2 code): float64 271k -> 176k, float32 448k -> 135k against the previous kernel (row
   sums and sigmoid cloned, update and draws at the baseline). What is left: the serial
   SFC64 draws (about 17 instructions each, 1280 an update), the sigmoid (about 10 a
   value), the update's scalar stores into the transposed copy of W. */

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
static inline __attribute__((always_inline)) HB_TARGET void HB_FN(hb_sig)(HB_T *restrict x,
                                                                          Py_ssize_t n) {
    if (sizeof(HB_T) == 8) hb_sigmoid_d_body((double *)x, n);
    else hb_sigmoid_f_body((float *)x, n);
}

/* out = bias + sum over t of [s[idx[t]] *] W[idx[t], :] (rows of length n): HB_NB vectors
   of columns held in registers across the selected rows, then single vectors, then
   single elements. Each element sees bias, then the rows in the order of idx. */
static inline __attribute__((always_inline)) HB_TARGET void HB_FN(hb_rows)(
        HB_T *restrict out, const HB_T *restrict bias, const HB_T *restrict W,
        const Py_ssize_t *restrict idx, Py_ssize_t m, const HB_T *restrict s, Py_ssize_t n) {
    Py_ssize_t j0 = 0;
    for (; j0 + HB_NB * HB_L <= n; j0 += HB_NB * HB_L) {
        V acc[HB_NB];
        for (int u = 0; u < HB_NB; u++) acc[u] = VLD(bias + j0 + u * HB_L);
        if (s) {
            for (Py_ssize_t t = 0; t < m; t++) {
                const HB_T *restrict row = W + idx[t] * n + j0;
                HB_T st = s[idx[t]];
                for (int u = 0; u < HB_NB; u++) acc[u] += st * VLD(row + u * HB_L);
            }
        } else {
            for (Py_ssize_t t = 0; t < m; t++) {
                const HB_T *restrict row = W + idx[t] * n + j0;
                for (int u = 0; u < HB_NB; u++) acc[u] += VLD(row + u * HB_L);
            }
        }
        for (int u = 0; u < HB_NB; u++) VST(out + j0 + u * HB_L, acc[u]);
    }
    for (; j0 + HB_L <= n; j0 += HB_L) {
        V acc = VLD(bias + j0);
        if (s) {
            for (Py_ssize_t t = 0; t < m; t++) acc += s[idx[t]] * VLD(W + idx[t] * n + j0);
        } else {
            for (Py_ssize_t t = 0; t < m; t++) acc += VLD(W + idx[t] * n + j0);
        }
        VST(out + j0, acc);
    }
    for (; j0 < n; j0++) {
        HB_T acc = bias[j0];
        for (Py_ssize_t t = 0; t < m; t++)
            acc += s ? s[idx[t]] * W[idx[t] * n + j0] : W[idx[t] * n + j0];
        out[j0] = acc;
    }
}

/* Indices of the nonzeros of x, without branches; *binary: all of them are 1. */
static inline __attribute__((always_inline)) HB_TARGET Py_ssize_t HB_FN(hb_nonzero)(
        const HB_T *restrict x, Py_ssize_t *restrict idx, Py_ssize_t n, int *binary) {
    Py_ssize_t m = 0;
    int ones = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        idx[m] = i;
        m += x[i] != 0;
        ones &= (x[i] == 0) | (x[i] == 1);
    }
    *binary = ones;
    return m;
}

/* SFC64 (numpy's sfc64_next; heatbath._random.rng_next) on a state held in locals. */
#define HB_SFC64(out, s0, s1, s2, s3)                     \
    do {                                                  \
        uint64_t tmp_ = s0 + s1 + s3;                     \
        s3 += 1;                                          \
        s0 = s1 ^ (s1 >> 11);                             \
        s1 = s2 + (s2 << 3);                              \
        s2 = ((s2 << 24) | (s2 >> 40)) + tmp_;            \
        out = tmp_;                                       \
    } while (0)

/* out[i] = (u_i < p[i]) with one uniform per unit, in unit order (heatbath._random's
   rng_double / rng_float); p and out may be the same row. Returns the number of ones,
   their indices in idx. One scalar pass: the generator is serial, and building the
   index list from the comparison's integer costs less than reading out back. */
static inline __attribute__((always_inline)) HB_TARGET Py_ssize_t HB_FN(hb_draw)(
        const HB_T *p, HB_T *out, Py_ssize_t *restrict idx, Py_ssize_t n,
        uint64_t *restrict state) {
    uint64_t s0 = state[0], s1 = state[1], s2 = state[2], s3 = state[3];
    Py_ssize_t ones = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint64_t x;
        HB_T u;
        HB_SFC64(x, s0, s1, s2, s3);
        if (sizeof(HB_T) == 8) u = (HB_T)((double)(x >> 11) * (1.0 / 9007199254740992.0));
        else u = (HB_T)((float)(x >> 40) * (float)(1.0 / 16777216.0));
        int bit = u < p[i];
        out[i] = (HB_T)bit;
        idx[ones] = i;
        ones += bit;
    }
    state[0] = s0; state[1] = s1; state[2] = s2; state[3] = s3;
    return ones;
}

/* From per-row lists of nonzero columns (idx[r * stride:][:counts[r]]), the per-column
   lists of rows, in row order (a counting sort); vals[q] = values[r * nv + i] when values
   is not NULL. */
static inline __attribute__((always_inline)) HB_TARGET void HB_FN(hb_by_column)(
        const Py_ssize_t *restrict idx, const Py_ssize_t *restrict counts, Py_ssize_t n_rows,
        Py_ssize_t stride, const HB_T *restrict values, Py_ssize_t nv,
        Py_ssize_t *restrict start, Py_ssize_t *restrict rows, HB_T *restrict vals) {
    for (Py_ssize_t i = 0; i <= nv; i++) start[i] = 0;
    for (Py_ssize_t r = 0; r < n_rows; r++)
        for (Py_ssize_t t = 0; t < counts[r]; t++) start[idx[r * stride + t] + 1] += 1;
    for (Py_ssize_t i = 0; i < nv; i++) start[i + 1] += start[i];
    for (Py_ssize_t r = 0; r < n_rows; r++) {
        for (Py_ssize_t t = 0; t < counts[r]; t++) {
            Py_ssize_t i = idx[r * stride + t], q = start[i];
            rows[q] = r;
            if (values) vals[q] = values[r * nv + i];
            start[i] = q + 1;
        }
    }
    for (Py_ssize_t i = nv; i > 0; i--) start[i] = start[i - 1];
    start[0] = 0;
}

/* The gradient step for visible row i, columns [j0, j0 + NV * HB_L) in NV vectors:
   vel = mom vel - dec W + the data rows' x_ri Hp[r] + the negative rows' Hn[r];
   W += vel; WT[:, i] = W[i]. */
#define HB_UPDATE_BLOCK(NV)                                                                   \
    {                                                                                         \
        V acc[NV];                                                                            \
        for (int u = 0; u < NV; u++)                                                          \
            acc[u] = mom * VLD(Vi + j0 + u * HB_L) - dec * VLD(Wi + j0 + u * HB_L);          \
        for (Py_ssize_t q = pstart[i]; q < pstart[i + 1]; q++) {                              \
            const HB_T *restrict h = Hp + prow[q] * nh + j0;                                  \
            HB_T x = pval[q];                                                                 \
            for (int u = 0; u < NV; u++) acc[u] += x * VLD(h + u * HB_L);                     \
        }                                                                                     \
        for (Py_ssize_t q = nstart[i]; q < nstart[i + 1]; q++) {                              \
            const HB_T *restrict h = Hn + nrow[q] * nh + j0;                                  \
            for (int u = 0; u < NV; u++) acc[u] += VLD(h + u * HB_L);                         \
        }                                                                                     \
        for (int u = 0; u < NV; u++) {                                                        \
            V w = VLD(Wi + j0 + u * HB_L) + acc[u];                                           \
            VST(Vi + j0 + u * HB_L, acc[u]);                                                  \
            VST(Wi + j0 + u * HB_L, w);                                                       \
            for (int l = 0; l < HB_L; l++) WTi[(j0 + u * HB_L + l) * nv] = HB_LANE(w, l);      \
        }                                                                                     \
    }

#if HB_L > 1
#define HB_LANE(x, l) ((x)[l])
#else
#define HB_LANE(x, l) (x)
#endif

static inline __attribute__((always_inline)) HB_TARGET void HB_FN(hb_update)(
        HB_T *restrict W, HB_T *restrict vel, HB_T *restrict WT, const HB_T *restrict Hp,
        const Py_ssize_t *restrict pstart, const Py_ssize_t *restrict prow,
        const HB_T *restrict pval, const HB_T *restrict Hn, const Py_ssize_t *restrict nstart,
        const Py_ssize_t *restrict nrow, HB_T mom, HB_T dec, Py_ssize_t nv, Py_ssize_t nh) {
    for (Py_ssize_t i = 0; i < nv; i++) {
        HB_T *restrict Wi = W + i * nh, *restrict Vi = vel + i * nh, *restrict WTi = WT + i;
        Py_ssize_t j0 = 0;
        for (; j0 + 4 * HB_L <= nh; j0 += 4 * HB_L) HB_UPDATE_BLOCK(4)
        for (; j0 + HB_L <= nh; j0 += HB_L) HB_UPDATE_BLOCK(1)
        for (; j0 < nh; j0++) {
            HB_T acc = mom * Vi[j0] - dec * Wi[j0];
            for (Py_ssize_t q = pstart[i]; q < pstart[i + 1]; q++) acc += pval[q] * Hp[prow[q] * nh + j0];
            for (Py_ssize_t q = nstart[i]; q < nstart[i + 1]; q++) acc += Hn[nrow[q] * nh + j0];
            HB_T w = Wi[j0] + acc;
            Vi[j0] = acc;
            Wi[j0] = w;
            WTi[j0 * nv] = w;
        }
    }
}
#undef HB_UPDATE_BLOCK
#undef HB_LANE

/* The whole epoch (the arguments in hb_epoch_args): see _bernoulli_epoch in _cd.pyx for
   the order of the operations. Returns the number of updates. */
static HB_TARGET Py_ssize_t HB_FN(hb_epoch)(const hb_epoch_args *args) {
    HB_T *restrict W = args->W, *restrict a = args->a, *restrict b = args->b;
    HB_T *restrict vW = args->vW, *restrict va = args->va, *restrict vb = args->vb;
    const HB_T *restrict X = args->X;
    const int64_t *restrict order = args->order;
    const Py_ssize_t n = args->n, nv = args->nv, nh = args->nh, batch_size = args->batch_size;
    const int k = args->k, persistent = args->persistent;
    const double lr = args->lr, momentum = args->momentum, weight_decay = args->weight_decay;
    HB_T *restrict chains = args->chains;
    const Py_ssize_t n_chains = args->n_chains;
    uint64_t *restrict streams = args->streams;
    HB_T *restrict H0 = args->H0, *restrict Hs = args->Hs, *restrict Vs = args->Vs;
    HB_T *restrict Pv = args->Pv, *restrict WT = args->WT, *restrict hbuf = args->hbuf;
    HB_T *restrict XB = args->XB, *restrict PX = args->PX;
    Py_ssize_t *restrict IX = args->IX, *restrict MX = args->MX, *restrict IV = args->IV;
    Py_ssize_t *restrict MV = args->MV, *restrict IH = args->IH, *restrict PS = args->PS;
    Py_ssize_t *restrict NS = args->NS, *restrict PR = args->PR, *restrict NR = args->NR;
    const HB_T f_mom = (HB_T)momentum, f_decay = (HB_T)(lr * weight_decay);
    Py_ssize_t updates = 0;
    int bin_row;
    for (Py_ssize_t i0 = 0; i0 < nv; i0 += 8)    /* WT = W transposed, in 8 x 8 tiles */
        for (Py_ssize_t j1 = 0; j1 < nh; j1 += 8)
            for (Py_ssize_t i = i0; i < (i0 + 8 < nv ? i0 + 8 : nv); i++)
                for (Py_ssize_t j = j1; j < (j1 + 8 < nh ? j1 + 8 : nh); j++)
                    WT[j * nv + i] = W[i * nh + j];
    for (Py_ssize_t start = 0; start < n; start += batch_size) {
        Py_ssize_t B = n - start < batch_size ? n - start : batch_size, Bn;
        HB_T *V;
        /* positive phase: hidden means of the data rows (copied together) */
        for (Py_ssize_t r = 0; r < B; r++) {
            memcpy(XB + r * nv, X + order[start + r] * nv, nv * sizeof(HB_T));
            MX[r] = HB_FN(hb_nonzero)(XB + r * nv, IX + r * nv, nv, &bin_row);
            HB_FN(hb_rows)(H0 + r * nh, b, W, IX + r * nv, MX[r], bin_row ? NULL : XB + r * nv, nh);
            HB_FN(hb_sig)(H0 + r * nh, nh);
        }
        /* negative phase */
        if (!persistent) {
            Bn = B;
            for (Py_ssize_t r = 0; r < B; r++) {
                uint64_t *st = streams + 4 * r;
                Py_ssize_t mh = HB_FN(hb_draw)(H0 + r * nh, hbuf, IH, nh, st);
                HB_FN(hb_rows)(Pv + r * nv, a, WT, IH, mh, NULL, nv);
                HB_FN(hb_sig)(Pv + r * nv, nv);
                MV[r] = HB_FN(hb_draw)(Pv + r * nv, Vs + r * nv, IV + r * nv, nv, st);
                for (int step = 1; step < k; step++) {
                    HB_FN(hb_rows)(hbuf, b, W, IV + r * nv, MV[r], NULL, nh);
                    HB_FN(hb_sig)(hbuf, nh);
                    mh = HB_FN(hb_draw)(hbuf, hbuf, IH, nh, st);
                    HB_FN(hb_rows)(Pv + r * nv, a, WT, IH, mh, NULL, nv);
                    HB_FN(hb_sig)(Pv + r * nv, nv);
                    MV[r] = HB_FN(hb_draw)(Pv + r * nv, Vs + r * nv, IV + r * nv, nv, st);
                }
            }
            V = Vs;
        } else {
            Bn = n_chains;
            for (Py_ssize_t r = 0; r < Bn; r++) {
                uint64_t *st = streams + 4 * r;
                /* the chains start from data rows, which may be probabilities */
                MV[r] = HB_FN(hb_nonzero)(chains + r * nv, IV + r * nv, nv, &bin_row);
                for (int step = 0; step < k; step++) {
                    HB_FN(hb_rows)(hbuf, b, W, IV + r * nv, MV[r], bin_row ? NULL : chains + r * nv, nh);
                    HB_FN(hb_sig)(hbuf, nh);
                    bin_row = 1;
                    Py_ssize_t mh = HB_FN(hb_draw)(hbuf, hbuf, IH, nh, st);
                    HB_FN(hb_rows)(Pv + r * nv, a, WT, IH, mh, NULL, nv);
                    HB_FN(hb_sig)(Pv + r * nv, nv);
                    MV[r] = HB_FN(hb_draw)(Pv + r * nv, chains + r * nv, IV + r * nv, nv, st);
                }
            }
            V = chains;
        }
        /* hidden means of the negative samples */
        for (Py_ssize_t r = 0; r < Bn; r++) {
            HB_FN(hb_rows)(Hs + r * nh, b, W, IV + r * nv, MV[r], NULL, nh);
            HB_FN(hb_sig)(Hs + r * nh, nh);
        }
        /* gradient into the velocity, then the update (which refreshes WT) */
        const HB_T c_pos = (HB_T)(lr / B), c_neg = (HB_T)(-lr / Bn);
        for (Py_ssize_t q = 0; q < B * nh; q++) H0[q] *= c_pos;
        for (Py_ssize_t q = 0; q < Bn * nh; q++) Hs[q] *= c_neg;
        HB_FN(hb_by_column)(IX, MX, B, nv, XB, nv, PS, PR, PX);
        HB_FN(hb_by_column)(IV, MV, Bn, nv, NULL, nv, NS, NR, NULL);
        HB_FN(hb_update)(W, vW, WT, H0, PS, PR, PX, Hs, NS, NR, f_mom, f_decay, nv, nh);
        for (Py_ssize_t i = 0; i < nv; i++) va[i] = f_mom * va[i] - (HB_T)0 * a[i];
        for (Py_ssize_t j = 0; j < nh; j++) vb[j] = f_mom * vb[j] - (HB_T)0 * b[j];
        for (Py_ssize_t r = 0; r < B; r++) {
            for (Py_ssize_t i = 0; i < nv; i++) va[i] += c_pos * XB[r * nv + i];
            for (Py_ssize_t j = 0; j < nh; j++) vb[j] += H0[r * nh + j];
        }
        for (Py_ssize_t r = 0; r < Bn; r++) {
            for (Py_ssize_t i = 0; i < nv; i++) va[i] += c_neg * V[r * nv + i];
            for (Py_ssize_t j = 0; j < nh; j++) vb[j] += Hs[r * nh + j];
        }
        for (Py_ssize_t i = 0; i < nv; i++) a[i] += va[i];
        for (Py_ssize_t j = 0; j < nh; j++) b[j] += vb[j];
        updates += 1;
    }
    return updates;
}

/* R[r] = sigmoid(a + sum over j of h_j WT[j]) with h = sigmoid(b + V[r] W), for the n rows
   of V: the visible means of the hidden means (the reconstruction), with the epoch's
   arithmetic. WT is W transposed; hbuf (nh), IX (nv) and ALL (nh: 0, 1, ..., nh - 1) are
   work space. */
static HB_TARGET void HB_FN(hb_reconstruct)(const hb_reconstruct_args *args) {
    const HB_T *restrict W = args->W, *restrict WT = args->WT, *restrict a = args->a;
    const HB_T *restrict b = args->b, *restrict X = args->X;
    HB_T *restrict R = args->R, *restrict h = args->hbuf;
    const Py_ssize_t n = args->n, nv = args->nv, nh = args->nh;
    Py_ssize_t *restrict IX = args->IX;
    const Py_ssize_t *restrict ALL = args->ALL;
    for (Py_ssize_t r = 0; r < n; r++) {
        int bin_row;
        Py_ssize_t m = HB_FN(hb_nonzero)(X + r * nv, IX, nv, &bin_row);
        HB_FN(hb_rows)(h, b, W, IX, m, bin_row ? NULL : X + r * nv, nh);
        HB_FN(hb_sig)(h, nh);
        HB_FN(hb_rows)(R + r * nv, a, WT, ALL, nh, h, nv);
        HB_FN(hb_sig)(R + r * nv, nv);
    }
}

#undef V
#undef VLD
#undef VST
#undef HB_FN
#undef HB_CAT
#undef HB_CAT_
