r"""Optimisers for VMC: stochastic reconfiguration (SR), plain SGD and Adam.

All take the centred, scaled log-derivatives and local energies of one batch
of samples,

.. math:: \bar O_{nk} = (O_k(s_n) - \langle O_k \rangle) / \sqrt{N_s},\quad
          \bar\epsilon_n = (E_{loc}(s_n) - \langle E_{loc} \rangle) / \sqrt{N_s},

whose products give the force F = \bar O^\dagger \bar\epsilon
= <O^* E_loc> - <O^*><E_loc> (for real parameters of a real psi, half the energy
gradient; for complex, holomorphic parameters, dE/dp^*) and the SR matrix
S = \bar O^\dagger \bar O = <O^* O> - <O^*><O>.

SR solves (S + \epsilon I) \delta = F and steps p <- p - lr \delta. Two exact
forms are used:

- **dense** (N_s >= P): form S (P x P) and solve by Cholesky;
- **kernel** / minSR (N_s < P): by the push-through identity
  (S + eps I)^{-1} \bar O^\dagger = \bar O^\dagger (\bar O \bar O^\dagger + eps I)^{-1},
  so \delta = \bar O^\dagger (T + \epsilon I)^{-1} \bar\epsilon with
  T = \bar O \bar O^\dagger (N_s x N_s): the same step at the cost of an
  N_s-sized solve. ``solver="auto"`` picks the smaller matrix.

The products run in single-threaded BLAS, whose reduction order is fixed; the
Gram matrix is a sum over fixed blocks of samples (:func:`gram`), which threads
may compute in parallel and which are added in a fixed order. So a step is the
same for any ``n_threads``.
"""

import numbers

import numpy as np
import scipy.linalg

from heatbath.rbm._layers import run_parallel, single_threaded_blas

__all__ = ["SR", "SGD", "Adam", "centered", "gram"]


def _positive(value, name, allow_zero=False):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'} and finite, "
                         f"got {value}")
    return value


def centered(O, eloc):
    """(O_bar, eps_bar): centred log-derivatives and local energies over sqrt(N_s)."""
    n = O.shape[0]
    scale = 1.0 / np.sqrt(n)
    return (O - O.mean(axis=0)) * scale, (eloc - eloc.mean()) * scale


def force(O_bar, eps_bar):
    """F = O_bar^H eps_bar."""
    with single_threaded_blas():
        return O_bar.conj().T @ eps_bar


class _Optimizer:
    def get_state(self):
        return {}

    def set_state(self, state):
        pass


class SGD(_Optimizer):
    """Plain gradient descent: p <- p - lr F.

    Examples
    --------
    >>> from heatbath.nqs.optimizers import SGD
    >>> SGD(0.1)
    SGD(learning_rate=0.1)
    """

    def __init__(self, learning_rate=0.01):
        self.learning_rate = _positive(learning_rate, "learning_rate")

    def __repr__(self):
        return f"SGD(learning_rate={self.learning_rate})"

    def direction(self, O, eloc, n_threads=1):
        return force(*centered(O, eloc))

    def step(self, params, O, eloc, n_threads=1):
        """New parameters after one step from log-derivatives O (n, P) and local energies."""
        return params - self.learning_rate * self.direction(O, eloc, n_threads)


class Adam(SGD):
    """Adam (Kingma & Ba 2015) on the force F; for complex parameters v tracks |F|^2.

    Examples
    --------
    >>> from heatbath.nqs.optimizers import Adam
    >>> Adam(0.01).beta1
    0.9
    """

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(learning_rate)
        self.beta1 = _positive(beta1, "beta1", allow_zero=True)
        self.beta2 = _positive(beta2, "beta2", allow_zero=True)
        if self.beta1 >= 1 or self.beta2 >= 1:
            raise ValueError("beta1 and beta2 must be < 1")
        self.eps = _positive(eps, "eps")
        self._m = self._v = None
        self._t = 0

    def __repr__(self):
        return f"Adam(learning_rate={self.learning_rate}, beta1={self.beta1}, beta2={self.beta2})"

    def step(self, params, O, eloc, n_threads=1):
        g = self.direction(O, eloc, n_threads)
        if self._m is None:
            self._m = np.zeros_like(g)
            self._v = np.zeros(g.shape)
        self._t += 1
        self._m = self.beta1 * self._m + (1 - self.beta1) * g
        self._v = self.beta2 * self._v + (1 - self.beta2) * np.abs(g) ** 2
        m_hat = self._m / (1 - self.beta1 ** self._t)
        v_hat = self._v / (1 - self.beta2 ** self._t)
        return params - self.learning_rate * m_hat / (np.sqrt(v_hat) + self.eps)

    def get_state(self):
        if self._m is None:
            return {"t": 0}
        return {"t": self._t, "m": self._m.copy(), "v": self._v.copy()}

    def set_state(self, state):
        self._t = int(state["t"])
        self._m = None if self._t == 0 else np.array(state["m"])
        self._v = None if self._t == 0 else np.array(state["v"])


class SR(SGD):
    """Stochastic reconfiguration: p <- p - lr (S + diag_shift I)^{-1} F.

    Parameters
    ----------
    learning_rate : float, default=0.01
    diag_shift : float, default=0.01
        Added to the diagonal of S (as NetKet's ``diag_shift``).
    solver : {"auto", "dense", "kernel"}, default="auto"
        "dense" forms S (P x P); "kernel" (minSR) solves in sample space
        (N_s x N_s); "auto" uses kernel when N_s < P. Both give the same step.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.nqs.optimizers import SR
    >>> rng = np.random.default_rng(0)
    >>> O, e = rng.normal(size=(50, 8)), rng.normal(size=50)
    >>> a = SR(solver="dense").direction(O, e)
    >>> b = SR(solver="kernel").direction(O, e)
    >>> bool(np.allclose(a, b, atol=1e-12))
    True
    """

    def __init__(self, learning_rate=0.01, diag_shift=0.01, solver="auto"):
        super().__init__(learning_rate)
        self.diag_shift = _positive(diag_shift, "diag_shift")
        if solver not in ("auto", "dense", "kernel"):
            raise ValueError(f"solver must be 'auto', 'dense' or 'kernel', got {solver!r}")
        self.solver = solver

    def __repr__(self):
        return (f"SR(learning_rate={self.learning_rate}, diag_shift={self.diag_shift}, "
                f"solver={self.solver!r})")

    def uses_kernel(self, n_samples, n_parameters):
        """True where the step is solved in sample space."""
        if self.solver == "auto":
            return n_samples < n_parameters
        return self.solver == "kernel"

    def direction(self, O, eloc, n_threads=1):
        Ob, eb = centered(O, eloc)
        n, p = Ob.shape
        if self.uses_kernel(n, p):
            T = gram(Ob.conj().T, n_threads)                 # O_bar O_bar^H, (n, n)
            T[np.diag_indices(n)] += self.diag_shift
            y = _solve_pd(T, eb)
            with single_threaded_blas():
                return Ob.conj().T @ y
        S = gram(Ob, n_threads)                              # O_bar^H O_bar, (p, p)
        S[np.diag_indices(p)] += self.diag_shift
        return _solve_pd(S, force(Ob, eb))


def _solve_pd(A, b):
    """Solve A x = b for Hermitian positive definite A (Cholesky; A is overwritten)."""
    with single_threaded_blas():
        c = scipy.linalg.cho_factor(A, lower=True, overwrite_a=True, check_finite=False)
        return scipy.linalg.cho_solve(c, b, check_finite=False)


#: Rows per block of :func:`gram` (the blocks depend on the shape only).
GRAM_ROWS = 512


def gram(A, n_threads=1):
    """A^H A as a sum over fixed row blocks of A, in block order: the same bits for any n_threads.

    Each block is one single-threaded BLAS call (syrk for real A); the blocks
    run on up to ``n_threads`` threads and are summed in a fixed order.
    """
    n = A.shape[0]
    count = max(1, -(-n // GRAM_ROWS))
    cuts = [slice(n * i // count, n * (i + 1) // count) for i in range(count)]

    def block(c):
        B = A[c]
        return np.dot(B.T, B) if not np.iscomplexobj(B) else np.dot(B.conj().T, B)

    with single_threaded_blas():
        parts = run_parallel([lambda c=c: block(c) for c in cuts], n_threads)
    out = parts[0]
    for part in parts[1:]:
        out += part
    return out
