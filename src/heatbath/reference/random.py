"""NumPy twins of the per-chain random streams (numpy.random.SFC64)."""

import numpy as np

from heatbath._random import as_seed_sequence

__all__ = ["spawn_states", "bit_generators", "random_raw", "random", "states_of"]


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
