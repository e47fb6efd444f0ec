"""Random-walk Metropolis, MALA, ULA and HMC over many chains in R^d.

The samplers subclass the sampler core (:class:`heatbath._sampler.Sampler`):
temperatures, per-chain streams, ``run``/``Trace``, ``get_state``/``set_state``,
``n_sweeps_done``, the progress bar and the two-thread guard are the core's.
A step is one sweep. ``run(n_sweeps, burn_in, thin)`` tunes during burn-in
only (step size by dual averaging to ``target_accept``; a diagonal
preconditioner from windowed variances when burn-in has at least 150 steps),
then freezes the settings and records. Calling ``run`` again continues the
same chains.

At temperature T a chain samples the tempered density p(x)^(1/T): the
kernels use beta * log p and beta * grad log p (beta = 1/T per chain); the
recorded ``log_prob`` is the target's own log p. T = 1 gives the same bits
as an untempered kernel (beta = 1 multiplies exactly).

Compiled targets (built-in or ``CythonTarget``) run the whole step inside the
nogil OpenMP loop over chains (the kernel comes from the kernel table,
:mod:`heatbath._kernels`); Python targets are called once per step (once per
leapfrog step for HMC) with all chains, the rest being the same arithmetic in
NumPy on draws from the same per-chain streams.
"""

import math

import numpy as np

from heatbath import _random
from heatbath._kernels import lookup, resolve
from heatbath._openmp import effective_n_threads
from heatbath._sampler import STATE_FORMAT_VERSION, Sampler
from heatbath._validation import MAX_ELEMENTS, check_int, check_real_array
from heatbath.continuous.adaptation import DualAveraging, WindowedVariance, window_schedule
from heatbath.continuous.targets import Target, _check_scalar

__all__ = ["RWM", "MALA", "ULA", "HMC", "ContinuousSampler", "summary"]

_CODES = {"rwm": 0, "mala": 1, "ula": 2, "hmc": 3}
_EMPTY3 = np.zeros((0, 0, 0))
_EMPTY2 = np.zeros((0, 0))


class _BurnIn:
    """One run's burn-in plan: dual averaging and Stan's variance windows, step by step.

    Made once per run for the whole burn-in (the window schedule depends on its
    length) and kept across the pieces the core may cut the run into, so the
    progress bar changes no number.
    """

    def __init__(self, sampler, burn_in):
        self.n, self.done = burn_in, 0
        self.da = DualAveraging(sampler.step_size, sampler.target_accept)
        windows = window_schedule(burn_in)
        self.first = windows[0][0] if windows else burn_in
        self.last = windows[-1][1] if windows else 0
        self.ends = {end for _, end in windows}
        self.var = WindowedVariance(sampler.dim)


class ContinuousSampler(Sampler):
    """Base class of the continuous-state samplers (use RWM, MALA, ULA or HMC).

    Parameters
    ----------
    model : Target
        The target density (``heatbath.continuous.targets``).
    temperature : float or array_like of shape (n_chains,), default=1.0
        Finite T > 0 per chain: chain c samples p(x)^(1/T_c) (for a Gaussian,
        the variances times T). Settable between runs.
    n_chains : int, default=1
    seed : None, int, SeedSequence or Generator
    n_threads : int or None
        Threads for compiled targets; never changes the result.
    step_size : float or None
        Initial step size (tuned during burn-in unless ``adapt=False``),
        shared by all chains.
    init : array_like (n_chains, dim) or (dim,), optional
        Start positions; by default N(0, 1) draws from the chains' own streams.
    adapt : bool, default=True
        Tune step size and preconditioner during burn-in. Tuning pools the
        chains (their mean acceptance, their pooled variances).
    target_accept : float or None
        Mean acceptance probability the step size is tuned to.

    Attributes
    ----------
    x : ndarray (n_chains, dim)
        The chains' positions.
    log_prob : ndarray (n_chains,)
        The target's log density at ``x`` (untempered).
    grad : ndarray (n_chains, dim)
        Its gradient at ``x`` (untempered).
    step_size : float
    inv_mass : ndarray (dim,)
        The diagonal preconditioner m (the proposal and momentum scales).
    n_sweeps_done : int
        Steps run so far (burn-in included).
    """

    algorithm: str | None = None
    default_accept: float | None = None
    default_step = 0.1
    sweep_unit = "step"
    records_states = True

    def __init__(self, model, *, temperature=1.0, n_chains=1, seed=None, n_threads=None,
                 step_size=None, init=None, adapt=True, target_accept=None):
        super().__init__(model, temperature=temperature, n_chains=n_chains, seed=seed,
                         n_threads=n_threads)
        self.dim = model.dim
        if self.n_chains * 4 * self.dim > MAX_ELEMENTS:    # positions, gradients, scratch
            raise ValueError(f"n_chains must be at most {MAX_ELEMENTS // (4 * self.dim)} for "
                             f"dim = {self.dim}, got {self.n_chains}")
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
        threads = effective_n_threads(self.n_threads)
        if init is None:
            x = _random.standard_normal(self._streams, self.dim, n_threads=threads)
        else:
            x = check_real_array(init, "init")
            x = np.array(np.broadcast_to(x, (self.n_chains, self.dim)) if x.ndim == 1 else x)
            if x.shape != (self.n_chains, self.dim):
                raise ValueError(f"init must have shape ({self.n_chains}, {self.dim}) or "
                                 f"({self.dim},), got {x.shape}")
        self.x = np.ascontiguousarray(x, dtype=np.float64)
        self.log_prob, self.grad = model.log_prob_and_grad(self.x, n_threads=threads)
        self._work = None
        self._burn = None
        self._record = True
        self._threads_now = threads
        self._acc_sum = np.zeros(self.n_chains)
        self._recorded_steps = 0
        self._run_carry = None

    # -- core hooks ----------------------------------------------------------------
    def _check_model(self, model):
        if not isinstance(model, Target):
            raise TypeError("model must be a heatbath.continuous target (Gaussian, PythonTarget, "
                            f"...), got {type(model).__name__}")

    def _units(self, model):
        return model.dim

    def _check_temperature_values(self, T):
        if not np.isfinite(T).all():
            raise ValueError("temperature must be finite for a continuous target (T = inf "
                             "would be a flat density over R^d)")

    def _current_state(self):
        return self.x.copy()

    def _chain_state(self):
        # The preconditioner is shared by every chain; it is stored once per
        # chain so that every array of a state splits into blocks of chains
        # along axis 0 (as the core and heatbath.distributed expect).
        return {"x": self.x.copy(), "step_size": np.float64(self.step_size),
                "inv_mass": np.repeat(self.inv_mass[None, :], self.n_chains, axis=0)}

    def _check_chain_state(self, state):
        x = check_real_array(state["x"], "state['x']", ndim=2)
        if x.shape != (self.n_chains, self.dim):
            raise ValueError(f"state['x'] must have shape ({self.n_chains}, {self.dim}), got "
                             f"{x.shape}")
        # One preconditioner for every chain: get_state repeats it per chain (so
        # that a state splits into blocks of chains); (dim,) or equal rows are read.
        inv_mass = check_real_array(state["inv_mass"], "state['inv_mass']")
        if inv_mass.ndim == 2 and inv_mass.shape[0] >= 1:
            if (inv_mass != inv_mass[:1]).any():
                raise ValueError("state['inv_mass'] must have equal rows (one preconditioner "
                                 "for every chain)")
            inv_mass = inv_mass[0]
        if inv_mass.shape != (self.dim,) or (inv_mass <= 0).any():
            raise ValueError(f"state['inv_mass'] must hold {self.dim} positive numbers (per "
                             f"chain or once), got shape {inv_mass.shape}")
        step = np.asarray(state["step_size"], dtype=np.float64)
        if step.ndim != 0:
            raise ValueError(f"state['step_size'] must be a scalar, got shape {step.shape}")
        step = _check_scalar(float(step), "state['step_size']", positive=True)
        x = np.ascontiguousarray(x, dtype=np.float64).copy()
        lp, g = self.model.log_prob_and_grad(x, n_threads=effective_n_threads(self.n_threads))
        return x, lp, g, inv_mass.copy(), step

    def _set_chain_state(self, checked):
        self.x, self.log_prob, self.grad, self.inv_mass, self.step_size = checked

    def set_state(self, state):
        """Restore a :meth:`get_state` dict (the same target and ``n_chains``).

        Every field is checked before anything changes. States written before
        the samplers joined the core (``format_version`` 1, kind
        ``"continuous.<algorithm>"``, temperature 1) are read too.

        Examples
        --------
        >>> import numpy as np
        >>> from heatbath.continuous import Gaussian, MALA
        >>> a = MALA(Gaussian(np.zeros(2), np.ones(2)), n_chains=3, seed=0)
        >>> b = MALA(Gaussian(np.zeros(2), np.ones(2)), n_chains=3, seed=1)
        >>> b.set_state(a.get_state())
        >>> bool((a.run(5)["log_prob"] == b.run(5)["log_prob"]).all())
        True
        """
        if isinstance(state, dict) and str(state.get("kind", "")).startswith("continuous."):
            try:
                old = int(state["format_version"]) == 1
            except (KeyError, TypeError, ValueError):
                old = False
            if old:
                if state["kind"] != f"continuous.{self.algorithm}":
                    raise ValueError(f"state is from a {state['kind']}, not a {self._kind}")
                state = {**state, "format_version": STATE_FORMAT_VERSION, "kind": self._kind,
                         "temperature": np.ones(self.n_chains)}
        super().set_state(state)

    def _start_run(self, burn_in, n_sweeps, thin, record_states):
        self._record = bool(record_states)
        self._burn = _BurnIn(self, burn_in) if (burn_in and self.adapt and
                                                self.target_accept is not None) else None
        # A run cut off and resumed (heatbath.distributed's checkpoints) carries on the
        # acceptance sums of the steps it already recorded, so its mean is the whole run's.
        carry, self._run_carry = self._run_carry, None
        self._acc_sum = np.zeros(self.n_chains) if carry is None else \
            np.array(carry[0], dtype=np.float64)
        self._recorded_steps = n_sweeps + (0 if carry is None else int(carry[1]))

    def _run_info(self):
        return {"step_size": self.step_size, "inv_mass": self.inv_mass.copy(),
                "n_leapfrog": self.n_leapfrog, "algorithm": self.algorithm,
                "mean_accept_prob": self._acc_sum / max(self._recorded_steps, 1)}

    def _sweeps(self, burn_in, n_sweeps, thin, n_threads):
        self._threads_now = n_threads
        if burn_in:
            self._burn_in(burn_in)
        n_rec = n_sweeps // thin
        lp_rec = np.empty((n_rec, self.n_chains))
        rec_x = np.empty((n_rec, self.n_chains, self.dim)) if self._record else None
        # the kernels add each step's acceptance probability to the run's sums in place:
        # the same bits however the run is cut into pieces
        acc_prob = self._acc_sum
        n_acc = np.zeros(self.n_chains, dtype=np.int64)
        if n_sweeps:
            self._advance(n_sweeps, acc_prob, n_acc, thin, rec_x, lp_rec)
        obs = {"log_prob": lp_rec}
        if rec_x is not None:
            obs["states"] = rec_x
        # the acceptance counts exclude burn-in (tuning): they describe the frozen kernel
        return obs, {"accepted": n_acc,
                     "attempted": np.full(self.n_chains, n_sweeps, dtype=np.int64)}

    # -- compatibility -----------------------------------------------------------
    @property
    def stream_state(self):
        """The per-chain stream states (n_chains, 4), a copy (also in :meth:`get_state`)."""
        return self._streams.copy()

    # -- one step (or n) of the kernel, frozen settings --------------------
    @property
    def n_leapfrog(self):
        return 1

    def _threads(self, n_steps):
        # n_threads=None: all cores, but only when each thread gets enough work
        # to pay for waking it (a short burn-in step on few chains does not).
        # The thread count never changes the bits.
        if self.n_threads is not None:
            return self._threads_now
        work = self.n_chains * self.dim * self.n_leapfrog * n_steps
        return max(1, min(self._threads_now, work // 20_000))

    def _advance(self, n_steps, acc_prob, n_acc, thin=0, rec_x=None, rec_lp=None):
        if self.model.compiled:
            # the kernel table's entry (resolved per call: nothing unpicklable is kept)
            kernel = resolve(lookup("continuous", self.algorithm, "compiled").kernel)
            if self._work is None or self._work.shape != (self.n_chains, 3 * self.dim):
                self._work = np.empty((self.n_chains, 3 * self.dim))
            kernel(self.model._ctarget, _CODES[self.algorithm], self.x, self.log_prob,
                       self.grad, self._streams, self._beta, self.step_size,
                       np.ascontiguousarray(self.inv_mass, dtype=np.float64), self.n_leapfrog,
                       n_steps, self._work, acc_prob, n_acc, thin,
                       _EMPTY3 if rec_x is None else rec_x, _EMPTY2 if rec_lp is None else rec_lp,
                       self._threads(n_steps))
            return
        for s in range(n_steps):
            self._numpy_step(acc_prob, n_acc)
            if thin and (s + 1) % thin == 0:
                k = (s + 1) // thin - 1
                rec_lp[k] = self.log_prob
                if rec_x is not None:
                    rec_x[k] = self.x

    # The Python path draws on one thread unless n_threads was given: waking
    # threads for each step's draws costs more than it saves on a busy machine.
    def _draw_threads(self):
        return self._threads_now if self.n_threads is not None else 1

    def _normals(self):
        return _random.standard_normal(self._streams, self.dim, n_threads=self._draw_threads())

    def _uniforms(self):
        return _random.random(self._streams, 1, n_threads=self._draw_threads())[:, 0]

    # Temperature on the Python path: beta multiplies exactly where the kernel's
    # does (c * beta before the other factors), and is skipped when every beta is 1.
    def _scaled(self, c):
        b = self._beta
        return c if (b == 1.0).all() else (c * b)[:, None]

    def _tempered(self, value):
        b = self._beta
        return value if (b == 1.0).all() else b * value

    def _finish(self, a, xp, lpp, gp, acc_prob, n_acc):
        acc_prob += a
        take = self._uniforms() < a
        self.x[take], self.log_prob[take], self.grad[take] = xp[take], lpp[take], gp[take]
        n_acc += take

    # -- run -----------------------------------------------------------------
    def run(self, n_sweeps, burn_in=0, thin=1, verbose=False, record_samples=True, *,
            record_states=None):
        """Run ``burn_in`` tuning steps, then ``n_sweeps`` recorded steps.

        Parameters
        ----------
        n_sweeps : int
            Steps after burn-in; every ``thin``-th is recorded.
        burn_in : int, default=0
            Tuning steps (step size, preconditioner), not recorded; the
            settings are frozen after them.
        thin : int, default=1
        verbose : bool, default=False
            A progress bar; changes no number.
        record_samples : bool, default=True
            Record the positions (``record_states``, the core's name, overrides it).

        Returns
        -------
        heatbath.diagnostics.Trace
            ``observables["log_prob"]`` (n_recorded, n_chains), the target's
            untempered log density; ``states`` (also ``info["samples"]``),
            the positions (n_recorded, n_chains, dim) when recorded;
            ``info["step_size"]``, ``info["inv_mass"]``, ``info["n_leapfrog"]``,
            ``info["mean_accept_prob"]``; ``acceptance_rate`` per chain over the
            recorded steps (burn-in, the tuning, excluded; NaN without any).
            ``trace.to_arviz()`` exports it.

        Examples
        --------
        >>> import numpy as np
        >>> from heatbath.continuous import Gaussian, RWM
        >>> s = RWM(Gaussian(np.zeros(2), np.ones(2)), n_chains=4, seed=0)
        >>> tr = s.run(10, burn_in=20, thin=2)
        >>> tr.states.shape, tr["log_prob"].shape, s.n_sweeps_done
        ((5, 4, 2), (5, 4), 30)
        """
        record = record_samples if record_states is None else record_states
        trace = super().run(n_sweeps, burn_in, thin, verbose, record_states=bool(record))
        if trace.states is not None:
            trace.info["samples"] = trace.states
        return trace

    def _burn_in(self, n):
        if self._burn is None:          # no tuning: the frozen kernel
            acc_prob = np.zeros(self.n_chains)
            self._advance(n, acc_prob, np.zeros(self.n_chains, dtype=np.int64))
            return
        plan = self._burn
        acc_prob = np.zeros(self.n_chains)
        n_acc = np.zeros(self.n_chains, dtype=np.int64)
        for s in range(plan.done, plan.done + n):
            acc_prob[:] = 0.0
            self.step_size = plan.da.step_size
            self._advance(1, acc_prob, n_acc)
            plan.da.update(float(acc_prob.sum()) / self.n_chains)
            if plan.first <= s < plan.last:
                plan.var.add(self.x)
                if s + 1 in plan.ends:
                    self.inv_mass = plan.var.regularised()
                    plan.var.reset()
                    plan.da.restart(plan.da.step_size)
        plan.done += n
        if plan.done == plan.n:
            self.step_size = plan.da.final_step_size
            self._burn = None

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
        a = _accept(self._tempered(lpp - self.log_prob))
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
        tb = self._scaled(tau)          # tau * beta: the drift of the tempered density
        z = self._normals()
        unit = not (m != 1.0).any()     # skip the preconditioner's products (exact: m = 1)
        if unit:
            xp = self.x + tb * self.grad + math.sqrt(2.0 * tau) * z
        else:
            xp = self.x + tb * m * self.grad + math.sqrt(2.0 * tau) * np.sqrt(m) * z
        lpp, gp = self.model.log_prob_and_grad(xp)
        if unit:
            t = self.x - xp - tb * gp
            rev = np.einsum("ij,ij->i", t, t)
        else:
            t = self.x - xp - tb * m * gp
            rev = (t * t / m).sum(axis=1)
        a = _accept(self._tempered(lpp - self.log_prob) - rev / (4.0 * tau)
                    + 0.5 * np.einsum("ij,ij->i", z, z))
        self._finish(a, xp, lpp, gp, acc_prob, n_acc)


class ULA(MALA):
    """Unadjusted Langevin: MALA's move without the accept test. BIASED by design.

    Its stationary law is not the target: for a Gaussian N(0, s^2) with step
    tau (m = 1) the chain is the AR(1) x' = (1 - tau/s^2) x + sqrt(2 tau) z,
    whose stationary variance is s^2 / (1 - tau / (2 s^2)): too wide by a
    factor that grows with tau (at temperature T, put T s^2 for s^2). The
    step is never tuned (there is no acceptance to tune to); choose it small
    against the target's scale.

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
        self.x += (self._scaled(tau) * m * self.grad
                   + math.sqrt(2.0 * tau) * np.sqrt(m) * self._normals())
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

    def __init__(self, model, *, temperature=1.0, n_chains=1, seed=None, n_threads=None,
                 step_size=None, init=None, adapt=True, target_accept=None, path_length=1.0,
                 max_leapfrog=1024):
        self.path_length = _check_scalar(path_length, "path_length", positive=True)
        self.max_leapfrog = check_int(max_leapfrog, "max_leapfrog", minimum=1)
        super().__init__(model, temperature=temperature, n_chains=n_chains, seed=seed,
                         n_threads=n_threads, step_size=step_size, init=init, adapt=adapt,
                         target_accept=target_accept)

    @property
    def n_leapfrog(self):
        return int(min(self.max_leapfrog, max(1, round(self.path_length / self.step_size))))

    def _numpy_step(self, acc_prob, n_acc):
        m, eps, half = self.inv_mass, self.step_size, self._scaled(0.5 * self.step_size)
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
        a = _accept((self._tempered(lpp) - 0.5 * k1)
                    - (self._tempered(self.log_prob) - 0.5 * k0))
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
