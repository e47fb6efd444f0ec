"""Benchmarks of heatbath.markov (cases in heatbath/_benchcases/markov.py)."""

from heatbath._bench import make_tests

test_markov = make_tests("markov")
