"""Bench cases: the per-chain random streams (heatbath._random)."""

import numpy as np

from heatbath import _random
from heatbath._bench import Side, case
from heatbath.reference import random as twin


@case("random", "rng-raw-uint64-1t", unit="draw", sides=("twin", "numpy"), demo=True)
def _raw(quick, n_threads):
    n = 2**14 if quick else 2**24
    states = _random.spawn_states(0, 1)
    out = np.empty(1, dtype=np.uint64)
    bitgen = np.random.SFC64(0)
    return dict(work=n, title=f"uint64 draws in a kernel, 1 stream, {n} per call",
                heatbath=lambda: _random._xor_raw(states, n, out, 1),
                twin=Side(lambda: twin.random_raw(states.copy(), n), "reference.random"),
                numpy=Side(lambda: bitgen.random_raw(n), "numpy SFC64.random_raw"))


@case("random", "rng-uniform-float64-1t", unit="draw", sides=("twin", "numpy"))
def _uniform(quick, n_threads):
    n = 2**14 if quick else 2**24
    states = _random.spawn_states(0, 1)
    out = np.empty(1, dtype=np.float64)
    gen = np.random.Generator(np.random.SFC64(0))
    buf = np.empty(n)
    return dict(work=n, title=f"float64 uniforms in a kernel, 1 stream, {n} per call",
                heatbath=lambda: _random._sum_uniform(states, n, out, 1),
                twin=Side(lambda: twin.random(states.copy(), n), "reference.random"),
                numpy=Side(lambda: gen.random(out=buf), "numpy Generator.random"))


@case("random", "rng-raw-uint64-64streams", unit="draw", sides=("numpy",))
def _many(quick, n_threads):
    n = 2**14 if quick else 2**24
    many = _random.spawn_states(1, 64)
    out = np.empty(64, dtype=np.uint64)
    bitgen = np.random.SFC64(0)
    return dict(work=n, title=f"uint64 draws, 64 streams, {n_threads} thread(s)",
                heatbath=lambda: _random._xor_raw(many, n // 64, out, n_threads),
                numpy=Side(lambda: bitgen.random_raw(n), "numpy SFC64.random_raw"))
