"""Random-walk Metropolis, MALA, ULA and HMC over many chains in R^d.

Each sampler owns its chains (positions, log densities, gradients), their
per-chain streams and its tuned settings. ``run(n_sweeps, burn_in, thin)``
tunes during burn-in only (step size by dual averaging to
``target_accept``; a diagonal preconditioner from windowed variances when
burn-in has at least 150 steps), then freezes the settings and records.
Calling ``run`` again continues the same chains.

Compiled targets (built-in or ``CythonTarget``) run the whole step inside the
nogil OpenMP loop over chains; Python targets are called once per step (once
per leapfrog step for HMC) with all chains, the rest being the same
arithmetic in NumPy on draws from the same per-chain streams.
"""

import math
import threading

import numpy as np

from heatbath import _random
from heatbath._openmp import effective_n_threads
from heatbath._validation import MAX_ELEMENTS, check_int, check_real_array
from heatbath.continuous import _kernels
from heatbath.continuous.adaptation import DualAveraging, WindowedVariance, window_schedule
from heatbath.continuous.targets import Target, _check_scalar
from heatbath.diagnostics import Trace

__all__ = ["RWM", "MALA", "ULA", "HMC", "ContinuousSampler", "summary"]

_CODES = {"rwm": 0, "mala": 1, "ula": 2, "hmc": 3}
_EMPTY3 = np.zeros((0, 0, 0))
_EMPTY2 = np.zeros((0, 0))
FORMAT_VERSION = 1


class ContinuousSampler:
    """Base class of the continuous-state samplers (use RWM, MALA, ULA or HMC).

    Parameters
    ----------
    model : Target
        The target density (``heatbath.continuous.targets``).
    temperature : float, default=1.0
        Only 1.0 (sample the target itself) is supported.
    n_chains : int, default=1
    seed : None, int, SeedSequence or Generator
    n_threads : int or None
        Threads for compiled targets; never changes the result.
    step_size : float or None
        Initial step size (tuned during burn-in unless ``adapt=False``).
    init : array_like (n_chains, dim) or (dim,), optional
        Start positions; by default N(0, 1) draws from the chains' own streams.
    adapt : bool, default=True
        Tune step size and preconditioner during burn-in.
    target_accept : float or None
        Mean acceptance probability the step size is tuned to.
    """

    algorithm: str | None = None
    default_accept: float | None = None
    default_step = 0.1

    def __init__(self, model, *, temperature=1.0, n_chains=1, seed=None, n_threads=None,
                 step_size=None, init=None, adapt=True, target_accept=None):
        if not isinstance(model, Target):
            raise TypeError("model must be a heatbath.continuous target (Gaussian, PythonTarget, "
                            f"...), got {type(model).__name__}")
        if _check_scalar(temperature, "temperature", positive=True) != 1.0:
            raise ValueError("temperature must be 1.0 for continuous targets (scale the log "
                             "density instead)")
        self.model = model
        self.dim = model.dim
        self.n_chains = check_int(n_chains, "n_chains", minimum=1,
                                  maximum=MAX_ELEMENTS // (4 * model.dim))
        self.n_threads = effective_n_threads(n_threads)
        self._explicit_threads = n_threads is not None
        self.step_size = _check_scalar(self.default_step if step_size is None else step_size,
                                       "step_size", positive=True)
        self.adapt = bool(adapt)
        ta = self.default_accept if target_accept is None else target_accept
        if ta is not None:
            ta = _check_scalar(ta, "target_accept")
            if not 0 < ta < 1:
                raise ValueError(f"target_accept must be in (0, 1), got {ta}")
        self.target_accept = ta
        self.inv_mass = np.ones(self.dim)
        self.stream_state = _random.spawn_states(seed, self.n_chains)
        if init is None:
            x = _random.standard_normal(self.stream_state, self.dim, n_threads=self.n_threads)
        else:
            x = check_real_array(init, "init")
            x = np.array(np.broadcast_to(x, (self.n_chains, self.dim)) if x.ndim == 1 else x)
            if x.shape != (self.n_chains, self.dim):
                raise ValueError(f"init must have shape ({self.n_chains}, {self.dim}) or "
                                 f"({self.dim},), got {x.shape}")
        self.x = np.ascontiguousarray(x, dtype=np.float64)
        self.log_prob, self.grad = model.log_prob_and_grad(self.x, n_threads=self.n_threads)
        self.n_sweeps_done = 0
        self._lock = threading.Lock()

    # -- one step (or n) of the kernel, frozen settings --------------------
    @property
    def n_leapfrog(self):
        return 1

    def _threads(self, n_steps):
        # n_threads=None: all cores, but only when each thread gets enough work
        # to pay for waking it (a short burn-in step on few chains does not).
        # The thread count never changes the bits.
        if self._explicit_threads:
            return self.n_threads
        work = self.n_chains * self.dim * self.n_leapfrog * n_steps
        return max(1, min(self.n_threads, work // 20_000))

    def _advance(self, n_steps, acc_prob, n_acc, thin=0, rec_x=None, rec_lp=None):
        if self.model.compiled:
            _kernels.run_chains(self.model._ctarget, _CODES[self.algorithm], self.x,
                                self.log_prob, self.grad, self.stream_state, self.step_size,
                                self.inv_mass, self.n_leapfrog, n_steps, self._work, acc_prob,
                                n_acc, thin, _EMPTY3 if rec_x is None else rec_x,
                                _EMPTY2 if rec_lp is None else rec_lp, self._threads(n_steps))
            return
        for s in range(n_steps):
            self._numpy_step(acc_prob, n_acc)
            if thin and (s + 1) % thin == 0:
                k = (s + 1) // thin - 1
                rec_lp[k] = self.log_prob
                if rec_x is not None and rec_x.size:
                    rec_x[k] = self.x

    # The Python path draws on one thread unless n_threads was given: waking
    # threads for each step's draws costs more than it saves on a busy machine.
    def _normals(self):
        t = self.n_threads if self._explicit_threads else 1
        return _random.standard_normal(self.stream_state, self.dim, n_threads=t)

    def _uniforms(self):
        t = self.n_threads if self._explicit_threads else 1
        return _random.random(self.stream_state, 1, n_threads=t)[:, 0]

    def _finish(self, a, xp, lpp, gp, acc_prob, n_acc):
        acc_prob += a
        take = self._uniforms() < a
        self.x[take], self.log_prob[take], self.grad[take] = xp[take], lpp[take], gp[take]
        n_acc += take

    # -- run -----------------------------------------------------------------
    def run(self, n_sweeps, burn_in=0, thin=1, verbose=False, record_samples=True):
        """Run ``burn_in`` tuning steps, then ``n_sweeps`` recorded steps.

        Returns
        -------
        Trace
            ``observables["log_prob"]`` (n_recorded, n_chains);
            ``info["samples"]`` (n_recorded, n_chains, dim) when
            ``record_samples``; ``info["step_size"]``, ``info["inv_mass"]``,
            ``info["n_leapfrog"]``; ``acceptance_rate`` per chain over the
            recorded steps (burn-in excluded).
        """
        n_sweeps = check_int(n_sweeps, "n_sweeps", minimum=0)
        burn_in = check_int(burn_in, "burn_in", minimum=0)
        thin = check_int(thin, "thin", minimum=1)
        n_rec = n_sweeps // thin
        if record_samples and n_rec * self.n_chains * self.dim > MAX_ELEMENTS:
            raise ValueError(f"recording {n_rec} x {self.n_chains} x {self.dim} samples is too "
                             "many: raise thin or pass record_samples=False")
        if not self._lock.acquire(blocking=False):
            raise RuntimeError("this sampler is already running in another thread")
        try:
            self._work = np.empty((self.n_chains, 3 * self.dim))
            bar = None
            if verbose:
                from tqdm.auto import tqdm
                bar = tqdm(total=burn_in + n_sweeps, desc=type(self).__name__)
            self._burn_in(burn_in, bar)
            lp_rec = np.empty((n_rec, self.n_chains))
            samples = np.empty((n_rec, self.n_chains, self.dim)) if record_samples else None
            acc_prob = np.zeros(self.n_chains)
            n_acc = np.zeros(self.n_chains, dtype=np.int64)
            # Without a progress bar the whole run is one kernel call; with one,
            # one call per chunk of recorded samples.
            chunk = n_rec if bar is None else max(1, n_rec // 100)
            for start in range(0, n_rec, max(chunk, 1)):
                stop = min(n_rec, start + chunk)
                self._advance((stop - start) * thin, acc_prob, n_acc, thin,
                              samples[start:stop] if record_samples else None,
                              lp_rec[start:stop])
                if bar is not None:
                    bar.update((stop - start) * thin)
            rest = n_sweeps - n_rec * thin
            if rest:
                self._advance(rest, acc_prob, n_acc)
            if bar is not None:
                bar.close()
            self.n_sweeps_done += burn_in + n_sweeps
        finally:
            self._lock.release()
        info = {"step_size": self.step_size, "inv_mass": self.inv_mass.copy(),
                "n_leapfrog": self.n_leapfrog, "algorithm": self.algorithm,
                "mean_accept_prob": acc_prob / max(n_sweeps, 1)}
        if record_samples:
            info["samples"] = samples
        return Trace({"log_prob": lp_rec}, n_acc / max(n_sweeps, 1), self.x.copy(),
                     np.ones(self.n_chains), self.dim, info=info)

    def _burn_in(self, burn_in, bar):
        if burn_in == 0:
            return
        acc_prob = np.zeros(self.n_chains)
        n_acc = np.zeros(self.n_chains, dtype=np.int64)
        if not self.adapt or self.target_accept is None:
            self._advance(burn_in, acc_prob, n_acc)
            if bar is not None:
                bar.update(burn_in)
            return
        da = DualAveraging(self.step_size, self.target_accept)
        windows = window_schedule(burn_in)
        first = windows[0][0] if windows else burn_in
        ends = {end for _, end in windows}
        last = windows[-1][1] if windows else 0
        var = WindowedVariance(self.dim)
        for s in range(burn_in):
            acc_prob[:] = 0.0
            self.step_size = da.step_size
            self._advance(1, acc_prob, n_acc)
            da.update(float(acc_prob.sum()) / self.n_chains)
            if first <= s < last:
                var.add(self.x)
                if s + 1 in ends:
                    self.inv_mass = var.regularised()
                    var.reset()
                    da.restart(da.step_size)
            if bar is not None:
                bar.update(1)
        self.step_size = da.final_step_size

    # -- state -----------------------------------------------------------------
    def get_state(self):
        """A plain dict of arrays: positions, streams, tuned settings, counters."""
        return {"kind": f"continuous.{self.algorithm}", "format_version": FORMAT_VERSION,
                "x": self.x.copy(), "stream_state": self.stream_state.copy(),
                "step_size": np.float64(self.step_size), "inv_mass": self.inv_mass.copy(),
                "n_sweeps_done": np.int64(self.n_sweeps_done)}

    def set_state(self, state):
        """Restore what :meth:`get_state` gave (the same target and n_chains)."""
        if not isinstance(state, dict):
            raise TypeError("state must be a dict from get_state()")
        if state.get("kind") != f"continuous.{self.algorithm}":
            raise ValueError(f"state is of kind {state.get('kind')!r}, expected "
                             f"'continuous.{self.algorithm}'")
        if int(state.get("format_version", -1)) != FORMAT_VERSION:
            raise ValueError(f"state format_version must be {FORMAT_VERSION}")
        x = check_real_array(state["x"], "state['x']", ndim=2)
        if x.shape != (self.n_chains, self.dim):
            raise ValueError(f"state['x'] must have shape ({self.n_chains}, {self.dim})")
        streams = _random.check_states(state["stream_state"], n_chains=self.n_chains)
        inv_mass = check_real_array(state["inv_mass"], "state['inv_mass']", ndim=1)
        if inv_mass.shape != (self.dim,) or (inv_mass <= 0).any():
            raise ValueError(f"state['inv_mass'] must be {self.dim} positive numbers")
        step = _check_scalar(float(state["step_size"]), "state['step_size']", positive=True)
        self.x = np.ascontiguousarray(x, dtype=np.float64).copy()
        self.stream_state = streams
        self.inv_mass, self.step_size = inv_mass.copy(), step
        self.n_sweeps_done = int(state["n_sweeps_done"])
        self.log_prob, self.grad = self.model.log_prob_and_grad(self.x, n_threads=self.n_threads)


class RWM(ContinuousSampler):
    """Random-walk Metropolis: x' = x + h sqrt(m) z, z ~ N(0, I).

    Tuned to 0.234 mean acceptance (Roberts, Gelman & Gilks 1997).

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.continuous import Gaussian, RWM
    >>> s = RWM(Gaussian(np.zeros(2), np.ones(2)), n_chains=8, seed=0)
    >>> tr = s.run(200, burn_in=200)
    >>> tr.info["samples"].shape
    (200, 8, 2)
    """

    algorithm = "rwm"
    default_accept = 0.234
    default_step = 0.5

    def _numpy_step(self, acc_prob, n_acc):
        sm = np.sqrt(self.inv_mass)
        xp = self.x + self.step_size * sm * self._normals()
        lpp, gp = self.model.log_prob_and_grad(xp)
        a = _accept(lpp - self.log_prob)
        self._finish(a, xp, lpp, gp, acc_prob, n_acc)


class MALA(ContinuousSampler):
    """Metropolis-adjusted Langevin: x' = x + tau m grad + sqrt(2 tau m) z, then accept/reject.

    ``step_size`` is tau (as in BlackJAX); tuned to 0.574 mean acceptance
    (Roberts & Rosenthal 1998).

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.continuous import Gaussian, MALA
    >>> s = MALA(Gaussian(np.zeros(3), np.ones(3)), n_chains=16, seed=1)
    >>> tr = s.run(500, burn_in=300)
    >>> bool(abs(tr.info["samples"].mean()) < 0.2)
    True
    """

    algorithm = "mala"
    default_accept = 0.574

    def _numpy_step(self, acc_prob, n_acc):
        m, tau = self.inv_mass, self.step_size
        z = self._normals()
        unit = not (m != 1.0).any()     # skip the preconditioner's products (exact: m = 1)
        if unit:
            xp = self.x + tau * self.grad + math.sqrt(2.0 * tau) * z
        else:
            xp = self.x + tau * m * self.grad + math.sqrt(2.0 * tau) * np.sqrt(m) * z
        lpp, gp = self.model.log_prob_and_grad(xp)
        if unit:
            t = self.x - xp - tau * gp
            rev = np.einsum("ij,ij->i", t, t)
        else:
            t = self.x - xp - tau * m * gp
            rev = (t * t / m).sum(axis=1)
        a = _accept(lpp - self.log_prob - rev / (4.0 * tau) + 0.5 * np.einsum("ij,ij->i", z, z))
        self._finish(a, xp, lpp, gp, acc_prob, n_acc)


class ULA(MALA):
    """Unadjusted Langevin: MALA's move without the accept test. BIASED by design.

    Its stationary law is not the target: for a Gaussian N(0, s^2) with step
    tau (m = 1) the chain is the AR(1) x' = (1 - tau/s^2) x + sqrt(2 tau) z,
    whose stationary variance is s^2 / (1 - tau / (2 s^2)): too wide by a
    factor that grows with tau. The step is never tuned (there is no
    acceptance to tune to); choose it small against the target's scale.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.continuous import Gaussian, ULA
    >>> s = ULA(Gaussian(np.zeros(1), np.ones(1)), n_chains=64, seed=2, step_size=0.5)
    >>> v = s.run(2000, burn_in=100).info["samples"].var()
    >>> bool(abs(v - 1 / (1 - 0.25)) < 0.1)     # 4/3, not 1
    True
    """

    algorithm = "ula"
    default_accept = None  # type: ignore[assignment]  # ULA has no accept step to tune to
    default_step = 0.01

    def _numpy_step(self, acc_prob, n_acc):
        m, tau = self.inv_mass, self.step_size
        self.x += tau * m * self.grad + math.sqrt(2.0 * tau) * np.sqrt(m) * self._normals()
        self.log_prob, self.grad = self.model.log_prob_and_grad(self.x)
        acc_prob += 1.0
        n_acc += 1


class HMC(ContinuousSampler):
    """Hamiltonian Monte Carlo: leapfrog with a fixed path length, diagonal mass matrix.

    The number of leapfrog steps is ``max(1, round(path_length / step_size))``;
    it is fixed once the step size is frozen after burn-in. Tuned to 0.8 mean
    acceptance (Stan's default).

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.continuous import Gaussian, HMC
    >>> s = HMC(Gaussian(np.zeros(2), [[1.0, 0.9], [0.9, 1.0]]), n_chains=8, seed=3)
    >>> tr = s.run(300, burn_in=300)
    >>> bool(0.5 < tr.acceptance_rate.mean() <= 1.0)
    True
    """

    algorithm = "hmc"
    default_accept = 0.8
    default_step = 0.2

    def __init__(self, model, *, path_length=1.0, max_leapfrog=1024, **kwargs):
        self.path_length = _check_scalar(path_length, "path_length", positive=True)
        self.max_leapfrog = check_int(max_leapfrog, "max_leapfrog", minimum=1)
        super().__init__(model, **kwargs)

    @property
    def n_leapfrog(self):
        return int(min(self.max_leapfrog, max(1, round(self.path_length / self.step_size))))

    def _numpy_step(self, acc_prob, n_acc):
        m, eps, half = self.inv_mass, self.step_size, 0.5 * self.step_size
        z = self._normals()
        k0 = (z * z).sum(axis=1)
        mom = z / np.sqrt(m)
        xp, gp, lpp = self.x.copy(), self.grad.copy(), self.log_prob
        for _ in range(self.n_leapfrog):
            mom += half * gp
            xp += eps * m * mom
            lpp, gp = self.model.log_prob_and_grad(xp)
            mom += half * gp
        k1 = (m * mom * mom).sum(axis=1)
        a = _accept((lpp - 0.5 * k1) - (self.log_prob - 0.5 * k0))
        self._finish(a, xp, lpp, gp, acc_prob, n_acc)


def _accept(log_ratio):
    with np.errstate(over="ignore", invalid="ignore"):
        a = np.exp(np.minimum(log_ratio, 0.0))
    return np.where(np.isnan(log_ratio), 0.0, a)


def summary(trace):
    """Per-coordinate mean, stderr, ESS and rank-normalised R-hat of a continuous trace.

    Returns
    -------
    dict of str -> ndarray (dim,)
        ``mean``, ``stderr``, ``ess``, ``rhat`` (Vehtari et al. 2021).

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.continuous import Gaussian, MALA, summary
    >>> tr = MALA(Gaussian(np.zeros(2), np.ones(2)), n_chains=8, seed=0).run(400, burn_in=200)
    >>> sorted(summary(tr))
    ['ess', 'mean', 'rhat', 'stderr']
    """
    from heatbath import diagnostics as D

    samples = trace.info.get("samples")
    if samples is None:
        raise ValueError("the trace holds no samples (run with record_samples=True)")
    d = samples.shape[2]
    out = {k: np.empty(d) for k in ("mean", "stderr", "ess", "rhat")}
    for i in range(d):
        s = samples[:, :, i]
        out["mean"][i] = s.mean()
        out["stderr"][i] = D.stderr(s)
        out["ess"][i] = D.ess(s)
        out["rhat"][i] = D.rank_normalized_rhat(s)
    return out
