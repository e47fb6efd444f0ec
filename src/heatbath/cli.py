"""The ``heatbath`` command line: ``demo`` and ``bench``.

Run ``heatbath --help``, ``heatbath demo --help`` or ``heatbath bench --help``.
"""

import argparse
import json
import sys

import numpy as np

import heatbath
from heatbath import boltzmann, markov


def _ring_energies(n):
    """Energies of all 2**n states of a periodic Ising ring, J = 1, h = 0."""
    codes = np.arange(2**n)[:, None] >> np.arange(n) & 1
    s = 2 * codes - 1
    return -(s * np.roll(s, -1, axis=1)).sum(axis=1).astype(float)


def _ring_exact(n, T):
    """Exact log Z and <E> of the ring from its 2x2 transfer matrix."""
    if np.isinf(T):
        return n * np.log(2.0), 0.0
    b = 1.0 / T
    lp, lm = 2 * np.cosh(b), 2 * np.sinh(b)
    r = lm / lp
    log_z = n * np.log(lp) + np.log1p(r**n)
    # dZ/dbeta = n lp lm (lp^(n-2) + lm^(n-2)); U = -dlogZ/dbeta.
    u = -n * r * (1 + r ** (n - 2)) / (1 + r**n)
    return log_z, u


def _table(rows, header):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    line = "  ".join(str(h).rjust(w) for h, w in zip(header, widths))
    out = [line, "-" * len(line)]
    out += ["  ".join(str(c).rjust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)


def _demo_boltzmann(out):
    n = 10
    E = _ring_energies(n)
    temps = [0.5, 1.0, 2.0, 5.0, np.inf]
    rows = []
    for T in temps:
        log_z, u = _ring_exact(n, T)
        p = boltzmann.boltzmann_probs(E, T)
        rows.append([
            "inf" if np.isinf(T) else T,
            f"{boltzmann.log_partition(E, T):.10f}", f"{log_z:.10f}",
            f"{boltzmann.mean_energy(E, T) / n:+.6f}", f"{u / n:+.6f}",
            f"{boltzmann.entropy(E, T) / n:.6f}", f"{boltzmann.heat_capacity(E, T) / n:.6f}",
            f"{p[0] + p[-1]:.4f}",
        ])
    out(f"1. Boltzmann distribution of an Ising ring, N = {n} spins (2^{n} states enumerated)")
    out("   against the exact transfer-matrix result, Z = (2 cosh 1/T)^N + (2 sinh 1/T)^N\n")
    out(_table(rows, ["T", "log Z (enum)", "log Z (exact)", "<E>/N (enum)", "<E>/N (exact)",
                      "S/N", "C/N", "P(all aligned)"]))
    out("")


def _demo_markov(out, quick):
    n = 24
    x = np.arange(n)
    E = 2.0 * np.cos(4 * np.pi * x / n) + 0.5 * np.sin(2 * np.pi * x / n)
    p = boltzmann.boltzmann_probs(E, temperature=0.7)
    Q = (np.roll(np.eye(n), 1, axis=1) + np.roll(np.eye(n), -1, axis=1)) / 2
    P = markov.metropolis_hastings_matrix(p, Q)
    pi = markov.stationary_distribution(P)
    out(f"2. Metropolis-Hastings on a double well: {n} states on a ring, T = 0.7,")
    out("   proposal = step left or right. The exact chain, and sampled chains.\n")
    out(f"   detailed-balance violation  max|p(x)P(x,y) - p(y)P(y,x)| = "
        f"{markov.detailed_balance_violation(P, p):.1e}")
    out(f"   stationary distribution (GTH) against target: max relative error = "
        f"{np.max(np.abs(pi - p) / p):.1e}")
    out(f"   spectral gap = {markov.spectral_gap(P):.5f}, "
        f"mixing time t_mix(1/4) = {markov.mixing_time(P)} steps\n")
    n_chains = 2000 if quick else 20000
    rows = []
    for t in [1, 4, 16, 64, 256, 1024, 4096, 16384]:
        exact = np.linalg.matrix_power(P, t)[0]
        # Same seed each time: these are the same chains, observed at step t.
        final = markov.simulate(P, 0, 1, burn_in=t - 1, n_chains=n_chains, seed=2026)[:, 0]
        emp = np.bincount(final, minlength=n) / n_chains
        rows.append([t, f"{0.5 * np.abs(exact - p).sum():.4f}",
                     f"{0.5 * np.abs(emp - p).sum():.4f}"])
    out(_table(rows, ["step", "TV exact (from x=0)", f"TV of {n_chains} sampled chains"]))
    noise = np.sqrt(n / (2 * np.pi * n_chains))
    out(f"   (sampling noise floor of the TV of {n_chains} chains: about {noise:.3f})\n")


def _print_bench(results, out):
    rows = [[r["name"], f"{r['heatbath']:.3g}", f"{r['reference']:.3g}", r["unit"],
             f"{r['ratio']:.1f}x", r["reference_name"]] for r in results]
    out(_table(rows, ["kernel", "heatbath", "reference", "unit", "speedup", "reference is"]))


def cmd_demo(args):
    out = print
    out(f"heatbath {heatbath.__version__}: OpenMP {'on' if heatbath.openmp_enabled() else 'OFF'}, "
        f"{heatbath.effective_n_threads()} thread(s)\n")
    _demo_boltzmann(out)
    _demo_markov(out, args.quick)
    from heatbath._bench import run_cases

    out("3. Kernel throughput against the NumPy twins (heatbath bench has the full run)\n")
    _print_bench(run_cases(quick=True), out)
    return 0


def cmd_bench(args):
    from heatbath._bench import run_cases

    results = run_cases(quick=args.quick, n_threads=args.n_threads)
    if args.json:
        keys = ("name", "unit", "heatbath", "reference", "ratio")
        print(json.dumps({"results": [{k: r[k] for k in keys} for r in results]}))
    else:
        _print_bench(results, print)
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="heatbath",
        description="Fast Boltzmann sampling and energy-based models.",
    )
    parser.add_argument("--version", action="version", version=f"heatbath {heatbath.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="show the Boltzmann and Markov-chain tools at work")
    demo.add_argument("--quick", action="store_true", help="a smaller run (seconds), for CI")
    demo.set_defaults(func=cmd_demo)
    bench = sub.add_parser("bench", help="time the kernels against their NumPy twins")
    bench.add_argument("--quick", action="store_true", help="tiny sizes: checks the cases run")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument("--n-threads", type=int, default=None,
                       help="threads for the parallel cases (default: all cores)")
    bench.set_defaults(func=cmd_bench)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if getattr(args, "n_threads", None) == 0:
        parser.error("--n-threads must not be 0")
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
