"""Benchmarks of heatbath.rbm (cases in heatbath/_benchcases/rbm.py)."""

from heatbath._bench import make_tests

test_rbm = make_tests("rbm")
