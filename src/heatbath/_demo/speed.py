"""Demo section 6: kernel throughput against the NumPy twins, one run."""


def run(out_dir, quick):
    from heatbath._bench import run_cases
    from heatbath._commands.bench import print_results

    lines = ["6. Kernel throughput against the NumPy twins, one run (heatbath bench has them all)\n"]
    print_results(run_cases(quick=quick, selection="demo"), lines.append)
    return lines
