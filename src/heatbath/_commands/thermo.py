"""``heatbath thermo``: RBMs that learn Ising thermodynamics (Torlai & Melko 2016)."""

import argparse
import math
import sys

from heatbath._commands import _common as c


def _temperatures(text):
    try:
        values = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated temperatures such as 2.0,2.269,3.0, got {text!r}") from None
    if not values or not all(math.isfinite(v) and v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected finite temperatures > 0, got {text!r}")
    return values


def add_parser(subparsers):
    p = c.add_parser(
        subparsers, "thermo",
        help="train RBMs on Ising configurations and compare their thermodynamics",
        description="At each temperature: Wolff Monte Carlo data on an L x L torus (kept every "
                    "2 tau_int sweeps), a spin RBM with zero biases and weights tied under "
                    "lattice translations (nearest-neighbour bond filters, their weight "
                    "fitted by pseudo-likelihood) trained on it by PCD-10, block-Gibbs "
                    "samples of the RBM checked for mixing, and E/N, |m|, C and chi from both "
                    "with error bars beside the exact finite-torus values; plus the held-out "
                    "log-likelihood and KL divergence from the exact Ising distribution.")
    p.add_argument("--size", type=c.positive_int, default=8, help="lattice side L (>= 2)")
    p.add_argument("--temperatures", type=_temperatures, default="1.5,2,2.269,2.5,3,3.5",
                   help="comma-separated temperatures")
    p.add_argument("--hidden", type=c.positive_int, default=None,
                   help="hidden units, a multiple of L*L (one filter per L*L); "
                        "default 2*L*L, the two nearest-neighbour-bond filters")
    p.add_argument("--n-samples", type=c.positive_int, default=10000,
                   help="training configurations per temperature")
    p.add_argument("--n-test", type=c.positive_int, default=2000,
                   help="held-out configurations per temperature")
    p.add_argument("--epochs", type=c.nonnegative_int, default=10, help="training epochs")
    p.add_argument("--n-reference", type=c.positive_int, default=50000,
                   help="Monte Carlo configurations behind the MC column (training set first)")
    p.add_argument("--n-chains", type=c.positive_int, default=200, help="RBM Gibbs chains")
    p.add_argument("--burn-in", type=c.nonnegative_int, default=1000,
                   help="RBM Gibbs steps discarded")
    p.add_argument("--n-sweeps", type=c.positive_int, default=2000,
                   help="RBM Gibbs steps recorded (every 4th)")
    p.add_argument("--seed", type=c.nonnegative_int, default=None,
                   help="root seed (default: fresh entropy)")
    p.add_argument("--n-threads", type=c.positive_int, default=None,
                   help="OpenMP threads (default: all cores)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    return p


def run(args):
    import warnings

    from heatbath.spin import thermo

    if not 2 <= args.size <= 64:
        raise c.CommandError(f"--size {args.size}: expected 2 to 64")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", thermo.NotMixedWarning)
        rows = thermo.learn_thermodynamics(
            args.size, args.temperatures, n_hidden=args.hidden, n_samples=args.n_samples,
            n_test=args.n_test, n_reference=args.n_reference, epochs=args.epochs,
            n_chains=max(2, args.n_chains), burn_in=args.burn_in, n_sweeps=args.n_sweeps,
            seed=args.seed, n_threads=args.n_threads,
            verbose=c.is_tty(args))
    if args.json:
        print(c.dumps({"size": args.size, "n_hidden": rows[0]["n_hidden"],
                       "n_samples": args.n_samples,
                       "epochs": args.epochs, "seed": args.seed, "rows": rows}))
    else:
        print(thermo.report(rows))
    for w in caught:
        print(f"heatbath thermo: warning: {w.message}", file=sys.stderr)
    return 0
