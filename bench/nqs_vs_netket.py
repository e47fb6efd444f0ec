"""heatbath.nqs against NetKet, side by side in one run: one markdown table.

    python bench/nqs_vs_netket.py [--peers-python /work/peers-venv-nqs/bin/python]
                                  [--cases tfim20,tfim20sym4,heis20,tfim20a2,tfim40,tfim80]
                                  [--iterations 300] [--eval-samples 200000] [--quick]

The issue's settings (issue 12), for both: 1008 samples per iteration from 16
chains, SR with diag_shift 0.01, SGD learning rate 0.01 (NetKet's convention),
300 iterations, one sweep (N proposals) per sample, 5 discarded sweeps per chain
per iteration. Cases: the periodic TFIM chain (h = 1) at N = 20, 40, 80 with a
real RBM alpha = 1; alpha = 2 at N = 20; the Heisenberg chain N = 20 with a
complex RBM alpha = 1, total Sz = 0, exchange moves and the Marshall sign
(NetKet's default on a bipartite graph).

Conventions, checked in NetKet 3.23's source:
- NetKet's ``Ising(J=1)`` is antiferromagnetic; it runs with ``J=-1`` here, the
  same Hamiltonian as heatbath's ``TransverseFieldIsing`` (for even periodic N the
  two have the same spectrum, and the RBM is the same up to the signs of W).
- NetKet steps along the energy gradient, 2 F (``netket.vqs.mc.common.force_to_grad``:
  2 Re F for real parameters), heatbath along F = <O* E_loc> - <O*><E_loc>: the
  same update is heatbath's learning rate 0.02 for NetKet's 0.01.

Each side runs its 300 iterations in its own process turn, interleaved case by
case (heatbath, NetKet, then heatbath's recipe); NetKet runs in a subprocess of
the peers interpreter (it is never imported beside heatbath). s/iteration is the
median over the iterations (robust to the load spikes of a shared machine);
NetKet's first iteration (its JAX compilation) is left out of it and of NetKet's
300-iteration wall time, and reported apart. The final energy of BOTH sides is evaluated the same way, by
heatbath's sampler on the final parameters (NetKet's RBM parameters map one to
one: visible_bias = a, Dense.bias = b, Dense.kernel = W) with ``--eval-samples``
fresh samples, so that its standard error (printed) is well below the error
claimed; NetKet's own estimate from 20,000 samples is in the JSON for a check.

"recipe" is heatbath's default recipe (``heatbath.nqs.study.RECIPE``), run once per
case; its wall time is printed beside NetKet's 300-iteration wall time.
"""

import argparse
import json
import os
import subprocess
import sys
import textwrap
import time

import numpy as np

from heatbath.nqs import SR, VMC
from heatbath.nqs.exact import exact_energy
from heatbath.nqs.study import build

CASES = {
    "tfim20": dict(hamiltonian="tfim", n=20, alpha=1, dtype="float64"),
    "tfim40": dict(hamiltonian="tfim", n=40, alpha=1, dtype="float64"),
    "tfim80": dict(hamiltonian="tfim", n=80, alpha=1, dtype="float64"),
    "tfim20a2": dict(hamiltonian="tfim", n=20, alpha=2, dtype="float64"),
    "heis20": dict(hamiltonian="heisenberg", n=20, alpha=1, dtype="complex128"),
    # heatbath's recipe only (no NetKet side): the translation-symmetric RBM, 4 filters
    "tfim20sym4": dict(hamiltonian="tfim", n=20, alpha=4, dtype="float64", symmetric=True,
                       recipe_only=True),
}

NETKET = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    import jax, netket as nk
    cfg = json.loads(sys.argv[1])
    n = cfg["n"]
    g = nk.graph.Chain(n, pbc=True)
    if cfg["hamiltonian"] == "heisenberg":
        hi = nk.hilbert.Spin(0.5, N=n, total_sz=0)
        H = nk.operator.Heisenberg(hi, g)                 # Marshall sign: bipartite default
        sampler = nk.sampler.MetropolisExchange(hi, graph=g, n_chains=cfg["n_chains"])
    else:
        hi = nk.hilbert.Spin(0.5, N=n)
        H = nk.operator.Ising(hi, g, h=1.0, J=-1.0)       # -sum Z Z - h sum X
        sampler = nk.sampler.MetropolisLocal(hi, n_chains=cfg["n_chains"])
    model = nk.models.RBM(alpha=cfg["alpha"],
                          param_dtype=complex if cfg["dtype"] == "complex128" else float)
    vs = nk.vqs.MCState(sampler, model, n_samples=cfg["n_samples"], n_discard_per_chain=5,
                        seed=cfg["seed"], sampler_seed=cfg["seed"] + 1)
    driver = nk.driver.VMC(H, nk.optimizer.Sgd(learning_rate=cfg["lr"]), variational_state=vs,
                           preconditioner=nk.optimizer.SR(diag_shift=cfg["diag_shift"]))
    stamps = []
    def cb(step, log, drv):
        stamps.append(time.perf_counter())
        return True
    t0 = time.perf_counter()
    driver.run(cfg["iterations"], out=None, show_progress=False, callback=cb)
    jax.block_until_ready(vs.parameters)
    t1 = time.perf_counter()
    steps = np.diff(np.array(stamps))                       # excludes the first (compiling) one
    first = stamps[0] - t0
    vs.n_samples = cfg["check_samples"]
    est = vs.expect(H)
    p = vs.parameters
    out = {"version": nk.__version__, "seconds": t1 - t0, "first_iteration": first,
           "seconds_per_iteration": float(np.median(steps)), "best_iteration": float(steps.min()),
           "steady_seconds": float(steps.sum() * len(stamps) / len(steps)),
           "n_parameters": int(vs.n_parameters),
           "own_energy": float(est.mean.real), "own_stderr": float(est.error_of_mean),
           "a": np.asarray(p["visible_bias"]), "b": np.asarray(p["Dense"]["bias"]),
           "W": np.asarray(p["Dense"]["kernel"])}
    for key in ("a", "b", "W"):
        v = out[key]
        out[key] = {"re": v.real.ravel().tolist(), "im": v.imag.ravel().tolist()}
    print("RESULT " + json.dumps(out))
""")


def _params(d):
    return np.asarray(d["re"]) + 1j * np.asarray(d["im"])


def run_netket(python, case, settings):
    cfg = dict(case, **settings)
    proc = subprocess.run([python, "-c", NETKET, json.dumps(cfg)], capture_output=True,
                          text=True, env=dict(os.environ, JAX_PLATFORMS="cpu"))
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"NetKet failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    out = json.loads(lines[-1][7:])
    a, b, W = _params(out.pop("a")), _params(out.pop("b")), _params(out.pop("W"))
    if case["dtype"] == "float64":
        a, b, W = a.real, b.real, W.real
    out["parameters"] = np.concatenate([a, b, W])
    return out


def hamiltonian_and_psi(case, seed):
    return build(case["hamiltonian"], size=case["n"], alpha=case["alpha"], dtype=case["dtype"],
                 symmetric=case.get("symmetric", False),
                 marshall_sign=case["hamiltonian"] == "heisenberg", seed=seed)


def evaluate(H, psi, eval_samples, seed, n_threads):
    """Energy of psi from fresh samples, by heatbath's sampler (parameters unchanged)."""
    vmc = VMC(H, psi, n_samples=1008, n_chains=16, seed=seed, n_threads=n_threads)
    vmc.evaluate(16 * 50, burn_in=200)                       # equilibrate the fresh chains
    return vmc.evaluate(eval_samples, burn_in=0)


def run_heatbath(case, settings, n_threads):
    H, psi = hamiltonian_and_psi(case, settings["seed"])
    # heatbath steps along F, NetKet along 2 F: the same update needs twice the rate.
    vmc = VMC(H, psi, optimizer=SR(2 * settings["lr"], settings["diag_shift"]),
              n_samples=settings["n_samples"], n_chains=settings["n_chains"], burn_in=5,
              seed=settings["seed"] + 1, n_threads=n_threads)
    stamps = [time.perf_counter()]
    for _ in range(settings["iterations"]):
        vmc.step()
        stamps.append(time.perf_counter())
    steps = np.diff(stamps)
    return {"seconds": stamps[-1] - stamps[0], "seconds_per_iteration": float(np.median(steps)),
            "best_iteration": float(steps.min()),
            "n_parameters": psi.n_parameters, "parameters": psi.parameters}


def run_recipe(case, seed, n_threads):
    from heatbath.nqs.study import run_vmc

    r = run_vmc(case["hamiltonian"], case["n"], alpha=case["alpha"], dtype=case["dtype"],
                symmetric=case.get("symmetric", False),
                marshall_sign=case["hamiltonian"] == "heisenberg", seed=seed,
                n_threads=n_threads, eval_samples=16, exact=False)
    return {"seconds": r["seconds"], "iterations": r["iterations"],
            "n_parameters": r["n_parameters"], "parameters": r["wavefunction"].parameters}


def relative(ev, exact):
    return abs(ev["energy"] - exact) / abs(exact), ev["energy_stderr"] / abs(exact)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--peers-python", default="/work/peers-venv-nqs/bin/python")
    p.add_argument("--cases", default=",".join(CASES))
    p.add_argument("--iterations", type=int, default=300)
    p.add_argument("--eval-samples", type=int, default=200_000)
    p.add_argument("--n-threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-recipe", action="store_true")
    p.add_argument("--quick", action="store_true", help="smoke test: figures mean nothing")
    p.add_argument("--json", default=None, help="also write the results here")
    args = p.parse_args(argv)
    settings = dict(n_samples=1008, n_chains=16, lr=0.01, diag_shift=0.01,
                    iterations=args.iterations, seed=args.seed, check_samples=20_000)
    eval_samples = args.eval_samples
    if args.quick:
        settings.update(iterations=5, check_samples=1008)
        eval_samples = 4000
    have_netket = os.path.exists(args.peers_python)
    rows, results = [], {}
    for name in args.cases.split(","):
        case = dict(CASES[name])
        if args.quick:
            case["n"] = 8
        H, _ = hamiltonian_and_psi(case, 0)
        e0 = exact_energy(H)
        res = {"case": case, "exact_energy": e0}
        side_by_side = not case.get("recipe_only")
        hb = run_heatbath(case, settings, args.n_threads) if side_by_side else None
        nk = (run_netket(args.peers_python, case, settings) if have_netket and side_by_side
              else None)
        rc = None if args.no_recipe else run_recipe(case, args.seed, args.n_threads)
        for side, r in (("heatbath", hb), ("netket", nk), ("recipe", rc)):
            if r is None:
                continue
            _, psi = hamiltonian_and_psi(case, 0)
            psi.parameters = r.pop("parameters")
            ev = evaluate(H, psi, eval_samples, args.seed + 7, args.n_threads)
            r["energy"], r["energy_stderr"] = ev["energy"], ev["energy_stderr"]
            r["relative_error"], r["relative_error_stderr"] = relative(ev, e0)
            res[side] = r
            print(f"{name} {side}: " + json.dumps({k: v for k, v in r.items()}), flush=True)
        results[name] = res
        rows.append(res)
    print()
    print(table(rows, settings, eval_samples))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


def _per(r):
    if not r:
        return "n/a"
    best = f" ({r['best_iteration']:.4f})" if "best_iteration" in r else ""
    return f"{r['seconds_per_iteration']:.4f}{best}"


def _err(r):
    return f"{r['relative_error']:.1e} ({r['relative_error_stderr']:.0e})"


def table(rows, settings, eval_samples):
    head = ("| system | parameters | NetKet s/iteration | heatbath s/iteration | speed-up | "
            "NetKet rel. error | heatbath rel. error | heatbath recipe: rel. error, wall time "
            "(NetKet's 300 iterations) |")
    out = [head, "|" + "---|" * (head.count("|") - 1)]
    budgets = {}                     # NetKet's first run of each system (recipe-only rows)
    for r in rows:
        c, hb, nk, rc = r["case"], r.get("heatbath"), r.get("netket"), r.get("recipe")
        if nk:
            budgets.setdefault((c["hamiltonian"], c["n"]), nk)
        kind = "symmetric " if c.get("symmetric") else ""
        name = (f"TFIM N = {c['n']}, real {kind}alpha = {c['alpha']}" if c["hamiltonian"] == "tfim"
                else f"Heisenberg N = {c['n']}, complex alpha = {c['alpha']}, Sz = 0, Marshall")
        cells = [name, str((hb or rc)["n_parameters"]), _per(nk), _per(hb),
                 f"{nk['seconds_per_iteration'] / hb['seconds_per_iteration']:.1f}x"
                 + (f" ({nk['best_iteration'] / hb['best_iteration']:.1f}x)"
                    if "best_iteration" in nk and "best_iteration" in hb else "")
                 if nk and hb else "n/a",
                 _err(nk) if nk else "n/a", _err(hb) if hb else "n/a"]
        if rc:
            ref = nk or budgets.get((c["hamiltonian"], c["n"]))
            budget = f"{ref['steady_seconds']:.1f} s" if ref else "n/a"
            cells.append(f"{_err(rc)}, {rc['seconds']:.1f} s ({budget})")
        else:
            cells.append("not run")
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    out.append(f"Relative errors of the final state's energy from {eval_samples} fresh samples "
               "(heatbath's sampler for both sides), its standard error in parentheses. "
               "s/iteration: median over the iterations (fastest iteration in parentheses).")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
