"""``heatbath demo``: the tour, with exact values beside sampled ones (heatbath._demo)."""

from heatbath._commands import _common as c


def add_parser(subparsers):
    p = c.add_parser(subparsers, "demo", help="Ising, RBMs on digits, exact checks, plots, speed")
    p.add_argument("--quick", action="store_true", help="a smaller run (seconds), for CI")
    p.add_argument("--out", default="heatbath-demo", help="folder for the PNG plots")
    return p


def run(args):
    import heatbath
    from heatbath._demo import SECTIONS

    c.check_folder_writable(args.out, "--out")
    print(f"heatbath {heatbath.__version__}: OpenMP "
          f"{'on' if heatbath.openmp_enabled() else 'OFF'}, "
          f"{heatbath.effective_n_threads()} thread(s)\n", flush=True)
    for section in SECTIONS:
        for line in section.run(args.out, args.quick):
            print(line, flush=True)
    return 0
