"""The sampler core (heatbath._sampler): one contract for every sampler subclass."""

import inspect
import warnings

import numpy as np
import pytest

from heatbath import RBM
from heatbath._sampler import STATE_FORMAT_VERSION, Sampler, pieces
from heatbath.continuous import HMC, MALA, Gaussian, PythonTarget
from heatbath.diagnostics import Trace
from heatbath.rbm import GibbsSampler
from heatbath.spin import (BoltzmannMachine, HeatBathSampler, Ising, MetropolisSampler,
                           WolffSampler)


def _bm():
    J = np.triu(np.random.default_rng(3).normal(size=(7, 7)), 1)
    return BoltzmannMachine(J + J.T, h=0.1)


# (factory of a fresh sampler with a given seed) for every subclass in the package.
MAKERS = {
    "metropolis": lambda seed: MetropolisSampler(Ising((6, 4), h=0.2), temperature=[2.0, 2.5, 3.0],
                                                 n_chains=3, seed=seed),
    "heat_bath_graph": lambda seed: HeatBathSampler(_bm(), temperature=1.5, n_chains=3,
                                                    seed=seed),
    "wolff": lambda seed: WolffSampler(Ising((6, 6)), temperature=2.3, n_chains=3, seed=seed,
                                       clusters_per_sweep=2),
    "gibbs": lambda seed: RBM(5, 3, seed=0).gibbs_sampler(temperature=[1.0, 1.5, 2.0],
                                                          n_chains=3, seed=seed),
    # Continuous samplers tune in burn-in by pooling the chains, so blocks of
    # chains equal the whole run only without tuning (or after it:
    # tests/continuous/test_core.py).
    "mala": lambda seed: MALA(Gaussian(np.zeros(3), [1.0, 2.0, 0.5]), temperature=[1.0, 1.5, 2.0],
                              n_chains=3, seed=seed, adapt=False, step_size=0.4),
    "hmc_python_target": lambda seed: HMC(
        PythonTarget(lambda x: (-0.5 * (x * x).sum(1), -x), 2), temperature=0.7, n_chains=3,
        seed=seed, adapt=False, step_size=0.3),
}


def _same(a, b):
    assert set(a.observables) == set(b.observables)
    for k in a.observables:
        np.testing.assert_array_equal(a[k], b[k])
    np.testing.assert_array_equal(a.acceptance_rate, b.acceptance_rate)
    np.testing.assert_array_equal(a.final_state, b.final_state)
    np.testing.assert_array_equal(a.temperature, b.temperature)
    assert set(a.counts) == set(b.counts)
    for k in a.counts:
        np.testing.assert_array_equal(a.counts[k], b.counts[k])
    for k in ("mean_cluster_size",):
        if k in a.info:
            np.testing.assert_array_equal(a.info[k], b.info[k])
    if a.states is not None:
        np.testing.assert_array_equal(a.states, b.states)


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_every_sampler_is_a_thin_subclass_with_one_signature(name):
    sampler = MAKERS[name](0)
    assert isinstance(sampler, Sampler)
    params = inspect.signature(type(sampler).__init__).parameters
    for arg in ("temperature", "n_chains", "seed", "n_threads"):
        assert params[arg].kind is inspect.Parameter.KEYWORD_ONLY, arg
    with pytest.raises(TypeError):
        type(sampler)(sampler.model, 2.0)   # temperature is keyword-only


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_run_cut_into_pieces_concatenates_to_one_run(name):
    whole = MAKERS[name](5).run(40, burn_in=7, thin=4, record_states=True)
    s = MAKERS[name](5)
    parts = [s.run(0, burn_in=7), s.run(12, thin=4, record_states=True),
             s.run(28, thin=4, record_states=True)]
    assert s.n_sweeps_done == 47
    joined = Trace.concatenate(parts[1:], axis="time")
    # the burn-in piece counts towards the acceptance rate of the whole run
    counts = {k: parts[0].counts[k] + joined.counts[k] for k in joined.counts}
    _same(Trace(joined.observables, None, joined.final_state, joined.temperature,
                joined.n_units, counts=counts, states=joined.states), whole)
    assert whole.states.shape == (10, 3, whole.n_units)
    np.testing.assert_array_equal(whole.states[-1], whole.final_state)


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_blocks_of_chains_concatenate_to_one_run(name):
    make = MAKERS[name]
    whole = make(1).run(10, burn_in=3)
    # A block holds chains k..k+n of the whole run: same streams, state and temperature.
    state = make(1).get_state()
    blocks = []
    for lo, hi in ((0, 1), (1, 3)):
        block = make(1)
        block.n_chains = hi - lo
        sub = {k: (v[lo:hi] if isinstance(v, np.ndarray) and v.ndim >= 1 else v)
               for k, v in state.items()}
        block.temperature = sub["temperature"]
        block.set_state(sub)
        blocks.append(block.run(10, burn_in=3))
    _same(Trace.concatenate(blocks, axis="chains"), whole)


def test_concatenate_refuses_what_does_not_fit():
    a = MAKERS["metropolis"](0).run(4)
    b = MAKERS["gibbs"](0).run(4)
    with pytest.raises(ValueError, match="observables"):
        Trace.concatenate([a, b])
    with pytest.raises(ValueError, match="axis"):
        Trace.concatenate([a, a], axis="rows")
    with pytest.raises(TypeError):
        Trace.concatenate([])
    c = MAKERS["metropolis"](0).run(5)
    with pytest.raises(ValueError, match="same length"):
        Trace.concatenate([a, c], axis="chains")


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_state_has_kind_and_version_and_is_checked_first(name):
    s = MAKERS[name](2)
    s.run(3)
    state = s.get_state()
    assert state["format_version"] == STATE_FORMAT_VERSION
    assert state["kind"] == type(s).__name__
    assert state["n_sweeps_done"] == 3
    before = s.get_state()
    for bad in ({**state, "format_version": 99}, {**state, "kind": "Other"},
                {k: v for k, v in state.items() if k != "stream_state"},
                {**state, "temperature": -np.ones(3)},
                {**state, "stream_state": state["stream_state"][:1]}):
        with pytest.raises(ValueError):
            s.set_state(bad)
        after = s.get_state()
        for k in before:   # nothing changed
            np.testing.assert_array_equal(after[k], before[k])
    with pytest.raises(TypeError):
        s.set_state([1, 2])


def test_reads_version_1_states():
    s = MAKERS["metropolis"](0)
    s.run(2)
    state = s.get_state()
    old = {k: v for k, v in state.items() if k not in ("kind", "n_sweeps_done")}
    old.update(format_version=1, sampler="MetropolisSampler", sweeps_done=2)
    t = MAKERS["metropolis"](9)
    t.set_state(old)
    assert t.n_sweeps_done == 2
    g = MAKERS["gibbs"](0)
    old = {k: v for k, v in g.get_state().items() if k not in ("kind", "n_sweeps_done")}
    old.update(format_version=1, sampler="GibbsSampler", steps_done=4)
    g.set_state(old)
    assert g.n_sweeps_done == 4


def test_old_counter_names_warn():
    s = MAKERS["gibbs"](0)
    s.run(2)
    with pytest.warns(DeprecationWarning, match="n_sweeps_done"):
        assert s.steps_done == 2
    with pytest.warns(DeprecationWarning, match="n_sweeps_done"):
        assert s.sweeps_done == 2


def test_temperatures_become_beta_once():
    s = MAKERS["metropolis"](0)
    s.temperature = [1.0, np.inf, 4.0]
    np.testing.assert_array_equal(s.beta, [1.0, 0.0, 0.25])
    with pytest.raises(ValueError, match="shape"):
        s.temperature = [1.0, 2.0]
    with pytest.raises(ValueError, match="> 0"):
        s.temperature = 0.0
    with pytest.raises(TypeError):
        s.temperature = "2"
    with pytest.raises(ValueError, match="finite"):
        RBM(3, 2, hidden="gaussian").gibbs_sampler(temperature=np.inf)


def test_pieces_record_what_the_whole_run_records():
    for burn_in, n, thin, step in ((5, 17, 3, 4), (0, 9, 9, 1), (3, 2, 5, 7), (0, 0, 1, 3)):
        cut = pieces(burn_in, n, thin, step)
        assert sum(b for b, _, _ in cut) == burn_in
        assert sum(m for _, m, _ in cut) == n
        assert sum(m // t for _, m, t in cut) == n // thin


def test_progress_bar_changes_no_number():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # tqdm may warn without a terminal
        _same(MAKERS["gibbs"](4).run(12, burn_in=2, verbose=True),
              MAKERS["gibbs"](4).run(12, burn_in=2))


def test_gibbs_sampler_class_is_the_subclass():
    assert issubclass(GibbsSampler, Sampler)
