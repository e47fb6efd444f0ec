"""One test walks the kernel table: every kernel against its NumPy twin."""

import pathlib

import numpy as np
import pytest

from heatbath import RBM
from heatbath._kernels import KERNELS, lookup, resolve
from heatbath.reference import rbm as ref_rbm
from heatbath.reference import spin as ref_spin
from heatbath.spin import BoltzmannMachine, HeatBathSampler, Ising, MetropolisSampler
from heatbath.spin.samplers import flip_probabilities, layout, thresholds

ROOT = pathlib.Path(__file__).parent.parent
CLASSES = {"metropolis": MetropolisSampler, "heat_bath": HeatBathSampler}


def _lattice_case(update, model, burn_in=2, n_sweeps=7, thin=2):
    T = [1.7, 2.6, np.inf]
    s = CLASSES[update](model, temperature=T, n_chains=3, seed=11)
    spins, streams = s.spins, s.get_state()["stream_state"]
    thr = thresholds(flip_probabilities(model, s.beta, update)).reshape(3, -1)
    trace = s.run(n_sweeps, burn_in=burn_in, thin=thin)
    out = ref_spin.table_sweeps(model.sweep_order, model.neighbors, spins, streams, thr,
                                burn_in, n_sweeps, thin)
    np.testing.assert_array_equal(out[0], s.spins)
    np.testing.assert_array_equal(out[1], s.get_state()["stream_state"])
    np.testing.assert_array_equal(-model.J * out[2] - model.h * out[3], trace["energy"])
    np.testing.assert_array_equal(out[3], trace["magnetization"])
    np.testing.assert_array_equal(out[4], trace.counts["accepted"])


def _graph_case(update):
    J = np.triu(np.random.default_rng(5).normal(size=(7, 7)), 1)
    model = BoltzmannMachine(J + J.T, h=np.linspace(-0.5, 0.5, 7))
    s = CLASSES[update](model, temperature=[0.8, 1.5, np.inf], n_chains=3, seed=2)
    spins, streams = s.spins, s.get_state()["stream_state"]
    trace = s.run(6, burn_in=3, thin=2)
    out = ref_spin.graph_sweeps(model.indptr, model.indices, model.data, model.h, spins,
                                streams, [0.8, 1.5, np.inf], 3, 6, 2, algorithm=update)
    np.testing.assert_array_equal(out[0], s.spins)
    np.testing.assert_array_equal(out[1], s.get_state()["stream_state"])
    np.testing.assert_array_equal(out[2], trace["energy"])
    np.testing.assert_array_equal(out[3], trace["magnetization"])
    np.testing.assert_array_equal(out[4], trace.counts["accepted"])


def _exact_case():
    for visible, hidden, nv, nh in (("bernoulli", "bernoulli", 7, 9), ("spin", "binomial(2)", 6, 4),
                                    ("softmax(3)", "spin", 6, 5)):
        m = RBM(nv, nh, visible=visible, hidden=hidden, seed=3)
        m.set_parameters(weights=np.random.default_rng(1).normal(size=(nv, nh)),
                         visible_bias=np.linspace(-1, 1, nv))
        twin = ref_rbm.exact_log_partition(m.weights, m.visible_bias, m.hidden_bias,
                                           (m.visible.kind, m.visible.param),
                                           (m.hidden.kind, m.hidden.param))
        # The kernel sums its chunks in its own order: equal to rounding, not bit for bit.
        for chunk_size in (5, 2**14):
            got = float(m.log_partition(chunk_size=chunk_size))
            assert abs(got - twin) <= 1e-12 * abs(twin), (visible, hidden, chunk_size)


CASES = {
    ("ising", "square"): lambda update: [_lattice_case(update, Ising(shape, J=0.8, h=0.2,
                                                                     periodic=p))
                                         for shape, p in (((4, 6), True), ((5, 3), True),
                                                          ((3, 4), False))],
    # non-bipartite and mixed lattices: odd periodic sides, 1-D, 3-D, mixed boundaries
    ("ising", "table"): lambda update: [_lattice_case(update, Ising(shape, J=0.7, h=-0.3,
                                                                    periodic=p))
                                        for shape, p in (((5,), True), ((3, 3, 2), True),
                                                         ((4, 5), (True, False)),
                                                         ((3, 2, 3), False))],
    ("boltzmann_machine", "csr"): _graph_case,
    ("rbm", "enumerate"): lambda update: _exact_case(),
}


def test_lattice_layouts_are_what_the_samplers_pick():
    assert layout(Ising((4, 6))) == "square"
    assert layout(Ising((4, 6), periodic=False)) == "square"
    assert layout(Ising((4, 6), periodic=(True, False))) == "table"
    assert layout(Ising((3, 3, 3))) == "table"
    with pytest.raises(ValueError, match="no kernel"):
        lookup("ising", "metropolis", "hexagonal")


@pytest.mark.parametrize("key", sorted(KERNELS), ids="-".join)
def test_every_kernel_equals_its_twin(key):
    entry = KERNELS[key]
    assert callable(resolve(entry.kernel)) and callable(resolve(entry.twin))
    model_kind, update, where = key
    if entry.test.startswith("tests/test_kernels.py"):
        CASES[(model_kind, where)](update)
    else:
        # The comparison lives beside the engine's other tests: it must exist.
        path, _, name = entry.test.partition("::")
        assert f"def {name}(" in (ROOT / path).read_text(), entry.test


def test_bench_cases_named_in_the_table_exist():
    from heatbath._bench import cases

    names = {c.name for c in cases()}
    for key, entry in KERNELS.items():
        assert set(entry.bench) <= names, (key, entry.bench)
