"""Demo section: distributed runs, the same bits on two worker processes as in this one."""

import time

import numpy as np

from heatbath._format import table


def _executor(quick):
    """(executor context, its name): a 2-worker Dask LocalCluster where Dask is installed
    (not in quick mode: starting and stopping one takes several seconds), else a process
    pool of 2 (spawned: OpenMP is not safe to fork)."""
    import contextlib
    import logging

    try:
        if quick:
            raise ImportError
        from distributed import Client, LocalCluster
    except ImportError:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        why = "quick mode" if quick else "Dask is not installed"
        return (ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")),
                f"a ProcessPoolExecutor of 2 processes ({why})")

    @contextlib.contextmanager
    def cluster():
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None, silence_logs=logging.ERROR) as c, \
                Client(c) as client:
            client.wait_for_workers(2)
            yield client

    return cluster(), "a Dask LocalCluster of 2 worker processes, 1 thread each"


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def run(out_dir, quick):
    from heatbath import RBM, distributed
    from heatbath.rbm.estimators import ais
    from heatbath.spin import Ising, MetropolisSampler, ReplicaExchange

    L, n_chains, n_sweeps = (16, 8, 200) if quick else (64, 16, 2000)
    n_vis, n_hid, n_betas = (32, 16, 50) if quick else (784, 500, 1000)
    pt_sets, pt_sweeps = (4, 50) if quick else (16, 1000)
    title = "Distributed runs: blocks of work on worker processes, the same bits as one process"
    context, name = _executor(quick)
    try:
        with context as executor:
            started = time.perf_counter()
            # the workers import heatbath once, before anything is timed
            distributed.run_chains(MetropolisSampler, Ising((4, 4)), n_sweeps=0, n_chains=2,
                                   executor=executor, block_size=1)
            start_s = time.perf_counter() - started
            model = Ising((L, L))
            kw = dict(temperature=2.269, n_chains=n_chains, seed=1)
            rbm = RBM(n_vis, n_hid, seed=0).set_parameters(
                weights=0.05 * np.random.default_rng(0).normal(size=(n_vis, n_hid)))
            pt_kw = dict(temperatures=[2.0, 2.269, 2.6], n_sets=pt_sets, seed=2)
            work = [
                (f"Metropolis, {n_chains} chains of {L}^2, {n_sweeps} sweeps",
                 f"2 x {n_chains // 2} chains",
                 lambda: MetropolisSampler(model, **kw).run(n_sweeps)["energy"],
                 lambda: distributed.run_chains(MetropolisSampler, model, n_sweeps=n_sweeps,
                                                executor=executor, block_size=n_chains // 2,
                                                **kw)["energy"]),
                (f"AIS, RBM {n_vis}x{n_hid}, 256 runs x {n_betas} betas", "2 x 128 runs",
                 lambda: ais(rbm, n_runs=256, n_betas=n_betas, seed=3).log_weights,
                 lambda: distributed.ais(rbm, n_runs=256, n_betas=n_betas, seed=3,
                                         executor=executor, block_size=128).log_weights),
                (f"replica exchange, 3 temperatures x {pt_sets} sets of {L}^2", "2 blocks of "
                 f"{pt_sets // 2} sets",
                 lambda: ReplicaExchange(model, **pt_kw).run(pt_sweeps)["energy"],
                 lambda: distributed.BlockReplicaExchange(
                     model, executor=executor, block_size=pt_sets // 2,
                     **pt_kw).run(pt_sweeps)["energy"])]
            rows = []
            for label, blocks, local, remote in work:
                a, t_local = _timed(local)
                b, t_remote = _timed(remote)
                rows.append([label, blocks, f"{t_local:.2f}", f"{t_remote:.2f}",
                             "yes" if np.array_equal(a, b) else "NO"])
    except (OSError, RuntimeError) as exc:
        return [title + ": skipped (the worker processes could not start: "
                f"{type(exc).__name__}: {exc})", ""]
    lines = [title, f"   on {name}, started in {start_s:.1f} s (heatbath.distributed; "
             "pip install 'heatbath[dask]' for clusters)\n",
             table(rows, ["work", "blocks", "one process, s", "2 workers, s",
                          "same bits"]),
             "   Each block is a pure function of its inputs (the chains' own streams from one "
             "SeedSequence),",
             "   merged in a fixed order; with checkpoint_dir a block whose worker dies "
             "resumes elsewhere.",
             "   Runs this short are dominated by shipping blocks, not by sampling "
             "(README: Distributed runs).\n"]
    return lines
