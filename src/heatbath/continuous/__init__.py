"""Continuous-state sampling over R^d: RWM, MALA, ULA and HMC over many chains.

Targets come three ways: a Python callable vectorised over chains
(:class:`PythonTarget`), a built-in compiled target with exact moments
(:class:`Gaussian`, :class:`GaussianMixture`, :class:`DoubleWell`,
:class:`Phi4`, :class:`RBMMarginal`), or a user's own ``cdef`` function
declared against ``heatbath/continuous/_target.pxd`` (:class:`CythonTarget`).
Compiled targets run inside the nogil OpenMP loop over chains.
"""

from heatbath.continuous.samplers import HMC, MALA, RWM, ULA, ContinuousSampler, summary
from heatbath.continuous.targets import (
    CythonTarget, DoubleWell, Gaussian, GaussianMixture, Phi4, PythonTarget, RBMMarginal, Target,
)

__all__ = ["RWM", "MALA", "ULA", "HMC", "ContinuousSampler", "summary", "Target",
           "PythonTarget", "CythonTarget", "Gaussian", "GaussianMixture", "DoubleWell", "Phi4",
           "RBMMarginal"]
