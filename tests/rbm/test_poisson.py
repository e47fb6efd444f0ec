"""Poisson units: exact draws, twins, enumeration with a truncated count support, estimators.

Truncation. Poisson units take every count 0, 1, 2, ...; a test that enumerates
them sums a box of counts 0..K-1 per unit and first checks, in closed form,
that the probability outside the box is below a stated bound (1e-9 for the
sampling tests, 1e-14 where exact values are compared). Samples outside the
box go into one tail bin whose expected count is that mass.

False alarms: each chi-square test fails a correct sampler with probability
1e-4 (the seeds are fixed, so the outcome is reproducible).
"""

import itertools

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

from heatbath import RBM, _random
from heatbath.rbm import _gibbs, estimators
from heatbath.rbm._layers import sample_
from heatbath.rbm.train import PersistentChains, cd_step
from heatbath.rbm.units import POISSON, Poisson, as_unit
from heatbath.reference import rbm as ref
from heatbath.reference import random as ref_random

ALPHA = 1e-4

# Rates that exercise every branch: zero, inversion, the switch at 10, PTRS,
# the largest rate, and refused ones (NaN out, no draws).
RATES = [0.0, 1e-300, 1e-3, 0.5, 3.0, 9.999999, 10.0, 10.5, 37.2, 1e3, 1e5, 1e7]
REFUSED = [np.nan, np.inf, -1.0, 1.0000001e7]


def _model(hidden="bernoulli", nv=3, nh=3, scale=0.6, rates=(1.0, 4.0, 15.0), seed=0,
           dtype=np.float64, visible="poisson"):
    rng = np.random.default_rng(seed)
    m = RBM(nv, nh, visible, hidden, dtype=dtype)
    if visible == "poisson":
        a = np.log(np.resize(np.asarray(rates, dtype=float), nv)) + rng.normal(scale=0.2,
                                                                                size=nv)
    else:
        a = rng.normal(scale=0.5, size=nv)
    return m.set_parameters(rng.normal(scale=scale, size=(nv, nh)), a,
                            rng.normal(scale=0.5, size=nh))


def _box(n_units, K):
    return np.array(list(itertools.product(range(K), repeat=n_units)), dtype=float)


def _poisson_layer_tail(m, K, layer="visible"):
    """P(some poisson unit >= K) under the model, exactly (hidden layer enumerated)."""
    other = m.hidden if layer == "visible" else m.visible
    n_other = m.n_hidden if layer == "visible" else m.n_visible
    S = other.enumerate(n_other)
    W = m.weights if layer == "visible" else m.weights.T
    own_b, other_b = (m.visible_bias, m.hidden_bias) if layer == "visible" else \
        (m.hidden_bias, m.visible_bias)
    log_rates = own_b + S @ W.T                                   # (states, units)
    log_w = -other.phi(S, other_b).sum(axis=1) + np.exp(log_rates).sum(axis=1)
    p = np.exp(log_w - logsumexp(log_w))
    inside = stats.poisson.cdf(K - 1, np.exp(log_rates)).prod(axis=1)
    return float(p @ (1.0 - inside))


def _truncation(m, bound, layer="visible"):
    """The least K (a multiple of 5) whose box 0..K-1 leaves out less than ``bound``."""
    for K in range(20, 400, 5):
        if _poisson_layer_tail(m, K, layer) < bound:
            return K
    raise AssertionError("no truncation below 400 counts")


def _energies(m, V, H):
    """E(v, h) for every pair, shape (len(V), len(H)), by the model's own energy()."""
    return m.energy(np.repeat(V, len(H), axis=0), np.tile(H, (len(V), 1))).reshape(
        len(V), len(H))


def _chi2(observed, expected):
    small = expected < 5
    obs = np.append(observed[~small], observed[small].sum())
    exp = np.append(expected[~small], expected[small].sum())
    keep = exp > 0
    return stats.chisquare(obs[keep], exp[keep] * obs[keep].sum() / exp[keep].sum()).pvalue


# -- the draws ----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_draw_kernel_equals_twin_bit_for_bit(dtype, thread_count):
    rates = np.array([RATES + REFUSED] * 23, dtype=dtype)
    states = _random.spawn_states(3, 23)
    want, want_states = ref_random.poisson(states, rates)
    out, st = np.empty_like(rates), states.copy()
    _gibbs._draw(rates, out, POISSON, 0, st, thread_count)
    np.testing.assert_array_equal(out, want.astype(dtype))
    np.testing.assert_array_equal(st, want_states)
    assert np.isnan(out[:, len(RATES):]).all() and (out[:, :len(RATES)] >= 0).all()
    assert (out[:, :2] == 0).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_layer_kernels_and_production_path_equal_twin(dtype, thread_count):
    rng = np.random.default_rng(4)
    x = rng.normal(loc=1.0, scale=2.0, size=(31, 9)).astype(dtype)   # rates up to ~1e4
    x[0, 0] = -800.0                                                  # rate 0 (underflow)
    beta = rng.random(31) + 0.2
    beta[0], beta[1] = 1.0, 0.0                                       # T = inf: rate 1
    states = _random.spawn_states(5, 31)
    means, samples, new_states = ref.sample_layer(x, POISSON, 0, beta, states)
    assert means.dtype == dtype and means[0, 0] == 0 and (means[1] == 1).all()
    # the fused pass
    xx, st, out = x.copy(), states.copy(), np.empty_like(x)
    _gibbs._sample_layer(xx, out, POISSON, 0, beta, st, thread_count)
    np.testing.assert_array_equal(out, samples)
    np.testing.assert_array_equal(st, new_states)
    np.testing.assert_array_equal(xx, means)
    # the means alone, and what samplers and trainers call (rates, check, draws)
    xx = x.copy()
    _gibbs._layer_means(xx, POISSON, 0, beta, thread_count)
    np.testing.assert_array_equal(xx, ref.layer_means(x, POISSON, 0, beta))
    xx, st, out = x.copy(), states.copy(), np.empty_like(x)
    sample_(xx, out, Poisson(), beta, st, thread_count)
    np.testing.assert_array_equal(out, samples)
    np.testing.assert_array_equal(st, new_states)


@pytest.mark.parametrize("lam", [0.3, 4.0, 9.99, 10.0, 31.7, 1000.0, 2.5e5])
def test_draws_chi_square_against_the_poisson_pmf(lam):
    n_rows, n_units = 100, 500
    out = np.empty((n_rows, n_units))
    _gibbs._draw(np.full((n_rows, n_units), lam), out, POISSON, 0,
                 _random.spawn_states(int(lam * 10), n_rows), 2)
    x = out.ravel().astype(np.int64)
    lo = max(0, int(lam - 8 * np.sqrt(lam)) - 5)
    hi = int(lam + 8 * np.sqrt(lam)) + 20
    k = np.arange(lo, hi + 1)
    expected = np.append(stats.poisson.pmf(k, lam), stats.poisson.cdf(lo - 1, lam)
                         + stats.poisson.sf(hi, lam)) * x.size
    inside = (x >= lo) & (x <= hi)
    observed = np.append(np.bincount(x[inside] - lo, minlength=k.size), (~inside).sum())
    assert _chi2(observed, expected) > ALPHA
    # the mean within 4.5 standard errors as well
    assert abs(x.mean() - lam) < 4.5 * np.sqrt(lam / x.size)


def test_rate_check_refuses_runaway_parameters_and_training_reports_divergence():
    m = RBM(3, 2, "poisson").set_parameters(weights=np.full((3, 2), 30.0))
    with pytest.raises(FloatingPointError, match="rate"):
        m.sample(4, 3, seed=0)
    s = m.gibbs_sampler(n_chains=2, seed=1, init=np.zeros((1, 3)))
    before = s.visible
    with pytest.raises(FloatingPointError, match="run away"):
        s.run(3)
    np.testing.assert_array_equal(s.visible, before)
    X = np.random.default_rng(0).poisson(5.0, size=(40, 3)).astype(float)
    m = RBM(3, 2, "poisson", seed=0)
    with pytest.raises(FloatingPointError, match="diverged"):
        m.fit(X, epochs=20, learning_rate=5.0, seed=0)
    assert all(np.isfinite(p).all() for p in (m.weights, m.visible_bias, m.hidden_bias))


# -- the model: free energies, log Z, proper pairs ---------------------------------------
BOUNDED = ["bernoulli", "spin", "softmax(3)", "binomial(2)"]


@pytest.mark.parametrize("hidden", BOUNDED)
def test_free_energies_and_log_z_against_truncated_double_enumeration(hidden):
    m = _model(hidden, nv=2, nh=3, rates=(2.0, 5.0), scale=0.5)
    K = _truncation(m, 1e-14)                         # the stated truncation error
    V, H = _box(2, K), m.hidden.enumerate(3)
    E = _energies(m, V, H)
    np.testing.assert_allclose(m.free_energy(V), -logsumexp(-E, axis=1), rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(m.free_energy_hidden(H), -logsumexp(-E, axis=0), rtol=1e-12,
                               atol=1e-12)
    log_z = m.log_partition()
    assert log_z == pytest.approx(logsumexp(-E), rel=1e-13)
    twin = ref.exact_log_partition(m.weights, m.visible_bias, m.hidden_bias,
                                   (POISSON, 0), (m.hidden.kind, m.hidden.param))
    assert abs(float(log_z) - twin) <= 1e-12 * abs(twin)
    assert m.log_likelihood(V[:7]) == pytest.approx(
        float(np.mean(logsumexp(-E[:7], axis=1)) - logsumexp(-E)), rel=1e-12)


def test_poisson_hidden_units_with_a_bounded_visible_layer():
    m = _model("poisson", nv=4, nh=2, visible="bernoulli", scale=0.5)
    m.set_parameters(hidden_bias=np.log([2.0, 6.0]))
    K = _truncation(m, 1e-14, "hidden")
    V, H = m.visible.enumerate(4), _box(2, K)
    E = _energies(m, V, H)
    np.testing.assert_allclose(m.free_energy(V), -logsumexp(-E, axis=1), rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(m.free_energy_hidden(H[:50]), -logsumexp(-E[:, :50], axis=0),
                               rtol=1e-12, atol=1e-12)
    assert m.log_partition() == pytest.approx(logsumexp(-E), rel=1e-13)
    # block Gibbs: the visible marginal (finite) against its exact law
    s = m.gibbs_sampler(n_chains=20_000, seed=3)
    s.run(0, burn_in=100)
    p = np.exp(-m.free_energy(V) - m.log_partition())
    codes = (s.visible.astype(int) << np.arange(4)).sum(axis=1)
    order = (V.astype(int) << np.arange(4)).sum(axis=1)
    assert _chi2(np.bincount(codes, minlength=16)[order], p * 20_000) > ALPHA


@pytest.mark.parametrize("visible, hidden", [("poisson", "gaussian"), ("gaussian", "poisson"),
                                             ("poisson", "poisson")])
def test_improper_pairs_are_refused_with_the_reason(visible, hidden):
    with pytest.raises(ValueError, match="diverges"):
        RBM(3, 2, visible, hidden)


def test_counts_are_validated_and_exact_sums_need_a_finite_layer():
    m = RBM(3, 2, "poisson")
    for bad in ([[0, 1.5, 2]], [[0, -1, 2]], [[0, 1, 2**25]]):
        with pytest.raises(ValueError, match="integer counts"):
            m.free_energy(bad)
    with pytest.raises(ValueError, match="cannot be enumerated"):
        Poisson().enumerate(2)
    assert as_unit("Poisson") == Poisson() and repr(Poisson()) == "poisson"
    b = Poisson().bias_from_data(np.array([[0.0, 4.0], [0.0, 6.0]]))
    np.testing.assert_allclose(b, np.log([0.5 / 3, 10.5 / 3]))


# -- sampling against enumeration -----------------------------------------------------
@pytest.mark.parametrize("hidden, temperature, dtype", [
    ("bernoulli", 1.0, np.float64), ("bernoulli", 1.0, np.float32),
    ("bernoulli", 2.0, np.float64), ("softmax(3)", 1.0, np.float64)])
def test_block_gibbs_chi_square_against_truncated_enumeration(hidden, temperature, dtype):
    # 3 poisson visible units (rates about 1, 4 and 12: inversion and PTRS), 3
    # hidden; 20,000 chains, 50 steps. At temperature T the natural parameters are
    # scaled by 1/T and the base measure 1/v! is not (heatbath.rbm.units).
    m = _model(hidden, rates=(1.0, 4.0, 12.0), scale=0.4, dtype=dtype)
    beta = 1.0 / temperature
    hot = RBM(3, 3, "poisson", hidden).set_parameters(beta * m.weights.astype(float),
                                                      beta * m.visible_bias.astype(float),
                                                      beta * m.hidden_bias.astype(float))
    # the tempered model is an RBM with the same base measure and scaled parameters:
    # its mass outside the box is known exactly
    K = _truncation(hot, 1e-9)
    tail = _poisson_layer_tail(hot, K)
    V = _box(3, K)
    log_p = -hot.free_energy(V)               # the tempered law, unnormalised
    log_z = logsumexp(log_p)                  # over the box
    p = np.append(np.exp(log_p - log_z) * (1 - tail), tail)
    s = m.gibbs_sampler(temperature=temperature, n_chains=20_000, seed=7)
    s.run(0, burn_in=50)
    x = s.visible.astype(np.int64)
    inside = (x < K).all(axis=1)
    codes = np.where(inside, (x[:, 0] * K + x[:, 1]) * K + x[:, 2], K**3)
    observed = np.bincount(codes, minlength=K**3 + 1)
    assert _chi2(observed, p * 20_000) > ALPHA


# -- estimators ---------------------------------------------------------------------
def test_pseudo_likelihood_against_truncated_enumeration():
    m = _model("bernoulli", nv=3, nh=3, rates=(1.0, 6.0, 20.0))
    rows = m.sample(6, 20, seed=2)
    K = 200
    expected = np.zeros((6, 3))
    for r, x in enumerate(rows):
        for i in range(3):
            Y = np.repeat(x[None], K, axis=0)
            Y[:, i] = np.arange(K)
            f = -m.free_energy(Y)
            expected[r, i] = f[int(x[i])] - logsumexp(f)
    got = m.pseudo_likelihood(rows, per_site=True)
    np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-11)
    tiny = estimators.pseudo_likelihood(m, rows, max_elements=1)
    np.testing.assert_allclose(tiny, got.sum(axis=1), rtol=1e-13)


def test_ais_and_reverse_ais_agree_with_exact():
    m = _model("bernoulli", nv=6, nh=4, rates=(0.5, 2.0, 8.0), scale=0.5, seed=5)
    exact = m.log_partition()
    est = m.log_partition("ais", n_runs=200, n_betas=1000, seed=1)
    assert abs(est - exact) < 3 * est.stderr and abs(est - exact) < 0.3
    X = m.sample(300, 50, seed=2)
    rev = m.log_partition("reverse_ais", data=X, n_betas=1000, seed=3)
    assert abs(rev - exact) < 3 * rev.stderr and abs(rev - exact) < 0.3


def test_ais_equals_numpy_twin_and_is_thread_count_independent():
    m = _model("bernoulli", nv=5, nh=4, rates=(1.0, 12.0), seed=2)
    X = m.sample(50, 10, seed=0)
    betas = estimators.ais_schedule(40, "linear")
    runs = [m.log_partition("ais", n_runs=16, n_betas=40, schedule="linear", data=X, seed=4,
                            n_threads=t) for t in (1, 2, 3)]
    assert len({float(r).hex() for r in runs}) == 1
    twin = ref.ais_log_weights(m.weights, m.visible_bias, m.hidden_bias, (POISSON, 0), (0, 0),
                               m.visible.bias_from_data(X), betas, _random.spawn_states(4, 16))
    np.testing.assert_allclose(runs[0].log_weights, twin, rtol=1e-10, atol=1e-10)


# -- gradients and training ---------------------------------------------------------
def test_log_z_gradient_is_the_exact_model_expectation_and_free_energy_gradient():
    # d log Z / dW = E_model[v h^T] = sum_h p(h) h^T exp(a + W h) (counts summed out),
    # d log Z / da = E_model[v]; -dF(v)/dW = v E[h | v]^T. Central differences, step 1e-6.
    m = _model("bernoulli", nv=3, nh=2, rates=(2.0, 5.0))
    H = m.hidden.enumerate(2)
    rates = np.exp(m.visible_bias + H @ m.weights.T)              # (4, 3)
    log_w = H @ m.hidden_bias + rates.sum(axis=1)
    ph = np.exp(log_w - logsumexp(log_w))
    E_vh = np.einsum("s,si,sj->ij", ph, rates, H)
    E_v = ph @ rates
    v = np.array([[3.0, 0.0, 7.0]])
    minus_dF = v.T @ m.hidden_means(v)
    eps = 1e-6
    for i, j in itertools.product(range(3), range(2)):
        Wp, Wm = m.weights.copy(), m.weights.copy()
        Wp[i, j] += eps
        Wm[i, j] -= eps
        up = RBM(3, 2, "poisson").set_parameters(Wp, m.visible_bias, m.hidden_bias)
        dn = RBM(3, 2, "poisson").set_parameters(Wm, m.visible_bias, m.hidden_bias)
        g = (up.log_partition() - dn.log_partition()) / (2 * eps)
        assert g == pytest.approx(E_vh[i, j], rel=1e-6)
        gF = -(up.free_energy(v)[0] - dn.free_energy(v)[0]) / (2 * eps)
        assert gF == pytest.approx(minus_dF[i, j], rel=1e-6, abs=1e-9)
    for i in range(3):
        ap, am = m.visible_bias.copy(), m.visible_bias.copy()
        ap[i] += eps
        am[i] -= eps
        g = (RBM(3, 2, "poisson").set_parameters(m.weights, ap, m.hidden_bias).log_partition()
             - RBM(3, 2, "poisson").set_parameters(m.weights, am, m.hidden_bias).log_partition()
             ) / (2 * eps)
        assert g == pytest.approx(E_v[i], rel=1e-6)


@pytest.mark.parametrize("method, k", [("cd", 1), ("cd", 2), ("pcd", 2)])
def test_update_equals_numpy_twin(method, k):
    m = _model("bernoulli", nv=5, nh=4, rates=(1.0, 12.0), scale=0.3, seed=2)
    V0 = m.sample(12, 3, seed=4)
    streams = _random.spawn_states(7, 12)
    rng = np.random.default_rng(1)
    velocity = [rng.normal(size=m.weights.shape) * 0.01, np.zeros(5), np.zeros(4)]
    W, a, b = m.weights.copy(), m.visible_bias.copy(), m.hidden_bias.copy()
    persistent, twin_persistent = None, None
    if method == "pcd":
        start = m.sample(6, 2, seed=8)
        pst = _random.spawn_states(3, 6)
        persistent = PersistentChains(m, start, pst.copy(), np.ones(6))
        twin_persistent = {"v": start.copy(), "streams": pst.copy()}
    twin = ref.cd_update(W, a, b, (POISSON, 0), (0, 0), V0, k, streams.copy(),
                         [v.copy() for v in velocity], 0.005, 0.5, 0.01, twin_persistent)
    cd_step(m, V0, k, streams, velocity, 0.005, 0.5, 0.01, persistent, n_threads=2)
    np.testing.assert_allclose(m.weights, twin[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(m.visible_bias, twin[1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(m.hidden_bias, twin[2], rtol=0, atol=1e-12)
    if method == "pcd":
        np.testing.assert_array_equal(persistent.v, twin[5]["v"])


def test_fit_is_thread_count_independent_resumes_and_round_trips(tmp_path):
    X = np.random.default_rng(0).poisson([1.0, 4.0, 9.0, 0.5, 20.0], size=(120, 5)).astype(float)
    runs = []
    for n_threads in (1, 2, 3):
        m = RBM(5, 4, "poisson", seed=0)
        m.fit(X, epochs=3, batch_size=20, k=2, learning_rate=0.005, seed=4,
              n_threads=n_threads)
        runs.append(m)
    for other in runs[1:]:
        np.testing.assert_array_equal(other.weights, runs[0].weights)
    # PT: swaps on the tempered energy (the base measure 1/v! is not tempered)
    pt = RBM(5, 4, "poisson", seed=0).fit(X, epochs=2, batch_size=20, method="pt",
                                          n_temperatures=3, learning_rate=0.005, seed=1)
    assert np.isfinite(pt.weights).all() and len(pt.history_["swap_rate"]) == 2
    ck = tmp_path / "ck.npz"
    whole = RBM(5, 4, "poisson", seed=0).fit(X, epochs=4, learning_rate=0.005, method="pcd",
                                             seed=2)
    RBM(5, 4, "poisson", seed=0).fit(X, epochs=2, learning_rate=0.005, method="pcd", seed=2,
                                     checkpoint=ck)
    resumed = RBM(5, 4, "poisson", seed=0).fit(X, epochs=4, learning_rate=0.005,
                                               method="pcd", resume=ck)
    np.testing.assert_array_equal(resumed.weights, whole.weights)
    path = tmp_path / "m.npz"
    whole.save(path)
    back = RBM.load(path)
    assert (back.visible, back.hidden) == (Poisson(), whole.hidden)
    np.testing.assert_array_equal(back.weights, whole.weights)
    assert back.log_partition() == whole.log_partition()


def test_pt_swap_uses_the_tempered_energy():
    # Two replicas at betas 1 and 1/2, one chain each: the swap must accept with
    # min(1, p_1(x_s) p_s(x_1) / (p_1(x_1) p_s(x_s))) for the tempered law
    # p_beta(v, h) ~ exp(beta (a v + b h + v W h)) / prod v! (1/v! not tempered: with
    # it tempered, these rows would give a log ratio 4.1 nats off).
    from heatbath.rbm.train import _swap

    m = _model("bernoulli", nv=3, nh=2)
    v = np.array([[0.0, 3.0, 12.0], [2.0, 9.0, 1.0]])
    h = np.array([[1.0, 0.0], [0.0, 1.0]])
    lin = v @ m.visible_bias + h @ m.hidden_bias + np.einsum("ni,ij,nj->n", v, m.weights, h)
    if lin[1] > lin[0]:
        v, h, lin = v[::-1].copy(), h[::-1].copy(), lin[::-1].copy()
    log_ratio = (1.0 - 0.5) * (lin[1] - lin[0])
    assert -30 < log_ratio < -0.1
    for factor, accepted in ((1 - 1e-9, True), (1 + 1e-9, False)):
        chains = PersistentChains(m, v, _random.spawn_states(0, 2), np.array([1.0, 0.5]))
        chains.h[...] = h
        acc, att = _swap(m, chains, 2, np.array([[np.exp(log_ratio) * factor]]), 0)
        assert acc[0] == accepted and att[0] == 1
        np.testing.assert_array_equal(chains.v, v[::-1] if accepted else v)
