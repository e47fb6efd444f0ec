"""``heatbath evaluate``: log-likelihood, log Z and pseudo-likelihood of a saved RBM."""

import time

from heatbath._commands import _common as c

#: ``--method auto`` enumerates up to this many states (seconds), AIS above.
AUTO_EXACT_STATES = 2**20


def add_parser(subparsers):
    p = c.add_parser(subparsers, "evaluate",
                     help="log-likelihood, log Z, pseudo-likelihood of a saved RBM on data",
                     description="Score a saved RBM on rows of data. log Z is exact by "
                                 "enumeration where that is affordable, else by AIS; "
                                 "--method auto (the default) chooses and says which.")
    p.add_argument("--model", required=True, help="model file from heatbath train (.npz)")
    p.add_argument("--data", required=True,
                   help="a .npy/.npz file of rows, 'digits' (the training rows) or "
                        "'digits-test' (rows with index %% 5 == 0)")
    p.add_argument("--method", choices=["auto", "exact", "ais", "reverse_ais"], default="auto",
                   help=f"how to get log Z; auto: exact up to {AUTO_EXACT_STATES} states "
                        "(2**20), AIS above (exact itself allows up to 2**25)")
    p.add_argument("--n-runs", type=c.positive_int, default=100, help="AIS runs")
    p.add_argument("--n-betas", type=c.positive_int, default=10000,
                   help="AIS inverse temperatures")
    p.add_argument("--base-data", default=None,
                   help="data for the AIS base-rate model (default: --data)")
    p.add_argument("--seed", type=c.nonnegative_int, default=None,
                   help="AIS seed; default: fresh entropy, recorded in --json output")
    p.add_argument("--n-threads", type=c.positive_int, default=None, help="default: all cores")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    c.add_dask_options(p, "AIS runs")
    c.add_deprecated(p, "--threads", "--n-threads")
    return p


def choose_method(model):
    """'exact' if the smaller discrete layer has at most AUTO_EXACT_STATES states, else 'ais'."""
    from heatbath.rbm.estimators import _enumeration_plan

    try:
        count = _enumeration_plan(model)[3]
    except ValueError:    # no discrete layer
        return "ais"
    return "exact" if count <= AUTO_EXACT_STATES else "ais"


def run(args):
    import numpy as np

    start = time.perf_counter()
    model = c.load_model(args.model)
    data = c.load_data(args.data)
    try:
        X = model._check_layer(data, "visible", "--data")
    except ValueError as exc:
        raise c.CommandError(f"--data {args.data}: {exc}") from None
    method = choose_method(model) if args.method == "auto" else args.method
    seed = np.random.SeedSequence(args.seed)
    kw = {"n_threads": args.n_threads}
    if method != "exact":
        base = X if args.base_data is None else c.load_data(args.base_data, "--base-data")
        kw.update(n_betas=args.n_betas, seed=int(seed.entropy), verbose=c.is_tty(args),
                  n_runs=args.n_runs, data=base)
        if method == "reverse_ais":
            kw["data"], kw["base_data"] = X, base
    try:
        with c.dask_client(args) as client:
            if client is None:
                log_z = model.log_partition(method, **kw)
            elif method != "ais":
                raise c.CommandError(f"--dask-workers / --scheduler run AIS (--method ais), "
                                     f"not {method}")
            else:
                from heatbath import distributed

                log_z = distributed.ais(model, executor=client, block_size=args.block_size,
                                        **kw)
    except ValueError as exc:
        if method == "exact" and "method='ais'" in str(exc):
            raise c.CommandError(str(exc).split(". Use")[0] + "; use --method ais "
                                 "(or --method auto)") from None
        raise
    neg_free = -model.free_energy(X)
    result = {
        "model": args.model, "data": args.data, "n_samples": int(X.shape[0]),
        "method": method, "method_requested": args.method,
        "log_likelihood": float(neg_free.mean() - log_z),
        "log_likelihood_stderr": log_z.stderr,
        "log_partition": float(log_z), "log_partition_stderr": log_z.stderr,
        "pseudo_likelihood": (float(model.pseudo_likelihood(X).mean())
                              if model.visible.discrete else None),
        "reconstruction_error": model.reconstruction_error(X),
    }
    if method != "exact":
        result.update(ess=log_z.ess, n_runs=log_z.n_runs, n_betas=log_z.n_betas,
                      seed=args.seed, seed_entropy=int(seed.entropy))
    result["seconds"] = time.perf_counter() - start
    if args.json:
        print(c.dumps(result))
        return 0
    err = f" +- {result['log_partition_stderr']:.3g}" if method != "exact" else ""
    how = {"exact": "exact enumeration", "ais": "AIS", "reverse_ais": "reverse AIS"}[method]
    chosen = " (chosen by --method auto)" if args.method == "auto" else ""
    print(f"{model!r} on {args.data} ({result['n_samples']} rows), log Z by {how}{chosen}:")
    print(f"  log-likelihood       {result['log_likelihood']:.4f}{err} nats per sample")
    print(f"  log Z                {result['log_partition']:.4f}{err}")
    if result["pseudo_likelihood"] is not None:
        print(f"  pseudo-likelihood    {result['pseudo_likelihood']:.4f}")
    print(f"  reconstruction error {result['reconstruction_error']:.4f}")
    if method != "exact" and args.seed is None:
        print(f"  (AIS seed {int(seed.entropy)}: --seed repeats it)")
    return 0
