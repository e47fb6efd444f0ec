"""Thermodynamic observables of a spin trace, each with an error bar."""

import numpy as np

from heatbath.diagnostics import jackknife, stderr, tau_int

__all__ = ["thermodynamics", "correlation_function"]


def thermodynamics(trace):
    r"""Per-spin observables of a spin-sampler trace, with standard errors.

    With e = E/N and m = M/N per recorded sweep (N spins, temperature T):

    - ``energy_per_spin`` :math:`\langle e \rangle`,
    - ``abs_magnetization`` :math:`\langle |m| \rangle`,
    - ``magnetization_squared`` :math:`\langle m^2 \rangle`,
    - ``specific_heat`` :math:`N(\langle e^2 \rangle - \langle e \rangle^2)/T^2`,
    - ``susceptibility`` :math:`N(\langle m^2 \rangle - \langle |m| \rangle^2)/T`
      (the finite-size convention with ``|m|``, which has no zero-field
      cancellation),
    - ``binder`` :math:`1 - \langle m^4 \rangle / (3 \langle m^2 \rangle^2)`.

    Means carry errors from the integrated autocorrelation time; the derived
    quantities from a jackknife over chains (or blocks of chains). Also
    returned: ``tau_int_energy`` and ``tau_int_abs_magnetization`` in
    recorded sweeps, and ``acceptance_rate``.

    Parameters
    ----------
    trace : heatbath.diagnostics.Trace
        From a spin sampler whose chains share one temperature.

    Returns
    -------
    dict
        ``name -> (value, stderr)`` for the observables, plain floats for the rest.

    Examples
    --------
    >>> from heatbath.spin import Ising, MetropolisSampler, thermodynamics
    >>> trace = MetropolisSampler(Ising((8, 8)), temperature=3.0, n_chains=8, seed=0).run(500, burn_in=100)
    >>> value, err = thermodynamics(trace)["energy_per_spin"]
    >>> -0.9 < value < -0.7 and 0 < err < 0.02
    True
    """
    T = np.unique(trace.temperature)
    if T.size != 1:
        raise ValueError("thermodynamics needs all chains at one temperature; "
                         f"this trace has {T.size} temperatures")
    T = float(T[0])
    N = trace.n_units
    e = trace["energy"] / N
    m = np.abs(trace["magnetization"]) / N
    if e.shape[0] < 2:
        raise ValueError("thermodynamics needs at least 2 recorded sweeps")
    # Divide by T rather than multiply by beta**2: a Python float raises
    # OverflowError on 1e300**2, and (std / T)**2 is 0 for frozen chains
    # and at T = inf.
    with np.errstate(over="ignore"):   # C overflows to inf at T ~ 1e-300: honest
        heat = jackknife(lambda x: N * (np.float64(x.std()) / T) ** 2, e)
    out = {
        "energy_per_spin": (float(e.mean()), stderr(e)),
        "abs_magnetization": (float(m.mean()), stderr(m)),
        "magnetization_squared": (float((m**2).mean()), stderr(m**2)),
        "specific_heat": heat,
        "susceptibility": jackknife(lambda x: N * np.float64(x.var()) / T, m),
        "binder": jackknife(lambda x: 1.0 - (x**4).mean() / (3.0 * (x**2).mean() ** 2)
                            if (x**2).mean() > 0 else 0.0, m),
        "tau_int_energy": tau_int(e),
        "tau_int_abs_magnetization": tau_int(m),
        "acceptance_rate": float(np.mean(trace.acceptance_rate)),
    }
    return out


def correlation_function(trace, model, axis=0):
    r"""Spin-spin correlation :math:`G(r) = \langle s_x s_{x + r e} angle` along one lattice axis.

    Computed from configurations recorded along the run
    (``sampler.run(..., record_states=True)``): averaged over every site x,
    every recorded sweep and every chain, for r = 0 .. L // 2 along ``axis``
    of a periodic lattice (translation invariance makes the site average
    exact in expectation). The error bar of each G(r) treats each chain's
    series with its own integrated autocorrelation time.

    Parameters
    ----------
    trace : heatbath.diagnostics.Trace
        From a spin sampler run with ``record_states=True``.
    model : heatbath.spin.Ising
        The lattice the states live on (periodic along ``axis``).
    axis : int, default=0

    Returns
    -------
    dict with ``r`` (distances), ``correlation`` and ``correlation_stderr``.

    Examples
    --------
    >>> from heatbath.spin import Ising, MetropolisSampler
    >>> from heatbath.spin.observables import correlation_function
    >>> model = Ising((16,))
    >>> s = MetropolisSampler(model, temperature=1.0, n_chains=4, seed=0)
    >>> g = correlation_function(s.run(200, burn_in=100, record_states=True), model)
    >>> g["r"][:3].tolist(), float(g["correlation"][0])
    ([0, 1, 2], 1.0)
    """
    states = getattr(trace, "states", None)
    if states is None:
        raise ValueError("trace has no recorded configurations: run the sampler with "
                         "record_states=True")
    shape = getattr(model, "shape", None)
    if shape is None:
        raise TypeError(f"model must be a lattice model (heatbath.spin.Ising), got "
                        f"{type(model).__name__}")
    shape = tuple(shape)
    if not isinstance(axis, (int, np.integer)) or not -len(shape) <= axis < len(shape):
        raise ValueError(f"axis must be an int in [-{len(shape)}, {len(shape)}), got {axis!r}")
    periodic = getattr(model, "periodic", True)
    if not np.all(periodic if np.ndim(periodic) == 0 else np.asarray(periodic)[axis]):
        raise ValueError("correlation_function needs a lattice that is periodic along axis")
    n_rec, n_chains = states.shape[:2]
    spins = states.reshape((n_rec, n_chains) + shape).astype(np.float64)
    ax = 2 + (axis % len(shape))
    distances = np.arange(shape[axis] // 2 + 1)
    series = np.empty((len(distances), n_rec, n_chains))
    site_axes = tuple(range(2, 2 + len(shape)))
    for k, r in enumerate(distances):
        series[k] = (spins * np.roll(spins, -int(r), axis=ax)).mean(axis=site_axes)
    corr = series.mean(axis=(1, 2))
    err = np.array([stderr(x) if n_rec >= 4 else np.nan for x in series])
    return {"r": distances, "correlation": corr, "correlation_stderr": err}
