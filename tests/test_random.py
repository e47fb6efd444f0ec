"""Per-chain random streams: known answers, quality, determinism, resume.

Statistical checks use fixed seeds; each states its false-alarm rate (the
probability that a correct generator fails it), always 1e-4 or less.
"""

import os
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from heatbath import _random as R
from heatbath.reference import random as ref

# numpy's published SFC64 test sets (numpy/random/tests/data/sfc64-testset-*.csv):
# the stream of SFC64(seed), with draws 0-3 and 998-999.
KNOWN_ANSWERS = {
    0xDEADBEAF: {0: 0xA475F55FBB6BC638, 1: 0xB2D594B6C29D971C, 2: 0x275BC4ECE4484FB1,
                 3: 0x569BE72D9B3492FB, 998: 0xE15D3E2F33B735F8, 999: 0xF5433336EADEF6E},
    0x0: {0: 0x91959E5FB96A6332, 1: 0x3C1DD8A25A7E9F21, 2: 0x657BDFFC99798D9E,
          3: 0x1A04DE320B19E022, 998: 0x29C8DCD0D17C423F, 999: 0xFB8482C827EB90BC},
}


def _root_state(seed):
    """The state numpy.random.SFC64(seed) starts from, seeded by our own C code."""
    words = np.random.SeedSequence(seed).generate_state(3, np.uint64)[None, :]
    out = np.empty((1, 4), dtype=np.uint64)
    R._seed_rows(words, out)
    return out


@pytest.mark.parametrize("seed", sorted(KNOWN_ANSWERS))
def test_known_answer_vectors(seed):
    draws = R.random_raw(_root_state(seed), 1000)[0]
    for k, value in KNOWN_ANSWERS[seed].items():
        assert int(draws[k]) == value, k


@pytest.mark.parametrize("name", ["sfc64-testset-1.csv", "sfc64-testset-2.csv"])
def test_numpy_csv_test_sets_when_installed(name):
    path = Path(np.__file__).parent / "random" / "tests" / "data" / name
    if not path.exists():
        pytest.skip("this numpy install does not ship its test data")
    lines = path.read_text().splitlines()
    seed = int(lines[0].split(",")[1], 16)
    expected = np.array([int(line.split(",")[1], 16) for line in lines[1:]], dtype=np.uint64)
    np.testing.assert_array_equal(R.random_raw(_root_state(seed), expected.size)[0], expected)


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**63 + 11])
def test_spawned_states_equal_numpy_sfc64(seed):
    n = 7
    np.testing.assert_array_equal(R.spawn_states(seed, n), ref.spawn_states(seed, n))


def test_raw_and_double_streams_equal_numpy_bit_for_bit():
    states = R.spawn_states(99, 5)
    raw = R.random_raw(states.copy(), 300)
    raw_ref, _ = ref.random_raw(states, 300)
    np.testing.assert_array_equal(raw, raw_ref)
    mine = states.copy()
    u = R.random(mine, 300)
    u_ref, states_ref = ref.random(states, 300)
    np.testing.assert_array_equal(u, u_ref)
    np.testing.assert_array_equal(mine, states_ref)  # and the state advanced alike


def test_frozen_draws():
    # Known answers frozen from numpy's SFC64 for heatbath's seeding path:
    # SeedSequence(20261122).spawn(1)[0]. A change here breaks every saved run.
    draws = R.random_raw(R.spawn_states(20261122, 1), 4)[0]
    assert [int(x) for x in draws] == [7807982780657613502, 1001028744958711339,
                                       4145166664348238738, 6321034896537002729]


@pytest.mark.parametrize("kind", ["raw", "float64", "float32", "bounded"])
def test_same_seed_same_numbers_for_any_thread_count(kind):
    results = []
    for n_threads in (1, 2, 3, 4, -1, None):
        states = R.spawn_states(5, 37)
        if kind == "raw":
            out = R.random_raw(states, 101, n_threads=n_threads)
        elif kind == "bounded":
            out = R.integers(states, 1000, 101, n_threads=n_threads)
        else:
            out = R.random(states, 101, dtype=kind, n_threads=n_threads)
        results.append((out, states))
    for out, states in results[1:]:
        np.testing.assert_array_equal(out, results[0][0])
        np.testing.assert_array_equal(states, results[0][1])


def test_resume_continues_the_exact_sequence():
    a = R.spawn_states(3, 4)
    whole = R.random_raw(a, 50)
    b = R.spawn_states(3, 4)
    first = R.random_raw(b, 20)
    saved = b.copy()  # what a checkpoint stores
    restored = R.check_states(saved, n_chains=4)
    rest = R.random_raw(restored, 30)
    np.testing.assert_array_equal(np.hstack([first, rest]), whole)
    np.testing.assert_array_equal(restored, a)


def test_uniform_moments_and_ks():
    n = 1_000_000
    u = R.random(R.spawn_states(11, 1), n)[0]
    assert u.min() >= 0.0 and u.max() < 1.0
    # Mean and variance of U(0,1): 1/2 and 1/12. Their standard errors are
    # sqrt(1/12/n) and sqrt((1/80 - 1/144)/n); 4.5 s.e. is a 7e-6 false alarm.
    assert abs(u.mean() - 0.5) < 4.5 * np.sqrt(1 / 12 / n)
    assert abs(u.var() - 1 / 12) < 4.5 * np.sqrt((1 / 80 - 1 / 144) / n)
    assert stats.kstest(u, "uniform").pvalue > 1e-4


def test_float32_uniform():
    n = 1_000_000
    u = R.random(R.spawn_states(12, 1), n, dtype=np.float32)[0]
    assert u.dtype == np.float32 and u.min() >= 0 and u.max() < 1
    assert abs(u.mean(dtype=np.float64) - 0.5) < 4.5 * np.sqrt(1 / 12 / n)
    # 24 random bits: every value is a multiple of 2**-24.
    assert np.all((u.astype(np.float64) * 2**24) % 1 == 0)
    assert stats.kstest(u.astype(np.float64), "uniform").pvalue > 1e-4


def test_bounded_integers_uniform_chi_square():
    n, high = 600_000, 6
    k = R.integers(R.spawn_states(13, 1), high, n)[0]
    counts = np.bincount(k, minlength=high)
    assert counts.size == high
    assert stats.chisquare(counts).pvalue > 1e-4


def test_bounded_integers_have_no_modulo_bias():
    # With high = 3 * 2**30, "x % high" on 32 random bits would put 1/2 of
    # the mass below 2**30 instead of 1/3. Binomial s.e. on the fraction.
    n, high = 400_000, 3 * 2**30
    k = R.integers(R.spawn_states(14, 1), high, n)[0].astype(np.int64)
    frac = (k < 2**30).mean()
    assert abs(frac - 1 / 3) < 4.5 * np.sqrt(2 / 9 / n)
    assert k.max() < high


def test_high_one_gives_zeros():
    assert not R.integers(R.spawn_states(0, 2), 1, 10).any()


def test_neighbouring_streams_are_uncorrelated():
    # Pearson r between stream i and i+1 (and with a lag of one draw) is
    # ~N(0, 1/n) for independent streams; |r| < 4.5/sqrt(n) for each of the
    # 2 x 63 pairs has a family false-alarm rate below 1e-3.
    n_chains, n = 64, 50_000
    u = R.random(R.spawn_states(15, n_chains), n)
    z = (u - u.mean(axis=1, keepdims=True)) / u.std(axis=1, keepdims=True)
    r0 = (z[:-1] * z[1:]).mean(axis=1)
    r1 = (z[:-1, :-1] * z[1:, 1:]).mean(axis=1)
    bound = 4.5 / np.sqrt(n)
    assert np.abs(r0).max() < bound
    assert np.abs(r1).max() < bound


def test_first_draws_of_many_streams_are_uniform():
    # Streams seeded from one root must not start alike: the first draw of
    # 100,000 chains is itself a uniform sample.
    u = R.random(R.spawn_states(16, 100_000), 1)[:, 0]
    assert stats.kstest(u, "uniform").pvalue > 1e-4


def test_seed_kinds():
    a = R.spawn_states(7, 3)
    np.testing.assert_array_equal(a, R.spawn_states(np.int64(7), 3))
    np.testing.assert_array_equal(a, R.spawn_states(np.random.SeedSequence(7), 3))
    assert not np.array_equal(R.spawn_states(None, 3), R.spawn_states(None, 3))
    g1, g2 = np.random.default_rng(4), np.random.default_rng(4)
    s1, s2 = R.spawn_states(g1, 3), R.spawn_states(g2, 3)
    np.testing.assert_array_equal(s1, s2)  # same generator state, same streams
    assert not np.array_equal(s1, R.spawn_states(g1, 3))  # the generator advanced
    # The first n streams do not depend on how many chains are asked for.
    np.testing.assert_array_equal(R.spawn_states(7, 5)[:3], a)


@pytest.mark.parametrize("seed, exc", [
    (1.5, TypeError), ("7", TypeError), (True, TypeError), ([1, 2], TypeError),
    (np.random.RandomState(0), TypeError), (-1, ValueError),
])
def test_bad_seeds(seed, exc):
    with pytest.raises(exc, match="seed"):
        R.spawn_states(seed, 2)


@pytest.mark.parametrize("n_chains, exc", [(0, ValueError), (-3, ValueError),
                                           (2.0, TypeError), (None, TypeError)])
def test_bad_n_chains(n_chains, exc):
    with pytest.raises(exc, match="n_chains"):
        R.spawn_states(0, n_chains)


def test_check_states_rejects_bad_arrays():
    good = R.spawn_states(0, 2)
    with pytest.raises(TypeError, match="uint64"):
        R.check_states(good.astype(np.int64))
    with pytest.raises(ValueError, match="shape"):
        R.check_states(good[:, :3])
    with pytest.raises(ValueError, match="2 rows"):
        R.check_states(R.spawn_states(0, 3), n_chains=2)
    copy = R.check_states(good[:, ::-1][:, ::-1])  # non-contiguous view is fine
    assert copy.flags.c_contiguous and copy is not good


def test_kernel_wrappers_reject_bad_requests():
    st = R.spawn_states(0, 2)
    with pytest.raises(ValueError, match="states"):
        R.random_raw(st[:, :3], 1)
    with pytest.raises(ValueError, match="states"):
        R.random_raw(np.asfortranarray(np.zeros((4, 4), np.uint64)), 1)
    with pytest.raises(ValueError, match="n"):
        R.random_raw(st, -1)
    with pytest.raises(ValueError, match="draws"):
        R.random_raw(st, 2**40)
    with pytest.raises(TypeError, match="dtype"):
        R.random(st, 2, dtype=np.int32)
    with pytest.raises(ValueError, match="high"):
        R.integers(st, 0, 2)
    with pytest.raises(ValueError, match="high"):
        R.integers(st, 2**32, 2)
    assert R.random_raw(st, 0).shape == (2, 0)


def test_openmp_build_as_expected():
    import heatbath

    expected = os.environ.get("HEATBATH_EXPECT_OPENMP")
    if expected is None:
        pytest.skip("set HEATBATH_EXPECT_OPENMP=1 or 0 to check which build this is")
    assert heatbath.openmp_enabled() is (expected == "1")
