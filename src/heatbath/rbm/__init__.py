"""Restricted Boltzmann machines with exponential-family units.

:class:`RBM` holds the parameters and answers exact questions (energy, free
energy, exact log Z for small models); :class:`GibbsSampler` runs block Gibbs
chains; :meth:`RBM.fit` trains by CD-k, PCD-k or parallel tempering; :class:`ClassRBM`
classifies with an exact p(y | x).
"""

from heatbath.rbm.classifier import ClassRBM
from heatbath.rbm.model import RBM, GibbsSampler
from heatbath.rbm.units import Bernoulli, Binomial, Gaussian, Poisson, Softmax, Spin

__all__ = ["RBM", "GibbsSampler", "ClassRBM", "Bernoulli", "Spin", "Binomial", "Softmax", "Gaussian",
           "Poisson"]
