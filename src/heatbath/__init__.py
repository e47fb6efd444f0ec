"""heatbath: fast Boltzmann sampling and energy-based models.

Hot loops are typed Cython with OpenMP over Markov chains; every chain has its
own random stream, so a seed gives the same numbers for any thread count.
"""

from heatbath._version import __version__
from heatbath._openmp import effective_n_threads, openmp_enabled
from heatbath.boltzmann import (
    boltzmann_probs,
    entropy,
    free_energy,
    heat_capacity,
    log_partition,
    mean_energy,
)
from heatbath import diagnostics, io, markov, rbm, spin
from heatbath.rbm import RBM
from heatbath.spin import (BoltzmannMachine, HeatBathSampler, Ising, MetropolisSampler,
                           WolffSampler)

__all__ = [
    "__version__",
    "openmp_enabled",
    "effective_n_threads",
    "boltzmann_probs",
    "log_partition",
    "free_energy",
    "mean_energy",
    "entropy",
    "heat_capacity",
    "markov",
    "spin",
    "diagnostics",
    "io",
    "Ising",
    "BoltzmannMachine",
    "MetropolisSampler",
    "HeatBathSampler",
    "WolffSampler",
    "rbm",
    "RBM",
]
