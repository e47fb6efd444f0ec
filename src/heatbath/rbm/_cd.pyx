"""Kernel: one epoch of CD-k / PCD-k for a Bernoulli-Bernoulli RBM, fused.

For small models (scikit-learn's default shape: 64 x 64, minibatches of 10)
the cost of a NumPy update is Python overhead, not arithmetic. This kernel
runs a whole epoch in C and uses the binary structure of the states: a {0,1}
row times W is the sum of the rows of W it selects, and the gradient
<v h> adds H rows into the rows of W that v selects.

It makes the same draws, from the same streams and in the same order, as
the general path (heatbath.rbm.train.cd_step): the hidden draws of a row
before its visible draws, one uniform per unit. Sigmoids use libm's exp
where the general path uses numpy's, so the two agree to rounding (a draw
can differ only when a uniform falls within an ulp of p).

Serial by design: these models are too small for threads to pay, and the
result never depends on a thread count. The kernel does not check its
arguments: heatbath.rbm.train validates them.
"""

from cython cimport floating
from libc.math cimport exp, expf
from libc.stdint cimport int64_t, uint64_t
from libc.string cimport memset

import numpy as np

from heatbath._random cimport rng_t, rng_load, rng_store, rng_double, rng_float


cdef inline floating _sig(floating t) noexcept nogil:
    if floating is float:
        return 1.0 / (1.0 + expf(-t))
    else:
        return 1.0 / (1.0 + exp(-t))


cdef inline double _u(rng_t* r, bint single) noexcept nogil:
    if single:
        return rng_float(r)
    return rng_double(r)


cdef void _hidden_means(const floating* v, const floating[:, ::1] W, const floating* b,
                        floating* out, Py_ssize_t nv, Py_ssize_t nh) noexcept nogil:
    """out = sigmoid(b + v W): add the rows of W that v selects, times v[i].

    v is mostly zeros (binary data); for v[i] = 1 the product is exact, so
    binary rows give plain row sums, and data given as probabilities in
    [0, 1] work too.
    """
    cdef Py_ssize_t i, j
    cdef const floating* row
    cdef floating vi
    for j in range(nh):
        out[j] = b[j]
    for i in range(nv):
        vi = v[i]
        if vi != 0:
            row = &W[i, 0]
            for j in range(nh):
                out[j] += vi * row[j]
    for j in range(nh):
        out[j] = _sig(out[j])


cdef void _visible_means(const floating* h, const floating[:, ::1] W, const floating* a,
                         floating* out, Py_ssize_t nv, Py_ssize_t nh) noexcept nogil:
    """out = sigmoid(a + W h): a dense dot product per row.

    A branch on h[j] here would be a coin flip per weight, mispredicted half
    the time (it made the kernel slower than scikit-learn); multiplying by the
    0/1 value vectorises instead.
    """
    cdef Py_ssize_t i, j
    cdef floating s, s0, s1, s2, s3, s4, s5, s6, s7
    cdef const floating* row
    for i in range(nv):
        row = &W[i, 0]
        # Eight partial sums: one running sum is a chain of dependent adds
        # (4 cycles each) that the compiler may not reorder; eight run in
        # parallel and vectorise. The rounding changes like a BLAS dot's does.
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0
        j = 0
        while j + 8 <= nh:
            s0 += row[j] * h[j]
            s1 += row[j + 1] * h[j + 1]
            s2 += row[j + 2] * h[j + 2]
            s3 += row[j + 3] * h[j + 3]
            s4 += row[j + 4] * h[j + 4]
            s5 += row[j + 5] * h[j + 5]
            s6 += row[j + 6] * h[j + 6]
            s7 += row[j + 7] * h[j + 7]
            j += 8
        s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
        while j < nh:
            s += row[j] * h[j]
            j += 1
        out[i] = _sig(a[i] + s)


cdef void _draw(const floating* p, floating* out, Py_ssize_t n, rng_t* r) noexcept nogil:
    """Uniforms into a buffer, then the comparisons (branch-free; see _gibbs._draw_row)."""
    cdef Py_ssize_t i = 0, j, m
    cdef bint single = floating is float
    cdef floating ubuf[64]
    while i < n:
        m = min(64, n - i)
        for j in range(m):
            ubuf[j] = <floating>_u(r, single)
        for j in range(m):
            out[i + j] = (ubuf[j] < p[i + j])
        i += m


cdef inline void _scale_rows(floating* x, Py_ssize_t n, floating f) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        x[i] *= f


cdef inline void _add_selected(const floating* v, const floating* h, floating* G,
                               Py_ssize_t nv, Py_ssize_t nh) noexcept nogil:
    """G[i, :] += v[i] h for every i with v[i] != 0 (the outer product v^T h)."""
    cdef Py_ssize_t i, j
    cdef floating* g
    cdef floating vi
    for i in range(nv):
        vi = v[i]
        if vi != 0:
            g = G + i * nh
            for j in range(nh):
                g[j] += vi * h[j]


cdef inline void _update(floating* p, floating* vel, const floating* g, Py_ssize_t n,
                         floating momentum, floating lr, floating decay) noexcept nogil:
    """vel = momentum vel + lr (g - decay p); p += vel (all one dtype: vectorises)."""
    cdef Py_ssize_t i
    for i in range(n):
        vel[i] = momentum * vel[i] + lr * (g[i] - decay * p[i])
        p[i] += vel[i]


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
                     floating[:, ::1] G):            # work (nv, nh)
    """Run every minibatch of one epoch; returns the number of updates."""
    cdef Py_ssize_t n = order.shape[0], nv = W.shape[0], nh = W.shape[1]
    cdef Py_ssize_t start, B, Bn, r, i, j, step, updates = 0
    cdef const floating* x
    cdef floating* g
    cdef floating* V          # the negative samples: Vs or the chains, rows of nv
    cdef rng_t rng
    cdef double inv_b, inv_bn, g_a, g_b
    cdef floating[::1] gbm = np.empty(nh, dtype=np.float32 if floating is float else np.float64)
    cdef floating* ga_buf = &Pv[0, 0]    # Pv is free once the chains have moved
    cdef floating* gb_buf = &gbm[0]
    with nogil:
        start = 0
        while start < n:
            B = min(batch_size, n - start)
            # positive phase: hidden means of the data rows
            for r in range(B):
                _hidden_means(&X[order[start + r], 0], W, &b[0], &H0[r, 0], nv, nh)
            # negative phase
            if not persistent:
                Bn = B
                for r in range(B):
                    rng_load(&rng, &streams[r, 0])
                    _draw(&H0[r, 0], &Hs[r, 0], nh, &rng)
                    _visible_means(&Hs[r, 0], W, &a[0], &Pv[r, 0], nv, nh)
                    _draw(&Pv[r, 0], &Vs[r, 0], nv, &rng)
                    for step in range(k - 1):
                        _hidden_means(&Vs[r, 0], W, &b[0], &Hs[r, 0], nv, nh)
                        _draw(&Hs[r, 0], &Hs[r, 0], nh, &rng)
                        _visible_means(&Hs[r, 0], W, &a[0], &Pv[r, 0], nv, nh)
                        _draw(&Pv[r, 0], &Vs[r, 0], nv, &rng)
                    rng_store(&rng, &streams[r, 0])
                V = &Vs[0, 0]
            else:
                Bn = chains.shape[0]
                for r in range(Bn):
                    rng_load(&rng, &streams[r, 0])
                    for step in range(k):
                        _hidden_means(&chains[r, 0], W, &b[0], &Hs[r, 0], nv, nh)
                        _draw(&Hs[r, 0], &Hs[r, 0], nh, &rng)
                        _visible_means(&Hs[r, 0], W, &a[0], &Pv[r, 0], nv, nh)
                        _draw(&Pv[r, 0], &chains[r, 0], nv, &rng)
                    rng_store(&rng, &streams[r, 0])
                V = &chains[0, 0]
            # hidden means of the negative samples (reuse Hs)
            for r in range(Bn):
                _hidden_means(V + r * nv, W, &b[0], &Hs[r, 0], nv, nh)
            # bias gradients, then scale the hidden rows so that the weight
            # gradient is plain row additions: G = sum_r v_r^T (h_r / B) - ...
            inv_b = 1.0 / B
            inv_bn = 1.0 / Bn
            for j in range(nh):
                g_b = 0.0
                for r in range(B):
                    g_b = g_b + H0[r, j]
                for r in range(Bn):
                    g_b = g_b - Hs[r, j] * (B * inv_bn)
                gb_buf[j] = <floating>(g_b * inv_b)
            for i in range(nv):
                g_a = 0.0
                for r in range(B):
                    g_a = g_a + X[order[start + r], i]
                for r in range(Bn):
                    g_a = g_a - V[r * nv + i] * (B * inv_bn)
                ga_buf[i] = <floating>(g_a * inv_b)
            _scale_rows(&H0[0, 0], B * nh, <floating>inv_b)
            _scale_rows(&Hs[0, 0], Bn * nh, <floating>(-inv_bn))
            memset(&G[0, 0], 0, nv * nh * sizeof(floating))
            for r in range(B):
                _add_selected(&X[order[start + r], 0], &H0[r, 0], &G[0, 0], nv, nh)
            for r in range(Bn):
                _add_selected(V + r * nv, &Hs[r, 0], &G[0, 0], nv, nh)
            _update(&W[0, 0], &vW[0, 0], &G[0, 0], nv * nh, <floating>momentum, <floating>lr,
                    <floating>weight_decay)
            _update(&a[0], &va[0], ga_buf, nv, <floating>momentum, <floating>lr, 0)
            _update(&b[0], &vb[0], gb_buf, nh, <floating>momentum, <floating>lr, 0)
            updates += 1
            start += B
    return updates
