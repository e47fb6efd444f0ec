"""Bench cases: heatbath.continuous (MALA and HMC) against hand-written NumPy and BlackJAX.

The hand-written NumPy samplers here are what a NumPy user writes (vectorised
over chains); ``bench/continuous_compare.py`` uses them too, for the README's
one-run table (which also runs BlackJAX from its own venv).
"""

import numpy as np

from heatbath._bench import Side, case, peer


def numpy_mala(x, step, n_steps, rng, logp_grad):
    """Hand-written vectorised MALA (what a NumPy user writes)."""
    lp, g = logp_grad(x)
    s2 = np.sqrt(2 * step)
    for _ in range(n_steps):
        z = rng.standard_normal(x.shape)
        xp = x + step * g + s2 * z
        lpp, gp = logp_grad(xp)
        t = x - xp - step * gp
        log_a = lpp - lp - (t * t).sum(1) / (4 * step) + 0.5 * (z * z).sum(1)
        acc = np.log(rng.random(x.shape[0])) < log_a
        x[acc], lp[acc], g[acc] = xp[acc], lpp[acc], gp[acc]
    return x


def numpy_rwm(x, step, n_steps, rng, logp_grad):
    """Hand-written vectorised random-walk Metropolis."""
    lp = logp_grad(x)[0]
    for _ in range(n_steps):
        xp = x + step * rng.standard_normal(x.shape)
        lpp = logp_grad(xp)[0]
        acc = np.log(rng.random(x.shape[0])) < lpp - lp
        x[acc], lp[acc] = xp[acc], lpp[acc]
    return x


def numpy_ula(x, step, n_steps, rng, logp_grad):
    """Hand-written vectorised unadjusted Langevin."""
    g = logp_grad(x)[1]
    s2 = np.sqrt(2 * step)
    for _ in range(n_steps):
        x = x + step * g + s2 * rng.standard_normal(x.shape)
        g = logp_grad(x)[1]
    return x


def gauss_logp_grad(x):
    return -0.5 * np.einsum("ij,ij->i", x, x), -x


def numpy_hmc(phi, target, step, n_leap, n_steps, rng, record):
    """Hand-written vectorised NumPy HMC on the phi^4 lattice (roll-based)."""
    k, lam = target.kappa, target.lam
    axes = tuple(range(1, phi.ndim))

    def lp_grad(f):
        h = sum(np.roll(f, s, axis=a) for a in axes for s in (-1, 1))
        f2 = f * f
        S = (f2 + lam * (f2 - 1) ** 2 - k * f * h).sum(axis=axes)
        return -S, -(2 * f + 4 * lam * (f2 - 1) * f - 2 * k * h)

    lp, g = lp_grad(phi)
    out = []
    for _ in range(n_steps):
        p = rng.standard_normal(phi.shape)
        k0 = 0.5 * (p * p).sum(axis=axes)
        x, gx = phi.copy(), g
        for _ in range(n_leap):
            p += 0.5 * step * gx
            x += step * p
            lpx, gx = lp_grad(x)
            p += 0.5 * step * gx
        k1 = 0.5 * (p * p).sum(axis=axes)
        acc = np.log(rng.random(phi.shape[0])) < (lpx - k1) - (lp - k0)
        phi[acc], lp[acc], g[acc] = x[acc], lpx[acc], gx[acc]
        if record:
            out.append(np.abs(phi.mean(axis=axes)))
    return np.array(out)


def _tuned_mala(d, n, quick):
    from heatbath import continuous as C

    target = C.Gaussian(np.zeros(d), np.ones(d))
    tuner = C.MALA(target, n_chains=n, seed=0)
    tuner.run(0, burn_in=200 if quick else 500)
    return target, tuner.step_size


def _gauss100(cls, step, numpy_fn, quick, n_threads):
    """heatbath, its twin and hand-written NumPy on the 100-d standard Gaussian (built-in)."""
    from heatbath import continuous as C
    from heatbath.reference import continuous as twin

    d, n, steps = 100, (50 if quick else 1000), (2 if quick else 20)
    target = C.Gaussian(np.zeros(d), np.ones(d))
    s = cls(target, n_chains=n, seed=1, step_size=step, adapt=False, n_threads=n_threads)
    rng = np.random.default_rng(2)
    x0 = rng.standard_normal((n, d))
    lp0, g0 = target.log_prob_and_grad(x0[:2])
    return x0, steps, dict(
        work=n * steps,
        title=f"{cls.__name__}, {d}-d Gaussian (built-in), {n} chains, {steps} steps",
        heatbath=lambda: s.run(steps, record_samples=False),
        twin=Side(lambda: twin.run_chains(target, cls.algorithm, x0[:2], lp0, g0,
                                          s.stream_state[:2], step, np.ones(d), 1, 1),
                  "reference.continuous", factor=n * steps / 2),
        numpy=Side(lambda: numpy_fn(x0.copy(), step, steps, rng, gauss_logp_grad),
                   f"hand-written NumPy {cls.__name__}"))


@case("continuous", "mcmc-rwm-gauss100", unit="chain-step", sides=("twin", "numpy"))
def _rwm(quick, n_threads):
    from heatbath import continuous as C

    return _gauss100(C.RWM, 2.38 / np.sqrt(100), numpy_rwm, quick, n_threads)[2]


@case("continuous", "mcmc-ula-gauss100", unit="chain-step", sides=("twin", "numpy"))
def _ula(quick, n_threads):
    from heatbath import continuous as C

    return _gauss100(C.ULA, 0.1, numpy_ula, quick, n_threads)[2]


@case("continuous", "mcmc-mala-gauss100", unit="chain-step", sides=("twin", "numpy", "blackjax"))
def _mala(quick, n_threads):
    from heatbath import continuous as C

    n = 50 if quick else 1000
    step = _tuned_mala(100, n, quick)[1]
    x0, steps, sides = _gauss100(C.MALA, step, numpy_mala, quick, n_threads)
    jax, blackjax = peer("jax"), peer("blackjax")
    if jax is not None and blackjax is not None:
        import jax.numpy as jnp

        mala = blackjax.mala(lambda x: -0.5 * jnp.sum(x * x), step)
        state = jax.vmap(mala.init)(jnp.asarray(x0, dtype=jnp.float32))

        @jax.jit
        def run(st, key):
            def body(c, k):
                c, _ = jax.vmap(mala.step)(jax.random.split(k, n), c)
                return c, None
            return jax.lax.scan(body, st, jax.random.split(key, steps))[0]

        key = jax.random.PRNGKey(0)
        sides["blackjax"] = Side(lambda: jax.block_until_ready(run(state, key)),
                                 "BlackJAX MALA (JAX CPU, float32)")
    return sides


@case("continuous", "mcmc-mala-numpy-callable", unit="chain-step", sides=("numpy",))
def _mala_python(quick, n_threads):
    from heatbath import continuous as C

    d, n, steps = 100, (50 if quick else 1000), (2 if quick else 20)
    target, step = _tuned_mala(d, n, quick)
    s = C.MALA(C.PythonTarget(gauss_logp_grad, d), n_chains=n, seed=1, step_size=step,
               adapt=False)
    rng = np.random.default_rng(2)
    x0 = rng.standard_normal((n, d))
    return dict(work=n * steps,
                title=f"MALA, {d}-d Gaussian as a NumPy callable, {n} chains, {steps} steps",
                heatbath=lambda: s.run(steps, record_samples=False),
                numpy=Side(lambda: numpy_mala(x0.copy(), step, steps, rng, gauss_logp_grad),
                           "hand-written NumPy MALA"))


@case("continuous", "mcmc-hmc-phi4-32", unit="chain-step", sides=("numpy",))
def _hmc(quick, n_threads):
    from heatbath import continuous as C

    L, n, steps = (8, 4, 2) if quick else (32, 64, 10)
    target = C.Phi4(L, dim=2, kappa=0.2, lam=0.5)
    s = C.HMC(target, n_chains=n, seed=0, step_size=0.2, adapt=False, n_threads=n_threads)
    rng = np.random.default_rng(1)
    phi = s.x.reshape((n, L, L)).copy()
    return dict(work=n * steps, title=f"HMC, 2-d phi^4 L={L}, {n} chains, {s.n_leapfrog} leapfrogs",
                heatbath=lambda: s.run(steps, record_samples=False),
                numpy=Side(lambda: numpy_hmc(phi.copy(), target, 0.2, s.n_leapfrog, steps, rng,
                                             False), "hand-written NumPy HMC"))
