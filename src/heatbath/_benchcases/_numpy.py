"""The fastest plain NumPy we could write for each benchmarked kernel: what a user would write.

These are the bench's own references (the claim ratios are against them, or against a
peer library where one is installed). They are not the bit-exact twins of
:mod:`heatbath.reference`: a twin follows a kernel's draw order and is the oracle for
tests; these only do the same work as fast as NumPy allows. Each reuses its buffers
(no allocation per step) and draws from one ``numpy.random.Generator``.
"""

import numpy as np

__all__ = ["IsingCheckerboard", "block_gibbs", "CDk", "markov_simulate"]


class IsingCheckerboard:
    """Checkerboard Metropolis on periodic L x L lattices (J = 1, h = 0), int8 spins.

    The lattice is kept as four quarter lattices (even/odd rows x even/odd columns), so a
    half-sweep touches only the L*L/2 sites it updates. Neighbour sums are written into
    preallocated buffers with shifted slices (no ``np.roll`` copies); the acceptance
    threshold is a 9-entry uint32 table indexed by s * (sum of neighbours) + 4, compared
    with raw 32-bit draws (half the bits of one 64-bit draw each).
    ``spins`` has shape (L, L) or (C, L, L) with L even; one :meth:`sweep` is L*L
    attempted flips per lattice.
    """

    def __init__(self, spins, temperature, rng):
        S = np.asarray(spins, dtype=np.int8)
        # Accept a flip when a raw uint32 draw u satisfies u <= table[s * nb + 4], i.e.
        # with probability (table + 1) / 2**32 = min(1, exp(-2 s nb / T)) to within 2**-32
        # (finer than a float32 uniform).
        x = np.arange(-4, 5)
        p = np.minimum(1.0, np.exp(-2.0 * x / temperature))
        self.table = np.maximum(np.floor(p * 2.0**32) - 1, 0).astype(np.uint32)
        self.bitgen = rng.bit_generator
        self.q = [np.ascontiguousarray(S[..., r::2, c::2]) for r in (0, 1) for c in (0, 1)]
        shape = self.q[0].shape
        self.nb = np.empty(shape, np.int8)   # sums, then s * sum + 4 in 0..8
        self.flip = np.empty(shape, np.bool_)

    def _shift_add(self, X, axis, step):
        """self.nb += X shifted periodically by ``step`` (+1 or -1) along ``axis`` (-1 or -2)."""
        nb = self.nb
        if axis == -2:
            if step == 1:     # nb[i] += X[i - 1]
                nb[..., 1:, :] += X[..., :-1, :]
                nb[..., :1, :] += X[..., -1:, :]
            else:             # nb[i] += X[i + 1]
                nb[..., :-1, :] += X[..., 1:, :]
                nb[..., -1:, :] += X[..., :1, :]
        else:
            if step == 1:
                nb[..., 1:] += X[..., :-1]
                nb[..., :1] += X[..., -1:]
            else:
                nb[..., :-1] += X[..., 1:]
                nb[..., -1:] += X[..., :1]

    def _update(self, X, V, H, v_step, h_step):
        """Metropolis on quarter X; its vertical neighbours are V (same and shifted rows),
        its horizontal ones H (same and shifted columns)."""
        nb = self.nb
        np.add(V, H, out=nb)
        self._shift_add(V, -2, v_step)
        self._shift_add(H, -1, h_step)
        np.multiply(nb, X, out=nb)
        nb += 4
        u = self.bitgen.random_raw((X.size + 1) // 2).view(np.uint32)[:X.size]
        np.less_equal(u.reshape(X.shape), np.take(self.table, nb), out=self.flip)
        X *= 1 - 2 * self.flip.view(np.int8)

    def sweep(self):
        A, B, C, D = self.q   # A (even, even), B (even, odd), C (odd, even), D (odd, odd)
        self._update(A, C, B, 1, 1)      # black sites: A, D
        self._update(D, B, C, -1, -1)
        self._update(B, D, A, 1, -1)     # white sites: B, C
        self._update(C, A, D, -1, 1)

    def full(self):
        A = self.q[0]
        S = np.empty(A.shape[:-2] + (2 * A.shape[-2], 2 * A.shape[-1]), np.int8)
        for k, (r, c) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
            S[..., r::2, c::2] = self.q[k]
        return S


def _sigmoid_(x):
    """x <- 1 / (1 + exp(-x)), in place."""
    np.negative(x, out=x)
    np.exp(x, out=x)
    x += 1
    np.reciprocal(x, out=x)
    return x


def _bernoulli(p, u, out, rng):
    """out <- (uniform < p) as p's dtype, with the buffer u for the uniforms."""
    rng.random(out=u, dtype=u.dtype)
    np.less(u, p, out=out, casting="unsafe")
    return out


class CDk:
    """CD-k (or PCD-k) training of a Bernoulli RBM with plain NumPy: buffers reused, one
    ``Generator``, threaded BLAS as NumPy gives it.

    One :meth:`step` on a minibatch ``v0`` (B x nv): h0 = sigm(v0 W + c); k block-Gibbs
    steps; dW = (v0^T h0 - v^T hk) lr / B, written as one product [v0; v]^T [h0; -hk]
    (one GEMM with 2B terms instead of two and a subtraction); plain SGD.
    """

    def __init__(self, W, b, c, batch, k=1, persistent=False, lr=0.1, seed=0):
        self.W, self.b, self.c = W, b, c
        self.k, self.lr, self.persistent = k, lr, persistent
        self.rng = np.random.default_rng(seed)
        nv, nh = W.shape
        dt = W.dtype
        self.VV = np.empty((2 * batch, nv), dt)      # [v0; vk]
        self.HH = np.empty((2 * batch, nh), dt)      # [h0; -hk]
        self.h = np.empty((batch, nh), dt)
        self.pv = np.empty((batch, nv), dt)
        self.uv = np.empty((batch, nv), dt)
        self.uh = np.empty((batch, nh), dt)
        self.dW = np.empty_like(W)
        self.chain = None
        if persistent:
            self.chain = (self.rng.random((batch, nh), dtype=dt) < 0.5).astype(dt)

    def step(self, v0):
        W, rng, B = self.W, self.rng, v0.shape[0]
        VV, HH = self.VV[: 2 * B], self.HH[: 2 * B]
        VV[:B] = v0
        h0, hk, v = HH[:B], HH[B:], VV[B:]
        np.matmul(v0, W, out=h0)
        h0 += self.c
        _sigmoid_(h0)
        h = self.h[:B]
        if self.persistent:
            h[...] = self.chain
        else:
            _bernoulli(h0, self.uh[:B], h, rng)
        for i in range(self.k):
            pv = np.matmul(h, W.T, out=self.pv[:B])
            pv += self.b
            _bernoulli(_sigmoid_(pv), self.uv[:B], v, rng)
            np.matmul(v, W, out=hk)
            hk += self.c
            _sigmoid_(hk)
            if i < self.k - 1 or self.persistent:
                _bernoulli(hk, self.uh[:B], h, rng)
        if self.persistent:
            self.chain[...] = h
        s = self.lr / B
        self.b += s * (v0.sum(0) - v.sum(0))
        self.c += s * (h0.sum(0) - hk.sum(0))
        np.negative(hk, out=hk)
        np.matmul(VV.T, HH, out=self.dW)
        self.dW *= s
        W += self.dW

    def epoch(self, X, batch):
        for i in range(0, X.shape[0], batch):
            self.step(X[i:i + batch])


def block_gibbs(W, b, c, V, rng, H=None):
    """One block-Gibbs step h | v, v | h for all chains (rows of V), in place on V."""
    dt = W.dtype
    ph = _sigmoid_(np.matmul(V, W) + c)
    H = (rng.random(ph.shape, dtype=dt) < ph).astype(dt)
    pv = _sigmoid_(np.matmul(H, W.T) + b)
    np.less(rng.random(pv.shape, dtype=dt), pv, out=V, casting="unsafe")
    return V


def markov_simulate(cdf, x, n_steps, rng):
    """n_steps of independent chains on a finite state space, in place on x (int64).

    ``cdf`` holds each row's cumulative transition probabilities; one step draws one
    uniform per chain and counts the row entries below it (inverse CDF, vectorised).
    """
    n = x.shape[0]
    u = np.empty(n)
    for _ in range(n_steps):
        rng.random(out=u)
        x[...] = (cdf[x] < u[:, None]).sum(axis=1)
    return x
