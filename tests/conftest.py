"""Shared fixtures for the whole suite (tests run against the installed package).

- ``global_seed``: the seed a statistical test uses. One seed by default, so
  that each test keeps its stated false-alarm rate; set
  ``HEATBATH_TESTS_SEEDS=0-9`` (a range) or ``=all`` (0-99) to run every
  seed-parametrised test over many seeds, as scikit-learn's
  ``global_random_seed`` does.
- ``thread_count``: 1, 2 and 3 threads, for the determinism contract (the
  same bits for any ``n_threads``).
"""

import os

import pytest


def _seeds():
    spec = os.environ.get("HEATBATH_TESTS_SEEDS", "").strip()
    if not spec:
        return [0]
    if spec == "all":
        return list(range(100))
    if "-" in spec:
        lo, hi = (int(x) for x in spec.split("-", 1))
        return list(range(lo, hi + 1))
    return [int(x) for x in spec.split(",")]


@pytest.fixture(params=_seeds())
def global_seed(request):
    """Seed for a statistical test (see the module docstring)."""
    return request.param


@pytest.fixture(params=[1, 2, 3])
def thread_count(request):
    """Thread counts the same-bits contract is checked over."""
    return request.param
