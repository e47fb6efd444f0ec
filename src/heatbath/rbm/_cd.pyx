"""Kernel: one epoch of CD-k / PCD-k for a Bernoulli-Bernoulli RBM, fused.

For small models (scikit-learn's default shape: 64 x 64, minibatches of 10)
the cost of a NumPy update is Python overhead, not arithmetic. This kernel
runs a whole epoch in C, and every inner loop is a contiguous, unit-stride
loop over one row that the compiler vectorises at the baseline ISA (SSE2 on
x86-64, NEON on aarch64):

- a {0,1} row times W is the sum of the rows of W it selects (an index list
  of the ones, built without branches); data given as probabilities in
  [0, 1] add ``x_i * W[i]`` instead (the same bits for x_i = 1);
- each row sum keeps a block of outputs (16 doubles or 32 floats) in
  registers across the selected rows;
- W h for the visible means adds rows of a transposed copy of W;
- the update is one pass over W, row by row: momentum, weight decay, the
  gradient rows (the hidden rows of the minibatch rows that select this
  visible unit, gathered by a counting sort), W += velocity, and the new
  row written into the transposed copy;
- the sigmoid is a branch-free Cody-Waite / Pade form (Cephes' exp, with the
  division of the sigmoid folded into it), within 2 ulp of
  1 / (1 + exp(-t)), that vectorises; libm's exp does not.

Every output element sees the same operations in the same order as in
:func:`heatbath.reference.rbm.fused_epoch`, which reproduces the kernel bit
for bit in NumPy (the extension is built with ``-ffp-contract=off``, so no
multiply-add is fused on any target). The draws are those of the general
path (heatbath.rbm.train.cd_step): the hidden draws of a row before its
visible draws, one uniform per unit.

Serial by design: these models are too small for threads to pay, and the
result never depends on a thread count. The kernel does not check its
arguments: heatbath.rbm.train validates them.
"""

from cython cimport floating
from libc.stdint cimport int64_t, uint64_t

import numpy as np

from heatbath._random cimport rng_t, rng_load, rng_store, rng_double, rng_float


cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>

    /* Runtime dispatch (x86-64 Linux, glibc): the sigmoid and the row sums are
       compiled twice, for the baseline ISA and for AVX2 (4 doubles or 8 floats a
       vector instead of 2 or 4), and the loader picks the one the CPU runs (an
       ifunc). Element-wise operations in the same order, no multiply-add
       (-ffp-contract=off, and the avx2 target has no FMA): both give the same bits.
       Measured with callgrind at 64 x 64, float64, PCD-1, batch 10: row sums 91k ->
       56k and sigmoid 74k -> 27k instructions per update. The update is not cloned:
       its AVX2 clone (out of line, spilling its accumulators) took 125k against
       about 95k inlined at the baseline. */
    #if defined(__x86_64__) && defined(__GNUC__) && defined(__GLIBC__) && !defined(HB_NO_CLONES)
    #define HB_CLONES __attribute__((target_clones("avx2", "default")))
    #else
    #define HB_CLONES
    #endif

    /* x[i] = 1 / (1 + exp(-x[i])).  exp(t) = 2^m (q + p) / (q - p) with
       t = m ln2 + r, |r| <= ln2 / 2 (Cephes exp.c); the sigmoid is then
       (q - p) / ((q - p) + 2^m (q + p)), one division. 2^m is added to the
       exponent bits: m sits in the low bits of k = t log2(e) + 1.5 2^52. */
    HB_CLONES static void hb_sigmoid_d(double *restrict x, Py_ssize_t n) {
        for (Py_ssize_t i = 0; i < n; i++) {
            double t = -x[i];
            t = t < -700.0 ? -700.0 : t;
            t = t > 700.0 ? 700.0 : t;
            double k = t * 1.4426950408889634 + 6755399441055744.0;
            double m = k - 6755399441055744.0;
            double r = (t - m * 0.693145751953125) - m * 1.42860682030941723212e-6;
            double rr = r * r;
            double p = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr
                            + 1.0);
            double q = ((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr
                        + 2.27265548208155028766e-1) * rr + 2.0;
            double num = q - p, e = q + p;
            uint64_t kb, eb;
            memcpy(&kb, &k, 8);
            memcpy(&eb, &e, 8);
            eb += kb << 52;
            memcpy(&e, &eb, 8);
            x[i] = num / (num + e);
        }
    }

    /* float: Cephes expf (degree-5 polynomial), 1 / (1 + e). The constants are
       double literals rounded to float, as numpy.float32(constant) rounds them. */
    #define HBF(c) ((float)(c))
    HB_CLONES static void hb_sigmoid_f(float *restrict x, Py_ssize_t n) {
        for (Py_ssize_t i = 0; i < n; i++) {
            float t = -x[i];
            t = t < HBF(-87.0) ? HBF(-87.0) : t;
            t = t > HBF(87.0) ? HBF(87.0) : t;
            float k = t * HBF(1.44269504088896341) + HBF(12582912.0);
            float m = k - HBF(12582912.0);
            float r = (t - m * HBF(0.693359375)) - m * HBF(-2.12194440e-4);
            float rr = r * r;
            float e = (((((HBF(1.9875691500e-4) * r + HBF(1.3981999507e-3)) * r + HBF(8.3334519073e-3)) * r
                         + HBF(4.1665795894e-2)) * r + HBF(1.6666665459e-1)) * r + HBF(5.0000001201e-1))
                      * rr + r + HBF(1.0);
            uint32_t kb, eb;
            memcpy(&kb, &k, 4);
            memcpy(&eb, &e, 4);
            eb += kb << 23;
            memcpy(&e, &eb, 4);
            x[i] = HBF(1.0) / (HBF(1.0) + e);
        }
    }

    /* out = bias + sum over t of [s[idx[t]] *] W[idx[t], :] (rows of length n), in
       blocks of BLK columns held in registers across the rows (each element still
       sees bias, then the rows in the order of idx). */
    #define HB_ROWS(T, NAME, BLK)                                                         \\
    HB_CLONES static void NAME(T *restrict out, const T *restrict bias, const T *restrict W,       \\
                     const Py_ssize_t *restrict idx, Py_ssize_t m, const T *restrict s,   \\
                     Py_ssize_t n) {                                                      \\
        Py_ssize_t j0 = 0;                                                                \\
        for (; j0 + BLK <= n; j0 += BLK) {                                                \\
            T acc[BLK];                                                                   \\
            for (int u = 0; u < BLK; u++) acc[u] = bias[j0 + u];                          \\
            if (s) {                                                                      \\
                for (Py_ssize_t t = 0; t < m; t++) {                                      \\
                    const T *restrict row = W + idx[t] * n + j0;                          \\
                    T st = s[idx[t]];                                                     \\
                    for (int u = 0; u < BLK; u++) acc[u] += st * row[u];                  \\
                }                                                                         \\
            } else {                                                                      \\
                for (Py_ssize_t t = 0; t < m; t++) {                                      \\
                    const T *restrict row = W + idx[t] * n + j0;                          \\
                    for (int u = 0; u < BLK; u++) acc[u] += row[u];                       \\
                }                                                                         \\
            }                                                                             \\
            for (int u = 0; u < BLK; u++) out[j0 + u] = acc[u];                           \\
        }                                                                                 \\
        if (j0 == n) return;                                                              \\
        for (Py_ssize_t j = j0; j < n; j++) out[j] = bias[j];                             \\
        for (Py_ssize_t t = 0; t < m; t++) {                                              \\
            const T *restrict row = W + idx[t] * n;                                       \\
            T st = s ? s[idx[t]] : (T)1;                                                  \\
            for (Py_ssize_t j = j0; j < n; j++) out[j] += s ? st * row[j] : row[j];       \\
        }                                                                                 \\
    }
    HB_ROWS(double, hb_rows_d, 16)
    HB_ROWS(float, hb_rows_f, 32)

    /* The gradient step, one pass over W row by row (i), BLK columns in registers:
       vel[i] = mom vel[i] - dec W[i] + sum over the data rows r that have x_ri != 0
       of x_ri Hp[r] + sum over the negative rows r with v_ri = 1 of Hn[r] (r in
       order); W[i] += vel[i]; WT[:, i] = W[i]. The rows of each i come as lists
       (pstart/prow/pval, nstart/nrow), in r order. */
    #define HB_UPDATE_BLOCK(T, W_, V_, WT_, J0, NB)                                       \\
        {                                                                                 \\
            T acc[NB];                                                                    \\
            for (int u = 0; u < NB; u++)                                                  \\
                acc[u] = mom * V_[J0 + u] - dec * W_[J0 + u];                             \\
            for (Py_ssize_t q = pstart[i]; q < pstart[i + 1]; q++) {                      \\
                const T *restrict h = Hp + prow[q] * nh + J0;                             \\
                T x = pval[q];                                                            \\
                for (int u = 0; u < NB; u++) acc[u] += x * h[u];                          \\
            }                                                                             \\
            for (Py_ssize_t q = nstart[i]; q < nstart[i + 1]; q++) {                      \\
                const T *restrict h = Hn + nrow[q] * nh + J0;                             \\
                for (int u = 0; u < NB; u++) acc[u] += h[u];                              \\
            }                                                                             \\
            for (int u = 0; u < NB; u++) {                                                \\
                T w = W_[J0 + u] + acc[u];                                                \\
                V_[J0 + u] = acc[u];                                                      \\
                W_[J0 + u] = w;                                                           \\
                WT_[(J0 + u) * nv] = w;                                                   \\
            }                                                                             \\
        }
    #define HB_UPDATE(T, NAME, BLK)                                                       \\
    static void NAME(T *restrict W, T *restrict vel, T *restrict WT, const T *restrict Hp,\\
                     const Py_ssize_t *restrict pstart, const Py_ssize_t *restrict prow,  \\
                     const T *restrict pval, const T *restrict Hn,                        \\
                     const Py_ssize_t *restrict nstart, const Py_ssize_t *restrict nrow,  \\
                     T mom, T dec, Py_ssize_t nv, Py_ssize_t nh) {                        \\
        for (Py_ssize_t i = 0; i < nv; i++) {                                             \\
            T *restrict Wi = W + i * nh, *restrict Vi = vel + i * nh, *restrict WTi = WT + i;\\
            Py_ssize_t j0 = 0;                                                            \\
            for (; j0 + BLK <= nh; j0 += BLK) HB_UPDATE_BLOCK(T, Wi, Vi, WTi, j0, BLK)    \\
            for (; j0 < nh; j0++) HB_UPDATE_BLOCK(T, Wi, Vi, WTi, j0, 1)                  \\
        }                                                                                 \\
    }
    HB_UPDATE(double, hb_update_d, 16)
    HB_UPDATE(float, hb_update_f, 32)
    """
    void hb_sigmoid_d(double* x, Py_ssize_t n) noexcept nogil
    void hb_sigmoid_f(float* x, Py_ssize_t n) noexcept nogil
    void hb_rows_d(double* out, const double* bias, const double* W, const Py_ssize_t* idx,
                   Py_ssize_t m, const double* s, Py_ssize_t n) noexcept nogil
    void hb_rows_f(float* out, const float* bias, const float* W, const Py_ssize_t* idx,
                   Py_ssize_t m, const float* s, Py_ssize_t n) noexcept nogil
    void hb_update_d(double* W, double* vel, double* WT, const double* Hp,
                     const Py_ssize_t* pstart, const Py_ssize_t* prow, const double* pval,
                     const double* Hn, const Py_ssize_t* nstart, const Py_ssize_t* nrow,
                     double mom, double dec, Py_ssize_t nv, Py_ssize_t nh) noexcept nogil
    void hb_update_f(float* W, float* vel, float* WT, const float* Hp,
                     const Py_ssize_t* pstart, const Py_ssize_t* prow, const float* pval,
                     const float* Hn, const Py_ssize_t* nstart, const Py_ssize_t* nrow,
                     float mom, float dec, Py_ssize_t nv, Py_ssize_t nh) noexcept nogil


cdef inline void _sigmoid(floating* x, Py_ssize_t n) noexcept nogil:
    if floating is float:
        hb_sigmoid_f(x, n)
    else:
        hb_sigmoid_d(x, n)


cdef inline void _rows(floating* out, const floating* bias, const floating* W,
                       const Py_ssize_t* idx, Py_ssize_t m, const floating* s,
                       Py_ssize_t n) noexcept nogil:
    """out = sigmoid(bias + the rows of W (length n) that idx selects [times s])."""
    if floating is float:
        hb_rows_f(out, bias, W, idx, m, s, n)
        hb_sigmoid_f(out, n)
    else:
        hb_rows_d(out, bias, W, idx, m, s, n)
        hb_sigmoid_d(out, n)


cdef inline void _update(floating* W, floating* vel, floating* WT, const floating* Hp,
                         const Py_ssize_t* pstart, const Py_ssize_t* prow, const floating* pval,
                         const floating* Hn, const Py_ssize_t* nstart, const Py_ssize_t* nrow,
                         floating mom, floating dec, Py_ssize_t nv, Py_ssize_t nh) noexcept nogil:
    if floating is float:
        hb_update_f(W, vel, WT, Hp, pstart, prow, pval, Hn, nstart, nrow, mom, dec, nv, nh)
    else:
        hb_update_d(W, vel, WT, Hp, pstart, prow, pval, Hn, nstart, nrow, mom, dec, nv, nh)


cdef void _by_column(const Py_ssize_t* idx, const Py_ssize_t* counts, Py_ssize_t n_rows,
                     Py_ssize_t stride, const floating* values, Py_ssize_t nv,
                     Py_ssize_t* start, Py_ssize_t* rows, floating* vals) noexcept nogil:
    """From per-row lists of nonzero columns (idx[r * stride:][:counts[r]]), the
    per-column lists of rows, in row order (a counting sort); vals[q] the value
    values[r * nv + i] when values is not NULL."""
    cdef Py_ssize_t r, t, i, q
    for i in range(nv + 1):
        start[i] = 0
    for r in range(n_rows):
        for t in range(counts[r]):
            start[idx[r * stride + t] + 1] += 1
    for i in range(nv):
        start[i + 1] += start[i]
    for r in range(n_rows):
        for t in range(counts[r]):
            i = idx[r * stride + t]
            q = start[i]
            rows[q] = r
            if values != NULL:
                vals[q] = values[r * nv + i]
            start[i] = q + 1
    for i in range(nv, 0, -1):
        start[i] = start[i - 1]
    start[0] = 0


cdef inline Py_ssize_t _nonzero(const floating* x, Py_ssize_t* idx, Py_ssize_t n,
                                bint* binary) noexcept nogil:
    """Indices of the nonzeros of x, without branches; binary: all of them are 1."""
    cdef Py_ssize_t i, m = 0
    cdef bint ones = True
    for i in range(n):
        idx[m] = i
        m += x[i] != 0
        ones &= (x[i] == 0) | (x[i] == 1)
    binary[0] = ones
    return m


cdef Py_ssize_t _draw(const floating* p, floating* out, Py_ssize_t* idx, Py_ssize_t n,
                      rng_t* r) noexcept nogil:
    """out = (u < p) from one uniform per unit (p and out may be the same row);
    returns the number of ones, their indices in idx."""
    cdef Py_ssize_t i = 0, j, m, ones = 0
    cdef floating ubuf[64]
    while i < n:
        m = min(64, n - i)
        for j in range(m):
            if floating is float:
                ubuf[j] = rng_float(r)
            else:
                ubuf[j] = rng_double(r)
        for j in range(m):
            out[i + j] = ubuf[j] < p[i + j]
        i += m
    for i in range(n):
        idx[ones] = i
        ones += out[i] != 0
    return ones


cdef void _transpose(const floating* W, floating* WT, Py_ssize_t nv, Py_ssize_t nh) noexcept nogil:
    """WT (nh, nv) = W (nv, nh) transposed, in 8 x 8 tiles."""
    cdef Py_ssize_t i0, j0, i, j
    for i0 in range(0, nv, 8):
        for j0 in range(0, nh, 8):
            for i in range(i0, min(i0 + 8, nv)):
                for j in range(j0, min(j0 + 8, nh)):
                    WT[j * nv + i] = W[i * nh + j]


cdef inline void _momentum(floating* vel, const floating* p, Py_ssize_t n, floating momentum,
                           floating decay) noexcept nogil:
    """vel = momentum vel - decay p (decay is lr * weight_decay)."""
    cdef Py_ssize_t i
    for i in range(n):
        vel[i] = momentum * vel[i] - decay * p[i]


cdef inline void _axpy(floating* y, floating s, const floating* x, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        y[i] += s * x[i]


cdef inline void _add(floating* y, const floating* x, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        y[i] += x[i]


cdef inline void _scale(floating* x, Py_ssize_t n, floating s) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        x[i] *= s


def _bernoulli_epoch(floating[:, ::1] W, floating[::1] a, floating[::1] b,
                     floating[:, ::1] vW, floating[::1] va, floating[::1] vb,
                     const floating[:, ::1] X,       # IN data (n, nv), in [0, 1]
                     const int64_t[::1] order,       # IN row order for this epoch
                     Py_ssize_t batch_size, int k, double lr, double momentum,
                     double weight_decay,
                     bint persistent,
                     floating[:, ::1] chains,        # IN/OUT (C, nv) persistent chains (PCD)
                     uint64_t[:, ::1] streams,       # IN/OUT CD: (batch, 4); PCD: (C, 4)
                     floating[:, ::1] H0,            # work (batch, nh)
                     floating[:, ::1] Hs,            # work (max(batch, C), nh)
                     floating[:, ::1] Vs,            # work (max(batch, C), nv)
                     floating[:, ::1] Pv,            # work (max(batch, C), nv)
                     floating[:, ::1] G):            # work (nv, nh): holds W transposed
    """Run every minibatch of one epoch; returns the number of updates.

    Per minibatch (B rows x, Bn negative rows v: the CD samples or the C
    persistent chains), with c+ = lr / B and c- = -lr / Bn, in this order:
    H0 = sigmoid(b + x W); the negative phase; Hn = sigmoid(b + v W);
    H0 *= c+; Hn *= c-; vW = momentum vW - (lr weight_decay) W, then
    vW[i] += x_i H0_r for each data row r and each x_i != 0, then
    vW[i] += Hn_r for each v_i = 1; va = momentum va, += c+ x_r, += c- v_r;
    vb = momentum vb, += H0_r, += Hn_r; then W += vW, a += va, b += vb.
    """
    cdef Py_ssize_t n = order.shape[0], nv = W.shape[0], nh = W.shape[1]
    cdef Py_ssize_t start, B, Bn, r, i, step, updates = 0, mh
    cdef const floating* x
    cdef floating* V          # the negative samples: Vs or the chains, rows of nv
    cdef floating* WT = &G[0, 0]
    cdef rng_t rng
    cdef bint bin_row
    cdef floating c_pos, c_neg
    cdef floating f_mom = <floating>momentum, f_decay = <floating>(lr * weight_decay)
    dt = np.float32 if floating is float else np.float64
    rows = max(H0.shape[0], Hs.shape[0])
    cdef Py_ssize_t[:, ::1] IX = np.empty((H0.shape[0], nv), dtype=np.intp)
    cdef Py_ssize_t[::1] MX = np.empty(H0.shape[0], dtype=np.intp)
    cdef Py_ssize_t[:, ::1] IV = np.empty((rows, nv), dtype=np.intp)
    cdef Py_ssize_t[::1] MV = np.empty(rows, dtype=np.intp)
    cdef Py_ssize_t[::1] IH = np.empty(nh, dtype=np.intp)
    cdef floating[::1] hbuf = np.empty(nh, dtype=dt)
    cdef floating[:, ::1] XB = np.empty((H0.shape[0], nv), dtype=dt)
    cdef Py_ssize_t[::1] PS = np.empty(nv + 1, dtype=np.intp)
    cdef Py_ssize_t[::1] NS = np.empty(nv + 1, dtype=np.intp)
    cdef Py_ssize_t[::1] PR = np.empty(H0.shape[0] * nv + 1, dtype=np.intp)
    cdef floating[::1] PX = np.empty(H0.shape[0] * nv + 1, dtype=dt)
    cdef Py_ssize_t[::1] NR = np.empty(rows * nv + 1, dtype=np.intp)
    with nogil:
        _transpose(&W[0, 0], WT, nv, nh)    # then kept in step by each update
        start = 0
        while start < n:
            B = min(batch_size, n - start)
            # positive phase: hidden means of the data rows (copied together)
            for r in range(B):
                x = &X[order[start + r], 0]
                for i in range(nv):
                    XB[r, i] = x[i]
                MX[r] = _nonzero(&XB[r, 0], &IX[r, 0], nv, &bin_row)
                _rows(&H0[r, 0], &b[0], &W[0, 0], &IX[r, 0], MX[r],
                      <const floating*>NULL if bin_row else &XB[r, 0], nh)
            # negative phase
            if not persistent:
                Bn = B
                for r in range(B):
                    rng_load(&rng, &streams[r, 0])
                    mh = _draw(&H0[r, 0], &hbuf[0], &IH[0], nh, &rng)
                    _rows(&Pv[r, 0], &a[0], WT, &IH[0], mh, <const floating*>NULL, nv)
                    MV[r] = _draw(&Pv[r, 0], &Vs[r, 0], &IV[r, 0], nv, &rng)
                    for step in range(k - 1):
                        _rows(&hbuf[0], &b[0], &W[0, 0], &IV[r, 0], MV[r], <const floating*>NULL, nh)
                        mh = _draw(&hbuf[0], &hbuf[0], &IH[0], nh, &rng)
                        _rows(&Pv[r, 0], &a[0], WT, &IH[0], mh, <const floating*>NULL, nv)
                        MV[r] = _draw(&Pv[r, 0], &Vs[r, 0], &IV[r, 0], nv, &rng)
                    rng_store(&rng, &streams[r, 0])
                V = &Vs[0, 0]
            else:
                Bn = chains.shape[0]
                for r in range(Bn):
                    rng_load(&rng, &streams[r, 0])
                    # the chains start from data rows, which may be probabilities
                    MV[r] = _nonzero(&chains[r, 0], &IV[r, 0], nv, &bin_row)
                    for step in range(k):
                        _rows(&hbuf[0], &b[0], &W[0, 0], &IV[r, 0], MV[r],
                              <const floating*>NULL if bin_row else &chains[r, 0], nh)
                        bin_row = True
                        mh = _draw(&hbuf[0], &hbuf[0], &IH[0], nh, &rng)
                        _rows(&Pv[r, 0], &a[0], WT, &IH[0], mh, <const floating*>NULL, nv)
                        MV[r] = _draw(&Pv[r, 0], &chains[r, 0], &IV[r, 0], nv, &rng)
                    rng_store(&rng, &streams[r, 0])
                V = &chains[0, 0]
            # hidden means of the negative samples
            for r in range(Bn):
                _rows(&Hs[r, 0], &b[0], &W[0, 0], &IV[r, 0], MV[r], <const floating*>NULL, nh)
            # gradient into the velocity, then the update (which refreshes WT)
            c_pos = <floating>(lr / B)
            c_neg = <floating>(-lr / Bn)
            _scale(&H0[0, 0], B * nh, c_pos)
            _scale(&Hs[0, 0], Bn * nh, c_neg)
            _by_column(&IX[0, 0], &MX[0], B, nv, &XB[0, 0], nv, &PS[0], &PR[0], &PX[0])
            _by_column(&IV[0, 0], &MV[0], Bn, nv, <const floating*>NULL, nv, &NS[0], &NR[0],
                       <floating*>NULL)
            _update(&W[0, 0], &vW[0, 0], WT, &H0[0, 0], &PS[0], &PR[0], &PX[0], &Hs[0, 0],
                    &NS[0], &NR[0], f_mom, f_decay, nv, nh)
            _momentum(&va[0], &a[0], nv, f_mom, 0)
            _momentum(&vb[0], &b[0], nh, f_mom, 0)
            for r in range(B):
                _axpy(&va[0], c_pos, &XB[r, 0], nv)
                _add(&vb[0], &H0[r, 0], nh)
            for r in range(Bn):
                _axpy(&va[0], c_neg, V + r * nv, nv)
                _add(&vb[0], &Hs[r, 0], nh)
            _add(&a[0], &va[0], nv)
            _add(&b[0], &vb[0], nh)
            updates += 1
            start += B
    return updates


def _sigmoid_array(floating[::1] x):
    """The kernel's sigmoid, in place on a 1-d array (returned); for tests."""
    with nogil:
        _sigmoid(&x[0], x.shape[0])
    return np.asarray(x)
