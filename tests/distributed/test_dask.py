"""heatbath.distributed on a Dask LocalCluster (two worker processes on loopback).

One cluster for the module (starting one costs seconds). The same bits as
the local run for 1, 2 and 3 workers and two block sizes per kind of work;
a worker killed mid-run; an unreachable scheduler; a worker of another
heatbath version; the CLI flags.
"""

import json
import os
import signal
import time

import numpy as np
import pytest

distributed_dask = pytest.importorskip("distributed")

from heatbath import distributed  # noqa: E402
from heatbath.cli import main  # noqa: E402

# Sizes of the killed blocks: each runs a few seconds on one thread, so that a
# worker can be killed mid-block (RBM visible x hidden x betas; MALA dim x steps).
AIS_SIZE = (100, 60, 400)
MALA_SIZE = (100, 200000)


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        client.wait_for_workers(2)
        yield cluster, client


def _executors(client):
    """One worker (tasks pinned to it) and both workers."""
    first = sorted(client.scheduler_info()["workers"])[0]
    return [client.get_executor(workers=[first]), client]


def test_chains(cluster, case, check):
    _, client = cluster
    one, both = _executors(client)
    check(case, one, case[4][0])
    check(case, both, case[4][1], again=False)


def test_worker_threads_are_the_workers(cluster):
    _, client = cluster
    from heatbath.spin import Ising, MetropolisSampler

    blocks = distributed.BlockSampler(MetropolisSampler, Ising((4, 4)), n_chains=4, seed=0,
                                      executor=client, n_threads=8)
    assert client.submit(distributed.worker_threads, pure=False).result() == 1
    assert blocks.run(2)["energy"].shape == (2, 4)      # n_threads=8 is capped at 1 thread


def _other_kinds(executor, block_sizes, same_trace, maps=True):
    """AIS, a scan, a training sweep and VMC on ``executor``, against local runs."""
    from heatbath import RBM
    from heatbath.nqs import RBM as Psi
    from heatbath.nqs import TransverseFieldIsing, VMC
    from heatbath.rbm.estimators import ais as local_ais
    from heatbath.spin.study import run_ising

    rbm = RBM(30, 40, seed=0).set_parameters(
        weights=0.3 * np.random.default_rng(1).normal(size=(30, 40)))
    expected = local_ais(rbm, n_runs=260, n_betas=20, seed=3)
    H = TransverseFieldIsing(6, h=1.0)
    local = VMC(H, Psi(6, seed=0), n_samples=40, n_chains=5, seed=1)
    local.run(2)
    for block_size in block_sizes:
        est = distributed.ais(rbm, n_runs=260, n_betas=20, seed=3, executor=executor,
                              block_size=128 * (block_size - 1))
        np.testing.assert_array_equal(est.log_weights, expected.log_weights)
        assert float(est) == float(expected) and est.stderr == expected.stderr
        vmc = distributed.distribute_vmc(VMC(H, Psi(6, seed=0), n_samples=40, n_chains=5,
                                             seed=1), executor, block_size=block_size)
        vmc.run(2)
        assert vmc.history == local.history
        np.testing.assert_array_equal(vmc.wavefunction.parameters,
                                      local.wavefunction.parameters)
    if not maps:
        return
    scan = distributed.scan_ising(4, temperatures=[2.0, 2.8], n_sweeps=30, burn_in=5,
                                  n_chains=3, seed=5, algorithm="heatbath", executor=executor)
    for r, T in zip(scan, (2.0, 2.8)):
        same_trace(r.trace, run_ising(4, temperature=T, n_sweeps=30, burn_in=5, n_chains=3,
                                      seed=5, algorithm="heatbath").trace)
    X = (np.random.default_rng(0).random((30, 6)) < 0.3).astype(float)
    settings = [{"n_hidden": 3, "epochs": 2, "seed": 1, "learning_rate": lr, "model_seed": 4}
                for lr in (0.05, 0.2)]
    for got, s in zip(distributed.fit_rbms(X, settings, executor=executor), settings):
        want = RBM(6, 3, seed=4).fit(X, epochs=2, seed=1, learning_rate=s["learning_rate"])
        np.testing.assert_array_equal(got.weights, want.weights)
        np.testing.assert_array_equal(got.visible_bias, want.visible_bias)


def test_ais_scan_sweep_and_vmc(cluster, same_trace):
    _, client = cluster
    one, both = _executors(client)
    _other_kinds(one, (2,), same_trace)
    _other_kinds(both, (3,), same_trace)


def test_three_workers(cluster, all_cases, same_trace, check, check_pt):
    check_exchange = check_pt
    cluster, client = cluster
    cluster.scale(3)
    client.wait_for_workers(3)
    try:
        # Scans and sweeps are a task per point, the same code for any number of
        # workers (test_ais_scan_sweep_and_vmc); blocked work is checked here.
        for name in ("metropolis", "multispin", "gibbs", "mala", "nqs"):
            check(all_cases[name], client, all_cases[name][4][1], again=False)
        _other_kinds(client, (2,), same_trace, maps=False)
        check_exchange(client, 2)
    finally:
        cluster.scale(2)
        deadline = time.monotonic() + 30
        while len(client.scheduler_info()["workers"]) > 2 and time.monotonic() < deadline:
            time.sleep(0.1)


# Sent to a worker by value (a function of a test module would be pickled by reference).
_FAKE_VERSION = """
def fake_version(path, undo=False):
    import importlib, sys
    if undo:
        sys.path.remove(path)
    else:
        sys.path.insert(0, path)
    importlib.invalidate_caches()
"""


def test_worker_with_another_version(cluster, tmp_path):
    _, client = cluster
    info = tmp_path / "heatbath-0.0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: heatbath\nVersion: 0.0.1\n")
    namespace = {"__name__": "__main__"}
    exec(_FAKE_VERSION, namespace)
    fake = namespace["fake_version"]
    first = sorted(client.scheduler_info()["workers"])[0]
    client.run(fake, str(tmp_path), workers=[first])
    try:
        from heatbath.spin import Ising, MetropolisSampler

        with pytest.raises(RuntimeError, match=f"{first} has heatbath 0.0.1, this client has "
                                               "heatbath"):
            distributed.run_chains(MetropolisSampler, Ising((4, 4)), n_sweeps=2, n_chains=2,
                                   executor=client)
        code = main(["ising", "--size", "4", "--n-sweeps", "2", "--scheduler",
                     client.scheduler.address])
        assert code == 2
    finally:
        client.run(fake, str(tmp_path), True, workers=[first])
    distributed.check_workers(client)


def test_unreachable_scheduler(capsys):
    import socket

    with socket.socket() as s:          # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(OSError, match=f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port} "
                                      "within 1 s"):
        with distributed.connect(f"tcp://127.0.0.1:{port}", timeout=1):
            pass
    assert time.monotonic() - start < 10
    code = main(["ising", "--size", "4", "--scheduler", f"tcp://127.0.0.1:{port}",
                 "--scheduler-timeout", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("heatbath ising: error: cannot reach the Dask scheduler")


def test_cli_on_the_cluster(cluster, tmp_path, capsys):
    _, client = cluster
    address = client.scheduler.address

    def run(*argv):
        assert main(list(argv)) == 0
        return capsys.readouterr().out

    common = ["ising", "--size", "6", "--n-sweeps", "40", "--burn-in", "5", "--n-chains", "5",
              "--seed", "3", "--json"]
    here = json.loads(run(*common))
    there = json.loads(run(*common, "--scheduler", address, "--block-size", "2"))
    for key in ("energy_per_spin", "binder", "acceptance_rate", "tau_int_energy"):
        assert here[key] == there[key]
    from heatbath import RBM

    RBM(6, 3, seed=0).save(tmp_path / "m.npz")
    X = (np.random.default_rng(0).random((20, 6)) < 0.5).astype(float)
    np.save(tmp_path / "x.npy", X)
    ev = ["evaluate", "--model", str(tmp_path / "m.npz"), "--data", str(tmp_path / "x.npy"),
          "--method", "ais", "--n-runs", "5", "--n-betas", "50", "--seed", "1", "--json"]
    a, b = json.loads(run(*ev)), json.loads(run(*ev, "--scheduler", address))
    assert a["log_partition"] == b["log_partition"]
    sa = ["sample", "--model", str(tmp_path / "m.npz"), "--n-chains", "1100", "--n-sweeps", "3",
          "--seed", "2"]
    run(*sa, "--out", str(tmp_path / "a.npy"))
    run(*sa, "--out", str(tmp_path / "b.npy"), "--scheduler", address, "--block-size", "1024")
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))
    mc = ["mcmc", "--dim", "3", "--n-chains", "4", "--n-steps", "30", "--burn-in", "20",
          "--seed", "1", "--json"]
    a, b = json.loads(run(*mc)), json.loads(run(*mc, "--scheduler", address))
    assert (a["step_size"], a["mean_abs_error"], a["min_ess"]) == \
        (b["step_size"], b["mean_abs_error"], b["min_ess"])
    pt = ["ising", "--size", "4", "--temperatures", "2.0,2.4,2.8", "--n-chains", "4",
          "--n-sweeps", "60", "--burn-in", "10", "--seed", "2", "--json"]
    a, b = json.loads(run(*pt)), json.loads(run(*pt, "--scheduler", address, "--block-size", "3"))
    assert (a["rows"], a["swap_rates"], a["round_trips"]) == \
        (b["rows"], b["swap_rates"], b["round_trips"])
    nq = ["nqs", "--size", "6", "--iterations", "3", "--n-samples", "40", "--n-chains", "4",
          "--eval-samples", "200", "--seed", "1", "--json"]
    a, b = json.loads(run(*nq)), json.loads(run(*nq, "--scheduler", address))
    assert (a["energy"], a["energy_variance"]) == (b["energy"], b["energy_variance"])


@pytest.mark.slow
def test_cli_local_cluster(capsys):
    code = main(["ising", "--size", "6", "--n-sweeps", "20", "--n-chains", "4", "--seed", "1",
                 "--dask-workers", "2", "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["n_chains"] == 4


def _kill_mid_block(folder, prefix, total, run):
    """``run()`` on the cluster, with the worker of the block whose checkpoint is named
    ``prefix...`` killed by its pid once that block has saved some, but under half, of its
    ``total`` work. Returns run's result; checks that the rescheduled block resumed from the
    checkpoint (it ran only the work left, not the whole block again)."""
    import threading

    from heatbath import io

    def load(name):
        return io.load_arrays(folder / name, "heatbath.distributed.block")

    out = {}
    runner = threading.Thread(target=lambda: out.update(result=run()))
    runner.start()
    killed = None
    deadline = time.monotonic() + 60
    while killed is None and time.monotonic() < deadline and runner.is_alive():
        for name in os.listdir(folder):
            if not (name.startswith(prefix) and name.endswith(".npz")):
                continue
            try:
                saved = load(name)
            except ValueError:
                continue
            if 0 < saved["work_done"] < total // 2:
                killed = int(saved["pid"])
                os.kill(killed, signal.SIGKILL)
        time.sleep(0.02)
    runner.join(120)
    assert killed is not None, "the block finished before it could be killed: make it longer"
    saved = load(next(n for n in os.listdir(folder) if n.startswith(prefix)))
    assert saved["resumes"] >= 1 and saved["pid"] != killed
    assert saved["work_done"] == total and 0 < saved["resumed_at"] < total
    assert saved["attempt_work"] == total - saved["resumed_at"]       # the rest, not all
    return out["result"]


def _killed_chains(name):
    """(class, model, keywords, sweeps, thin) of a block of chains that runs a few seconds.

    One thread: the bits do not depend on it, and on a loaded machine OpenMP threads
    waiting for each other make the local runs many times slower."""
    from heatbath.continuous import MALA, Gaussian
    from heatbath.spin import Ising, MetropolisSampler

    if name == "metropolis":
        kw = dict(temperature=2.3, n_chains=4, seed=1, n_threads=1)
        return MetropolisSampler, Ising((64, 64)), kw, 3000, 10
    dim, n_steps = MALA_SIZE         # a compiled target: the continuous checkpoints
    kw = dict(n_chains=4, seed=3, adapt=False, step_size=0.3, n_threads=1)
    return MALA, Gaussian(np.zeros(dim), np.linspace(0.5, 2.0, dim)), kw, n_steps, n_steps // 40


@pytest.mark.parametrize("name", ["metropolis", "mala"])
def test_kill_a_worker_mid_run(cluster, tmp_path, same_trace, name):
    """A worker killed by its pid mid-block: Dask reschedules, the block resumes, same bits."""
    _, client = cluster
    cls, model, kw, n_sweeps, thin = _killed_chains(name)
    blocks = distributed.BlockSampler(cls, model, executor=client, block_size=2,
                                      checkpoint_dir=tmp_path, checkpoint_every=n_sweeps // 20,
                                      **kw)
    trace = _kill_mid_block(tmp_path, "chains-0-2", n_sweeps,
                            lambda: blocks.run(n_sweeps, thin=thin))
    same_trace(trace, cls(model, **kw).run(n_sweeps, thin=thin))


def test_kill_a_worker_mid_ais(cluster, tmp_path):
    """The same for an AIS block: it resumes at the last saved temperature, same estimate."""
    from heatbath import RBM
    from heatbath.rbm.estimators import ais as local_ais

    _, client = cluster
    rbm = RBM(AIS_SIZE[0], AIS_SIZE[1], seed=0).set_parameters(
        weights=0.1 * np.random.default_rng(1).normal(size=AIS_SIZE[:2]))
    kw = dict(n_runs=256, n_betas=AIS_SIZE[2], seed=2, n_threads=1)
    est = _kill_mid_block(tmp_path, "ais-0-128", AIS_SIZE[2] - 1, lambda: distributed.ais(
        rbm, executor=client, block_size=128, checkpoint_dir=tmp_path,
        checkpoint_every=AIS_SIZE[2] // 20, **kw))
    expected = local_ais(rbm, **kw)
    np.testing.assert_array_equal(est.log_weights, expected.log_weights)
    assert float(est) == float(expected)


def test_replica_exchange(cluster, check_pt):
    _, client = cluster
    one, both = _executors(client)
    check_pt(one, 2)
    check_pt(both, 3)


@pytest.mark.slow
def test_readme_example_runs(tmp_path, monkeypatch, capsys):
    # The README's distributed example (a ```py block: it starts its own cluster, so
    # the fast README test does not run it) runs as written and prints True.
    import pathlib
    import re

    readme = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Distributed runs (Dask)", 1)[1].split("\n## ", 1)[0]
    block = re.findall(r"```py\n(.*?)```", section, re.S)[0]
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {"__name__": "__main__"})
    assert capsys.readouterr().out.startswith("True ")
