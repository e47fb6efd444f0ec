"""Kernel: one epoch of CD-k / PCD-k for a Bernoulli-Bernoulli RBM, fused.

For small models (scikit-learn's default shape: 64 x 64, minibatches of 10)
the cost of a NumPy update is Python overhead, not arithmetic. This kernel
runs a whole epoch in one C function (rbm/_cd_epoch.h, compiled once per
dtype for the baseline ISA, for AVX2 and for AVX-512, picked at run time),
written on vectors of one register (GCC/Clang vector extensions: 16 bytes,
SSE2 or NEON, at the baseline; 32 under AVX2; 64 under AVX-512; plain C for
other compilers):

- a {0,1} row times W is the sum of the rows of W it selects (an index list
  of the ones, built without branches: on x86 from a movemask of 4
  elements and a table of their positions); data given as probabilities in
  [0, 1] add ``x_i * W[i]`` instead (the same bits for x_i = 1);
- each row sum keeps a block of 8 vectors of outputs (16 for rows of 0/1)
  in registers across the selected rows;
- W h for the visible means adds rows of a transposed copy of W, refreshed
  after each update by register tiles (shuffles);
- the update is one pass over W, row by row: momentum, weight decay, the
  gradient rows (the hidden rows of the minibatch rows that select this
  visible unit, gathered by a counting sort), W += velocity;
- the draws run SFC64 on states held in registers (heatbath._random's
  rng_next, the same numbers), 4 rows in lockstep on a vector of 64-bit
  lanes, each row with its own stream (fewer rows repeat one); 4 draws of
  each row at once are compared with 4 of its probabilities, exactly, as
  scaled integers in double, and give 4 entries of its index list at once;
- the sigmoid is a branch-free Cody-Waite / Pade form (Cephes' exp, with the
  division of the sigmoid folded into it), within 2 ulp of
  1 / (1 + exp(-t)), that vectorises; libm's exp does not. It is the
  library's one logistic function (rbm/_sigmoid.h, shared with the
  general path's layer pass).

:func:`_reconstruct` gives the per-epoch reconstruction of the models this
kernel trains with the same arithmetic (a serial loop, no BLAS call).

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



cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>

    /* Runtime dispatch (x86-64 Linux, glibc): the epoch kernel is compiled for the
       baseline ISA, AVX2 and AVX-512 (vectors of 16, 32 and 64 bytes), the sigmoid for the
       baseline and AVX2, and the code the CPU runs is picked at run time.
       Element-wise operations in the same order, no multiply-add (-ffp-contract=off):
       every level gives the same bits (tested: _isa). */
    #if defined(__x86_64__) && defined(__GNUC__) && defined(__GLIBC__) && !defined(HB_NO_CLONES)
    #define HB_CLONES __attribute__((target_clones("avx2", "default")))
    #define HB_CLONES_ON 1
    #include <immintrin.h>
    #else
    #define HB_CLONES
    #endif

    /* GCC and Clang: forced inlining; other compilers (MSVC) get plain C (scalar code,
       Cython's spelling of restrict and inline). */
    #if defined(__GNUC__) || defined(__clang__)
    #define HB_ALWAYS_INLINE __attribute__((always_inline))
    #else
    #define HB_ALWAYS_INLINE
    #endif
    #define HB_RESTRICT CYTHON_RESTRICT

    /* x86-64 (SSE2 is its baseline): bit l of HB_MASK4_*(p) is p[l] != 0, for 4
       elements. hb_pack4[mask] lists the positions of the ones of a 4-bit mask, then
       their count. */
    #if defined(__x86_64__) || defined(_M_X64)
    #include <emmintrin.h>
    #define HB_MASK4_D_SSE2(p) (_mm_movemask_pd(_mm_cmpneq_pd(_mm_loadu_pd(p), _mm_setzero_pd())) \
        | (_mm_movemask_pd(_mm_cmpneq_pd(_mm_loadu_pd((p) + 2), _mm_setzero_pd())) << 2))
    #define HB_MASK4_F_SSE2(p) _mm_movemask_ps(_mm_cmpneq_ps(_mm_loadu_ps(p), _mm_setzero_ps()))
    #endif
    static const Py_ssize_t hb_pack4[16][5] = {
        {0, 0, 0, 0, 0}, {0, 0, 0, 0, 1}, {1, 0, 0, 0, 1}, {0, 1, 0, 0, 2},
        {2, 0, 0, 0, 1}, {0, 2, 0, 0, 2}, {1, 2, 0, 0, 2}, {0, 1, 2, 0, 3},
        {3, 0, 0, 0, 1}, {0, 3, 0, 0, 2}, {1, 3, 0, 0, 2}, {0, 1, 3, 0, 3},
        {2, 3, 0, 0, 2}, {0, 2, 3, 0, 3}, {1, 2, 3, 0, 3}, {0, 1, 2, 3, 4}};

    /* hb_sigmoid_d_body, hb_sigmoid_f_body: the library's one logistic function. */
    #include "rbm/_sigmoid.h"

    HB_CLONES static void hb_sigmoid_d(double *HB_RESTRICT x, Py_ssize_t n) { hb_sigmoid_d_body(x, n); }
    HB_CLONES static void hb_sigmoid_f(float *HB_RESTRICT x, Py_ssize_t n) { hb_sigmoid_f_body(x, n); }

    typedef struct {
        void *W, *a, *b, *vW, *va, *vb;
        const void *X;
        const int64_t *order;
        Py_ssize_t n, nv, nh, batch_size;
        int k, persistent;
        double lr, momentum, weight_decay;
        void *chains;
        Py_ssize_t n_chains;
        uint64_t *streams;
        void *H0, *Hs, *Vs, *Pv, *WT, *hbuf, *XB, *PX;
        Py_ssize_t *IX, *MX, *IV, *MV, *IH, *PS, *NS, *PR, *NR;
    } hb_epoch_args;

    typedef struct {
        const void *W, *WT, *a, *b, *X;
        void *R, *hbuf;
        Py_ssize_t n, nv, nh;
        Py_ssize_t *IX;
    } hb_reconstruct_args;

    /* The epoch kernel (rbm/_cd_epoch.h), instantiated for double and float at the
       baseline ISA and, on x86-64 with GCC or Clang, for AVX2 and AVX-512; hb_epoch_run
       picks one at run time. Vectors (GCC vector extensions) are one register: 16 bytes at
       the baseline (SSE2, NEON), 32 under AVX2, 64 under AVX-512. 32-byte vectors at the
       baseline were lowered to spills and scalar code (5x the instructions). AVX2 against
       AVX-512, the kernel alone, one epoch of digits PCD-1, batch 10 (interleaved in one
       process, best of 40, a Xeon of the Sapphire Rapids class): 64 x 64 float64 4.23 ->
       3.68 ms, float32 2.39 -> 2.08 ms, 64 x 256 float64 14.7 -> 12.3 ms, float32 7.02 ->
       6.35 ms. A register block of 16 vectors under AVX-512 was slower at every shape. */
    #if defined(__GNUC__) || defined(__clang__)
    #define HB_VEC 1
    #else
    #define HB_VEC 0
    #endif
    #define HB_TARGET
    #define HB_T double
    #define HB_L (HB_VEC ? 2 : 1)
    #define HB_NB 8
    #define HB_NAME d
    #if defined(HB_MASK4_D_SSE2)
    #define HB_MASK4 HB_MASK4_D_SSE2
    #endif
    #include "rbm/_cd_epoch.h"
    #undef HB_T
    #undef HB_L
    #undef HB_NAME
    #define HB_T float
    #define HB_L (HB_VEC ? 4 : 1)
    #define HB_NAME f
    #undef HB_MASK4
    #if defined(HB_MASK4_F_SSE2)
    #define HB_MASK4 HB_MASK4_F_SSE2
    #endif
    #include "rbm/_cd_epoch.h"
    #undef HB_T
    #undef HB_L
    #undef HB_NAME
    #undef HB_NB
    #undef HB_TARGET
    #if defined(HB_CLONES_ON)
    #define HB_TARGET __attribute__((target("avx2")))
    #define HB_NB 8
    #define HB_MASK_D4(bits) _mm256_movemask_pd((__m256d)(bits))
    #define HB_T double
    #define HB_L 4
    #define HB_NAME d_avx2
    #undef HB_MASK4
    #define HB_MASK4(p) \
        _mm256_movemask_pd(_mm256_cmp_pd(_mm256_loadu_pd(p), _mm256_setzero_pd(), _CMP_NEQ_UQ))
    #include "rbm/_cd_epoch.h"
    #undef HB_T
    #undef HB_L
    #undef HB_NAME
    #define HB_T float
    #define HB_L 8
    #define HB_NAME f_avx2
    #undef HB_MASK4
    #define HB_MASK4 HB_MASK4_F_SSE2
    #include "rbm/_cd_epoch.h"
    #undef HB_T
    #undef HB_L
    #undef HB_NAME
    #undef HB_TARGET
    /* AVX-512 (x86-64-v4's F, DQ, BW, VL): vectors of 64 bytes, the same blocking */
    #define HB_TARGET __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))
    #define HB_T double
    #define HB_L 8
    #define HB_NAME d_avx512
    #undef HB_MASK4
    #define HB_MASK4(p) \
        _mm256_movemask_pd(_mm256_cmp_pd(_mm256_loadu_pd(p), _mm256_setzero_pd(), _CMP_NEQ_UQ))
    #include "rbm/_cd_epoch.h"
    #undef HB_T
    #undef HB_L
    #undef HB_NAME
    #define HB_T float
    #define HB_L 16
    #define HB_NAME f_avx512
    #undef HB_MASK4
    #define HB_MASK4 HB_MASK4_F_SSE2
    #include "rbm/_cd_epoch.h"
    #undef HB_T
    #undef HB_L
    #undef HB_NAME
    #undef HB_NB
    #undef HB_TARGET
    #undef HB_MASK_D4
    #define HB_HAS_AVX512() (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") \
        && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
    #endif

    /* the widest code the CPU runs (2 AVX-512, 1 AVX2, 0 the baseline), capped by
       hb_isa_limit (tests: every level gives the same bits) */
    static int hb_isa_limit = 2;
    static int hb_isa_level(void) {
    #if defined(HB_CLONES_ON)
        int level = HB_HAS_AVX512() ? 2 : __builtin_cpu_supports("avx2") ? 1 : 0;
    #else
        int level = 0;
    #endif
        return level < hb_isa_limit ? level : hb_isa_limit;
    }
    static Py_ssize_t hb_epoch_run(const hb_epoch_args *args, int single) {
    #if defined(HB_CLONES_ON)
        int level = hb_isa_level();
        if (level == 2) return single ? hb_epoch_f_avx512(args) : hb_epoch_d_avx512(args);
        if (level == 1) return single ? hb_epoch_f_avx2(args) : hb_epoch_d_avx2(args);
    #endif
        return single ? hb_epoch_f(args) : hb_epoch_d(args);
    }

    static void hb_reconstruct_run(const hb_reconstruct_args *args, int single) {
    #if defined(HB_CLONES_ON)
        int level = hb_isa_level();
        if (level == 2) {
            if (single) hb_reconstruct_f_avx512(args); else hb_reconstruct_d_avx512(args);
            return;
        }
        if (level == 1) {
            if (single) hb_reconstruct_f_avx2(args); else hb_reconstruct_d_avx2(args);
            return;
        }
    #endif
        if (single) hb_reconstruct_f(args); else hb_reconstruct_d(args);
    }
    """
    void hb_sigmoid_d(double* x, Py_ssize_t n) noexcept nogil
    void hb_sigmoid_f(float* x, Py_ssize_t n) noexcept nogil
    ctypedef struct hb_epoch_args:
        void* W
        void* a
        void* b
        void* vW
        void* va
        void* vb
        const void* X
        const int64_t* order
        Py_ssize_t n, nv, nh, batch_size
        int k, persistent
        double lr, momentum, weight_decay
        void* chains
        Py_ssize_t n_chains
        uint64_t* streams
        void* H0
        void* Hs
        void* Vs
        void* Pv
        void* WT
        void* hbuf
        void* XB
        void* PX
        Py_ssize_t* IX
        Py_ssize_t* MX
        Py_ssize_t* IV
        Py_ssize_t* MV
        Py_ssize_t* IH
        Py_ssize_t* PS
        Py_ssize_t* NS
        Py_ssize_t* PR
        Py_ssize_t* NR
    Py_ssize_t hb_epoch_run(const hb_epoch_args* args, int single) noexcept nogil
    int hb_isa_limit
    int hb_isa_level() noexcept nogil
    ctypedef struct hb_reconstruct_args:
        const void* W
        const void* WT
        const void* a
        const void* b
        const void* X
        void* R
        void* hbuf
        Py_ssize_t n, nv, nh
        Py_ssize_t* IX
    void hb_reconstruct_run(const hb_reconstruct_args* args, int single) noexcept nogil


cdef inline void _sigmoid(floating* x, Py_ssize_t n) noexcept nogil:
    if floating is float:
        hb_sigmoid_f(x, n)
    else:
        hb_sigmoid_d(x, n)


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
    cdef Py_ssize_t nv = W.shape[0], nh = W.shape[1], updates
    cdef hb_epoch_args args
    dt = np.float32 if floating is float else np.float64
    rows = max(H0.shape[0], Hs.shape[0])
    cdef Py_ssize_t[:, ::1] IX = np.empty((H0.shape[0], nv), dtype=np.intp)
    cdef Py_ssize_t[::1] MX = np.empty(H0.shape[0], dtype=np.intp)
    cdef Py_ssize_t[:, ::1] IV = np.empty((rows, nv), dtype=np.intp)
    cdef Py_ssize_t[::1] MV = np.empty(rows, dtype=np.intp)
    cdef Py_ssize_t[::1] IH = np.empty(4 * nh, dtype=np.intp)    # 4 rows drawn together
    cdef floating[::1] hbuf = np.empty(4 * nh, dtype=dt)
    cdef floating[:, ::1] XB = np.empty((H0.shape[0], nv), dtype=dt)
    cdef Py_ssize_t[::1] PS = np.empty(nv + 1, dtype=np.intp)
    cdef Py_ssize_t[::1] NS = np.empty(nv + 1, dtype=np.intp)
    cdef Py_ssize_t[::1] PR = np.empty(H0.shape[0] * nv + 1, dtype=np.intp)
    cdef floating[::1] PX = np.empty(H0.shape[0] * nv + 1, dtype=dt)
    cdef Py_ssize_t[::1] NR = np.empty(rows * nv + 1, dtype=np.intp)
    if order.shape[0] == 0:
        return 0
    args.W, args.a, args.b = &W[0, 0], &a[0], &b[0]
    args.vW, args.va, args.vb = &vW[0, 0], &va[0], &vb[0]
    args.X, args.order = &X[0, 0], &order[0]
    args.n, args.nv, args.nh, args.batch_size = order.shape[0], nv, nh, batch_size
    args.k, args.persistent = k, persistent
    args.lr, args.momentum, args.weight_decay = lr, momentum, weight_decay
    args.chains, args.n_chains = &chains[0, 0], chains.shape[0]
    args.streams = &streams[0, 0]
    args.H0, args.Hs, args.Vs, args.Pv, args.WT = &H0[0, 0], &Hs[0, 0], &Vs[0, 0], &Pv[0, 0], &G[0, 0]
    args.hbuf, args.XB, args.PX = &hbuf[0], &XB[0, 0], &PX[0]
    args.IX, args.MX, args.IV, args.MV, args.IH = &IX[0, 0], &MX[0], &IV[0, 0], &MV[0], &IH[0]
    args.PS, args.NS, args.PR, args.NR = &PS[0], &NS[0], &PR[0], &NR[0]
    with nogil:
        updates = hb_epoch_run(&args, floating is float)
    return updates


def _reconstruct(const floating[:, ::1] W, const floating[::1] a, const floating[::1] b,
                 const floating[:, ::1] V,   # IN rows (n, nv), in [0, 1]
                 floating[:, ::1] R):        # OUT (n, nv)
    """R = the visible means of the hidden means of the rows of V, with the epoch
    kernel's arithmetic: sigmoid(a + sum over j of h_j W[:, j]) in j order, where
    h = sigmoid(b + v W) (the rows of W that v selects, in order, times v_i where v
    is not binary). Twin: :func:`heatbath.reference.rbm.fused_reconstruction`."""
    cdef Py_ssize_t nv = W.shape[0], nh = W.shape[1]
    cdef hb_reconstruct_args args
    dt = np.float32 if floating is float else np.float64
    cdef floating[:, ::1] WT = np.ascontiguousarray(np.asarray(W).T)
    cdef floating[::1] hbuf = np.empty(nh, dtype=dt)
    cdef Py_ssize_t[::1] IX = np.empty(nv, dtype=np.intp)
    if V.shape[0] == 0:
        return
    args.W, args.WT, args.a, args.b, args.X, args.R = &W[0, 0], &WT[0, 0], &a[0], &b[0], &V[0, 0], &R[0, 0]
    args.hbuf, args.IX = &hbuf[0], &IX[0]
    args.n, args.nv, args.nh = V.shape[0], nv, nh
    with nogil:
        hb_reconstruct_run(&args, floating is float)


_ISA_NAMES = ("baseline", "avx2", "avx512")


def _isa(name=None):
    """The instruction set the epoch kernel runs ("baseline", "avx2" or "avx512": the
    widest this CPU has, capped by the last call); with a name, cap it there (tests: every
    level must give the same bits) and return the previous cap."""
    global hb_isa_limit
    previous = _ISA_NAMES[hb_isa_limit]
    if name is None:
        return _ISA_NAMES[hb_isa_level()]
    hb_isa_limit = _ISA_NAMES.index(name)
    return previous


def _sigmoid_array(floating[::1] x):
    """The kernel's sigmoid, in place on a 1-d array (returned); for tests."""
    with nogil:
        _sigmoid(&x[0], x.shape[0])
    return np.asarray(x)
