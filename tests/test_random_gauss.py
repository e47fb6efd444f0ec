"""Normal and exponential draws (rng_normal, rng_exponential): twins, quality, cimport surface.

Statistical checks use fixed seeds and state their false-alarm rates (each 1e-4 or less).
"""

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from heatbath import _random as R
from heatbath.reference import random as ref

from ._extending import build_extension

DRAWS = {"normal": R.standard_normal, "exponential": R.standard_exponential}
TWINS = {"normal": ref.standard_normal, "exponential": ref.standard_exponential}


@pytest.mark.parametrize("kind", ["normal", "exponential"])
def test_twin_bit_for_bit_with_states(kind):
    n = 20_000
    states = R.spawn_states(21, 3)
    mine = states.copy()
    got = DRAWS[kind](mine, n)
    want, want_states = TWINS[kind](states, n)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(mine, want_states)
    # The rare branches were compared too: the SFC64 counter (word 3) counts
    # the 64-bit words used, more than one per draw only through wedges and
    # tails; and 60,000 draws reach past the tail edge r about 16 (normal) or
    # 27 (exponential) times (none: probability < 1e-6).
    assert (mine[:, 3] - states[:, 3] > n).all()
    r = R._ziggurat_tables(kind)[0]
    assert (np.abs(got) > r).any()


@pytest.mark.parametrize("kind", ["normal", "exponential"])
def test_same_bits_for_any_thread_count_and_resume(kind, thread_count):
    whole = DRAWS[kind](R.spawn_states(5, 37), 101, n_threads=1)
    s = R.spawn_states(5, 37)
    first = DRAWS[kind](s, 40, n_threads=thread_count)
    restored = R.check_states(s.copy(), n_chains=37)
    rest = DRAWS[kind](restored, 61, n_threads=thread_count)
    np.testing.assert_array_equal(np.hstack([first, rest]), whole)


def test_normal_moments_and_ks():
    n = 1_000_000
    z = R.standard_normal(R.spawn_states(31, 1), n)[0]
    # Standard errors of mean, variance, skewness-sum and kurtosis: sqrt(1/n),
    # sqrt(2/n), sqrt(15/n) for E z^3 and sqrt(96/n) for E z^4; 4.5 s.e. each
    # (four tests: family false alarm < 3e-5).
    assert abs(z.mean()) < 4.5 * math.sqrt(1 / n)
    assert abs(z.var() - 1) < 4.5 * math.sqrt(2 / n)
    assert abs((z**3).mean()) < 4.5 * math.sqrt(15 / n)
    assert abs((z**4).mean() - 3) < 4.5 * math.sqrt(96 / n)
    assert stats.kstest(z, "norm").pvalue > 1e-4


def test_normal_tails_match_the_exact_probability():
    # P(|z| > r) at the ziggurat's tail edge r and at 4.5: binomial counts
    # within 4.5 s.e. (false alarm 7e-6 each).
    n = 4_000_000
    z = R.standard_normal(R.spawn_states(32, 4), n // 4).ravel()
    r = R._ziggurat_tables("normal")[0]
    for a in (1.0, r, 4.5):
        p = math.erfc(a / math.sqrt(2))
        assert abs((np.abs(z) > a).mean() - p) < 4.5 * math.sqrt(p * (1 - p) / n), a
    # the sign is independent of the magnitude in the tail
    tail = z[np.abs(z) > r]
    assert abs((tail > 0).mean() - 0.5) < 4.5 * math.sqrt(0.25 / tail.size)


def test_exponential_moments_ks_and_tail():
    n = 1_000_000
    e = R.standard_exponential(R.spawn_states(33, 1), n)[0]
    assert e.min() >= 0
    assert abs(e.mean() - 1) < 4.5 * math.sqrt(1 / n)
    assert abs(e.var() - 1) < 4.5 * math.sqrt(8 / n)     # Var(e^2 ...): fourth central moment 9
    assert stats.kstest(e, "expon").pvalue > 1e-4
    r = R._ziggurat_tables("exponential")[0]
    big = np.concatenate([R.standard_exponential(R.spawn_states(34, 4), 1_000_000).ravel(), e])
    p = math.exp(-r)
    assert abs((big > r).mean() - p) < 4.5 * math.sqrt(p * (1 - p) / big.size)


def test_normal_streams_of_neighbouring_chains_are_uncorrelated():
    n_chains, n = 32, 50_000
    z = R.standard_normal(R.spawn_states(35, n_chains), n)
    r0 = (z[:-1] * z[1:]).mean(axis=1)
    assert np.abs(r0).max() < 4.5 / math.sqrt(n)   # 31 pairs: family false alarm 2e-4


def test_tables_match_their_construction():
    tool = Path(__file__).resolve().parents[1] / "tools" / "ziggurat_tables.py"
    if not tool.exists():
        pytest.skip("tools/ziggurat_tables.py is not in this checkout")
    import importlib.util
    spec = importlib.util.spec_from_file_location("ziggurat_tables", tool)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for kind, bits in (("normal", 52), ("exponential", 53)):
        r, k, w, f = R._ziggurat_tables(kind)
        r2, k2, w2, f2 = module.tables(kind, bits)
        assert r == pytest.approx(r2, rel=1e-13)
        np.testing.assert_allclose(w, w2, rtol=1e-12)
        np.testing.assert_allclose(f, f2, rtol=1e-12)
        np.testing.assert_allclose(k.astype(float), np.array(k2, float), rtol=1e-12)
    # the published radii (Marsaglia & Tsang 2000)
    assert R._ziggurat_tables("normal")[0] == pytest.approx(3.6541528853610088, rel=1e-14)
    assert R._ziggurat_tables("exponential")[0] == pytest.approx(7.69711747013104972, rel=1e-14)


def test_bad_arguments():
    with pytest.raises(ValueError, match="states"):
        R.standard_normal(np.zeros((2, 3), np.uint64), 3)
    with pytest.raises(TypeError, match="n"):
        R.standard_exponential(R.spawn_states(0, 2), 2.5)
    with pytest.raises(ValueError, match="kind"):
        R._ziggurat_tables("cauchy")


EXAMPLE = """
    # A user's kernel built against the installed heatbath/_random.pxd.
    from cython.parallel cimport prange
    from libc.stdint cimport uint64_t
    from heatbath._random cimport (rng_t, rng_load, rng_store, rng_double,
                                   rng_normal, rng_exponential)

    cdef void _one(uint64_t* state, double* out, Py_ssize_t n) noexcept nogil:
        cdef rng_t r
        cdef Py_ssize_t k
        rng_load(&r, state)
        for k in range(n):
            out[3 * k] = rng_normal(&r)
            out[3 * k + 1] = rng_exponential(&r)
            out[3 * k + 2] = rng_double(&r)
        rng_store(&r, state)

    def draw(uint64_t[:, ::1] states, double[:, ::1] out):
        cdef Py_ssize_t c
        for c in prange(out.shape[0], nogil=True, schedule="static"):
            _one(&states[c, 0], &out[c, 0], out.shape[1] // 3)
"""


def test_cython_extension_compiled_against_installed_pxd(tmp_path):
    module = build_extension(tmp_path, "hb_user_draws", EXAMPLE)
    states = R.spawn_states(77, 5)
    out = np.empty((5, 3 * 300))
    module.draw(states, out)
    # The same words through the twins: normal, exponential, uniform, interleaved.
    gens = ref.bit_generators(R.spawn_states(77, 5))
    r_n, k_n, w_n, f_n = R._ziggurat_tables("normal")
    r_e, k_e, w_e, f_e = R._ziggurat_tables("exponential")
    tn = (r_n, [int(v) for v in k_n], list(w_n), list(f_n))
    te = (r_e, [int(v) for v in k_e], list(w_e), list(f_e))
    for c, bg in enumerate(gens):
        def draw(bg=bg):
            return int(bg.random_raw())
        want = []
        for _ in range(300):
            want += [ref._normal(draw, *tn), ref._exponential(draw, *te),
                     (draw() >> 11) * 2.0**-53]
        np.testing.assert_array_equal(out[c], want)
    np.testing.assert_array_equal(states, ref.states_of(gens))
