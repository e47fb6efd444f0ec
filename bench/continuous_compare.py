"""heatbath.continuous against what a user would write: one run, one table.

    python bench/continuous_compare.py [--quick] [--peers-python /work/peers-venv-cont/bin/python]

Cases (per-step timings are the best of several repeats, interleaved, BlackJAX's
included: it runs as a worker in its own interpreter and times one call per round):
1. MALA on a 100-d standard Gaussian, 1000 chains, step tuned to ~0.57 acceptance:
   heatbath with the built-in target; heatbath with a NumPy callable target; a
   hand-written vectorised NumPy MALA loop (float64); BlackJAX 1.x MALA (JAX CPU,
   vmapped over chains, float32 as in the issue's anchor) when --peers-python
   points at an interpreter that has blackjax.
2. HMC on 2-d phi^4 (L = 32, kappa = 0.2, lambda = 0.5): ESS per second of the
   mean |phi| for heatbath's built-in target against a hand-written NumPy HMC
   with the same step size, path length and chains.
"""

import argparse
import json
import subprocess
import sys
import textwrap
import time

import numpy as np

from heatbath import continuous as C
from heatbath._benchcases.continuous import gauss_logp_grad, numpy_hmc, numpy_mala
from heatbath.diagnostics import ess


def best_time(fn, repeats):
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return min(out)


# BlackJAX runs in its own interpreter (its venv) as a worker: after the jit
# warm-up, each line "time" on stdin times one call of `steps` steps, so its
# repeats interleave with heatbath's and NumPy's on a shared machine.
BLACKJAX = textwrap.dedent("""
    import json, sys, time
    import jax, jax.numpy as jnp, blackjax
    d, n, steps, step = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    logdensity = lambda x: -0.5 * jnp.sum(x * x)
    mala = blackjax.mala(logdensity, step)
    keys = jax.random.split(jax.random.PRNGKey(0), n)
    state = jax.vmap(mala.init)(jax.random.normal(jax.random.PRNGKey(1), (n, d)))
    @jax.jit
    def run(state, key):
        def body(s, k):
            ks = jax.random.split(k, n)
            s, info = jax.vmap(mala.step)(ks, s)
            return s, info.acceptance_rate.mean()
        return jax.lax.scan(body, state, jax.random.split(key, steps))
    s, acc = run(state, jax.random.PRNGKey(2)); jax.block_until_ready(s)
    print(json.dumps({"version": blackjax.__version__}), flush=True)
    r = 0
    for line in sys.stdin:
        r += 1
        t = time.perf_counter(); s, acc = run(s, jax.random.PRNGKey(3 + r))
        jax.block_until_ready(s)
        print(json.dumps({"seconds": time.perf_counter() - t,
                          "acceptance": float(acc.mean())}), flush=True)
""")


class _BlackJAX:
    """The BlackJAX worker: ``time()`` runs one timed call in the peers' interpreter."""

    def __init__(self, peers_python, d, n, steps, step):
        self.proc = subprocess.Popen([peers_python, "-c", BLACKJAX, str(d), str(n), str(steps),
                                      str(step)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("BlackJAX worker failed: " + self.proc.stderr.read()[-500:])
        self.version = json.loads(line)["version"]
        self.acceptance = float("nan")

    def time(self):
        self.proc.stdin.write("time\n")
        self.proc.stdin.flush()
        out = json.loads(self.proc.stdout.readline())
        self.acceptance = out["acceptance"]
        return out["seconds"]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def mala_case(quick, peers_python):
    d, n = 100, (100 if quick else 1000)
    steps = 20 if quick else 100
    target = C.Gaussian(np.zeros(d), np.ones(d))
    tuner = C.MALA(target, n_chains=n, seed=0)
    tuner.run(0, burn_in=300 if quick else 500)
    step = tuner.step_size
    hb = C.MALA(target, n_chains=n, seed=1, step_size=step, adapt=False)
    py = C.MALA(C.PythonTarget(gauss_logp_grad, d), n_chains=n, seed=1, step_size=step,
                adapt=False)
    rng = np.random.default_rng(2)
    x0 = rng.standard_normal((n, d))
    rows = {}
    times = {"heatbath built-in": [], "heatbath NumPy callable": [], "NumPy hand-written": []}
    bj = None
    if peers_python:
        try:
            bj = _BlackJAX(peers_python, d, n, steps, step)
            times[f"BlackJAX {bj.version} (JAX CPU, float32)"] = []
        except (OSError, RuntimeError, ValueError) as exc:
            print("BlackJAX case failed:", exc, file=sys.stderr)
    for _ in range(3 if quick else 7):     # interleaved repeats, best of each
        times["heatbath built-in"].append(best_time(
            lambda: hb.run(steps, record_samples=False), 1))
        times["heatbath NumPy callable"].append(best_time(
            lambda: py.run(steps, record_samples=False), 1))
        times["NumPy hand-written"].append(best_time(
            lambda: numpy_mala(x0.copy(), step, steps, rng, gauss_logp_grad), 1))
        if bj is not None:
            times[f"BlackJAX {bj.version} (JAX CPU, float32)"].append(bj.time())
    acc = {"heatbath built-in": hb.run(steps, record_samples=False).acceptance_rate.mean(),
           "heatbath NumPy callable": py.run(steps, record_samples=False).acceptance_rate.mean(),
           "NumPy hand-written": float("nan")}
    if bj is not None:
        acc[f"BlackJAX {bj.version} (JAX CPU, float32)"] = bj.acceptance
        bj.close()
    for k, v in times.items():
        rows[k] = {"seconds_per_step": min(v) / steps, "acceptance": float(acc[k])}
    for r in rows.values():
        r["chain_steps_per_second"] = n / r["seconds_per_step"]
    return {"d": d, "n_chains": n, "step_size": step, "rows": rows}


def phi4_case(quick):
    L, n = (16, 16) if quick else (32, 64)
    steps = 100 if quick else 400
    target = C.Phi4(L, dim=2, kappa=0.2, lam=0.5)
    hb = C.HMC(target, n_chains=n, seed=0, path_length=1.0)
    hb.run(0, burn_in=300)
    hb.inv_mass = np.ones(target.dim)          # same (unit) mass matrix as the NumPy loop
    hb.adapt = False
    step, n_leap = hb.step_size, hb.n_leapfrog
    t = time.perf_counter()
    tr = hb.run(steps)
    hb_s = time.perf_counter() - t
    absphi = np.abs(tr.info["samples"].mean(axis=2))
    rng = np.random.default_rng(1)
    phi = hb.x.reshape((n, L, L)).copy()
    t = time.perf_counter()
    rec = numpy_hmc(phi, target, step, n_leap, steps, rng, True)
    np_s = time.perf_counter() - t
    return {"L": L, "n_chains": n, "n_steps": steps, "step_size": step, "n_leapfrog": n_leap,
            "rows": {"heatbath HMC built-in": {"seconds": hb_s, "ess": ess(absphi),
                                               "acceptance": float(tr.acceptance_rate.mean())},
                     "NumPy hand-written HMC": {"seconds": np_s, "ess": ess(rec)}}}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--peers-python", default=None)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    res = {"mala": mala_case(a.quick, a.peers_python), "phi4": phi4_case(a.quick)}
    if a.json:
        print(json.dumps(res, indent=1))
        return 0
    m = res["mala"]
    base = m["rows"]["NumPy hand-written"]["chain_steps_per_second"]
    print(f"MALA, {m['d']}-d standard Gaussian, {m['n_chains']} chains, step {m['step_size']:.3g}")
    print("| tool | time per step | chain-steps/s | vs NumPy | acceptance |")
    print("|---|---|---|---|---|")
    for k, r in m["rows"].items():
        print(f"| {k} | {1e3 * r['seconds_per_step']:.3f} ms | {r['chain_steps_per_second']:.3g} "
              f"| {r['chain_steps_per_second'] / base:.2f}x | {r['acceptance']:.3f} |")
    p = res["phi4"]
    print(f"\nHMC, 2-d phi^4 L={p['L']} (kappa 0.2, lambda 0.5), {p['n_chains']} chains, "
          f"{p['n_steps']} steps of {p['n_leapfrog']} leapfrogs (step {p['step_size']:.3g})")
    print("| tool | seconds | ESS of mean abs(phi) | ESS/s |")
    print("|---|---|---|---|")
    for k, r in p["rows"].items():
        print(f"| {k} | {r['seconds']:.2f} | {r['ess']:.0f} | {r['ess'] / r['seconds']:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
