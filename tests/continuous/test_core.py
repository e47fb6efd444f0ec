"""The continuous samplers on the sampler core: temperature, state, pieces, blocks, ArviZ.

z-tests as in test_samplers.py (_check_moments): 4.5 standard errors per
comparison (false-alarm rate 7e-6 each); this file makes 48 such comparisons,
a family rate below 4e-4.
"""

import warnings

import numpy as np
import pytest

from heatbath._sampler import STATE_FORMAT_VERSION, Sampler
from heatbath.continuous import HMC, MALA, RWM, ULA, Gaussian, PythonTarget, summary
from heatbath.diagnostics import Trace

from .test_samplers import _check_moments


@pytest.mark.parametrize("cls", [RWM, MALA, HMC])
def test_tempered_gaussian_has_variances_times_temperature(cls):
    # p(x)^(1/T) for N(mu, diag(v)) is N(mu, diag(T v)): one run, four temperatures
    T = np.repeat([0.5, 1.0, 2.0, 4.0], 16)
    target = Gaussian(np.array([1.0, -0.5]), [1.0, 0.25])
    s = cls(target, temperature=T, n_chains=T.size, seed=31)
    x = s.run(600, burn_in=400).states
    for t in np.unique(T):
        _check_moments(x[:, T == t], target.mean, t * target.variance)


def test_python_target_is_tempered_like_the_kernel():
    # the NumPy path applies beta where the kernel does: same streams, same chains
    g = Gaussian(np.zeros(3), [1.0, 2.0, 0.5])
    py = PythonTarget(lambda x: -0.5 * (x * x / g.variance).sum(1), 3,
                      grad_log_prob=lambda x: -x / g.variance)
    T = [1.0, 2.0, 0.5, 1.5, 3.0]
    for cls in (RWM, MALA, HMC, ULA):
        a = cls(g, temperature=T, n_chains=5, seed=8, adapt=False, step_size=0.3)
        b = cls(py, temperature=T, n_chains=5, seed=8, adapt=False, step_size=0.3)
        np.testing.assert_allclose(a.run(30).states, b.run(30).states, rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(a.stream_state, b.stream_state)


def test_temperature_can_change_between_runs():
    s = MALA(Gaussian(np.zeros(2), np.ones(2)), n_chains=4, seed=0)
    s.temperature = [1.0, 2.0, 3.0, 4.0]
    np.testing.assert_array_equal(s.run(3).temperature, [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(s.get_state()["temperature"], [1.0, 2.0, 3.0, 4.0])


@pytest.mark.parametrize("cls", [MALA, HMC, ULA])
def test_progress_bar_and_pieces_change_no_number_with_tuning(cls):
    # the core cuts a verbose run into pieces; the burn-in plan spans them
    target = Gaussian(np.array([0.5, -1.0, 2.0]), [1.0, 4.0, 0.25])
    a = cls(target, n_chains=6, seed=4)
    whole = a.run(60, burn_in=300, thin=3)
    b = cls(target, n_chains=6, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # tqdm may warn without a terminal
        bar = b.run(60, burn_in=300, thin=3, verbose=True)
    np.testing.assert_array_equal(whole.states, bar.states)
    np.testing.assert_array_equal(whole["log_prob"], bar["log_prob"])
    np.testing.assert_array_equal(whole.counts["accepted"], bar.counts["accepted"])
    assert a.step_size == b.step_size
    np.testing.assert_array_equal(a.inv_mass, b.inv_mass)
    # and two calls after the burn-in join into one run (Trace.concatenate)
    c = cls(target, n_chains=6, seed=4)
    c.run(0, burn_in=300)
    joined = Trace.concatenate([c.run(30, thin=3), c.run(30, thin=3)])
    np.testing.assert_array_equal(joined.states, whole.states)
    np.testing.assert_array_equal(joined.info["samples"], whole.states)
    np.testing.assert_array_equal(joined.acceptance_rate, whole.acceptance_rate)
    assert c.n_sweeps_done == 360


def test_blocks_of_chains_after_burn_in_equal_one_run():
    # Tuning pools the chains; after it the kernel is fixed and every chain is
    # a pure function of its state: blocks of chains join into the whole run.
    target = Gaussian(np.array([0.5, -1.0, 2.0]), [1.0, 4.0, 0.25])
    T = np.array([1.0, 1.5, 0.7, 2.0, 1.2])
    whole = HMC(target, temperature=T, n_chains=5, seed=6)
    whole.run(0, burn_in=200)
    state = whole.get_state()
    full = whole.run(20, thin=2)
    blocks = []
    for lo, hi in ((0, 2), (2, 5)):
        block = HMC(target, temperature=T[lo:hi], n_chains=hi - lo, seed=0)
        block.set_state({k: (v[lo:hi] if isinstance(v, np.ndarray) and v.ndim else v)
                         for k, v in state.items()})
        blocks.append(block.run(20, thin=2))
    joined = Trace.concatenate(blocks, axis="chains")
    np.testing.assert_array_equal(joined.states, full.states)
    np.testing.assert_array_equal(joined["log_prob"], full["log_prob"])
    np.testing.assert_array_equal(joined.counts["accepted"], full.counts["accepted"])


def test_state_is_the_cores_and_old_states_are_read():
    target = Gaussian(np.zeros(2), np.ones(2))
    s = MALA(target, temperature=[1.0, 2.0, 3.0], n_chains=3, seed=1)
    assert isinstance(s, Sampler)
    s.run(5, burn_in=20)
    state = s.get_state()
    assert state["kind"] == "MALA" and state["format_version"] == STATE_FORMAT_VERSION
    assert state["n_sweeps_done"] == 25
    assert state["inv_mass"].shape == (3, 2)        # one row per chain (blocks split it)
    before = s.get_state()
    for bad in ({**state, "kind": "HMC"}, {**state, "x": state["x"][:2]},
                {**state, "inv_mass": np.array([[1.0, 1.0], [1.0, 2.0], [1.0, 1.0]])},
                {**state, "step_size": -1.0}, {**state, "temperature": [1.0, np.inf, 1.0]}):
        with pytest.raises(ValueError):
            s.set_state(bad)
    for k, v in s.get_state().items():   # nothing changed
        np.testing.assert_array_equal(v, before[k])
    # format 1 (before the core): kind "continuous.mala", temperature 1, one inv_mass row
    old = {"kind": "continuous.mala", "format_version": 1, "x": state["x"],
           "stream_state": state["stream_state"], "step_size": state["step_size"],
           "inv_mass": state["inv_mass"][0], "n_sweeps_done": np.int64(25)}
    t = MALA(target, n_chains=3, seed=9)
    t.set_state(old)
    u = MALA(target, n_chains=3, seed=9)
    u.set_state({**state, "temperature": np.ones(3)})
    np.testing.assert_array_equal(t.run(5).states, u.run(5).states)
    assert t.n_sweeps_done == 30
    with pytest.raises(ValueError, match="continuous.hmc"):
        t.set_state({**old, "kind": "continuous.hmc"})


def test_use_from_a_second_call_inside_a_run_is_refused():
    # The core's guard: a target that calls back into its own sampler (as a
    # second thread would) is refused, and the sampler stays usable.
    box = {}

    def f(x):
        if box.get("armed"):
            box["armed"] = False
            box["sampler"].run(1)
        return -0.5 * (x * x).sum(1), -x
    s = MALA(PythonTarget(f, 2), n_chains=2, seed=0)
    box.update(sampler=s, armed=True)
    with pytest.raises(RuntimeError, match="already in use"):
        s.run(3)
    assert s.run(3).states.shape == (3, 2, 2)


def test_arviz_export_of_the_positions():
    az = pytest.importorskip("arviz")
    target = Gaussian(np.array([0.5, -1.0, 2.0]), [1.0, 4.0, 0.25])
    tr = MALA(target, n_chains=4, seed=2).run(200, burn_in=200)
    idata = tr.to_arviz()
    post = idata.posterior
    assert post["states"].dims == ("chain", "draw", "unit")
    np.testing.assert_array_equal(post["states"].values, np.moveaxis(tr.states, 0, 1))
    np.testing.assert_array_equal(post["log_prob"].values, tr["log_prob"].T)
    # ArviZ's rank-normalised split R-hat and ESS read the same numbers as ours
    ours = summary(tr)
    np.testing.assert_allclose(az.rhat(idata, var_names=["states"])["states"].values,
                               ours["rhat"], rtol=1e-10)
    np.testing.assert_allclose(az.summary(idata, var_names=["states"])["mean"].values,
                               ours["mean"], atol=1e-3)    # az.summary rounds
