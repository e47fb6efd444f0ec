"""RBMs against exact enumeration, the NumPy twins, and the exact gradient.

False alarms: each chi-square test fails a correct sampler with probability
1e-4; gradient entries are allowed 4.5 standard errors (Bonferroni over 15
entries: 1e-4).
"""

import itertools

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import logsumexp

from heatbath import RBM, _random
from heatbath.rbm.train import _Chains, _up, cd_step
from heatbath.reference import rbm as ref

DISCRETE = ["bernoulli", "spin", "binomial(2)", "softmax(2)"]


def _model(visible, hidden, nv=6, nh=4, scale=0.8, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    m = RBM(nv, nh, visible, hidden, dtype=dtype)
    a = rng.normal(scale=0.5, size=nv)
    if visible == "gaussian":
        a = rng.normal(scale=0.5, size=nv)
    return m.set_parameters(rng.normal(scale=scale, size=(nv, nh)), a,
                            rng.normal(scale=0.5, size=nh))


def _brute_log_z(m):
    V = m.visible.enumerate(m.n_visible)
    H = m.hidden.enumerate(m.n_hidden)
    E = np.array([m.energy(np.repeat(v[None], len(H), 0), H) for v in V])
    return logsumexp(-E), V, H, E


@pytest.mark.parametrize("visible, hidden", list(itertools.product(DISCRETE, DISCRETE)))
def test_free_energies_and_log_z_against_double_enumeration(visible, hidden):
    m = _model(visible, hidden, nv=4, nh=4)
    log_z, V, H, E = _brute_log_z(m)
    np.testing.assert_allclose(m.free_energy(V), -logsumexp(-E, axis=1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(m.free_energy_hidden(H), -logsumexp(-E, axis=0), rtol=1e-12,
                               atol=1e-12)
    assert m.log_partition() == pytest.approx(log_z, rel=1e-13)


@pytest.mark.parametrize("visible", ["bernoulli", "spin"])
def test_gaussian_hidden_free_energy_against_quadrature(visible):
    m = _model(visible, "gaussian", nv=3, nh=1, scale=0.7)
    V = m.visible.enumerate(3)
    for v in V:
        z, _ = integrate.quad(lambda h: np.exp(-m.energy(v[None], [[h]])[0]), -40, 40,
                              epsabs=0, epsrel=1e-12)
        assert m.free_energy(v[None])[0] == pytest.approx(-np.log(z), rel=1e-9, abs=1e-9)


def _chi2(observed, expected):
    small = expected < 5
    obs = np.append(observed[~small], observed[small].sum())
    exp = np.append(expected[~small], expected[small].sum())
    keep = exp > 0
    return stats.chisquare(obs[keep], exp[keep]).pvalue


def _codes(states, values):
    """Index of each row of ``states`` among the rows of ``values``."""
    lookup = {tuple(r): i for i, r in enumerate(values)}
    return np.array([lookup[tuple(r)] for r in states])


@pytest.mark.parametrize("visible, hidden", [
    ("bernoulli", "bernoulli"), ("spin", "bernoulli"), ("bernoulli", "spin"),
    ("binomial(2)", "bernoulli"), ("softmax(3)", "bernoulli"), ("bernoulli", "softmax(2)"),
    ("bernoulli", "binomial(3)"), ("spin", "gaussian"), ("gaussian", "bernoulli"),
])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_block_gibbs_chi_square_against_enumeration(visible, hidden, dtype):
    # 6 visible x 4 hidden, 20,000 chains, 400 steps each; final states tested
    # against the exact marginal of a discrete layer. (Gaussian hidden units
    # make these weights strongly bimodal: 60 steps are too few to mix.)
    m = _model(visible, hidden, dtype=dtype, seed=len(visible + hidden))
    sampler = m.gibbs_sampler(n_chains=20_000, seed=5)
    sampler.run(0, burn_in=400)
    if visible != "gaussian":
        states, F = m.visible.enumerate(6), None
        F = m.free_energy(states)
        observed = np.bincount(_codes(sampler.visible, states), minlength=len(states))
    else:
        states = m.hidden.enumerate(4)
        F = m.free_energy_hidden(states)
        observed = np.bincount(_codes(sampler.hidden, states), minlength=len(states))
    p = np.exp(-F - logsumexp(-F))
    assert _chi2(observed, p * 20_000) > 1e-4


def test_block_gibbs_at_a_temperature():
    m = _model("bernoulli", "bernoulli", seed=3)
    T = 2.0
    V, H = m.visible.enumerate(6), m.hidden.enumerate(4)
    E = np.array([m.energy(np.repeat(v[None], len(H), 0), H) for v in V])
    p = np.exp(logsumexp(-E / T, axis=1) - logsumexp(-E / T))
    s = m.sample(20_000, 60, temperature=T, seed=9)
    assert _chi2(np.bincount(_codes(s, V), minlength=64), p * 20_000) > 1e-4


@pytest.mark.parametrize("method, k", [("cd", 1), ("cd", 3), ("pcd", 2)])
@pytest.mark.parametrize("visible", ["bernoulli", "spin", "gaussian", "softmax(2)"])
def test_update_equals_numpy_twin(method, k, visible):
    m = _model(visible, "bernoulli", nv=8, nh=5, scale=0.3, seed=2)
    rng = np.random.default_rng(1)
    V0 = m.sample(12, 3, seed=4)  # valid data for any unit type
    streams = _random.spawn_states(7, 12)
    velocity = [rng.normal(size=m.weights.shape) * 0.01, np.zeros(8), np.zeros(5)]
    W, a, b = m.weights.copy(), m.visible_bias.copy(), m.hidden_bias.copy()
    persistent, twin_persistent = None, None
    if method == "pcd":
        start = m.sample(6, 2, seed=8)
        pst = _random.spawn_states(3, 6)
        persistent = _Chains(m, start, pst.copy(), np.ones(6))
        twin_persistent = {"v": start.copy(), "streams": pst.copy()}
    twin = ref.cd_update(W, a, b, (m.visible.kind, m.visible.param),
                         (m.hidden.kind, m.hidden.param), V0, k, streams.copy(),
                         [v.copy() for v in velocity], 0.05, 0.5, 0.01, twin_persistent)
    cd_step(m, V0, k, streams, velocity, 0.05, 0.5, 0.01, persistent, n_threads=2)
    np.testing.assert_allclose(m.weights, twin[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(m.visible_bias, twin[1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(m.hidden_bias, twin[2], rtol=0, atol=1e-12)
    if method == "pcd":
        np.testing.assert_allclose(persistent.v, twin[5]["v"], atol=1e-12)


@pytest.mark.parametrize("kind, param, n", [(2, 0, 7), (4, 3, 9)])   # gaussian, softmax
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_layer_kernel_equals_twin(kind, param, n, dtype):
    from heatbath.rbm import _gibbs

    rng = np.random.default_rng(kind)
    x = rng.normal(scale=2, size=(40, n)).astype(dtype)
    beta = rng.random(40) + 0.2
    states = _random.spawn_states(1, 40)
    means, samples, new_states = ref.sample_layer(x, kind, param, beta, states)
    out = np.empty_like(x)
    for n_threads in (1, 2, 3):
        xx, st = x.copy(), states.copy()
        _gibbs._sample_layer(xx, out, kind, param, beta, st, n_threads)
        np.testing.assert_array_equal(out, samples)
        np.testing.assert_array_equal(st, new_states)
        np.testing.assert_allclose(xx, means, rtol=0, atol=4 * np.finfo(dtype).eps)


def test_pcd_negative_phase_matches_the_exact_gradient():
    # The PCD negative statistic <v E[h|v]^T> over long-run chains, against
    # its exact value from enumeration; the error bar comes from 2,000
    # independent chains, each averaged over 200 steps.
    m = _model("bernoulli", "bernoulli", nv=5, nh=3, scale=1.0, seed=11)
    V = m.visible.enumerate(5)
    p = np.exp(-m.free_energy(V) - m.log_partition())
    exact = (p[:, None] * V).T @ _up(m, V)
    chains = _Chains(m, m.sample(2000, 1, seed=1), _random.spawn_states(2, 2000), np.ones(2000))
    chains.gibbs(m, 100, 2)
    per_chain = np.zeros((2000, 5, 3))
    for _ in range(200):
        chains.gibbs(m, 1, 2)
        per_chain += chains.v[:, :, None] * _up(m, chains.v)[:, None, :]
    per_chain /= 200
    mean = per_chain.mean(axis=0)
    se = per_chain.std(axis=0, ddof=1) / np.sqrt(2000)
    assert np.all(np.abs(mean - exact) < 4.5 * se)


def test_training_recovers_a_known_model():
    # Data: 20,000 exact samples of a 6x3 RBM. A 6x3 RBM trained by PCD must
    # come within 0.02 nats (KL from the empirical distribution) of it; the
    # true model itself is ~ (64 - 1) / (2 * 20000) = 0.0016 nats away.
    teacher = _model("bernoulli", "bernoulli", nv=6, nh=3, scale=1.5, seed=21)
    V = teacher.visible.enumerate(6)
    p = np.exp(-teacher.free_energy(V) - teacher.log_partition())
    X = V[np.random.default_rng(0).choice(len(V), size=20_000, p=p)]
    emp = np.bincount(_codes(X, V), minlength=64) / 20_000

    def kl(model):
        q = np.exp(-model.free_energy(V) - model.log_partition())
        return float(np.sum(emp[emp > 0] * np.log(emp[emp > 0] / q[emp > 0])))

    student = RBM(6, 3, seed=1)
    before = kl(student)
    student.fit(X, epochs=30, batch_size=50, method="pcd", learning_rate=0.05, momentum=0.5,
                n_persistent_chains=100, seed=2)
    after = kl(student)
    assert after < 0.02 and after < before / 10, (before, after)
    assert kl(teacher) < 0.005


def test_fit_is_thread_count_independent_and_pt_reports_swaps():
    X = (np.random.default_rng(0).random((120, 8)) < 0.3).astype(float)
    runs = []
    for n_threads in (1, 2):
        m = RBM(8, 5, seed=0)
        h = m.fit(X, epochs=3, batch_size=20, method="pt", n_temperatures=3,
                  n_persistent_chains=10, seed=4, n_threads=n_threads).history_
        runs.append((m.weights.copy(), h))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    rates = np.array(runs[0][1]["swap_rate"])
    assert rates.shape == (3, 2) and ((rates >= 0) & (rates <= 1)).all()


def test_sampler_resume_and_state():
    m = _model("spin", "bernoulli", seed=4)
    whole = m.gibbs_sampler(n_chains=5, seed=3).run(30)
    s = m.gibbs_sampler(n_chains=5, seed=3)
    first = s.run(10)
    t = m.gibbs_sampler(n_chains=5, seed=99)
    t.set_state(s.get_state())
    second = t.run(20)
    np.testing.assert_array_equal(np.vstack([first["free_energy"], second["free_energy"]]),
                                  whole["free_energy"])
    np.testing.assert_array_equal(second.final_state, whole.final_state)


def test_save_load_round_trip(tmp_path):
    for visible, hidden in [("bernoulli", "bernoulli"), ("binomial(3)", "spin"),
                            ("softmax(2)", "gaussian"), ("gaussian", "softmax(3)")]:
        m = _model(visible, hidden, nv=6, nh=6, dtype=np.float32)
        path = tmp_path / "model.npz"
        m.save(path)
        back = RBM.load(path)
        assert (back.visible, back.hidden, back.dtype) == (m.visible, m.hidden, m.dtype)
        np.testing.assert_array_equal(back.weights, m.weights)
        np.testing.assert_array_equal(back.hidden_bias, m.hidden_bias)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="cannot read"):
        RBM.load(tmp_path / "bad.npz")
    np.savez(tmp_path / "future.npz", format_version=99, weights=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="format_version"):
        RBM.load(tmp_path / "future.npz")
    np.savez(tmp_path / "partial.npz", format_version=1, weights=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="missing"):
        RBM.load(tmp_path / "partial.npz")


def test_bad_input():
    m = RBM(4, 3)
    X = np.zeros((5, 4))
    for bad, match in [(X + 0.5, "binary"), (np.zeros((5, 3)), "shape"),
                       (np.where(X == 0, np.nan, 0), "finite")]:
        with pytest.raises(ValueError, match=match):
            m.fit(bad, epochs=1)
    with pytest.raises(ValueError, match="learning_rate"):
        m.fit(X, learning_rate=0)
    with pytest.raises(ValueError, match="learning_rate"):
        m.fit(X, learning_rate=-1)
    with pytest.raises(ValueError, match="method"):
        m.fit(X, method="sgd")
    with pytest.raises(ValueError, match="momentum"):
        m.fit(X, momentum=1.0)
    with pytest.raises(ValueError, match="-1 or \\+1"):
        RBM(4, 3, visible="spin").free_energy(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="counts"):
        RBM(4, 3, visible="binomial(2)").free_energy(np.full((1, 4), 3.0))
    with pytest.raises(ValueError, match="one-hot"):
        RBM(4, 3, visible="softmax(2)").free_energy(np.ones((1, 4)))
    with pytest.raises(ValueError, match="multiple"):
        RBM(5, 3, visible="softmax(2)")
    with pytest.raises(ValueError, match="normalisable"):
        RBM(4, 3, visible="gaussian", hidden="gaussian")
    with pytest.raises(ValueError, match="visible"):
        RBM(4, 3, visible="cauchy")
    with pytest.raises(ValueError, match="n_visible"):
        RBM(0, 3)
    with pytest.raises(TypeError, match="dtype"):
        RBM(4, 3, dtype=np.int32)
    with pytest.raises(ValueError, match="temperature"):
        m.sample(2, 1, temperature=0.0)
    with pytest.raises(ValueError, match="n_chains"):
        m.sample(0, 1)
    with pytest.raises(ValueError, match="exact"):
        RBM(30, 30).log_partition()


def test_divergence_stops_naming_the_epoch_and_keeps_the_model():
    X = np.random.default_rng(0).normal(scale=100, size=(50, 4))
    m = RBM(4, 3, visible="gaussian", seed=0)
    with pytest.raises(FloatingPointError, match="epoch"):
        m.fit(X, epochs=50, learning_rate=1e3, batch_size=10, seed=0)
    assert all(np.isfinite(p).all() for p in (m.weights, m.visible_bias, m.hidden_bias))


@pytest.mark.parametrize("unit", ["bernoulli", "spin", "binomial(3)", "softmax(3)", "gaussian"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_production_layer_path_equals_twin(unit, dtype):
    # What the sampler and the trainer call: numpy SIMD probabilities plus
    # the Cython draw kernel (or the fused kernel), against the twin.
    from heatbath.rbm._layers import sample_
    from heatbath.rbm.units import as_unit

    u = as_unit(unit)
    rng = np.random.default_rng(3)
    x = rng.normal(scale=2, size=(30, 9)).astype(dtype)
    beta = rng.random(30) + 0.2
    states = _random.spawn_states(2, 30)
    means, samples, new_states = ref.sample_layer(x, u.kind, u.param, beta, states)
    xx, st, out = x.copy(), states.copy(), np.empty_like(x)
    sample_(xx, out, u, beta, st, 2)
    np.testing.assert_array_equal(out, samples)
    np.testing.assert_array_equal(st, new_states)
    np.testing.assert_allclose(xx, means, rtol=0, atol=4 * np.finfo(dtype).eps)


@pytest.mark.parametrize("method, k", [("cd", 1), ("cd", 3), ("pcd", 2)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_epoch_kernel_equals_general_path(method, k, dtype, monkeypatch):
    # Small Bernoulli models train with one fused kernel per epoch; it must
    # make the same draws and updates as the general (BLAS + layer kernel) path.
    from heatbath.rbm import train

    X = (np.random.default_rng(0).random((137, 20)) < 0.3).astype(float)
    results = []
    for fused in (True, False):
        monkeypatch.setattr(train, "_use_fused", lambda m, f=fused: f)
        m = RBM(20, 7, dtype=dtype, seed=0)
        m.fit(X, epochs=3, batch_size=10, method=method, k=k, learning_rate=0.1,
              momentum=0.5, weight_decay=1e-3, n_persistent_chains=15, seed=1)
        results.append((m.weights, m.visible_bias, m.hidden_bias))
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for x, y in zip(*results):
        np.testing.assert_allclose(x, y, rtol=0, atol=tol)


def test_concurrent_use_is_refused_or_matches_sequential_use():
    """Kernels release the GIL: separate samplers in threads equal sequential runs;
    one sampler or one model in two threads at once is refused, never corrupted."""
    import copy
    import pickle
    import threading

    rng = np.random.default_rng(0)
    model = RBM(300, 200, dtype=np.float32, seed=0)
    model.set_parameters(rng.normal(scale=0.1, size=(300, 200)))
    results = {}

    def work(k):
        results[k] = model.gibbs_sampler(n_chains=64, seed=k, n_threads=2).run(20)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(3):
        alone = model.gibbs_sampler(n_chains=64, seed=k).run(20)
        np.testing.assert_array_equal(results[k]["free_energy"], alone["free_energy"])
        np.testing.assert_array_equal(results[k].final_state, alone.final_state)
    sampler = model.gibbs_sampler(n_chains=4, seed=1)
    before = sampler.get_state()
    sampler._lock._lock.acquire()            # as if another thread were inside run()
    try:
        with pytest.raises(RuntimeError, match="already in use"):
            sampler.run(5)
        with pytest.raises(RuntimeError, match="already in use"):
            sampler.set_state(before)
    finally:
        sampler._lock._lock.release()
    np.testing.assert_array_equal(sampler.visible, before["visible"])
    X = (rng.random((20, 300)) < 0.2).astype(float)
    model._busy._lock.acquire()              # as if another thread were training it
    try:
        with pytest.raises(RuntimeError, match="being trained"):
            model.fit(X, epochs=1)
    finally:
        model._busy._lock.release()
    # Models and samplers still copy and pickle (the guard is made afresh).
    for obj in (model, sampler):
        for twin in (copy.deepcopy(obj), pickle.loads(pickle.dumps(obj))):
            assert not (twin._busy if obj is model else twin._lock).locked()
    assert np.array_equal(pickle.loads(pickle.dumps(model)).weights, model.weights)


def test_caller_arrays_are_never_modified_or_required_writable():
    from heatbath import Ising, MetropolisSampler

    rng = np.random.default_rng(1)
    W = rng.normal(scale=0.1, size=(6, 3))
    X = (rng.random((40, 6)) < 0.4).astype(float)
    init = X[:5].copy()
    spins = np.ones((2, 16), dtype=np.int8)
    keep = [a.copy() for a in (W, X, init, spins)]
    for a in (W, X, init, spins):
        a.setflags(write=False)
    m = RBM(6, 3).set_parameters(weights=W)
    m.fit(X, epochs=2, seed=0)
    sampler = m.gibbs_sampler(n_chains=5, init=init, seed=1)
    sampler.run(5)
    state = sampler.get_state()
    sampler.set_state(state)
    sampler.run(3)
    MetropolisSampler(Ising((4, 4)), temperature=2.0, n_chains=2, init=spins, seed=0).run(10)
    for a, b in zip((W, X, init, spins), keep):
        np.testing.assert_array_equal(a, b)
