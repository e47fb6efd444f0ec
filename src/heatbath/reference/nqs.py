"""NumPy twins of the NQS kernels (heatbath.nqs._metropolis, heatbath.nqs._sr), bit for bit.

One Python loop per chain, on Python floats or complexes, doing the kernel's
operations in the kernel's order: the look-up tables E_j = exp(2 theta_j)
(rebuilt at each sweep as products of the tables), R_j = 1 / (E_j + 1), the
one- and two-spin ratios, and the local energies. The tables exp(-2W),
exp(2W), exp(-+2a) and exp(2b) come from :func:`tables` (NumPy's exp, as the
sampler computes them). Draws: a bounded integer (Lemire, as the kernels) and
a uniform double per proposal, from numpy's SFC64 on the chain's stream.
"""

import numpy as np

from heatbath.reference.random import bit_generators, states_of
from heatbath.reference.spin import _bounded

__all__ = ["tables", "sample", "measure", "pairs", "scatter", "force"]

TFIM, XXZ = 1, 2


def tables(a, b, W):
    """(X, Y, am, ap, eb) = (exp(-2W), exp(2W), exp(-2a), exp(2a), exp(2b))."""
    return (np.exp(-2.0 * W), np.exp(2.0 * W), np.exp(-2.0 * a), np.exp(2.0 * a),
            np.exp(2.0 * b))


def _recip1(e, cplx):
    if not cplx:
        return 1.0 / (e + 1.0)
    zr = e.real + 1.0
    zi = e.imag
    nrm = zr * zr + zi * zi
    return complex(zr / nrm, -(zi / nrm))


class _Chain:
    def __init__(self, X, Y, am, ap, eb, cplx):
        conv = complex if cplx else float
        self.X = [[conv(v) for v in row] for row in X]
        self.Y = [[conv(v) for v in row] for row in Y]
        self.am = [conv(v) for v in am]
        self.ap = [conv(v) for v in ap]
        self.eb = [conv(v) for v in eb]
        self.cplx = cplx
        self.M = len(self.eb)

    def init(self, s):
        E = list(self.eb)
        for i in range(len(s)):
            f = self.Y[i] if s[i] > 0 else self.X[i]
            E = [E[j] * f[j] for j in range(self.M)]
        self.E = E
        self.R = [_recip1(e, self.cplx) for e in E]

    def ratio1(self, s, i):
        if s[i] > 0:
            x, y, r = self.X[i], self.Y[i], self.am[i]
        else:
            x, y, r = self.Y[i], self.X[i], self.ap[i]
        E, R = self.E, self.R
        for j in range(self.M):
            r = r * ((E[j] * x[j] + y[j]) * R[j])
        return r

    def ratio2(self, s, i, k):
        xi, yi = (self.X[i], self.Y[i]) if s[i] > 0 else (self.Y[i], self.X[i])
        xk, yk = (self.X[k], self.Y[k]) if s[k] > 0 else (self.Y[k], self.X[k])
        r = (self.am[i] if s[i] > 0 else self.ap[i]) * (self.am[k] if s[k] > 0 else self.ap[k])
        E, R = self.E, self.R
        for j in range(self.M):
            r = r * ((E[j] * (xi[j] * xk[j]) + yi[j] * yk[j]) * R[j])
        return r

    def accept(self, s, i, refresh):
        x = self.X[i] if s[i] > 0 else self.Y[i]
        for j in range(self.M):
            self.E[j] = (self.E[j] * x[j]) * x[j]
            if refresh:
                self.R[j] = _recip1(self.E[j], self.cplx)
        s[i] = -s[i]

    def local_energy(self, s, ham, bonds, c_diag, c_off):
        zz = 0
        for i, k in bonds:
            zz += s[i] * s[k]
        off = 0j if self.cplx else 0.0
        if ham == TFIM:
            for i in range(len(s)):
                off = off + self.ratio1(s, i)
        elif ham == XXZ:
            for i, k in bonds:
                if s[i] != s[k]:
                    off = off + self.ratio2(s, i, k)
        return c_diag * float(zz) + c_off * off

    def tanh(self):
        return [(self.E[j] - 1.0) * self.R[j] for j in range(self.M)]


def sample(spins, X, Y, am, ap, eb, states, move, pairs, ham, bonds, c_diag, c_off,
           burn_in, n_sweeps, thin):
    """Twin of ``_metropolis._sample``.

    Returns ``(spins, states, s_out, eloc, tanh, accepted, attempted)`` with
    ``s_out`` (n_chains, n_rec, N), ``eloc`` (n_chains, n_rec) and ``tanh``
    (n_chains, n_rec, M).
    """
    cplx = np.iscomplexobj(X)
    dtype = np.complex128 if cplx else np.float64
    spins = np.array(spins, dtype=np.int8)
    n_chains, N = spins.shape
    M = len(eb)
    n_rec = n_sweeps // thin
    pairs = [tuple(int(v) for v in p) for p in np.asarray(pairs).reshape(-1, 2)]
    bonds = [tuple(int(v) for v in p) for p in np.asarray(bonds).reshape(-1, 2)]
    gens = bit_generators(states)
    s_out = np.zeros((n_chains, n_rec, N), dtype=np.int8)
    eloc = np.zeros((n_chains, n_rec), dtype=dtype)
    tanh = np.zeros((n_chains, n_rec, M), dtype=dtype)
    accepted = np.zeros(n_chains, dtype=np.int64)
    attempted = np.zeros(n_chains, dtype=np.int64)
    for c in range(n_chains):
        ch = _Chain(X, Y, am, ap, eb, cplx)
        s = [int(v) for v in spins[c]]
        bg = gens[c]
        rec = 0
        for sweep in range(burn_in + n_sweeps):
            ch.init(s)
            for _ in range(N):
                if move == 0:
                    i = _bounded(bg, N)
                    attempted[c] += 1
                    u = (int(bg.random_raw()) >> 11) * (1.0 / 9007199254740992.0)
                    q = ch.ratio1(s, i)
                    if u < (q.real * q.real + q.imag * q.imag if cplx else q * q):
                        ch.accept(s, i, True)
                        accepted[c] += 1
                else:
                    i, k = pairs[_bounded(bg, len(pairs))]
                    if s[i] == s[k]:
                        continue
                    attempted[c] += 1
                    u = (int(bg.random_raw()) >> 11) * (1.0 / 9007199254740992.0)
                    q = ch.ratio2(s, i, k)
                    if u < (q.real * q.real + q.imag * q.imag if cplx else q * q):
                        ch.accept(s, i, False)
                        ch.accept(s, k, True)
                        accepted[c] += 1
            if sweep >= burn_in and (sweep - burn_in + 1) % thin == 0:
                s_out[c, rec] = s
                tanh[c, rec] = ch.tanh()
                eloc[c, rec] = ch.local_energy(s, ham, bonds, c_diag, c_off)
                rec += 1
        spins[c] = s
    return spins, states_of(gens), s_out, eloc, tanh, accepted, attempted


def measure(spins, X, Y, am, ap, eb, ham, bonds, c_diag, c_off):
    """Twin of ``_metropolis._measure``: (local energies, tanh theta) of given states."""
    cplx = np.iscomplexobj(X)
    dtype = np.complex128 if cplx else np.float64
    bonds = [tuple(int(v) for v in p) for p in np.asarray(bonds).reshape(-1, 2)]
    spins = np.asarray(spins)
    eloc = np.zeros(len(spins), dtype=dtype)
    tanh = np.zeros((len(spins), len(eb)), dtype=dtype)
    for c, row in enumerate(spins):
        ch = _Chain(X, Y, am, ap, eb, cplx)
        s = [int(v) for v in row]
        ch.init(s)
        eloc[c] = ch.local_energy(s, ham, bonds, c_diag, c_off)
        tanh[c] = ch.tanh()
    return eloc, tanh


def _index(p, N, M):
    """(alpha_p, beta_p) of parameter p (order a, b, W): O_p = s'_alpha t'_beta."""
    if p < N:
        return p + 1, 0
    if p < N + M:
        return 0, p - N + 1
    return (p - N - M) // M + 1, (p - N - M) % M + 1


def _pair(a, b, K):
    return a * K - (a * (a - 1)) // 2 + (b - a)


def pairs(x):
    """Twin of ``_sr._spin_pairs`` / ``_sr._tanh_pairs``: [conj(x'_a) x'_b, a <= b], x' = [1, x].

    int8 spins give float64; complex x gives (ar br + ai bi) + (ar bi - ai br) i.
    """
    x = np.asarray(x)
    n, K = x.shape
    xp = np.concatenate([np.ones((n, 1), dtype=float if x.dtype.kind != "c" else x.dtype),
                         x.astype(float) if x.dtype.kind != "c" else x], axis=1)
    a, b = np.triu_indices(K + 1)
    xa, xb = xp[:, a], xp[:, b]
    if xp.dtype.kind != "c":
        out = xa * xb
    else:
        out = np.empty(xa.shape, dtype=np.complex128)
        out.real = xa.real * xb.real + xa.imag * xb.imag
        out.imag = xa.real * xb.imag - xa.imag * xb.real
    # the kernel writes x' itself for the pairs (0, b) (no product by 1)
    out[:, :K + 1] = xp
    return out


def scatter(R, N, M, scale, shift):
    """Twin of ``_sr._scatter``: (mean (P,), S (P, P)) with S's lower triangle filled
    (S[p, q] = R_pq scale - conj(m_p) m_q, + shift on the diagonal) and zeros above."""
    P, K1, K2 = N + M + N * M, N + 1, M + 1
    cplx = np.iscomplexobj(R)
    ab = [_index(p, N, M) for p in range(P)]
    mean = np.array([R[_pair(0, a, K1), _pair(0, b, K2)] * scale for a, b in ab])
    S = np.zeros((P, P), dtype=R.dtype)
    for q in range(P):
        aq, bq = ab[q]
        mq = mean[q]
        for p in range(q, P):
            ap, bp = ab[p]
            mp = mean[p]
            g, h = min(ap, aq), max(ap, aq)
            if not cplx:
                v = R[_pair(g, h, K1), _pair(min(bp, bq), max(bp, bq), K2)] * scale - mp * mq
            else:
                if bp <= bq:
                    r = R[_pair(g, h, K1), _pair(bp, bq, K2)]
                    vr, vi = r.real, r.imag
                else:
                    r = R[_pair(g, h, K1), _pair(bq, bp, K2)]
                    vr, vi = r.real, -r.imag
                v = complex(vr * scale - (mp.real * mq.real + mp.imag * mq.imag),
                            vi * scale - (mp.real * mq.imag - mp.imag * mq.real))
            if p == q:
                v = v + shift
            S[p, q] = v
    return mean, S


def force(s, t, e):
    """Twin of ``_sr._force``: F = sum_n conj(O(s_n)) e_n, O = [s, t, s (x) t], samples in order."""
    s = np.asarray(s)
    n, N = s.shape
    M = t.shape[1]
    cplx = np.iscomplexobj(t)
    fa = np.zeros(N, dtype=t.dtype)
    fb = np.zeros(M, dtype=t.dtype)
    fw = np.zeros((N, M), dtype=t.dtype)
    for r in range(n):
        er = e[r]
        if cplx:
            w = np.empty(M, dtype=np.complex128)
            w.real = t[r].real * er.real + t[r].imag * er.imag
            w.imag = t[r].real * er.imag - t[r].imag * er.real
        else:
            w = t[r] * er
        fb = fb + w
        sign = s[r] > 0
        fa = np.where(sign, fa + er, fa - er)
        fw = np.where(sign[:, None], fw + w[None, :], fw - w[None, :])
    return np.concatenate([fa, fb, fw.ravel()])
