"""Writing a demo section's plots (only where matplotlib is installed)."""

import os


def plot_module():
    import heatbath.plot

    return heatbath.plot


def write_plots(plots, out_dir):
    """Call each ``name -> make_figure`` and save ``out_dir/name.png``; return the lines to print."""
    if not plots:
        return []
    try:
        plot_module()
    except ImportError:
        return ["   plots: skipped (matplotlib is not installed; pip install heatbath[plot])", ""]
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for name, make in plots.items():
        path = os.path.join(out_dir, f"{name}.png")
        make().savefig(path, dpi=110)
        written.append(os.path.basename(path))
    return [f"   plots written to {os.path.abspath(out_dir)}/: {', '.join(written)}", ""]
