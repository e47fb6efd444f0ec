"""Benchmarks of heatbath.continuous (cases in heatbath/_benchcases/continuous.py)."""

from heatbath._bench import make_tests

test_continuous = make_tests("continuous")
