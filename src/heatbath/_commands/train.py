"""``heatbath train``: train an RBM and save it (.npz)."""

import time

import numpy as np

from heatbath._commands import _common as c

DATA_HELP = ("'digits' (scikit-learn's, binarised at >= 8; the rows with index %% 5 == 0 are "
             "held out as 'digits-test'), 'mnist' or 'fashion-mnist' (binarised at 0.5; "
             "downloaded once, SHA-256 checked; '-test' for the test set), or a .npy/.npz "
             "file of rows")


def add_parser(subparsers):
    p = c.add_parser(subparsers, "train", help="train an RBM and save it (.npz)",
                     description="Train a restricted Boltzmann machine on rows of data and "
                                 "save it; heatbath evaluate and heatbath sample read the file.")
    p.add_argument("--data", required=True, help=DATA_HELP)
    p.add_argument("--out", required=True, help="model file to write (.npz)")
    p.add_argument("--hidden", type=c.positive_int, default=64, help="hidden units")
    p.add_argument("--visible-units", default="bernoulli",
                   help="bernoulli, spin, binomial(n), softmax(k), poisson (counts) or gaussian")
    p.add_argument("--hidden-units", default="bernoulli", help="as --visible-units")
    p.add_argument("--epochs", type=c.nonnegative_int, default=None,
                   help="passes over the data (default: 10; 40 with --labels)")
    p.add_argument("--batch-size", type=c.positive_int, default=10, help="rows per update")
    p.add_argument("--method", choices=["cd", "pcd", "pt"], default="cd",
                   help="contrastive divergence, persistent CD, or parallel tempering")
    p.add_argument("--k", type=c.positive_int, default=None,
                   help="Gibbs steps per update (default: 5; 1 with --labels)")
    p.add_argument("--learning-rate", type=float, default=None, help="step size (default: 0.1; 0.05 with --labels)")
    p.add_argument("--momentum", type=float, default=None,
                   help="in [0, 1) (default: 0.5)")
    p.add_argument("--weight-decay", type=float, default=None,
                   help="L2 penalty on the weights (default: 0; 1e-4 with --labels)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float64",
                   help="parameter and sampling precision")
    p.add_argument("--seed", type=c.nonnegative_int, default=None,
                   help="default: fresh entropy, recorded in --json output")
    p.add_argument("--n-threads", type=c.positive_int, default=None, help="default: all cores")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--visible-bias", choices=["zero", "data"], default="data",
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
    p.add_argument("--labels", nargs="?", const="builtin", default=None, metavar="FILE",
                   help="train a classification RBM instead: the labels of the built-in data "
                        "set (bare --labels), or a .npy file of one label per row")
    p.add_argument("--objective", choices=["discriminative", "generative", "hybrid"],
                   default="discriminative",
                   help="with --labels: the exact log p(y|x), CD on the joint, or both")
    c.add_deprecated(p, "--threads", "--n-threads")
    return p


# Defaults of the flags that the RBM and the classification RBM (--labels) set differently.
# The RBM's are RBM.fit's default recipe (heatbath.rbm.train.DEFAULT_RECIPE).
RBM_DEFAULTS = {"epochs": 10, "k": 5, "learning_rate": 0.1, "momentum": 0.5,
                "weight_decay": 0.0}
CLASSIFIER_DEFAULTS = {"epochs": 40, "k": 1, "learning_rate": 0.05, "momentum": 0.5,
                       "weight_decay": 1e-4}


def _fill_defaults(args, defaults):
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)


def run(args):
    from heatbath import RBM

    c.check_writable(args.out, "--out")
    c.check_writable(args.checkpoint, "--checkpoint")
    if args.resume and args.checkpoint is None:
        raise c.CommandError("--resume needs --checkpoint PATH")
    if args.labels is not None:
        _fill_defaults(args, CLASSIFIER_DEFAULTS)
        return _run_classifier(args)
    _fill_defaults(args, RBM_DEFAULTS)
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
        resume=args.checkpoint if args.resume and _exists(args.checkpoint) else None,
        init_visible_bias=False), model)
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


def _load_labels(args):
    if args.labels == "builtin":
        if c._dataset(args.data) is None:
            raise c.CommandError("--labels: a bare --labels needs a built-in --data set "
                                 "(digits, mnist, fashion-mnist); give a .npy file of labels")
        return c.load_dataset(args.data)
    X = c.load_data(args.data)
    try:
        y = np.load(args.labels, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise c.CommandError(f"--labels {args.labels}: cannot read it as a .npy file: "
                             f"{exc}") from None
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise c.CommandError(f"--labels {args.labels}: holds shape {y.shape}; expected one "
                             f"label per row of --data ({X.shape[0]},)")
    return X, y


def _run_classifier(args):
    from heatbath.rbm import ClassRBM

    X, y = _load_labels(args)
    classes, codes = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise c.CommandError("--labels: needs at least 2 classes, the labels hold one")
    seed = np.random.SeedSequence(args.seed)
    entropy = int(seed.entropy)
    init, order = seed.spawn(2)
    model = ClassRBM(X.shape[1], args.hidden, len(classes), seed=init)
    start = time.perf_counter()
    try:
        model.fit(X, codes, method=args.objective, epochs=args.epochs,
                  batch_size=args.batch_size, learning_rate=args.learning_rate,
                  momentum=args.momentum, weight_decay=args.weight_decay, k=args.k, seed=order)
    except (ValueError, TypeError, FloatingPointError) as exc:
        raise c.CommandError(str(exc)) from None
    seconds = time.perf_counter() - start
    model.save(args.out)
    result = {"model": args.out, "kind": "ClassRBM", "n_visible": model.n_visible,
              "n_hidden": model.n_hidden, "classes": classes.tolist(),
              "objective": args.objective, "epochs": args.epochs, "seconds": seconds,
              "seed": args.seed, "seed_entropy": entropy,
              "train_accuracy": float((model.predict(X) == codes).mean()),
              "test_accuracy": None, "log_loss": model.history_["log_loss"][-1]
              if model.history_["log_loss"] else None}
    name = c._dataset(args.data)
    if args.labels == "builtin" and name is not None and name[1] == "train":
        X_test, y_test = c.load_dataset(f"{name[0]}-test")
        pred = classes[model.predict(X_test)]
        result["test_accuracy"] = float((pred == y_test).mean())
    if args.json:
        print(c.dumps(result))
        return 0
    test = (f", test accuracy {result['test_accuracy']:.1%}"
            if result["test_accuracy"] is not None else "")
    print(f"trained {model!r} ({args.objective}) on {len(X)} rows in {seconds:.2f} s: "
          f"training accuracy {result['train_accuracy']:.1%}{test}; saved {args.out}")
    return 0
