"""``heatbath train``: train an RBM and save it (.npz)."""

import time

import numpy as np

from heatbath._commands import _common as c

DATA_HELP = ("'digits' (scikit-learn's, binarised at >= 8; the rows with index %% 5 == 0 are "
             "held out as 'digits-test'), or a .npy/.npz file of rows")


def add_parser(subparsers):
    p = c.add_parser(subparsers, "train", help="train an RBM and save it (.npz)",
                     description="Train a restricted Boltzmann machine on rows of data and "
                                 "save it; heatbath evaluate and heatbath sample read the file.")
    p.add_argument("--data", required=True, help=DATA_HELP)
    p.add_argument("--out", required=True, help="model file to write (.npz)")
    p.add_argument("--hidden", type=c.positive_int, default=64, help="hidden units")
    p.add_argument("--visible-units", default="bernoulli",
                   help="bernoulli, spin, binomial(n), softmax(k) or gaussian")
    p.add_argument("--hidden-units", default="bernoulli", help="as --visible-units")
    p.add_argument("--epochs", type=c.nonnegative_int, default=10, help="passes over the data")
    p.add_argument("--batch-size", type=c.positive_int, default=10, help="rows per update")
    p.add_argument("--method", choices=["cd", "pcd", "pt"], default="pcd",
                   help="contrastive divergence, persistent CD, or parallel tempering")
    p.add_argument("--k", type=c.positive_int, default=1, help="Gibbs steps per update")
    p.add_argument("--learning-rate", type=float, default=0.05, help="step size")
    p.add_argument("--momentum", type=float, default=0.0, help="in [0, 1)")
    p.add_argument("--weight-decay", type=float, default=0.0, help="L2 penalty on the weights")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float64",
                   help="parameter and sampling precision")
    p.add_argument("--seed", type=c.nonnegative_int, default=None,
                   help="default: fresh entropy, recorded in --json output")
    p.add_argument("--n-threads", type=c.positive_int, default=None, help="default: all cores")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--visible-bias", choices=["zero", "data"], default="zero",
                   help="initial visible biases: 0, or matched to the data's unit means "
                        "(Hinton's recipe; better after few epochs)")
    p.add_argument("--checkpoint", default=None,
                   help="save model and training state here (atomically) as it trains")
    p.add_argument("--checkpoint-every", type=c.positive_int, default=1, help="epochs")
    p.add_argument("--resume", action="store_true",
                   help="continue from --checkpoint if it exists (bit for bit)")
    p.add_argument("--score-every", type=c.nonnegative_int, default=0,
                   help="record --scores every N epochs (0: never)")
    p.add_argument("--scores", nargs="+", default=["pseudo_likelihood"],
                   choices=["pseudo_likelihood", "log_likelihood", "log_likelihood_ais"],
                   help="what --score-every records")
    c.add_deprecated(p, "--threads", "--n-threads")
    return p


def run(args):
    from heatbath import RBM

    c.check_writable(args.out, "--out")
    c.check_writable(args.checkpoint, "--checkpoint")
    if args.resume and args.checkpoint is None:
        raise c.CommandError("--resume needs --checkpoint PATH")
    X = c.load_data(args.data)
    seed = np.random.SeedSequence(args.seed)
    entropy = int(seed.entropy)
    model = RBM(X.shape[1], args.hidden, args.visible_units, args.hidden_units,
                dtype=args.dtype, seed=entropy)
    if args.visible_bias == "data":
        model.init_visible_bias(X)
    start = time.perf_counter()
    history = c.fit_history(model.fit(
        X, epochs=args.epochs, batch_size=args.batch_size, method=args.method, k=args.k,
        learning_rate=args.learning_rate, momentum=args.momentum,
        weight_decay=args.weight_decay, seed=entropy, n_threads=args.n_threads,
        verbose=c.is_tty(args), score_every=args.score_every, scores=tuple(args.scores),
        checkpoint=args.checkpoint, checkpoint_every=args.checkpoint_every,
        resume=args.checkpoint if args.resume and _exists(args.checkpoint) else None), model)
    seconds = time.perf_counter() - start
    model.save(args.out)
    errors = history.get("reconstruction_error") or []
    result = {
        "model": args.out, "n_visible": model.n_visible, "n_hidden": model.n_hidden,
        "visible_units": repr(model.visible), "hidden_units": repr(model.hidden),
        "method": args.method, "k": args.k, "epochs": args.epochs, "seconds": seconds,
        "seed": args.seed, "seed_entropy": entropy,
        "samples_per_second": (args.epochs * len(X) / seconds
                               if seconds > 0 and args.epochs else None),
        "reconstruction_error": errors[-1] if len(errors) else None,
        "history": history,
    }
    if args.json:
        print(c.dumps(result))
        return 0
    speed = (f" ({result['samples_per_second']:.0f} samples/s)"
             if result["samples_per_second"] else "")
    seed_text = "" if args.seed is not None else f"; seed {entropy} (drawn; --seed repeats it)"
    print(f"trained {model!r} on {len(X)} rows: {args.epochs} epochs of {args.method}-{args.k} "
          f"in {seconds:.2f} s{speed}; reconstruction error "
          f"{c.fmt(result['reconstruction_error'], '.4f', 'n/a (no epochs run)')}; "
          f"saved {args.out}{seed_text}")
    return 0


def _exists(path):
    import os

    return os.path.exists(path)
