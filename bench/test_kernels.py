"""Benchmarks: every compiled kernel against its NumPy twin (heatbath.reference)."""

import os

import pytest

from heatbath._bench import cases

QUICK = os.environ.get("HEATBATH_BENCH_QUICK", "") not in ("", "0")
CASES = cases(quick=QUICK)
IDS = [c.name for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_heatbath(benchmark, case):
    benchmark.group = case.name
    benchmark.extra_info["work"] = case.work
    benchmark.extra_info["unit"] = case.unit
    benchmark(case.heatbath)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_reference(benchmark, case):
    benchmark.group = case.name
    benchmark.extra_info["reference"] = case.reference_name
    benchmark.extra_info["factor"] = getattr(case.reference, "factor", 1.0)
    benchmark(case.reference)
