"""``heatbath nqs``: optimise an RBM wavefunction by VMC + SR and compare with the exact energy."""

from heatbath._commands import _common as c


def add_parser(subparsers):
    # Options left at None take heatbath.nqs.study.RECIPE's value (imported when the
    # command runs: the CLI does not import heatbath.nqs to start).
    p = c.add_parser(subparsers, "nqs",
                     help="neural-network quantum state: VMC + SR on TFIM or Heisenberg",
                     description="Optimise a Carleo-Troyer RBM wavefunction by variational Monte "
                                 "Carlo with stochastic reconfiguration, then evaluate its energy "
                                 "with --eval-samples fresh samples and compare with the exact "
                                 "ground-state energy (closed form or Lanczos where affordable).")
    p.add_argument("--hamiltonian", choices=("tfim", "heisenberg"), default="tfim",
                   help="transverse-field Ising or Heisenberg/XXZ (Sz = 0 sector)")
    p.add_argument("--size", type=c.positive_int, default=20, help="lattice side L (N = L^dim)")
    p.add_argument("--dim", type=c.positive_int, default=1, help="dimension")
    p.add_argument("--field", type=c.finite_float, default=1.0, help="TFIM transverse field h")
    p.add_argument("--coupling", type=c.finite_float, default=1.0, help="J")
    p.add_argument("--delta", type=c.finite_float, default=1.0, help="XXZ anisotropy")
    p.add_argument("--marshall-sign", action="store_true",
                   help="Heisenberg: rotate by the Marshall sign (bipartite lattices)")
    p.add_argument("--alpha", type=float, default=1.0, help="hidden units per spin")
    p.add_argument("--dtype", choices=("float64", "complex128"), default="float64",
                   help="real or complex parameters")
    p.add_argument("--symmetric", action="store_true", help="translation-symmetric RBM")
    p.add_argument("--n-samples", type=c.positive_int, default=None,
                   help="samples per iteration (default: the recipe's, as all below)")
    p.add_argument("--n-chains", type=c.positive_int, default=16, help="Markov chains")
    p.add_argument("--iterations", type=c.nonnegative_int, default=None,
                   help="VMC iterations of the first phase (a resumed run continues)")
    p.add_argument("--optimizer", choices=("sr", "sgd", "adam"), default="sr",
                   help="stochastic reconfiguration, plain SGD or Adam")
    p.add_argument("--learning-rate", type=c.finite_float, default=None,
                   help="step size along (S + shift)^-1 F (NetKet's rate is half of it)")
    p.add_argument("--diag-shift", type=c.finite_float, default=None,
                   help="SR diagonal shift")
    p.add_argument("--learning-rate-final", type=c.finite_float, default=None,
                   help="decay the step geometrically to this over --decay-iterations")
    p.add_argument("--diag-shift-final", type=c.finite_float, default=None,
                   help="decay the diagonal shift geometrically to this over "
                        "--decay-iterations")
    p.add_argument("--decay-iterations", type=c.positive_int, default=None,
                   help="length of the decays (then the final values stay)")
    p.add_argument("--final-iterations", type=c.nonnegative_int, default=None,
                   help="a second phase at the final rates, with --final-samples")
    p.add_argument("--final-samples", type=c.positive_int, default=None,
                   help="samples per iteration in the second phase")
    p.add_argument("--eval-samples", type=c.positive_int, default=100_000,
                   help="fresh samples for the final energy (its stderr must be well below the "
                        "relative error claimed)")
    p.add_argument("--seed", type=c.nonnegative_int, default=None,
                   help="root of the chains' streams and the initial parameters")
    p.add_argument("--n-threads", type=c.positive_int, default=None, help="default: all cores")
    p.add_argument("--checkpoint", default=None, help="save the run here (atomically)")
    p.add_argument("--resume", action="store_true",
                   help="continue from --checkpoint if it exists (bit for bit)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    c.add_dask_options(p, "chains (sampling and local energies; the SR solve runs here)")
    return p


def run(args):
    from heatbath.nqs.study import RECIPE, run_vmc

    s = {k: RECIPE[k] if getattr(args, k) is None else getattr(args, k) for k in RECIPE}
    if args.resume and args.checkpoint is None:
        raise c.CommandError("--resume needs --checkpoint PATH")
    c.check_writable(args.checkpoint, "--checkpoint")
    try:
        with c.dask_client(args) as client:
            r = run_vmc(args.hamiltonian, args.size, args.dim, args.field, args.coupling,
                        args.delta, args.marshall_sign, args.alpha, args.dtype, args.symmetric,
                        s["n_samples"], args.n_chains, s["iterations"], args.optimizer,
                        s["learning_rate"], s["diag_shift"], args.seed, args.n_threads,
                        args.checkpoint, args.resume, args.eval_samples,
                        verbose=c.is_tty(args), executor=client, block_size=args.block_size,
                        learning_rate_final=s["learning_rate_final"],
                        diag_shift_final=s["diag_shift_final"],
                        decay_iterations=s["decay_iterations"],
                        final_iterations=s["final_iterations"],
                        final_samples=s["final_samples"])
    except (ValueError, TypeError, FloatingPointError) as exc:
        raise c.CommandError(str(exc)) from None
    if args.json:
        print(c.dumps({k: v for k, v in r.items() if k not in ("history", "wavefunction")}))
        return 0
    print(report(r))
    return 0


def report(r):
    """The text report of a :func:`heatbath.nqs.study.run_vmc` result."""
    ex = r["exact_energy"]
    lines = [f"{r['hamiltonian']} N = {r['n_spins']} ({r['dim']}D), RBM alpha = {r['alpha']} "
             f"{r['dtype']}{' symmetric' if r['symmetric'] else ''}, {r['n_parameters']} "
             f"parameters, {r['iterations']} iterations x {r['n_samples']} samples",
             f"energy          {r['energy']:.8f} +- {r['energy_stderr']:.1e}  "
             f"({r['eval_samples']} fresh samples)",
             f"exact           {c.fmt(ex, '.8f', 'n/a (too large for Lanczos)')}",
             f"relative error  {c.fmt(r['relative_error'], '.2e', 'n/a')}"
             + ("" if r["relative_error_stderr"] is None else
                f"  (its stderr {r['relative_error_stderr']:.1e})"),
             f"variance        {r['energy_variance']:.3e}",
             f"acceptance {r['acceptance_rate']:.3f}, R-hat {c.fmt(r['rhat'], '.3f')}, "
             f"{c.fmt(r['seconds_per_iteration'], '.4f', 'n/a')} s/iteration, "
             f"evaluation {r['eval_seconds']:.2f} s"]
    return "\n".join(lines)
