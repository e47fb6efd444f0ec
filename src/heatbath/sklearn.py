"""scikit-learn estimators: a drop-in ``BernoulliRBM`` and RBMs with other units.

:class:`BernoulliRBM` takes the constructor parameters, defaults and fitted
attributes of :class:`sklearn.neural_network.BernoulliRBM`, and adds
``method``, ``k``, ``momentum``, ``weight_decay``, ``n_threads`` and
``shuffle``. It trains with heatbath's kernels (PCD-1 by default, as
scikit-learn does).

Differences a user may notice:

- ``score_samples`` is the **exact** pseudo-likelihood: every visible unit's
  conditional, summed (deterministic). scikit-learn's flips one random unit
  per row and multiplies by the number of units, a noisy estimate with the
  same expectation for binary data.
- Data are binary or probabilities in [0, 1] (grey levels, as scikit-learn
  reads them). Values outside [0, 1] are used as given, as scikit-learn
  does (a test set scaled with the training set's range may stray a little),
  with a ``UserWarning``; NaN and infinity are a ``ValueError``.
- Minibatches are reshuffled every epoch (``shuffle=True``); scikit-learn
  uses the same slices every epoch.
- Results depend on ``random_state`` only, never on ``n_threads``.

:class:`GaussianBernoulliRBM` (real data, unit variance: standardise it
first), :class:`SpinRBM` (data in {-1, +1}), :class:`BinomialRBM`
(counts 0..n_trials) and :class:`PoissonRBM` (unbounded counts 0, 1, 2, ...)
follow the same conventions.

:class:`RBMClassifier` is a classifier: the classification RBM of Larochelle
and Bengio (2008), with an exact ``predict_proba``.

Needs scikit-learn (``pip install heatbath[sklearn]``).
"""

import types
import warnings

import numpy as np
import scipy.sparse as sp

try:
    from sklearn.base import (BaseEstimator, ClassifierMixin, ClassNamePrefixFeaturesOutMixin,
                              TransformerMixin)
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils import check_random_state
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as exc:  # pragma: no cover - exercised without scikit-learn
    raise ImportError("heatbath.sklearn needs scikit-learn >= 1.6: "
                      "pip install 'heatbath[sklearn]'") from exc

from heatbath import _random
from heatbath._openmp import effective_n_threads
from heatbath.rbm import RBM, ClassRBM
from heatbath.rbm import estimators
from heatbath.rbm.train import PersistentChains, cd_step, check_data, fit_trainer
from heatbath.rbm.units import Bernoulli, Gaussian

__all__ = ["BernoulliRBM", "GaussianBernoulliRBM", "SpinRBM", "BinomialRBM", "PoissonRBM",
           "RBMClassifier"]


class _RBMEstimator(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Shared machinery; subclasses fix the visible unit type."""

    _visible_units = "bernoulli"
    #: Start the visible biases at the data's unit means (scikit-learn's BernoulliRBM
    #: starts them at 0, and the drop-in keeps that).
    _init_visible_bias = False

    def __init__(self, n_components=256, *, learning_rate=0.1, batch_size=10, n_iter=10,
                 verbose=0, random_state=None, method="pcd", k=1, momentum=0.0,
                 weight_decay=0.0, shuffle=True, n_threads=None):
        self.n_components = n_components
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.verbose = verbose
        self.random_state = random_state
        self.method = method
        self.k = k
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.shuffle = shuffle
        self.n_threads = n_threads

    def __init_subclass__(cls, **kwargs):
        # Errors such as "unexpected keyword argument 'n_jobs'" name the public
        # class, not this private base: each subclass gets the same __init__
        # under its own name.
        super().__init_subclass__(**kwargs)
        if "__init__" not in vars(cls):
            base, name = _RBMEstimator.__init__, f"{cls.__name__}.__init__"
            code = base.__code__
            if hasattr(code, "co_qualname"):          # Python >= 3.11 reads this one
                code = code.replace(co_qualname=name)
            init = types.FunctionType(code, base.__globals__, "__init__", base.__defaults__)
            init.__kwdefaults__, init.__qualname__ = base.__kwdefaults__, name
            cls.__init__ = init

    # -- helpers ---------------------------------------------------------------
    def _units(self):
        return self._visible_units

    def _probabilities(self):
        return self._units() == "bernoulli"

    def _seed(self):
        """A SeedSequence from random_state (an int gives the same one every time)."""
        rs = check_random_state(self.random_state)
        return np.random.SeedSequence(rs.randint(0, 2**32, size=4, dtype=np.uint64).tolist())

    def _new_model(self, n_features, dtype):
        return RBM(n_features, self.n_components, self._units(), "bernoulli", dtype=dtype,
                   seed=self._seed_seq.spawn(1)[0])

    def _model(self):
        m = RBM(self.components_.shape[1], self.components_.shape[0], self._units(),
                "bernoulli", dtype=self.components_.dtype)
        m.weights = np.ascontiguousarray(self.components_.T)
        m.visible_bias = self.intercept_visible_
        m.hidden_bias = self.intercept_hidden_
        return m

    def _store(self, model):
        self.components_ = np.ascontiguousarray(model.weights.T)
        self.intercept_hidden_ = model.hidden_bias
        self.intercept_visible_ = model.visible_bias
        self._n_features_out = self.n_components

    def _validate(self, X, reset):
        X = validate_data(self, X, accept_sparse="csr", dtype=(np.float64, np.float32),
                          reset=reset)
        if sp.issparse(X):
            X = X.toarray()   # the kernels are dense
        return X

    def _check_values(self, model, X):
        """Rows the unit type accepts, in the model's dtype (ValueError otherwise)."""
        if not self._probabilities():
            return check_data(model, X, False)
        V = check_data(model, X, "any")
        if V.size and (V.min() < 0 or V.max() > 1):
            warnings.warn(f"X has values outside [0, 1] (from {V.min():g} to {V.max():g}); "
                          f"{type(self).__name__} uses them as given, as scikit-learn's does, "
                          f"but a Bernoulli model reads data as probabilities in [0, 1]",
                          UserWarning, stacklevel=3)
        return V

    def _check_params(self):
        if self.method not in ("cd", "pcd"):
            raise ValueError(f"method must be 'cd' or 'pcd', got {self.method!r}")
        if isinstance(self.n_components, bool) or not isinstance(
                self.n_components, (int, np.integer)) or self.n_components < 1:
            raise ValueError(f"n_components must be an int >= 1, got {self.n_components!r}")
        effective_n_threads(self.n_threads)

    # -- fitting ---------------------------------------------------------------
    def fit(self, X, y=None):
        """Fit the model to the rows of X (``n_iter`` epochs of minibatches).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self
        """
        self._check_params()
        X = self._validate(X, reset=True)
        self._seed_seq = self._seed()
        model = self._new_model(X.shape[1], X.dtype)
        V = self._check_values(model, X)
        callback = None
        if self.verbose:
            def callback(epoch, model, history):
                print(f"[{type(self).__name__}] Iteration {epoch}, pseudo-likelihood = "
                      f"{self._score(model, V):.2f}, time = {history['seconds'][-1]:.2f}s")
        trainer = fit_trainer(model, V, epochs=self.n_iter, batch_size=self.batch_size,
                              method=self.method, k=self.k, learning_rate=self.learning_rate,
                              momentum=self.momentum, weight_decay=self.weight_decay,
                              init_visible_bias=self._init_visible_bias,
                              shuffle=self.shuffle, seed=self._seed_seq.spawn(1)[0],
                              callback=callback, n_threads=self.n_threads,
                              probabilities="any" if self._probabilities() else False)
        self._store(model)
        self._velocity = trainer.velocity
        self._chains = trainer.persistent
        self.history_ = trainer.history
        self._set_h_samples()
        return self

    def _set_h_samples(self):
        if self._chains is not None:
            self.h_samples_ = self._chains.h.copy()
        elif not hasattr(self, "h_samples_"):
            self.h_samples_ = np.zeros((self.batch_size, self.n_components),
                                       dtype=self.components_.dtype)

    def partial_fit(self, X, y=None):
        """One update with the rows of X as the minibatch.

        The first call initialises the model (as ``fit`` does); later calls
        continue the same velocity, persistent chains and random streams.

        Returns
        -------
        self
        """
        self._check_params()
        first = not hasattr(self, "components_")
        X = self._validate(X, reset=first)
        if first:
            self._seed_seq = self._seed()
            model = self._new_model(X.shape[1], X.dtype)
            self._velocity = [np.zeros_like(model.weights), np.zeros_like(model.visible_bias),
                              np.zeros_like(model.hidden_bias)]
            self._chains = None
        else:
            model = self._model()
        V = np.ascontiguousarray(self._check_values(model, X))
        if first and self._init_visible_bias:
            model.init_visible_bias(V)
        if self.method == "pcd" and self._chains is None:
            rows = np.resize(np.arange(V.shape[0]), self.batch_size)
            self._chains = PersistentChains(model, V[rows],
                                   _random.spawn_states(self._seed_seq.spawn(1)[0],
                                                        self.batch_size),
                                   np.ones(self.batch_size))
        streams = _random.spawn_states(self._seed_seq.spawn(1)[0], V.shape[0])
        persistent = self._chains if self.method == "pcd" else None
        with np.errstate(over="ignore", invalid="ignore"):
            cd_step(model, V, self.k, streams, self._velocity, self.learning_rate,
                    self.momentum, self.weight_decay, persistent,
                    effective_n_threads(self.n_threads))
        if not np.all(np.isfinite(model.weights)):
            raise FloatingPointError("partial_fit diverged: the weights became NaN or "
                                     f"infinite; lower learning_rate (now "
                                     f"{self.learning_rate})")
        self._store(model)
        self._set_h_samples()
        return self

    # -- using a fitted model ------------------------------------------------------
    def transform(self, X):
        """Hidden-unit means E[h | v] (the learned features), shape (n_samples, n_components)."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        model = self._model()
        V = self._check_values(model, X)
        return model.hidden_means(V, n_threads=self.n_threads).astype(X.dtype, copy=False)

    def gibbs(self, v):
        """One block-Gibbs step from the rows of v: h ~ p(h | v), then v ~ p(v | h).

        Returns
        -------
        ndarray of the shape of v: the new visible samples.
        """
        check_is_fitted(self)
        X = self._validate(v, reset=False)
        model = self._model()
        V = self._check_values(model, X)
        if not hasattr(self, "_seed_seq"):
            self._seed_seq = self._seed()
        out, _ = model.gibbs_step(V, seed=self._seed_seq.spawn(1)[0], n_threads=self.n_threads)
        return out.astype(X.dtype, copy=False)

    def _score(self, model, V):
        return float(self._pseudo_likelihood(model, V).mean())

    def _pseudo_likelihood(self, model, V):
        return estimators.pseudo_likelihood(model, V, n_threads=self.n_threads,
                                            probabilities=isinstance(model.visible, Bernoulli))

    def score_samples(self, X):
        """Exact pseudo-likelihood of each row: sum_i log p(v_i | v_-i).

        Deterministic, unlike scikit-learn's one-random-unit estimate. For
        data given as probabilities each term is its expectation,
        v_i log p(v_i = 1 | v_-i) + (1 - v_i) log p(v_i = 0 | v_-i).

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        model = self._model()
        V = self._check_values(model, X)
        return self._pseudo_likelihood(model, V)

    def _log_likelihood_rows(self, X):
        """log p(v) per row: exact log Z up to 20 hidden units, AIS above (100 runs x
        10,000 betas, seeded by ``random_state``)."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        model = self._model()
        V = self._check_values(model, X)
        if model.n_hidden <= 20:
            log_z = model.log_partition(n_threads=self.n_threads)
        else:
            log_z = model.log_partition("ais", n_runs=100, n_betas=10000,
                                        seed=self._seed(), n_threads=self.n_threads)
            if log_z.ess < 10:
                warnings.warn(f"AIS for log Z has an effective sample size of {log_z.ess:.1f} "
                              f"of 100 runs: log Z is likely too low, and these scores too "
                              f"high (models of large counts need far more than 10,000 "
                              f"betas)", UserWarning, stacklevel=3)
        return -model.free_energy(V, n_threads=self.n_threads) - float(log_z)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class BernoulliRBM(_RBMEstimator):
    """Bernoulli RBM: a drop-in for :class:`sklearn.neural_network.BernoulliRBM`.

    It keeps scikit-learn's defaults (PCD-1, no momentum, zero visible biases).
    A stronger recipe is ``method="cd", k=5, momentum=0.5``; the full default
    recipe of :meth:`heatbath.RBM.fit` also starts the visible biases from the
    data (``heatbath.RBM(n_features, n_components).fit(X)``), which gains about
    2 nats of test log-likelihood on binarised digits at 16 hidden units and
    10 epochs, in less time.

    Parameters
    ----------
    n_components : int, default=256
        Hidden units.
    learning_rate : float, default=0.1
    batch_size : int, default=10
    n_iter : int, default=10
        Epochs.
    verbose : int, default=0
        Print the pseudo-likelihood after every epoch.
    random_state : int, RandomState instance or None
    method : {"pcd", "cd"}, default="pcd"
        Persistent (scikit-learn's SML) or plain contrastive divergence.
    k : int, default=1
        Gibbs steps per update.
    momentum : float in [0, 1), default=0
    weight_decay : float >= 0, default=0
    shuffle : bool, default=True
        Reshuffle the minibatches every epoch.
    n_threads : int or None
        Threads for the products; the results do not depend on it.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
    intercept_hidden_ : ndarray of shape (n_components,)
    intercept_visible_ : ndarray of shape (n_features,)
    h_samples_ : ndarray of shape (batch_size, n_components)
        Hidden states of the persistent chains.
    history_ : dict
        Per-epoch reconstruction error and seconds (from ``fit``).

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.sklearn import BernoulliRBM
    >>> X = np.array([[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
    >>> rbm = BernoulliRBM(n_components=2, random_state=0).fit(X)
    >>> rbm.transform(X).shape, rbm.score_samples(X).shape
    ((4, 2), (4,))
    """


class SpinRBM(_RBMEstimator):
    """RBM with spin {-1, +1} visible units and bernoulli hidden units.

    The same parameters and methods as :class:`BernoulliRBM`; data must hold
    -1 and +1 only.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.sklearn import SpinRBM
    >>> X = np.array([[-1, -1, 1], [1, 1, 1], [1, -1, -1], [-1, 1, 1]])
    >>> SpinRBM(n_components=2, random_state=0).fit(X).transform(X).shape
    (4, 2)
    """

    _visible_units = "spin"


class GaussianBernoulliRBM(_RBMEstimator):
    """RBM with gaussian visible units (unit variance) and bernoulli hidden units.

    Standardise the data first (for example with
    :class:`sklearn.preprocessing.StandardScaler`): the model's visible
    variance is fixed at 1. ``score_samples`` is the log-likelihood per row,
    with log Z exact up to 20 hidden units and from AIS (100 runs x 10,000
    betas, seeded by ``random_state``) above.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.sklearn import GaussianBernoulliRBM
    >>> X = np.random.default_rng(0).standard_normal((50, 3))
    >>> est = GaussianBernoulliRBM(n_components=4, learning_rate=0.01, random_state=0).fit(X)
    >>> est.score_samples(X).shape
    (50,)
    """

    _visible_units = "gaussian"

    def score_samples(self, X):
        """log p(v) per row (exact log Z up to 20 hidden units, AIS above)."""
        return self._log_likelihood_rows(X)


class BinomialRBM(_RBMEstimator):
    """RBM with binomial(n_trials) visible units (counts 0..n_trials).

    Parameters
    ----------
    n_trials : int, default=1
        Trials per visible unit (the largest count).
    All other parameters as :class:`BernoulliRBM`.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.sklearn import BinomialRBM
    >>> X = np.array([[0, 3, 1], [2, 2, 0], [3, 0, 3]])
    >>> BinomialRBM(n_components=2, n_trials=3, random_state=0).fit(X).score_samples(X).shape
    (3,)
    """

    _visible_units = "binomial"

    def __init__(self, n_components=256, *, n_trials=1, learning_rate=0.1, batch_size=10,
                 n_iter=10, verbose=0, random_state=None, method="pcd", k=1, momentum=0.0,
                 weight_decay=0.0, shuffle=True, n_threads=None):
        super().__init__(n_components, learning_rate=learning_rate, batch_size=batch_size,
                         n_iter=n_iter, verbose=verbose, random_state=random_state,
                         method=method, k=k, momentum=momentum, weight_decay=weight_decay,
                         shuffle=shuffle, n_threads=n_threads)
        self.n_trials = n_trials

    def _units(self):
        return f"binomial({self.n_trials})"


class PoissonRBM(_RBMEstimator):
    """RBM with poisson visible units (counts 0, 1, 2, ...) and bernoulli hidden units.

    p(v_i | h) is Poisson with rate exp(a_i + (W h)_i): a mixture of
    independent Poisson models, one for each hidden state, which is proper
    because the hidden units are bounded. Counts can be large, so the
    gradient is too: the default learning rate is 0.001 (with momentum 0.5
    and CD-5: CD-1 trains far worse models of the digits' pixel counts), and
    the visible biases start at the log of each feature's mean count. ``score_samples`` is the log-likelihood per row, with log Z exact
    up to 20 hidden units (the hidden states are enumerated and the counts
    summed in closed form) and from AIS above, which warns when its
    effective sample size is below 10 (on the digits' pixel counts AIS with
    100 runs is far from converged even at 30,000 betas: see the README).

    Parameters
    ----------
    n_components : int, default=256
        Hidden units.
    learning_rate : float, default=0.001
    method : {"cd", "pcd"}, default="cd"
    k : int, default=5
    momentum : float in [0, 1), default=0.5
        The other parameters are those of :class:`BernoulliRBM`, with its
        defaults.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.sklearn import PoissonRBM
    >>> X = np.array([[0, 3, 1], [2, 7, 0], [4, 0, 3], [1, 5, 0]])
    >>> est = PoissonRBM(n_components=2, random_state=0).fit(X)
    >>> est.transform(X).shape, est.score_samples(X).shape
    ((4, 2), (4,))
    """

    _visible_units = "poisson"
    _init_visible_bias = True

    def __init__(self, n_components=256, *, learning_rate=0.001, batch_size=10, n_iter=10,
                 verbose=0, random_state=None, method="cd", k=5, momentum=0.5,
                 weight_decay=0.0, shuffle=True, n_threads=None):
        super().__init__(n_components, learning_rate=learning_rate, batch_size=batch_size,
                         n_iter=n_iter, verbose=verbose, random_state=random_state,
                         method=method, k=k, momentum=momentum, weight_decay=weight_decay,
                         shuffle=shuffle, n_threads=n_threads)

    def score_samples(self, X):
        """log p(v) per row (exact log Z up to 20 hidden units, AIS above)."""
        return self._log_likelihood_rows(X)


class RBMClassifier(ClassifierMixin, BaseEstimator):
    """Classification RBM (Larochelle & Bengio 2008) with scikit-learn's classifier API.

    An RBM over the inputs and a one-hot label; ``predict_proba`` is the exact
    p(y | x), a softmax of minus the free energies (see
    :class:`heatbath.rbm.ClassRBM`).

    Parameters
    ----------
    n_components : int, default=100
        Hidden units.
    method : {"discriminative", "generative", "hybrid"}, default="discriminative"
        Exact gradient of log p(y | x), CD-k on the joint p(x, y), or the
        first plus ``generative_weight`` times the second. The generative
        part models the inputs as Bernoulli units: they must lie in [0, 1].
    solver : {"lbfgs", "sgd"}, default="lbfgs"
        Full-batch L-BFGS on the exact penalised log loss (discriminative
        only; deterministic given ``random_state``), or minibatch gradient
        steps with momentum (any ``method``).
    n_iter : int, default=200
        L-BFGS iterations, or epochs for ``"sgd"``.
    learning_rate, batch_size, momentum, k, generative_weight
        Settings of ``"sgd"`` (see :meth:`heatbath.rbm.ClassRBM.fit`).
    weight_decay : float, default=1e-3
        L2 penalty on the weights.
    random_state : int, RandomState instance or None
        Initial weights, minibatch order and Gibbs draws.
    verbose : int, default=0

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    model_ : heatbath.rbm.ClassRBM
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.sklearn import RBMClassifier
    >>> X = np.array([[1, 0, 1], [1, 1, 1], [0, 0, 1], [0, 1, 0]] * 5)
    >>> y = np.array(["a", "a", "b", "b"] * 5)
    >>> clf = RBMClassifier(n_components=8, random_state=0).fit(X, y)
    >>> clf.predict([[1, 0, 1], [0, 1, 0]]).tolist()
    ['a', 'b']
    """

    def __init__(self, n_components=100, *, method="discriminative", solver="lbfgs",
                 n_iter=200, learning_rate=0.05, batch_size=10, momentum=0.5,
                 weight_decay=1e-3, generative_weight=0.01, k=1, random_state=None, verbose=0):
        self.n_components = n_components
        self.method = method
        self.solver = solver
        self.n_iter = n_iter
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.generative_weight = generative_weight
        self.k = k
        self.random_state = random_state
        self.verbose = verbose

    def _validate(self, X, y=None, reset=False):
        if y is None:
            X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=reset)
        else:
            X, y = validate_data(self, X, y, accept_sparse="csr", dtype=np.float64,
                                 reset=reset)
        if sp.issparse(X):
            X = X.toarray()
        return X, y

    def fit(self, X, y):
        """Fit the classifier; returns self.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        """
        X, y = self._validate(X, y, reset=True)
        check_classification_targets(y)
        self.classes_, labels = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"RBMClassifier needs samples of at least 2 classes in the data, "
                             f"but the data contain only one class: {self.classes_[0]!r}")
        rs = check_random_state(self.random_state)
        init_seed, fit_seed = np.random.SeedSequence(
            rs.randint(0, 2**32, size=4, dtype=np.uint64).tolist()).spawn(2)
        model = ClassRBM(X.shape[1], self.n_components, len(self.classes_), seed=init_seed)
        model.fit(X, labels, method=self.method, solver=self.solver, epochs=self.n_iter,
                  batch_size=self.batch_size, learning_rate=self.learning_rate,
                  momentum=self.momentum, weight_decay=self.weight_decay,
                  generative_weight=self.generative_weight, k=self.k, seed=fit_seed,
                  verbose=bool(self.verbose))
        self.model_ = model
        return self

    def decision_function(self, X):
        """Logits of each class (log p(y | x) up to a per-row constant).

        Shape (n_samples, n_classes), or (n_samples,) with the logit of
        ``classes_[1]`` over ``classes_[0]`` for two classes, as scikit-learn's
        classifiers do.
        """
        check_is_fitted(self)
        X, _ = self._validate(X)
        logits = self.model_.decision_function(X)
        if len(self.classes_) == 2:
            return logits[:, 1] - logits[:, 0]
        return logits

    def predict_proba(self, X):
        """Exact p(y | x), shape (n_samples, n_classes)."""
        check_is_fitted(self)
        X, _ = self._validate(X)
        return self.model_.predict_proba(X)

    def predict_log_proba(self, X):
        """Exact log p(y | x), shape (n_samples, n_classes)."""
        check_is_fitted(self)
        X, _ = self._validate(X)
        return self.model_.predict_log_proba(X)

    def predict(self, X):
        """The most probable class of each row."""
        check_is_fitted(self)
        X, _ = self._validate(X)
        return self.classes_[self.model_.predict(X)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
