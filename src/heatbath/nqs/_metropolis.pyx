# distutils: extra_compile_args = -fcx-limited-range
"""Kernels: Metropolis on |psi|^2 for RBM wavefunctions, with the Carleo-Troyer look-up table.

Each chain keeps E_j = exp(2 theta_j) and R_j = 1 / (E_j + 1) for its
current state s (theta_j = b_j + sum_i W_ij s_i). Flipping spin i changes
theta_j by -d_j, d_j = 2 W_ij s_i, and

    cosh(theta_j - d_j) / cosh(theta_j) = (E_j e^{-d_j} + e^{d_j}) R_j,

so with the tables X = exp(-2 W), Y = exp(2 W), exp(-+2 a) and exp(2 b)
(computed once per parameter update, in NumPy) a one-spin ratio psi(s')/psi(s)
is O(M) multiply-adds and no transcendental function; an accepted flip updates
E_j <- E_j e^{-2 d_j} (two products) and R_j. Two-spin ratios (exchange moves,
Heisenberg local energies) multiply the two factors. The same formulas hold
for complex parameters (scalar = double complex). Only +, -, * and / are used,
so the NumPy twin (heatbath.reference.nqs) reproduces the kernel bit for bit.

Moves (each sweep makes N proposals):
- flip (0): i uniform in [0, N) (one bounded draw), then one uniform u;
- exchange (1): a pair (i, k) uniform among ``pairs`` (one bounded draw); if
  s_i == s_k the proposal is the identity and draws nothing more; else one
  uniform u. Both proposals are symmetric: accept if u < |psi(s')/psi(s)|^2.

At each recorded sweep the chain writes its state, tanh(theta_j) = (E_j - 1) R_j
(the log-derivatives of the b's) and its local energy:
- TFIM (1):  E_loc = c_d sum_bonds s_i s_k + c_o sum_i psi(s^i)/psi(s);
- XXZ (2):   E_loc = c_d sum_bonds s_i s_k + c_o sum_{bonds, s_i != s_k} psi(s^{ik})/psi(s).

Built with -fcx-limited-range: complex products skip C99's NaN/inf recovery
(a library call on the slow path and a test on every product); finite results
are the same, ac - bd and ad + bc.

These kernels do not check their arguments: heatbath.nqs.sampler does.
"""

from cython.parallel cimport prange
from libc.stdint cimport int8_t, int32_t, int64_t, uint64_t

from heatbath._random cimport rng_t, rng_load, rng_store, rng_double, rng_bounded

ctypedef fused scalar:
    double
    double complex

cdef enum:
    FLIP = 0
    EXCHANGE = 1
    NO_ENERGY = 0
    TFIM = 1
    XXZ = 2


cdef inline double _abs2(scalar z) noexcept nogil:
    if scalar is double:
        return z * z
    else:
        return z.real * z.real + z.imag * z.imag


cdef inline scalar _recip1(scalar e) noexcept nogil:
    """1 / (e + 1); for complex, conj(z) / |z|^2 written out (the twin does the same)."""
    cdef double zr, zi, nrm
    if scalar is double:
        return 1.0 / (e + 1.0)
    else:
        zr = e.real + 1.0
        zi = e.imag
        nrm = zr * zr + zi * zi
        return zr / nrm + (-(zi / nrm)) * 1j


cdef inline void _init_tables(const int8_t* s, const scalar* X, const scalar* Y,
                              const scalar* eb, scalar* E, scalar* R,
                              Py_ssize_t N, Py_ssize_t M) noexcept nogil:
    """E_j = exp(2 b_j) prod_i exp(2 W_ij s_i), i increasing; R_j = 1 / (E_j + 1)."""
    cdef Py_ssize_t i, j
    cdef const scalar* f
    for j in range(M):
        E[j] = eb[j]
    for i in range(N):
        f = (Y if s[i] > 0 else X) + i * M
        for j in range(M):
            E[j] = E[j] * f[j]
    for j in range(M):
        R[j] = _recip1(E[j])


cdef inline scalar _ratio1(const int8_t* s, Py_ssize_t i, const scalar* X, const scalar* Y,
                           const scalar* am, const scalar* ap, const scalar* E,
                           const scalar* R, Py_ssize_t M) noexcept nogil:
    """psi(s with spin i flipped) / psi(s)."""
    cdef Py_ssize_t j
    cdef const scalar* x
    cdef const scalar* y
    cdef scalar r
    if s[i] > 0:
        x = X + i * M
        y = Y + i * M
        r = am[i]
    else:
        x = Y + i * M
        y = X + i * M
        r = ap[i]
    for j in range(M):
        r = r * ((E[j] * x[j] + y[j]) * R[j])
    return r


cdef inline scalar _ratio2(const int8_t* s, Py_ssize_t i, Py_ssize_t k, const scalar* X,
                           const scalar* Y, const scalar* am, const scalar* ap,
                           const scalar* E, const scalar* R, Py_ssize_t M) noexcept nogil:
    """psi(s with spins i and k flipped) / psi(s), i != k."""
    cdef Py_ssize_t j
    cdef const scalar* xi = (X if s[i] > 0 else Y) + i * M
    cdef const scalar* yi = (Y if s[i] > 0 else X) + i * M
    cdef const scalar* xk = (X if s[k] > 0 else Y) + k * M
    cdef const scalar* yk = (Y if s[k] > 0 else X) + k * M
    cdef scalar r = (am[i] if s[i] > 0 else ap[i]) * (am[k] if s[k] > 0 else ap[k])
    for j in range(M):
        r = r * ((E[j] * (xi[j] * xk[j]) + yi[j] * yk[j]) * R[j])
    return r


cdef inline void _accept(int8_t* s, Py_ssize_t i, const scalar* X, const scalar* Y,
                         scalar* E, scalar* R, Py_ssize_t M, bint refresh) noexcept nogil:
    """Flip spin i and update E (and R if ``refresh``)."""
    cdef Py_ssize_t j
    cdef const scalar* x = (X if s[i] > 0 else Y) + i * M
    for j in range(M):
        E[j] = (E[j] * x[j]) * x[j]
        if refresh:
            R[j] = _recip1(E[j])
    s[i] = -s[i]


cdef inline scalar _local_energy(const int8_t* s, const scalar* X, const scalar* Y,
                                 const scalar* am, const scalar* ap, const scalar* E,
                                 const scalar* R, Py_ssize_t N, Py_ssize_t M, int ham,
                                 const int32_t* bonds, Py_ssize_t n_bonds, double c_diag,
                                 double c_off) noexcept nogil:
    cdef Py_ssize_t b, i, k
    cdef int64_t zz = 0
    cdef scalar off = 0
    for b in range(n_bonds):
        zz += s[bonds[2 * b]] * s[bonds[2 * b + 1]]
    if ham == TFIM:
        for i in range(N):
            off = off + _ratio1(s, i, X, Y, am, ap, E, R, M)
    elif ham == XXZ:
        for b in range(n_bonds):
            i = bonds[2 * b]
            k = bonds[2 * b + 1]
            if s[i] != s[k]:
                off = off + _ratio2(s, i, k, X, Y, am, ap, E, R, M)
    return c_diag * <double>zz + c_off * off


cdef void _record(const int8_t* s, const scalar* X, const scalar* Y, const scalar* am,
                  const scalar* ap, const scalar* E, const scalar* R, Py_ssize_t N,
                  Py_ssize_t M, int ham, const int32_t* bonds, Py_ssize_t n_bonds,
                  double c_diag, double c_off, int8_t* s_out, scalar* eloc_out,
                  scalar* tanh_out) noexcept nogil:
    cdef Py_ssize_t i, j
    for i in range(N):
        s_out[i] = s[i]
    for j in range(M):
        tanh_out[j] = (E[j] - 1.0) * R[j]
    eloc_out[0] = _local_energy(s, X, Y, am, ap, E, R, N, M, ham, bonds, n_bonds,
                                c_diag, c_off)


cdef void _chain(int8_t* s, const scalar* X, const scalar* Y, const scalar* am,
                 const scalar* ap, const scalar* eb, scalar* E, scalar* R, uint64_t* state,
                 Py_ssize_t N, Py_ssize_t M, int move, const int32_t* pairs, Py_ssize_t n_pairs,
                 int ham, const int32_t* bonds, Py_ssize_t n_bonds, double c_diag, double c_off,
                 Py_ssize_t burn_in, Py_ssize_t n_sweeps, Py_ssize_t thin,
                 int8_t* s_out, scalar* eloc_out, scalar* tanh_out,
                 int64_t* accepted, int64_t* attempted) noexcept nogil:
    cdef rng_t r
    cdef Py_ssize_t sweep, t, i, k, p, rec = 0
    cdef int64_t acc = 0, att = 0
    cdef double u
    cdef scalar q
    rng_load(&r, state)
    for sweep in range(burn_in + n_sweeps):
        # Fresh tables at each sweep (O(N M), about one sweep of proposals): the
        # products never drift, and a run split into pieces gives the same bits.
        _init_tables(s, X, Y, eb, E, R, N, M)
        for t in range(N):
            if move == FLIP:
                i = rng_bounded(&r, <int>N)
                att += 1
                u = rng_double(&r)
                q = _ratio1(s, i, X, Y, am, ap, E, R, M)
                if u < _abs2(q):
                    _accept(s, i, X, Y, E, R, M, True)
                    acc += 1
            else:
                p = rng_bounded(&r, <int>n_pairs)
                i = pairs[2 * p]
                k = pairs[2 * p + 1]
                if s[i] == s[k]:
                    continue
                att += 1
                u = rng_double(&r)
                q = _ratio2(s, i, k, X, Y, am, ap, E, R, M)
                if u < _abs2(q):
                    _accept(s, i, X, Y, E, R, M, False)
                    _accept(s, k, X, Y, E, R, M, True)
                    acc += 1
        if sweep >= burn_in and (sweep - burn_in + 1) % thin == 0:
            _record(s, X, Y, am, ap, E, R, N, M, ham, bonds, n_bonds, c_diag, c_off,
                    s_out + rec * N, eloc_out + rec, tanh_out + rec * M)
            rec += 1
    accepted[0] = acc
    attempted[0] = att
    rng_store(&r, state)


def _sample(int8_t[:, ::1] spins,             # IN/OUT (n_chains, N)
            const scalar[:, ::1] X,           # IN (N, M) exp(-2 W)
            const scalar[:, ::1] Y,           # IN (N, M) exp(2 W)
            const scalar[::1] am,             # IN (N,) exp(-2 a)
            const scalar[::1] ap,             # IN (N,) exp(2 a)
            const scalar[::1] eb,             # IN (M,) exp(2 b)
            scalar[:, ::1] work,              # WORK (n_chains, 2 M)
            uint64_t[:, ::1] states,          # IN/OUT (n_chains, 4)
            int move, const int32_t[:, ::1] pairs,    # IN (n_pairs, 2)
            int ham, const int32_t[:, ::1] bonds,     # IN (n_bonds, 2)
            double c_diag, double c_off,
            Py_ssize_t burn_in, Py_ssize_t n_sweeps, Py_ssize_t thin,
            int8_t[:, :, ::1] s_out,          # OUT (n_chains, n_rec, N)
            scalar[:, ::1] eloc_out,          # OUT (n_chains, n_rec)
            scalar[:, :, ::1] tanh_out,       # OUT (n_chains, n_rec, M)
            int64_t[::1] accepted,            # OUT (n_chains,)
            int64_t[::1] attempted,           # OUT (n_chains,)
            int n_threads):
    cdef Py_ssize_t c, n_chains = spins.shape[0], N = spins.shape[1], M = X.shape[1]
    cdef Py_ssize_t n_rec = eloc_out.shape[1]
    cdef Py_ssize_t n_pairs = pairs.shape[0], n_bonds = bonds.shape[0]
    # Pointers to a dummy when there is nothing to record or no pairs/bonds.
    cdef int8_t sdummy = 0
    cdef scalar edummy = 0
    cdef int32_t idummy[2]
    cdef int8_t* s0 = &s_out[0, 0, 0] if n_rec > 0 else &sdummy
    cdef scalar* e0 = &eloc_out[0, 0] if n_rec > 0 else &edummy
    cdef scalar* t0 = &tanh_out[0, 0, 0] if n_rec > 0 else &edummy
    cdef const int32_t* p0 = &pairs[0, 0] if n_pairs > 0 else idummy
    cdef const int32_t* b0 = &bonds[0, 0] if n_bonds > 0 else idummy
    for c in prange(n_chains, schedule="static", num_threads=n_threads, nogil=True):
        _chain(&spins[c, 0], &X[0, 0], &Y[0, 0], &am[0], &ap[0], &eb[0],
               &work[c, 0], &work[c, M], &states[c, 0], N, M, move, p0, n_pairs,
               ham, b0, n_bonds, c_diag, c_off, burn_in, n_sweeps, thin,
               s0 + c * n_rec * N, e0 + c * n_rec, t0 + c * n_rec * M,
               &accepted[c], &attempted[c])


def _measure(const int8_t[:, ::1] spins,      # IN (n, N)
             const scalar[:, ::1] X, const scalar[:, ::1] Y,
             const scalar[::1] am, const scalar[::1] ap, const scalar[::1] eb,
             scalar[:, ::1] work,             # WORK (n, 2 M)
             int ham, const int32_t[:, ::1] bonds, double c_diag, double c_off,
             scalar[::1] eloc_out,            # OUT (n,)
             scalar[:, ::1] tanh_out,         # OUT (n, M)
             int n_threads):
    """Local energies and tanh(theta) of given states (no moves)."""
    cdef Py_ssize_t c, N = spins.shape[1], M = X.shape[1], n_bonds = bonds.shape[0]
    cdef int32_t idummy[2]
    cdef const int32_t* b0 = &bonds[0, 0] if n_bonds > 0 else idummy
    cdef int8_t* scratch
    for c in prange(spins.shape[0], schedule="static", num_threads=n_threads, nogil=True):
        _init_tables(&spins[c, 0], &X[0, 0], &Y[0, 0], &eb[0], &work[c, 0], &work[c, M], N, M)
        eloc_out[c] = _local_energy(&spins[c, 0], &X[0, 0], &Y[0, 0], &am[0], &ap[0],
                                    &work[c, 0], &work[c, M], N, M, ham, b0, n_bonds,
                                    c_diag, c_off)
        _tanh(&work[c, 0], &work[c, M], &tanh_out[c, 0], M)


cdef inline void _tanh(const scalar* E, const scalar* R, scalar* out, Py_ssize_t M) noexcept nogil:
    cdef Py_ssize_t j
    for j in range(M):
        out[j] = (E[j] - 1.0) * R[j]
