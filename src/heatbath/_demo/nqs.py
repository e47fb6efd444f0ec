"""Demo section: a neural-network quantum state for the TFIM chain against the exact energy."""

from heatbath._demo._plots import plot_module, write_plots


def run(out_dir, quick):
    from heatbath.nqs.study import run_vmc

    n, iters = (12, 100) if quick else (20, 600)
    r = run_vmc("tfim", size=n, field=1.0, alpha=1, iterations=iters,
                eval_samples=20_000 if quick else 200_000, seed=3)
    lines = [f"7. Neural-network quantum state (Carleo & Troyer 2017): TFIM chain N = {n}, h = 1, "
             f"RBM alpha = 1 ({r['n_parameters']} parameters), VMC + SR\n",
             f"   {iters} iterations x {r['n_samples']} samples: {r['seconds']:.1f} s "
             f"({r['seconds_per_iteration'] * 1e3:.1f} ms/iteration)",
             f"   E = {r['energy']:.6f} +- {r['energy_stderr']:.1e} ({r['eval_samples']} fresh "
             f"samples), exact (free fermions) {r['exact_energy']:.6f}, relative error "
             f"{r['relative_error']:.1e}\n"]
    try:
        plot_module()
    except ImportError:
        return lines + write_plots({"nqs_energy": None}, out_dir)

    def figure():
        import matplotlib.pyplot as plt

        h = r["history"]
        fig, ax = plt.subplots(figsize=(6, 4))
        it = range(1, len(h["energy"]) + 1)
        ax.errorbar(it, h["energy"], yerr=h["energy_stderr"], fmt=".", ms=3, label="VMC")
        ax.axhline(r["exact_energy"], color="k", lw=1, label="exact")
        ax.set_xlabel("iteration")
        ax.set_ylabel("energy")
        ax.set_title(f"TFIM N = {n}, h = 1: RBM alpha = 1, SR (heatbath's recipe)")
        ax.legend()
        fig.tight_layout()
        return fig

    return lines + write_plots({"nqs_energy": figure}, out_dir)
