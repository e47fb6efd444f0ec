"""Kernels: one layer of block Gibbs sampling, chain by chain in parallel.

The Python layer (heatbath.rbm._layers) puts the pre-activations (bias +
product with W, one BLAS GEMM for all chains) in ``x``; each chain draws
from its own stream, so the result does not depend on the thread count.

- ``_draw``: samples from probabilities (or poisson rates) already in ``x``:
  bernoulli {0,1} (u < p), spin (+1 if u < p(+1)) and binomial(n) (n such
  draws), one uniform per draw.
- ``_sample_layer`` / ``_layer_means``: the fused means-and-samples pass for
  gaussian units (mean x, the bias being the mean; sample x + z / sqrt(beta)
  with z from Box-Muller on pairs of units, two draws per pair),
  softmax(k) units (one-hot groups, probabilities softmax(beta x) over the
  group, one draw per group) and poisson units (rate exp(beta x) with libm's
  exp; exact draws: inversion below rate 10, Hormann's PTRS from 10).
- ``_draw`` with poisson units draws from rates already in ``x`` (what
  ``_layer_means`` wrote): the Python layer checks them in between.
- ``_logistic_layer``: bernoulli, spin and binomial layers in one pass, groups
  of 4 rows in parallel, chunk by chunk while the chunks are in L1: the bias is
  added, the scale applied, then the logistic probabilities (the library's
  one sigmoid, rbm/_sigmoid.h: the fused epoch kernel's branch-free Cephes
  form, compiled for the baseline ISA and for AVX2 and picked at run time,
  the same bits either way; twin :func:`heatbath.reference.rbm.fused_sigmoid`),
  the draws from each row's stream (bernoulli and spin: the 4 rows' generators
  in lockstep on one vector), and the means.
- ``_add_rows``: ``W += V`` row by row in parallel, telling whether every
  element of the result is finite (the trainer's divergence check, in the
  same pass over memory).

Uniforms: float64 layers use the top 53 bits of a draw, float32 layers the
top 24 (heatbath._random); poisson draws always use doubles. The kernel
does not check its arguments.
"""

from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport exp, expf, log, sqrt, cos, sin, floor, fabs, M_PI, NAN
from libc.stdint cimport uint64_t

from heatbath._random cimport rng_t, rng_load, rng_store, rng_double, rng_float
from heatbath.rbm._units cimport BERNOULLI, SPIN, GAUSSIAN, BINOMIAL, SOFTMAX, POISSON

import numpy as np

#: Unit kind codes of the kernels (heatbath/rbm/_units.pxd), for the Python layer.
UNIT_KINDS = {"bernoulli": BERNOULLI, "spin": SPIN, "gaussian": GAUSSIAN,
              "binomial": BINOMIAL, "softmax": SOFTMAX, "poisson": POISSON}


# -- Poisson draws ----------------------------------------------------------------
#: Rates above this are refused (heatbath.rbm._layers checks before drawing; here a
#: rate outside [0, POISSON_MAX_RATE], or NaN, gives a NaN sample and no draws).
#: Poisson(1e7) stays below 2**24 (2,100 standard deviations away), so every
#: count is exact in float32 too.
POISSON_MAX_RATE = 1e7
cdef double _MAX_RATE = POISSON_MAX_RATE
#: Below this rate: inversion; from it: PTRS.
POISSON_PTRS_FROM = 10.0
cdef double _PTRS_FROM = POISSON_PTRS_FROM
cdef enum:
    _N_LOG_FACTORIALS = 128


def _correctly_rounded_log_factorials(n):
    """log k! for k < n, each the double nearest the exact value (50-digit Decimal)."""
    import decimal
    import math

    with decimal.localcontext(decimal.Context(prec=50)):
        return np.array([float(decimal.Decimal(math.factorial(k)).ln()) for k in range(n)])


#: log k! for k < 128, correctly rounded: the kernels' table (the twin reads it).
LOG_FACTORIALS = _correctly_rounded_log_factorials(_N_LOG_FACTORIALS)
cdef double _LOG_FACT[_N_LOG_FACTORIALS]
for _k in range(_N_LOG_FACTORIALS):
    _LOG_FACT[_k] = LOG_FACTORIALS[_k]
del _k


cdef inline double _log_factorial(double k) noexcept nogil:
    """log k! for an integer k >= 0: the table below 128, else Stirling's series with
    three terms (x = k + 1 >= 129: the first omitted term, 1 / (1680 x**7), is < 1e-18)."""
    cdef double x, r, r2
    if k < _N_LOG_FACTORIALS:
        return _LOG_FACT[<Py_ssize_t>k]
    x = k + 1.0
    r = 1.0 / x
    r2 = r * r
    return ((x - 0.5) * log(x) - x + 0.91893853320467274178
            + r * (0.083333333333333333333 - r2 * (0.0027777777777777777778
                                                  - r2 * 0.00079365079365079365079)))


cdef inline double _poisson_inversion(rng_t* r, double lam) noexcept nogil:
    """Inversion by sequential search (Devroye 1986, X.3.2): the least k with
    u < P(X <= k), one uniform. The search stops where P(X <= k) no longer grows
    in floating point (u then lies in a tail of mass below the uniform's 2**-53
    resolution)."""
    cdef double u = rng_double(r)
    cdef double p = exp(-lam)
    cdef double cdf = p
    cdef double k = 0.0
    while u >= cdf:
        k = k + 1.0
        p = p * lam / k
        if cdf + p == cdf:
            break
        cdf = cdf + p
    return k


cdef inline double _poisson_ptrs(rng_t* r, double lam) noexcept nogil:
    """PTRS, the transformed rejection method with squeeze of Hormann (1993,
    "The transformed rejection method for generating Poisson random variables",
    Insurance: Mathematics and Economics 12, 39-45), for rates >= 10: two
    uniforms a try, about 1.1 tries a draw; exact (the acceptance test compares
    against log p(k) itself)."""
    cdef double slam = sqrt(lam)
    cdef double loglam = log(lam)
    cdef double b = 0.931 + 2.53 * slam
    cdef double a = -0.059 + 0.02483 * b
    cdef double inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    cdef double v_r = 0.9277 - 3.6224 / (b - 2.0)
    cdef double u, v, us, k
    while True:
        u = rng_double(r) - 0.5
        v = rng_double(r)
        us = 0.5 - fabs(u)
        # k stays a double: at u = -1/2 (us = 0) it is -inf, refused below.
        k = floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= v_r:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        if log(v * inv_alpha / (a / (us * us) + b)) <= k * loglam - lam - _log_factorial(k):
            return k


cdef inline double _poisson(rng_t* r, double lam) noexcept nogil:
    """One Poisson(lam) draw from the chain's stream (NaN for a rate out of range)."""
    if not (lam >= 0.0 and lam <= _MAX_RATE):
        return NAN
    if lam < _PTRS_FROM:
        return _poisson_inversion(r, lam)
    return _poisson_ptrs(r, lam)


cdef inline double _uniform(rng_t* r, bint single) noexcept nogil:
    if single:
        return rng_float(r)
    return rng_double(r)


cdef inline floating _group_weights(floating* x, int k, double beta) noexcept nogil:
    """x[j] <- exp(beta x[j] - max) over one softmax group of k; returns their sum."""
    cdef Py_ssize_t j
    cdef floating m = beta * x[0], s = 0
    for j in range(1, k):
        if beta * x[j] > m:
            m = beta * x[j]
    for j in range(k):
        if floating is float:
            x[j] = expf(beta * x[j] - m)
        else:
            x[j] = exp(beta * x[j] - m)
        s = s + x[j]
    return s


cdef void _means(floating* x, Py_ssize_t n, int kind, int param, double beta) noexcept nogil:
    """Conditional means only (no draws), in place: softmax, poisson (gaussian: x itself)."""
    cdef Py_ssize_t j, g
    cdef floating s
    if kind == POISSON:
        # the rate exp(beta x), in double with libm's exp (the twin calls the same)
        for j in range(n):
            x[j] = <floating>exp(beta * <double>x[j])
    elif kind == SOFTMAX:
        g = 0
        while g < n:  # range() with a variable step would not compile to C
            s = _group_weights(x + g, param, beta)
            for j in range(g, g + param):
                x[j] = x[j] / s
            g += param
    # gaussian: the mean is the pre-activation itself


cdef void _row(floating* x, floating* out, Py_ssize_t n, int kind, int param, double beta,
               uint64_t* state) noexcept nogil:
    cdef rng_t r
    cdef Py_ssize_t i, j, g
    cdef int count
    cdef floating s, acc
    cdef double u, u1, u2, rad, sd
    cdef bint single = floating is float
    rng_load(&r, state)
    if kind == GAUSSIAN:
        sd = 1.0 / sqrt(beta)
        i = 0
        while i < n:
            # Box-Muller: two uniforms give two independent normals.
            u1 = 1.0 - rng_double(&r)        # (0, 1]: log is finite
            u2 = rng_double(&r)
            rad = sqrt(-2.0 * log(u1))
            out[i] = <floating>(x[i] + sd * rad * cos(2.0 * M_PI * u2))
            if i + 1 < n:
                out[i + 1] = <floating>(x[i + 1] + sd * rad * sin(2.0 * M_PI * u2))
            i += 2
    elif kind == SOFTMAX:
        g = 0
        while g < n:
            s = _group_weights(x + g, param, beta)
            u = _uniform(&r, single) * s
            acc = 0
            count = 0
            for j in range(g, g + param):
                acc = acc + x[j]
                out[j] = 0
                if count == 0 and (u < acc or j == g + param - 1):
                    out[j] = 1
                    count = 1
                x[j] = x[j] / s
            g += param
    elif kind == POISSON:
        # the draw uses the rate as stored (rounded to the layer's dtype), as _draw does
        for i in range(n):
            x[i] = <floating>exp(beta * <double>x[i])
            out[i] = <floating>_poisson(&r, <double>x[i])
    rng_store(&r, state)


def _sample_layer(floating[:, ::1] x,       # IN pre-activations / OUT means
                  floating[:, ::1] out,     # OUT samples
                  int kind, int param,
                  const double[::1] beta,   # IN (n_chains,)
                  uint64_t[:, ::1] states,  # IN/OUT (n_chains, 4)
                  int n_threads):
    cdef Py_ssize_t c, n_chains = x.shape[0], n = x.shape[1]
    if n == 0 or n_chains == 0:
        return
    for c in prange(n_chains, schedule="static", num_threads=n_threads, nogil=True):
        _row(&x[c, 0], &out[c, 0], n, kind, param, beta[c], &states[c, 0])


def _layer_means(floating[:, ::1] x,        # IN pre-activations / OUT means
                 int kind, int param,
                 const double[::1] beta,    # IN (n_rows,)
                 int n_threads):
    cdef Py_ssize_t c, n_rows = x.shape[0], n = x.shape[1]
    if n == 0 or n_rows == 0:
        return
    for c in prange(n_rows, schedule="static", num_threads=n_threads, nogil=True):
        _means(&x[c, 0], n, kind, param, beta[c])


cdef void _draw_row(const floating* p, floating* out, Py_ssize_t n, int kind, int param,
                    uint64_t* state) noexcept nogil:
    """Samples from given probabilities p (bernoulli / spin p(+1) / binomial p) or
    rates p (poisson)."""
    cdef rng_t r
    cdef Py_ssize_t i, j, m
    cdef int t, count
    cdef bint single = floating is float
    cdef floating ubuf[64]
    rng_load(&r, state)
    if kind == BERNOULLI or kind == SPIN:
        # Uniforms first, then the comparisons in a loop of their own: GCC
        # compiles "u < p" inside the drawing loop to a branch, mispredicted
        # half the time (6.5 ns a unit); a separate loop becomes SIMD compares.
        i = 0
        while i < n:
            m = min(64, n - i)
            for j in range(m):
                ubuf[j] = <floating>_uniform(&r, single)
            if kind == BERNOULLI:
                for j in range(m):
                    out[i + j] = (ubuf[j] < p[i + j])
            else:
                for j in range(m):
                    out[i + j] = 2 * (ubuf[j] < p[i + j]) - 1
            i += m
    elif kind == POISSON:
        for i in range(n):
            out[i] = <floating>_poisson(&r, <double>p[i])
    else:
        for i in range(n):
            count = 0
            for t in range(param):
                count = count + (_uniform(&r, single) < p[i])
            out[i] = count
    rng_store(&r, state)


def _draw(const floating[:, ::1] p,     # IN probabilities (see _draw_row)
          floating[:, ::1] out,         # OUT samples
          int kind, int param,
          uint64_t[:, ::1] states,      # IN/OUT (n_rows, 4)
          int n_threads):
    """Draw samples from probabilities or rates computed elsewhere."""
    cdef Py_ssize_t c, n_rows = p.shape[0], n = p.shape[1]
    if n == 0 or n_rows == 0:
        return
    for c in prange(n_rows, schedule="static", num_threads=n_threads, nogil=True):
        _draw_row(&p[c, 0], &out[c, 0], n, kind, param, &states[c, 0])


# -- logistic layers: the library's one sigmoid (rbm/_sigmoid.h) ---------------------
cdef extern from *:
    """
    #include "rbm/_sigmoid.h"

    /* x <- sigmoid(scale (x + bias)) on n elements (bias NULL: none added; scale 1: no
       product), each element in that order, as the twin does. */
    static CYTHON_INLINE HB_ALWAYS_INLINE void hb_logistic_d_body(
            double *HB_RESTRICT x, const double *HB_RESTRICT bias, double scale, Py_ssize_t n) {
        if (bias) for (Py_ssize_t j = 0; j < n; j++) x[j] = x[j] + bias[j];
        if (scale != 1.0) for (Py_ssize_t j = 0; j < n; j++) x[j] = x[j] * scale;
        hb_sigmoid_d_body(x, n);
    }
    static CYTHON_INLINE HB_ALWAYS_INLINE void hb_logistic_f_body(
            float *HB_RESTRICT x, const float *HB_RESTRICT bias, float scale, Py_ssize_t n) {
        if (bias) for (Py_ssize_t j = 0; j < n; j++) x[j] = x[j] + bias[j];
        if (scale != 1.0f) for (Py_ssize_t j = 0; j < n; j++) x[j] = x[j] * scale;
        hb_sigmoid_f_body(x, n);
    }
    static void hb_logistic_d_base(double *x, const double *bias, double scale, Py_ssize_t n) {
        hb_logistic_d_body(x, bias, scale, n);
    }
    static void hb_logistic_f_base(float *x, const float *bias, float scale, Py_ssize_t n) {
        hb_logistic_f_body(x, bias, scale, n);
    }

    /* Runtime dispatch (x86-64, GCC or Clang, glibc), as in heatbath.rbm._cd: the same
       loops compiled for AVX2 (no FMA there, and -ffp-contract=off: the same bits as
       the baseline code; tested with _baseline_only). */
    #if defined(__x86_64__) && defined(__GNUC__) && defined(__GLIBC__) && !defined(HB_NO_CLONES)
    #define HB_LOGISTIC_AVX2 1
    __attribute__((target("avx2"))) static void hb_logistic_d_avx2(
            double *x, const double *bias, double scale, Py_ssize_t n) {
        hb_logistic_d_body(x, bias, scale, n);
    }
    __attribute__((target("avx2"))) static void hb_logistic_f_avx2(
            float *x, const float *bias, float scale, Py_ssize_t n) {
        hb_logistic_f_body(x, bias, scale, n);
    }
    #endif

    static int hb_baseline_only = 0;   /* tests: run the baseline code on any CPU */
    static void hb_logistic_d(double *x, const double *bias, double scale, Py_ssize_t n) {
    #if defined(HB_LOGISTIC_AVX2)
        if (!hb_baseline_only && __builtin_cpu_supports("avx2")) {
            hb_logistic_d_avx2(x, bias, scale, n);
            return;
        }
    #endif
        hb_logistic_d_base(x, bias, scale, n);
    }
    static void hb_logistic_f(float *x, const float *bias, float scale, Py_ssize_t n) {
    #if defined(HB_LOGISTIC_AVX2)
        if (!hb_baseline_only && __builtin_cpu_supports("avx2")) {
            hb_logistic_f_avx2(x, bias, scale, n);
            return;
        }
    #endif
        hb_logistic_f_base(x, bias, scale, n);
    }

    /* Bernoulli draws of 4 rows at once (spin: 2 bit - 1): row c from probabilities p[c]
       into out[c] with the stream state[c], one uniform per unit in order, so the numbers
       of 4 calls of _draw_row. The 4 SFC64 generators run in lockstep on one vector of
       64-bit lanes (one generator step is a chain of dependent operations: 4 at once cost
       little more than one), and u < p is compared exactly on scaled integers in double,
       as heatbath.rbm._cd's hb_draw4 (both from rbm/_lockstep.h). Rows may repeat (fewer than 4): a repeated row draws the same numbers and writes the
       same values. GCC and Clang (vector extensions); HB_LOCKSTEP says so. */
    #if defined(__GNUC__) || defined(__clang__)
    #define HB_LOCKSTEP 1
    #include "rbm/_lockstep.h"
    typedef uint64_t hb_g_u4 __attribute__((vector_size(32)));
    typedef double hb_g_d4 __attribute__((vector_size(32)));
    /* the 4 values of a row for a 4-bit mask of comparisons: [spin][mask][lane] */
    #define HB_G_ROW(m, one, zero) {(m) & 1 ? one : zero, (m) & 2 ? one : zero,              \
                                    (m) & 4 ? one : zero, (m) & 8 ? one : zero}
    #define HB_G_TABLE(one, zero) {                                                        \
        HB_G_ROW(0, one, zero), HB_G_ROW(1, one, zero), HB_G_ROW(2, one, zero),             \
        HB_G_ROW(3, one, zero), HB_G_ROW(4, one, zero), HB_G_ROW(5, one, zero),             \
        HB_G_ROW(6, one, zero), HB_G_ROW(7, one, zero), HB_G_ROW(8, one, zero),             \
        HB_G_ROW(9, one, zero), HB_G_ROW(10, one, zero), HB_G_ROW(11, one, zero),           \
        HB_G_ROW(12, one, zero), HB_G_ROW(13, one, zero), HB_G_ROW(14, one, zero),          \
        HB_G_ROW(15, one, zero)}
    static const double hb_g_vals_d[2][16][4] = {HB_G_TABLE(1, 0), HB_G_TABLE(1, -1)};
    static const float hb_g_vals_f[2][16][4] = {HB_G_TABLE(1, 0), HB_G_TABLE(1, -1)};
    #if defined(HB_TRANSPOSE4)
    #define HB_G_BLOCKS 1   /* 4 steps at once, transposed to 4 units of each row */
    #else
    #define HB_G_BLOCKS 0
    #endif
    #define HB_BERN4_BODY(T, MASK)                                                          \
        typedef T t4u __attribute__((vector_size(4 * sizeof(T)), aligned(sizeof(T)),        \
                                     may_alias));                                           \
        const int dbl = sizeof(T) == 8;                                                     \
        const double sc = HB_U_SCALE(dbl);                                                  \
        const T (*vals)[4] = (const T (*)[4])(dbl ? (const void *)hb_g_vals_d[spin != 0]    \
                                                  : (const void *)hb_g_vals_f[spin != 0]);  \
        HB_LOAD4(hb_g_u4, state, s0, s1, s2, s3);                                           \
        Py_ssize_t i = 0;                                                                   \
        HB_G_DO_BLOCKS(T, MASK)                                                             \
        for (; i < n; i++) {                                                                \
            hb_g_d4 u, pv = {p[0][i], p[1][i], p[2][i], p[3][i]};                           \
            HB_G_NEXT_U(u);                                                                 \
            __typeof__(u < u) bit = u < pv * sc;                                            \
            for (int c = 0; c < 4; c++) out[c][i] = vals[bit[c] & 1][0];                    \
        }                                                                                   \
        HB_STORE4(state, s0, s1, s2, s3)
    /* the next uniform of each row, scaled (u 2^64 or u 2^24) and exact in double */
    #define HB_G_NEXT_U(u)                                                                  \
        do {                                                                                \
            hb_g_u4 x;                                                                      \
            HB_SFC64(x, s0, s1, s2, s3);                                                    \
            HB_SCALED_U(u, x, dbl, hb_g_u4, hb_g_d4);                                       \
        } while (0)
    #if HB_G_BLOCKS
    #define HB_G_DO_BLOCKS(T, MASK)                                                         \
        for (; i + 4 <= n; i += 4) {                                                        \
            hb_g_d4 u0, u1, u2, u3, U[4];                                                   \
            HB_G_NEXT_U(u0);                                                                \
            HB_G_NEXT_U(u1);                                                                \
            HB_G_NEXT_U(u2);                                                                \
            HB_G_NEXT_U(u3);                                                                \
            HB_TRANSPOSE4(hb_g_d4, U, u0, u1, u2, u3);                                      \
            for (int c = 0; c < 4; c++) {                                                   \
                hb_g_d4 P = __builtin_convertvector(*(const t4u *)(p[c] + i), hb_g_d4) * sc; \
                __typeof__(P < P) bit = U[c] < P;                                           \
                *(t4u *)(out[c] + i) = *(const t4u *)vals[MASK(bit)];                       \
            }                                                                               \
        }
    #else
    #define HB_G_DO_BLOCKS(T, MASK)
    #endif
    #define HB_G_MASK_ANY(b) ((int)(((b)[0] & 1) | ((b)[1] & 2) | ((b)[2] & 4) | ((b)[3] & 8)))
    #if defined(__x86_64__)
    #include <immintrin.h>
    #define HB_G_MASK_AVX2(b) _mm256_movemask_pd((__m256d)(b))
    #endif
    #define HB_BERN4(NAME, T, TARGET, MASK)                                                 \
        TARGET static void NAME(const T *const *p, T *const *out, Py_ssize_t n,             \
                                uint64_t *const *state, int spin) { HB_BERN4_BODY(T, MASK) }
    HB_BERN4(hb_bern4_d_base, double, , HB_G_MASK_ANY)
    HB_BERN4(hb_bern4_f_base, float, , HB_G_MASK_ANY)
    #if defined(HB_LOGISTIC_AVX2)
    HB_BERN4(hb_bern4_d_avx2, double, __attribute__((target("avx2"))), HB_G_MASK_AVX2)
    HB_BERN4(hb_bern4_f_avx2, float, __attribute__((target("avx2"))), HB_G_MASK_AVX2)
    #endif
    #if defined(HB_LOGISTIC_AVX2)
    #define HB_G_AVX2(call) if (!hb_baseline_only && __builtin_cpu_supports("avx2")) { call; return; }
    #else
    #define HB_G_AVX2(call)
    #endif
    #define HB_BERN4_RUN(SUF, T)                                                            \
        static void hb_bern4_##SUF(const T *const *p, T *const *out, Py_ssize_t n,          \
                                   uint64_t *const *state, int spin) {                      \
            HB_G_AVX2(hb_bern4_##SUF##_avx2(p, out, n, state, spin))                        \
            hb_bern4_##SUF##_base(p, out, n, state, spin);                                  \
        }
    HB_BERN4_RUN(d, double)
    HB_BERN4_RUN(f, float)
    #else
    #define HB_LOCKSTEP 0
    static void hb_bern4_d(const double *const *p, double *const *out, Py_ssize_t n,
                           uint64_t *const *state, int spin) {}
    static void hb_bern4_f(const float *const *p, float *const *out, Py_ssize_t n,
                           uint64_t *const *state, int spin) {}
    #endif
    """
    void hb_logistic_d(double* x, const double* bias, double scale, Py_ssize_t n) noexcept nogil
    void hb_bern4_d(const double** p, double** out, Py_ssize_t n, uint64_t** state,
                    int spin) noexcept nogil
    void hb_bern4_f(const float** p, float** out, Py_ssize_t n, uint64_t** state,
                    int spin) noexcept nogil
    bint HB_LOCKSTEP
    void hb_logistic_f(float* x, const float* bias, float scale, Py_ssize_t n) noexcept nogil
    int hb_baseline_only

#: Elements per chunk of a row: bias, sigmoid, draws and means run on it in L1.
cdef enum:
    _CHUNK = 256


cdef inline void _logistic(floating* x, const floating* bias, floating scale,
                           Py_ssize_t n) noexcept nogil:
    if floating is float:
        hb_logistic_f(x, bias, scale, n)
    else:
        hb_logistic_d(x, bias, scale, n)


cdef inline void _logistic_out(floating* x, floating* out, Py_ssize_t n, int kind, int param,
                               uint64_t* state) noexcept nogil:
    """x = probabilities: draws from them into out (NULL: none); x <- means."""
    cdef Py_ssize_t j
    if out != NULL:
        _draw_row(x, out, n, kind, param, state)
    if kind == SPIN:
        for j in range(n):
            x[j] = x[j] * 2 - 1
    elif kind == BINOMIAL:
        for j in range(n):
            x[j] = x[j] * <floating>param


cdef void _logistic_rows4(floating* x, const floating* bias, floating* out, Py_ssize_t g,
                          Py_ssize_t n, int kind, int param, const double* beta,
                          uint64_t* states) noexcept nogil:
    """The g <= 4 consecutive rows from x (and out, states, beta; out and states NULL:
    means only), in chunks of _CHUNK: x + bias, times the scale 2 beta (spin) or beta in
    the layer's dtype, the sigmoid, the draws from each row's stream in order, the means.
    The bernoulli and spin draws of the 4 rows run in lockstep (rows past g repeat the
    first: hb_bern4), with the numbers of one row at a time."""
    cdef floating* xs[4]
    cdef floating* ob[4]
    cdef const floating* ps[4]
    cdef uint64_t* ss[4]
    cdef floating scale[4]
    cdef Py_ssize_t i = 0, m, r, q
    cdef bint lockstep = HB_LOCKSTEP and out != NULL and (kind == BERNOULLI or kind == SPIN)
    for r in range(4):
        q = r if r < g else 0
        xs[r] = x + q * n
        ob[r] = out + q * n if out != NULL else NULL
        ss[r] = states + 4 * q if out != NULL else NULL
        scale[r] = <floating>((2.0 * beta[q]) if kind == SPIN else beta[q])
    while i < n:
        m = min(<Py_ssize_t>_CHUNK, n - i)
        for r in range(g):
            _logistic(xs[r] + i, bias + i if bias != NULL else NULL, scale[r], m)
        if lockstep:
            for r in range(4):
                ps[r] = xs[r] + i
                ob[r] = ob[r] + i
            if floating is float:
                hb_bern4_f(ps, ob, m, ss, kind == SPIN)
            else:
                hb_bern4_d(ps, ob, m, ss, kind == SPIN)
            for r in range(4):
                ob[r] = ob[r] - i
            for r in range(g):      # the means (no draws: out NULL)
                _logistic_out(xs[r] + i, NULL, m, kind, param, NULL)
        else:
            for r in range(g):
                _logistic_out(xs[r] + i, ob[r] + i if out != NULL else NULL, m, kind, param,
                              ss[r])
        i += m


def _logistic_layer(floating[:, ::1] x,          # IN pre-activations / OUT means
                    const floating[::1] bias,     # IN (n,) or empty: added to every row first
                    floating[:, ::1] out,         # OUT samples (0 rows: means only)
                    int kind, int param,          # BERNOULLI, SPIN or BINOMIAL
                    const double[::1] beta,       # IN (n_rows,)
                    uint64_t[:, ::1] states,      # IN/OUT (n_rows, 4) (unused without out)
                    int n_threads):
    cdef Py_ssize_t c, n_rows = x.shape[0], n = x.shape[1]
    cdef bint draw = out.shape[0] > 0
    cdef const floating* pb = &bias[0] if bias.shape[0] > 0 else NULL
    if n == 0 or n_rows == 0:
        return
    # groups of 4 rows (the bernoulli and spin draws of a group run in lockstep)
    for c in prange((n_rows + 3) // 4, schedule="static", num_threads=n_threads, nogil=True):
        _logistic_rows4(&x[4 * c, 0], pb, &out[4 * c, 0] if draw else NULL,
                        min(4, n_rows - 4 * c), n, kind, param, &beta[4 * c],
                        &states[4 * c, 0] if draw else NULL)


def _baseline_only(bint flag):
    """As heatbath.rbm._cd._baseline_only, for the logistic pass (tests); returns the old value."""
    global hb_baseline_only
    previous, hb_baseline_only = hb_baseline_only != 0, flag
    return previous


def _add_rows(floating[:, ::1] W,               # IN/OUT (n_rows, n)
              const floating[:, ::1] V,         # IN (n_rows, n)
              int n_threads):
    """W += V; returns whether every element of the new W is finite."""
    cdef Py_ssize_t r, j, n_rows = W.shape[0], n = W.shape[1]
    cdef floating* w
    cdef const floating* v
    cdef int bad
    cdef unsigned char[::1] ok = np.ones(n_rows, dtype=np.uint8)
    if n == 0 or n_rows == 0:
        return True
    for r in prange(n_rows, schedule="static", num_threads=n_threads, nogil=True):
        w = &W[r, 0]
        v = &V[r, 0]
        bad = 0
        for j in range(n):
            w[j] = w[j] + v[j]
            bad = bad | (w[j] - w[j] != 0)   # NaN - NaN and inf - inf are NaN, != 0
        ok[r] = bad == 0
    return bool(np.all(ok))


def _all_binary(const floating[::1] x):
    """Whether every element of x is 0 or 1 (NaN is not): one pass, no temporaries."""
    cdef Py_ssize_t i, n = x.shape[0]
    cdef int bad = 0
    with nogil:
        for i in range(n):
            bad = bad | ((x[i] != 0) & (x[i] != 1))
    return bad == 0
