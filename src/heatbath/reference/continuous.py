"""NumPy/Python twins of the continuous kernels (heatbath/continuous/_kernels.pyx), bit for bit.

Scalar Python floats in the kernels' exact order of operations (IEEE double,
libm's exp/log through ``math``); the draws come from numpy's SFC64 through
the twins in :mod:`heatbath.reference.random`. Slow by design: the oracle
for tests on small problems.
"""

import math

import numpy as np

from heatbath._random import _ziggurat_tables
from heatbath.reference.random import _normal, bit_generators, states_of

__all__ = ["log_prob_and_grad", "run_chains"]

_TWO53 = 1.0 / 9007199254740992.0


def _gauss_diag(t, x):
    d, mu, prec = len(x), t["mean"], t["precision_diag"]
    g, lp = [0.0] * d, 0.0
    for i in range(d):
        r = x[i] - mu[i]
        g[i] = -prec[i] * r
        lp = lp + r * g[i]
    return 0.5 * lp, g


def _gauss_full(t, x):
    d, mu, P = len(x), t["mean"], t["precision"]
    g, lp = [0.0] * d, 0.0
    for i in range(d):
        s = 0.0
        for j in range(d):
            s = s + P[i][j] * (x[j] - mu[j])
        g[i] = -s
        lp = lp + (x[i] - mu[i]) * g[i]
    return 0.5 * lp, g


def _double_well(t, x):
    a, b = t["barrier"], t["tilt"]
    g, lp = [0.0] * len(x), 0.0
    for i in range(len(x)):
        u = x[i] * x[i] - 1.0
        lp = lp - a * u * u + b * x[i]
        g[i] = -4.0 * a * x[i] * u + b
    return lp, g


def _phi4(t, x):
    nb, kappa, lam = t["neighbours"], t["kappa"], t["lam"]
    g, S = [0.0] * len(x), 0.0
    for i in range(len(x)):
        h = 0.0
        for j in nb[i]:
            h = h + x[j]
        f2 = x[i] * x[i]
        S = S + f2 + lam * (f2 - 1.0) * (f2 - 1.0) - kappa * x[i] * h
        g[i] = -(2.0 * x[i] + 4.0 * lam * (f2 - 1.0) * x[i] - 2.0 * kappa * h)
    return -S, g


def _spec(target):
    """The twin's view of a built-in target (plain Python numbers)."""
    kind = target._ctarget.kind
    if kind == "gauss_diag":
        return _gauss_diag, {"mean": target.mean.tolist(),
                             "precision_diag": (1 / np.diag(target.cov)).tolist()}
    if kind == "gauss_full":
        return _gauss_full, {"mean": target.mean.tolist(), "precision": target.precision.tolist()}
    if kind == "double_well":
        return _double_well, {"barrier": target.barrier, "tilt": target.tilt}
    if kind == "phi4":
        return _phi4, {"neighbours": target.neighbours.tolist(), "kappa": target.kappa,
                       "lam": target.lam}
    raise NotImplementedError(f"no twin for built-in target {kind!r}")


def log_prob_and_grad(target, x):
    """Twin of ``target.log_prob_and_grad`` for Gaussian, DoubleWell and Phi4 targets."""
    fn, t = _spec(target)
    out = [fn(t, row) for row in np.asarray(x, dtype=float).tolist()]
    return np.array([o[0] for o in out]), np.array([o[1] for o in out])


def _accept_prob(log_ratio):
    if log_ratio != log_ratio:
        return 0.0
    if log_ratio >= 0.0:
        return 1.0
    return math.exp(log_ratio)


def run_chains(target, algorithm, x, lp, g, states, step, inv_mass, n_leapfrog, n_steps,
               beta=None):
    """Twin of ``_kernels.run_chains``: returns (x, lp, g, states, acc_prob, n_accepted).

    ``beta`` (n_chains,): inverse temperatures (default 1); chain c samples p^beta_c.
    """
    fn, t = _spec(target)
    r, k, w, f = _ziggurat_tables("normal")
    tab = (r, [int(v) for v in k], list(w), list(f))
    m = [float(v) for v in inv_mass]
    sm = [math.sqrt(v) for v in m]
    noise = math.sqrt(2.0 * step)
    gens = bit_generators(states)
    betas = [1.0] * len(gens) if beta is None else [float(b) for b in beta]
    X, LP, G = np.array(x, dtype=float), np.array(lp, dtype=float), np.array(g, dtype=float)
    acc = np.zeros(len(gens))
    nacc = np.zeros(len(gens), dtype=np.int64)
    d = X.shape[1]
    for c, bg in enumerate(gens):
        def draw(bg=bg):
            return int(bg.random_raw())
        xc, gc, lc = X[c].tolist(), G[c].tolist(), float(LP[c])
        ap, na = 0.0, 0
        b = betas[c]
        drift, half = step * b, (0.5 * step) * b
        for _ in range(n_steps):
            if algorithm == "ula":
                for i in range(d):
                    xc[i] = xc[i] + drift * m[i] * gc[i] + noise * sm[i] * _normal(draw, *tab)
                lc, gc = fn(t, xc)
                ap, na = ap + 1.0, na + 1
                continue
            xp = [0.0] * d
            if algorithm == "rwm":
                for i in range(d):
                    xp[i] = xc[i] + step * sm[i] * _normal(draw, *tab)
                lpp, gp = fn(t, xp)
                a = _accept_prob(b * (lpp - lc))
            elif algorithm == "mala":
                fwd = 0.0
                for i in range(d):
                    z = _normal(draw, *tab)
                    fwd = fwd + z * z
                    xp[i] = xc[i] + drift * m[i] * gc[i] + noise * sm[i] * z
                lpp, gp = fn(t, xp)
                rev = 0.0
                for i in range(d):
                    tt = xc[i] - xp[i] - drift * m[i] * gp[i]
                    rev = rev + tt * tt / m[i]
                a = _accept_prob(b * (lpp - lc) - rev / (4.0 * step) + 0.5 * fwd)
            else:
                k0, mom = 0.0, [0.0] * d
                for i in range(d):
                    z = _normal(draw, *tab)
                    k0 = k0 + z * z
                    mom[i] = z / sm[i]
                xp, gp, lpp = list(xc), list(gc), lc
                for _l in range(n_leapfrog):
                    for i in range(d):
                        mom[i] = mom[i] + half * gp[i]
                        xp[i] = xp[i] + step * m[i] * mom[i]
                    lpp, gp = fn(t, xp)
                    for i in range(d):
                        mom[i] = mom[i] + half * gp[i]
                k1 = 0.0
                for i in range(d):
                    k1 = k1 + m[i] * mom[i] * mom[i]
                a = _accept_prob((b * lpp - 0.5 * k1) - (b * lc - 0.5 * k0))
            ap = ap + a
            if (draw() >> 11) * _TWO53 < a:
                xc, gc, lc = list(xp), list(gp), lpp
                na += 1
        X[c], G[c], LP[c], acc[c], nacc[c] = xc, gc, lc, ap, na
    return X, LP, G, states_of(gens), acc, nacc
