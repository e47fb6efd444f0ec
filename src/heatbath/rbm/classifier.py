r"""Classification RBM (Larochelle & Bengio 2008): an RBM over inputs and a one-hot label.

The energy joins binary inputs :math:`x` (``n_visible``), binary hidden units
:math:`h` (``n_hidden``) and a one-hot label :math:`e_y` (``n_classes``):

.. math:: E(x, y, h) = -a^\top x - b^\top h - d_y - x^\top W h - U_y^\top h .

Summing out :math:`h` gives the free energy

.. math:: F(x, y) = -a^\top x - d_y - \sum_j \operatorname{softplus}(b_j + U_{yj} + (x W)_j),

and the class probability is exact, a softmax over the labels:
:math:`p(y \mid x) = \operatorname{softmax}_y(-F(x, y))`; the input bias
:math:`a` cancels from it.

Training (:meth:`ClassRBM.fit`):

- ``"discriminative"``: the exact gradient of :math:`\log p(y \mid x)`.
  With :math:`s_{cj} = b_j + U_{cj} + (xW)_j`, :math:`\sigma = \operatorname{sigmoid}(s)`
  and :math:`r_c = [c = y] - p(c \mid x)`: :math:`\partial d_c = r_c`,
  :math:`\partial U_{cj} = r_c \sigma_{cj}`, :math:`\partial b_j = \sum_c r_c
  \sigma_{cj}` and :math:`\partial W_{ij} = x_i \sum_c r_c \sigma_{cj}`.
- ``"generative"``: CD-k on the joint :math:`p(x, y)` (block Gibbs: h given
  (x, y); then x and y given h).
- ``"hybrid"``: the discriminative gradient plus ``generative_weight`` times
  the generative one (Larochelle & Bengio's hybrid objective).

Products run with BLAS on one thread, and every draw comes from one NumPy
``Generator`` spawned from ``seed``, so results do not depend on the thread
count.

References
----------
H. Larochelle and Y. Bengio, "Classification using discriminative restricted
Boltzmann machines", ICML 2008.
"""

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_softmax, softmax

from heatbath import _random
from heatbath._validation import check_int, check_real_array
from heatbath.rbm._layers import single_threaded_blas
from heatbath.rbm.train import _check_positive, check_sgd_settings
from heatbath.rbm.units import softplus

__all__ = ["ClassRBM"]

_METHODS = ("discriminative", "generative", "hybrid")
_SOLVERS = ("sgd", "lbfgs")
_PARAMS = ("weights", "label_weights", "visible_bias", "hidden_bias", "label_bias")


class ClassRBM:
    r"""Classification RBM: exact :math:`p(y \mid x)`, trained generatively or discriminatively.

    Parameters
    ----------
    n_visible : int
        Input features (binary or probabilities in [0, 1] for generative
        training; any real values for discriminative training).
    n_hidden : int
    n_classes : int
        Labels are the integers ``0 .. n_classes - 1``.
    seed : None, int, SeedSequence or Generator
        Initial weights: uniform in :math:`\pm 1/\sqrt{\max(n_{visible}, n_{hidden})}`
        (Larochelle & Bengio); biases start at 0.

    Attributes
    ----------
    weights : ndarray of shape (n_visible, n_hidden)
    label_weights : ndarray of shape (n_classes, n_hidden)
    visible_bias, hidden_bias, label_bias : ndarray
    history_ : dict
        After :meth:`fit`: the mean training ``log_loss`` per epoch.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.rbm import ClassRBM
    >>> X = np.array([[1, 0], [0, 1]] * 20, dtype=float)
    >>> y = np.array([0, 1] * 20)
    >>> model = ClassRBM(2, 4, 2, seed=0).fit(X, y, epochs=30, learning_rate=0.5)
    >>> model.predict([[1, 0], [0, 1]])
    array([0, 1])
    >>> bool(model.predict_proba([[1, 0]])[0, 0] > 0.9)
    True
    """

    def __init__(self, n_visible, n_hidden, n_classes, *, seed=None):
        self.n_visible = check_int(n_visible, "n_visible", minimum=1, maximum=2**24)
        self.n_hidden = check_int(n_hidden, "n_hidden", minimum=1, maximum=2**24)
        self.n_classes = check_int(n_classes, "n_classes", minimum=2, maximum=2**20)
        rng = np.random.default_rng(_random.as_seed_sequence(seed))
        scale = 1.0 / np.sqrt(max(self.n_visible, self.n_hidden))
        self.weights = rng.uniform(-scale, scale, (self.n_visible, self.n_hidden))
        self.label_weights = rng.uniform(-scale, scale, (self.n_classes, self.n_hidden))
        self.visible_bias = np.zeros(self.n_visible)
        self.hidden_bias = np.zeros(self.n_hidden)
        self.label_bias = np.zeros(self.n_classes)
        self.history_ = {"log_loss": []}

    def __repr__(self):
        return (f"ClassRBM(n_visible={self.n_visible}, n_hidden={self.n_hidden}, "
                f"n_classes={self.n_classes})")

    # -- state and files ----------------------------------------------------------
    def get_state(self):
        """The parameters as a plain dict of arrays (what :meth:`save` writes)."""
        return {name: getattr(self, name).copy() for name in _PARAMS}

    @classmethod
    def from_state(cls, state):
        """Rebuild a model from :meth:`get_state`'s dict (shapes and values checked)."""
        try:
            W, U = state["weights"], state["label_weights"]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"state is missing a field: {exc}") from None
        W = check_real_array(W, "state['weights']", ndim=2)
        U = check_real_array(U, "state['label_weights']", ndim=2)
        model = cls(W.shape[0], W.shape[1], U.shape[0])
        for name in _PARAMS:
            value = check_real_array(state.get(name), f"state[{name!r}]")
            if value.shape != getattr(model, name).shape:
                raise ValueError(f"state[{name!r}] has shape {value.shape}, expected "
                                 f"{getattr(model, name).shape}")
            setattr(model, name, np.array(value, order="C", copy=True))
        return model

    def save(self, path):
        """Save the model (atomic ``.npz``, no pickle); :meth:`load` reads it.

        Examples
        --------
        >>> import os, tempfile
        >>> from heatbath.rbm import ClassRBM
        >>> path = os.path.join(tempfile.mkdtemp(), "clf.npz")
        >>> ClassRBM(4, 3, 2, seed=0).save(path)
        >>> ClassRBM.load(path)
        ClassRBM(n_visible=4, n_hidden=3, n_classes=2)
        """
        from heatbath import io

        io.save_state(path, {"model": "ClassRBM", **self.get_state()})

    @classmethod
    def load(cls, path):
        """Read a model written by :meth:`save`."""
        from heatbath import io

        state = io.load_state(path)
        if state.get("model") != "ClassRBM":
            raise ValueError(f"{path!r} does not hold a ClassRBM")
        return cls.from_state(state)

    # -- checks -----------------------------------------------------------
    def _check_X(self, X, name="X"):
        X = check_real_array(X, name)
        if X.ndim != 2:
            raise ValueError(f"Expected 2D array, got {X.ndim}D array instead: {name} must "
                             f"have shape (n_samples, {self.n_visible}). Reshape your data "
                             f"either using array.reshape(-1, 1) if your data has a single "
                             f"feature or array.reshape(1, -1) if it contains a single sample.")
        if X.shape[1] != self.n_visible:
            raise ValueError(f"{name} must have {self.n_visible} columns (n_visible), "
                             f"got {X.shape[1]}")
        return np.ascontiguousarray(X)

    def _check_y(self, y, n):
        arr = np.asarray(y)
        if arr.dtype.kind not in "iub" or arr.ndim != 1:
            raise ValueError(f"y must be a 1-d array of integer labels in 0..{self.n_classes - 1}"
                             f", got dtype {arr.dtype} and shape {arr.shape}")
        if arr.shape[0] != n:
            raise ValueError(f"y must have one label per row of X ({n}), got {arr.shape[0]}")
        if arr.size and (arr.min() < 0 or arr.max() >= self.n_classes):
            raise ValueError(f"y must hold labels in 0..{self.n_classes - 1}, got values from "
                             f"{arr.min()} to {arr.max()}")
        return arr.astype(np.intp)

    # -- exact quantities ---------------------------------------------------
    def _activations(self, X):
        """s[n, c, j] = b_j + U_cj + (x_n W)_j, shape (n, n_classes, n_hidden)."""
        c = X @ self.weights
        c += self.hidden_bias
        return c[:, None, :] + self.label_weights[None, :, :]

    def _logits(self, X):
        s = self._activations(X)
        return self.label_bias + softplus(s).sum(axis=2), s

    def free_energy(self, X, y):
        r"""Free energy :math:`F(x, y)` of each row, shape (n_samples,).

        Examples
        --------
        >>> import numpy as np
        >>> from heatbath.rbm import ClassRBM
        >>> m = ClassRBM(3, 2, 2, seed=0)
        >>> m.label_weights[:] = 0        # then F(0, y) = -2 log 2 (two hidden units)
        >>> m.free_energy(np.zeros((1, 3)), [1]).round(4)
        array([-1.3863])
        """
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0])
        with single_threaded_blas():
            logits, _ = self._logits(X)
        return -(X @ self.visible_bias) - logits[np.arange(X.shape[0]), y]

    def decision_function(self, X):
        r"""The logits :math:`-F(x, c) + a^\top x`, shape (n_samples, n_classes)."""
        X = self._check_X(X)
        with single_threaded_blas():
            return self._logits(X)[0]

    def predict_log_proba(self, X):
        r"""Exact :math:`\log p(y \mid x)`, shape (n_samples, n_classes)."""
        return log_softmax(self.decision_function(X), axis=1)

    def predict_proba(self, X):
        r"""Exact :math:`p(y \mid x)`, shape (n_samples, n_classes)."""
        return softmax(self.decision_function(X), axis=1)

    def predict(self, X):
        """The most probable label of each row."""
        return np.argmax(self.decision_function(X), axis=1)

    def log_loss(self, X, y):
        r"""Mean :math:`-\log p(y \mid x)` over the rows (exact)."""
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0])
        logp = self.predict_log_proba(X)
        return float(-logp[np.arange(X.shape[0]), y].mean())

    # -- gradients ------------------------------------------------------------
    def _discriminative(self, X, y):
        """Mean gradient of log p(y|x) and the mean log loss."""
        logits, s = self._logits(X)
        logp = log_softmax(logits, axis=1)
        n = X.shape[0]
        r = -np.exp(logp)
        r[np.arange(n), y] += 1.0                        # r = onehot(y) - p
        sig = expit(s)
        g_u = np.einsum("nc,ncj->cj", r, sig) / n
        gh = np.einsum("nc,ncj->nj", r, sig)
        return {"weights": X.T @ gh / n, "label_weights": g_u,
                "visible_bias": np.zeros(self.n_visible), "hidden_bias": gh.mean(axis=0),
                "label_bias": r.mean(axis=0)}, float(-logp[np.arange(n), y].mean())

    def _hidden_means(self, X, Y):
        return expit(X @ self.weights + Y @ self.label_weights + self.hidden_bias)

    def _gibbs(self, X, Y, k, rng):
        """k block-Gibbs steps from (X, one-hot Y): h | (x, y), then x and y | h."""
        n = X.shape[0]
        rows = np.arange(n)
        for _ in range(k):
            h = self._hidden_means(X, Y)
            h = (rng.random(h.shape) < h).astype(np.float64)
            X = (rng.random(X.shape) < expit(h @ self.weights.T + self.visible_bias)
                 ).astype(np.float64)
            cdf = np.cumsum(softmax(h @ self.label_weights.T + self.label_bias, axis=1), axis=1)
            labels = np.minimum((rng.random((n, 1)) >= cdf).sum(axis=1), self.n_classes - 1)
            Y = np.zeros((n, self.n_classes))
            Y[rows, labels] = 1.0
        return X, Y

    def _generative(self, X, y, k, rng):
        """CD-k estimate of the mean gradient of log p(x, y)."""
        n = X.shape[0]
        Y = np.zeros((n, self.n_classes))
        Y[np.arange(n), y] = 1.0
        h0 = self._hidden_means(X, Y)
        xk, yk = self._gibbs(X, Y, k, rng)
        h = self._hidden_means(xk, yk)
        return {"weights": (X.T @ h0 - xk.T @ h) / n,
                "label_weights": (Y.T @ h0 - yk.T @ h) / n,
                "visible_bias": (X - xk).mean(axis=0),
                "hidden_bias": (h0 - h).mean(axis=0),
                "label_bias": (Y - yk).mean(axis=0)}

    def sample(self, n_chains, n_steps, *, seed=None):
        r"""Draw (x, y) from the joint :math:`p(x, y)` by block Gibbs, one draw per chain.

        Each chain starts from uniform random inputs and labels and runs
        ``n_steps`` steps; the draws are the chains' final states.

        Returns
        -------
        X : ndarray of shape (n_chains, n_visible)
        y : ndarray of int, shape (n_chains,)

        Examples
        --------
        >>> from heatbath.rbm import ClassRBM
        >>> X, y = ClassRBM(5, 3, 2, seed=0).sample(4, 10, seed=1)
        >>> X.shape, y.shape
        ((4, 5), (4,))
        """
        n_chains = check_int(n_chains, "n_chains", minimum=1)
        n_steps = check_int(n_steps, "n_steps", minimum=1)
        rng = np.random.default_rng(_random.as_seed_sequence(seed))
        X = (rng.random((n_chains, self.n_visible)) < 0.5).astype(np.float64)
        Y = np.zeros((n_chains, self.n_classes))
        Y[np.arange(n_chains), rng.integers(0, self.n_classes, n_chains)] = 1.0
        with single_threaded_blas():
            X, Y = self._gibbs(X, Y, n_steps, rng)
        return X, np.argmax(Y, axis=1)

    def gradient(self, X, y):
        r"""Exact mean gradient of :math:`\log p(y \mid x)` over the rows, by parameter name.

        Examples
        --------
        >>> import numpy as np
        >>> from heatbath.rbm import ClassRBM
        >>> m = ClassRBM(3, 2, 2, seed=0)
        >>> sorted(m.gradient(np.ones((4, 3)), [0, 1, 1, 0]))
        ['hidden_bias', 'label_bias', 'label_weights', 'visible_bias', 'weights']
        """
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0])
        with single_threaded_blas():
            return self._discriminative(X, y)[0]

    # -- training ---------------------------------------------------------------
    def fit(self, X, y, *, method="discriminative", solver="sgd", epochs=30, batch_size=10,
            learning_rate=0.05, momentum=0.5, weight_decay=1e-4, generative_weight=0.01, k=1,
            seed=None, verbose=False):
        """Train on labelled rows; returns the model (per-epoch loss in ``history_``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_visible)
        y : array-like of int, shape (n_samples,)
            Labels in ``0 .. n_classes - 1``.
        method : {"discriminative", "generative", "hybrid"}, default="discriminative"
        solver : {"sgd", "lbfgs"}, default="sgd"
            ``"lbfgs"`` minimises the exact full-batch log loss plus the
            weight decay with scipy's L-BFGS-B (discriminative only;
            ``epochs`` is its iteration limit). ``"sgd"`` runs minibatches
            with momentum.
        epochs : int, default=30
        batch_size : int, default=10
        learning_rate : float, default=0.05
        momentum : float, default=0.5
        weight_decay : float, default=1e-4
            L2 penalty on ``weights`` and ``label_weights``.
        generative_weight : float, default=0.01
            Weight of the generative gradient in ``"hybrid"``.
        k : int, default=1
            Gibbs steps of CD-k (generative and hybrid).
        seed : None, int, SeedSequence or Generator
            Minibatch order and Gibbs draws.
        verbose : bool, default=False
            Print the loss after each epoch.

        Returns
        -------
        ClassRBM
        """
        if method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
        if solver not in _SOLVERS:
            raise ValueError(f"solver must be one of {_SOLVERS}, got {solver!r}")
        if solver == "lbfgs" and method != "discriminative":
            raise ValueError("solver='lbfgs' needs method='discriminative' (the generative "
                             "gradient is a stochastic CD estimate)")
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0])
        epochs, batch_size, k, lr, momentum, decay = check_sgd_settings(
            epochs, batch_size, k, learning_rate, momentum, weight_decay)
        gen_w = _check_positive(generative_weight, "generative_weight", allow_zero=True)
        if method != "discriminative" and X.size and (X.min() < 0 or X.max() > 1):
            raise ValueError(f"method={method!r} models X with Bernoulli units: X must be in "
                             f"[0, 1], got values from {X.min():g} to {X.max():g}")
        self.history_ = {"log_loss": []}
        with single_threaded_blas():
            if solver == "lbfgs":
                self._fit_lbfgs(X, y, epochs, decay)
            else:
                self._fit_sgd(X, y, method, epochs, batch_size, lr, momentum, decay, gen_w, k,
                              seed, verbose)
        return self

    def _fit_sgd(self, X, y, method, epochs, batch_size, lr, momentum, decay, gen_w, k, seed,
                 verbose):
        order_seq, gibbs_seq = _random.as_seed_sequence(seed).spawn(2)
        order_rng = np.random.default_rng(order_seq)
        gibbs_rng = np.random.default_rng(gibbs_seq)
        velocity = {name: np.zeros_like(getattr(self, name)) for name in _PARAMS}
        n = X.shape[0]
        for epoch in range(epochs):
            rows = order_rng.permutation(n)
            losses = []
            for start in range(0, n, batch_size):
                idx = rows[start:start + batch_size]
                xb, yb = X[idx], y[idx]
                if method == "generative":
                    grads = self._generative(xb, yb, k, gibbs_rng)
                    losses.append(float(-log_softmax(self._logits(xb)[0], axis=1)[
                        np.arange(len(idx)), yb].mean()))
                else:
                    grads, loss = self._discriminative(xb, yb)
                    losses.append(loss)
                    if method == "hybrid":
                        gen = self._generative(xb, yb, k, gibbs_rng)
                        for name in _PARAMS:
                            grads[name] += gen_w * gen[name]
                for name in _PARAMS:
                    param = getattr(self, name)
                    g = grads[name]
                    if decay and name in ("weights", "label_weights"):
                        g = g - decay * param
                    v = velocity[name]
                    v *= momentum
                    v += lr * g
                    param += v
            if not all(np.isfinite(getattr(self, name)).all() for name in _PARAMS):
                raise FloatingPointError(f"training diverged at epoch {epoch + 1} (parameters "
                                         f"are no longer finite): lower learning_rate (now "
                                         f"{lr:g})")
            self.history_["log_loss"].append(float(np.mean(losses)))
            if verbose:
                print(f"epoch {epoch + 1}/{epochs}: log loss {self.history_['log_loss'][-1]:.4f}")

    def _fit_lbfgs(self, X, y, max_iter, decay):
        shapes = [getattr(self, name).shape for name in _PARAMS]
        sizes = [int(np.prod(s)) for s in shapes]

        def unpack(theta):
            out, at = {}, 0
            for name, shape, size in zip(_PARAMS, shapes, sizes):
                out[name] = theta[at:at + size].reshape(shape)
                at += size
            return out

        def objective(theta):
            for name, value in unpack(theta).items():
                setattr(self, name, value)
            grads, loss = self._discriminative(X, y)
            penalty = 0.5 * decay * (np.sum(self.weights ** 2) + np.sum(self.label_weights ** 2))
            flat = []
            for name in _PARAMS:
                g = -grads[name]
                if name in ("weights", "label_weights"):
                    g = g + decay * getattr(self, name)
                flat.append(g.ravel())
            return loss + penalty, np.concatenate(flat)

        theta0 = np.concatenate([getattr(self, name).ravel() for name in _PARAMS])
        history = []
        result = minimize(objective, theta0, jac=True, method="L-BFGS-B",
                          options={"maxiter": max(max_iter, 1)},
                          callback=lambda th: history.append(objective(th)[0]))
        for name, value in unpack(result.x).items():
            setattr(self, name, np.array(value, order="C", copy=True))
        self.history_["log_loss"].extend(history)
        self.n_iter_ = int(result.nit)
