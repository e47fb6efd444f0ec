"""One seed, one answer: every kernel gives the same bits for 1, 2 and 3 threads.

The cases live in heatbath._selfcheck; CI also compares their digests between
the OpenMP build and a build without OpenMP on the same machine.
"""

import pytest

from heatbath._selfcheck import CASES, kernel_digests


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_bits_for_any_thread_count(name):
    digests = {t: kernel_digests(t, [name])[name] for t in (1, 2, 3)}
    assert len(set(digests.values())) == 1, digests
