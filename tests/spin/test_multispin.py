"""Multispin-coded sampler against exact results, its twin, and itself.

False-alarm rates: each chi-square test fails a correct sampler with
probability 1e-4 (14 cases: below 1.4e-3 for the file); each comparison with
the exact finite torus and the replica-independence test allow 4 standard
errors (6.3e-5 each for Gaussian errors).
"""

import numpy as np
import pytest

from heatbath.reference import multispin as ref
from heatbath.spin import BoltzmannMachine, Ising
from heatbath.spin.multispin import MultispinSampler, pack_spins, unpack_spins
from heatbath.spin.samplers import flip_probabilities, thresholds

ALGORITHMS = ["metropolis", "heat_bath"]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("shape, periodic, h, T", [
    ((3, 3), True, 0.0, 1.5), ((3, 3), True, 0.0, 2.27), ((3, 3), True, 0.0, 3.5),
    ((4, 4), True, 0.0, 2.27), ((2, 2, 3), True, 0.0, 2.0), ((3, 3, 2), True, 0.0, 4.0),
    ((3, 3), False, 0.3, 2.0),
])
def test_chi_square_energy_magnetization(algorithm, shape, periodic, h, T,
                                         chi_square_joint_pvalue):
    # 20,000 replicas (313 blocks), 200 sweeps from random starts; the joint
    # (E, M) histogram of the final states against enumeration.
    model = Ising(shape, h=h, periodic=periodic)
    seed = 7 * model.n_spins + int(10 * T) + (algorithm == "heat_bath")
    sampler = MultispinSampler(model, temperature=T, n_chains=20_000, seed=seed,
                               algorithm=algorithm)
    sampler.run(0, burn_in=200)
    assert chi_square_joint_pvalue(model, T, sampler.spins) > 1e-4


@pytest.mark.parametrize("algorithm, T", [("metropolis", 2.0), ("metropolis", 2.5),
                                          ("metropolis", 3.0), ("heat_bath", 2.5)])
def test_l16_against_exact_finite_torus(algorithm, T, assert_matches_torus):
    trace = MultispinSampler(Ising((16, 16)), temperature=T, n_chains=128, seed=int(T * 100),
                             algorithm=algorithm).run(3000, burn_in=500)
    assert_matches_torus(trace, (16, 16), T)


def _even_odd_correlation(energies):
    """Correlation over blocks of the even-lane and odd-lane energy sums; (B, 64) input."""
    x, y = energies[:, 0::2].sum(axis=1), energies[:, 1::2].sum(axis=1)
    return np.corrcoef(x, y)[0, 1]


def _shared_uniform_energies(model, T, n_blocks, n_sweeps, seed):
    """What a kernel sharing one uniform per site among the 64 lanes would give.

    Checkerboard Metropolis (q = 1/2 at dE = 0) on (n_blocks, 64) replicas
    where the lanes of a block compare their flip probabilities with the
    same uniform at each site.
    """
    rng = np.random.default_rng(seed)
    L = model.shape[0]
    s = rng.choice(np.array([-1, 1], dtype=np.int8), size=(n_blocks, 64, L, L))
    colour = (np.indices((L, L)).sum(axis=0) & 1).astype(bool)
    for _ in range(n_sweeps):
        for c in (False, True):
            nb = sum(np.roll(s, k, axis=a) for k in (1, -1) for a in (2, 3))
            x = 2.0 * s * nb / T
            q = np.where(x == 0, 0.5, np.minimum(1.0, np.exp(-x)))
            u = rng.random((n_blocks, 1, L, L))      # one uniform per block and site
            flip = (u < q) & (colour == c)
            s = np.where(flip, -s, s)
    return model.energy(s.reshape(n_blocks * 64, -1)).reshape(n_blocks, 64)


def test_replicas_of_one_word_are_independent():
    # Blocks are independent of each other, so over B blocks the correlation
    # of (sum of even lanes, sum of odd lanes) has standard error 1/sqrt(B)
    # if the lanes of a word are independent. The test allows 4 s.e.
    model, T, B = Ising((6, 6)), 3.0, 2000
    sampler = MultispinSampler(model, temperature=T, n_chains=64 * B, seed=3)
    energies = sampler.run(1, burn_in=50)["energy"][-1].reshape(B, 64)
    assert abs(_even_odd_correlation(energies)) < 4 / np.sqrt(B)
    # The same statistic catches a kernel that shares a uniform among lanes.
    shared = _shared_uniform_energies(model, T, 400, 50, seed=4)
    assert _even_odd_correlation(shared) > 4 / np.sqrt(400)


@pytest.mark.parametrize("shape, periodic, h, algorithm", [
    ((4, 4), True, 0.3, "metropolis"), ((3, 2, 3), False, 0.0, "heat_bath"),
    ((6,), True, 0.0, "metropolis"), ((4, 3), (True, False), -0.2, "heat_bath"),
])
def test_kernel_equals_numpy_twin(shape, periodic, h, algorithm):
    model = Ising(shape, J=0.7, h=h, periodic=periodic)
    T = [1.5] * 64 + [np.inf] * 6
    sampler = MultispinSampler(model, temperature=T, n_chains=70, seed=4, algorithm=algorithm)
    # block k runs on the stream of its first chain, 64 k
    words, streams = sampler.words, sampler.get_state()["stream_state"][::64]
    trace = sampler.run(3)
    thr = thresholds(flip_probabilities(model, sampler.beta[::64], algorithm))
    out = ref.multispin_sweeps(model.neighbors, model.sweep_order, words, streams, thr, 3)
    np.testing.assert_array_equal(out[0], sampler.words)
    np.testing.assert_array_equal(out[1], sampler.get_state()["stream_state"][::64])
    np.testing.assert_array_equal(-0.7 * out[2][:, :70] - h * out[3][:, :70], trace["energy"])
    np.testing.assert_array_equal(out[3][:, :70], trace["magnetization"])
    np.testing.assert_array_equal(out[4], trace.info["draws"][::64])


@pytest.mark.parametrize("model", [Ising((6, 8), h=0.1), Ising((3, 4, 5), periodic=False)],
                         ids=repr)
def test_same_bits_for_any_thread_count_and_resume(model):
    def make(**kw):
        return MultispinSampler(model, **{"temperature": 2.4, "n_chains": 200, "seed": 9, **kw})

    runs = [make(n_threads=t).run(20, burn_in=3, thin=2) for t in (1, 2, 3)]
    for r in runs[1:]:
        for name in ("energy", "magnetization"):
            np.testing.assert_array_equal(r[name], runs[0][name])
        np.testing.assert_array_equal(r.final_state, runs[0].final_state)
    whole = make().run(40, thin=4)
    a = make()
    first = a.run(20, thin=4)
    b = make(seed=123)
    b.set_state(a.get_state())
    second = b.run(20, thin=4)
    for name in ("energy", "magnetization"):
        np.testing.assert_array_equal(np.vstack([first[name], second[name]]), whole[name])
    np.testing.assert_array_equal(second.final_state, whole.final_state)
    assert b.n_sweeps_done == 40
    np.testing.assert_array_equal(make().run(40, thin=4, verbose=True)["energy"],
                                  whole["energy"])


def test_trace_agrees_with_model_and_scalar_rules():
    model = Ising((5, 6), J=0.8, h=0.2)
    s = MultispinSampler(model, temperature=2.0, n_chains=100, seed=0)
    tr = s.run(5)
    np.testing.assert_allclose(tr["energy"][-1], model.energy(tr.final_state), rtol=1e-12)
    np.testing.assert_array_equal(tr["magnetization"][-1], model.magnetization(tr.final_state))
    # T = inf: every spin is a fair coin, Metropolis and heat-bath alike.
    for algorithm in ALGORITHMS:
        t = MultispinSampler(Ising((8, 8)), temperature=np.inf, n_chains=64, seed=1,
                             init="up", algorithm=algorithm).run(20)
        assert abs(t.acceptance_rate[0] - 0.5) < 4 * np.sqrt(0.25 / (20 * 64 * 64))
    frozen = MultispinSampler(Ising((8, 8)), temperature=1e-3, n_chains=64, init="up").run(10)
    assert frozen.acceptance_rate[0] == 0.0 and frozen.info["draws"][0] == 0


def test_pack_unpack_round_trip():
    rng = np.random.default_rng(0)
    s = rng.choice(np.array([-1, 1], dtype=np.int8), size=(130, 7))
    np.testing.assert_array_equal(unpack_spins(pack_spins(s, 3), 130), s)
    sampler = MultispinSampler(Ising(7), n_chains=130, init=s)
    np.testing.assert_array_equal(sampler.spins, s)


def test_errors():
    model = Ising((4, 4))
    for kw, exc, match in [
        (dict(temperature=[1.0] * 63 + [2.0]), ValueError, "block"),
        (dict(temperature=0.0), ValueError, "temperature"),
        (dict(n_chains=0), ValueError, "n_chains"),
        (dict(algorithm="wolff"), ValueError, "algorithm"),
        (dict(init="hot"), ValueError, "init"),
        (dict(init=np.ones((2, 16))), ValueError, "init"),
    ]:
        with pytest.raises(exc, match=match):
            MultispinSampler(model, **kw)
    with pytest.raises(TypeError, match="model"):
        MultispinSampler(BoltzmannMachine(np.zeros((2, 2))))
    with pytest.raises(ValueError, match="dimensions"):
        MultispinSampler(Ising((2, 2, 2, 2)))
    with pytest.raises(TypeError):
        MultispinSampler(model, 2.0)    # keyword-only
    s = MultispinSampler(model, n_chains=64, seed=0)
    state = s.get_state()
    with pytest.raises(ValueError, match="words"):
        s.set_state({**state, "words": np.zeros((2, 16), dtype=np.uint64)})
    with pytest.raises(ValueError, match="heat_bath"):
        MultispinSampler(model, algorithm="heat_bath").set_state(state)
    with pytest.raises(ValueError, match="missing"):
        s.set_state({"words": state["words"]})
    np.testing.assert_array_equal(s.words, state["words"])


@pytest.mark.parametrize("model, temperature, n_chains, algorithm", [
    (Ising((6, 6), h=0.3), [1.5] * 64 + [np.inf] * 64 + [2.5] * 70, 198, "metropolis"),
    (Ising((4, 4, 4)), [4.0] * 64 + [np.inf] * 64 + [1.0] * 64 + [4.5] * 84, 276, "metropolis"),
    (Ising((3, 4, 5), periodic=False), 2.0, 300, "heat_bath"),
    (Ising((5, 6), periodic=False), 2.0, 200, "metropolis"),
], ids=lambda x: repr(x)[:40])
def test_vector_kernel_equals_one_block_kernel(monkeypatch, model, temperature, n_chains,
                                               algorithm):
    # The kernel updates groups of up to 4 blocks at once (AVX2 or the baseline
    # ISA); each block must get the bits of the one-block kernel, whatever the
    # grouping (set by the thread count), the ISA and the blocks' tables
    # (temperatures with different threshold groups in one group of blocks).
    from heatbath.spin import _multispin
    from heatbath.spin import multispin

    kernel = _multispin._multispin_sweeps

    def run(vector, avx2, n_threads):
        monkeypatch.setattr(multispin, "resolve",
                            lambda name: lambda *a: kernel(*a, vector=vector))
        _multispin._select_isa(avx2)
        s = MultispinSampler(model, temperature=temperature, n_chains=n_chains, seed=5,
                             algorithm=algorithm, n_threads=n_threads)
        tr = s.run(4, burn_in=2)
        return (tr["energy"], tr["magnetization"], s.words, s.get_state()["stream_state"],
                tr.info["draws"], tr.acceptance_rate)

    try:
        expected = run(False, True, 1)
        for avx2, n_threads in [(True, 1), (True, 2), (True, 3), (False, 1), (False, 3)]:
            for a, b in zip(run(True, avx2, n_threads), expected):
                np.testing.assert_array_equal(a, b)
    finally:
        _multispin._select_isa(True)
