"""Thread-count resolution (scikit-learn's rules)."""

import os

import numpy as np
import pytest

import heatbath
from heatbath import effective_n_threads


def test_explicit_counts():
    if not heatbath.openmp_enabled():
        assert effective_n_threads(4) == 1
        return
    assert effective_n_threads(1) == 1
    assert effective_n_threads(3) == 3
    assert effective_n_threads(np.int32(2)) == 2


def test_none_and_negative():
    n_cpu = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert effective_n_threads(None) >= 1
    if heatbath.openmp_enabled():
        assert effective_n_threads(-1) == n_cpu
        assert effective_n_threads(-n_cpu) == 1
        assert effective_n_threads(-10 * n_cpu) == 1  # never below one thread
    else:
        assert effective_n_threads(-1) == 1


def test_zero_is_an_error():
    with pytest.raises(ValueError, match="n_threads"):
        effective_n_threads(0)


@pytest.mark.parametrize("bad", [1.0, "2", True, [1]])
def test_non_int_is_a_type_error(bad):
    with pytest.raises(TypeError, match="n_threads"):
        effective_n_threads(bad)


def test_version_is_exposed():
    assert isinstance(heatbath.__version__, str) and heatbath.__version__.count(".") >= 2
