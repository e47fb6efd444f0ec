"""Kernels: the SR matrix of a plain RBM from pair products (no n x P log-derivative matrix).

The log-derivatives of the RBM are products O_p(s) = s'_alpha(p) t'_beta(p) of
the augmented vectors s' = [1, s] and t' = [1, tanh theta] (a_i: (i + 1, 0);
b_j: (0, j + 1); W_ij: (i + 1, j + 1)). So

    <O_p^* O_q> = R[(alpha_p, alpha_q), (beta_p, beta_q)] / n,
    R[(g, h), (b, d)] = sum_n s'_g s'_h conj(t'_b) t'_d,

is symmetric in (g, h) and Hermitian in (b, d): R needs only the pairs g <= h
and b <= d, and it is one GEMM of the pair-product matrices U (n, K1) and
G (n, K2), K1 = (N + 1)(N + 2)/2, K2 = (M + 1)(M + 2)/2, about a quarter of the
multiply-adds of forming S = O^H O (n P^2 / 2) directly. The means are the
entries with g = 0, b = 0 (<O_p> = R[(0, alpha_p), (0, beta_p)] / n).

- ``_pairs``: U or G, row n = [conj(x'_a) x'_b for a <= b] (pairs in row-major
  order of the upper triangle; x' = [1, x]);
- ``_scatter``: S[p, q] = R_pq / n - conj(m_p) m_q (+ shift on the diagonal)
  for q <= p (the lower triangle, what a lower Cholesky reads), written into
  a Fortran-ordered S;
- ``_force``: F_p = sum_n conj(O_p(s_n)) e_n with e the centred local energies
  over n, samples in order.

Only *, - and + are used and each output is written by one thread: the NumPy
twin (heatbath.reference.nqs: pairs, scatter) gives the same bits.
These kernels do not check their arguments: heatbath.nqs.optimizers does.
"""

from cython.parallel cimport prange
from libc.stdint cimport int8_t

ctypedef fused scalar:
    double
    double complex


cdef inline Py_ssize_t _pair(Py_ssize_t a, Py_ssize_t b, Py_ssize_t K) noexcept nogil:
    """Index of the pair (a, b), a <= b < K, in row-major upper-triangle order."""
    return a * K - (a * (a - 1)) // 2 + (b - a)


def _spin_pairs(const int8_t[:, ::1] s,         # IN (n, N)
                double[:, ::1] out,             # OUT (n, (N + 1)(N + 2)/2)
                int n_threads):
    """out[n] = [s'_a s'_b for a <= b], s' = [1, s] (exact: products of +-1)."""
    cdef Py_ssize_t r, a, b, k, n = s.shape[0], N = s.shape[1]
    cdef const int8_t* x
    cdef double* o
    cdef double xa
    for r in prange(n, schedule="static", num_threads=n_threads, nogil=True):
        x = &s[r, 0]
        o = &out[r, 0]
        o[0] = 1.0
        for b in range(N):
            o[1 + b] = x[b]
        k = N + 1
        for a in range(N):
            xa = x[a]
            for b in range(a, N):
                o[k] = xa * x[b]
                k = k + 1


def _tanh_pairs(const scalar[:, ::1] t,         # IN (n, M)
                scalar[:, ::1] out,             # OUT (n, (M + 1)(M + 2)/2)
                int n_threads):
    """out[n] = [conj(t'_a) t'_b for a <= b], t' = [1, t]."""
    cdef Py_ssize_t r, a, b, k, n = t.shape[0], M = t.shape[1]
    cdef const scalar* x
    cdef scalar* o
    cdef double ar, ai
    for r in prange(n, schedule="static", num_threads=n_threads, nogil=True):
        x = &t[r, 0]
        o = &out[r, 0]
        o[0] = 1.0
        for b in range(M):
            o[1 + b] = x[b]
        k = M + 1
        for a in range(M):
            if scalar is double:
                for b in range(a, M):
                    o[k] = x[a] * x[b]
                    k = k + 1
            else:
                # conj(x_a) x_b = (ar br + ai bi) + (ar bi - ai br) i, written out
                ar = x[a].real
                ai = x[a].imag
                for b in range(a, M):
                    o[k] = (ar * x[b].real + ai * x[b].imag) + \
                        (ar * x[b].imag - ai * x[b].real) * 1j
                    k = k + 1


def _scatter(const scalar[:, ::1] R,            # IN (K1, K2): sums over the samples
             Py_ssize_t N, Py_ssize_t M, double scale, double shift,
             scalar[::1] mean,                  # OUT (P,): <O_p>
             scalar[::1, :] S,                  # OUT (P, P) Fortran order, lower triangle
             int n_threads):
    """S[p, q] = R_pq scale - conj(m_p) m_q (+ shift if p == q), q <= p."""
    cdef Py_ssize_t P = N + M + N * M, K1 = N + 1, K2 = M + 1, C = R.shape[1]
    cdef Py_ssize_t p, q, aq, bq, row, col
    cdef const scalar* r0 = &R[0, 0]
    cdef scalar v, mp, mq
    cdef double vr, vi
    # Look-up tables: (alpha_p, beta_p), and the pair indices of (a, b) in either order.
    cdef Py_ssize_t[::1] al = _alphas(N, M), be = _betas(N, M)
    cdef Py_ssize_t[::1] pi1 = _pair_table(K1), pi2 = _pair_table(K2)
    for p in range(P):
        mean[p] = r0[pi1[al[p]] * C + pi2[be[p]]] * scale
    # Column q of the Fortran-ordered S is contiguous: one column per iteration.
    for q in prange(P, schedule="static", num_threads=n_threads, nogil=True):
        aq = al[q]
        bq = be[q]
        mq = mean[q]
        for p in range(q, P):
            mp = mean[p]
            row = pi1[aq * K1 + al[p]] * C
            col = pi2[bq * K2 + be[p]]
            if scalar is double:
                v = r0[row + col] * scale - mp * mq
            else:
                # R holds conj(t'_b) t'_d for b <= d; S_pq needs conj(t'_bp) t'_bq.
                vr = r0[row + col].real
                vi = r0[row + col].imag if be[p] <= bq else -r0[row + col].imag
                # conj(m_p) m_q = (pr qr + pi qi) + (pr qi - pi qr) i
                v = (vr * scale - (mp.real * mq.real + mp.imag * mq.imag)) + \
                    (vi * scale - (mp.real * mq.imag - mp.imag * mq.real)) * 1j
            if p == q:
                v = v + shift
            S[p, q] = v


def _force(const int8_t[:, ::1] s,              # IN (n, N)
           const scalar[:, ::1] t,              # IN (n, M)
           const scalar[::1] e,                 # IN (n,): (E_loc - <E_loc>) / n
           scalar[::1] out,                     # OUT (N + M + N M,)
           scalar[::1] work):                   # WORK (M,)
    """F_p = sum_n conj(O_p(s_n)) e_n, samples in order (one thread: a fixed sum).

    s_i w is +-w exactly, so F_W += s_i w is the same sum as adding or subtracting w.
    """
    cdef Py_ssize_t r, i, j, n = s.shape[0], N = s.shape[1], M = t.shape[1]
    cdef Py_ssize_t P = N + M + N * M
    cdef scalar* f = &out[0]
    cdef scalar* w = &work[0]
    cdef const scalar* tr
    cdef const int8_t* sr
    cdef scalar er
    cdef double si
    with nogil:
        for i in range(P):
            f[i] = 0
        for r in range(n):
            er = e[r]
            tr = &t[r, 0]
            sr = &s[r, 0]
            for j in range(M):
                if scalar is double:
                    w[j] = tr[j] * er
                else:
                    w[j] = (tr[j].real * er.real + tr[j].imag * er.imag) + \
                        (tr[j].real * er.imag - tr[j].imag * er.real) * 1j
            for i in range(N):
                si = sr[i]
                f[i] = f[i] + si * er
            _axpy_sign(1.0, w, f + N, M)
            for i in range(N):
                _axpy_sign(sr[i], w, f + N + M + i * M, M)


cdef inline void _axpy_sign(double a, const scalar* x, scalar* y, Py_ssize_t m) noexcept nogil:
    """y += a x for a = +-1 (exact products)."""
    cdef Py_ssize_t j
    for j in range(m):
        y[j] = y[j] + a * x[j]


cdef Py_ssize_t[::1] _alphas(Py_ssize_t N, Py_ssize_t M):
    """alpha_p of each parameter p (order a, b, W): O_p = s'_alpha t'_beta."""
    out = _index_array(N + M + N * M)
    cdef Py_ssize_t p
    for p in range(N + M + N * M):
        out[p] = p + 1 if p < N else (0 if p < N + M else (p - N - M) // M + 1)
    return out


cdef Py_ssize_t[::1] _betas(Py_ssize_t N, Py_ssize_t M):
    """beta_p of each parameter p."""
    out = _index_array(N + M + N * M)
    cdef Py_ssize_t p
    for p in range(N + M + N * M):
        out[p] = 0 if p < N else (p - N + 1 if p < N + M else (p - N - M) % M + 1)
    return out


cdef Py_ssize_t[::1] _pair_table(Py_ssize_t K):
    """table[a K + b] = index of the pair (min(a, b), max(a, b)), a, b < K."""
    out = _index_array(K * K)
    cdef Py_ssize_t a, b
    for a in range(K):
        for b in range(K):
            out[a * K + b] = _pair(a, b, K) if a <= b else _pair(b, a, K)
    return out


cdef Py_ssize_t[::1] _index_array(Py_ssize_t n):
    import numpy as np

    return np.empty(n, dtype=np.intp)
