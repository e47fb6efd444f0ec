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

For the plain RBM the log-derivatives have a product structure, O = [s, t, s (x) t]
(t = tanh theta, one row per sample), which :class:`RBMJacobian` keeps instead of
the n x (N + M + N M) matrix. Its sample Gram matrix is
O O^H = s s^T + t t^H + (s s^T) o (t t^H) (o: elementwise), and centring is
C (O O^H) C / N_s with C = I - 1 1^T / N_s, so T costs O(N_s^2 (N + M)) instead of
O(N_s^2 N M), and \delta = \bar O^\dagger y is one product s^T (z o t^*). The dense
form does not build O either: O_p = s'_alpha t'_beta with s' = [1, s], t' = [1, t], so
<O_p^* O_q> = sum_n s'_g s'_h conj(t'_b) t'_d / n is symmetric in (g, h) and Hermitian in
(b, d), and one GEMM of the pair products U (n x (N+1)(N+2)/2) and G
(n x (M+1)(M+2)/2) gives every entry of S (:meth:`RBMJacobian.sr_matrix`, kernels in
:mod:`heatbath.nqs._sr`): n (N+1)(N+2)(M+1)(M+2)/4 multiply-adds instead of n P^2 / 2
(54 M instead of 98 M at N = M = 20, 1008 samples; one real GEMM for complex t), then a
Cholesky factor of S in place. With a :class:`RBMJacobian`, ``solver="auto"`` compares
the flop counts of the two forms (the dense form at N = 20, alpha = 1 and 1008 samples;
the kernel form from N = 40 on, or at alpha = 2).

The products run in single-threaded BLAS, whose reduction order is fixed; the
Gram matrix is a sum over fixed blocks of samples (:func:`gram`), which threads
may compute in parallel and which are added in a fixed order. So a step is the
same for any ``n_threads``.
"""

import numbers

import numpy as np
import scipy.linalg

from heatbath._validation import check_int
from heatbath._threads import run_parallel, single_threaded_blas

__all__ = ["SR", "SGD", "Adam", "Decay", "RBMJacobian", "centered", "gram", "pair_moments"]


def _positive(value, name, allow_zero=False):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'} and finite, "
                         f"got {value}")
    return value


class RBMJacobian:
    """The log-derivatives of a plain RBM, O = [s, t, s (x) t], kept as (s, t).

    Parameters
    ----------
    s : array (n, N) of -1/+1
    t : array (n, M)
        tanh(theta) of each sample (float64 or complex128, the parameters' dtype).

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.nqs.optimizers import RBMJacobian
    >>> s = np.array([[1, -1], [1, 1], [-1, 1]], dtype=np.int8)
    >>> J = RBMJacobian(s, np.tanh(np.ones((3, 1))))
    >>> J.shape, J.dense().shape
    ((3, 5), (3, 5))
    """

    def __init__(self, s, t):
        self.s = s
        self.t = t
        self.shape = (s.shape[0], s.shape[1] + t.shape[1] + s.shape[1] * t.shape[1])
        self.dtype = t.dtype

    def dense(self):
        """The full (n, N + M + N M) matrix, in the parameter order a, b, W."""
        n, N, M = self.s.shape[0], self.s.shape[1], self.t.shape[1]
        out = np.empty(self.shape, dtype=self.dtype)
        # s in the parameters' dtype first: the products are the ones NumPy's mixed-type
        # loop would compute (it casts s the same way), without its per-element casts.
        sd = self.s.astype(self.dtype)
        out[:, :N] = sd
        out[:, N:N + M] = self.t
        np.multiply(sd[:, :, None], self.t[:, None, :], out=out[:, N + M:].reshape(n, N, M))
        return out

    def sample_gram(self):
        """T = O_bar O_bar^H = C (s s^T + t t^H + (s s^T) o (t t^H)) C / n, (n, n)."""
        n = self.s.shape[0]
        sf = self.s.astype(float)
        with single_threaded_blas():
            gs = sf @ sf.T                               # integers: exact
            gt = self.t @ self.t.conj().T
        g = gt * (gs + 1.0)
        g += gs
        # C g C: subtract row and column means, add back the total mean.
        rows = g.mean(axis=1)
        cols = g.mean(axis=0)
        g -= rows[:, None]
        g -= cols[None, :]
        g += rows.mean()
        g *= 1.0 / n
        return g

    def pair_products(self, n_threads=1, out=None):
        """(U, G): the pair products of s' = [1, s] and t' = [1, t] (see :mod:`heatbath.nqs._sr`).

        U[n] = [s'_a s'_b for a <= b] (float64), G[n] = [conj(t'_a) t'_b for a <= b];
        ``out`` = (U, G) buffers of the right shapes to fill, or None.
        """
        from heatbath.nqs import _sr

        n, N, M = self.s.shape[0], self.s.shape[1], self.t.shape[1]
        if out is None:
            out = (np.empty((n, (N + 1) * (N + 2) // 2)),
                   np.empty((n, (M + 1) * (M + 2) // 2), dtype=self.dtype))
        U, G = out
        _sr._spin_pairs(np.ascontiguousarray(self.s, dtype=np.int8), U, n_threads)
        _sr._tanh_pairs(np.ascontiguousarray(self.t), G, n_threads)
        return U, G

    def sr_matrix(self, diag_shift, n_threads=1, work=None):
        """(S + diag_shift I, <O>) from the pair products, without the n x P matrix.

        S = <O^* O> - <O^*><O> is written into the LOWER triangle of a
        Fortran-ordered (P, P) array (what a lower Cholesky reads; the upper
        triangle is left as it was). ``work`` is a dict that keeps the buffers
        between calls (shapes permitting). Costs n K1 K2 multiply-adds,
        K1 = (N + 1)(N + 2)/2, K2 = (M + 1)(M + 2)/2, instead of n P^2 / 2.
        """
        from heatbath.nqs import _sr

        n, P = self.shape
        N, M = self.s.shape[1], self.t.shape[1]
        work = {} if work is None else work
        key = (n, N, M, self.dtype)
        if work.get("key") != key:
            work.clear()
            work.update(key=key, U=np.empty((n, (N + 1) * (N + 2) // 2)),
                        G=np.empty((n, (M + 1) * (M + 2) // 2), dtype=self.dtype),
                        S=np.empty((P, P), dtype=self.dtype, order="F"),
                        mean=np.empty(P, dtype=self.dtype))
        U, G = work["U"], work["G"]
        s, t = np.ascontiguousarray(self.s, dtype=np.int8), np.ascontiguousarray(self.t)

        def fill(rows):
            # each block's pair products in its own task (one thread each, GIL released)
            _sr._spin_pairs(s[rows], U[rows], 1)
            _sr._tanh_pairs(t[rows], G[rows], 1)

        R = pair_moments(U, G, n_threads, fill)
        # one thread: ~0.2 ms, and one parallel region fewer per step on a busy machine
        _sr._scatter(R, N, M, 1.0 / n, float(diag_shift), work["mean"], work["S"], 1)
        return work["S"], work["mean"]

    def force(self, eloc):
        """F = <O^* E_loc> - <O^*><E_loc> = sum_n conj(O(s_n)) (E_loc - <E_loc>)_n / n, (P,)."""
        from heatbath.nqs import _sr

        n, P = self.shape
        e = np.asarray(eloc, dtype=self.dtype)
        e = e - e.mean()
        e *= 1.0 / n
        out = np.empty(P, dtype=self.dtype)
        _sr._force(np.ascontiguousarray(self.s, dtype=np.int8), np.ascontiguousarray(self.t),
                   e, out, np.empty(self.t.shape[1], dtype=self.dtype))
        return out

    def adjoint_times(self, y):
        """O_bar^H y for a vector y (n,)."""
        n, N = self.s.shape
        z = y - y.mean()
        z *= 1.0 / np.sqrt(n)
        sf = self.s.astype(float)
        with single_threaded_blas():
            da = sf.T @ z
            db = self.t.conj().T @ z
            dW = sf.T @ (z[:, None] * self.t.conj())
        return np.concatenate([da.astype(np.result_type(da, self.dtype)), db, dW.ravel()])


class Decay:
    """A value that decays geometrically with the iteration, then stays.

    value(k) = start * (end / start) ** min(k / n_iterations, 1): ``learning_rate``
    and ``diag_shift`` accept one (the VMC driver passes its iteration count,
    so a resumed run continues the schedule).

    Examples
    --------
    >>> from heatbath.nqs.optimizers import Decay
    >>> d = Decay(0.1, 0.001, 100)
    >>> d(0), round(d(50), 6), d(100), d(1000)
    (0.1, 0.01, 0.001, 0.001)
    """

    def __init__(self, start, end, n_iterations):
        self.start = _positive(start, "start")
        self.end = _positive(end, "end")
        self.n_iterations = check_int(n_iterations, "n_iterations", minimum=1)

    def __call__(self, iteration):
        if iteration >= self.n_iterations:
            return self.end
        return self.start * (self.end / self.start) ** (iteration / self.n_iterations)

    def __repr__(self):
        return f"Decay({self.start}, {self.end}, {self.n_iterations})"


def _rate(value, name):
    return value if isinstance(value, Decay) else _positive(value, name)


def _at(value, iteration):
    return value(iteration) if isinstance(value, Decay) else value


def centered(O, eloc):
    """(O_bar, eps_bar): centred log-derivatives and local energies over sqrt(N_s)."""
    n = O.shape[0]
    scale = 1.0 / np.sqrt(n)
    if isinstance(O, RBMJacobian):
        Ob = O.dense()                              # a fresh array: centred in place
        np.subtract(Ob, Ob.mean(axis=0), out=Ob)
    else:
        Ob = O - O.mean(axis=0)
    Ob *= scale
    return Ob, (eloc - eloc.mean()) * scale


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
        self.learning_rate = _rate(learning_rate, "learning_rate")

    def __repr__(self):
        return f"SGD(learning_rate={self.learning_rate})"

    def direction(self, O, eloc, n_threads=1, iteration=0):
        return force(*centered(O, eloc))

    def step(self, params, O, eloc, n_threads=1, iteration=0):
        """New parameters after one step from log-derivatives O (n, P) and local energies.

        ``O`` is an array or an :class:`RBMJacobian`; ``iteration`` picks the
        value of a :class:`Decay` schedule.
        """
        return params - _at(self.learning_rate, iteration) * self.direction(
            O, eloc, n_threads, iteration)


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

    def step(self, params, O, eloc, n_threads=1, iteration=0):
        g = self.direction(O, eloc, n_threads, iteration)
        if self._m is None:
            self._m = np.zeros_like(g)
            self._v = np.zeros(g.shape)
        self._t += 1
        self._m = self.beta1 * self._m + (1 - self.beta1) * g
        self._v = self.beta2 * self._v + (1 - self.beta2) * np.abs(g) ** 2
        m_hat = self._m / (1 - self.beta1 ** self._t)
        v_hat = self._v / (1 - self.beta2 ** self._t)
        return params - _at(self.learning_rate, iteration) * m_hat / (np.sqrt(v_hat) + self.eps)

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
    learning_rate : float or Decay, default=0.01
        The step along (S + diag_shift I)^{-1} F (NetKet steps along the
        energy gradient 2 F: its learning rate 0.01 is 0.02 here).
    diag_shift : float or Decay, default=0.01
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
        self.diag_shift = _rate(diag_shift, "diag_shift")
        if solver not in ("auto", "dense", "kernel"):
            raise ValueError(f"solver must be 'auto', 'dense' or 'kernel', got {solver!r}")
        self.solver = solver
        self._work = {}                      # buffers reused between steps (not state)

    def __repr__(self):
        return (f"SR(learning_rate={self.learning_rate}, diag_shift={self.diag_shift}, "
                f"solver={self.solver!r})")

    def uses_kernel(self, n_samples, n_parameters, structure=None):
        """True where the step is solved in sample space.

        ``structure`` = (N, M) for an :class:`RBMJacobian` (whose sample Gram
        matrix is cheap): then "auto" compares the flop counts of the forms.
        """
        if self.solver != "auto":
            return self.solver == "kernel"
        n, p = n_samples, n_parameters
        if structure is None:
            return n < p
        N, M = structure
        # S from the pair products (RBMJacobian.sr_matrix), then its Cholesky factor
        dense = n * ((N + 1) * (N + 2) // 2) * ((M + 1) * (M + 2) // 2) + p ** 3 / 3
        kernel = n * n * (N + M) / 2 + 4 * n * n + n ** 3 / 3 + 2 * n * N * M
        return kernel < dense

    def direction(self, O, eloc, n_threads=1, iteration=0):
        shift = _at(self.diag_shift, iteration)
        if isinstance(O, RBMJacobian):
            n, p = O.shape
            if self.uses_kernel(n, p, (O.s.shape[1], O.t.shape[1])):
                T = O.sample_gram()
                T[np.diag_indices(n)] += shift
                e = eloc - eloc.mean()
                e *= 1.0 / np.sqrt(n)
                return O.adjoint_times(_solve_pd(T, e))
            S, _ = O.sr_matrix(shift, n_threads, self._work)
            return _solve_lower(S, O.force(eloc))
        Ob, eb = centered(O, eloc)
        n, p = Ob.shape
        if self.uses_kernel(n, p):
            T = gram(Ob.conj().T, n_threads)                 # O_bar O_bar^H, (n, n)
            T[np.diag_indices(n)] += shift
            y = _solve_pd(T, eb)
            with single_threaded_blas():
                return Ob.conj().T @ y
        S = gram(Ob, n_threads)                              # O_bar^H O_bar, (p, p)
        S[np.diag_indices(p)] += shift
        return _solve_pd(S, force(Ob, eb))


def _solve_pd(A, b):
    """Solve A x = b for Hermitian positive definite A (Cholesky; A is overwritten)."""
    with single_threaded_blas():
        c = scipy.linalg.cho_factor(A, lower=True, overwrite_a=True, check_finite=False)
        return scipy.linalg.cho_solve(c, b, check_finite=False)


def _solve_lower(S, F):
    """Solve S x = F from the lower triangle of a Fortran-ordered Hermitian PD S (overwritten)."""
    potrf, potrs = scipy.linalg.get_lapack_funcs(("potrf", "potrs"), (S,))
    with single_threaded_blas():
        c, info = potrf(S, lower=1, overwrite_a=1, clean=0)
        if info != 0:
            raise np.linalg.LinAlgError(f"S + diag_shift I is not positive definite "
                                        f"(potrf info {info})")
        x, info = potrs(c, F, lower=1)
    return x


#: Rows per block of :func:`gram` (the blocks depend on the shape only).
GRAM_ROWS = 512


def pair_moments(U, G, n_threads=1, fill=None):
    """R = U^T G (U real (n, K1), G (n, K2) real or complex) over the fixed row blocks of
    :func:`gram`, summed in block order: the same bits for any n_threads.

    A complex G is multiplied as its (n, 2 K2) real view (one real GEMM, not a complex one).
    ``fill(rows)``, if given, is called first in each block's task (to compute that block
    of U and G there: no separate parallel pass, and the block is still in cache).
    """
    cplx = np.iscomplexobj(G)
    Gr = G.view(np.float64) if cplx else G

    def block(c):
        if fill is not None:
            fill(c)
        return np.dot(U[c].T, Gr[c])

    out = _block_sum(block, U.shape[0], n_threads)
    return out.view(np.complex128) if cplx else out


def _block_sum(block, n, n_threads):
    """sum of block(rows) over the fixed row blocks of n rows (GRAM_ROWS each at most),
    computed on up to ``n_threads`` threads with BLAS on one, added in block order."""
    count = max(1, -(-n // GRAM_ROWS))
    cuts = [slice(n * i // count, n * (i + 1) // count) for i in range(count)]
    with single_threaded_blas():
        parts = run_parallel([lambda c=c: block(c) for c in cuts], n_threads)
    out = parts[0]
    for part in parts[1:]:
        out += part
    return out


def gram(A, n_threads=1):
    """A^H A as a sum over fixed row blocks of A, in block order: the same bits for any n_threads.

    Each block is one single-threaded BLAS call (syrk for real A); the blocks
    run on up to ``n_threads`` threads and are summed in a fixed order.
    """

    def block(c):
        B = A[c]
        return np.dot(B.T, B) if not np.iscomplexobj(B) else np.dot(B.conj().T, B)

    return _block_sum(block, A.shape[0], n_threads)
