# The one enumeration of RBM unit kinds: kernels cimport it, and heatbath.rbm._gibbs
# exports it to Python as UNIT_KINDS (heatbath.rbm.units reads it from there).
cdef enum:
    BERNOULLI = 0
    SPIN = 1
    GAUSSIAN = 2
    BINOMIAL = 3
    SOFTMAX = 4
    POISSON = 5
