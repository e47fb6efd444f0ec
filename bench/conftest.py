"""pytest-benchmark harness: each kernel against its NumPy twin.

Every case in ``heatbath._bench.cases()`` gives two benchmarks in one group,
``heatbath`` and ``reference``. At the end of the run the ratio of their
medians (reference / heatbath, from this one run) is printed per group.

    pytest bench                          # full sizes, timed
    pytest bench --benchmark-disable      # each once, untimed (CI smoke test)
    HEATBATH_BENCH_QUICK=1 pytest bench   # small sizes, timed
"""




def pytest_terminal_summary(terminalreporter, config):
    session = getattr(config, "_benchmarksession", None)
    if session is None or session.disabled or not session.benchmarks:
        return
    groups = {}
    for bench in session.benchmarks:
        if bench.stats is None:
            continue
        side = "heatbath" if bench.name.startswith("test_heatbath") else "reference"
        # A slow twin does 1/factor of the work per call (heatbath._bench._Scaled).
        factor = bench.extra_info.get("factor", 1.0) if side == "reference" else 1.0
        groups.setdefault(bench.group, {})[side] = bench.stats.median * factor
    terminalreporter.section("heatbath speedup (reference median / heatbath median)")
    for group, sides in groups.items():
        if len(sides) == 2:
            terminalreporter.write_line(
                f"{sides['reference'] / sides['heatbath']:8.1f}x  {group}")


