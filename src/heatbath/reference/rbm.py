"""NumPy twins of the RBM kernels: one Gibbs layer, and one CD-k / PCD-k update.

Random numbers come from numpy's SFC64 on the same per-chain stream states
as the kernels, converted the same way (float64: top 53 bits; float32: top
24), so the twins reproduce the kernels. Every logistic probability
(bernoulli, spin, binomial layers, and the fused small-model epoch) comes
from the library's one sigmoid (heatbath/rbm/_sigmoid.h), which
:func:`fused_sigmoid` reproduces operation for operation. So at temperature
1 :func:`sample_layer` gives the layer kernel's bits exactly; at other
temperatures the twin scales in float64 where the kernel scales in the
layer's dtype, which may move p by its last bit and changes a sample only
if a uniform falls within that bit of p (probability ~1e-16 per draw).
:func:`fused_epoch` reproduces the fused epoch kernel bit for bit.
"""

import numpy as np

import math

from heatbath.rbm.units import BERNOULLI, BINOMIAL, GAUSSIAN, POISSON, SOFTMAX, SPIN  # noqa: F401
from heatbath.reference.random import bit_generators, poisson, states_of

__all__ = ["sample_layer", "layer_means", "cd_update", "ais_log_weights", "exact_log_partition",
           "fused_sigmoid", "fused_epoch", "fused_reconstruction"]



def _uniforms(gens, n, single):
    raw = np.stack([bg.random_raw(n) for bg in gens]).astype(np.uint64)
    if single:
        return (raw >> np.uint64(40)).astype(np.float32) * np.float32(2.0**-24)
    return (raw >> np.uint64(11)).astype(np.float64) * 2.0**-53


def layer_means(x, kind, param, beta):
    """Conditional means of one layer from pre-activations x (rows: chains)."""
    x = np.asarray(x)
    bx = (beta[:, None] * x).astype(x.dtype)
    if kind == BERNOULLI:
        return fused_sigmoid(bx)
    if kind == BINOMIAL:
        return param * fused_sigmoid(bx)
    if kind == SPIN:
        return 2 * fused_sigmoid((2.0 * beta[:, None] * x).astype(x.dtype)) - 1
    if kind == SOFTMAX:
        g = bx.reshape(x.shape[0], -1, param)
        e = np.exp(g - g.max(axis=2, keepdims=True))
        return (e / e.sum(axis=2, keepdims=True)).reshape(x.shape)
    if kind == POISSON:
        # the rate exp(beta x), in double with libm's exp (math.exp), as the kernel
        rates = [[_exp(float(bt) * float(xi)) for xi in row] for bt, row in zip(beta, x)]
        return np.array(rates, dtype=np.float64).reshape(x.shape).astype(x.dtype)
    return x.copy()


def _exp(t):
    try:
        return math.exp(t)
    except OverflowError:
        return math.inf


def sample_layer(x, kind, param, beta, states):
    """Means and samples of one layer; returns (means, samples, new_states)."""
    x = np.asarray(x)
    single = x.dtype == np.float32
    n_chains, n = x.shape
    gens = bit_generators(states)
    means = layer_means(x, kind, param, beta)
    if kind in (BERNOULLI, SPIN):
        u = _uniforms(gens, n, single)
        # spin: compare against p(+1) = sigmoid(2 beta x) itself, as the kernel does
        p = means if kind == BERNOULLI else \
            fused_sigmoid((2.0 * beta[:, None] * x).astype(x.dtype))
        out = np.where(u < p, 1, 0 if kind == BERNOULLI else -1).astype(x.dtype)
    elif kind == BINOMIAL:
        u = _uniforms(gens, n * param, single).reshape(n_chains, n, param)
        p = fused_sigmoid((beta[:, None] * x).astype(x.dtype))
        out = (u < p[:, :, None]).sum(axis=2).astype(x.dtype)
    elif kind == POISSON:
        # drawn from the rates as stored in the layer's dtype
        counts, st = poisson(states, means)
        return means, counts.astype(x.dtype), st
    elif kind == GAUSSIAN:
        pairs = (n + 1) // 2
        u = _uniforms(gens, 2 * pairs, False).reshape(n_chains, pairs, 2)
        # the kernel's order of operations: x + (sd * rad) * cos(2 pi u2)
        sd_rad = (1.0 / np.sqrt(beta))[:, None] * np.sqrt(-2.0 * np.log(1.0 - u[:, :, 0]))
        z = np.stack([sd_rad * np.cos(2.0 * np.pi * u[:, :, 1]),
                      sd_rad * np.sin(2.0 * np.pi * u[:, :, 1])], axis=2)
        out = (x + z.reshape(n_chains, -1)[:, :n]).astype(x.dtype)
    else:  # softmax: one draw per group, against the unnormalised weights
        groups = n // param
        u = _uniforms(gens, groups, single)
        g = (beta[:, None] * x).astype(x.dtype).reshape(n_chains, groups, param)
        e = np.exp(g - g.max(axis=2, keepdims=True))
        cum = np.cumsum(e, axis=2)
        target = u[:, :, None] * e.sum(axis=2, keepdims=True)
        pick = np.minimum((cum <= target).sum(axis=2), param - 1)
        out = np.zeros((n_chains, groups, param), dtype=x.dtype)
        np.put_along_axis(out, pick[:, :, None], 1, axis=2)
        out = out.reshape(n_chains, n)
    return means, out, states_of(gens)


def cd_update(W, a, b, visible, hidden, V0, k, streams, velocity, lr, momentum=0.0,
              weight_decay=0.0, persistent=None):
    """One CD-k (``persistent=None``) or PCD-k update, in NumPy.

    ``visible``/``hidden`` are (kind, param) pairs; ``streams`` the per-row
    stream states of the minibatch (CD); ``persistent`` a dict with ``v``
    and ``streams`` of the persistent chains (PCD, beta = 1). Returns
    ``(W, a, b, velocity, streams, persistent)`` after the update.
    """
    W, a, b = W.copy(), a.copy(), b.copy()
    velocity = [v.copy() for v in velocity]
    B = V0.shape[0]
    ones = np.ones(B)

    def up(V, st):
        x = b + V @ W
        return sample_layer(x, *hidden, np.ones(V.shape[0]), st)

    def down(H, st):
        x = a + H @ W.T
        return sample_layer(x, *visible, np.ones(H.shape[0]), st)

    if persistent is None:
        st = streams[:B].copy()
        H0, Hs, st = up(V0, st)
        _, Vn, st = down(Hs, st)
        for _ in range(k - 1):
            _, Hs, st = up(Vn, st)
            _, Vn, st = down(Hs, st)
        streams = np.vstack([st, streams[B:]])
    else:
        H0 = layer_means(b + V0 @ W, *hidden, ones)
        Vn, st = persistent["v"].copy(), persistent["streams"].copy()
        for _ in range(k):
            _, Hs, st = up(Vn, st)
            _, Vn, st = down(Hs, st)
        persistent = {"v": Vn, "streams": st}
    Hn = layer_means(b + Vn @ W, *hidden, np.ones(Vn.shape[0]))
    gW = V0.T @ H0 / B - Vn.T @ Hn / Vn.shape[0]
    ga = V0.mean(axis=0) - Vn.mean(axis=0)
    gb = H0.mean(axis=0) - Hn.mean(axis=0)
    vW, va, vb = velocity
    vW = momentum * vW + lr * (gW - weight_decay * W)
    va = momentum * va + lr * ga
    vb = momentum * vb + lr * gb
    return W + vW, a + va, b + vb, [vW, va, vb], streams, persistent


def _log_partition(kind, param, c, bias):
    """Sum over units of the unit log-partition A(c; bias), per row."""
    x = bias + c
    if kind == BERNOULLI:
        return np.logaddexp(0.0, x).sum(axis=1)
    if kind == SPIN:
        return np.logaddexp(x, -x).sum(axis=1)
    if kind == BINOMIAL:
        return param * np.logaddexp(0.0, x).sum(axis=1)
    if kind == SOFTMAX:
        g = x.reshape(x.shape[0], -1, param)
        m = g.max(axis=2, keepdims=True)
        return (np.log(np.exp(g - m).sum(axis=2)) + m[:, :, 0]).sum(axis=1)
    if kind == POISSON:   # log sum_v e^(x v) / v! = e^x
        return np.exp(x).sum(axis=1)
    return (bias * c + 0.5 * c * c + 0.5 * np.log(2 * np.pi)).sum(axis=1)


def ais_log_weights(W, a, b, visible, hidden, a0, betas, streams):
    """Forward AIS log weights, in NumPy: the twin of :func:`heatbath.rbm.estimators.ais`.

    Path: RBM(beta W, (1 - beta) a0 + beta a, beta b) for beta in ``betas``;
    v_0 is drawn from the independent units with biases ``a0``; each step
    adds log f_k(v) - log f_(k-1)(v) and then makes one block-Gibbs step at
    beta_k (none after the last). One stream per run, as in the kernel.
    """
    n = streams.shape[0]
    ones = np.ones(n)
    st = streams.copy()
    _, v, st = sample_layer(np.tile(a0, (n, 1)).astype(W.dtype), *visible, ones, st)

    def log_f(beta, v):
        m = a0 + beta * (a - a0)
        out = v @ m - (0.5 * m @ m if visible[0] == GAUSSIAN else 0.0)
        return out + _log_partition(*hidden, beta * (v @ W), beta * b)

    log_w = np.zeros(n)
    for k in range(1, len(betas)):
        log_w += log_f(betas[k], v) - log_f(betas[k - 1], v)
        if k < len(betas) - 1:
            beta = betas[k]
            _, h, st = sample_layer((beta * (b + v @ W)).astype(W.dtype), *hidden, ones, st)
            x = (h @ W.T) * W.dtype.type(beta) + (a0 + beta * (a - a0)).astype(W.dtype)
            _, v, st = sample_layer(x, *visible, ones, st)
    return log_w


def fused_sigmoid(x):
    """The library's one sigmoid (heatbath/rbm/_sigmoid.h), operation for operation.

    The fused epoch kernel (heatbath.rbm._cd) and the logistic layer pass of
    the general path (heatbath.rbm._gibbs) both call it, on float32 or float64.

    exp(t) = 2^m (q + p) / (q - p) after Cody-Waite reduction (Cephes exp,
    expf for float32); 2^m is added to the exponent bits.
    """
    x = np.asarray(x)
    if x.dtype == np.float32:
        f = np.float32
        t = np.minimum(np.maximum(-x, f(-87.0)), f(87.0))
        k = t * f(1.44269504088896341) + f(12582912.0)
        m = k - f(12582912.0)
        r = (t - m * f(0.693359375)) - m * f(-2.12194440e-4)
        rr = r * r
        e = (((((f(1.9875691500e-4) * r + f(1.3981999507e-3)) * r + f(8.3334519073e-3)) * r
               + f(4.1665795894e-2)) * r + f(1.6666665459e-1)) * r + f(5.0000001201e-1)) * rr
        e = e + r + f(1.0)
        e = (e.view(np.uint32) + (k.view(np.uint32) << np.uint32(23))).view(np.float32)
        return f(1.0) / (f(1.0) + e)
    t = np.minimum(np.maximum(-x, -700.0), 700.0)
    k = t * 1.4426950408889634 + 6755399441055744.0
    m = k - 6755399441055744.0
    r = (t - m * 0.693145751953125) - m * 1.42860682030941723212e-6
    rr = r * r
    p = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr + 1.0)
    q = ((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr
         + 2.27265548208155028766e-1) * rr + 2.0
    num, e = q - p, q + p
    e = (e.view(np.uint64) + (k.view(np.uint64) << np.uint64(52))).view(np.float64)
    return num / (num + e)


def _row_sum(bias, W, x):
    """bias + the rows of W that x selects, added one at a time in order."""
    out = bias.copy()
    for i in np.flatnonzero(x):
        out += W[i] if x[i] == 1 else x[i] * W[i]
    return out


def fused_epoch(W, a, b, velocity, X, order, batch_size, k, lr, momentum, weight_decay,
                streams, chains=None):
    """One epoch of heatbath.rbm._cd._bernoulli_epoch, bit for bit (slow).

    ``streams``: CD, one state per minibatch row; PCD (``chains`` given), one
    per chain. Returns ``(W, a, b, velocity, streams, chains)``.
    """
    dt = W.dtype.type
    single = W.dtype == np.float32
    W, a, b = W.copy(), a.copy(), b.copy()
    vW, va, vb = (v.copy() for v in velocity)
    streams = streams.copy()
    chains = None if chains is None else chains.copy()
    n, nv = X.shape
    for start in range(0, n, batch_size):
        rows = X[order[start:start + batch_size]]
        B = rows.shape[0]
        H0 = np.array([fused_sigmoid(_row_sum(b, W, x)) for x in rows])
        V = chains if chains is not None else np.empty((B, nv), W.dtype)
        for r in range(V.shape[0]):
            gen = bit_generators(streams[r:r + 1])
            v = V[r] if chains is not None else None
            for step in range(k):
                if step == 0 and chains is None:
                    ph = H0[r]
                else:
                    ph = fused_sigmoid(_row_sum(b, W, v))
                h = (_uniforms(gen, ph.size, single)[0] < ph).astype(W.dtype)
                pv = fused_sigmoid(_row_sum(a, W.T, h))
                v = (_uniforms(gen, nv, single)[0] < pv).astype(W.dtype)
            V[r] = v
            streams[r] = states_of(gen)[0]
        Bn = V.shape[0]
        Hn = np.array([fused_sigmoid(_row_sum(b, W, v)) for v in V])
        c_pos, c_neg = dt(lr / B), dt(-lr / Bn)
        H0 = H0 * c_pos
        Hn = Hn * c_neg
        vW = dt(momentum) * vW - dt(lr * weight_decay) * W
        va = dt(momentum) * va - dt(0) * a
        vb = dt(momentum) * vb - dt(0) * b
        for x, h in zip(rows, H0):
            for i in np.flatnonzero(x):
                vW[i] += h if x[i] == 1 else x[i] * h
            va += c_pos * x
            vb += h
        for v, h in zip(V, Hn):
            for i in np.flatnonzero(v):
                vW[i] += h
            va += c_neg * v
            vb += h
        W += vW
        a += va
        b += vb
    return W, a, b, [vW, va, vb], streams, chains


def fused_reconstruction(W, a, b, V):
    """heatbath.rbm._cd._reconstruct, bit for bit: for each row v of V, the visible
    means sigmoid(a + sum over j of h_j W[:, j]), j in order, of its hidden means
    h = sigmoid(b + v W) (the fused kernel's sigmoid and row sums)."""
    R = np.empty_like(V)
    for r, v in enumerate(V):
        h = fused_sigmoid(_row_sum(b, W, v))
        out = a.copy()
        for j in range(h.size):
            out += h[j] * W[:, j]
        R[r] = fused_sigmoid(out)
    return R


def _values(kind, param):
    """The values one unit (or one softmax group) takes, as rows."""
    if kind == BERNOULLI:
        return np.array([[0.0], [1.0]])
    if kind == SPIN:
        return np.array([[-1.0], [1.0]])
    if kind == BINOMIAL:
        return np.arange(param + 1, dtype=float)[:, None]
    if kind == SOFTMAX:
        return np.eye(param)
    raise ValueError("gaussian and poisson units have no finite list of values")


def exact_log_partition(W, a, b, visible, hidden):
    """log Z by brute force: every state of the visible layer, hidden units summed out.

    ``visible`` and ``hidden`` are ``(kind, param)``; the visible layer must be
    finite (with poisson visible units the hidden layer is enumerated and the
    counts summed in closed form). The twin of
    :func:`heatbath.rbm.estimators.exact_log_partition` (which picks the smaller
    layer and sums chunks in its own order: equal to about 1e-12 relative, not
    bit for bit).
    """
    import itertools

    from scipy.special import gammaln, logsumexp

    W, a, b = (np.asarray(x, dtype=float) for x in (W, a, b))
    if visible[0] == POISSON:
        W, a, b, visible, hidden = W.T, b, a, hidden, visible
    vals = _values(*visible)
    per = vals.shape[1]
    rows = [np.concatenate(combo) for combo in
            itertools.product(vals, repeat=W.shape[0] // per)]
    V = np.array(rows).reshape(len(rows), W.shape[0])
    base = V @ a
    if visible[0] == BINOMIAL:   # the base measure log C(n, v)
        n = visible[1]
        base = base + (gammaln(n + 1) - gammaln(V + 1) - gammaln(n - V + 1)).sum(axis=1)
    return float(logsumexp(base + _log_partition(*hidden, V @ W, b)))
