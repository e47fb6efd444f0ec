"""Benchmarks of heatbath.spin (cases in heatbath/_benchcases/spin.py)."""

from heatbath._bench import make_tests

test_spin = make_tests("spin")
