"""The ``heatbath`` subcommands: one module each, with ``add_parser(subparsers)`` and ``run(args)``.

A new command is a module here and one entry in ``COMMANDS`` (in the order
``heatbath --help`` lists them).
"""

from heatbath._commands import bench, demo, evaluate, ising, mcmc, nqs, sample, thermo, train

COMMANDS = [demo, ising, train, evaluate, sample, mcmc, nqs, thermo, bench]

__all__ = ["COMMANDS"]
