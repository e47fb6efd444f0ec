r"""How good is an RBM? Exact and annealed log Z, log-likelihood, pseudo-likelihood.

- :func:`exact_log_partition`: enumerate the discrete layer with fewer states
  (the other is summed out analytically), in chunks, parallel over chunks,
  summed by log-sum-exp in a fixed order (so any thread count gives the same
  bits). Up to :data:`MAX_EXACT_STATES` states (25 binary units).
- :func:`ais`: annealed importance sampling (Neal 2001; Salakhutdinov &
  Murray 2008) from a base-rate model, with a standard error and the
  effective sample size of the weights. Its log Z is a stochastic **lower**
  bound: E[Z_hat] = Z, so E[log Z_hat] <= log Z.
- :func:`reverse_ais`: the same path run backwards from data (RAISE; Burda,
  Grosse & Salakhutdinov 2015). Per data point it is an unbiased estimate of
  the likelihood of the annealing model, so its log-likelihood is a
  stochastic **lower** bound, and the log Z it implies is an **upper** bound
  when the data are model samples. With :func:`ais` it brackets log Z.
- :func:`pseudo_likelihood`: the exact all-site pseudo-likelihood
  :math:`\sum_i \log p(v_i \mid v_{-i})` (every site, every value: not the
  one-random-bit estimate of scikit-learn).

The annealing path. For :math:`\beta \in [0, 1]` the intermediate model is
the RBM with weights :math:`\beta W`, visible biases
:math:`(1-\beta) a_0 + \beta a` and hidden biases :math:`\beta b`, where
:math:`a_0` are the base-rate biases (from the data's unit means, or the
model's own visible biases when no data are given). At :math:`\beta = 0` the
units are independent, so :math:`\log Z_0` is exact and exact samples are
cheap; at :math:`\beta = 1` it is the model. The transitions are block-Gibbs
steps of the intermediate models (reversible on v, so the same kernels serve
both directions), one random stream per run.
"""

import numpy as np
from scipy.special import gammaln, logsumexp

from heatbath import _random
from heatbath._openmp import effective_n_threads
from heatbath._sampler import progress
from heatbath._validation import MAX_ELEMENTS, check_int, check_real_array
from heatbath.rbm._layers import (ROW_TILE, _row_blocks, matmul, run_parallel, sample_,
                                  single_threaded_blas)
from heatbath.rbm.units import Bernoulli, Gaussian, Poisson, Softmax, softplus

__all__ = ["Estimate", "MAX_EXACT_STATES", "exact_log_partition", "ais", "reverse_ais",
           "ais_schedule", "base_rate_bias", "log_likelihood", "pseudo_likelihood"]

#: The most states :func:`exact_log_partition` enumerates (25 binary units).
MAX_EXACT_STATES = 2**25


class Estimate(float):
    """A float with its standard error and how it was made.

    It behaves as the estimate itself in arithmetic; the attributes say how
    far to trust it.

    Attributes
    ----------
    stderr : float
        Standard error (0 for exact values). For AIS: the delta-method error
        of the log of the mean importance weight, ``std(w) / (sqrt(n) mean(w))``.
    ess : float
        Effective sample size of the importance weights,
        ``(sum w)**2 / sum w**2`` (n_runs when exact).
    method : str
    n_runs, n_betas : int
    log_weights : ndarray or None
        Log importance weights of the runs (AIS methods).
    base_log_z : float or None
        Exact log Z of the base-rate model (AIS methods): with ``log_weights``
        it makes the estimate, so that :meth:`concatenate` can join blocks of
        runs.

    Examples
    --------
    >>> from heatbath.rbm.estimators import Estimate
    >>> e = Estimate(-3.5, stderr=0.02, method="ais")
    >>> e + 1, e.stderr
    (-2.5, 0.02)
    """

    def __new__(cls, value, stderr=0.0, ess=float("nan"), method="exact", n_runs=0,
                n_betas=0, log_weights=None, base_log_z=None):
        obj = super().__new__(cls, value)
        obj.stderr, obj.ess, obj.method = float(stderr), float(ess), method
        obj.n_runs, obj.n_betas, obj.log_weights = int(n_runs), int(n_betas), log_weights
        obj.base_log_z = base_log_z
        return obj

    def __repr__(self):
        return f"Estimate({float(self)!r}, stderr={self.stderr:.3g}, method={self.method!r})"

    def __reduce__(self):
        return (Estimate, (float(self), self.stderr, self.ess, self.method, self.n_runs,
                           self.n_betas, self.log_weights, self.base_log_z))

    @classmethod
    def concatenate(cls, estimates):
        """Join AIS estimates made of disjoint blocks of runs into the estimate of all the runs.

        The blocks must come from the same model, base-rate biases and
        schedule (so the same ``base_log_z`` and ``n_betas``), in the order of
        their runs; the result equals, bit for bit, one call that ran every
        run (:mod:`heatbath.distributed` relies on it).

        Examples
        --------
        >>> import numpy as np
        >>> from heatbath import RBM
        >>> from heatbath.rbm.estimators import Estimate, ais
        >>> rbm = RBM(6, 3, seed=0)
        >>> ss = np.random.SeedSequence(5)
        >>> whole = ais(rbm, n_runs=4, n_betas=50, seed=5)
        >>> parts = [ais(rbm, n_runs=2, n_betas=50, seed=np.random.SeedSequence(
        ...     ss.entropy, n_children_spawned=k)) for k in (0, 2)]
        >>> float(Estimate.concatenate(parts)) == float(whole)
        True
        """
        estimates = list(estimates)
        if not estimates or not all(isinstance(e, Estimate) for e in estimates):
            raise TypeError("estimates must be a non-empty sequence of Estimate objects")
        first = estimates[0]
        for e in estimates:
            if e.method not in ("ais", "reverse_ais") or e.log_weights is None \
                    or e.base_log_z is None:
                raise ValueError(f"only AIS estimates with their log weights join; got a "
                                 f"{e.method!r} estimate")
            if (e.method, e.n_betas, e.base_log_z) != (first.method, first.n_betas,
                                                       first.base_log_z):
                raise ValueError("the estimates differ in method, n_betas or base model: they "
                                 "are not blocks of one AIS run")
        log_w = np.concatenate([np.asarray(e.log_weights, dtype=float) for e in estimates])
        return _estimate(first.method, first.base_log_z, log_w, first.n_betas)


# -- exact enumeration -------------------------------------------------------
def _enumeration_plan(model):
    """(layer, unit, n_units, n_states) of the discrete layer with fewer states."""
    options = []
    for layer, unit, n in (("visible", model.visible, model.n_visible),
                           ("hidden", model.hidden, model.n_hidden)):
        if unit.enumerable:
            vals = np.asarray(unit.values())
            per = 1 if vals.ndim == 1 else vals.shape[1]
            options.append((len(vals) ** (n // per), layer, unit, n))
    if not options:
        raise ValueError("exact log Z needs a layer with finitely many states (bernoulli, "
                         "spin, binomial or softmax units); this model has none "
                         "(use method='ais')")
    count, layer, unit, n = min(options, key=lambda o: o[0])
    return layer, unit, n, count


def _states(unit, n_units, start, stop):
    """States number start..stop-1 of a layer, in mixed-radix order, float64."""
    vals = np.asarray(unit.values(), dtype=float)
    if vals.ndim == 1:
        vals = vals[:, None]
    m, per = vals.shape
    groups = n_units // per
    idx = np.arange(start, stop, dtype=np.int64)
    digits = np.empty((idx.size, groups), dtype=np.int64)
    for g in range(groups - 1, -1, -1):
        idx, digits[:, g] = np.divmod(idx, m)
    return vals[digits].reshape(digits.shape[0], n_units)


def exact_log_partition(model, n_threads=None, chunk_size=2**14):
    """Exact log Z: enumerate the smaller discrete layer, sum the other out.

    The states are cut into chunks of ``chunk_size``; each chunk's log-sum-exp
    is computed on its own thread (BLAS pinned to one thread), and the chunks
    are combined in order, so the result does not depend on ``n_threads``.

    Raises
    ------
    ValueError
        If the smaller layer has more than :data:`MAX_EXACT_STATES` states
        (about 25 binary units): use ``method="ais"``.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath import RBM
    >>> from heatbath.rbm.estimators import exact_log_partition
    >>> rbm = RBM(3, 2).set_parameters(weights=np.zeros((3, 2)))
    >>> round(exact_log_partition(rbm), 6)   # no couplings: log 2**5
    3.465736
    """
    layer, unit, n, count = _enumeration_plan(model)
    if count > MAX_EXACT_STATES:
        raise ValueError(
            f"exact log Z would enumerate {count} states of the {n} {unit} {layer} units; "
            f"the limit is {MAX_EXACT_STATES} (about 25 binary units). Use "
            f"log_partition(method='ais') for this model.")
    chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
    n_threads = effective_n_threads(n_threads)
    W = model.weights.astype(float)
    a, b = model.visible_bias.astype(float), model.hidden_bias.astype(float)
    if layer == "visible":
        own_bias, other, other_bias, M = a, model.hidden, b, W
    else:
        own_bias, other, other_bias, M = b, model.visible, a, W.T

    def chunk(start):
        S = _states(unit, n, start, min(start + chunk_size, count))
        neg_free = other.log_partition(S @ M, other_bias) - unit.phi(S, own_bias).sum(axis=1)
        return logsumexp(neg_free)

    with single_threaded_blas():
        parts = run_parallel([lambda s=s: chunk(s) for s in range(0, count, chunk_size)],
                             n_threads)
    return Estimate(logsumexp(parts), 0.0, float("nan"), "exact")


# -- annealed importance sampling ------------------------------------------------
def ais_schedule(n_betas=10000, schedule="sigmoid"):
    """Inverse temperatures from 0 to 1 for AIS.

    Parameters
    ----------
    n_betas : int >= 2
        Number of distributions, both ends included (n_betas - 1 transitions).
    schedule : {"sigmoid", "linear"} or array_like
        ``"sigmoid"`` spaces the betas as sigmoid(t) for t evenly spaced in
        [-4, 4], rescaled to [0, 1] (denser at both ends; Grosse, Maddison &
        Salakhutdinov 2013). An array is used as given: it must rise from 0
        to 1.

    Examples
    --------
    >>> from heatbath.rbm.estimators import ais_schedule
    >>> ais_schedule(5, "linear")
    array([0.  , 0.25, 0.5 , 0.75, 1.  ])
    """
    if isinstance(schedule, str):
        n = check_int(n_betas, "n_betas", minimum=2, maximum=10**8)
        if schedule == "linear":
            betas = np.linspace(0.0, 1.0, n)
        elif schedule == "sigmoid":
            s = 1.0 / (1.0 + np.exp(-np.linspace(-4.0, 4.0, n)))
            betas = (s - s[0]) / (s[-1] - s[0])
        else:
            raise ValueError(f"schedule must be 'sigmoid', 'linear' or an array, got "
                             f"{schedule!r}")
        betas[0], betas[-1] = 0.0, 1.0
        return betas
    betas = check_real_array(schedule, "schedule", ndim=1)
    if betas.size < 2 or betas[0] != 0.0 or betas[-1] != 1.0 or np.any(np.diff(betas) < 0):
        raise ValueError("schedule must be non-decreasing from exactly 0 to exactly 1, "
                         "with at least 2 entries")
    return betas


class _Path:
    """The annealing path between the base-rate model and ``model``."""

    def __init__(self, model, base_bias, n_threads):
        self.model, self.n_threads = model, n_threads
        self.W = model.weights
        self.a0 = np.asarray(base_bias, dtype=float)
        self.da = model.visible_bias.astype(float) - self.a0
        self.b = model.hidden_bias.astype(float)
        self.gaussian = isinstance(model.visible, Gaussian)
        z = np.zeros((1, model.n_visible))
        self.log_z0 = float(model.visible.log_partition(z, self.a0)[0]
                            + model.hidden.log_partition(np.zeros((1, model.n_hidden)),
                                                         np.zeros(model.n_hidden))[0])

    def increment(self, new, old, v, c):
        """log f_new(v) - log f_old(v) per row, f_beta the unnormalised p_beta(v).

        ``c = v @ W``. Visible unit terms are linear in the bias (the base
        measure cancels between betas), plus -|m|^2/2 for gaussian units;
        the hidden log-partitions run on n_threads threads (rows are
        independent, so the split changes no number).
        """
        m_new, m_old = self.a0 + new * self.da, self.a0 + old * self.da
        # A row-wise sum, not v @ (...): BLAS gemv sums a row differently by its
        # position (vector body or tail), and runs split in blocks over workers
        # must give each run the same bits (heatbath.distributed).
        out = np.multiply(v, m_new - m_old).sum(axis=1)
        if self.gaussian:
            out -= 0.5 * (m_new @ m_new - m_old @ m_old)
        hidden = self.model.hidden

        def rows(r):
            out[r] += (hidden.log_partition(new * c[r], new * self.b)
                       - hidden.log_partition(old * c[r], old * self.b))

        run_parallel([lambda r=r: rows(r) for r in _row_blocks(c, self.n_threads)],
                     self.n_threads)
        return out

    def gibbs(self, beta, v, c, h, streams):
        """One block-Gibbs step of p_beta from v (c = v @ W); v, h overwritten."""
        m, dt = self.model, self.W.dtype
        ones = np.ones(v.shape[0])
        x = np.ascontiguousarray((beta * (self.b + c)).astype(dt))
        sample_(x, h, m.hidden, ones, streams, self.n_threads)
        x = matmul(h, self.W.T, self.n_threads, row_tile=ROW_TILE)
        x *= dt.type(beta)
        x += (self.a0 + beta * self.da).astype(dt)
        sample_(x, v, m.visible, ones, streams, self.n_threads)
        return matmul(v, self.W, self.n_threads, row_tile=ROW_TILE)


def _summary(log_w):
    """log mean exp(log_w), its delta-method standard error, and the ESS."""
    r = np.exp(log_w - log_w.max())
    n = log_w.size
    mean = r.mean()
    stderr = r.std(ddof=1) / (np.sqrt(n) * mean) if n > 1 else float("inf")
    return float(logsumexp(log_w) - np.log(n)), float(stderr), float(r.sum() ** 2 / (r @ r))


def _estimate(method, log_z0, log_w, n_betas):
    """The Estimate of log Z from the runs' log weights (AIS: low; reverse AIS: high)."""
    value, stderr, ess = _summary(log_w)
    log_z = log_z0 + value if method == "ais" else log_z0 - value
    return Estimate(log_z, stderr, ess, method, log_w.size, n_betas, log_w, base_log_z=log_z0)


def base_rate_bias(model, data=None):
    """Visible biases of the AIS base-rate model: matched to ``data``'s unit means.

    Without data they are the model's own visible biases. :func:`ais` computes
    them from ``data``; pass them as ``base_bias`` to avoid shipping the data
    (as :func:`heatbath.distributed.ais` does).

    Examples
    --------
    >>> from heatbath import RBM
    >>> from heatbath.rbm.estimators import base_rate_bias
    >>> base_rate_bias(RBM(2, 1), [[1, 0], [1, 0], [1, 1]]).round(3)
    array([ 1.946, -0.511])
    """
    if data is None:
        return model.visible_bias.astype(float)
    V = model._check_layer(data, "visible", "data")
    return model.visible.bias_from_data(V)


def ais(model, n_runs=100, n_betas=10000, schedule="sigmoid", data=None, seed=None,
        n_threads=None, verbose=False, *, base_bias=None):
    """log Z by annealed importance sampling from a base-rate model.

    Parameters
    ----------
    model : RBM
    n_runs : int
        Independent annealing runs (chains), each with its own stream.
    n_betas, schedule
        See :func:`ais_schedule`.
    data : array_like, optional
        Training data: the base model's visible biases match its unit means
        (Salakhutdinov & Murray 2008). Without it the base model keeps the
        model's visible biases.
    seed : None, int, SeedSequence or Generator
    n_threads : int or None
        BLAS threads for the products (the result does not depend on it).
    verbose : bool
        Progress bar.
    base_bias : array_like (n_visible,), optional
        The base model's visible biases, instead of ``data``
        (:func:`base_rate_bias`).

    Returns
    -------
    Estimate
        log Z with ``stderr``, ``ess`` and the runs' ``log_weights``.
        E[exp(estimate)] = Z, so the estimate is low on average (Jensen).

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath import RBM
    >>> rbm = RBM(8, 4, seed=0)
    >>> est = rbm.log_partition("ais", n_runs=50, n_betas=200, seed=1)
    >>> abs(est - rbm.log_partition()) < 4 * est.stderr + 1e-3
    True
    """
    n_runs = check_int(n_runs, "n_runs", minimum=1)
    if n_runs * max(model.n_visible, model.n_hidden) > MAX_ELEMENTS:
        raise ValueError("n_runs is too large for this model")
    betas = ais_schedule(n_betas, schedule)
    n_threads = effective_n_threads(n_threads)
    if base_bias is None:
        base_bias = base_rate_bias(model, data)
    elif data is not None:
        raise ValueError("give data or base_bias, not both")
    else:
        base_bias = check_real_array(base_bias, "base_bias", ndim=1).astype(float)
        if base_bias.shape != (model.n_visible,):
            raise ValueError(f"base_bias must have shape ({model.n_visible},), got "
                             f"{base_bias.shape}")
    path = _Path(model, base_bias, n_threads)
    log_w = _ais_runs(path, betas, seed, n_runs, verbose)
    return _estimate("ais", path.log_z0, log_w, betas.size)


def _ais_runs(path, betas, seed, n_runs, verbose=False, resume=None, save=None, every=None):
    """The AIS runs' log weights; ``resume`` / ``save`` continue a run cut off mid-way.

    The loop's state after step ``k`` (``{"k", "v", "c", "log_w", "streams"}``)
    is handed to ``save`` every ``every`` steps; given back as ``resume`` it
    continues the same runs bit for bit (heatbath.distributed's checkpoints).
    """
    model, n_threads = path.model, path.n_threads
    dt = model.dtype
    h = np.empty((n_runs, model.n_hidden), dtype=dt)
    if resume is None:
        streams = _random.spawn_states(seed, n_runs)
        v = np.empty((n_runs, model.n_visible), dtype=dt)
        x = np.empty_like(v)           # written in place by the draw: not a broadcast view
        x[...] = path.a0
        sample_(x, v, model.visible, np.ones(n_runs), streams, n_threads)   # exact draws, p_0
        log_w = np.zeros(n_runs)
        start, c = 1, None
    else:
        streams = np.array(resume["streams"], dtype=np.uint64)
        v = np.array(resume["v"], dtype=dt)
        c = np.array(resume["c"], dtype=dt)
        log_w = np.array(resume["log_w"], dtype=np.float64)
        start = int(resume["k"]) + 1
    with progress(verbose, betas.size - 1, unit="beta", desc="AIS", initial=start - 1) as bar, \
            single_threaded_blas(), np.errstate(over="ignore"):
        if c is None:
            c = matmul(v, path.W, n_threads, row_tile=ROW_TILE)
        for k in range(start, betas.size):
            log_w += path.increment(betas[k], betas[k - 1], v, c)
            if k < betas.size - 1:
                c = path.gibbs(betas[k], v, c, h, streams)
            bar.update(1)
            if save is not None and (k % every == 0 or k == betas.size - 1):
                save({"k": k, "v": v, "c": c, "log_w": log_w, "streams": streams})
    return log_w


def _reverse_runs(model, V, betas, base, seed, n_threads, verbose):
    """RAISE log weights for runs started at the rows of V (float64, per row)."""
    path = _Path(model, base, n_threads)
    dt = model.dtype
    streams = _random.spawn_states(seed, V.shape[0])
    v = np.array(V, dtype=dt, order="C", copy=True)
    h = np.empty((V.shape[0], model.n_hidden), dtype=dt)
    log_w = np.zeros(V.shape[0])
    with progress(verbose, betas.size - 1, unit="beta", desc="reverse AIS") as bar, \
            single_threaded_blas(), np.errstate(over="ignore"):
        c = matmul(v, path.W, n_threads, row_tile=ROW_TILE)
        for k in range(betas.size - 1, 0, -1):
            c = path.gibbs(betas[k], v, c, h, streams)
            log_w += path.increment(betas[k - 1], betas[k], v, c)
            bar.update(1)
    return path, log_w


def reverse_ais(model, data, n_runs=None, n_betas=10000, schedule="sigmoid", base_data=None,
                seed=None, n_threads=None, verbose=False):
    """log Z by reverse AIS started from data (RAISE): an upper bound on average.

    Each run starts at a data row and anneals back to the base model; the
    mean of its weights estimates 1/Z when the rows are samples of the
    model, so the estimate is high on average: with :func:`ais` (low on
    average) it brackets log Z. Seen per row it is RAISE's stochastic lower
    bound on log p(v) (see :func:`log_likelihood` with
    ``method="reverse_ais"``).

    Parameters
    ----------
    data : array_like (n_samples, n_visible)
        Start states. If there are more than ``n_runs`` rows, ``n_runs`` of
        them are picked at random (from ``seed``).
    n_runs : int, optional
        Default: every row.
    base_data : array_like, optional
        Data for the base-rate biases (default: ``data``).

    Returns
    -------
    Estimate

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath import RBM
    >>> rbm = RBM(8, 4, seed=0)
    >>> X = rbm.sample(200, 20, seed=2)
    >>> est = rbm.log_partition("reverse_ais", data=X, n_betas=200, seed=1)
    >>> abs(est - rbm.log_partition()) < 4 * est.stderr + 1e-3
    True
    """
    V = model._check_layer(data, "visible", "data")
    root = _random.as_seed_sequence(seed)
    pick_seed, run_seed = root.spawn(2)
    if n_runs is not None:
        n_runs = check_int(n_runs, "n_runs", minimum=1)
        if V.shape[0] > n_runs:
            rows = np.random.Generator(np.random.SFC64(pick_seed)).choice(
                V.shape[0], n_runs, replace=False)
            V = V[np.sort(rows)]
    betas = ais_schedule(n_betas, schedule)
    base = base_rate_bias(model, V if base_data is None else base_data)
    path, log_w = _reverse_runs(model, V, betas, base, run_seed,
                                effective_n_threads(n_threads), verbose)
    return _estimate("reverse_ais", path.log_z0, log_w, betas.size)


def log_likelihood(model, X, method="exact", **kwargs):
    """Mean log p(v) over the rows of X: -F(v) - log Z.

    Parameters
    ----------
    X : array_like (n_samples, n_visible)
    method : {"exact", "ais", "reverse_ais"}
        ``"exact"`` and ``"ais"`` use :meth:`RBM.log_partition`; the error
        of an AIS estimate is that of its log Z. ``"reverse_ais"`` runs
        RAISE from every row: a stochastic lower bound on each log p(v);
        its ``stderr`` is that of the mean over rows.
    **kwargs
        Passed to :func:`ais` or :func:`reverse_ais`.

    Returns
    -------
    Estimate

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath import RBM
    >>> rbm = RBM(3, 2).set_parameters(weights=np.zeros((3, 2)))
    >>> round(rbm.log_likelihood(np.ones((4, 3))), 6)   # 3 fair coins: 3 log(1/2)
    -2.079442
    """
    V = model._check_layer(X, "visible", "X")
    neg_free = -model.free_energy(V)
    if method in ("exact", "ais"):
        log_z = model.log_partition(method, **kwargs)
        return Estimate(neg_free.mean() - log_z, log_z.stderr, log_z.ess, method,
                        log_z.n_runs, log_z.n_betas, log_z.log_weights)
    if method != "reverse_ais":
        raise ValueError(f"method must be 'exact', 'ais' or 'reverse_ais', got {method!r}")
    n_betas = kwargs.pop("n_betas", 10000)
    schedule = kwargs.pop("schedule", "sigmoid")
    seed = kwargs.pop("seed", None)
    base_data = kwargs.pop("base_data", None)
    n_threads, verbose = kwargs.pop("n_threads", None), kwargs.pop("verbose", False)
    if kwargs:
        raise TypeError(f"unexpected arguments for reverse_ais: {sorted(kwargs)}")
    betas = ais_schedule(n_betas, schedule)
    base = base_rate_bias(model, V if base_data is None else base_data)
    path, log_w = _reverse_runs(model, V, betas, base, seed, effective_n_threads(n_threads),
                                verbose)
    per_row = neg_free - path.log_z0 + log_w
    stderr = per_row.std(ddof=1) / np.sqrt(per_row.size) if per_row.size > 1 else np.inf
    _, _, ess = _summary(log_w)
    return Estimate(per_row.mean(), stderr, ess, "reverse_ais", V.shape[0], betas.size, log_w)


# -- pseudo-likelihood ---------------------------------------------------------------
def pseudo_likelihood(model, X, per_site=False, max_elements=2**23, *, n_threads=None,
                      probabilities=False):
    r"""Exact pseudo-likelihood: :math:`\sum_i \log p(v_i \mid v_{-i})` per row.

    Every site and every value of it is evaluated exactly (a softmax group
    counts as one site). Changing site i by d changes ``v @ W`` by
    ``d * W[i]``, so each conditional costs one pass over the hidden units.
    Poisson sites sum their counts up to a point where the rest is proven to
    weigh less than :data:`POISSON_PL_TAIL` (1e-12) of the sum.

    Parameters
    ----------
    X : array_like (n_samples, n_visible)
    per_site : bool
        Return the terms, shape (n_samples, n_sites), instead of their sums.
    max_elements : int
        Work-array size per chunk of sites.
    n_threads : int or None
        Threads for the product ``X @ W`` (the same bits for any count).
    probabilities : bool
        Bernoulli visible units only: X may hold probabilities in [0, 1]
        (grey levels, scikit-learn's convention); each term is then its
        expectation over v_i ~ Bernoulli(X_i).

    Returns
    -------
    ndarray, shape (n_samples,) or (n_samples, n_sites)

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath import RBM
    >>> rbm = RBM(3, 2).set_parameters(weights=np.zeros((3, 2)))
    >>> rbm.pseudo_likelihood(np.ones((2, 3))).round(6)   # 3 log(1/2) per row
    array([-2.079442, -2.079442])
    """
    unit = model.visible
    if not unit.discrete:
        raise ValueError("pseudo-likelihood needs discrete visible units; gaussian units "
                         "have a density (use log_likelihood)")
    n_threads = effective_n_threads(n_threads)
    if probabilities:
        from heatbath.rbm.train import check_data

        V = check_data(model, X, "any")
    else:
        V = model._check_layer(X, "visible", "X")
    if isinstance(unit, Bernoulli):
        return _bernoulli_pseudo_likelihood(model, V, per_site, max_elements, n_threads)
    if isinstance(unit, Poisson):
        return _poisson_pseudo_likelihood(model, V, per_site, max_elements, n_threads)
    W = model.weights.astype(float)
    a, b = model.visible_bias.astype(float), model.hidden_bias.astype(float)
    n, nh = V.shape[0], model.n_hidden
    c = matmul(V, W, n_threads)
    if isinstance(unit, Softmax):
        k = unit.param
        sites = np.arange(model.n_visible).reshape(-1, k)        # (groups, k)
    else:
        k = len(unit.values())
        sites = np.arange(model.n_visible)[:, None]
    n_sites = sites.shape[0]
    step = max(1, max_elements // max(1, n * nh))
    out = np.empty((n, n_sites))
    with np.errstate(over="ignore"):
        for s0 in range(0, n_sites, step):
            idx = sites[s0:s0 + step]                             # (s, per)
            scores = _site_scores(unit, model.hidden, V, c, W, a, b, idx, k)  # (n, s, k)
            current = _current_choice(unit, V, idx)                # (n, s)
            own = np.take_along_axis(scores, current[:, :, None], axis=2)[:, :, 0]
            out[:, s0:s0 + step] = own - logsumexp(scores, axis=2)
    return out if per_site else out.sum(axis=1)


def _bernoulli_pseudo_likelihood(model, V, per_site=False, max_elements=2**23, n_threads=1):
    """Pseudo-likelihood for bernoulli visible units; V may hold probabilities in [0, 1].

    With d_i = log p(v_i = 1 | v_-i) - log p(v_i = 0 | v_-i), each term is
    v_i log sigmoid(d_i) + (1 - v_i) log sigmoid(-d_i): exactly
    log p(v_i | v_-i) for binary v, and its expectation over v_i ~
    Bernoulli(v_i) for probabilities (the convention of scikit-learn's
    BernoulliRBM, whose data may be grey levels).
    """
    W = model.weights.astype(float)
    a, b = model.visible_bias.astype(float), model.hidden_bias.astype(float)
    n, nh = V.shape[0], model.n_hidden
    V = np.asarray(V, dtype=float)
    c = matmul(V, W, n_threads)
    hidden = model.hidden
    step = max(1, max_elements // max(1, n * nh))
    out = np.empty(V.shape)
    with np.errstate(over="ignore"):
        for s0 in range(0, model.n_visible, step):
            cols = slice(s0, s0 + step)
            v = V[:, cols][:, :, None]
            on = hidden.log_partition(c[:, None, :] + (1 - v) * W[cols][None], b)
            off = hidden.log_partition(c[:, None, :] - v * W[cols][None], b)
            d = a[cols][None] + on - off
            out[:, cols] = -(V[:, cols] * softplus(-d) + (1 - V[:, cols]) * softplus(d))
    return out if per_site else out.sum(axis=1)


#: Poisson pseudo-likelihood: the omitted counts of a site carry at most this
#: fraction of its conditional's normaliser (a proven bound, below).
POISSON_PL_TAIL = 1e-12
#: ... and a site sums at most this many counts (else ValueError).
POISSON_PL_MAX_COUNTS = 2**16


def _poisson_pseudo_likelihood(model, V, per_site, max_elements, n_threads):
    r"""Pseudo-likelihood for poisson visible units: each conditional summed over counts.

    Site i's conditional is :math:`p(v_i = v \mid v_{-i}) \propto e^{t(v)}`
    with :math:`t(v) = a_i v - \log v! + A_h(c_{-i} + v W_i)`. The hidden
    log-partition grows at most by :math:`s_i = \max_h W_i \cdot h` per
    count, so for :math:`v \ge K`, :math:`e^{t(v)} \le e^{t(K-1)} \mu^d (K-1)! / (K-1+d)!`
    with :math:`\mu = e^{a_i + s_i}`, d = v - K + 1, and the omitted tail is at most
    :math:`e^{t(K-1)} r / (1 - r)`, r = mu / K < 1. The sum runs over
    0..K-1 with K doubled until that bound is below :data:`POISSON_PL_TAIL`
    times the sum (each term is then exact to that relative error).
    """
    W = model.weights.astype(float)
    a, b = model.visible_bias.astype(float), model.hidden_bias.astype(float)
    hidden = model.hidden
    n, nv, nh = V.shape[0], model.n_visible, model.n_hidden
    V = np.asarray(V, dtype=float)
    c = matmul(V, W, n_threads)
    with np.errstate(over="ignore"):
        mu = np.exp(a + hidden.max_dot(W))
    out = np.empty(V.shape)
    log_tail = np.log(POISSON_PL_TAIL)
    with np.errstate(over="ignore"):
        for i in range(nv):
            counts = V[:, i].astype(np.int64)
            K = max(16, int(counts.max(initial=0)) + 1,
                    int(min(np.ceil(2.0 * mu[i]), 2.0 * POISSON_PL_MAX_COUNTS)) + 1)
            while True:
                if K > POISSON_PL_MAX_COUNTS:
                    raise ValueError(
                        f"the pseudo-likelihood of poisson visible unit {i} would sum more "
                        f"than {POISSON_PL_MAX_COUNTS} counts (its rate can reach "
                        f"{mu[i]:.3g}); use log_likelihood for this model")
                vals = np.arange(K, dtype=float)
                base = a[i] * vals - gammaln(vals + 1)
                rest = c - V[:, i:i + 1] * W[i]                     # (n, nh)
                scores = np.empty((n, K))
                step = max(1, max_elements // max(1, K * nh))
                for r0 in range(0, n, step):
                    x = rest[r0:r0 + step, None, :] + vals[None, :, None] * W[i][None, None]
                    scores[r0:r0 + step] = base + hidden.log_partition(x, b)
                lse = logsumexp(scores, axis=1)
                r = mu[i] / K
                bound = scores[:, -1] - lse + np.log(r / (1.0 - r))
                if np.all(bound <= log_tail):
                    break
                K *= 2
            out[:, i] = scores[np.arange(n), counts] - lse
    return out if per_site else out.sum(axis=1)


def _site_scores(unit, hidden, V, c, W, a, b, idx, k):
    """Unnormalised log p of each of the k values of each site in idx, (n, s, k)."""
    n, s = V.shape[0], idx.shape[0]
    scores = np.empty((n, s, k))
    if isinstance(unit, Softmax):
        # Value j of a group: one-hot at unit idx[g, j]. Its v @ W is c minus
        # the group's current contribution plus W[idx[g, j]].
        cur = np.einsum("ngk,gkh->ngh", V[:, idx], W[idx])        # (n, s, nh)
        for j in range(k):
            cj = c[:, None, :] - cur + W[idx[:, j]][None]
            scores[:, :, j] = a[idx[:, j]][None] + hidden.log_partition(cj, b)
        return scores
    cols = idx[:, 0]
    v = V[:, cols]                                                # (n, s)
    for j, val in enumerate(unit.values()):
        cj = c[:, None, :] + (val - v)[:, :, None] * W[cols][None]
        scores[:, :, j] = (-unit.phi(np.full_like(v, val), a[cols][None])
                           + hidden.log_partition(cj, b))
    return scores


def _current_choice(unit, V, idx):
    """Index of each site's current value among unit.values(), (n, s)."""
    if isinstance(unit, Softmax):
        return np.argmax(V[:, idx], axis=2)
    vals = np.asarray(unit.values())
    return np.searchsorted(vals, V[:, idx[:, 0]])
