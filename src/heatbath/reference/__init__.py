"""Pure-NumPy twins of every compiled kernel.

They are the oracle for tests and the baseline for ``bench/``. Random numbers
come from numpy's own ``SFC64`` driven from the same per-chain stream states as
the kernels, so a twin reproduces its kernel bit for bit. They are written for
clarity and vectorised where NumPy allows, not tuned.
"""

from heatbath.reference import markov, random, rbm, spin

__all__ = ["markov", "random", "rbm", "spin"]
