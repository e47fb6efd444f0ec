"""Benchmarks of heatbath.random (cases in heatbath/_benchcases/random.py)."""

from heatbath._bench import make_tests

test_random = make_tests("random")
