"""NumPy twins of the RBM kernels: one Gibbs layer, and one CD-k / PCD-k update.

Random numbers come from numpy's SFC64 on the same per-chain stream states
as the kernels, converted the same way (float64: top 53 bits; float32: top
24), so the twins reproduce the kernels. Sigmoids use numpy's exp where the
kernel uses libm's: they may differ in the last bit, which changes a sample
only if a uniform falls within that bit of p (probability ~1e-16 per draw).
"""

import numpy as np

from heatbath.rbm.units import BERNOULLI, BINOMIAL, GAUSSIAN, SOFTMAX, SPIN  # noqa: F401
from heatbath.reference.random import bit_generators, states_of

__all__ = ["sample_layer", "layer_means", "cd_update", "ais_log_weights", "exact_log_partition"]



def _sigmoid(t):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-t))


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
        return _sigmoid(bx)
    if kind == BINOMIAL:
        return param * _sigmoid(bx)
    if kind == SPIN:
        return 2 * _sigmoid((2.0 * beta[:, None] * x).astype(x.dtype)) - 1
    if kind == SOFTMAX:
        g = bx.reshape(x.shape[0], -1, param)
        e = np.exp(g - g.max(axis=2, keepdims=True))
        return (e / e.sum(axis=2, keepdims=True)).reshape(x.shape)
    return x.copy()


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
        p = means if kind == BERNOULLI else _sigmoid((2.0 * beta[:, None] * x).astype(x.dtype))
        out = np.where(u < p, 1, 0 if kind == BERNOULLI else -1).astype(x.dtype)
    elif kind == BINOMIAL:
        u = _uniforms(gens, n * param, single).reshape(n_chains, n, param)
        p = _sigmoid((beta[:, None] * x).astype(x.dtype))
        out = (u < p[:, :, None]).sum(axis=2).astype(x.dtype)
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
    raise ValueError("gaussian units have no values to enumerate")


def exact_log_partition(W, a, b, visible, hidden):
    """log Z by brute force: every state of the visible layer, hidden units summed out.

    ``visible`` and ``hidden`` are ``(kind, param)``; the visible layer must be
    discrete. The twin of :func:`heatbath.rbm.estimators.exact_log_partition`
    (which picks the smaller layer and sums chunks in its own order: equal to
    about 1e-12 relative, not bit for bit).
    """
    import itertools

    from scipy.special import gammaln, logsumexp

    W, a, b = (np.asarray(x, dtype=float) for x in (W, a, b))
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
