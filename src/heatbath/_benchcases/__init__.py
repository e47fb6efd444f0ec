"""Benchmark cases, one module per heatbath module; importing registers them.

A new module: add ``<module>.py`` here (cases built with :func:`heatbath._bench.case`),
one import line below, and ``bench/test_<module>.py``.
"""

from heatbath._benchcases import continuous, markov, nqs, random, rbm, spin  # noqa: F401
