"""Shared pieces of the distributed tests: the sampler cases and the same-bits check."""

import numpy as np
import pytest


def _cases():
    from heatbath.continuous import MALA, Gaussian
    from heatbath.nqs import RBM as Psi
    from heatbath.nqs import TransverseFieldIsing
    from heatbath.nqs.sampler import MetropolisSampler as NQSMetropolis
    from heatbath.rbm import RBM
    from heatbath.rbm.model import GibbsSampler
    from heatbath.spin import (BoltzmannMachine, HeatBathSampler, Ising, MetropolisSampler,
                               WolffSampler)
    from heatbath.spin.multispin import MultispinSampler
    from heatbath.spin.swendsen_wang import SwendsenWangSampler

    rng = np.random.default_rng(0)
    J = rng.normal(size=(10, 10))
    J = np.triu(J, 1) + np.triu(J, 1).T
    # name: (class, model, keywords, n_chains, block sizes, run keywords)
    return {
        "metropolis": (MetropolisSampler, Ising((8, 8)), {"temperature": np.linspace(2, 3, 5)},
                       5, (2, 3), {}),
        "heatbath-bm": (HeatBathSampler, BoltzmannMachine(J, h=0.3), {"temperature": 1.5},
                        5, (2, 3), {}),
        "wolff": (WolffSampler, Ising((8, 8)), {"temperature": 2.3, "clusters_per_sweep": 2},
                  5, (2, 3), {}),
        "swendsen-wang": (SwendsenWangSampler, Ising((6, 6)), {"temperature": 2.3}, 5, (2, 3),
                          {}),
        "multispin": (MultispinSampler, Ising((6, 6)),
                      {"temperature": np.repeat([2.0, 2.5, 3.0], [64, 64, 2])}, 130, (64, 128),
                      {}),
        "gibbs": (GibbsSampler, RBM(5, 3, seed=1), {"temperature": 1.0}, 1100, (1024, 2048),
                  {"record_states": True}),
        "mala": (MALA, Gaussian(np.zeros(3), np.ones(3)), {"adapt": False, "step_size": 0.7},
                 5, (2, 3), {}),
        "nqs": (NQSMetropolis, Psi(6, seed=0),
                {"hamiltonian": TransverseFieldIsing(6, h=1.0)}, 5, (2, 3), {}),
    }


CASES = sorted(_cases())


@pytest.fixture(params=CASES)
def case(request):
    """(class, model, keywords, n_chains, block sizes, run keywords) of one sampler."""
    return _cases()[request.param]


@pytest.fixture
def all_cases():
    return _cases()


def assert_same_trace(a, b):
    assert sorted(a.observables) == sorted(b.observables)
    for k in a.observables:
        assert a.observables[k].dtype == b.observables[k].dtype
        np.testing.assert_array_equal(a.observables[k], b.observables[k], err_msg=k)
    assert sorted(a.counts) == sorted(b.counts)
    for k in a.counts:
        np.testing.assert_array_equal(a.counts[k], b.counts[k], err_msg=k)
    np.testing.assert_array_equal(a.acceptance_rate, b.acceptance_rate)
    np.testing.assert_array_equal(a.final_state, b.final_state)
    np.testing.assert_array_equal(a.temperature, b.temperature)
    assert (a.states is None) == (b.states is None)
    if a.states is not None:
        np.testing.assert_array_equal(a.states, b.states)
    for k in set(a.info) | set(b.info):
        np.testing.assert_array_equal(np.asarray(a.info[k]), np.asarray(b.info[k]), err_msg=k)


def assert_same_state(a, b):
    assert sorted(a) == sorted(b)
    for k in a:
        np.testing.assert_array_equal(np.asarray(a[k]), np.asarray(b[k]), err_msg=k)


@pytest.fixture
def same_trace():
    return assert_same_trace


@pytest.fixture
def same_state():
    return assert_same_state


def check_case(case, executor, block_size, again=True):
    """BlockSampler runs against the local sampler's: the same bits (``again``: a second run
    continues the chains)."""
    from heatbath.distributed import BlockSampler

    cls, model, kw, n, _, run_kw = case
    local = cls(model, n_chains=n, seed=11, **kw)
    blocks = BlockSampler(cls, model, n_chains=n, seed=11, executor=executor,
                          block_size=block_size, **kw)
    assert_same_trace(blocks.run(12, burn_in=3, thin=2, **run_kw),
                      local.run(12, burn_in=3, thin=2, **run_kw))
    if again:
        assert_same_trace(blocks.run(5, **run_kw), local.run(5, **run_kw))
    assert_same_state(blocks.get_state(), local.get_state())


@pytest.fixture
def check():
    return check_case


def check_exchange(executor, block_size, n_sets=5, optimize=False):
    """BlockReplicaExchange against the local ReplicaExchange: the same trace and state, run
    after run (walkers make round trips: their order and the swap counts are merged too)."""
    from heatbath.distributed import BlockReplicaExchange
    from heatbath.spin import Ising, ReplicaExchange

    # one thread: a round is short, and waking threads for each costs more than it saves
    kw = dict(temperatures=[1.8, 2.2, 2.6, 3.0], n_sets=n_sets, seed=6, optimize=optimize,
              n_threads=1)
    model = Ising((4, 4))
    local = ReplicaExchange(model, **kw)
    if optimize:
        local.run(0, burn_in=80)
        blocks = ReplicaExchange(model, **kw)
        blocks.run(0, burn_in=80)
        blocks = BlockReplicaExchange.wrap(blocks, executor=executor, block_size=block_size)
    else:
        blocks = BlockReplicaExchange(model, executor=executor, block_size=block_size, **kw)
    for n_sweeps, burn_in in ((120, 0 if optimize else 20), (40, 0)):
        want = local.run(n_sweeps, burn_in=burn_in)
        got = blocks.run(n_sweeps, burn_in=burn_in)
        assert_same_trace(got, want)
    assert local.get_state()["trip_sweeps"].size > n_sets      # walkers did make round trips
    assert_same_state(_flat(blocks.get_state()), _flat(local.get_state()))


def _flat(state, prefix=""):
    out = {}
    for k, v in state.items():
        if isinstance(v, dict):
            out.update(_flat(v, prefix + k + "."))
        else:
            out[prefix + k] = v
    return out


@pytest.fixture
def check_pt():
    return check_exchange
