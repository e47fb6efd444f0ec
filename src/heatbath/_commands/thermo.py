"""``heatbath thermo``: RBMs that learn Ising thermodynamics (Torlai & Melko 2016)."""

import argparse
import json
import math
import sys

import numpy as np


def _temperatures(text):
    try:
        values = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated temperatures such as 2.0,2.269,3.0, got {text!r}") from None
    if not values or not all(math.isfinite(v) and v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected finite temperatures > 0, got {text!r}")
    return values


def _int(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, "
                                             f"got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}")
        return value

    parse.__name__ = "integer"
    return parse


def add_parser(subparsers):
    p = subparsers.add_parser(
        "thermo", help="train RBMs on Ising configurations and compare their thermodynamics",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="At each temperature: Wolff Monte Carlo data on an L x L torus (kept every "
                    "2 tau_int sweeps), an RBM trained on it (PCD), block-Gibbs samples of the "
                    "RBM checked for mixing, and E/N, |m|, C and chi from both with error bars, "
                    "beside the exact finite-torus values; plus the held-out log-likelihood "
                    "and KL divergence from the exact Ising distribution.")
    p.add_argument("--size", type=_int(2), default=8, help="lattice side L")
    p.add_argument("--temperatures", type=_temperatures,
                   default="1.5,2,2.269,2.5,3,3.5",
                   help="comma-separated temperatures")
    p.add_argument("--hidden", type=_int(1), default=64, help="hidden units")
    p.add_argument("--n-samples", type=_int(2), default=10000,
                   help="training configurations per temperature")
    p.add_argument("--n-test", type=_int(2), default=2000,
                   help="held-out configurations per temperature")
    p.add_argument("--epochs", type=_int(0), default=60, help="training epochs")
    p.add_argument("--seed", type=_int(0), default=None)
    p.add_argument("--n-threads", type=_int(1), default=None, help="OpenMP threads (default: all cores)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)
    return p


def _plain(obj):
    """JSON-ready: numpy to Python, NaN and inf to None (strict JSON)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


def run(args):
    import warnings

    from heatbath.spin import thermo

    if args.size * args.size > 4096:
        print(f"heatbath thermo: error: --size {args.size}: at most 64 (an RBM on "
              f"{args.size ** 2} spins would take hours here)", file=sys.stderr)
        return 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", thermo.NotMixedWarning)
        rows = thermo.learn_thermodynamics(
            args.size, args.temperatures, n_hidden=args.hidden, n_samples=args.n_samples,
            n_test=args.n_test, epochs=args.epochs, seed=args.seed, n_threads=args.n_threads,
            verbose=not args.json)
    if args.json:
        print(json.dumps(_plain({"size": args.size, "n_hidden": args.hidden,
                                 "n_samples": args.n_samples, "epochs": args.epochs,
                                 "seed": args.seed, "rows": rows}), allow_nan=False))
    else:
        print()
        print(thermo.report(rows))
    for w in caught:
        print(f"heatbath thermo: warning: {w.message}", file=sys.stderr)
    return 0
