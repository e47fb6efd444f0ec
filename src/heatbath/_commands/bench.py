"""``heatbath bench``: time the kernels against their twins and the fastest references.

The work, the flags and the table are in :mod:`heatbath._bench`.
"""

from heatbath._commands import _common as c


def add_parser(subparsers):
    from heatbath._bench import add_arguments

    p = c.add_parser(subparsers, "bench", help="time the kernels against their twins and the "
                                               "fastest references")
    add_arguments(p)
    return p


def run(args):
    from heatbath._bench import run_command

    if args.n_threads is not None and args.n_threads < 1:
        raise c.CommandError(f"--n-threads must be >= 1, got {args.n_threads}")
    return run_command(args)
