"""Demo section: RBMs that learn the thermodynamics of the 2D Ising model (Torlai & Melko 2016)."""

import os


def run(out_dir, quick):
    """Lines to print; writes ``thermo.png`` into ``out_dir`` where matplotlib is installed."""
    from heatbath.spin import thermo

    if quick:
        size, temps, settings = 4, [2.0, 3.0], {"n_samples": 2000, "n_test": 500,
                                                "n_reference": 5000, "n_chains": 40,
                                                "burn_in": 200, "n_sweeps": 400}
    else:
        size, temps, settings = 8, [1.5, 2.0, 2.269, 2.5, 3.0, 3.5], {}
    rows = thermo.learn_thermodynamics(size, temps, seed=2016, **settings)
    lines = [f"RBMs that learn thermodynamics (Torlai & Melko 2016): {size}x{size} Ising torus, "
             f"{rows[0]['n_hidden']} hidden units; Monte Carlo (Wolff) data against samples of "
             "the RBM trained on it, with the exact finite-torus values\n",
             thermo.report(rows), ""]
    try:
        fig = thermo.plot_thermodynamics(rows)
    except ImportError:
        return lines + ["   plot: skipped (matplotlib is not installed; "
                        "pip install heatbath[plot])", ""]
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "thermo.png")
    fig.savefig(path, dpi=110)
    return lines + [f"   plot written to {os.path.abspath(path)}", ""]
