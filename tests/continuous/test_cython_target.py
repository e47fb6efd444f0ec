"""A user's own cdef target, compiled against the INSTALLED heatbath .pxd files, sampled in the OpenMP loop."""

import numpy as np
import pytest

from heatbath.continuous import MALA, HMC, CythonTarget, Gaussian
from heatbath.diagnostics import stderr

from .._extending import build_extension

SOURCE = """
    from cpython.pycapsule cimport PyCapsule_New
    from heatbath.continuous._target cimport logp_grad_t, LOGP_GRAD_CAPSULE

    cdef double diag_gauss(const void* params, const double* x, double* grad,
                           Py_ssize_t dim) noexcept nogil:
        # params = [mean (dim), precision (dim)]; the same arithmetic as the built-in
        cdef const double* p = <const double*>params
        cdef Py_ssize_t i
        cdef double r, lp = 0.0
        for i in range(dim):
            r = x[i] - p[i]
            grad[i] = -p[dim + i] * r
            lp = lp + r * grad[i]
        return 0.5 * lp

    def target():
        return PyCapsule_New(<void*>diag_gauss, LOGP_GRAD_CAPSULE, NULL)
"""


@pytest.mark.slow   # compiles an extension (about 15 s unloaded); CI runs it once
def test_user_cdef_target_samples_like_the_builtin(tmp_path):
    module = build_extension(tmp_path, "hb_user_target", SOURCE)
    mean, var = np.array([1.0, -2.0, 0.5]), np.array([0.5, 2.0, 1.0])
    user = CythonTarget(module.target(), 3, params=np.concatenate([mean, 1 / var]))
    builtin = Gaussian(mean, var)
    x = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_array_equal(user.log_prob_and_grad(x)[0], builtin.log_prob_and_grad(x)[0])
    # Same arithmetic, same streams: the same chains bit for bit, on 2 threads.
    for cls in (MALA, HMC):
        a = cls(user, n_chains=6, seed=4, n_threads=2).run(300, burn_in=300)
        b = cls(builtin, n_chains=6, seed=4, n_threads=2).run(300, burn_in=300)
        np.testing.assert_array_equal(a.info["samples"], b.info["samples"])
    # and the law is right (z-tests at 4.5 s.e., false alarm 7e-6 each)
    tr = MALA(user, n_chains=64, seed=5).run(800, burn_in=400)
    s = tr.info["samples"]
    for i in range(3):
        assert abs(s[:, :, i].mean() - mean[i]) < 4.5 * stderr(s[:, :, i])
        c = (s[:, :, i] - mean[i]) ** 2
        assert abs(c.mean() - var[i]) < 4.5 * stderr(c)
