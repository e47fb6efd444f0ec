"""The ``heatbath`` command line: parse the arguments, dispatch, print.

Each subcommand is a module of :mod:`heatbath._commands` with
``add_parser(subparsers)`` and ``run(args) -> int``; the library does the work.
Run ``heatbath --help`` or ``heatbath COMMAND --help``.
"""

import argparse
import os
import sys

import heatbath
from heatbath._commands import COMMANDS
from heatbath._commands._common import CommandError

# Kept importable from here for one release (moved to heatbath.datasets and
# heatbath.spin.study).
_MOVED = {"load_digits_binary": "heatbath.datasets", "ising_summary": "heatbath.spin.study"}


def __getattr__(name):
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module 'heatbath.cli' has no attribute {name!r}")


def build_parser():
    """The argument parser with one subparser per module in ``COMMANDS``."""
    parser = argparse.ArgumentParser(
        prog="heatbath", description="Fast Boltzmann sampling and energy-based models.")
    parser.add_argument("--version", action="version", version=f"heatbath {heatbath.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub).set_defaults(run=command.run)
    return parser


def _interrupted(prog, args):
    checkpoint = getattr(args, "checkpoint", None)
    if checkpoint and os.path.exists(checkpoint):
        where = (f"the last checkpoint is {checkpoint}; run the same command with --resume "
                 "to continue")
    else:
        where = "no checkpoint was written (--checkpoint PATH saves one as it runs)"
    print(f"\n{prog}: interrupted; {where}", file=sys.stderr)
    return 130


def main(argv=None):
    """Run ``heatbath ARGV``; return the exit status (2 for user errors, 130 for Ctrl-C)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    prog = f"heatbath {args.command}"
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return _interrupted(prog, args)
    except (CommandError, ValueError, TypeError, OSError, FloatingPointError,
            MemoryError) as exc:
        message = str(exc) or type(exc).__name__
        print(f"{prog}: error: {message}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug: still one line, with how to see the traceback
        if os.environ.get("HEATBATH_TRACEBACK"):
            raise
        print(f"{prog}: internal error: {type(exc).__name__}: {exc} (please report it; "
              "HEATBATH_TRACEBACK=1 shows the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
