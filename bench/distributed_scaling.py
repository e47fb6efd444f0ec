"""Distributed efficiency: 2 single-thread Dask workers against one process with 2 threads.

    python bench/distributed_scaling.py            # >= 10 s runs, 3 interleaved rounds
    python bench/distributed_scaling.py --quick    # a smoke test (figures mean nothing)

Two workloads (issue 17): Ising, 64 chains of 128^2 (Metropolis), and AIS on a
784 x 500 RBM. Each round runs the local 2-thread version and the 2-worker
LocalCluster version back to back (interleaved, so that the machine's load
hits both alike); the table gives the best and the median of the rounds and
the efficiency (local time / distributed time: 1.0 is perfect, and the
distributed run has one core per worker where the local run has 2 threads).
It also measures the per-block overhead (blocks of zero sweeps, tiny and
128^2 states) and the volume of a block's result. Every distributed result
is checked against the local one, bit for bit.
"""

import argparse
import os
import pickle
import statistics
import time

import numpy as np


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=12.0, help="target length of a run")
    args = parser.parse_args(argv)

    from distributed import Client, LocalCluster

    from heatbath import RBM, distributed
    from heatbath.rbm.estimators import ais
    from heatbath.spin import Ising, MetropolisSampler

    quick = args.quick
    L, n_chains = (32, 8) if quick else (128, 64)
    n_vis, n_hid = (64, 32) if quick else (784, 500)
    target = 0.5 if quick else args.seconds
    rounds = 1 if quick else args.rounds
    model = Ising((L, L))
    rbm = RBM(n_vis, n_hid, seed=0).set_parameters(
        weights=0.05 * np.random.default_rng(0).normal(size=(n_vis, n_hid)))
    n_runs = 256             # two blocks of 128 runs (AIS blocks start at multiples of 128)

    # Calibrate both workloads on the local 2-thread run.
    t, _ = _timed(lambda: MetropolisSampler(model, temperature=2.3, n_chains=n_chains, seed=1,
                                            n_threads=2).run(20))
    n_sweeps = max(20, int(20 * target / t))
    t, _ = _timed(lambda: ais(rbm, n_runs=n_runs, n_betas=50, seed=1, n_threads=2))
    n_betas = max(50, int(50 * target / t))

    def ising_local():
        s = MetropolisSampler(model, temperature=2.3, n_chains=n_chains, seed=1, n_threads=2)
        return s.run(n_sweeps, thin=10)

    def ising_dask(client):
        return distributed.run_chains(MetropolisSampler, model, temperature=2.3,
                                      n_chains=n_chains, seed=1, n_sweeps=n_sweeps, thin=10,
                                      executor=client, block_size=n_chains // 2)

    def ais_local():
        return ais(rbm, n_runs=n_runs, n_betas=n_betas, seed=1, n_threads=2)

    def ais_dask(client):
        return distributed.ais(rbm, n_runs=n_runs, n_betas=n_betas, seed=1, executor=client,
                               block_size=n_runs // 2)

    load = [os.getloadavg()]
    rows = []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        client.wait_for_workers(2)
        # the workers import heatbath once, before anything is timed
        distributed.BlockSampler(MetropolisSampler, model, n_chains=2, executor=client,
                                 block_size=1).run(0)
        for name, local, remote, same in [
                (f"Ising {n_chains} chains of {L}^2, {n_sweeps} sweeps", ising_local,
                 ising_dask, lambda a, b: np.array_equal(a["energy"], b["energy"])),
                (f"AIS {n_vis}x{n_hid}, {n_runs} runs x {n_betas} betas", ais_local, ais_dask,
                 lambda a, b: np.array_equal(a.log_weights, b.log_weights))]:
            t_local, t_dask = [], []
            for _ in range(rounds):
                t1, a = _timed(local)
                t2, b = _timed(lambda: remote(client))
                assert same(a, b), f"{name}: the distributed result differs"
                t_local.append(t1)
                t_dask.append(t2)
            load.append(os.getloadavg())
            rows.append((name, min(t_local), statistics.median(t_local), min(t_dask),
                         statistics.median(t_dask)))

        overhead = []
        for side, n in ((8, 64), (L, n_chains)):
            m = Ising((side, side))
            times = {}
            for bs in (n, 1):
                blocks = distributed.BlockSampler(MetropolisSampler, m, n_chains=n, seed=0,
                                                  executor=client, block_size=bs)
                blocks.run(0)
                times[bs] = min(_timed(lambda: blocks.run(0))[0] for _ in range(3))
            overhead.append((side, n, (times[1] - times[n]) / (n - 1)))
        block = distributed.BlockSampler(MetropolisSampler, model, n_chains=n_chains // 2,
                                         seed=0)
        result = (block.run(n_sweeps, thin=10), block.get_state())
        volume = len(pickle.dumps(result, protocol=5))

    # VMC: the serial fraction is what stays on the client (forming O_k and the SR solve).
    from heatbath.nqs import RBM as Psi
    from heatbath.nqs import VMC, TransverseFieldIsing

    N = 12 if quick else 40
    vmc = VMC(TransverseFieldIsing(N, h=1.0), Psi(N, seed=0), n_samples=1008, n_chains=16,
              seed=1, n_threads=2)
    vmc.run(2)
    t_sample, t_solve = [], []
    for _ in range(3 if quick else 10):
        t, (s, eloc, tanh, _, _) = _timed(lambda: vmc.sampler.sample(vmc.sweeps_per_chain,
                                                                     vmc.burn_in))
        t_sample.append(t)
        n = s.shape[0] * s.shape[1]
        psi = vmc.wavefunction
        t, _ = _timed(lambda: vmc.optimizer.step(
            psi.parameters, psi._derivatives(s.reshape(n, -1), tanh.reshape(n, -1)),
            eloc.reshape(n), 2))
        t_solve.append(t)
    ts, tp = min(t_solve), min(t_sample)
    records = n * (N + 8 * psi.n_hidden + 8)

    load.append(os.getloadavg())
    print("load average (1, 5, 15 min) at the start, after each workload and at the end: "
          + "; ".join(" ".join(f"{x:.1f}" for x in la) for la in load))
    print(f"{'workload':<52} {'local 2 threads':>17} {'2 Dask workers':>17} {'efficiency':>11}")
    print(f"{'':<52} {'best / median s':>17} {'best / median s':>17} {'best':>11}")
    for name, lb, lm, db, dm in rows:
        print(f"{name:<52} {lb:7.2f} / {lm:7.2f} {db:7.2f} / {dm:7.2f} {lb / db:11.2f}")
    for side, n, per in overhead:
        print(f"per-block overhead, {n} blocks of one {side}^2 chain, 0 sweeps: "
              f"{per * 1e3:.1f} ms per block")
    print(f"result of one Ising block ({n_chains // 2} chains, {n_sweeps // 10} records, "
          f"final state and chain state): {volume / 2**20:.2f} MiB")
    print(f"VMC TFIM N = {N}, alpha = 1 ({psi.n_parameters} parameters), 1008 samples: sampling "
          f"{tp * 1e3:.1f} ms, O_k + SR solve on the client {ts * 1e3:.1f} ms per iteration "
          f"(serial fraction {ts / (ts + tp):.2f}); records shipped {records / 2**10:.0f} KiB "
          "per iteration")
    for w in (10, 100, 1000):
        print(f"  Amdahl bound with {w} workers: {(ts + tp) / (ts + tp / w):.1f}x")
    if quick:
        print("SMOKE TEST (--quick): tiny sizes; the figures mean nothing")


if __name__ == "__main__":
    main()
