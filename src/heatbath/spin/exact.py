r"""Exact results for Ising models, to hold the samplers against.

- Infinite square lattice (J = 1 units scale with J): the critical temperature
  :math:`T_c = 2J / \ln(1 + \sqrt 2)`, Onsager's energy and specific heat per
  spin, and Yang's spontaneous magnetisation.
- Finite M x N square torus: the exact partition function of Kaufman (1949)
  in the form of Ferdinand and Fisher (1969), with the energy and specific heat
  from its analytic derivatives.
- Brute-force enumeration of any small model.

All temperatures are in units with k_B = 1.

References
----------
L. Onsager, Phys. Rev. 65, 117 (1944). C. N. Yang, Phys. Rev. 85, 808 (1952).
B. Kaufman, Phys. Rev. 76, 1232 (1949).
A. E. Ferdinand and M. E. Fisher, Phys. Rev. 185, 832 (1969).
"""

import numpy as np
from scipy.special import ellipe, ellipk

from heatbath._validation import check_int, check_real_array

__all__ = [
    "critical_temperature",
    "onsager_energy",
    "onsager_specific_heat",
    "yang_magnetization",
    "torus_thermodynamics",
    "chain_thermodynamics",
    "enumerate_states",
]


def critical_temperature(J=1.0):
    """Critical temperature of the square-lattice Ising model, 2J / ln(1 + sqrt 2).

    Examples
    --------
    >>> from heatbath.spin.exact import critical_temperature
    >>> round(critical_temperature(), 6)
    2.269185
    """
    return float(2.0 * J / np.log1p(np.sqrt(2.0)))


def _beta(T, J):
    T = check_real_array(T, "temperature", allow_empty=False)
    if (T <= 0).any():
        raise ValueError("temperature must be > 0")
    if not J > 0:
        raise ValueError(f"J must be > 0 (ferromagnet), got {J}")
    return J / T


def _out(x):
    return float(x) if np.ndim(x) == 0 else x


# Above this K = J/T the low-temperature series (ground state plus single
# flips, relative error about e^{-4K} < 1e-17, below double precision)
# replaces the closed forms, whose sinh(2K) and cosh(2K) overflow near
# K = 355 (T < 0.003) and whose C cancels to noise of 1e-32 first.
_K_LOW_T = 10.0


def onsager_energy(temperature, J=1.0):
    r"""Energy per spin of the infinite square lattice (Onsager 1944).

    .. math:: u = -J \coth 2K \left[1 + \frac{2}{\pi}(2\tanh^2 2K - 1) K_1(k)\right],
              \quad k = \frac{2 \sinh 2K}{\cosh^2 2K}, \quad K = J/T.

    Examples
    --------
    >>> from heatbath.spin.exact import onsager_energy, critical_temperature
    >>> round(onsager_energy(critical_temperature()), 6)   # -sqrt(2)
    -1.414214
    """
    K = _beta(temperature, J)
    low = K > _K_LOW_T
    K, Kl = np.where(low, _K_LOW_T, K), K        # closed form only where it is finite
    k = 2.0 * np.sinh(2 * K) / np.cosh(2 * K) ** 2
    t = np.tanh(2 * K)
    # At T_c, k = 1: K(k) diverges like a log while 2 t^2 - 1 -> 0 linearly, so
    # their product -> 0 (u(T_c) = -sqrt 2); 0 * inf must not become NaN.
    with np.errstate(invalid="ignore"):
        prod = np.where(k**2 >= 1.0, 0.0, (2.0 * t**2 - 1.0) * ellipk(np.minimum(k**2, 1.0)))
    u = -J / t * (1.0 + 2.0 / np.pi * prod)
    # ln Z / N = 2K + e^{-8K} + O(e^{-12K}) at low T
    return _out(np.where(low, -2.0 * J + 8.0 * J * np.exp(-8.0 * Kl), u))


def onsager_specific_heat(temperature, J=1.0):
    r"""Specific heat per spin of the infinite square lattice (Onsager 1944).

    .. math:: c = \frac{4}{\pi}(K\coth 2K)^2 \left\{K_1 - E_1 - (1 - \tanh^2 2K)
              \left[\frac{\pi}{2} + (2\tanh^2 2K - 1)K_1\right]\right\}

    with complete elliptic integrals :math:`K_1, E_1` of modulus k. It
    diverges logarithmically at T_c.

    Examples
    --------
    >>> from heatbath.spin.exact import onsager_specific_heat
    >>> round(onsager_specific_heat(3.0), 6)
    0.40138
    """
    K = _beta(temperature, J)
    low = K > _K_LOW_T
    K, Kl = np.where(low, _K_LOW_T, K), K
    k = 2.0 * np.sinh(2 * K) / np.cosh(2 * K) ** 2
    t = np.tanh(2 * K)
    m = np.minimum(k**2, 1.0)
    K1, E1 = ellipk(m), ellipe(m)
    with np.errstate(invalid="ignore"):
        c = 4.0 / np.pi * (K / t) ** 2 * (
            K1 - E1 - (1.0 - t**2) * (np.pi / 2 + (2.0 * t**2 - 1.0) * K1))
    c = np.where(m >= 1.0, np.inf, c)  # log divergence at T_c
    return _out(np.where(low, 64.0 * Kl**2 * np.exp(-8.0 * Kl), c))


def yang_magnetization(temperature, J=1.0):
    r"""Spontaneous magnetisation per spin: :math:`(1 - \sinh^{-4} 2K)^{1/8}` below T_c, else 0.

    Examples
    --------
    >>> from heatbath.spin.exact import yang_magnetization
    >>> round(yang_magnetization(2.0), 6), yang_magnetization(3.0)
    (0.911319, 0.0)
    """
    K = _beta(temperature, J)
    with np.errstate(over="ignore"):  # sinh overflows to inf at tiny T: m -> 1
        x = 1.0 - np.sinh(2 * K) ** -4.0
    return _out(np.where(x > 0, np.abs(x) ** 0.125, 0.0))


def _kaufman_terms(M, N, K):
    """Kaufman's four products Z_i with their first two K-derivatives, scaled.

    Each Z_i = prod_r f(x_r) with f = 2 cosh or 2 sinh and x_r = M gamma_k / 2.
    The r = 0 factor f0 is kept apart (for Z_4 it is 2 sinh(M gamma_0 / 2),
    which vanishes at T_c), so that with P = prod_{r>=1} f, a = sum f'/f and
    b = sum (f''/f - (f'/f)^2) over r >= 1:

        Z = P f0,  Z' = P (f0 a + f0'),  Z'' = P (f0 (a^2 + b) + 2 a f0' + f0''),

    free of the 1/f0 terms that cancel catastrophically near T_c. Returns, per
    term, log|P| + |x0| and (Z, Z', Z'') divided by exp of that.
    """
    theta = np.pi * np.arange(2 * N) / N
    s2, c2 = np.sinh(2 * K), np.cosh(2 * K)
    ck = c2 * c2 / s2 - np.cos(theta)             # cosh(gamma_k), k >= 1
    dck = 2.0 * c2 * (1.0 - 1.0 / s2**2)          # d/dK of c2^2 / s2
    d2ck = 4.0 * (s2 - 1.0 / s2 + 2.0 * c2**2 / s2**3)
    gamma = np.empty(2 * N)
    gamma[0] = 2 * K + np.log(np.tanh(K))         # signed: negative below T_c
    gamma[1:] = np.arccosh(ck[1:])
    dg, d2g = np.empty(2 * N), np.empty(2 * N)
    dg[1:] = dck / np.sinh(gamma[1:])
    d2g[1:] = (d2ck - ck[1:] * dg[1:] ** 2) / np.sinh(gamma[1:])
    dg[0] = 2.0 + 2.0 / s2
    d2g[0] = -4.0 * c2 / s2**2
    r = np.arange(N)
    out = []
    for idx, hyper in ((2 * r + 1, "cosh"), (2 * r + 1, "sinh"), (2 * r, "cosh"), (2 * r, "sinh")):
        x, g1, g2 = M * gamma[idx] / 2, M * dg[idx] / 2, M * d2g[idx] / 2
        xr, g1r, g2r = x[1:], g1[1:], g2[1:]
        ax = np.abs(xr)
        if hyper == "cosh":   # ln(2 cosh x), stable for large |x|
            log_rest, sign_rest, t = (ax + np.log1p(np.exp(-2 * ax))).sum(), 1.0, np.tanh(xr)
        else:                  # ln|2 sinh x|, x != 0 for r >= 1
            log_rest = (ax + np.log(-np.expm1(-2 * ax))).sum()
            sign_rest, t = np.prod(np.sign(xr)), 1.0 / np.tanh(xr)
        a = (t * g1r).sum()
        b = ((1 - t**2) * g1r**2 + t * g2r).sum()
        # f0 and its derivatives, divided by exp(|x0|)
        a0 = abs(x[0])
        e = np.exp(-2 * a0)
        C, S = 1.0 + e, np.sign(x[0]) * (1.0 - e)   # 2 cosh x0, 2 sinh x0 over e^|x0|
        if hyper == "cosh":
            f, f1, f2 = C, S * g1[0], C * g1[0] ** 2 + S * g2[0]
        else:
            f, f1, f2 = S, C * g1[0], S * g1[0] ** 2 + C * g2[0]
        z = sign_rest * f
        z1 = sign_rest * (f * a + f1)
        z2 = sign_rest * (f * (a * a + b) + 2 * a * f1 + f2)
        out.append((log_rest + a0, z, z1, z2))
    return out


def torus_thermodynamics(shape, temperature, J=1.0):
    r"""Exact log Z, energy and specific heat of the Ising model on an M x N torus.

    Kaufman's formula: with :math:`K = J/T`,

    .. math:: Z = \tfrac12 (2 \sinh 2K)^{MN/2} \sum_{i=1}^4 Z_i, \quad
        Z_{1,2} = \prod_{r=0}^{N-1} 2\{\cosh,\sinh\}(M\gamma_{2r+1}/2), \quad
        Z_{3,4} = \prod_{r=0}^{N-1} 2\{\cosh,\sinh\}(M\gamma_{2r}/2),

    :math:`\cosh\gamma_k = \cosh 2K \coth 2K - \cos(\pi k/N)` and
    :math:`\gamma_0 = 2K + \ln\tanh K`. The energy and specific heat come from
    exact derivatives in K, summed in logarithms (no overflow for any size).
    This is the model of :class:`heatbath.spin.Ising` with ``shape=(M, N)``,
    periodic, h = 0 (sides of 2 double their bonds, as there). The
    derivatives are arranged so that nothing cancels at T_c, where one of the
    four terms vanishes.

    Parameters
    ----------
    shape : (int, int)
        (M, N), each >= 2.
    temperature : float
    J : float, default=1.0

    Returns
    -------
    dict
        ``log_partition``, ``energy`` (total), ``energy_per_spin``,
        ``specific_heat`` (per spin, C/N = Var(E)/(N T^2)).

    Examples
    --------
    >>> from heatbath.spin.exact import torus_thermodynamics
    >>> ex = torus_thermodynamics((16, 16), 2.5)
    >>> round(ex["energy_per_spin"], 6), round(ex["specific_heat"], 6)
    (-1.131318, 1.064977)
    """
    M, N = shape
    M = check_int(M, "shape[0]", minimum=2)
    N = check_int(N, "shape[1]", minimum=2)
    T = float(check_real_array(temperature, "temperature", ndim=0))
    K = float(_beta(T, J))
    n = M * N
    if K > _K_LOW_T and min(M, N) >= 3:
        # Ground states (2, E = -2NJ) and single flips (2N, +8J); the next
        # terms are e^{-4K} < 1e-17 smaller. (On a side of 2, flipping a
        # whole row also costs 8J: the closed form is kept there.)
        x = np.exp(-8.0 * K)
        return {"log_partition": float(np.log(2.0) + 2 * n * K + np.log1p(n * x)),
                "energy": float(-2.0 * J * n + 8.0 * J * n * x / (1 + n * x)),
                "energy_per_spin": float(-2.0 * J + 8.0 * J * x / (1 + n * x)),
                "specific_heat": float(64.0 * K**2 * x / (1 + n * x) ** 2)}
    terms = _kaufman_terms(M, N, K)
    logs = np.array([t[0] for t in terms])
    top = logs.max()
    scale = np.exp(logs - top)
    S0 = sum(sc * t[1] for sc, t in zip(scale, terms))
    S1 = sum(sc * t[2] for sc, t in zip(scale, terms))
    S2 = sum(sc * t[3] for sc, t in zip(scale, terms))
    log_sum = top + np.log(S0)
    d1 = S1 / S0
    d2 = S2 / S0 - d1 * d1
    s2 = np.sinh(2 * K)
    c2 = np.cosh(2 * K)
    log_z = -np.log(2.0) + n / 2 * np.log(2 * s2) + log_sum
    # d/dK and d2/dK2 of ln Z
    dlog = n * c2 / s2 + d1
    d2log = -2.0 * n / s2**2 + d2
    energy = -J * dlog                   # U = -d lnZ / d beta, K = beta J
    var_e = J**2 * d2log
    return {
        "log_partition": float(log_z),
        "energy": float(energy),
        "energy_per_spin": float(energy / n),
        "specific_heat": float(var_e / (n * T**2)),
    }


def chain_thermodynamics(n_spins, temperature, J=1.0, periodic=True):
    r"""Exact log Z, energy and specific heat of the 1D Ising chain in zero field.

    With :math:`K = J/T`, :math:`r = \tanh K`: the ring of n spins has
    :math:`Z = (2\cosh K)^n + (2\sinh K)^n` (transfer matrix), the open chain
    :math:`Z = 2 (2 \cosh K)^{n-1}`, and the infinite chain (``n_spins=None``)
    :math:`e = -J \tanh K`, :math:`c = K^2 / \cosh^2 K`. Written in
    :math:`e^{-2K}`, so finite at any T > 0.

    Parameters
    ----------
    n_spins : int or None
        Chain length (>= 2 for a ring); None for the infinite chain.
    temperature : float
    J : float, default=1.0
    periodic : bool, default=True

    Returns
    -------
    dict
        ``log_partition`` (finite chains), ``energy_per_spin``, ``specific_heat``
        (per spin, Var(E)/(N T^2)).

    Examples
    --------
    >>> from heatbath.spin.exact import chain_thermodynamics
    >>> ex = chain_thermodynamics(10, 1.0)
    >>> round(ex["energy_per_spin"], 6), round(ex["specific_heat"], 6)
    (-0.795566, 0.52529)
    """
    T = float(check_real_array(temperature, "temperature", ndim=0))
    K = float(_beta(T, J))
    t = np.exp(-2.0 * K)
    r = (1.0 - t) / (1.0 + t)                     # tanh K
    s = 4.0 * t / (1.0 + t) ** 2                  # 1 - tanh^2 K = sech^2 K
    if n_spins is None:
        return {"energy_per_spin": float(-J * r), "specific_heat": float(K**2 * s)}
    n = check_int(n_spins, "n_spins", minimum=2 if periodic else 1)
    log_cosh = K + np.log1p(t)                    # ln(2 cosh K)
    if not periodic:
        return {"log_partition": float(np.log(2.0) + (n - 1) * log_cosh),
                "energy_per_spin": float(-J * (n - 1) / n * r),
                "specific_heat": float(K**2 * (n - 1) / n * s)}
    rn = r**n
    # d lnZ/dK = n f(r), f = r + r^(n-1) s / (1 + r^n), and dr/dK = s.
    f = r + r ** (n - 1) * s / (1.0 + rn)
    df = 1.0 + (((n - 1) * r ** (n - 2) * s - 2.0 * r**n) * (1.0 + rn)
                - n * r ** (2 * n - 2) * s) / (1.0 + rn) ** 2
    return {"log_partition": float(n * log_cosh + np.log1p(rn)),
            "energy_per_spin": float(-J * f),
            "specific_heat": float(K**2 * df * s)}


def enumerate_states(model, max_spins=24):
    """All 2**n states of a small spin model, with their energies and magnetisations.

    Returns
    -------
    states : ndarray of int8, shape (2**n, n)
        State k has spin i = +1 where bit i of k is set.
    energy, magnetization : ndarray of float64, shape (2**n,)

    Examples
    --------
    >>> from heatbath.spin import Ising
    >>> from heatbath.spin.exact import enumerate_states
    >>> states, energy, mag = enumerate_states(Ising((2, 2), periodic=False))
    >>> states.shape, sorted(set(energy.tolist()))
    ((16, 4), [-4.0, 0.0, 4.0])
    """
    n = model.n_spins
    if n > max_spins:
        raise ValueError(f"model has {n} spins; enumeration is limited to {max_spins}")
    codes = np.arange(2**n, dtype=np.int64)[:, None]
    states = (2 * ((codes >> np.arange(n)) & 1) - 1).astype(np.int8)
    return states, model.energy(states), model.magnetization(states)
