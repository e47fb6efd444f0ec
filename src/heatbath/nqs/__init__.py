"""Neural-network quantum states: RBM wavefunctions, Metropolis on |psi|^2, VMC with SR.

The split follows NetKet's: Hilbert space (:class:`Spins`), Hamiltonians
(:class:`TransverseFieldIsing`, :class:`Heisenberg`), wavefunctions
(:class:`RBM`, :class:`SymmetricRBM`), the sampler (:class:`MetropolisSampler`),
optimisers (:class:`SR`, :class:`SGD`, :class:`Adam`) and the driver
(:class:`VMC`); :mod:`heatbath.nqs.exact` holds the exact references.
"""

from heatbath.nqs import exact
from heatbath.nqs.hamiltonians import Heisenberg, TransverseFieldIsing
from heatbath.nqs.hilbert import Spins
from heatbath.nqs.wavefunctions import RBM, SymmetricRBM, load_wavefunction
from heatbath.nqs.sampler import MetropolisSampler
from heatbath.nqs.optimizers import SGD, SR, Adam
from heatbath.nqs.driver import VMC
from heatbath.nqs.observables import observables

__all__ = ["Spins", "TransverseFieldIsing", "Heisenberg", "RBM", "SymmetricRBM",
           "load_wavefunction", "MetropolisSampler", "SR", "SGD", "Adam", "VMC", "observables",
           "exact"]
