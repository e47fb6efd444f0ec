"""Demo section 3: the 2D Ising model against the exact finite-torus values."""

import numpy as np

from heatbath._demo._plots import plot_module, write_plots
from heatbath._format import table


def run(out_dir, quick):
    from heatbath import spin
    from heatbath.spin import exact
    from heatbath.spin.study import run_ising

    L = 16 if quick else 32
    sweeps, chains = (400, 8) if quick else (4000, 16)
    Tc = exact.critical_temperature()
    lines = [f"3. Ising model on a {L}x{L} torus against the exact finite-torus values "
             f"(Kaufman 1949), T_c = {Tc:.4f}\n"]
    rows = []
    taus = {}
    for T, alg in [(2.0, "metropolis"), (Tc, "metropolis"), (Tc, "wolff"), (3.0, "heatbath")]:
        r = run_ising(L, temperature=T, n_sweeps=sweeps, burn_in=sweeps // 5, n_chains=chains,
                      algorithm=alg, seed=7)
        e, e_err = r.observables["energy_per_spin"]
        C, C_err = r.observables["specific_heat"]
        rows.append([f"{T:.4f}", alg, f"{e:.4f} +- {e_err:.4f}",
                     f"{r.exact['finite_energy_per_spin']:.4f}", f"{C:.3f} +- {C_err:.3f}",
                     f"{r.exact['finite_specific_heat']:.3f}",
                     f"{r.observables['abs_magnetization'][0]:.4f}",
                     f"{r.tau_int_abs_magnetization:.1f}"])
        if T == Tc:
            spins_per_sweep = (r.clusters_per_sweep * r.mean_cluster_size
                               if alg == "wolff" else L * L)
            taus[alg] = r.tau_int_abs_magnetization * spins_per_sweep / (L * L)
    lines.append(table(rows, ["T", "algorithm", "e (sampled)", "e (exact)", "C (sampled)",
                              "C (exact)", "<|m|>", "tau(|m|)"]))
    lines.append(f"\n   at T_c, tau_int(|m|) in units of N spin flips: Metropolis "
                 f"{taus['metropolis']:.1f}, Wolff {taus['wolff']:.2f} "
                 f"({taus['metropolis'] / taus['wolff']:.0f}x fewer flips to decorrelate)\n")
    try:
        plot_module()
    except ImportError:
        return lines + write_plots({"ising": None}, out_dir)
    scan = [run_ising(L, temperature=T, n_sweeps=sweeps, burn_in=sweeps // 5, n_chains=chains,
                      algorithm="wolff" if abs(T - Tc) < 0.3 else "metropolis", seed=11)
            for T in np.linspace(1.6, 3.4, 7 if quick else 13)]
    snap = spin.WolffSampler(spin.Ising((128, 128)), temperature=Tc, n_chains=1, seed=5,
                             clusters_per_sweep=20)
    snap.run(0, burn_in=20 if quick else 200)
    plots = {"ising_observables": lambda: plot_module().observables_vs_temperature(scan),
             "ising_snapshot": lambda: plot_module().ising_snapshot(
                 snap.spins[0].reshape(128, 128), title="2D Ising at T_c, 128x128 (Wolff)")}
    return lines + write_plots(plots, out_dir)
