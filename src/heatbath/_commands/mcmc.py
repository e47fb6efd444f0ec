"""``heatbath mcmc``: continuous-state samplers on a built-in target, against exact moments."""

import time

import numpy as np

from heatbath._commands import _common as c

TARGETS = ("gaussian", "mixture", "double-well", "phi4")
ALGORITHMS = ("rwm", "mala", "ula", "hmc")


def add_parser(subparsers):
    p = c.add_parser(
        subparsers, "mcmc", help="RWM / MALA / ULA / HMC on a built-in continuous target",
        description="Sample a built-in target over R^d with many chains and compare the "
                    "sample moments with the exact ones.")
    p.add_argument("--target", choices=TARGETS, default="gaussian",
                   help="built-in target with exact moments")
    p.add_argument("--dim", type=int, default=10,
                   help="dimension (gaussian, mixture, double-well; default 10)")
    p.add_argument("--size", type=int, default=16, help="phi4 lattice side L (default 16)")
    p.add_argument("--lattice-dim", type=int, default=2, choices=[2, 3],
                   help="phi4 lattice dimension (default 2)")
    p.add_argument("--kappa", type=float, default=0.2, help="phi4 hopping (default 0.2)")
    p.add_argument("--lam", type=float, default=0.0,
                   help="phi4 coupling lambda (default 0: the exactly solvable free theory)")
    p.add_argument("--algorithm", choices=ALGORITHMS, default="mala",
                   help="random-walk Metropolis, MALA, unadjusted Langevin (biased) or HMC")
    p.add_argument("--n-chains", type=c.positive_int, default=16, help="independent chains")
    p.add_argument("--n-steps", type=c.positive_int, default=1000, help="recorded steps")
    p.add_argument("--burn-in", type=c.nonnegative_int, default=500,
                   help="tuning steps (step size, preconditioner), then frozen")
    p.add_argument("--thin", type=c.positive_int, default=1, help="record every K-th step")
    p.add_argument("--step-size", type=float, default=None,
                   help="initial (or, for ULA, fixed) step size")
    p.add_argument("--seed", type=c.nonnegative_int, default=None,
                   help="default: fresh entropy, recorded in --json output")
    p.add_argument("--n-threads", type=c.positive_int, default=None, help="default: all cores")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    c.add_dask_options(p, "chains (the burn-in tunes here, the recorded steps run in blocks)")
    return p


def make_target(args):
    from heatbath import continuous as C
    from heatbath._validation import check_int

    check_int(args.dim, "--dim", minimum=1, maximum=4096)
    if args.target == "gaussian":
        # variances from 0.1 to 10 along a fixed random rotation: condition number 100
        d = args.dim
        q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(d, d)))
        return C.Gaussian(np.linspace(-1, 1, d), (q * np.geomspace(0.1, 10, d)) @ q.T)
    if args.target == "mixture":
        d = args.dim
        means = np.zeros((2, d))
        means[0, 0], means[1, 0] = -2.0, 2.0
        return C.GaussianMixture([0.3, 0.7], means, 1.0)
    if args.target == "double-well":
        return C.DoubleWell(args.dim, barrier=1.0, tilt=0.2)
    return C.Phi4(args.size, dim=args.lattice_dim, kappa=args.kappa, lam=args.lam)


def run(args):
    from heatbath import continuous as C

    if args.n_threads == 0:
        raise c.CommandError("--n-threads must not be 0")
    target = make_target(args)
    cls = {"rwm": C.RWM, "mala": C.MALA, "ula": C.ULA, "hmc": C.HMC}[args.algorithm]
    sampler = cls(target, n_chains=args.n_chains, seed=args.seed, n_threads=args.n_threads,
                  step_size=args.step_size)
    t0 = time.perf_counter()
    with c.dask_client(args) as client:
        if client is None:
            trace = sampler.run(args.n_steps, burn_in=args.burn_in, thin=args.thin,
                                verbose=c.is_tty(args))
        else:
            from heatbath.distributed import BlockSampler

            # Tuning pools every chain's acceptance: it runs here, then the frozen
            # kernel runs in blocks (the same numbers as one local run).
            sampler.run(0, burn_in=args.burn_in, verbose=c.is_tty(args))
            blocks = BlockSampler.wrap(sampler, executor=client, block_size=args.block_size,
                                       n_threads=args.n_threads)
            trace = blocks.run(args.n_steps, thin=args.thin, verbose=c.is_tty(args))
    seconds = time.perf_counter() - t0
    s = C.summary(trace)
    samples = trace.info["samples"]
    out = {
        "target": args.target, "algorithm": args.algorithm, "dim": target.dim,
        "n_chains": args.n_chains, "n_steps": args.n_steps, "burn_in": args.burn_in,
        "acceptance_rate": float(trace.acceptance_rate.mean()),
        "step_size": float(sampler.step_size),
        "n_leapfrog": int(sampler.n_leapfrog),
        "mean_abs_error": None, "variance_rel_error": None,
        "min_ess": float(s["ess"].min()), "max_rhat": float(s["rhat"].max()),
        "seconds": seconds,
    }
    out["ess_per_second"] = out["min_ess"] / seconds if seconds > 0 else None
    if target.mean is not None:
        var = samples.reshape(-1, target.dim).var(axis=0)
        out["mean_abs_error"] = float(np.abs(s["mean"] - target.mean).mean())
        out["variance_rel_error"] = float((np.abs(var - target.variance) / target.variance).mean())
    if args.json:
        print(c.dumps(out))
        return 0
    for key, value in out.items():
        print(f"{key:>20}: {value if not isinstance(value, float) else f'{value:.6g}'}")
    return 0
