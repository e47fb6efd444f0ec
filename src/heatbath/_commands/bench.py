"""``heatbath bench``: time the kernels against their NumPy twins (the work is in heatbath._bench)."""

from heatbath._commands import _common as c


def add_parser(subparsers):
    p = c.add_parser(subparsers, "bench", help="time the kernels against their NumPy twins")
    p.add_argument("--quick", action="store_true", help="tiny sizes: checks the cases run")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--n-threads", type=c.positive_int, default=None,
                   help="threads for the parallel cases (default: all cores)")
    return p


def print_results(results, out=print):
    """The bench table (also the demo's last section)."""
    rows = [[r["name"], f"{r['heatbath']:.3g}", f"{r['reference']:.3g}", r["unit"],
             f"{r['ratio']:.1f}x", r["reference_name"]] for r in results]
    out(c.table(rows, ["kernel", "heatbath", "reference", "unit", "speedup", "reference is"]))


def run(args):
    from heatbath._bench import run_cases

    results = run_cases(quick=args.quick, n_threads=args.n_threads)
    if args.json:
        keys = ("name", "unit", "heatbath", "reference", "ratio")
        print(c.dumps({"results": [{k: r[k] for k in keys} for r in results]}))
    else:
        print_results(results)
    return 0
