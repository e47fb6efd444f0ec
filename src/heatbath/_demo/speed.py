"""Demo section 6: kernel throughput against the twins and the fastest references, one run."""


def run(out_dir, quick):
    from heatbath._bench import format_results, run_cases

    lines = ["6. Kernel throughput against the twins and the fastest references, one run "
             "(heatbath bench has them all)\n"]
    lines.append(format_results(run_cases(quick=quick, selection="demo")) + "\n")
    return lines
