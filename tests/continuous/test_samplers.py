"""Continuous samplers against exact answers.

z-tests: each sample mean / variance is compared with its exact value in
units of its standard error (from the integrated autocorrelation time, with
many independent chains). A bound of 4.5 s.e. per comparison has a
false-alarm rate of 7e-6; the tests below make fewer than 400 such
comparisons in all, a family false-alarm rate below 3e-3.
"""

import math

import numpy as np
import pytest
from scipy import stats

from heatbath import _random
from heatbath.continuous import (
    HMC, MALA, RWM, ULA, DoubleWell, Gaussian, GaussianMixture, Phi4, PythonTarget, RBMMarginal,
    summary,
)
from heatbath.continuous import _kernels
from heatbath.diagnostics import stderr
from heatbath.reference import continuous as ref

Z = 4.5
SAMPLERS = {"rwm": RWM, "mala": MALA, "hmc": HMC}


def _ill_conditioned(d=4):
    rng = np.random.default_rng(3)
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    scales = np.geomspace(0.3, 3.0, d)   # condition number 100, rotated
    return Gaussian(np.linspace(-1, 1, d), (Q * scales**2) @ Q.T)


def _check_moments(samples, mean, var):
    """z-tests on each coordinate's mean and variance (variance s.e. from x^2's series)."""
    for i in range(samples.shape[2]):
        s = samples[:, :, i]
        assert abs(s.mean() - mean[i]) < Z * stderr(s), ("mean", i, s.mean(), mean[i])
        c = (s - mean[i]) ** 2
        assert abs(c.mean() - var[i]) < Z * stderr(c), ("var", i, c.mean(), var[i])


@pytest.mark.parametrize("name", sorted(SAMPLERS))
@pytest.mark.parametrize("kind", ["isotropic", "ill-conditioned"])
def test_adjusted_samplers_match_gaussian_moments(name, kind):
    target = Gaussian(np.array([0.5, -1.0, 2.0]), np.ones(3)) if kind == "isotropic" \
        else _ill_conditioned()
    s = SAMPLERS[name](target, n_chains=64, seed=11)
    tr = s.run(600, burn_in=500)
    _check_moments(tr.info["samples"], target.mean, target.variance)


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_step_size_is_tuned_to_target_acceptance_then_frozen(name):
    s = SAMPLERS[name](Gaussian(np.zeros(10), np.geomspace(0.5, 2, 10)), n_chains=200, seed=2)
    tr = s.run(300, burn_in=600)
    # the tuned step gives about the target acceptance (dual averaging: not exact)
    assert abs(tr.acceptance_rate.mean() - s.target_accept) < 0.12
    step = s.step_size
    s.run(50)
    assert s.step_size == step                    # frozen after burn-in
    # the preconditioner learned the scales (variance per coordinate)
    np.testing.assert_allclose(s.inv_mass, np.geomspace(0.5, 2, 10), rtol=0.35)


@pytest.mark.parametrize("T", [1.0, 2.0])
def test_ula_stationary_bias_matches_closed_form(T):
    # ULA on N(0, s^2) at temperature T (the tempered target is N(0, T s^2)),
    # step tau: x' = (1 - tau/(T s^2)) x + sqrt(2 tau) z has stationary variance
    # T s^2 / (1 - tau / (2 T s^2)), exactly. Here 4/(1-0.15) = 4.706 and 8/(1-0.075) = 8.649.
    s2, tau = 4.0, 1.2
    target = Gaussian(np.zeros(2), np.full(2, s2))
    tr = ULA(target, temperature=T, n_chains=256, seed=5, step_size=tau).run(2000, burn_in=200)
    x = tr.info["samples"]
    exact = T * s2 / (1 - tau / (2 * T * s2))
    s2 = T * s2
    for i in range(2):
        c = x[:, :, i] ** 2
        assert abs(c.mean() - exact) < Z * stderr(c)
        assert abs(c.mean() - s2) > 10 * stderr(c)     # and the bias is really there


def test_double_well_marginal_ks_against_quadrature():
    target = DoubleWell(2, barrier=1.5, tilt=0.3)
    tr = HMC(target, n_chains=400, seed=7, path_length=1.5).run(400, burn_in=400, thin=20)
    x = tr.info["samples"][-1, :, 0]          # one draw per chain: independent chains
    assert stats.kstest(x, target.marginal_cdf).pvalue > 1e-4
    _check_moments(tr.info["samples"], target.mean, target.variance)


@pytest.mark.parametrize("lattice_dim, size", [(2, 6), (3, 4)])
def test_phi4_free_theory_matches_fourier_sums(lattice_dim, size):
    target = Phi4(size, dim=lattice_dim, kappa=0.1 if lattice_dim == 3 else 0.2, lam=0.0)
    tr = HMC(target, n_chains=64, seed=9).run(800, burn_in=400)
    phi = tr.info["samples"].reshape(tr.info["samples"].shape[:2] + target.shape)
    # <phi^2> per site (averaged over the lattice) and the two-point function
    # at distances 0..L/2 along axis 0 (averaged over translations)
    G = target.exact_two_point()
    for r in range(size // 2 + 1):
        corr = (phi * np.roll(phi, -r, axis=2)).mean(axis=tuple(range(2, 2 + lattice_dim)))
        idx = (r,) + (0,) * (lattice_dim - 1)
        assert abs(corr.mean() - G[idx]) < Z * stderr(corr), (r, corr.mean(), G[idx])
    assert G[(0,) * lattice_dim] == pytest.approx(target.exact_phi2(), rel=1e-12)


def test_mixture_python_target_and_compiled_agree_in_law():
    mix = GaussianMixture([0.3, 0.7], [[-1.0, 0.0], [1.5, 0.5]], [[0.7, 1.0], [1.0, 0.6]])
    py = PythonTarget(lambda x: mix.log_prob_and_grad(x, n_threads=1), 2)
    for target in (mix, py):
        tr = MALA(target, n_chains=128, seed=4).run(1500, burn_in=500)
        _check_moments(tr.info["samples"], mix.mean, mix.variance)


def test_python_callable_path_matches_the_compiled_kernel_in_distribution_and_streams():
    # A Python target with the same density: the same draws (per-chain streams
    # in the same order), so the chains agree up to last-bit rounding of the
    # log density; over a short run they take the same accept decisions.
    g = Gaussian(np.zeros(3), [1.0, 2.0, 0.5])
    py = PythonTarget(lambda x: -0.5 * (x * x / g.variance).sum(1), 3,
                      grad_log_prob=lambda x: -x / g.variance)
    for cls in (RWM, MALA, HMC, ULA):
        a = cls(g, n_chains=5, seed=8, adapt=False, step_size=0.3)
        b = cls(py, n_chains=5, seed=8, adapt=False, step_size=0.3)
        ta, tb = a.run(30), b.run(30)
        np.testing.assert_allclose(ta.info["samples"], tb.info["samples"], rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(a.stream_state, b.stream_state)


@pytest.mark.parametrize("mass", ["unit", "diagonal"])    # the kernel's two loop sets
@pytest.mark.parametrize("algorithm", ["rwm", "mala", "ula", "hmc"])
@pytest.mark.parametrize("which", ["gauss_diag", "gauss_full", "double_well", "phi4"])
def test_kernel_equals_numpy_twin_bit_for_bit(algorithm, which, mass):
    target = {"gauss_diag": Gaussian(np.array([0.1, -0.2, 0.3]), [1.0, 2.0, 0.5]),
              "gauss_full": _ill_conditioned(3),
              "double_well": DoubleWell(3, barrier=1.0, tilt=0.2),
              "phi4": Phi4(3, dim=2, kappa=0.15, lam=0.5)}[which]
    cls = {"rwm": RWM, "mala": MALA, "ula": ULA, "hmc": HMC}[algorithm]
    # chain 0 at T = 1 (the untempered kernel), the others tempered
    s = cls(target, temperature=[1.0, 1.3, 2.5], n_chains=3, seed=13, adapt=False,
            step_size=0.15)
    inv_mass = np.ones(target.dim) if mass == "unit" else np.linspace(0.5, 1.5, target.dim)
    s.inv_mass = inv_mass
    x0, lp0, g0, st0 = s.x.copy(), s.log_prob.copy(), s.grad.copy(), s.stream_state.copy()
    lp_t, g_t = ref.log_prob_and_grad(target, x0)
    np.testing.assert_array_equal(lp0, lp_t)
    np.testing.assert_array_equal(g0, g_t)
    tr = s.run(12)
    X, LP, G, st, acc, nacc = ref.run_chains(target, algorithm, x0, lp0, g0, st0, 0.15,
                                             inv_mass, s.n_leapfrog, 12, beta=s.beta)
    np.testing.assert_array_equal(s.x, X)
    np.testing.assert_array_equal(s.log_prob, LP)
    np.testing.assert_array_equal(s.grad, G)
    np.testing.assert_array_equal(s.stream_state, st)
    np.testing.assert_array_equal(tr.acceptance_rate, nacc / 12)


@pytest.mark.parametrize("cls", [RWM, MALA, ULA, HMC])
def test_same_bits_for_any_thread_count(cls, thread_count):
    target = Phi4(5, dim=2, kappa=0.2, lam=0.3)
    T = np.linspace(0.5, 2.0, 7)
    ref_run = cls(target, temperature=T, n_chains=7, seed=21, n_threads=1).run(40, burn_in=160)
    tr = cls(target, temperature=T, n_chains=7, seed=21, n_threads=thread_count).run(
        40, burn_in=160)
    np.testing.assert_array_equal(tr.info["samples"], ref_run.info["samples"])
    assert tr.info["step_size"] == ref_run.info["step_size"]


@pytest.mark.parametrize("cls", [RWM, MALA, ULA, HMC])
def test_resume_is_bit_exact(cls):
    target = _ill_conditioned(3)
    whole = cls(target, temperature=[1.0, 1.3, 0.8, 2.0], n_chains=4, seed=3)
    whole.run(0, burn_in=200)
    state = whole.get_state()
    full = whole.run(60)
    other = cls(target, n_chains=4, seed=99)
    other.set_state(state)
    first = other.run(25)
    saved = other.get_state()
    again = cls(target, n_chains=4, seed=1)
    again.set_state(saved)
    rest = again.run(35)
    np.testing.assert_array_equal(
        np.concatenate([first.info["samples"], rest.info["samples"]]), full.info["samples"])
    assert again.n_sweeps_done == whole.n_sweeps_done


def test_rbm_marginal_gradient_and_free_energy():
    from heatbath import RBM

    m = RBM(4, 3, "gaussian", "bernoulli", seed=0)
    rng = np.random.default_rng(1)
    m.set_parameters(rng.normal(scale=0.5, size=(4, 3)), rng.normal(size=4), rng.normal(size=3))
    t = RBMMarginal.from_rbm(m)
    x = rng.normal(size=(5, 4))
    lp, g = t.log_prob_and_grad(x)
    # log p(v) = -F(v) up to one constant
    diff = lp + m.free_energy(x)
    np.testing.assert_allclose(diff, diff[0], atol=1e-10)
    eps = 1e-6
    for i in range(4):
        e = np.zeros(4)
        e[i] = eps
        num = (t.log_prob(x + e) - t.log_prob(x - e)) / (2 * eps)
        np.testing.assert_allclose(g[:, i], num, rtol=1e-6, atol=1e-7)


def test_gradients_of_builtin_targets_are_right():
    rng = np.random.default_rng(2)
    targets = [_ill_conditioned(3), GaussianMixture([1, 2], [[0, 1, 0], [1, -1, 2]], 0.8),
               DoubleWell(3, 0.7, 0.1), Phi4(3, dim=3, kappa=0.1, lam=0.4)]
    for t in targets:
        x = rng.normal(size=(4, t.dim))
        lp, g = t.log_prob_and_grad(x)
        eps = 1e-6
        for i in range(min(t.dim, 5)):
            e = np.zeros(t.dim)
            e[i] = eps
            num = (t.log_prob(x + e) - t.log_prob(x - e)) / (2 * eps)
            np.testing.assert_allclose(g[:, i], num, rtol=1e-5, atol=1e-6)


def test_bad_arguments():
    g = Gaussian(np.zeros(2), np.ones(2))
    with pytest.raises(TypeError, match="model"):
        MALA("gaussian", n_chains=2)
    with pytest.raises(ValueError, match="n_chains"):
        MALA(g, n_chains=0)
    with pytest.raises(ValueError, match="step_size"):
        MALA(g, step_size=-1.0)
    with pytest.raises(ValueError, match="step_size"):
        MALA(g, step_size=float("nan"))
    with pytest.raises(TypeError, match="step_size"):
        MALA(g, step_size="0.1")
    with pytest.raises(ValueError, match="init"):
        MALA(g, n_chains=3, init=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="init"):
        MALA(g, init=[0.0, float("nan")])
    with pytest.raises(ValueError, match="target_accept"):
        MALA(g, target_accept=1.5)
    with pytest.raises(ValueError, match="temperature"):
        MALA(g, temperature=np.inf)
    with pytest.raises(ValueError, match="temperature"):
        MALA(g, temperature=0.0)
    with pytest.raises(ValueError, match="temperature"):
        MALA(g, n_chains=3, temperature=[1.0, 2.0])
    with pytest.raises(ValueError, match="cov"):
        Gaussian(np.zeros(2), [[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="kappa"):
        Phi4(4, dim=2, kappa=0.3, lam=0.0)
    with pytest.raises(ValueError, match="size"):
        Phi4(2)
    s = MALA(g, n_chains=2, seed=0)
    with pytest.raises(ValueError, match="from a HMC, not a MALA"):
        s.set_state({**s.get_state(), "kind": "HMC"})
    with pytest.raises(ValueError, match="n_sweeps"):
        s.run(-1)
    bad = PythonTarget(lambda x: np.zeros(3), 2, grad_log_prob=lambda x: x)
    with pytest.raises(ValueError, match="log_prob must return shape"):
        MALA(bad, n_chains=2)


def test_non_finite_proposals_are_rejected():
    # log p = -inf outside the unit box: every proposal outside is rejected,
    # and the chains never leave the box.
    def f(x):
        inside = (np.abs(x) < 1).all(axis=1)
        return np.where(inside, 0.0, -np.inf), np.zeros_like(x)
    s = RWM(PythonTarget(f, 2), n_chains=16, seed=0, init=np.zeros(2), step_size=0.8, adapt=False)
    tr = s.run(200)
    assert (np.abs(tr.info["samples"]) < 1).all()
    assert 0 < tr.acceptance_rate.mean() < 1
