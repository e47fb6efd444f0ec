# Public Cython surface of heatbath.continuous: a target density in C.
#
# A target is one function that returns log p(x) (up to a constant) and writes
# its gradient, for ONE chain's point x of length dim. It runs inside the
# OpenMP loop over chains, so it must be `noexcept nogil`, must not allocate
# with Python, and may only read `params` (shared by all chains).
#
#     from heatbath.continuous._target cimport logp_grad_t, LOGP_GRAD_CAPSULE
#
#     cdef double my_logp(const void* params, const double* x, double* grad,
#                         Py_ssize_t dim) noexcept nogil:
#         ...
#
#     def target():
#         return PyCapsule_New(<void*>my_logp, LOGP_GRAD_CAPSULE, NULL)
#
# then heatbath.continuous.CythonTarget(module.target(), dim, params=array)
# samples it; `params` (float64, C order) arrives as `params`.

ctypedef double (*logp_grad_t)(const void* params, const double* x, double* grad,
                               Py_ssize_t dim) noexcept nogil

# The name every capsule must carry (checked when the target is made).
cdef extern from *:
    """
    #define HEATBATH_LOGP_GRAD_CAPSULE "heatbath.continuous.logp_grad_t"
    """
    const char* LOGP_GRAD_CAPSULE "HEATBATH_LOGP_GRAD_CAPSULE"
