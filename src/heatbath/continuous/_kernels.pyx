"""Continuous-state kernels: built-in targets and RWM / MALA / ULA / HMC steps over chains.

Layering as in scikit-learn's _loss: inline per-point C functions (a target's
log density and gradient, one chain's step), one ``def`` loop per kernel over
``prange(n_chains)`` on caller-allocated buffers, and the Python classes in
``targets.py`` / ``samplers.py`` that validate and own the state.

Every chain draws from its own stream (row ``c`` of ``states``), in a fixed
order per step: the ``d`` normals of the proposal (or momentum), then one
uniform for the accept test (none for ULA). Sums run in coordinate order
inside one chain, so the bits do not depend on the thread count.

Temperature: chain ``c`` samples p^beta_c. The target function returns the
untempered log p and gradient (kept in ``lp`` and ``g``); beta enters where
they are used, as ``(step * beta) * m_i * g_i`` in the drift and
``beta * (log p' - log p)`` in the accept test, so that beta = 1 gives the
bits of the untempered kernel (1.0 * v == v, and step * 1.0 == step).
"""

import numpy as np

from cython.parallel cimport prange
from cpython.pycapsule cimport PyCapsule_GetPointer, PyCapsule_IsValid
from libc.math cimport exp, log, sqrt, INFINITY, NAN
from libc.stdint cimport int64_t, uint64_t

from heatbath._random cimport rng_t, rng_load, rng_store, rng_double, rng_normals
from heatbath.continuous._target cimport logp_grad_t, LOGP_GRAD_CAPSULE

# Algorithm codes (samplers.py maps names to these).
cdef enum:
    RWM = 0
    MALA = 1
    ULA = 2
    HMC = 3

# Most mixture components a built-in mixture may have (a stack buffer per call).
cdef enum:
    MAX_COMPONENTS = 256
MAX_MIXTURE_COMPONENTS = MAX_COMPONENTS


ctypedef struct builtin_t:
    const double* a          # kind-specific doubles (see each function)
    const Py_ssize_t* nb     # phi^4: neighbour table (n_sites, k)
    Py_ssize_t k             # mixture: components; phi^4: neighbours per site
    double s0                # double well: barrier; phi^4: kappa
    double s1                # double well: tilt; phi^4: lambda


cdef double _gauss_full(const void* params, const double* x, double* g,
                        Py_ssize_t d) noexcept nogil:
    # a = [mean (d), precision (d, d) row-major]: log p = -r'Pr/2, grad = -Pr.
    cdef const builtin_t* p = <const builtin_t*>params
    cdef const double* mu = p.a
    cdef const double* P = p.a + d
    cdef Py_ssize_t i, j
    cdef double s, lp = 0.0
    for i in range(d):
        s = 0.0
        for j in range(d):
            s = s + P[i * d + j] * (x[j] - mu[j])
        g[i] = -s
        lp = lp + (x[i] - mu[i]) * g[i]
    return 0.5 * lp


cdef double _gauss_diag(const void* params, const double* x, double* g,
                        Py_ssize_t d) noexcept nogil:
    # a = [mean (d), precision diagonal (d)].
    cdef const builtin_t* p = <const builtin_t*>params
    cdef Py_ssize_t i
    cdef double r, lp = 0.0
    for i in range(d):
        r = x[i] - p.a[i]
        g[i] = -p.a[d + i] * r
        lp = lp + r * g[i]
    return 0.5 * lp


cdef double _mixture(const void* params, const double* x, double* g,
                     Py_ssize_t d) noexcept nogil:
    # a = [log weight - sum log sigma (k), means (k, d), 1/sigma^2 (k, d)]:
    # log p = logsumexp_c q_c, q_c = a_c - sum_i (x_i - mu_ci)^2 / (2 sigma_ci^2).
    cdef const builtin_t* p = <const builtin_t*>params
    cdef Py_ssize_t k = p.k, c, i
    cdef const double* mu = p.a + k
    cdef const double* iv = p.a + k + k * d
    cdef double q[MAX_COMPONENTS]
    cdef double r, s, top = -INFINITY, total = 0.0, w
    for c in range(k):
        s = 0.0
        for i in range(d):
            r = x[i] - mu[c * d + i]
            s = s + r * r * iv[c * d + i]
        q[c] = p.a[c] - 0.5 * s
        if q[c] > top:
            top = q[c]
    if top == -INFINITY or top != top:
        for i in range(d):
            g[i] = NAN
        return top
    for c in range(k):
        q[c] = exp(q[c] - top)
        total = total + q[c]
    for i in range(d):
        g[i] = 0.0
    for c in range(k):
        w = q[c] / total
        for i in range(d):
            g[i] = g[i] - w * (x[i] - mu[c * d + i]) * iv[c * d + i]
    return top + log(total)


cdef double _double_well(const void* params, const double* x, double* g,
                         Py_ssize_t d) noexcept nogil:
    # Independent coordinates: log p = sum_i -a (x_i^2 - 1)^2 + b x_i.
    cdef const builtin_t* p = <const builtin_t*>params
    cdef Py_ssize_t i
    cdef double u, lp = 0.0
    for i in range(d):
        u = x[i] * x[i] - 1.0
        lp = lp - p.s0 * u * u + p.s1 * x[i]
        g[i] = -4.0 * p.s0 * x[i] * u + p.s1
    return lp


cdef double _phi4(const void* params, const double* x, double* g,
                  Py_ssize_t d) noexcept nogil:
    # Lattice phi^4 in the hopping form: S = sum_x [phi^2 + lam (phi^2 - 1)^2
    # - 2 kappa phi_x sum_mu phi_{x+mu}]; the neighbour table lists all 2D
    # neighbours, so the hopping sum over it counts each bond twice.
    cdef const builtin_t* p = <const builtin_t*>params
    cdef Py_ssize_t i, j, k = p.k
    cdef double h, f2, S = 0.0
    for i in range(d):
        h = 0.0
        for j in range(k):
            h = h + x[p.nb[i * k + j]]
        f2 = x[i] * x[i]
        S = S + f2 + p.s1 * (f2 - 1.0) * (f2 - 1.0) - p.s0 * x[i] * h
        g[i] = -(2.0 * x[i] + 4.0 * p.s1 * (f2 - 1.0) * x[i] - 2.0 * p.s0 * h)
    return -S


cdef double _rbm_marginal(const void* params, const double* x, double* g,
                          Py_ssize_t d) noexcept nogil:
    # Gaussian-Bernoulli RBM, visible marginal (unit variance visibles):
    # log p(v) = -|v - a|^2 / 2 + sum_j softplus(b_j + sum_i v_i W_ij).
    # a = [a (d), b (k), W (d, k) row-major].
    cdef const builtin_t* p = <const builtin_t*>params
    cdef Py_ssize_t i, j, k = p.k
    cdef const double* b = p.a + d
    cdef const double* W = p.a + d + k
    cdef double r, t, lp = 0.0, sig
    for i in range(d):
        r = x[i] - p.a[i]
        lp = lp - 0.5 * r * r
        g[i] = -r
    for j in range(k):
        t = b[j]
        for i in range(d):
            t = t + x[i] * W[i * k + j]
        # softplus and sigmoid without overflow
        if t > 0:
            lp = lp + t + log(1.0 + exp(-t))
            sig = 1.0 / (1.0 + exp(-t))
        else:
            lp = lp + log(1.0 + exp(t))
            sig = exp(t) / (1.0 + exp(t))
        for i in range(d):
            g[i] = g[i] + sig * W[i * k + j]
    return lp


cdef class CTarget:
    """A compiled log density: a C function pointer and the parameters it reads."""
    cdef logp_grad_t fn
    cdef builtin_t bp
    cdef const void* params
    cdef readonly Py_ssize_t dim
    cdef readonly str kind
    cdef object _keep

    def __reduce__(self):
        raise TypeError("compiled targets are not picklable; pickle the Python target instead")


_BUILTINS = {"gauss_full", "gauss_diag", "mixture", "double_well", "phi4", "rbm_marginal"}


def make_builtin(str kind, Py_ssize_t dim, const double[::1] a, const Py_ssize_t[::1] nb,
                 Py_ssize_t k, double s0, double s1):
    """A CTarget for built-in ``kind``; ``a`` and ``nb`` are kept alive by it (validated by the caller)."""
    cdef CTarget t = CTarget.__new__(CTarget)
    if kind not in _BUILTINS:
        raise ValueError(f"unknown built-in target {kind!r}")
    if kind == "mixture" and not 1 <= k <= MAX_COMPONENTS:
        raise ValueError(f"a mixture needs 1 to {MAX_COMPONENTS} components, got {k}")
    if kind == "gauss_full":
        t.fn = _gauss_full
    elif kind == "gauss_diag":
        t.fn = _gauss_diag
    elif kind == "mixture":
        t.fn = _mixture
    elif kind == "double_well":
        t.fn = _double_well
    elif kind == "phi4":
        t.fn = _phi4
    else:
        t.fn = _rbm_marginal
    t.bp.a = &a[0] if a.shape[0] else NULL
    t.bp.nb = &nb[0] if nb.shape[0] else NULL
    t.bp.k = k
    t.bp.s0 = s0
    t.bp.s1 = s1
    t.params = &t.bp
    t.dim = dim
    t.kind = kind
    t._keep = (a.base if a.shape[0] else None, nb.base if nb.shape[0] else None, a, nb)
    return t


def make_from_capsule(capsule, Py_ssize_t dim, const double[::1] params):
    """A CTarget from a user's capsule holding a ``logp_grad_t`` (see _target.pxd)."""
    cdef CTarget t = CTarget.__new__(CTarget)
    if not PyCapsule_IsValid(capsule, LOGP_GRAD_CAPSULE):
        raise TypeError("capsule must be a PyCapsule named "
                        f"{(<bytes>LOGP_GRAD_CAPSULE).decode()!r} holding a logp_grad_t")
    t.fn = <logp_grad_t>PyCapsule_GetPointer(capsule, LOGP_GRAD_CAPSULE)
    t.params = <const void*>&params[0] if params.shape[0] else NULL
    t.dim = dim
    t.kind = "cython"
    t._keep = (capsule, params)
    return t


def evaluate(CTarget t,
             const double[:, ::1] x,   # IN  (n, dim) points
             double[::1] lp,           # OUT (n,) log densities
             double[:, ::1] g,         # OUT (n, dim) gradients
             int n_threads):
    cdef Py_ssize_t c
    cdef logp_grad_t fn = t.fn
    cdef const void* params = t.params
    cdef Py_ssize_t d = t.dim
    for c in prange(x.shape[0], schedule="static", num_threads=n_threads, nogil=True):
        lp[c] = fn(params, &x[c, 0], &g[c, 0], d)


cdef inline double _accept_prob(double log_ratio) noexcept nogil:
    # NaN (a non-finite proposal) rejects; +inf - +inf too.
    if log_ratio != log_ratio:
        return 0.0
    if log_ratio >= 0.0:
        return 1.0
    return exp(log_ratio)


cdef void _chain(int alg, logp_grad_t fn, const void* params, Py_ssize_t d,
                 double* x, double* lp, double* g, uint64_t* state, double beta,
                 double step, const double* m, const double* sm, bint unit, Py_ssize_t n_leap,
                 Py_ssize_t n_steps, double* w, double* acc_prob, int64_t* n_acc,
                 Py_ssize_t thin, double* rec_x, double* rec_lp,
                 Py_ssize_t stride) noexcept nogil:
    """n_steps of one algorithm on one chain (x, lp, g updated in place).

    With ``thin`` > 0, every ``thin``-th position and log density is written
    to ``rec_x`` / ``rec_lp`` (successive records ``stride`` chains apart).
    """
    cdef rng_t r
    cdef Py_ssize_t s, i, n_rec = 0
    cdef double noise = sqrt(2.0 * step)
    cdef double drift = step * beta
    cdef double* z = w + 2 * d
    rng_load(&r, state)
    for s in range(n_steps):
        if alg == ULA:
            _draw(&r, z, d)
            if unit:
                for i in range(d):
                    x[i] = x[i] + drift * g[i] + noise * z[i]
            else:
                for i in range(d):
                    x[i] = x[i] + drift * m[i] * g[i] + noise * sm[i] * z[i]
            lp[0] = fn(params, x, g, d)
            acc_prob[0] = acc_prob[0] + 1.0
            n_acc[0] = n_acc[0] + 1
        else:
            _mh_step(alg, fn, params, d, x, lp, g, &r, beta, step, m, sm, unit, n_leap, w,
                     acc_prob, n_acc)
        if rec_lp != NULL and (s + 1) % thin == 0:
            if rec_x != NULL:
                for i in range(d):
                    rec_x[n_rec * stride * d + i] = x[i]
            rec_lp[n_rec * stride] = lp[0]
            n_rec = n_rec + 1
    rng_store(&r, state)


# Speed notes (issue 16), none of which changes a bit:
# - the d normals of a step are drawn first, by a function of its own; the
#   arithmetic then runs in element-wise loops that the compiler vectorises at
#   the baseline ISA (SSE2), sums (MALA's and HMC's kinetic terms) in
#   coordinate order as before;
# - the draw function is called through a pointer so that the compiler does
#   not inline it into the chain loop (there, short of registers, it kept the
#   table addresses and the output pointer on the stack: 48 instructions per
#   draw), and it copies the stream into a local so that the state stays in
#   registers across the rare calls of exp/log1p of the ziggurat's slow path;
#   it keeps no float across iterations (a float live across those calls
#   would live on the stack: a store-to-load chain per draw);
# - with a unit preconditioner (m = 1, the default and any untuned run) the
#   products by m and sqrt(m) and the division by m are left out: they are
#   exact (v * 1.0 == v, v / 1.0 == v), so the bits are those of the general
#   loops.
ctypedef void (*draw_t)(rng_t* r, double* z, Py_ssize_t d) noexcept nogil


cdef void _draw_impl(rng_t* r, double* z, Py_ssize_t d) noexcept nogil:
    cdef rng_t local = r[0]
    rng_normals(&local, z, d)
    r[0] = local


cdef draw_t _draw = _draw_impl


cdef void _mh_step(int alg, logp_grad_t fn, const void* params, Py_ssize_t d,
                   double* x, double* lp, double* g, rng_t* rr, double beta,
                   double step, const double* m, const double* sm, bint unit,
                   Py_ssize_t n_leap, double* w, double* acc_prob,
                   int64_t* n_acc) noexcept nogil:
    """One Metropolis-Hastings step (RWM, MALA or HMC) of one chain."""
    cdef Py_ssize_t i, l
    cdef double* xp = w
    cdef double* gp = w + d
    cdef double* mom = w + 2 * d      # HMC's momentum; the draws of RWM and MALA
    cdef double* z = w + 2 * d
    cdef double lpp, fwd, rev, t, a, k0, k1
    cdef double noise = sqrt(2.0 * step)
    cdef double drift = step * beta          # tempered drift (== step at beta = 1)
    cdef double half = (0.5 * step) * beta   # tempered half kick (== 0.5 step at beta = 1)
    if alg == RWM:
        _draw(rr, z, d)
        if unit:
            for i in range(d):
                xp[i] = x[i] + step * z[i]
        else:
            for i in range(d):
                xp[i] = x[i] + step * sm[i] * z[i]
        lpp = fn(params, xp, gp, d)
        a = _accept_prob(beta * (lpp - lp[0]))
    elif alg == MALA:
        _draw(rr, z, d)
        fwd = 0.0
        if unit:
            for i in range(d):
                fwd = fwd + z[i] * z[i]
                xp[i] = x[i] + drift * g[i] + noise * z[i]
        else:
            for i in range(d):
                fwd = fwd + z[i] * z[i]
                xp[i] = x[i] + drift * m[i] * g[i] + noise * sm[i] * z[i]
        lpp = fn(params, xp, gp, d)
        rev = 0.0
        if unit:
            for i in range(d):
                t = x[i] - xp[i] - drift * gp[i]
                rev = rev + t * t
        else:
            for i in range(d):
                t = x[i] - xp[i] - drift * m[i] * gp[i]
                rev = rev + t * t / m[i]
        a = _accept_prob(beta * (lpp - lp[0]) - rev / (4.0 * step) + 0.5 * fwd)
    else:  # HMC: p ~ N(0, diag(1/m)), kinetic energy sum m p^2 / 2
        _draw(rr, mom, d)
        k0 = 0.0
        for i in range(d):
            k0 = k0 + mom[i] * mom[i]
            xp[i] = x[i]
            gp[i] = g[i]
        if not unit:
            for i in range(d):
                mom[i] = mom[i] / sm[i]
        lpp = lp[0]
        for l in range(n_leap):
            if unit:
                for i in range(d):
                    mom[i] = mom[i] + half * gp[i]
                    xp[i] = xp[i] + step * mom[i]
            else:
                for i in range(d):
                    mom[i] = mom[i] + half * gp[i]
                    xp[i] = xp[i] + step * m[i] * mom[i]
            lpp = fn(params, xp, gp, d)
            for i in range(d):
                mom[i] = mom[i] + half * gp[i]
        k1 = 0.0
        if unit:
            for i in range(d):
                k1 = k1 + mom[i] * mom[i]
        else:
            for i in range(d):
                k1 = k1 + m[i] * mom[i] * mom[i]
        a = _accept_prob((beta * lpp - 0.5 * k1) - (beta * lp[0] - 0.5 * k0))
    acc_prob[0] = acc_prob[0] + a
    if rng_double(rr) < a:
        for i in range(d):
            x[i] = xp[i]
            g[i] = gp[i]
        lp[0] = lpp
        n_acc[0] = n_acc[0] + 1


def run_chains(CTarget t, int algorithm,
               double[:, ::1] x,          # IN/OUT (n_chains, dim) positions
               double[::1] lp,            # IN/OUT (n_chains,) log densities at x
               double[:, ::1] g,          # IN/OUT (n_chains, dim) gradients at x
               uint64_t[:, ::1] states,   # IN/OUT stream states
               const double[::1] beta,    # IN (n_chains,) inverse temperatures (finite T)
               double step,
               const double[::1] inv_mass,   # IN (dim,) diagonal preconditioner m
               Py_ssize_t n_leapfrog,
               Py_ssize_t n_steps,
               double[:, ::1] work,       # scratch (n_chains, 3 dim)
               double[::1] acc_prob,      # IN/OUT (n_chains,) sum of accept probabilities
               int64_t[::1] n_accepted,   # IN/OUT (n_chains,) accepted moves
               Py_ssize_t thin,
               double[:, :, ::1] rec_x,   # OUT (n_steps // thin, n_chains, dim) if thin > 0
               double[:, ::1] rec_lp,     # OUT (n_steps // thin, n_chains) if thin > 0
               int n_threads):
    """Advance every chain ``n_steps`` steps (shapes checked by the caller)."""
    cdef Py_ssize_t c, d = t.dim
    cdef logp_grad_t fn = t.fn
    cdef const void* params = t.params
    cdef double[::1] sm = np.sqrt(np.asarray(inv_mass))
    cdef bint unit = bool((np.asarray(inv_mass) == 1.0).all())
    cdef Py_ssize_t n_chains = x.shape[0]
    cdef double* rx = NULL
    cdef double* rl = NULL
    if thin > 0 and n_steps >= thin:
        rl = &rec_lp[0, 0]
        if rec_x.shape[0] > 0:
            rx = &rec_x[0, 0, 0]
    for c in prange(n_chains, schedule="static", num_threads=n_threads, nogil=True):
        _chain(algorithm, fn, params, d, &x[c, 0], &lp[c], &g[c, 0], &states[c, 0], beta[c],
               step, &inv_mass[0], &sm[0], unit, n_leapfrog, n_steps, &work[c, 0],
               &acc_prob[c], &n_accepted[c], thin,
               (rx + c * d) if rx != NULL else NULL, (rl + c) if rl != NULL else NULL,
               n_chains)
