"""Spin systems: Ising lattices and Boltzmann machines, their samplers, exact results.

Models (:mod:`heatbath.spin.models`) hold parameters and compute energies;
samplers (:mod:`heatbath.spin.samplers`) own many chains and run the
Cython kernels; :mod:`heatbath.spin.exact` has the exact results the tests
hold them against; :func:`thermodynamics` turns a trace into observables
with error bars.
"""

from heatbath.spin import exact
from heatbath.spin.models import BoltzmannMachine, Ising
from heatbath.spin.multispin import MultispinSampler
from heatbath.spin.observables import thermodynamics
from heatbath.spin.samplers import HeatBathSampler, MetropolisSampler, WolffSampler
from heatbath.spin.swendsen_wang import SwendsenWangSampler
from heatbath.spin.tempering import ReplicaExchange

__all__ = [
    "Ising",
    "BoltzmannMachine",
    "MetropolisSampler",
    "HeatBathSampler",
    "WolffSampler",
    "MultispinSampler",
    "SwendsenWangSampler",
    "ReplicaExchange",
    "thermodynamics",
    "exact",
]
