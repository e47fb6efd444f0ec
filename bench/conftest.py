"""pytest-benchmark harness: every bench case, its twin and its references.

The cases live in ``heatbath/_benchcases/<module>.py`` (registered with
``heatbath._bench.case``; the docstring of ``heatbath._bench`` shows a case in full).
Each ``bench/test_<module>.py`` is one line, ``test_<module> = make_tests("<module>")``;
it gives one benchmark per (case, side): ``heatbath``, ``twin`` (bit-exact NumPy twin),
references (the fastest NumPy written in heatbath._benchcases._numpy, and peers such as
scikit-learn or PyTorch, skipped when not installed) and ``shared_*`` (the code in
``../shared/baselines``, skipped when absent). At the end of the run both ratios per case
are printed from the medians: against the twin, and against the fastest reference (the
claim); and against the shared baselines when present.

    pytest bench                          # full sizes, timed
    pytest bench -k ising                 # builds only the cases it selects
    pytest bench --benchmark-disable      # tiny sizes, each side once (CI smoke test)
    HEATBATH_BENCH_QUICK=1 pytest bench   # tiny sizes, timed (a smoke test too)
    HEATBATH_BASELINES=none pytest bench  # as without ../shared

The same cases make ``heatbath bench`` (one table, ``--json`` with the machine's
metadata, ``--save``/``--compare`` against a saved run).
"""

from heatbath import _bench


def pytest_terminal_summary(terminalreporter, config):
    _bench.terminal_summary(terminalreporter, config)
