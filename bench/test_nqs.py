"""Benchmarks of heatbath.nqs (cases in heatbath/_benchcases/nqs.py)."""

from heatbath._bench import make_tests

test_nqs = make_tests("nqs")
