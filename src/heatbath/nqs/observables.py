"""Observables with error bars from a sampler's trace: energy, variance, Z magnetisation, <Z_i Z_j>.

Error bars: the energy's from its integrated autocorrelation time; the
spin observables' from the spread of the per-chain means (independent chains),
stderr = std(chain means) / sqrt(n_chains).
"""

import numpy as np

from heatbath.nqs.driver import energy_statistics

__all__ = ["observables"]


def _chain_mean(x):
    """Mean over all records and its stderr from chain means; x is (n_rec, n_chains, ...)."""
    means = x.mean(axis=0)
    n_chains = means.shape[0]
    err = means.std(axis=0, ddof=1) / np.sqrt(n_chains) if n_chains > 1 else np.full(
        means.shape[1:], np.nan)
    return means.mean(axis=0), err


def observables(trace):
    """Energy, variance, magnetisations and Z-Z correlations of a NQS trace.

    Parameters
    ----------
    trace : heatbath.diagnostics.Trace
        From :meth:`heatbath.nqs.sampler.MetropolisSampler.run` with a
        Hamiltonian and ``record_states=True``.

    Returns
    -------
    dict
        ``energy``, ``energy_stderr``, ``variance``, ``rhat``; ``z`` and
        ``z_stderr`` (<Z_i>, per site); ``m_abs`` and ``m_abs_stderr``
        (<|sum_i Z_i| / N>); ``zz`` and ``zz_stderr`` (<Z_i Z_j>, N x N).

    Examples
    --------
    >>> from heatbath.nqs import RBM, TransverseFieldIsing
    >>> from heatbath.nqs.sampler import MetropolisSampler
    >>> from heatbath.nqs.observables import observables
    >>> t = MetropolisSampler(RBM(4, seed=0), hamiltonian=TransverseFieldIsing(4),
    ...                       n_chains=4, seed=0).run(100, record_states=True)
    >>> obs = observables(t)
    >>> obs["zz"].shape, bool((obs["zz"].diagonal() == 1).all())
    ((4, 4), True)
    """
    eloc = trace["energy"]
    if "energy_imag" in trace.observables:
        eloc = eloc + 1j * trace["energy_imag"]
    out = energy_statistics(eloc)
    if trace.states is None:
        raise ValueError("the trace has no states: run the sampler with record_states=True")
    s = trace.states.astype(float)                          # (n_rec, n_chains, N)
    n = s.shape[2]
    out["z"], out["z_stderr"] = _chain_mean(s)
    out["m_abs"], out["m_abs_stderr"] = (float(v) for v in _chain_mean(
        np.abs(s.sum(axis=2)) / n))
    out["zz"], out["zz_stderr"] = _chain_mean(s[:, :, :, None] * s[:, :, None, :])
    return out
