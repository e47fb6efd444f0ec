"""``heatbath sample``: block-Gibbs samples from a saved RBM."""

from heatbath._commands import _common as c


def add_parser(subparsers):
    p = c.add_parser(subparsers, "sample", help="block-Gibbs samples from a saved RBM",
                     description="Run block-Gibbs chains of a saved RBM and save the visible "
                                 "states: the last state of each chain, or every --thin-th "
                                 "state after burn-in with --thin.")
    p.add_argument("--model", required=True, help="model file from heatbath train (.npz)")
    p.add_argument("--out", required=True, help="samples file to write (.npy)")
    p.add_argument("--n-chains", type=c.positive_int, default=100, help="independent chains")
    p.add_argument("--n-sweeps", type=c.positive_int, default=1000,
                   help="Gibbs steps after burn-in")
    p.add_argument("--burn-in", type=c.nonnegative_int, default=0, help="discarded steps")
    p.add_argument("--thin", type=c.nonnegative_int, default=0,
                   help="keep every K-th state after burn-in, shape (n_sweeps // K, n_chains, "
                        "n_visible); 0: keep only the last state, shape (n_chains, n_visible)")
    p.add_argument("--temperature", type=c.temperature, default=1.0,
                   help="T > 0; inf samples the uniform distribution")
    p.add_argument("--seed", type=c.nonnegative_int, default=None,
                   help="default: fresh entropy, printed so that the run can be repeated")
    p.add_argument("--n-threads", type=c.positive_int, default=None, help="default: all cores")
    c.add_dask_options(p, "chains")
    c.add_deprecated(p, "--chains", "--n-chains")
    c.add_deprecated(p, "--steps", "--n-sweeps")
    c.add_deprecated(p, "--every", "--thin")
    c.add_deprecated(p, "--threads", "--n-threads")
    return p


def run(args):
    import numpy as np

    from heatbath._io import atomic_write

    c.check_writable(args.out, "--out")
    if args.thin > args.n_sweeps:
        raise c.CommandError(f"--thin {args.thin} is past the end of the run (--n-sweeps "
                             f"{args.n_sweeps}): no state would be kept")
    model = c.load_model(args.model)
    seed = np.random.SeedSequence(args.seed)
    sampler = model.gibbs_sampler(n_chains=args.n_chains, temperature=args.temperature,
                                  seed=int(seed.entropy), n_threads=args.n_threads)
    verbose = c.is_tty(args)
    with c.dask_client(args) as client:
        if client is not None:
            from heatbath.distributed import BlockSampler

            sampler = BlockSampler.wrap(sampler, executor=client, block_size=args.block_size,
                                        n_threads=args.n_threads)
        if args.thin:
            trace = sampler.run(args.n_sweeps, burn_in=args.burn_in, thin=args.thin,
                                record_states=True, verbose=verbose)
            out = trace.info["states"]
        else:
            out = sampler.run(0, burn_in=args.burn_in + args.n_sweeps,
                              verbose=verbose).final_state
    atomic_write(args.out, lambda f: np.save(f, out), suffix=".npy")
    seed_text = "" if args.seed is not None else f" (seed {int(seed.entropy)}; --seed repeats it)"
    print(f"wrote {out.shape} samples to {args.out}{seed_text}")
    return 0
