"""Exact tools for finite-state Markov chains.

These build transition matrices that provably have a given stationary
distribution (Metropolis-Hastings, heat-bath), and analyse any row-stochastic
matrix exactly: stationary distribution, detailed balance, spectral gap,
mixing time. Tests hold the samplers of the package against them. The
:func:`simulate` loop runs in Cython, over many chains in parallel.

All matrices are dense; functions refuse more than ``MAX_DENSE_STATES`` states.
"""

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from heatbath import _markov
from heatbath._openmp import effective_n_threads
from heatbath._random import spawn_states
from heatbath._validation import MAX_ELEMENTS, check_int, check_real_array

__all__ = [
    "metropolis_hastings_matrix",
    "heat_bath_matrix",
    "stationary_distribution",
    "detailed_balance_violation",
    "spectral_gap",
    "mixing_time",
    "simulate",
]

#: Largest state space the dense tools accept (an n x n float64 matrix of
#: this size takes 2 GiB).
MAX_DENSE_STATES = 16384

# Rows of a stochastic matrix must sum to 1 within this, per row.
_ROW_SUM_ATOL = 1e-9


def _check_distribution(p, name="p", ndim=1):
    p = check_real_array(p, name, ndim=ndim, min_ndim=1 if ndim is None else None)
    if (p < 0).any():
        raise ValueError(f"{name} must be non-negative, got min {float(p.min())!r}")
    total = p.sum()
    if not total > 0 or not np.isfinite(total):
        raise ValueError(f"{name} must have a positive, finite sum, got {float(total)!r}")
    if p.size > MAX_DENSE_STATES:
        raise ValueError(
            f"{name} has {p.size} states; the dense tools accept at most {MAX_DENSE_STATES}"
        )
    return p / total


def _check_stochastic(P, name="P"):
    P = check_real_array(P, name, ndim=2)
    n = P.shape[0]
    if P.shape != (n, n):
        raise ValueError(f"{name} must be square, got shape {P.shape}")
    if n > MAX_DENSE_STATES:
        raise ValueError(f"{name} has {n} states; at most {MAX_DENSE_STATES} are accepted")
    if (P < 0).any():
        raise ValueError(f"{name} must be non-negative, got min {float(P.min())!r}")
    err = np.abs(P.sum(axis=1) - 1.0)
    if (err > _ROW_SUM_ATOL).any():
        row = int(np.argmax(err))
        raise ValueError(
            f"{name} must be row-stochastic (rows sum to 1 within {_ROW_SUM_ATOL}); "
            f"row {row} sums to {float(P[row].sum())!r}"
        )
    return P


def _closed_classes(P):
    """Closed communicating classes of the graph P > 0, as index arrays."""
    graph = csr_matrix(P > 0)
    n_comp, labels = connected_components(graph, directed=True, connection="strong")
    rows, cols = graph.nonzero()
    leaves = np.zeros(n_comp, dtype=bool)
    leaves[labels[rows][labels[rows] != labels[cols]]] = True
    return [np.flatnonzero(labels == k) for k in range(n_comp) if not leaves[k]]


def _require_unique_target(P, p, what):
    """Raise unless p's support is the one closed class of P (so p is unique)."""
    classes = _closed_classes(P)
    support = np.flatnonzero(p > 0)
    if len(classes) == 1 and np.array_equal(classes[0], support):
        return
    raise ValueError(
        f"{what}: the chain is not irreducible on the support of p "
        f"({len(classes)} closed class(es) of sizes {[len(c) for c in classes][:5]}, "
        f"support of size {support.size}); p would not be its unique stationary "
        "distribution. Give a proposal that can move between all states with p > 0 "
        "in both directions, and from every state with p = 0 into them."
    )


def _add_rejected_to_diagonal(P, Q):
    """Set the diagonal to Q's plus the proposal mass that moves rejected.

    Summing the non-negative rejected masses is more accurate than 1 - sum(row).
    """
    off = ~np.eye(P.shape[0], dtype=bool)
    rejected = np.where(off, Q - P, 0.0).sum(axis=1)
    np.fill_diagonal(P, np.diag(Q) + rejected)
    return P


def metropolis_hastings_matrix(p, proposal=None, *, method="closed_form",
                               max_iter=100, rtol=1e-12):
    r"""Metropolis-Hastings transition matrix for target ``p`` and a proposal.

    For :math:`x \ne y`,

    .. math:: P(x \to y) = Q(x \to y)\,\min\left(1,
              \frac{p(y)\,Q(y \to x)}{p(x)\,Q(x \to y)}\right),

    and the rejected mass stays on the diagonal. Then
    :math:`p(x)P(x \to y) = \min(p(x)Q(x \to y), p(y)Q(y \to x)) = p(y)P(y \to x)`:
    detailed balance holds, so ``p`` is stationary. From a state with
    ``p(x) = 0`` every proposal is accepted.

    Parameters
    ----------
    p : array_like, shape (n,)
        Target weights, non-negative with a positive sum (normalised here).
    proposal : array_like, shape (n, n), optional
        Row-stochastic proposal matrix Q. Default: uniform, ``Q = 1/n``.
    method : {"closed_form", "flow_balance"}, default="closed_form"
        ``"flow_balance"`` builds the same matrix iteratively: wherever the
        flow ratio :math:`A(x \to y) = p(y)Q(y \to x) / (p(x)Q(x \to y))` is
        below 1, scale :math:`Q(x \to y)` by it and move the removed mass to
        the diagonal, until no ratio is below ``1 - rtol``.
    max_iter : int, default=100
        Iteration limit for ``"flow_balance"`` (it needs one sweep, and a
        second that confirms nothing changes).
    rtol : float, default=1e-12
        Ratios within ``rtol`` of 1 count as balanced in ``"flow_balance"``.

    Returns
    -------
    P : ndarray, shape (n, n)
        Row-stochastic, with ``p`` as its unique stationary distribution.

    Raises
    ------
    ValueError
        If ``p`` or ``proposal`` are not valid distributions, or the chain
        cannot move between all states where ``p > 0`` (for example a
        one-way proposal), so that ``p`` would not be its unique stationary
        distribution.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.markov import metropolis_hastings_matrix, stationary_distribution
    >>> p = np.array([0.5, 0.3, 0.2])
    >>> P = metropolis_hastings_matrix(p)
    >>> np.allclose(P.sum(axis=1), 1.0), np.allclose(stationary_distribution(P), p)
    (True, True)
    """
    p = _check_distribution(p)
    n = p.size
    if proposal is None:
        Q = np.full((n, n), 1.0 / n)
    else:
        Q = _check_stochastic(proposal, "proposal")
        if Q.shape[0] != n:
            raise ValueError(f"proposal must have shape ({n}, {n}) to match p, got {Q.shape}")
    if method == "closed_form":
        flow = p[:, None] * Q
        with np.errstate(divide="ignore", invalid="ignore"):
            P = np.where(p[:, None] > 0, np.minimum(flow, flow.T) / p[:, None], Q)
    elif method == "flow_balance":
        max_iter = check_int(max_iter, "max_iter", minimum=1)
        P = _flow_balance(p, Q, max_iter, rtol)
    else:
        raise ValueError(f"method must be 'closed_form' or 'flow_balance', got {method!r}")
    P = _add_rejected_to_diagonal(P, Q)
    _require_unique_target(P, p, "proposal")
    return P


def _flow_balance(p, Q, max_iter, rtol):
    P = Q.copy()
    off = ~np.eye(p.size, dtype=bool)
    for _ in range(max_iter):
        flow = p[:, None] * P
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = flow.T / flow
        shrink = off & (flow > 0) & (ratio < 1.0 - rtol)
        if not shrink.any():
            return P
        P[shrink] *= ratio[shrink]
    raise RuntimeError(f"flow balancing did not converge in {max_iter} iterations")


def heat_bath_matrix(p, *, scan="random"):
    r"""Heat-bath (Gibbs) transition matrix on a product space.

    The states are the cells of ``p`` (shape ``(k_1, ..., k_d)``), numbered in
    C order (``np.ravel_multi_index``). One step picks a coordinate and redraws
    it from its conditional distribution given the others.

    Parameters
    ----------
    p : array_like, shape (k_1, ..., k_d)
        Joint weights, non-negative with a positive sum (normalised here).
    scan : {"random", "systematic"}, default="random"
        ``"random"``: the coordinate is uniform among the d; the kernel is
        reversible. ``"systematic"``: one step updates coordinates 1, ..., d
        in turn; ``p`` is stationary but the kernel is not reversible.

    Returns
    -------
    P : ndarray, shape (N, N), N = p.size

    Raises
    ------
    ValueError
        If ``p`` is not a valid distribution, or single-coordinate moves cannot
        connect all states with ``p > 0`` (``p`` would not be the unique
        stationary distribution).

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.markov import heat_bath_matrix, detailed_balance_violation
    >>> p = np.array([[0.4, 0.1], [0.2, 0.3]])
    >>> P = heat_bath_matrix(p)
    >>> P.shape, detailed_balance_violation(P, p.ravel()) < 1e-15
    ((4, 4), True)
    """
    p = _check_distribution(p, ndim=None)
    if scan not in ("random", "systematic"):
        raise ValueError(f"scan must be 'random' or 'systematic', got {scan!r}")
    shape = p.shape
    n = p.size
    index = np.arange(n).reshape(shape)
    rows = index.ravel()
    kernels = []
    for axis, k in enumerate(shape):
        marginal = p.sum(axis=axis, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            cond = np.where(marginal > 0, p / marginal, 1.0 / k)
        K = np.zeros((n, n))
        for v in range(k):
            target = np.broadcast_to(np.take(index, [v], axis=axis), shape).ravel()
            K[rows, target] = cond.ravel()[target]
        kernels.append(K)
    if scan == "random":
        P = sum(kernels) / len(kernels)
    else:
        P = kernels[0]
        for K in kernels[1:]:
            P = P @ K
    _require_unique_target(P, p.ravel(), "p")
    return P


def stationary_distribution(P):
    """Stationary distribution of a row-stochastic matrix.

    Uses the Grassmann-Taksar-Heyman (GTH) elimination on the chain's one
    closed class. GTH never subtracts, so every probability, however small
    (say exp(-700)), comes out with a small *relative* error, where a linear
    solve or an eigensolver would only give a small absolute error.

    Parameters
    ----------
    P : array_like, shape (n, n)
        Row-stochastic matrix (rows sum to 1 within 1e-9).

    Returns
    -------
    pi : ndarray, shape (n,)
        The unique ``pi`` with ``pi @ P = pi``, ``pi >= 0``, ``sum(pi) = 1``.
        Transient states get exactly 0.

    Raises
    ------
    ValueError
        If ``P`` is not row-stochastic, or has more than one closed class
        (the stationary distribution is then not unique).

    References
    ----------
    W. K. Grassmann, M. I. Taksar and D. P. Heyman, "Regenerative analysis and
    steady state distributions for Markov chains", Oper. Res. 33 (1985).

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.markov import stationary_distribution
    >>> stationary_distribution([[0.9, 0.1], [0.2, 0.8]]).round(6)
    array([0.666667, 0.333333])
    """
    P = _check_stochastic(P)
    classes = _closed_classes(P)
    if len(classes) != 1:
        raise ValueError(
            f"P has {len(classes)} closed classes, so its stationary distribution "
            "is not unique"
        )
    closed = classes[0]
    A = P[np.ix_(closed, closed)].copy()
    n = A.shape[0]
    for k in range(n - 1, 0, -1):
        s = A[k, :k].sum()
        if not s > 0:  # pragma: no cover - excluded by the class check
            raise ValueError("P is numerically reducible (GTH pivot underflowed)")
        A[:k, k] /= s
        A[:k, :k] += np.outer(A[:k, k], A[k, :k])
    x = np.zeros(n)
    x[0] = 1.0
    for j in range(1, n):
        x[j] = x[:j] @ A[:j, j]
    pi = np.zeros(P.shape[0])
    pi[closed] = x / x.sum()
    return pi


def detailed_balance_violation(P, p=None):
    """Largest flow imbalance ``max |p(x) P(x,y) - p(y) P(y,x)|``.

    Zero (to rounding) exactly when ``P`` is reversible with respect to ``p``.
    Flows sum to 1, so the number is on an absolute probability scale.

    Parameters
    ----------
    P : array_like, shape (n, n)
        Row-stochastic matrix.
    p : array_like, shape (n,), optional
        Distribution to test against (normalised here). Default: the
        stationary distribution of ``P``.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.markov import detailed_balance_violation
    >>> cycle = np.roll(np.eye(3), 1, axis=1)  # 0 -> 1 -> 2 -> 0: not reversible
    >>> detailed_balance_violation(cycle)
    0.3333333333333333
    """
    P = _check_stochastic(P)
    if p is None:
        p = stationary_distribution(P)
    else:
        p = _check_distribution(p)
        if p.size != P.shape[0]:
            raise ValueError(f"p must have {P.shape[0]} entries to match P, got {p.size}")
    flow = p[:, None] * P
    return float(np.abs(flow - flow.T).max())


def spectral_gap(P):
    r"""Absolute spectral gap :math:`1 - \max\{|\lambda| : \lambda \ne 1\}`.

    For a chain reversible with respect to a strictly positive stationary
    distribution, the symmetrised matrix
    :math:`D^{1/2} P D^{-1/2}` is diagonalised (real spectrum, accurate);
    otherwise the general eigenvalues of ``P`` are used. The relaxation time
    is ``1 / gap``; a periodic chain has gap 0.

    Examples
    --------
    >>> from heatbath.markov import spectral_gap
    >>> round(spectral_gap([[0.9, 0.1], [0.2, 0.8]]), 12)
    0.3
    """
    P = _check_stochastic(P)
    pi = stationary_distribution(P)
    flow = pi[:, None] * P
    if (pi > 0).all() and np.abs(flow - flow.T).max() <= 1e-13:
        root = np.sqrt(pi)
        S = root[:, None] * P / root[None, :]
        lam = np.linalg.eigvalsh((S + S.T) / 2)
    else:
        lam = np.linalg.eigvals(P)
    # Drop the one eigenvalue at 1 (unique: there is one closed class).
    lam = np.delete(lam, np.argmin(np.abs(lam - 1.0)))
    return float(1.0 - np.abs(lam).max()) if lam.size else 1.0


def mixing_time(P, eps=0.25, *, max_steps=2**20):
    r"""Exact mixing time :math:`\min\{t : \max_x \|P^t(x,\cdot) - \pi\|_{TV} \le \epsilon\}`.

    Computed from matrix powers: doubling to bracket ``t``, then bisection
    (the worst-case distance never increases with ``t``).

    Parameters
    ----------
    P : array_like, shape (n, n)
        Row-stochastic matrix with a unique stationary distribution.
    eps : float, default=0.25
        Total-variation threshold, in (0, 1).
    max_steps : int, default=2**20
        Give up (ValueError) if the chain has not mixed by then, for example
        because it is periodic.

    Examples
    --------
    >>> from heatbath.markov import mixing_time
    >>> mixing_time([[0.5, 0.5], [0.5, 0.5]])
    1
    """
    P = _check_stochastic(P)
    eps = float(eps)
    if not 0.0 < eps < 1.0:
        raise ValueError(f"eps must be in (0, 1), got {eps!r}")
    max_steps = check_int(max_steps, "max_steps", minimum=1)
    pi = stationary_distribution(P)

    def distance(Pt):
        return 0.5 * np.abs(Pt - pi).sum(axis=1).max()

    powers = [P]  # P^(2^j)
    t = 1
    while distance(powers[-1]) > eps:
        if 2 * t > max_steps:
            raise ValueError(
                f"P does not come within eps={eps} of stationarity in "
                f"max_steps={max_steps} steps (is it periodic?)"
            )
        powers.append(powers[-1] @ powers[-1])
        t *= 2
    if t == 1:
        return 1
    # d(t/2) > eps >= d(t): bisect on (lo, hi], building P^m from the powers.
    lo, hi = t // 2, t
    P_lo = powers[-2]
    for j in range(len(powers) - 3, -1, -1):
        mid = lo + 2**j
        P_mid = P_lo @ powers[j]
        if distance(P_mid) > eps:
            lo, P_lo = mid, P_mid
        else:
            hi = mid
    return hi


def transition_cdf(P):
    """Row-wise cumulative sums of P, scaled so that each row ends at exactly 1.0.

    This is the table :func:`simulate` searches with one uniform per step; it
    is public so that reference implementations can reproduce the same steps.
    """
    cdf = np.cumsum(P, axis=1)
    cdf /= cdf[:, -1:]
    return np.ascontiguousarray(cdf)


def simulate(P, x0, n_steps, *, n_chains=None, burn_in=0, thin=1, seed=None,
             n_threads=None, return_counts=False):
    """Run independent Markov chains with transition matrix ``P``.

    Each step draws one uniform ``u`` in [0, 1) from the chain's own stream
    and moves to the first state ``y`` with ``u < CDF(x, y)``. Chains run in
    parallel; the result does not depend on ``n_threads``.

    Parameters
    ----------
    P : array_like, shape (n, n)
        Row-stochastic matrix.
    x0 : int or array_like of int, shape (n_chains,)
        Start state(s).
    n_steps : int
        Steps after burn-in; the state is recorded after every ``thin``-th.
    n_chains : int, optional
        Number of chains. Default: ``len(x0)``, or 1 if ``x0`` is an int.
    burn_in : int, default=0
        Steps run and discarded before ``n_steps``.
    thin : int, default=1
        Record every ``thin``-th state.
    seed : None, int, SeedSequence or Generator
        Root of the per-chain streams.
    n_threads : int or None, default=None
        OpenMP threads (None: all cores).
    return_counts : bool, default=False
        Return visit counts per state instead of the path.

    Returns
    -------
    ndarray of int64
        Shape ``(n_chains, n_steps // thin)``: the recorded states; or with
        ``return_counts``, shape ``(n_chains, n)``: how often each chain's
        recorded states visited each state.

    Notes
    -----
    Transition probabilities are resolved to the 53 bits of a uniform double:
    a probability below about 1e-16 is sampled as if it were 0 or 2**-53.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.markov import simulate
    >>> P = np.array([[0.9, 0.1], [0.5, 0.5]])
    >>> counts = simulate(P, 0, 100_000, n_chains=4, seed=1, return_counts=True)
    >>> counts.shape, bool(abs(counts.sum(0)[0] / 400_000 - 5 / 6) < 0.01)
    ((4, 2), True)
    """
    P = _check_stochastic(P)
    n_states = P.shape[0]
    x0_arr = np.asarray(x0)
    if x0_arr.dtype.kind not in "iu" or x0_arr.ndim > 1:
        raise TypeError(
            f"x0 must be an int or a 1-d array of ints, got dtype {x0_arr.dtype} "
            f"and shape {x0_arr.shape}"
        )
    if n_chains is None:
        n_chains = x0_arr.size if x0_arr.ndim == 1 else 1
    n_chains = check_int(n_chains, "n_chains", minimum=1)
    if x0_arr.ndim == 1 and x0_arr.size != n_chains:
        raise ValueError(f"x0 must have n_chains={n_chains} entries, got {x0_arr.size}")
    if x0_arr.size and ((x0_arr < 0).any() or (x0_arr >= n_states).any()):
        raise ValueError(f"x0 must be in [0, {n_states}), got values from "
                         f"{x0_arr.min()} to {x0_arr.max()}")
    x0_arr = np.ascontiguousarray(np.broadcast_to(x0_arr, (n_chains,)), dtype=np.int64)
    n_steps = check_int(n_steps, "n_steps", minimum=0)
    burn_in = check_int(burn_in, "burn_in", minimum=0)
    thin = check_int(thin, "thin", minimum=1)
    n_record = n_steps // thin
    width = n_states if return_counts else n_record
    if n_chains * max(width, 1) > MAX_ELEMENTS:
        raise ValueError(
            f"the result would have {n_chains} x {width} entries, more than {MAX_ELEMENTS}"
        )
    states = spawn_states(seed, n_chains)
    path = np.zeros((n_chains, 0 if return_counts else n_record), dtype=np.int64)
    counts = np.zeros((n_chains, n_states if return_counts else 0), dtype=np.int64)
    _markov._simulate(transition_cdf(P), x0_arr, states, path, counts,
                      burn_in, n_steps, thin, effective_n_threads(n_threads))
    return counts if return_counts else path
