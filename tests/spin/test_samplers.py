"""Spin models and samplers against exact results.

False-alarm rates: each chi-square test fails a correct sampler with
probability 1e-4 (18 lattice + 4 Boltzmann-machine cases: below 2.2e-3 for
the file); each comparison with the exact finite torus allows 4 standard
errors (6.3e-5 each for Gaussian errors).
"""

import threading

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

import heatbath
from heatbath.reference import spin as ref
from heatbath.spin import (BoltzmannMachine, HeatBathSampler, Ising, MetropolisSampler,
                           WolffSampler, exact, thermodynamics)

SAMPLERS = [MetropolisSampler, HeatBathSampler, WolffSampler]


# --- models -----------------------------------------------------------------

def _bond_list(shape, periodic):
    """Bonds (i, j) by brute force over coordinates."""
    idx = np.arange(int(np.prod(shape))).reshape(shape)
    bonds = []
    for coord in np.ndindex(shape):
        for axis, side in enumerate(shape):
            nxt = list(coord)
            nxt[axis] += 1
            if nxt[axis] == side:
                if not periodic[axis]:
                    continue
                nxt[axis] = 0
            bonds.append((idx[coord], idx[tuple(nxt)]))
    return bonds


@pytest.mark.parametrize("shape, periodic", [
    ((7,), True), ((7,), False), ((4, 6), True), ((3, 5), False), ((4, 5), (True, False)),
    ((3, 3, 4), True), ((2, 3, 2), (False, True, True)), ((2, 2), True), ((2, 2, 2, 2), True),
])
def test_ising_energy_against_bond_list(shape, periodic):
    per = (periodic,) * len(shape) if isinstance(periodic, bool) else periodic
    model = Ising(shape, J=0.8, h=-0.3, periodic=periodic)
    rng = np.random.default_rng(0)
    states = rng.choice([-1, 1], size=(20, model.n_spins))
    bonds = _bond_list(shape, per)
    expected = np.array([-0.8 * sum(s[i] * s[j] for i, j in bonds) + 0.3 * s.sum()
                         for s in states])
    np.testing.assert_allclose(model.energy(states), expected, rtol=1e-14)
    np.testing.assert_allclose(ref.ising_energy(states, shape, 0.8, -0.3, periodic), expected,
                               rtol=1e-14)
    assert model.n_bonds == len(bonds)
    np.testing.assert_array_equal(model.magnetization(states), states.sum(axis=1))


def test_boltzmann_machine_dense_sparse_and_binary_forms():
    rng = np.random.default_rng(1)
    n = 9
    upper = np.triu(rng.normal(size=(n, n)), 1) * (rng.random((n, n)) < 0.5)
    J = upper + upper.T
    h = rng.normal(size=n)
    dense = BoltzmannMachine(J, h)
    sparse = BoltzmannMachine(sp.csr_matrix(J), h)
    states, e_dense, _ = exact.enumerate_states(dense)
    np.testing.assert_allclose(e_dense, ref.bm_energy(states, J, h), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sparse.energy(states), e_dense, rtol=1e-12, atol=1e-12)
    # {0,1} form: E(x) = -x W x / 2 - b x
    W, b = 2 * J, rng.normal(size=n)
    model, offset = BoltzmannMachine.from_binary(W, b)
    x = (states + 1) // 2
    e01 = -0.5 * np.einsum("ci,ij,cj->c", x, W, x) - x @ b
    np.testing.assert_allclose(model.energy(states) + offset, e01, rtol=1e-12, atol=1e-12)
    sk = BoltzmannMachine.sherrington_kirkpatrick(50, seed=0)
    assert sk.n_spins == 50 and np.allclose(sk.J.toarray(), sk.J.toarray().T)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(shape=0), ValueError, "shape"),
    (dict(shape=(4, -2)), ValueError, "shape"),
    (dict(shape=(4, 2.0)), TypeError, "shape"),
    (dict(shape=(4, 1)), ValueError, "periodic"),
    (dict(shape=()), ValueError, "shape"),
    (dict(shape=(4, 4), J=np.nan), ValueError, "J"),
    (dict(shape=(4, 4), h=np.inf), ValueError, "h"),
    (dict(shape=(4, 4), J="1"), TypeError, "J"),
    (dict(shape=(4, 4), periodic=(True,)), ValueError, "periodic"),
])
def test_bad_ising(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        Ising(**kwargs)


def test_bad_boltzmann_machines_and_states():
    with pytest.raises(ValueError, match="symmetric"):
        BoltzmannMachine(np.array([[0.0, 1.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="symmetric"):
        BoltzmannMachine(sp.csr_matrix(np.array([[0.0, 1.0], [0.0, 0.0]])))
    with pytest.raises(ValueError, match="diagonal"):
        BoltzmannMachine(np.eye(2))
    with pytest.raises(ValueError, match="finite"):
        BoltzmannMachine(np.array([[0.0, np.nan], [np.nan, 0.0]]))
    with pytest.raises(ValueError, match="square"):
        BoltzmannMachine(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="h"):
        BoltzmannMachine(np.zeros((2, 2)), h=[1.0, 2.0, 3.0])
    model = Ising((2, 2))
    with pytest.raises(ValueError, match="-1 and \\+1"):
        model.energy([[1, 0, 1, 1]])
    with pytest.raises(ValueError, match="shape"):
        model.energy(np.ones((3, 5)))
    with pytest.raises(TypeError, match="spins"):
        model.energy(np.ones((1, 4), dtype=complex))
    with pytest.raises(ValueError, match="at least one"):
        model.energy(np.ones((0, 4)))


# --- exact results ------------------------------------------------------------

@pytest.mark.parametrize("shape", [(2, 2), (3, 3), (4, 4), (3, 4), (2, 5)])
@pytest.mark.parametrize("T", [1.0, 2.0, 2.5, 5.0])
def test_kaufman_torus_against_enumeration(shape, T):
    model = Ising(shape)
    _, E, _ = exact.enumerate_states(model)
    ex = exact.torus_thermodynamics(shape, T)
    n = model.n_spins
    assert ex["log_partition"] == pytest.approx(heatbath.log_partition(E, T), rel=1e-13)
    assert ex["energy"] == pytest.approx(heatbath.mean_energy(E, T), rel=1e-12, abs=1e-12)
    assert ex["specific_heat"] == pytest.approx(heatbath.heat_capacity(E, T) / n, rel=1e-10)


@pytest.mark.parametrize("T", [1.5, 2.0, 3.0, 4.0])
def test_large_torus_approaches_onsager(T):
    # Away from T_c the finite-size corrections fall like exp(-L / xi).
    ex = exact.torus_thermodynamics((400, 400), T)
    assert ex["energy_per_spin"] == pytest.approx(exact.onsager_energy(T), abs=1e-9)
    assert ex["specific_heat"] == pytest.approx(exact.onsager_specific_heat(T), abs=1e-7)


def test_onsager_and_yang_known_values():
    Tc = exact.critical_temperature()
    assert Tc == pytest.approx(2 / np.log(1 + np.sqrt(2)), rel=1e-15)
    assert exact.onsager_energy(Tc) == pytest.approx(-np.sqrt(2), rel=1e-12)
    # numerical derivative of Onsager's energy equals his specific heat
    for T in (1.8, 3.2):
        d = (exact.onsager_energy(T + 1e-5) - exact.onsager_energy(T - 1e-5)) / 2e-5
        assert exact.onsager_specific_heat(T) == pytest.approx(d, rel=1e-6)
    assert exact.yang_magnetization(Tc * 1.0001) == 0.0
    assert exact.yang_magnetization(1e-3) == pytest.approx(1.0)
    # m^8 = 1 - sinh(2/T)^-4, checked at T = 2
    assert exact.yang_magnetization(2.0) ** 8 == pytest.approx(1 - np.sinh(1.0) ** -4, rel=1e-12)


# --- samplers against enumeration ---------------------------------------------

def _chi_square_pvalue(observed, expected, min_expected=5.0):
    """Chi-square p-value, pooling the bins with expected count < min_expected."""
    small = expected < min_expected
    obs = np.append(observed[~small], observed[small].sum())
    exp = np.append(expected[~small], expected[small].sum())
    keep = exp > 0
    assert observed[expected == 0].sum() == 0
    return stats.chisquare(obs[keep], exp[keep]).pvalue


def _final_states(sampler_cls, model, T, n_chains, burn_in, seed, **kw):
    sampler = sampler_cls(model, temperature=T, n_chains=n_chains, seed=seed, **kw)
    sampler.run(0, burn_in=burn_in)
    return sampler.spins


@pytest.mark.parametrize("side", [3, 4])
@pytest.mark.parametrize("T", [1.5, 2.27, 3.5])
@pytest.mark.parametrize("cls", SAMPLERS)
def test_lattice_samplers_chi_square_energy_magnetization(cls, T, side):
    # 20,000 independent chains, each run 200 sweeps from a random start;
    # the joint (E, M) histogram of the final states against enumeration.
    model = Ising((side, side))
    states, E, M = exact.enumerate_states(model)
    p = heatbath.boltzmann_probs(E, T)
    keys, inverse = np.unique(np.stack([E, M], axis=1), axis=0, return_inverse=True)
    expected = np.bincount(inverse.ravel(), weights=p) * 20_000
    kw = {"clusters_per_sweep": 2} if cls is WolffSampler else {}
    final = _final_states(cls, model, T, 20_000, 200, seed=side * 100 + int(T * 10), **kw)
    pairs = np.stack([model.energy(final), model.magnetization(final)], axis=1)
    lookup = {tuple(k): i for i, k in enumerate(keys)}
    observed = np.bincount([lookup[tuple(x)] for x in pairs], minlength=len(keys))
    assert _chi_square_pvalue(observed, expected) > 1e-4


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("cls", [MetropolisSampler, HeatBathSampler])
def test_boltzmann_machine_chi_square_state_distribution(cls, sparse):
    rng = np.random.default_rng(7)
    n = 10
    upper = np.triu(rng.normal(scale=0.6, size=(n, n)), 1)
    if sparse:
        upper *= rng.random((n, n)) < 0.4
    J = upper + upper.T
    model = BoltzmannMachine(sp.csr_matrix(J) if sparse else J, h=rng.normal(scale=0.5, size=n))
    states, E, _ = exact.enumerate_states(model)
    p = heatbath.boltzmann_probs(E, 1.3)
    final = _final_states(cls, model, 1.3, 30_000, 100, seed=11 + sparse)
    codes = ((final > 0).astype(np.int64) << np.arange(n)).sum(axis=1)
    observed = np.bincount(codes, minlength=2**n)
    assert _chi_square_pvalue(observed, p * 30_000) > 1e-4


@pytest.mark.parametrize("cls, T", [
    (MetropolisSampler, 2.0), (MetropolisSampler, 2.5), (MetropolisSampler, 3.0),
    (HeatBathSampler, 2.0), (HeatBathSampler, 2.5), (HeatBathSampler, 3.0),
    (WolffSampler, 2.27), (WolffSampler, 2.5),
])
def test_l16_against_exact_finite_torus(cls, T):
    model = Ising((16, 16))
    kw = {"clusters_per_sweep": 8} if cls is WolffSampler else {}
    trace = cls(model, temperature=T, n_chains=32, seed=int(T * 100), **kw).run(3000, burn_in=500)
    th = thermodynamics(trace)
    ex = exact.torus_thermodynamics((16, 16), T)
    e, e_err = th["energy_per_spin"]
    c, c_err = th["specific_heat"]
    assert abs(e - ex["energy_per_spin"]) < 4 * e_err
    assert abs(c - ex["specific_heat"]) < 4 * c_err
    assert trace.rhat("energy") < 1.05


# --- determinism, resume, state -------------------------------------------------

def _make(cls, model, **kw):
    kw = {"temperature": 2.4, "n_chains": 5, "seed": 9, **kw}
    return cls(model, **kw)


MODELS = [Ising((6, 8)), Ising((4, 4, 4), periodic=False), Ising((5, 6), periodic=(True, False)),
          BoltzmannMachine.sherrington_kirkpatrick(20, seed=1, h=0.1)]


def _pairs(models):
    """(sampler, model) pairs that make sense: Wolff only on lattices."""
    return [(cls, m) for cls in SAMPLERS for m in models
            if cls is not WolffSampler or isinstance(m, Ising)]


@pytest.mark.parametrize("cls, model", _pairs(MODELS), ids=repr)
def test_same_results_for_any_thread_count(cls, model):
    runs = [_make(cls, model, n_threads=t).run(40, burn_in=3, thin=2) for t in (1, 2, 3)]
    for r in runs[1:]:
        np.testing.assert_array_equal(r["energy"], runs[0]["energy"])
        np.testing.assert_array_equal(r["magnetization"], runs[0]["magnetization"])
        np.testing.assert_array_equal(r.final_state, runs[0].final_state)
        np.testing.assert_array_equal(r.acceptance_rate, runs[0].acceptance_rate)


@pytest.mark.parametrize("cls, model", _pairs(MODELS[:1] + MODELS[-1:]), ids=repr)
def test_two_runs_equal_one_longer_run_and_state_round_trip(cls, model):
    whole = _make(cls, model).run(60, thin=3)
    a = _make(cls, model)
    first = a.run(30, thin=3)
    saved = a.get_state()
    b = _make(cls, model, seed=12345)  # different seed: everything comes from the state
    b.set_state(saved)
    second = b.run(30, thin=3)
    for name in ("energy", "magnetization"):
        np.testing.assert_array_equal(np.vstack([first[name], second[name]]), whole[name])
    np.testing.assert_array_equal(second.final_state, whole.final_state)
    assert b.n_sweeps_done == 60
    # progress bars change nothing
    np.testing.assert_array_equal(_make(cls, model).run(60, thin=3, verbose=True)["energy"],
                                  whole["energy"])


@pytest.mark.parametrize("shape, periodic, cls", [
    ((4, 6), True, MetropolisSampler), ((5, 3), False, HeatBathSampler),
    ((4, 4, 2), True, MetropolisSampler), ((10,), True, HeatBathSampler),
    ((4, 5), (True, False), MetropolisSampler),
])
def test_kernels_equal_numpy_checkerboard_twin(shape, periodic, cls):
    model = Ising(shape, J=0.7, h=0.3, periodic=periodic)
    T = [1.5, 2.5, 3.5]
    sampler = cls(model, temperature=T, n_chains=3, seed=4)
    spins, streams = sampler.spins, sampler.get_state()["stream_state"]
    trace = sampler.run(7)
    out = ref.checkerboard_sweeps(shape, spins, streams, T, 7, J=0.7, h=0.3, periodic=periodic,
                                  algorithm=cls.algorithm)
    np.testing.assert_array_equal(out[0], sampler.spins)
    np.testing.assert_array_equal(out[1], sampler.get_state()["stream_state"])
    np.testing.assert_array_equal(-0.7 * out[2] - 0.3 * out[3], trace["energy"])
    np.testing.assert_array_equal(out[4] / (7 * model.n_spins), trace.acceptance_rate)


@pytest.mark.parametrize("shape", [(6, 6), (3, 4, 3)])
def test_wolff_equals_python_twin(shape):
    model = Ising(shape)
    sampler = WolffSampler(model, temperature=2.3, n_chains=2, seed=5, clusters_per_sweep=3)
    spins, streams = sampler.spins, sampler.get_state()["stream_state"]
    trace = sampler.run(10)
    out = ref.wolff_sweeps(model.neighbors, spins, streams, 2.3, 10, clusters_per_sweep=3)
    np.testing.assert_array_equal(out[0], sampler.spins)
    np.testing.assert_array_equal(out[1], sampler.get_state()["stream_state"])
    np.testing.assert_array_equal(out[2], trace["magnetization"])


def test_trace_energies_match_model_energy():
    for model in MODELS:
        trace = MetropolisSampler(model, temperature=2.0, n_chains=3, seed=0).run(5)
        np.testing.assert_allclose(trace["energy"][-1], model.energy(trace.final_state),
                                   rtol=1e-12, atol=1e-9)


def test_per_chain_temperatures_and_limits():
    model = Ising((8, 8))
    s = MetropolisSampler(model, temperature=[1e-3, np.inf], n_chains=2, seed=0, init="up")
    trace = s.run(20)
    assert trace.acceptance_rate[0] == 0.0  # frozen at T -> 0 from the ground state
    # T = inf: every site is a fair coin (q = 1/2), binomial s.e. on 1280 attempts
    assert abs(trace.acceptance_rate[1] - 0.5) < 4.5 * np.sqrt(0.25 / 1280)
    s.temperature = 2.0
    np.testing.assert_array_equal(s.temperature, [2.0, 2.0])


def test_sampler_errors():
    model = Ising((4, 4))
    for kw, exc, match in [
        (dict(temperature=0.0), ValueError, "temperature"),
        (dict(temperature=-1.0), ValueError, "temperature"),
        (dict(temperature=[1.0, 2.0]), ValueError, "temperature"),
        (dict(n_chains=0), ValueError, "n_chains"),
        (dict(n_threads=0), ValueError, "n_threads"),
        (dict(seed="x"), TypeError, "seed"),
        (dict(init="hot"), ValueError, "init"),
        (dict(init=np.ones((2, 16))), ValueError, "init"),
        (dict(init=np.zeros(16)), ValueError, "init"),
    ]:
        with pytest.raises(exc, match=match):
            MetropolisSampler(model, **{"n_chains": 3, **kw})
    with pytest.raises(TypeError, match="model"):
        MetropolisSampler("ising")
    with pytest.raises(ValueError, match="h = 0"):
        WolffSampler(Ising((4, 4), h=0.1))
    with pytest.raises(ValueError, match="J > 0"):
        WolffSampler(Ising((4, 4), J=-1.0))
    with pytest.raises(TypeError, match="model"):
        WolffSampler(BoltzmannMachine(np.zeros((2, 2))))
    s = MetropolisSampler(model, n_chains=2)
    for kw, exc in [(dict(n_sweeps=-1), ValueError), (dict(n_sweeps=1, thin=0), ValueError),
                    (dict(n_sweeps=1.0), TypeError), (dict(n_sweeps=1, burn_in=-1), ValueError)]:
        with pytest.raises(exc):
            s.run(**kw)
    state = s.get_state()
    with pytest.raises(ValueError, match="format_version"):
        s.set_state({**state, "format_version": 99})
    with pytest.raises(ValueError, match="chains"):
        s.set_state({**state, "spins": np.ones((3, 16))})
    with pytest.raises(ValueError, match="HeatBathSampler"):
        HeatBathSampler(model, n_chains=2).set_state(state)
    with pytest.raises(ValueError, match="missing"):
        s.set_state({"spins": state["spins"]})
    np.testing.assert_array_equal(s.spins, state["spins"])  # failed restores change nothing


def test_one_sampler_used_from_two_threads_is_refused_not_corrupted():
    s = MetropolisSampler(Ising((4, 4)), n_chains=2, seed=0)
    before = s.get_state()
    s._lock._lock.acquire()  # as if another thread were inside run()
    try:
        with pytest.raises(RuntimeError, match="already in use"):
            s.run(10)
    finally:
        s._lock._lock.release()
    np.testing.assert_array_equal(s.spins, before["spins"])
    # separate samplers in separate threads give the sequential results
    results = {}

    def work(k):
        results[k] = MetropolisSampler(Ising((16, 16)), temperature=2.3, n_chains=4, seed=k).run(200)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(3):
        alone = MetropolisSampler(Ising((16, 16)), temperature=2.3, n_chains=4, seed=k).run(200)
        np.testing.assert_array_equal(results[k]["energy"], alone["energy"])


def test_thermodynamics_requires_one_temperature():
    trace = MetropolisSampler(Ising((4, 4)), temperature=[1.0, 2.0], n_chains=2, seed=0).run(10)
    with pytest.raises(ValueError, match="temperature"):
        thermodynamics(trace)


def _closed_classes_of_sweep(model, beta, algorithm):
    """Closed classes of the exact one-sweep chain, from the sampler's own q table.

    The graph has a node per (position in the sweep, state): a site visit
    can keep the spin (q < 1) or flip it (q > 0).
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    from heatbath.spin.samplers import flip_probabilities

    states, _, _ = exact.enumerate_states(model)
    n, N = model.n_spins, 2**model.n_spins
    q_table = flip_probabilities(model, np.array([beta]), algorithm)[0]
    z = model.coordination
    xs = np.arange(N)
    rows, cols = [], []
    for phase, i in enumerate(model.sweep_order):
        nb = model.neighbors[i]
        sigma = np.where(nb >= 0, states[:, np.maximum(nb, 0)], 0).sum(axis=1)
        q = q_table[(states[:, i] > 0).astype(int), sigma + z]
        src, nxt = phase * N + xs, ((phase + 1) % n) * N
        rows += [src[q < 1], src[q > 0]]
        cols += [nxt + xs[q < 1], nxt + (xs ^ (1 << int(i)))[q > 0]]
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = csr_matrix((np.ones(r.size), (r, c)), shape=(n * N, n * N))
    k, label = connected_components(graph, directed=True, connection="strong")
    leaves = np.zeros(k, dtype=bool)
    leaves[label[r][label[r] != label[c]]] = True
    return int((~leaves).sum())


@pytest.mark.parametrize("shape, periodic", [((2, 4), True), ((3, 3), True), ((3, 4), True),
                                             ((8,), True), ((3, 3), False), ((2, 2, 2), True)])
@pytest.mark.parametrize("algorithm", ["metropolis", "heat_bath"])
@pytest.mark.parametrize("beta", [0.0, 0.4, 1.0])
def test_sweep_chain_is_irreducible(shape, periodic, algorithm, beta):
    # Plain sweep Metropolis (q = 1 at dE = 0) has 3-5 closed classes on
    # these tori at every beta, and 2**(n-1) at beta = 0; the rule used here
    # must have exactly one, so the Boltzmann distribution is the only one.
    for h in (0.0, 0.5):
        model = Ising(shape, h=h, periodic=periodic)
        assert _closed_classes_of_sweep(model, beta, algorithm) == 1


@pytest.mark.parametrize("L", [4, 16, 64])
def test_torus_is_smooth_through_the_critical_point(L):
    # One of Kaufman's four terms vanishes at T_c; the derivatives must not
    # lose precision there (a 1/gamma_0 cancellation once cost 3 digits).
    Tc = exact.critical_temperature()
    at = exact.torus_thermodynamics((L, L), Tc)
    for eps in (1e-12, -1e-12, 1e-9, -1e-9):
        near = exact.torus_thermodynamics((L, L), Tc * (1 + eps))
        assert near["specific_heat"] == pytest.approx(at["specific_heat"], rel=1e-7)
        assert near["energy_per_spin"] == pytest.approx(at["energy_per_spin"], rel=1e-8)


FROZEN = {  # sha256[:32] of (energy, magnetization, final states), from 2026-11-22
    "metropolis_2d": "a56588f75275c03dc9a18dfe7ceffd79",
    "heatbath_3d_open": "4058991921b2fd347da6a2ef3386056a",
    "wolff_2d": "9e38c21a288d54f7a2a94187d630e8bc",
    "metropolis_bm": "8717a4c800dc37cf75bcb2bcbec925e1",
}


@pytest.mark.parametrize("name", sorted(FROZEN))
def test_frozen_digests(name):
    # CI runs these on the OpenMP build, a serial build and a bounds-checked
    # build: all must give these exact bits. The lattice cases use integer
    # thresholds only; the BM case calls libm's exp, so its digest holds for
    # one platform's libm (glibc's exp is correctly rounded).
    import hashlib

    J = np.zeros((6, 6))
    J[np.arange(5), np.arange(1, 6)] = 0.5
    J = J + J.T
    sampler = {
        "metropolis_2d": lambda: MetropolisSampler(Ising((8, 6), J=1.0, h=0.25), temperature=[2.0, 3.0],
                                                   n_chains=2, seed=1),
        "heatbath_3d_open": lambda: HeatBathSampler(Ising((3, 4, 5), periodic=False), temperature=2.5,
                                                    n_chains=2, seed=2),
        "wolff_2d": lambda: WolffSampler(Ising((8, 8)), temperature=2.3, n_chains=2, seed=3,
                                         clusters_per_sweep=2),
        "metropolis_bm": lambda: MetropolisSampler(
            BoltzmannMachine(J, h=np.linspace(-1, 1, 6)), temperature=1.5, n_chains=2, seed=4),
    }[name]()
    tr = sampler.run(25, burn_in=3, thin=2)
    data = tr["energy"].tobytes() + tr["magnetization"].tobytes() + tr.final_state.tobytes()
    assert hashlib.sha256(data).hexdigest()[:32] == FROZEN[name]
