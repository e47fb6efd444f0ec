"""NumPy twins of the per-chain random streams (numpy.random.SFC64)."""

import math

import numpy as np

from heatbath._random import _ziggurat_tables, as_seed_sequence

__all__ = ["spawn_states", "bit_generators", "random_raw", "random", "states_of",
           "standard_normal", "standard_exponential", "poisson"]


def spawn_states(seed, n_chains):
    """Stream states as ``numpy.random.SFC64(child).state`` for spawned children."""
    children = as_seed_sequence(seed).spawn(n_chains)
    return np.array([np.random.SFC64(c).state["state"]["state"] for c in children],
                    dtype=np.uint64).reshape(n_chains, 4)


def bit_generators(states):
    """One ``numpy.random.SFC64`` per row of ``states``, set to that state."""
    gens = []
    for row in np.asarray(states, dtype=np.uint64):
        bg = np.random.SFC64()
        bg.state = {"bit_generator": "SFC64", "state": {"state": row.copy()},
                    "has_uint32": 0, "uinteger": 0}
        gens.append(bg)
    return gens


def states_of(bit_gens):
    """The (n_chains, 4) state array of a list of SFC64 bit generators."""
    return np.array([bg.state["state"]["state"] for bg in bit_gens], dtype=np.uint64)


def random_raw(states, n):
    """Raw 64-bit draws, shape (n_chains, n), and the advanced states."""
    gens = bit_generators(states)
    out = np.array([bg.random_raw(n) for bg in gens], dtype=np.uint64).reshape(len(gens), n)
    return out, states_of(gens)


def random(states, n):
    """Uniform doubles in [0, 1), shape (n_chains, n), and the advanced states."""
    gens = bit_generators(states)
    out = np.array([np.random.Generator(bg).random(n) for bg in gens]).reshape(len(gens), n)
    return out, states_of(gens)


_MASK52 = (1 << 52) - 1
_TWO53 = 1.0 / 9007199254740992.0


def _normal(draw, r, k, w, f):
    """One rng_normal draw, in Python floats (math.* is the C library's libm)."""
    while True:
        u = draw()
        idx = u & 0xFF
        u >>= 8
        mant = (u >> 1) & _MASK52
        x = float(mant) * w[idx]
        if u & 1:
            x = -x
        if mant < k[idx]:
            return x
        if idx == 0:
            while True:
                xx = -math.log1p(-((draw() >> 11) * _TWO53)) / r
                yy = -math.log1p(-((draw() >> 11) * _TWO53))
                if yy + yy > xx * xx:
                    return -(r + xx) if u & 1 else r + xx
        elif (f[idx - 1] - f[idx]) * ((draw() >> 11) * _TWO53) + f[idx] < math.exp(-0.5 * x * x):
            return x


def _exponential(draw, r, k, w, f):
    """One rng_exponential draw, in Python floats."""
    while True:
        u = draw() >> 3
        idx = u & 0xFF
        u >>= 8
        x = float(u) * w[idx]
        if u < k[idx]:
            return x
        if idx == 0:
            return r - math.log1p(-((draw() >> 11) * _TWO53))
        if (f[idx - 1] - f[idx]) * ((draw() >> 11) * _TWO53) + f[idx] < math.exp(-x):
            return x


def _replay(states, n, kind, one):
    """Draws and advanced states, one raw word at a time (exact state accounting)."""
    r, k, w, f = _ziggurat_tables(kind)
    k, w, f = [int(v) for v in k], [float(v) for v in w], [float(v) for v in f]
    gens = bit_generators(states)
    out = np.empty((len(gens), n))
    for c, bg in enumerate(gens):
        def draw(bg=bg):
            return int(bg.random_raw())
        out[c] = [one(draw, r, k, w, f) for _ in range(n)]
    return out, states_of(gens)


def standard_normal(states, n):
    """Twin of ``heatbath._random.standard_normal``: draws (n_chains, n) and advanced states."""
    return _replay(states, n, "normal", _normal)


def standard_exponential(states, n):
    """Twin of ``heatbath._random.standard_exponential``: draws and advanced states."""
    return _replay(states, n, "exponential", _exponential)


def _log_factorial(k, table):
    """Twin of the kernels' log k! (heatbath.rbm._gibbs): table, then Stirling."""
    if k < len(table):
        return table[int(k)]
    x = k + 1.0
    r = 1.0 / x
    r2 = r * r
    return ((x - 0.5) * math.log(x) - x + 0.91893853320467274178
            + r * (0.083333333333333333333 - r2 * (0.0027777777777777777778
                                                  - r2 * 0.00079365079365079365079)))


def _poisson_one(u01, lam, table, max_rate, ptrs_from):
    """One Poisson(lam) draw in Python floats, operation for operation as the kernel."""
    if not (0.0 <= lam <= max_rate):
        return math.nan
    if lam < ptrs_from:
        # inversion by sequential search
        u = u01()
        p = math.exp(-lam)
        cdf = p
        k = 0.0
        while u >= cdf:
            k = k + 1.0
            p = p * lam / k
            if cdf + p == cdf:
                break
            cdf = cdf + p
        return k
    # PTRS (Hormann 1993)
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    v_r = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        u = u01() - 0.5
        v = u01()
        us = 0.5 - abs(u)
        with np.errstate(divide="ignore"):
            k = float(np.floor((2.0 * a / np.float64(us) + b) * u + lam + 0.43))
        if us >= 0.07 and v <= v_r:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        arg = v * inv_alpha / (a / (us * us) + b)
        if (math.log(arg) if arg > 0 else -math.inf) <= \
                k * loglam - lam - _log_factorial(k, table):
            return k


def poisson(states, rates):
    """Twin of the kernels' Poisson draws: counts (float64, NaN for a refused rate) of
    shape ``rates.shape`` (one row per stream, units in order) and the advanced states."""
    from heatbath.rbm._gibbs import LOG_FACTORIALS, POISSON_MAX_RATE, POISSON_PTRS_FROM

    table = [float(t) for t in LOG_FACTORIALS]
    rates = np.asarray(rates, dtype=np.float64)
    gens = bit_generators(states)
    out = np.empty(rates.shape)
    for c, bg in enumerate(gens):
        def u01(bg=bg):
            return (int(bg.random_raw()) >> 11) * _TWO53
        out[c] = [_poisson_one(u01, float(lam), table, POISSON_MAX_RATE, POISSON_PTRS_FROM)
                  for lam in rates[c]]
    return out, states_of(gens)
