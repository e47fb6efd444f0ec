r"""The Boltzmann distribution of a list of energies, and its thermodynamics.

For energies :math:`E_i` at temperature :math:`T` (with :math:`k_B = 1`):

.. math::

    p_i = \frac{e^{-E_i/T}}{Z}, \quad \log Z = \log \sum_i e^{-E_i/T}, \quad
    F = -T \log Z, \quad \langle E \rangle = \sum_i p_i E_i,

    S = -\sum_i p_i \log p_i = (\langle E \rangle - F)/T, \quad
    C = \frac{\langle E^2 \rangle - \langle E \rangle^2}{T^2}.

Every function reduces along ``axis``. Energies are shifted by their minimum
before exponentiating (the log-sum-exp trick): nothing overflows or turns into
NaN for any finite energies, including ``|E|/T`` up to 1e300. The limits are
exact: ``temperature=np.inf`` gives the uniform distribution, and as ``T -> 0``
the mass goes to the minima, shared equally between ties.

``temperature`` is a positive scalar or an array; its shape is broadcast
against the energies' shape without ``axis``, so one call evaluates a whole
temperature curve (see the examples).
"""

import numbers

import numpy as np

from heatbath._validation import check_real_array, check_temperature

__all__ = [
    "boltzmann_probs",
    "log_partition",
    "free_energy",
    "mean_energy",
    "entropy",
    "heat_capacity",
]


def _prepare(energies, temperature, axis):
    """Energies with ``axis`` moved last, temperatures shaped to broadcast.

    Returns (E, T, d, x, axis) with d = E - min(E) >= 0 and x = d / T, where
    x is 0 at T = inf and may be +inf (underflowing weights) but never NaN.
    """
    E = check_real_array(energies, "energies", min_ndim=1)
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"axis must be an int, got {type(axis).__name__}")
    if not -E.ndim <= axis < E.ndim:
        raise ValueError(f"axis {axis} is out of range for energies of shape {E.shape}")
    axis = int(axis) % E.ndim
    E = np.moveaxis(E, axis, -1)
    T = check_temperature(temperature)[..., None]
    try:
        np.broadcast_shapes(E.shape[:-1], T.shape[:-1])
    except ValueError:
        raise ValueError(
            f"temperature of shape {T.shape[:-1]} does not broadcast against the "
            f"energies' shape without axis, {E.shape[:-1]}"
        ) from None
    Emin = E.min(axis=-1, keepdims=True)
    # E - Emin can overflow to +inf for energies spanning more than ~1.8e308;
    # those weights are exactly 0 anyway, and inf never meets another inf.
    with np.errstate(over="ignore"):
        d = E - Emin
    with np.errstate(over="ignore", invalid="ignore"):
        x = np.where(np.isinf(T), 0.0, d / T)
    return E, T, Emin, x, axis - E.ndim


def _weights(x):
    """Unnormalised weights exp(-x) (max 1) and their log-sum (>= 0)."""
    w = np.exp(-x)
    s = w.sum(axis=-1, keepdims=True)  # >= 1: the minimum contributes exp(0)
    return w, s


def boltzmann_probs(energies, temperature=1.0, axis=-1):
    r"""Boltzmann probabilities :math:`p_i = e^{-E_i/T} / Z` (a softmax of -E/T).

    Parameters
    ----------
    energies : array_like
        Finite energies; the states run along ``axis``.
    temperature : float or array_like, default=1.0
        T > 0; ``np.inf`` gives the uniform distribution. An array broadcasts
        against the energies' shape without ``axis`` (its dimensions lead).
    axis : int, default=-1
        Axis of the states.

    Returns
    -------
    ndarray
        Probabilities, summing to 1 along ``axis``.

    Raises
    ------
    ValueError
        For NaN or infinite energies, an empty array, T <= 0 or NaN, or a bad
        ``axis``.

    Examples
    --------
    >>> from heatbath import boltzmann_probs
    >>> boltzmann_probs([0.0, 1.0, 1.0], temperature=1.0).round(4)
    array([0.5761, 0.2119, 0.2119])
    >>> boltzmann_probs([0.0, 1.0, 0.0], temperature=1e-9)   # ties share
    array([0.5, 0. , 0.5])
    >>> boltzmann_probs([0.0, 1.0], temperature=[1.0, 10.0]).round(3)
    array([[0.731, 0.269],
           [0.525, 0.475]])
    """
    _, _, _, x, axis = _prepare(energies, temperature, axis)
    w, s = _weights(x)
    return np.moveaxis(w / s, -1, axis)


def log_partition(energies, temperature=1.0, axis=-1):
    r"""Log partition function :math:`\log Z = \log \sum_i e^{-E_i/T}`.

    Computed as :math:`-E_{min}/T + \log \sum_i e^{-(E_i - E_{min})/T}`.
    At ``temperature=np.inf`` it is ``log(n)``.

    Parameters
    ----------
    energies, temperature, axis
        As in :func:`boltzmann_probs`.

    Returns
    -------
    ndarray or float
        ``log Z``, with ``axis`` reduced.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath import log_partition
    >>> float(log_partition([0.0, 0.0]))  # two states, Z = 2
    0.6931471805599453
    >>> float(log_partition([-1e300, 0.0], temperature=1.0))  # no overflow
    1e+300
    """
    _, T, Emin, x, _ = _prepare(energies, temperature, axis)
    _, s = _weights(x)
    with np.errstate(over="ignore", invalid="ignore"):
        ground = np.where(np.isinf(T), 0.0, -Emin / T)
    return _squeeze(ground + np.log(s))


def free_energy(energies, temperature=1.0, axis=-1):
    r"""Helmholtz free energy :math:`F = -T \log Z`.

    Computed as :math:`E_{min} - T \log \sum_i e^{-(E_i - E_{min})/T}`, which
    tends to :math:`E_{min}` as T -> 0 without dividing by T.

    Examples
    --------
    >>> from heatbath import free_energy
    >>> float(free_energy([0.0, 0.0], temperature=2.0))  # -2 log 2
    -1.3862943611198906
    """
    _, T, Emin, x, _ = _prepare(energies, temperature, axis)
    _, s = _weights(x)
    with np.errstate(invalid="ignore"):
        F = Emin - T * np.log(s)
    # T = inf: F = -inf whenever there is more than one state (log n > 0).
    return _squeeze(np.where(np.isinf(T) & (s == 1.0), Emin, F))


def mean_energy(energies, temperature=1.0, axis=-1):
    r"""Mean energy :math:`\langle E \rangle = \sum_i p_i E_i`.

    Examples
    --------
    >>> from heatbath import mean_energy
    >>> float(mean_energy([0.0, 1.0], temperature=float("inf")))
    0.5
    """
    E, _, _, x, _ = _prepare(energies, temperature, axis)
    w, s = _weights(x)
    return _squeeze(((w / s) * E).sum(axis=-1, keepdims=True))


def entropy(energies, temperature=1.0, axis=-1):
    r"""Entropy :math:`S = -\sum_i p_i \log p_i` in nats (:math:`k_B = 1`).

    Computed as :math:`\sum_i p_i (x_i + \log s)` with
    :math:`x_i = (E_i - E_{min})/T` and :math:`s = \sum_i e^{-x_i}`: terms with
    :math:`p_i = 0` contribute exactly 0.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath import entropy
    >>> bool(np.isclose(entropy([0.0, 5.0, 7.0], temperature=np.inf), np.log(3)))
    True
    """
    _, _, _, x, _ = _prepare(energies, temperature, axis)
    w, s = _weights(x)
    p = w / s
    terms = np.where(p > 0, p * (np.where(p > 0, x, 0.0) + np.log(s)), 0.0)
    return _squeeze(np.maximum(terms.sum(axis=-1, keepdims=True), 0.0))


def heat_capacity(energies, temperature=1.0, axis=-1):
    r"""Heat capacity :math:`C = \mathrm{Var}(E)/T^2 = d\langle E \rangle/dT`.

    Computed as :math:`\sum_i p_i ((E_i - \langle E \rangle)/T)^2`, so it does
    not overflow for tiny T. It is 0 at T = inf.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath import heat_capacity
    >>> # two levels 0 and 1 at T = 1: C = e / (1 + e)**2
    >>> bool(np.isclose(heat_capacity([0.0, 1.0]), np.e / (1 + np.e) ** 2))
    True
    """
    E, T, _, x, _ = _prepare(energies, temperature, axis)
    w, s = _weights(x)
    p = w / s
    mean = (p * E).sum(axis=-1, keepdims=True)
    with np.errstate(over="ignore", invalid="ignore"):
        z = np.where(p > 0, (E - mean) / T, 0.0)
    return _squeeze((p * z * z).sum(axis=-1, keepdims=True))


def _squeeze(a):
    """Drop the reduced axis; return a float for a scalar result."""
    a = a[..., 0]
    return a if a.ndim else float(a)
