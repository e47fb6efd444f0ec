"""Restricted Boltzmann machines with exponential-family units.

:class:`RBM` holds the parameters and answers exact questions (energy, free
energy, exact log Z for small models); :class:`GibbsSampler` runs block Gibbs
chains; :meth:`RBM.fit` trains by CD-k, PCD-k or parallel tempering.
"""

from heatbath.rbm.model import RBM, GibbsSampler
from heatbath.rbm.units import Bernoulli, Binomial, Gaussian, Softmax, Spin

__all__ = ["RBM", "GibbsSampler", "Bernoulli", "Spin", "Binomial", "Softmax", "Gaussian"]
