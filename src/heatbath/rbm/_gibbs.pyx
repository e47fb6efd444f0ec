"""Kernels: one layer of block Gibbs sampling, chain by chain in parallel.

The Python layer (heatbath.rbm._layers) puts the pre-activations (bias +
product with W, one BLAS GEMM for all chains) in ``x``; each chain draws
from its own stream, so the result does not depend on the thread count.

- ``_draw``: samples from probabilities already in ``x`` (numpy's SIMD exp
  computed them): bernoulli {0,1} (u < p), spin (+1 if u < p(+1)) and
  binomial(n) (n such draws), one uniform per draw.
- ``_sample_layer`` / ``_layer_means``: the fused means-and-samples pass for
  gaussian units (mean x, the bias being the mean; sample x + z / sqrt(beta)
  with z from Box-Muller on pairs of units, two draws per pair) and
  softmax(k) units (one-hot groups, probabilities softmax(beta x) over the
  group, one draw per group).

Uniforms: float64 layers use the top 53 bits of a draw, float32 layers the
top 24 (heatbath._random). The kernel does not check its arguments.
"""

from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport exp, expf, log, sqrt, cos, sin, M_PI
from libc.stdint cimport uint64_t

from heatbath._random cimport rng_t, rng_load, rng_store, rng_double, rng_float
from heatbath.rbm._units cimport BERNOULLI, SPIN, GAUSSIAN, BINOMIAL, SOFTMAX

#: Unit kind codes of the kernels (heatbath/rbm/_units.pxd), for the Python layer.
UNIT_KINDS = {"bernoulli": BERNOULLI, "spin": SPIN, "gaussian": GAUSSIAN,
              "binomial": BINOMIAL, "softmax": SOFTMAX}


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
    """Conditional means only (no draws), in place: softmax (gaussian: x itself)."""
    cdef Py_ssize_t j, g
    cdef floating s
    if kind == SOFTMAX:
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
    """Samples from given probabilities p (bernoulli / spin p(+1) / binomial p)."""
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
    """Draw samples from probabilities computed elsewhere (numpy's SIMD exp)."""
    cdef Py_ssize_t c, n_rows = p.shape[0], n = p.shape[1]
    if n == 0 or n_rows == 0:
        return
    for c in prange(n_rows, schedule="static", num_threads=n_threads, nogil=True):
        _draw_row(&p[c, 0], &out[c, 0], n, kind, param, &states[c, 0])
