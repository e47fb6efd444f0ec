"""The ``heatbath`` command line: ``demo`` and ``bench``.

Run ``heatbath --help``, ``heatbath demo --help`` or ``heatbath bench --help``.
"""

import argparse
import json
import os
import sys

import numpy as np

import heatbath
import heatbath._validation
from heatbath import boltzmann, markov


def _ring_energies(n):
    """Energies of all 2**n states of a periodic Ising ring, J = 1, h = 0."""
    codes = np.arange(2**n)[:, None] >> np.arange(n) & 1
    s = 2 * codes - 1
    return -(s * np.roll(s, -1, axis=1)).sum(axis=1).astype(float)


def _ring_exact(n, T):
    """Exact log Z and <E> of the ring from its 2x2 transfer matrix."""
    if np.isinf(T):
        return n * np.log(2.0), 0.0
    b = 1.0 / T
    lp, lm = 2 * np.cosh(b), 2 * np.sinh(b)
    r = lm / lp
    log_z = n * np.log(lp) + np.log1p(r**n)
    # dZ/dbeta = n lp lm (lp^(n-2) + lm^(n-2)); U = -dlogZ/dbeta.
    u = -n * r * (1 + r ** (n - 2)) / (1 + r**n)
    return log_z, u


def _table(rows, header):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    line = "  ".join(str(h).rjust(w) for h, w in zip(header, widths))
    out = [line, "-" * len(line)]
    out += ["  ".join(str(c).rjust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)


def _demo_boltzmann(out):
    n = 10
    E = _ring_energies(n)
    temps = [0.5, 1.0, 2.0, 5.0, np.inf]
    rows = []
    for T in temps:
        log_z, u = _ring_exact(n, T)
        p = boltzmann.boltzmann_probs(E, T)
        rows.append([
            "inf" if np.isinf(T) else T,
            f"{boltzmann.log_partition(E, T):.10f}", f"{log_z:.10f}",
            f"{boltzmann.mean_energy(E, T) / n:+.6f}", f"{u / n:+.6f}",
            f"{boltzmann.entropy(E, T) / n:.6f}", f"{boltzmann.heat_capacity(E, T) / n:.6f}",
            f"{p[0] + p[-1]:.4f}",
        ])
    out(f"1. Boltzmann distribution of an Ising ring, N = {n} spins (2^{n} states enumerated)")
    out("   against the exact transfer-matrix result, Z = (2 cosh 1/T)^N + (2 sinh 1/T)^N\n")
    out(_table(rows, ["T", "log Z (enum)", "log Z (exact)", "<E>/N (enum)", "<E>/N (exact)",
                      "S/N", "C/N", "P(all aligned)"]))
    out("")


def _demo_markov(out, quick):
    n = 24
    x = np.arange(n)
    E = 2.0 * np.cos(4 * np.pi * x / n) + 0.5 * np.sin(2 * np.pi * x / n)
    p = boltzmann.boltzmann_probs(E, temperature=0.7)
    Q = (np.roll(np.eye(n), 1, axis=1) + np.roll(np.eye(n), -1, axis=1)) / 2
    P = markov.metropolis_hastings_matrix(p, Q)
    pi = markov.stationary_distribution(P)
    out(f"2. Metropolis-Hastings on a double well: {n} states on a ring, T = 0.7,")
    out("   proposal = step left or right. The exact chain, and sampled chains.\n")
    out(f"   detailed-balance violation  max|p(x)P(x,y) - p(y)P(y,x)| = "
        f"{markov.detailed_balance_violation(P, p):.1e}")
    out(f"   stationary distribution (GTH) against target: max relative error = "
        f"{np.max(np.abs(pi - p) / p):.1e}")
    out(f"   spectral gap = {markov.spectral_gap(P):.5f}, "
        f"mixing time t_mix(1/4) = {markov.mixing_time(P)} steps\n")
    n_chains = 2000 if quick else 20000
    rows = []
    for t in [1, 4, 16, 64, 256, 1024, 4096, 16384]:
        exact = np.linalg.matrix_power(P, t)[0]
        # Same seed each time: these are the same chains, observed at step t.
        final = markov.simulate(P, 0, 1, burn_in=t - 1, n_chains=n_chains, seed=2026)[:, 0]
        emp = np.bincount(final, minlength=n) / n_chains
        rows.append([t, f"{0.5 * np.abs(exact - p).sum():.4f}",
                     f"{0.5 * np.abs(emp - p).sum():.4f}"])
    out(_table(rows, ["step", "TV exact (from x=0)", f"TV of {n_chains} sampled chains"]))
    noise = np.sqrt(n / (2 * np.pi * n_chains))
    out(f"   (sampling noise floor of the TV of {n_chains} chains: about {noise:.3f})\n")


ALGORITHMS = {"metropolis": "MetropolisSampler", "heatbath": "HeatBathSampler",
              "wolff": "WolffSampler"}


def _ising_run(sampler, sweeps, burn_in, verbose, checkpoint, every, resume, settings):
    """``sampler.run(sweeps, burn_in)``, in pieces of ``every`` sweeps saved to ``checkpoint``.

    The chains continue bit for bit across pieces and across a kill and
    resume; the checkpoint (sampler state plus the trace so far) is written
    atomically after every piece.
    """
    from heatbath import io
    from heatbath.diagnostics import Trace

    n, wolff = sampler.n_chains, hasattr(sampler, "clusters_per_sweep")
    acc = {"accepted": np.zeros(n), "clusters": np.zeros(n, dtype=np.int64),
           "flipped": np.zeros(n, dtype=np.int64)}
    parts = {"energy": [], "magnetization": []}
    done_burn = done = 0
    if resume and checkpoint and os.path.exists(checkpoint):
        state = io.load_state(checkpoint)
        for key, value in settings.items():
            if str(state["settings"][key]) != str(value):
                raise ValueError(f"cannot resume from {checkpoint!r}: it was run with "
                                 f"{key}={state['settings'][key]}, this run has {key}={value}")
        sampler.set_state(state["sampler"])
        if wolff:
            sampler.clusters_per_sweep = int(state["clusters_per_sweep"])
        for key in acc:
            acc[key] = np.asarray(state["totals"][key], dtype=acc[key].dtype)
        for key in parts:
            parts[key].append(np.asarray(state["observables"][key]).reshape(-1, n))
        done_burn, done = int(state["burn_in_done"]), int(state["sweeps_done"])
    bar = None
    if verbose:
        from tqdm.auto import tqdm
        bar = tqdm(total=burn_in + sweeps, initial=done_burn + done, unit="sweep",
                   desc=f"{type(sampler).__name__} x{n}")
    try:
        while done_burn < burn_in or done < sweeps:
            b = min(every, burn_in - done_burn)
            m = min(every - b, sweeps - done)
            t = sampler.run(m, burn_in=b)
            acc["accepted"] += np.rint(t.acceptance_rate * (b + m) * sampler.model.n_spins)
            if wolff:
                acc["clusters"] += t.info["clusters"]
                acc["flipped"] += t.info["flipped"]
            for key in parts:
                parts[key].append(t[key])
            done_burn, done = done_burn + b, done + m
            if checkpoint:
                io.save_state(checkpoint, {
                    "settings": {k: str(v) for k, v in settings.items()},
                    "sampler": sampler.get_state(), "totals": acc,
                    "observables": {k: np.concatenate(v) for k, v in parts.items()},
                    "burn_in_done": done_burn, "sweeps_done": done,
                    "clusters_per_sweep": getattr(sampler, "clusters_per_sweep", 0)})
            if bar is not None:
                bar.update(b + m)
    finally:
        if bar is not None:
            bar.close()
    observables = {k: (np.concatenate(v) if v else np.empty((0, n))) for k, v in parts.items()}
    attempts = (burn_in + sweeps) * sampler.model.n_spins
    info = {}
    if wolff:
        info = {"clusters": acc["clusters"], "flipped": acc["flipped"]}
        with np.errstate(invalid="ignore", divide="ignore"):
            info["mean_cluster_size"] = acc["flipped"] / acc["clusters"]
        rate = np.ones(n)
    else:
        rate = acc["accepted"] / attempts if attempts else np.full(n, np.nan)
    return Trace(observables, rate, sampler.spins.copy(), sampler.temperature,
                 sampler.model.n_spins, info)


def ising_summary(size, dim=2, temperature=2.269, sweeps=1000, burn_in=200, chains=8,
                  algorithm="metropolis", seed=None, threads=None, coupling=1.0, field=0.0,
                  periodic=True, clusters_per_sweep=None, verbose=False, checkpoint=None,
                  checkpoint_every=1000, resume=False):
    """Run an Ising simulation and return its observables, timings and exact values.

    With ``checkpoint``, the run is saved every ``checkpoint_every`` sweeps;
    with ``resume`` too, an existing checkpoint is continued bit for bit.
    """
    import time

    from heatbath import spin

    model = spin.Ising((size,) * dim, J=coupling, h=field, periodic=periodic)
    cls = getattr(spin, ALGORITHMS[algorithm])
    kwargs = {}
    if algorithm == "wolff":
        kwargs["clusters_per_sweep"] = clusters_per_sweep or 1
    sampler = cls(model, temperature, n_chains=chains, seed=seed, n_threads=threads, **kwargs)
    start = time.perf_counter()
    resuming = bool(resume and checkpoint and os.path.exists(checkpoint))
    if algorithm == "wolff" and clusters_per_sweep is None and not resuming:
        # Pilot: size the sweep so it flips about n_spins spins, then keep it
        # fixed for the whole measured run (a fixed schedule is unbiased).
        # The first clusters of a random start are small: warm up first, then
        # measure the mean cluster size.
        sampler.run(0, burn_in=200)
        pilot = sampler.run(200)
        mean_size = float(np.mean(pilot.info["mean_cluster_size"]))
        sampler.clusters_per_sweep = max(1, int(round(model.n_spins / mean_size)))
    if checkpoint is None:
        trace = sampler.run(sweeps, burn_in=burn_in, verbose=verbose)
    else:
        every = heatbath._validation.check_int(checkpoint_every, "checkpoint_every", minimum=1)
        settings = {"size": size, "dim": dim, "temperature": temperature, "sweeps": sweeps,
                    "burn_in": burn_in, "chains": chains, "algorithm": algorithm,
                    "seed": seed, "coupling": coupling, "field": field, "periodic": periodic}
        trace = _ising_run(sampler, sweeps, burn_in, verbose, checkpoint, every, resume,
                           settings)
    seconds = time.perf_counter() - start
    th = spin.thermodynamics(trace)
    if algorithm == "wolff":
        flips = float(np.sum(trace.info["flipped"]))
    else:
        flips = float(chains * model.n_spins * (sweeps + burn_in))
    out = {"model": {"size": size, "dim": dim, "J": coupling, "h": field,
                     "periodic": periodic, "n_spins": model.n_spins},
           "algorithm": algorithm, "temperature": temperature, "sweeps": sweeps,
           "burn_in": burn_in, "chains": chains, "seed": seed,
           "threads": heatbath.effective_n_threads(threads)}
    for name in ("energy_per_spin", "abs_magnetization", "magnetization_squared",
                 "specific_heat", "susceptibility", "binder"):
        out[name], out[name + "_stderr"] = th[name]
    out.update({
        "acceptance_rate": th["acceptance_rate"],
        "tau_int_energy": th["tau_int_energy"],
        "tau_int_abs_magnetization": th["tau_int_abs_magnetization"],
        "rhat_energy": trace.rhat("energy") if sweeps >= 4 else None,
        "flips_per_second": flips / seconds,
        "seconds": seconds,
    })
    if algorithm == "wolff":
        out["clusters_per_sweep"] = sampler.clusters_per_sweep
        out["mean_cluster_size"] = float(np.mean(trace.info["mean_cluster_size"]))
    if dim == 2 and periodic and field == 0.0 and coupling > 0:
        ex = spin.exact.torus_thermodynamics((size, size), temperature, J=coupling)
        out["exact"] = {
            "finite_torus_energy_per_spin": ex["energy_per_spin"],
            "finite_torus_specific_heat": ex["specific_heat"],
            "infinite_lattice_energy_per_spin": spin.exact.onsager_energy(temperature, coupling),
            "infinite_lattice_specific_heat": spin.exact.onsager_specific_heat(temperature,
                                                                               coupling),
            "infinite_lattice_magnetization": spin.exact.yang_magnetization(temperature,
                                                                            coupling),
            "critical_temperature": spin.exact.critical_temperature(coupling),
        }
    return out


def _print_ising(res, out):
    ex = res.get("exact", {})
    rows = []
    for name, exact_key, inf_key in [
            ("energy_per_spin", "finite_torus_energy_per_spin", "infinite_lattice_energy_per_spin"),
            ("abs_magnetization", None, "infinite_lattice_magnetization"),
            ("specific_heat", "finite_torus_specific_heat", "infinite_lattice_specific_heat"),
            ("susceptibility", None, None), ("binder", None, None)]:
        v, e = res[name], res[name + "_stderr"]
        fin = ex.get(exact_key) if exact_key else None
        rows.append([name, f"{v:.5f} +- {e:.5f}",
                     f"{fin:.5f}" if fin is not None else "",
                     f"{(v - fin) / e:+.1f}" if fin is not None and e > 0 else "",
                     f"{ex[inf_key]:.5f}" if inf_key and inf_key in ex else ""])
    m = res["model"]
    out(f"Ising {'x'.join([str(m['size'])] * m['dim'])}, {res['algorithm']}, "
        f"T = {res['temperature']}, {res['chains']} chains x {res['sweeps']} sweeps "
        f"(+{res['burn_in']} burn-in)\n")
    out(_table(rows, ["observable", "sampled", "exact (finite)", "z", "exact (infinite)"]))
    out(f"\nacceptance {res['acceptance_rate']:.3f}, tau_int(E) = {res['tau_int_energy']:.2f} "
        f"sweeps, R-hat(E) = {res['rhat_energy']:.3f}, "
        f"{res['flips_per_second'] / 1e6:.0f} M flips/s, {res['seconds']:.2f} s")


def cmd_ising(args):
    verbose = sys.stderr.isatty() and not args.json
    try:
        res = ising_summary(args.size, args.dim, args.temperature, args.sweeps, args.burn_in,
                            args.chains, args.algorithm, args.seed, args.threads,
                            args.coupling, args.field, not args.open,
                            args.clusters_per_sweep, verbose, args.checkpoint,
                            args.checkpoint_every, args.resume)
    except (ValueError, TypeError) as exc:
        print(f"heatbath ising: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(res))
    else:
        _print_ising(res, print)
    return 0


def _plot():
    import heatbath.plot

    return heatbath.plot


def _demo_ising(out, quick, plots=None):
    from heatbath.spin import exact

    L = 16 if quick else 32
    sweeps, chains = (400, 8) if quick else (4000, 16)
    Tc = exact.critical_temperature()
    out(f"3. Ising model on a {L}x{L} torus against the exact finite-torus values "
        f"(Kaufman 1949), T_c = {Tc:.4f}\n")
    rows = []
    taus = {}
    for T, alg in [(2.0, "metropolis"), (Tc, "metropolis"), (Tc, "wolff"), (3.0, "heatbath")]:
        r = ising_summary(L, 2, T, sweeps, sweeps // 5, chains, alg, seed=7)
        ex = r["exact"]
        rows.append([f"{T:.4f}", alg,
                     f"{r['energy_per_spin']:.4f} +- {r['energy_per_spin_stderr']:.4f}",
                     f"{ex['finite_torus_energy_per_spin']:.4f}",
                     f"{r['specific_heat']:.3f} +- {r['specific_heat_stderr']:.3f}",
                     f"{ex['finite_torus_specific_heat']:.3f}",
                     f"{r['abs_magnetization']:.4f}", f"{r['tau_int_abs_magnetization']:.1f}"])
        if T == Tc:
            spins_per_sweep = (r["clusters_per_sweep"] * r["mean_cluster_size"]
                               if alg == "wolff" else L * L)
            taus[alg] = r["tau_int_abs_magnetization"] * spins_per_sweep / (L * L)
    out(_table(rows, ["T", "algorithm", "e (sampled)", "e (exact)", "C (sampled)", "C (exact)",
                      "<|m|>", "tau(|m|)"]))
    out(f"\n   at T_c, tau_int(|m|) in units of N spin flips: Metropolis "
        f"{taus['metropolis']:.1f}, Wolff {taus['wolff']:.2f} "
        f"({taus['metropolis'] / taus['wolff']:.0f}x fewer flips to decorrelate)\n")
    if plots is not None:
        from heatbath import spin

        scan = [ising_summary(L, 2, T, sweeps, sweeps // 5, chains,
                              "wolff" if abs(T - Tc) < 0.3 else "metropolis", seed=11)
                for T in np.linspace(1.6, 3.4, 7 if quick else 13)]
        plots["ising_observables"] = lambda: _plot().observables_vs_temperature(scan)
        snap = spin.WolffSampler(spin.Ising((128, 128)), Tc, n_chains=1, seed=5,
                                 clusters_per_sweep=20)
        snap.run(0, burn_in=20 if quick else 200)
        plots["ising_snapshot"] = lambda: _plot().ising_snapshot(
            snap.spins[0].reshape(128, 128), title=f"2D Ising at T_c, 128x128 (Wolff)")


def load_digits_binary():
    """scikit-learn's bundled digits, binarised at pixel >= 8.

    Returns (train, test): rows with index % 5 == 0 are the test set (360),
    the others the training set (1437). Needs scikit-learn.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ValueError("--data digits needs scikit-learn (pip install heatbath[sklearn])") \
            from None
    X = (load_digits().data >= 8).astype(np.float64)
    test = np.arange(X.shape[0]) % 5 == 0
    return X[~test], X[test]


def _load_data(spec):
    if spec in ("digits", "digits-train"):
        return load_digits_binary()[0]
    if spec == "digits-test":
        return load_digits_binary()[1]
    try:
        loaded = np.load(spec, allow_pickle=False)
        if isinstance(loaded, np.ndarray):  # .npy
            return loaded
        with loaded as f:  # .npz
            names = f.files
            key = next((k for k in ("X", "data", "train") if k in names),
                       names[0] if len(names) == 1 else None)
            if key is None:
                raise ValueError(f"{spec!r} holds {names}; name the array X")
            return f[key]
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read data from {spec!r}: {exc}") from None


def _save_array(path, array):
    """np.save, atomically (heatbath._io.atomic_write)."""
    from heatbath._io import atomic_write

    atomic_write(path, lambda f: np.save(f, array), suffix=".npy")


def cmd_train(args):
    import time

    from heatbath import RBM

    try:
        X = _load_data(args.data)
        model = RBM(X.shape[1] if np.ndim(X) == 2 else -1, args.hidden, args.visible_units,
                    args.hidden_units, dtype=args.dtype, seed=args.seed)
        if args.visible_bias == "data":
            model.init_visible_bias(X)
        resume = None
        if args.resume:
            if args.checkpoint is None:
                raise ValueError("--resume needs --checkpoint PATH")
            resume = args.checkpoint if os.path.exists(args.checkpoint) else None
        start = time.perf_counter()
        history = model.fit(X, epochs=args.epochs, batch_size=args.batch_size,
                            method=args.method, k=args.k, learning_rate=args.learning_rate,
                            momentum=args.momentum, weight_decay=args.weight_decay,
                            seed=args.seed, n_threads=args.threads,
                            verbose=sys.stderr.isatty() and not args.json,
                            score_every=args.score_every, scores=tuple(args.scores),
                            checkpoint=args.checkpoint, checkpoint_every=args.checkpoint_every,
                            resume=resume)
        seconds = time.perf_counter() - start
        model.save(args.out)
    except (ValueError, TypeError, FloatingPointError) as exc:
        print(f"heatbath train: error: {exc}", file=sys.stderr)
        return 2
    result = {
        "model": args.out, "n_visible": model.n_visible, "n_hidden": model.n_hidden,
        "visible_units": repr(model.visible), "hidden_units": repr(model.hidden),
        "method": args.method, "k": args.k, "epochs": args.epochs, "seconds": seconds,
        "samples_per_second": args.epochs * len(X) / seconds if seconds > 0 else None,
        "reconstruction_error": (history["reconstruction_error"][-1]
                                 if history["reconstruction_error"] else None),
        "history": history,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"trained {model!r} on {len(X)} rows: {args.epochs} epochs of {args.method}-"
              f"{args.k} in {seconds:.2f} s ({result['samples_per_second']:.0f} samples/s); "
              f"reconstruction error {result['reconstruction_error']:.4f}; saved {args.out}")
    return 0


def cmd_evaluate(args):
    import time

    from heatbath import RBM

    start = time.perf_counter()
    try:
        model = RBM.load(args.model)
        X = model._check_layer(_load_data(args.data), "visible", "--data")
        kw = {"n_threads": args.threads}
        if args.method != "exact":
            kw.update(n_betas=args.n_betas, seed=args.seed,
                      verbose=sys.stderr.isatty() and not args.json,
                      data=X if args.base_data is None else _load_data(args.base_data))
            if args.method == "ais":
                kw["n_runs"] = args.n_runs
            else:
                kw["data"], kw["base_data"] = X, kw["data"]
                kw["n_runs"] = args.n_runs
        log_z = model.log_partition(args.method, **kw)
        neg_free = -model.free_energy(X)
        result = {
            "model": args.model, "data": args.data, "n_samples": int(X.shape[0]),
            "method": args.method,
            "log_likelihood": float(neg_free.mean() - log_z),
            "log_likelihood_stderr": log_z.stderr,
            "log_partition": float(log_z), "log_partition_stderr": log_z.stderr,
            "pseudo_likelihood": (float(model.pseudo_likelihood(X).mean())
                                  if model.visible.discrete else None),
            "reconstruction_error": model.reconstruction_error(X),
        }
        if args.method != "exact":
            result.update(ess=log_z.ess, n_runs=log_z.n_runs, n_betas=log_z.n_betas)
        result["seconds"] = time.perf_counter() - start
    except (ValueError, TypeError) as exc:
        print(f"heatbath evaluate: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result))
        return 0
    err = f" +- {result['log_partition_stderr']:.3g}" if args.method != "exact" else ""
    print(f"{model!r} on {args.data} ({result['n_samples']} rows), log Z by {args.method}:")
    print(f"  log-likelihood       {result['log_likelihood']:.4f}{err} nats per sample")
    print(f"  log Z                {result['log_partition']:.4f}{err}")
    if result["pseudo_likelihood"] is not None:
        print(f"  pseudo-likelihood    {result['pseudo_likelihood']:.4f}")
    print(f"  reconstruction error {result['reconstruction_error']:.4f}")
    return 0


def cmd_sample(args):
    from heatbath import RBM

    try:
        model = RBM.load(args.model)
        sampler = model.gibbs_sampler(n_chains=args.chains, temperature=args.temperature,
                                      seed=args.seed, n_threads=args.threads)
        verbose = sys.stderr.isatty()
        if args.every:
            trace = sampler.run(args.steps, burn_in=args.burn_in, thin=args.every,
                                record_states=True, verbose=verbose)
            out = trace.info["states"]
        else:
            sampler.run(0, burn_in=args.burn_in + args.steps, verbose=verbose)
            out = sampler.visible
        _save_array(args.out, out)
    except (ValueError, TypeError) as exc:
        print(f"heatbath sample: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out.shape} samples to {args.out}")
    return 0


def _demo_rbm(out, quick):
    from scipy import stats

    from heatbath import RBM

    rng = np.random.default_rng(21)
    teacher = RBM(6, 3).set_parameters(rng.normal(scale=1.5, size=(6, 3)),
                                       rng.normal(scale=0.5, size=6),
                                       rng.normal(scale=0.5, size=3))
    V = teacher.visible.enumerate(6)
    p = np.exp(-teacher.free_energy(V) - teacher.log_partition())
    n = 5000 if quick else 20000
    X = V[rng.choice(len(V), size=n, p=p)]
    codes = (V.astype(int) << np.arange(6)).sum(axis=1)
    emp = np.bincount((X.astype(int) << np.arange(6)).sum(axis=1), minlength=64)[codes] / n

    def kl(model):
        q = np.exp(-model.free_energy(V) - model.log_partition())
        keep = emp > 0
        return float(np.sum(emp[keep] * np.log(emp[keep] / q[keep])))

    student = RBM(6, 3, seed=1)
    before = kl(student)
    student.fit(X, epochs=10 if quick else 30, batch_size=50, method="pcd",
                learning_rate=0.05, momentum=0.5, n_persistent_chains=100, seed=2)
    samples = student.sample(20000, 200, seed=3)
    observed = np.bincount((samples.astype(int) << np.arange(6)).sum(axis=1), minlength=64)
    q = np.exp(-student.free_energy(V) - student.log_partition())
    pvalue = stats.chisquare(observed[codes], q * 20000).pvalue
    out(f"4. RBM: learn a known 6x3 RBM from {n} of its samples (PCD-1), checked exactly\n")
    out(f"   KL(data || model), exact by enumeration: {before:.4f} nats before training, "
        f"{kl(student):.4f} after")
    out(f"   (the teacher itself is {kl(teacher):.4f} nats from this finite sample)")
    out(f"   20,000 block-Gibbs samples of the trained model vs its exact p(v): "
        f"chi-square p = {pvalue:.3f}\n")


def _digits_demo(out, quick, plots=None):
    """Digits: heatbath against scikit-learn by exact test log-likelihood; AIS."""
    import time

    from heatbath import RBM

    try:
        X, X_test = load_digits_binary()
    except ValueError:
        out("5. RBMs on digits: skipped (scikit-learn is not installed; "
            "pip install heatbath[sklearn])\n")
        return
    out(f"5. RBMs on scikit-learn's digits (8x8, binarised at >= 8; {len(X)} training rows, "
        f"{len(X_test)} test rows = index % 5 == 0)\n")
    rows = []
    ours = RBM(64, 16, seed=0).init_visible_bias(X)
    history = ours.fit(X, epochs=10, batch_size=10, method="cd", k=10, learning_rate=0.1,
                       momentum=0.5, seed=0, score_every=1,
                       scores=("pseudo_likelihood", "log_likelihood"), score_data=X_test)
    t_ours = float(np.sum(history["seconds"]))   # training only, not the scoring
    rows.append(["heatbath RBM: CD-10, lr 0.1, momentum 0.5, visible biases from data",
                 f"{ours.log_likelihood(X_test):.3f}", f"{t_ours:.2f} s"])
    try:
        from sklearn.neural_network import BernoulliRBM

        start = time.perf_counter()
        sk = BernoulliRBM(n_components=16, random_state=0).fit(X)
        t_sk = time.perf_counter() - start
        theirs = RBM(64, 16).set_parameters(sk.components_.T, sk.intercept_visible_,
                                            sk.intercept_hidden_)
        rows.append(["sklearn BernoulliRBM(n_components=16), its defaults (PCD-1, lr 0.1)",
                     f"{theirs.log_likelihood(X_test):.3f}", f"{t_sk:.2f} s"])
    except ImportError:  # pragma: no cover - load_digits needs sklearn already
        pass
    out("   16 hidden units, 10 epochs, batch 10: exact test log-likelihood (log Z by "
        "enumerating 2**16 hidden states)")
    out(_table(rows, ["model", "test log-lik (nats/digit)", "fit time"]))
    # AIS against exact, then a model too big to enumerate.
    m20 = RBM(64, 20, seed=1).init_visible_bias(X)
    m20.fit(X, epochs=10, batch_size=10, method="cd", k=10, learning_rate=0.1, momentum=0.5,
            seed=1)
    n_betas = 1000 if quick else 10000
    exact = m20.log_partition()
    ais = m20.log_partition("ais", n_runs=100, n_betas=n_betas, data=X, seed=2)
    rev = m20.log_partition("reverse_ais", data=X, n_runs=100, n_betas=n_betas, seed=3)
    out(f"\n   20 hidden units: log Z exact {exact:.4f}; AIS ({ais.n_runs} runs x {n_betas} "
        f"betas) {ais:.4f} +- {ais.stderr:.4f}; reverse AIS {rev:.4f} +- {rev.stderr:.4f}")
    nh = 64 if quick else 256
    big = RBM(64, nh, seed=2).init_visible_bias(X)
    big.fit(X, epochs=5 if quick else 20, batch_size=10, method="pcd", k=5,
            learning_rate=0.05, momentum=0.5, seed=2)
    start = time.perf_counter()
    ais = big.log_partition("ais", n_runs=100, n_betas=n_betas, data=X, seed=4)
    t_ais = time.perf_counter() - start
    ll = big.log_likelihood(X_test, "ais", n_runs=100, n_betas=n_betas, data=X, seed=4)
    out(f"   {nh} hidden units (2**{nh} states: AIS only): log Z {ais:.3f} +- {ais.stderr:.3f} "
        f"(ESS {ais.ess:.0f} of 100, {t_ais:.1f} s); test log-likelihood {ll:.3f} +- "
        f"{ll.stderr:.3f}\n")
    if plots is not None:
        samples = big.sample(64, 200 if quick else 1000, seed=6)
        plots["rbm_filters"] = lambda: _plot().weight_grid(big, n_filters=64,
                                                           title=f"RBM filters ({nh} hidden)")
        plots["rbm_samples"] = lambda: _plot().sample_grid(
            samples, title=f"block-Gibbs samples of the {nh}-hidden RBM")
        plots["learning_curves"] = lambda: _plot().learning_curves(
            history, title="16-hidden RBM on digits (test set scores)")


def _write_plots(plots, folder, out):
    try:
        _plot()
    except ImportError:
        out(f"   plots: skipped (matplotlib is not installed; pip install heatbath[plot])\n")
        return
    os.makedirs(folder, exist_ok=True)
    written = []
    for name, make in plots.items():
        path = os.path.join(folder, f"{name}.png")
        make().savefig(path, dpi=110)
        written.append(os.path.basename(path))
    out(f"   plots written to {os.path.abspath(folder)}/: {', '.join(written)}\n")


def _print_bench(results, out):
    rows = [[r["name"], f"{r['heatbath']:.3g}", f"{r['reference']:.3g}", r["unit"],
             f"{r['ratio']:.1f}x", r["reference_name"]] for r in results]
    out(_table(rows, ["kernel", "heatbath", "reference", "unit", "speedup", "reference is"]))


def cmd_demo(args):
    out = print
    out(f"heatbath {heatbath.__version__}: OpenMP {'on' if heatbath.openmp_enabled() else 'OFF'}, "
        f"{heatbath.effective_n_threads()} thread(s)\n")
    plots = {}
    _demo_boltzmann(out)
    _demo_markov(out, args.quick)
    _demo_ising(out, args.quick, plots)
    _demo_rbm(out, args.quick)
    _digits_demo(out, args.quick, plots)
    from heatbath._demo import thermo as thermo_demo

    for line in thermo_demo.run(args.out, args.quick):
        out(line)
    _write_plots(plots, args.out, out)
    from heatbath._bench import run_cases

    out("6. Kernel throughput against the NumPy twins, one run (heatbath bench has them all)\n")
    _print_bench(run_cases(quick=args.quick, selection="demo"), out)
    return 0


def cmd_bench(args):
    from heatbath._bench import run_cases

    results = run_cases(quick=args.quick, n_threads=args.n_threads)
    if args.json:
        keys = ("name", "unit", "heatbath", "reference", "ratio")
        print(json.dumps({"results": [{k: r[k] for k in keys} for r in results]}))
    else:
        _print_bench(results, print)
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="heatbath",
        description="Fast Boltzmann sampling and energy-based models.",
    )
    parser.add_argument("--version", action="version", version=f"heatbath {heatbath.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="Ising, RBMs on digits, exact checks, plots, speed")
    demo.add_argument("--quick", action="store_true", help="a smaller run (seconds), for CI")
    demo.add_argument("--out", default="heatbath-demo",
                      help="folder for the PNG plots (default ./heatbath-demo)")
    demo.set_defaults(func=cmd_demo)
    ising = sub.add_parser("ising", help="simulate an Ising model and compare with exact results")
    ising.add_argument("--size", type=int, default=32, help="lattice side L (default 32)")
    ising.add_argument("--dim", type=int, default=2, help="dimension (default 2)")
    ising.add_argument("--temperature", type=float, default=2.269, help="T > 0 (default 2.269)")
    ising.add_argument("--sweeps", type=int, default=2000, help="recorded sweeps (default 2000)")
    ising.add_argument("--burn-in", type=int, default=500, help="burn-in sweeps (default 500)")
    ising.add_argument("--chains", type=int, default=8, help="independent chains (default 8)")
    ising.add_argument("--algorithm", choices=sorted(ALGORITHMS), default="metropolis")
    ising.add_argument("--seed", type=int, default=None)
    ising.add_argument("--threads", type=int, default=None, help="default: all cores")
    ising.add_argument("--coupling", type=float, default=1.0, help="J (default 1)")
    ising.add_argument("--field", type=float, default=0.0, help="h (default 0)")
    ising.add_argument("--open", action="store_true", help="open instead of periodic boundaries")
    ising.add_argument("--clusters-per-sweep", type=int, default=None,
                       help="Wolff only; default: chosen from a pilot run so a sweep "
                            "flips about L^dim spins, then fixed")
    ising.add_argument("--json", action="store_true", help="print one JSON object")
    ising.add_argument("--checkpoint", default=None,
                       help="save the chains and the trace so far here (atomically)")
    ising.add_argument("--checkpoint-every", type=int, default=1000,
                       help="sweeps between checkpoints (default 1000)")
    ising.add_argument("--resume", action="store_true",
                       help="continue from --checkpoint if it exists (bit for bit)")
    ising.set_defaults(func=cmd_ising)
    train = sub.add_parser("train", help="train an RBM and save it (.npz)")
    train.add_argument("--data", required=True,
                       help="'digits' (scikit-learn's, binarised at >= 8; rows with index "
                            "% 5 == 0 are held out), or a .npy/.npz file of rows")
    train.add_argument("--hidden", type=int, default=64)
    train.add_argument("--visible-units", default="bernoulli")
    train.add_argument("--hidden-units", default="bernoulli")
    train.add_argument("--epochs", type=int, default=10)
    train.add_argument("--batch-size", type=int, default=10)
    train.add_argument("--method", choices=["cd", "pcd", "pt"], default="pcd")
    train.add_argument("--k", type=int, default=1)
    train.add_argument("--learning-rate", type=float, default=0.05)
    train.add_argument("--momentum", type=float, default=0.0)
    train.add_argument("--weight-decay", type=float, default=0.0)
    train.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    train.add_argument("--seed", type=int, default=None)
    train.add_argument("--threads", type=int, default=None)
    train.add_argument("--out", required=True, help="model file to write (.npz)")
    train.add_argument("--json", action="store_true")
    train.add_argument("--visible-bias", choices=["zero", "data"], default="zero",
                       help="initial visible biases: 0, or matched to the data's unit means "
                            "(Hinton's recipe; better after few epochs)")
    train.add_argument("--checkpoint", default=None,
                       help="save model and training state here (atomically) as it trains")
    train.add_argument("--checkpoint-every", type=int, default=1, help="epochs (default 1)")
    train.add_argument("--resume", action="store_true",
                       help="continue from --checkpoint if it exists (bit for bit)")
    train.add_argument("--score-every", type=int, default=0,
                       help="record --scores every N epochs (default 0: never)")
    train.add_argument("--scores", nargs="+", default=["pseudo_likelihood"],
                       choices=["pseudo_likelihood", "log_likelihood", "log_likelihood_ais"])
    train.set_defaults(func=cmd_train)
    evaluate = sub.add_parser("evaluate", help="log-likelihood, log Z, pseudo-likelihood of "
                                               "a saved RBM on data")
    evaluate.add_argument("--model", required=True)
    evaluate.add_argument("--data", required=True,
                          help="a .npy/.npz file of rows, 'digits' (the training rows) or "
                               "'digits-test' (rows with index % 5 == 0)")
    evaluate.add_argument("--method", choices=["exact", "ais", "reverse_ais"], default="exact",
                          help="how to get log Z (exact: up to 2**25 states)")
    evaluate.add_argument("--n-runs", type=int, default=100, help="AIS runs (default 100)")
    evaluate.add_argument("--n-betas", type=int, default=10000,
                          help="AIS inverse temperatures (default 10000)")
    evaluate.add_argument("--base-data", default=None,
                          help="data for the AIS base-rate model (default: --data)")
    evaluate.add_argument("--seed", type=int, default=None)
    evaluate.add_argument("--threads", type=int, default=None)
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(func=cmd_evaluate)
    sample = sub.add_parser("sample", help="block-Gibbs samples from a saved RBM")
    sample.add_argument("--model", required=True)
    sample.add_argument("--chains", type=int, default=100)
    sample.add_argument("--steps", type=int, default=1000)
    sample.add_argument("--burn-in", type=int, default=0)
    sample.add_argument("--every", type=int, default=0,
                        help="save every K-th state after burn-in, not just the last")
    sample.add_argument("--temperature", type=float, default=1.0)
    sample.add_argument("--seed", type=int, default=None)
    sample.add_argument("--threads", type=int, default=None)
    sample.add_argument("--out", required=True, help="samples file to write (.npy)")
    sample.set_defaults(func=cmd_sample)
    bench = sub.add_parser("bench", help="time the kernels against their NumPy twins")
    bench.add_argument("--quick", action="store_true", help="tiny sizes: checks the cases run")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument("--n-threads", type=int, default=None,
                       help="threads for the parallel cases (default: all cores)")
    bench.set_defaults(func=cmd_bench)
    from heatbath._commands import thermo

    thermo.add_parser(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if getattr(args, "n_threads", None) == 0:
        parser.error("--n-threads must not be 0")
    if getattr(args, "threads", None) == 0:
        parser.error("--threads must not be 0")
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
