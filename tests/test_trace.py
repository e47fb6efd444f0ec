"""Trace files, ArviZ/xarray export and recorded configurations (issue 15)."""

import os

import numpy as np
import pytest

from heatbath import RBM
from heatbath.diagnostics import Trace
from heatbath.spin import Ising, MetropolisSampler, WolffSampler


def _trace(record_states=False):
    s = WolffSampler(Ising((4, 4)), temperature=2.3, n_chains=3, seed=1, clusters_per_sweep=2)
    return s.run(12, burn_in=2, thin=2, record_states=record_states)


@pytest.mark.parametrize("record_states", [False, True])
def test_save_and_load_round_trip(tmp_path, record_states):
    trace = _trace(record_states)
    path = tmp_path / "t.npz"
    trace.save(path)
    back = Trace.load(path)
    assert set(back.observables) == set(trace.observables)
    for k in trace.observables:
        np.testing.assert_array_equal(back[k], trace[k])
    np.testing.assert_array_equal(back.acceptance_rate, trace.acceptance_rate)
    np.testing.assert_array_equal(back.final_state, trace.final_state)
    np.testing.assert_array_equal(back.temperature, trace.temperature)
    np.testing.assert_array_equal(back.info["mean_cluster_size"], trace.info["mean_cluster_size"])
    assert back.n_units == trace.n_units
    if record_states:
        np.testing.assert_array_equal(back.states, trace.states)
    else:
        assert back.states is None
    assert os.listdir(tmp_path) == ["t.npz"]      # atomic: no temporary file left
    # a trace file is not a model file, and the reverse
    with pytest.raises(ValueError, match="heatbath.Trace"):
        Trace.load(_model_file(tmp_path))


def _model_file(tmp_path):
    path = tmp_path / "m.npz"
    RBM(3, 2).save(path)
    return path


def test_recorded_states_are_the_configurations_at_each_record():
    s = MetropolisSampler(Ising((3, 3)), temperature=2.0, n_chains=2, seed=0)
    trace = s.run(6, thin=3, record_states=True)
    assert trace.states.shape == (2, 2, 9) and trace.states.dtype == np.int8
    # the energy recorded at each record is the energy of the recorded state
    model = Ising((3, 3))
    for r in range(2):
        np.testing.assert_array_equal(model.energy(trace.states[r]), trace["energy"][r])


def test_to_xarray_and_arviz_use_chain_draw_order():
    xr = pytest.importorskip("xarray")
    trace = _trace(record_states=True)
    ds = trace.to_xarray()
    assert isinstance(ds, xr.Dataset)
    assert ds["energy"].dims == ("chain", "draw")
    np.testing.assert_array_equal(ds["energy"].values, trace["energy"].T)
    assert ds["states"].dims == ("chain", "draw", "unit")
    az = pytest.importorskip("arviz")
    idata = trace.to_arviz()
    post = idata.posterior
    assert post["energy"].dims == ("chain", "draw")
    np.testing.assert_array_equal(post["energy"].values, trace["energy"].T)
    # ArviZ's R-hat and ours read the same (chain, draw) data
    assert np.isfinite(float(az.rhat(idata, var_names=["energy"])["energy"]))
