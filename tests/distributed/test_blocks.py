"""heatbath.distributed without Dask: blocks run here, on threads and on processes.

Every result is compared bit for bit with the single-process run (the
contract: blocks are pure and merge in a fixed order).
"""

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest

import heatbath
from heatbath import distributed
from heatbath.distributed import BlockSampler


def test_chains_here_and_on_threads(case, check):
    for block_size in case[4]:
        check(case, None, block_size)
    with ThreadPoolExecutor(3) as pool:
        check(case, pool, case[4][0])


@pytest.mark.slow
def test_chains_on_processes(same_trace):
    # slow: spawning the processes and importing heatbath there takes about 10 s
    from heatbath.spin import Ising, MetropolisSampler

    model = Ising((8, 8))
    local = MetropolisSampler(model, temperature=2.5, n_chains=5, seed=4).run(30, burn_in=5)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        trace = distributed.run_chains(MetropolisSampler, model, temperature=2.5, n_chains=5,
                                       seed=4, n_sweeps=30, burn_in=5, executor=pool,
                                       block_size=2)
    same_trace(trace, local)


def test_python_target_and_split_burn_in(same_trace):
    # A Python target (no compiled kernel), tuned on the client, then run in blocks:
    # the same bits as one local run with the burn-in.
    from heatbath.continuous import HMC, PythonTarget

    target = PythonTarget(lambda x: -0.5 * (x * x).sum(axis=1), 2, grad_log_prob=lambda x: -x)
    local = HMC(target, n_chains=4, seed=2).run(20, burn_in=30)
    sampler = HMC(target, n_chains=4, seed=2)
    sampler.run(0, burn_in=30)
    with ThreadPoolExecutor(2) as pool:
        trace = BlockSampler.wrap(sampler, executor=pool, block_size=3).run(20)
    same_trace(trace, local)


def test_tuning_in_blocks_is_refused():
    from heatbath.continuous import MALA, Gaussian

    blocks = BlockSampler(MALA, Gaussian(np.zeros(2), np.ones(2)), n_chains=4, seed=0)
    with pytest.raises(ValueError, match="burn-in tuning pools"):
        blocks.run(10, burn_in=10)


def test_bad_arguments():
    from heatbath.spin import Ising, MetropolisSampler
    from heatbath.spin.multispin import MultispinSampler

    with pytest.raises(ValueError, match="multiple of 64"):
        BlockSampler(MultispinSampler, Ising((4, 4)), n_chains=128, block_size=32)
    with pytest.raises(ValueError, match="block_size"):
        BlockSampler(MetropolisSampler, Ising((4, 4)), n_chains=4, block_size=0)
    with pytest.raises(TypeError, match="executor"):
        BlockSampler(MetropolisSampler, Ising((4, 4)), n_chains=4, executor="tcp://x:1")
    with pytest.raises(TypeError, match="sampler class"):
        BlockSampler(MetropolisSampler(Ising((4, 4))), Ising((4, 4)))
    with pytest.raises(ValueError, match="one of them"):
        with distributed.connect("tcp://127.0.0.1:1", 2):
            pass


class _Flaky:
    """Makes the n-th sampler.run call of a block fail (a worker dying mid-block)."""

    calls, fail_at = 0, None


def test_checkpointed_block_resumes(tmp_path, monkeypatch, same_trace, same_state):
    from heatbath import io
    from heatbath.spin import Ising, MetropolisSampler

    model = Ising((8, 8))
    kw = dict(temperature=2.4, n_chains=4, seed=9)
    local = MetropolisSampler(model, **kw)
    expected = local.run(40, burn_in=10, thin=3, record_states=True)
    run = MetropolisSampler.run

    def flaky(self, *args, **kwargs):
        _Flaky.calls += 1
        if _Flaky.calls == _Flaky.fail_at:
            raise RuntimeError("worker lost")
        return run(self, *args, **kwargs)

    monkeypatch.setattr(MetropolisSampler, "run", flaky)
    _Flaky.fail_at = 4          # the first block dies in its 4th piece
    blocks = BlockSampler(MetropolisSampler, model, checkpoint_dir=tmp_path,
                          checkpoint_every=7, block_size=2, **kw)
    before = blocks.get_state()
    with pytest.raises(RuntimeError, match="worker lost"):
        blocks.run(40, burn_in=10, thin=3, record_states=True)
    same_state(blocks.get_state(), before)          # nothing changed on the client
    _Flaky.fail_at = None
    trace = blocks.run(40, burn_in=10, thin=3, record_states=True)
    same_trace(trace, expected)
    same_state(blocks.get_state(), local.get_state())
    saved = sorted(p for p in os.listdir(tmp_path) if p.endswith(".npz"))
    assert len(saved) == 2
    first = io.load_arrays(tmp_path / saved[0], "heatbath.distributed.block")
    assert first["resumes"] == 1 and first["sweeps_done"] == 40


def test_ais_blocks():
    from heatbath import RBM
    from heatbath.rbm.estimators import ais as local_ais

    rbm = RBM(40, 24, seed=0).set_parameters(
        weights=0.3 * np.random.default_rng(1).normal(size=(40, 24)))
    X = (np.random.default_rng(2).random((50, 40)) < 0.4).astype(float)
    expected = local_ais(rbm, n_runs=300, n_betas=30, data=X, seed=3)
    for block_size in (128, 256):
        est = distributed.ais(rbm, n_runs=300, n_betas=30, data=X, seed=3, block_size=block_size)
        assert float(est) == float(expected)
        assert (est.stderr, est.ess, est.n_runs) == (expected.stderr, expected.ess, 300)
        np.testing.assert_array_equal(est.log_weights, expected.log_weights)
    ss = np.random.SeedSequence(8)
    distributed.ais(rbm, n_runs=4, n_betas=20, seed=ss, block_size=128)
    assert ss.n_children_spawned == 4           # advanced as the local call advances it
    with pytest.raises(ValueError, match="multiple of 128"):
        distributed.ais(rbm, n_runs=40, n_betas=20, seed=ss, block_size=20)


def test_scan_fit_and_vmc_on_threads(same_trace):
    from heatbath import RBM
    from heatbath.nqs import RBM as Psi
    from heatbath.nqs import TransverseFieldIsing, VMC
    from heatbath.spin.study import run_ising

    with ThreadPoolExecutor(2) as pool:
        scan = distributed.scan_ising(4, temperatures=[1.8, 2.6], fields=0.1, n_sweeps=40,
                                      burn_in=5, n_chains=3, seed=5, executor=pool)
        for r, T in zip(scan, (1.8, 2.6)):
            same_trace(r.trace, run_ising(4, temperature=T, field=0.1, n_sweeps=40, burn_in=5,
                                          n_chains=3, seed=5).trace)
        X = (np.random.default_rng(0).random((40, 6)) < 0.3).astype(float)
        settings = [{"n_hidden": h, "epochs": 2, "seed": 1, "model_seed": 2, "method": m}
                    for h, m in ((3, "cd"), (4, "pcd"))]
        for got, s in zip(distributed.fit_rbms(X, settings, executor=pool), settings):
            want = RBM(6, s["n_hidden"], seed=2).fit(X, epochs=2, seed=1, method=s["method"])
            np.testing.assert_array_equal(got.weights, want.weights)
            np.testing.assert_array_equal(got.hidden_bias, want.hidden_bias)
        H = TransverseFieldIsing(6, h=1.0)
        local = VMC(H, Psi(6, seed=0), n_samples=60, n_chains=5, seed=1)
        local.run(3)
        vmc = distributed.distribute_vmc(VMC(H, Psi(6, seed=0), n_samples=60, n_chains=5,
                                             seed=1), pool, block_size=2)
        vmc.run(3)
    assert vmc.history == local.history
    np.testing.assert_array_equal(vmc.wavefunction.parameters, local.wavefunction.parameters)


def test_replica_exchange_blocks(check_pt):
    for block_size in (1, 2, 3):
        check_pt(None, block_size)
    with ThreadPoolExecutor(3) as pool:
        check_pt(pool, 2)
        check_pt(pool, 3, optimize=True)        # the feedback burn-in on the client


def test_replica_exchange_refuses_feedback_in_blocks():
    from heatbath.spin import Ising

    pt = distributed.BlockReplicaExchange(Ising((4, 4)), temperatures=[2.0, 3.0], n_sets=4,
                                          optimize=True, block_size=2)
    with pytest.raises(ValueError, match="pools the walkers of every set"):
        pt.run(10, burn_in=10)
    with pytest.raises(ValueError, match="multiples of sweeps_per_swap"):
        distributed.BlockReplicaExchange(Ising((4, 4)), temperatures=[2.0, 3.0],
                                         sweeps_per_swap=2).run(3)
    with pytest.raises(TypeError, match="ReplicaExchange"):
        distributed.BlockReplicaExchange.wrap(object())


def _failing(monkeypatch, cls, name, fail_at):
    """Make the ``fail_at``-th call of ``cls.name`` raise (a worker dying mid-block)."""
    original = getattr(cls, name)
    calls = [0]

    def flaky(*args, **kwargs):
        calls[0] += 1
        if calls[0] == fail_at:
            raise RuntimeError("worker lost")
        return original(*args, **kwargs)

    monkeypatch.setattr(cls, name, flaky)
    return lambda: monkeypatch.setattr(cls, name, original)


def _one_checkpoint(folder, prefix):
    from heatbath import io

    names = sorted(p for p in os.listdir(folder) if p.startswith(prefix))
    return [io.load_arrays(folder / n, "heatbath.distributed.block") for n in names]


def test_ais_checkpoint_resumes(tmp_path, monkeypatch):
    from heatbath import RBM
    from heatbath.rbm.estimators import _Path
    from heatbath.rbm.estimators import ais as local_ais

    rbm = RBM(20, 12, seed=0).set_parameters(
        weights=0.3 * np.random.default_rng(1).normal(size=(20, 12)))
    expected = local_ais(rbm, n_runs=200, n_betas=60, seed=3)
    undo = _failing(monkeypatch, _Path, "gibbs", 33)      # the first block dies at beta 33
    with pytest.raises(RuntimeError, match="worker lost"):
        distributed.ais(rbm, n_runs=200, n_betas=60, seed=3, block_size=128,
                        checkpoint_dir=tmp_path, checkpoint_every=10)
    first, = _one_checkpoint(tmp_path, "ais-0-128")
    assert first["work_done"] == 30 and first["resumed_at"] == 0
    undo()
    est = distributed.ais(rbm, n_runs=200, n_betas=60, seed=3, block_size=128,
                          checkpoint_dir=tmp_path, checkpoint_every=10)
    np.testing.assert_array_equal(est.log_weights, expected.log_weights)
    assert float(est) == float(expected) and est.stderr == expected.stderr
    first, second = _one_checkpoint(tmp_path, "ais-")
    # the first block resumed at beta 30: it ran 29 steps, not 59 (3 redone of the 33 done)
    assert (first["resumes"], first["resumed_at"], first["attempt_work"]) == (1, 30, 29)
    assert (second["resumes"], second["resumed_at"], second["attempt_work"]) == (0, 0, 59)
    # a finished block's file is its result: a repeated call runs no step
    undo = _failing(monkeypatch, _Path, "gibbs", 1)
    again = distributed.ais(rbm, n_runs=200, n_betas=60, seed=3, block_size=128,
                            checkpoint_dir=tmp_path, checkpoint_every=10)
    np.testing.assert_array_equal(again.log_weights, expected.log_weights)


def test_continuous_checkpoint_resumes(tmp_path, monkeypatch, same_trace, same_state):
    from heatbath.continuous import MALA, Gaussian

    target = Gaussian(np.zeros(3), np.array([1.0, 2.0, 0.5]))
    kw = dict(n_chains=4, seed=5, adapt=False, step_size=0.6)
    local = MALA(target, **kw)
    expected = local.run(40, burn_in=10, thin=3)
    undo = _failing(monkeypatch, MALA, "run", 4)       # the first block dies in its 4th piece
    blocks = BlockSampler(MALA, target, checkpoint_dir=tmp_path, checkpoint_every=7,
                          block_size=2, **kw)
    with pytest.raises(RuntimeError, match="worker lost"):
        blocks.run(40, burn_in=10, thin=3)
    undo()
    trace = blocks.run(40, burn_in=10, thin=3)
    same_trace(trace, expected)         # mean_accept_prob too: the sums carry over the pieces
    same_state(blocks.get_state(), local.get_state())
    first, second = _one_checkpoint(tmp_path, "chains-")
    # pieces: burn-in 7 + 3, then 6 at a time (multiples of thin); it died in the 4th, and
    # the rescheduled block ran the last 34 sweeps, not 50
    assert (first["resumes"], first["resumed_at"], first["attempt_work"]) == (1, 16, 34)
    assert second["resumes"] == 0 and second["work_done"] == 50


def test_version_check_on_a_process_pool(tmp_path):
    # Workers that see another heatbath version (a dist-info first on their path,
    # put there by the pool's initializer), or none at all: a one-line error
    # naming both versions, before any block is sent.
    from heatbath.spin import Ising, MetropolisSampler

    info = tmp_path / "heatbath-0.0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: heatbath\nVersion: 0.0.1\n")
    fake = f"import sys, importlib; sys.path.insert(0, {str(tmp_path)!r}); " \
           "importlib.invalidate_caches()"
    gone = "import sys, importlib; sys.path[:] = [p for p in sys.path if 'site-packages' " \
           "not in p and 'src' not in p]; importlib.invalidate_caches()"
    spawn = multiprocessing.get_context("spawn")
    for code, message in ((fake, f"a worker of ProcessPoolExecutor has heatbath 0.0.1, this "
                                 f"client has heatbath {heatbath.__version__}"),
                          (gone, "a worker of ProcessPoolExecutor cannot use heatbath \\(is it "
                                 "installed there\\?\\): PackageNotFoundError")):
        with ProcessPoolExecutor(2, mp_context=spawn, initializer=exec,
                                 initargs=(code,)) as pool:
            with pytest.raises(RuntimeError, match=message):
                distributed.run_chains(MetropolisSampler, Ising((4, 4)), n_sweeps=2,
                                       n_chains=2, executor=pool)


def test_every_block_checks_its_worker():
    with pytest.raises(RuntimeError, match=f"has heatbath {heatbath.__version__}, this client "
                                           "has heatbath 9.9.9"):
        distributed._checked_block(lambda shared, task: 0, "9.9.9", None, None)
    assert distributed._checked_block(lambda shared, task: task, heatbath.__version__, None,
                                      7) == 7


def test_demo_section_skips_with_a_line(monkeypatch):
    # Where worker processes cannot start, the demo's distributed section says so in
    # one line instead of failing the demo (the section itself runs in test_demo_quick).
    from heatbath._demo import distributed as section

    class Refused:
        def __enter__(self):
            raise OSError("no processes here")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(section, "_executor", lambda quick: (Refused(), "nothing"))
    lines = section.run("unused", True)
    assert lines[0].startswith("Distributed runs") and lines[0].endswith(
        "skipped (the worker processes could not start: OSError: no processes here)")


def test_every_sampler_checkpoints_and_resumes(case, tmp_path, monkeypatch, same_trace,
                                               same_state):
    # Spin (single-spin, multispin, clusters), RBM Gibbs, continuous and NQS chains:
    # the first block dies mid-run, the rerun resumes it from its checkpoint, same bits.
    cls, model, kw, n, sizes, run_kw = case
    local = cls(model, n_chains=n, seed=11, **kw)
    expected = local.run(12, burn_in=3, thin=2, **run_kw)
    undo = _failing(monkeypatch, cls, "run", 3)
    blocks = BlockSampler(cls, model, n_chains=n, seed=11, block_size=sizes[0],
                          checkpoint_dir=tmp_path, checkpoint_every=4, **kw)
    with pytest.raises(RuntimeError, match="worker lost"):
        blocks.run(12, burn_in=3, thin=2, **run_kw)
    undo()
    same_trace(blocks.run(12, burn_in=3, thin=2, **run_kw), expected)
    same_state(blocks.get_state(), local.get_state())
    first = _one_checkpoint(tmp_path, "chains-0-")[0]
    # pieces: burn-in 3, then 4 at a time; it died in the 3rd, the rerun ran the last 8
    assert (first["resumes"], first["resumed_at"], first["attempt_work"]) == (1, 7, 8)
