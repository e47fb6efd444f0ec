"""NumPy twins of the per-chain random streams (numpy.random.SFC64)."""

import math

import numpy as np

from heatbath._random import _ziggurat_tables, as_seed_sequence

__all__ = ["spawn_states", "bit_generators", "random_raw", "random", "states_of",
           "standard_normal", "standard_exponential"]


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
