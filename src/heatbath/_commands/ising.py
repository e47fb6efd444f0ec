"""``heatbath ising``: simulate an Ising model and compare with exact results."""

import sys

from heatbath._commands import _common as c

ALGORITHMS = ("heatbath", "metropolis", "multispin", "swendsen-wang", "wolff")


def add_parser(subparsers):
    p = c.add_parser(subparsers, "ising",
                     help="simulate an Ising model and compare with exact results",
                     description="Sample an Ising model with many chains; print observables "
                                 "with standard errors beside the exact values where known, "
                                 "tau_int, R-hat and a warning when the chains have not mixed.")
    p.add_argument("--size", type=c.positive_int, default=32, help="lattice side L")
    p.add_argument("--dim", type=c.positive_int, default=2, help="dimension")
    p.add_argument("--temperature", type=c.temperature, default=2.269, help="T > 0")
    p.add_argument("--n-sweeps", type=c.nonnegative_int, default=2000, help="recorded sweeps")
    p.add_argument("--burn-in", type=c.nonnegative_int, default=500,
                   help="discarded sweeps; NOT scaled with the lattice: near T_c Metropolis "
                        "needs of order L^2.2 sweeps, and a warning says when it was too few")
    p.add_argument("--n-chains", type=c.positive_int, default=8, help="independent chains")
    p.add_argument("--algorithm", choices=ALGORITHMS, default="metropolis",
                   help="single-spin Metropolis, heat-bath, multispin (Metropolis on 64 "
                        "replicas per machine word), Swendsen-Wang or Wolff clusters")
    p.add_argument("--temperatures", default=None, metavar="T1,T2,...",
                   help="replica exchange over these temperatures (--n-chains sets, "
                        "--algorithm metropolis or heatbath): a row per temperature and "
                        "the swap rates; with --dask-workers or --scheduler the sets run in "
                        "blocks (--block-size sets each)")
    p.add_argument("--seed", type=c.nonnegative_int, default=None,
                   help="default: fresh entropy, printed so that the run can be repeated")
    p.add_argument("--n-threads", type=c.positive_int, default=None, help="default: all cores")
    p.add_argument("--coupling", type=c.finite_float, default=1.0, help="J")
    p.add_argument("--field", type=c.finite_float, default=0.0, help="h")
    p.add_argument("--open", action="store_true", help="open instead of periodic boundaries")
    p.add_argument("--clusters-per-sweep", type=c.positive_int, default=None,
                   help="Wolff only; default: after an equilibrating pilot, so that a sweep "
                        "flips about L^dim spins, then fixed")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--checkpoint", default=None,
                   help="save the chains and the trace so far here (atomically)")
    p.add_argument("--checkpoint-every", type=c.positive_int, default=1000,
                   help="sweeps between checkpoints")
    p.add_argument("--resume", action="store_true",
                   help="continue from --checkpoint if it exists (bit for bit)")
    c.add_dask_options(p, "chains")
    c.add_deprecated(p, "--sweeps", "--n-sweeps")
    c.add_deprecated(p, "--chains", "--n-chains")
    c.add_deprecated(p, "--threads", "--n-threads")
    return p


def run(args):
    from heatbath.spin.study import run_ising

    distributed = args.dask_workers is not None or args.scheduler is not None
    if args.temperatures is not None:
        return _tempering(args)
    if args.resume and args.checkpoint is None:
        raise c.CommandError("--resume needs --checkpoint PATH")
    if distributed and args.checkpoint is not None:
        raise c.CommandError("--checkpoint is for one-process runs; with --dask-workers or "
                             "--scheduler a lost block is rerun by Dask")
    c.check_writable(args.checkpoint, "--checkpoint")
    with c.dask_client(args) as client:
        result = run_ising(args.size, dim=args.dim, temperature=args.temperature,
                           n_sweeps=args.n_sweeps, burn_in=args.burn_in,
                           n_chains=args.n_chains, algorithm=args.algorithm, seed=args.seed,
                           n_threads=args.n_threads, coupling=args.coupling, field=args.field,
                           periodic=not args.open, clusters_per_sweep=args.clusters_per_sweep,
                           verbose=c.is_tty(args), checkpoint=args.checkpoint,
                           checkpoint_every=args.checkpoint_every, resume=args.resume,
                           executor=client, block_size=args.block_size)
    if not args.json:
        print(report(result))
        return 0
    print(c.dumps(result.to_dict()))
    for line in result.warnings:
        print(f"heatbath ising: warning: chains not mixed: {line}", file=sys.stderr)
    return 0


def report(result):
    """The text report of an :class:`~heatbath.spin.study.IsingResult`."""
    res, ex = result.to_dict(), result.exact
    rows = []
    for name, fin_key, inf_key in [
            ("energy_per_spin", "finite_energy_per_spin", "infinite_energy_per_spin"),
            ("abs_magnetization", None, "infinite_abs_magnetization"),
            ("specific_heat", "finite_specific_heat", "infinite_specific_heat"),
            ("susceptibility", None, None), ("binder", None, None)]:
        v, e = result.observables[name]
        fin = ex.get(fin_key) if fin_key else None
        rows.append([name, f"{c.fmt(v, '.5f')} +- {c.fmt(e, '.5f')}",
                     c.fmt(fin, ".5f", ""),
                     f"{(v - fin) / e:+.1f}" if fin is not None and e > 0 else "",
                     c.fmt(ex.get(inf_key) if inf_key else None, ".5f", "")])
    m = res["model"]
    seed = (f"seed {res['seed']}" if res["seed"] is not None
            else f"seed {res['seed_entropy']} (drawn; --seed repeats the run)")
    lines = [f"Ising {'x'.join([str(m['size'])] * m['dim'])}, {res['algorithm']}, "
             f"T = {res['temperature']}, {res['n_chains']} chains x {res['n_sweeps']} sweeps "
             f"(+{res['burn_in']} burn-in), {seed}", "",
             c.table(rows, ["observable", "sampled", "exact (finite)", "z", "exact (infinite)"]),
             ""]
    tail = (f"acceptance {c.fmt(res['acceptance_rate'], '.3f')}, "
            f"tau_int(E) = {res['tau_int_energy']:.2f} sweeps, "
            f"R-hat(E) = {c.fmt(res['rhat_energy'], '.3f', 'n/a (fewer than 4 sweeps)')}, "
            f"{c.fmt(res['flips_per_second'] / 1e6, '.3g')} M flips/s, {res['seconds']:.2f} s")
    if res["algorithm"] == "wolff":
        tail += (f"; {res['clusters_per_sweep']} clusters per sweep "
                 f"(mean size {res['mean_cluster_size']:.1f})")
    lines.append(tail)
    for w in result.warnings:
        lines.append(f"WARNING, chains not mixed: {w}")
    return "\n".join(lines)


def _tempering(args):
    """``--temperatures``: replica exchange, one row per temperature plus the swap rates."""
    import time

    import numpy as np

    from heatbath import spin
    from heatbath.diagnostics import Trace

    try:
        temperatures = [float(x) for x in args.temperatures.split(",")]
    except ValueError:
        raise c.CommandError(f"--temperatures must be numbers separated by commas, "
                             f"got {args.temperatures!r}") from None
    algorithm = {"metropolis": "metropolis", "heatbath": "heat_bath"}.get(args.algorithm)
    if algorithm is None:
        raise c.CommandError("--temperatures runs replica exchange with --algorithm "
                             f"metropolis or heatbath, not {args.algorithm}")
    model = spin.Ising((args.size,) * args.dim, J=args.coupling, h=args.field,
                       periodic=not args.open)
    kw = dict(temperatures=temperatures, n_sets=args.n_chains, seed=args.seed,
              n_threads=args.n_threads, algorithm=algorithm)
    with c.dask_client(args) as client:
        if client is None:
            pt = spin.ReplicaExchange(model, **kw)
        else:           # the sets in blocks on the workers: the same numbers
            from heatbath.distributed import BlockReplicaExchange

            pt = BlockReplicaExchange(model, executor=client, block_size=args.block_size, **kw)
        start = time.perf_counter()
        trace = pt.run(args.n_sweeps, burn_in=args.burn_in)
        seconds = time.perf_counter() - start
    rows, n = [], args.n_chains
    for k, T in enumerate(pt.temperatures):
        cols = slice(k * n, (k + 1) * n)
        sub = Trace({name: trace[name][:, cols] for name in ("energy", "magnetization")},
                    np.full(n, np.nan), trace.final_state[cols], np.full(n, T), model.n_spins)
        th = spin.thermodynamics(sub)
        row = {"temperature": float(T)}
        for name in ("energy_per_spin", "abs_magnetization", "magnetization_squared",
                     "specific_heat", "susceptibility", "binder"):
            row[name], row[name + "_stderr"] = (float(x) for x in th[name])
        row["tau_int_energy"] = float(th["tau_int_energy"])
        rows.append(row)
    rates, trip = trace.info["swap_rates"], trace.info["mean_round_trip_sweeps"]
    res = {"model": {"size": args.size, "dim": args.dim, "J": args.coupling, "h": args.field,
                     "periodic": not args.open, "n_spins": model.n_spins},
           "algorithm": "replica-exchange " + args.algorithm, "n_sweeps": args.n_sweeps,
           "burn_in": args.burn_in, "n_chains": args.n_chains, "seed": args.seed,
           "rows": rows, "swap_rates": [None if np.isnan(x) else float(x) for x in rates],
           "round_trips": int(trace.info["round_trips"]),
           "mean_round_trip_sweeps": None if np.isnan(trip) else float(trip),
           "seconds": seconds}
    if args.json:
        print(c.dumps(res))
        return 0
    print(c.table([[f"{r['temperature']:.4g}", f"{r['energy_per_spin']:.5f}",
                    f"{r['abs_magnetization']:.4f}", f"{r['specific_heat']:.4f}"]
                   for r in rows], ["T", "energy_per_spin", "abs_magnetization",
                                    "specific_heat"]))
    print("swap rates: " + ", ".join(c.fmt(x, ".3f", "n/a") for x in res["swap_rates"]))
    return 0
