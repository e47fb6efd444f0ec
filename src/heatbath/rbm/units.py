r"""Unit types of a restricted Boltzmann machine (the exponential family).

The energy of an RBM with visible units v (biases a) and hidden units h
(biases b) is

.. math:: E(v, h) = \sum_i \phi_v(v_i; a_i) + \sum_j \phi_h(h_j; b_j) - v^\top W h,

where each unit type fixes its values and its term :math:`\phi`:

=================  ================  ==================================
type               values            :math:`\phi(v; a)`
=================  ================  ==================================
``bernoulli``      {0, 1}            :math:`-a v`
``spin``           {-1, +1}          :math:`-a v`
``binomial(n)``    {0, ..., n}       :math:`-a v - \log\binom{n}{v}`
``softmax(k)``     one-hot groups    :math:`-a v` (k units per group)
``poisson``        {0, 1, 2, ...}    :math:`-a v + \log v!`
``gaussian``       real              :math:`(v - a)^2 / 2` (unit variance)
=================  ================  ==================================

So p(v_i | h) is Bernoulli(sigmoid(x)), +-1 with p(+1) = sigmoid(2x),
Binomial(n, sigmoid(x)), a softmax over each group, Poisson(exp(x)), or
N(a + (W h)_i, 1), with x = a + (W h)_i. Summing a layer out uses the unit's
log-partition :math:`A(c; a) = \log \sum_v e^{-\phi(v; a) + v c}` (an
integral for Gaussian units): softplus(a + c), log(2 cosh(a + c)),
n softplus(a + c), the log-sum-exp over a group,
:math:`\log \sum_{v \ge 0} e^{(a + c) v} / v! = e^{a + c}`, and
:math:`a c + c^2/2 + \log\sqrt{2\pi}`.

Proper joints. Poisson units need the other layer bounded (bernoulli, spin,
binomial or softmax): then every rate exp(a_i + (W h)_i) is finite and Z is a
finite sum of exp(sum_i exp(a_i + (W h)_i)) terms. With gaussian or poisson
units on the other layer Z diverges (:func:`check_joint` refuses them), as it
does with gaussian units on both layers.

Temperature. At inverse temperature beta the natural parameter x is scaled
(p(v_i | h) is Bernoulli(sigmoid(beta x)), Binomial(n, sigmoid(beta x)),
Poisson(exp(beta x)), ...) and the base measures, C(n, v) and 1 / v!, are not
(:meth:`Unit.log_base`); gaussian units are tempered whole, N(x, 1 / beta).
"""

import itertools

import numpy as np
from scipy.special import gammaln, logsumexp

from heatbath.rbm._gibbs import UNIT_KINDS, _all_binary

__all__ = ["Bernoulli", "Spin", "Binomial", "Softmax", "Gaussian", "Poisson", "as_unit",
           "check_joint", "UNIT_KINDS", "BERNOULLI", "SPIN", "GAUSSIAN", "BINOMIAL", "SOFTMAX",
           "POISSON"]

#: The kernels' unit kind codes (one enumeration: heatbath/rbm/_units.pxd).
BERNOULLI, SPIN, GAUSSIAN, BINOMIAL, SOFTMAX, POISSON = (UNIT_KINDS[name] for name in (
    "bernoulli", "spin", "gaussian", "binomial", "softmax", "poisson"))


def softplus(x):
    """log(1 + e^x), stable for any x, float64.

    ``max(x, 0) + log1p(exp(-|x|))`` with in-place ufuncs: 9 ns an element
    here, where ``np.logaddexp(0, x)`` takes 38 ns (it is not vectorised).
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.abs(x)
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    out += np.maximum(x, 0.0)
    return out


class Unit:
    """Base class: a unit type. Subclasses set ``name``, ``kind`` and the maths."""

    name: str | None = None
    kind: int | None = None          # kernel code (heatbath/rbm/_units.pxd)
    param = 0            # binomial n or softmax group size
    discrete = True
    #: Finitely many values (exact sums may enumerate the layer).
    enumerable = True
    #: A base measure that temperature leaves alone (:meth:`log_base` is not 0).
    has_base = False

    def __repr__(self):
        return self.name

    def __eq__(self, other):
        return type(self) is type(other) and self.param == other.param

    def __hash__(self):
        return hash((type(self), self.param))

    def spec(self):
        """(name, param): what a model file stores."""
        return self.name, self.param

    def check_count(self, n, name):
        pass

    def phi(self, v, bias):
        """Per-unit energy terms, shape like v."""
        return -bias * v

    def log_base(self, v):
        """Per-unit log base measure: log C(n, v) (binomial), -log v! (poisson), else 0.

        phi(v; a) = -a v - log_base(v) for these units; a tempered layer keeps
        the base measure and scales only -a v (see the module notes).
        """
        return np.zeros_like(v, dtype=float)

    def log_partition(self, c, bias):
        """log-sum over the unit's values of exp(-phi + v c), summed per sample."""
        raise NotImplementedError

    def max_dot(self, w):
        """max over the states h of this layer of w @ h, for each row of w (2-D, one
        column per unit): how far a change of 1 in a unit of the other layer can
        move that unit's natural parameter, at most."""
        vals = np.asarray(self.values(), dtype=float)
        if vals.ndim == 1:
            vals = vals[:, None]
        w = np.asarray(w, dtype=float)
        groups = w.reshape(w.shape[0], -1, vals.shape[1])
        return (groups @ vals.T).max(axis=2).sum(axis=1)

    def values(self):
        """The values of one unit (or one group, as rows) for enumeration."""
        raise NotImplementedError

    def enumerate(self, n_units, limit=2**25):
        """All states of a layer of n_units, shape (n_states, n_units)."""
        vals = np.asarray(self.values(), dtype=float)
        per = 1 if vals.ndim == 1 else vals.shape[1]
        groups = n_units // per
        count = len(vals) ** groups
        if count > limit:
            raise ValueError(f"{count} states of {n_units} {self.name} units: more than "
                             f"the {limit} that exact enumeration allows")
        if vals.ndim == 1:
            vals = vals[:, None]
        idx = np.array(list(itertools.product(range(len(vals)), repeat=groups)))
        return vals[idx].reshape(len(idx), n_units)

    def validate(self, data, name):
        """Check that data holds values of this unit type (raises ValueError)."""
        return data

    def surely_valid(self, data):
        """True only if every value of ``data`` (a float array) is valid and finite: one
        fast pass that lets the checks above be skipped; False means "check in full"."""
        return False

    def bias_from_data(self, data):
        """Biases of independent units that match the data's mean (smoothed).

        The base-rate model of AIS (Salakhutdinov & Murray, 2008). Counts get
        half a pseudo-count each way, so no bias is infinite.
        """
        p = (data.sum(axis=0) + 0.5) / (data.shape[0] + 1.0)
        return np.log(p) - np.log1p(-p)


class Bernoulli(Unit):
    """Binary {0, 1} units."""

    name, kind = "bernoulli", UNIT_KINDS["bernoulli"]

    def log_partition(self, c, bias):
        return softplus(bias + c).sum(axis=-1)

    def values(self):
        return [0.0, 1.0]

    def validate(self, data, name):
        if not np.all((data == 0) | (data == 1)):
            raise ValueError(f"{name} must be binary (0 or 1) for bernoulli units")
        return data

    def surely_valid(self, data):
        # one pass in C over a contiguous float array (no temporaries): all 0 or 1
        if data.dtype not in (np.float32, np.float64) or not data.flags.c_contiguous:
            return False
        return _all_binary(data.reshape(-1))


class Spin(Unit):
    """Spin {-1, +1} units."""

    name, kind = "spin", UNIT_KINDS["spin"]

    def log_partition(self, c, bias):
        x = bias + c
        return (softplus(2 * x) - x).sum(axis=-1)   # log(2 cosh x)

    def values(self):
        return [-1.0, 1.0]

    def bias_from_data(self, data):
        return 0.5 * Bernoulli().bias_from_data((data + 1) / 2)   # p(+1) = sigmoid(2a)

    def validate(self, data, name):
        if not np.all((data == -1) | (data == 1)):
            raise ValueError(f"{name} must be -1 or +1 for spin units")
        return data


class Binomial(Unit):
    """Binomial(n) units: counts 0..n (n trials of a shared probability)."""

    name, kind = "binomial", UNIT_KINDS["binomial"]

    def __init__(self, n):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= 10**6:
            raise ValueError(f"binomial units need an int number of trials n >= 1, got {n!r}")
        self.param = int(n)

    def __repr__(self):
        return f"binomial({self.param})"

    has_base = True

    def phi(self, v, bias):
        return -bias * v - self.log_base(v)

    def log_base(self, v):
        n = self.param
        return gammaln(n + 1) - gammaln(v + 1) - gammaln(n - v + 1)

    def log_partition(self, c, bias):
        return (self.param * softplus(bias + c)).sum(axis=-1)

    def values(self):
        return list(np.arange(self.param + 1, dtype=float))

    def bias_from_data(self, data):
        p = (data.sum(axis=0) + 0.5) / (self.param * data.shape[0] + 1.0)
        return np.log(p) - np.log1p(-p)

    def validate(self, data, name):
        if not np.all((data == np.round(data)) & (data >= 0) & (data <= self.param)):
            raise ValueError(f"{name} must hold integer counts in [0, {self.param}] for "
                             f"binomial({self.param}) units")
        return data


class Softmax(Unit):
    """Categorical units: one-hot groups of k consecutive units."""

    name, kind = "softmax", UNIT_KINDS["softmax"]

    def __init__(self, k):
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= 10**6:
            raise ValueError(f"softmax units need an int group size k >= 2, got {k!r}")
        self.param = int(k)

    def __repr__(self):
        return f"softmax({self.param})"

    def check_count(self, n, name):
        if n % self.param:
            raise ValueError(f"{name} = {n} is not a multiple of the softmax group size "
                             f"{self.param}")

    def log_partition(self, c, bias):
        x = bias + c
        groups = x.reshape(x.shape[:-1] + (-1, self.param))
        return logsumexp(groups, axis=-1).sum(axis=-1)

    def values(self):
        return np.eye(self.param)

    def bias_from_data(self, data):
        return np.log((data.sum(axis=0) + 0.5) / (data.shape[0] + 0.5 * self.param))

    def validate(self, data, name):
        groups = data.reshape(data.shape[0], -1, self.param)
        if not (np.all((groups == 0) | (groups == 1)) and np.all(groups.sum(axis=-1) == 1)):
            raise ValueError(f"{name} must be one-hot in each group of {self.param} units")
        return data


class Poisson(Unit):
    r"""Count units {0, 1, 2, ...}: p(v | h) is Poisson with rate exp(a + (W h)_i).

    :math:`\phi(v; a) = -a v + \log v!`, so summing a unit out gives
    :math:`\sum_{v \ge 0} e^{x v} / v! = \exp(e^{x})`: the log-partition is the
    rate itself. The other layer must be bounded (:func:`check_joint`).
    Samples are exact (inversion below rate 10, Hormann's PTRS from 10;
    :mod:`heatbath.rbm._gibbs`); rates above :data:`MAX_RATE` are refused.
    """

    name, kind = "poisson", UNIT_KINDS["poisson"]
    enumerable = False
    has_base = True
    #: The largest count accepted in data (every count up to it is exact in float32).
    MAX_COUNT = 2**24
    #: The largest rate the samplers draw from (heatbath.rbm._gibbs.POISSON_MAX_RATE).
    MAX_RATE = 1e7

    def phi(self, v, bias):
        return -bias * v - self.log_base(v)

    def log_base(self, v):
        return -gammaln(np.asarray(v, dtype=float) + 1)

    def log_partition(self, c, bias):
        with np.errstate(over="ignore"):
            return np.exp(bias + c).sum(axis=-1)

    def values(self):
        raise ValueError("poisson units take every count 0, 1, 2, ...: they cannot be "
                         "enumerated (exact sums enumerate the other layer and sum the counts "
                         "in closed form)")

    def max_dot(self, w):
        raise ValueError("poisson units are unbounded: no maximum of w @ h")

    def bias_from_data(self, data):
        """log of each unit's mean count, smoothed by half a count (finite for all-zero
        columns)."""
        return np.log((data.sum(axis=0) + 0.5) / (data.shape[0] + 1.0))

    def validate(self, data, name):
        if not np.all((data == np.round(data)) & (data >= 0) & (data <= self.MAX_COUNT)):
            raise ValueError(f"{name} must hold integer counts in [0, {self.MAX_COUNT}] for "
                             f"poisson units")
        return data


class Gaussian(Unit):
    """Real-valued units with unit variance; the bias is the mean."""

    name, kind, discrete, enumerable = "gaussian", UNIT_KINDS["gaussian"], False, False

    def phi(self, v, bias):
        return 0.5 * (v - bias) ** 2

    def log_partition(self, c, bias):
        return (bias * c + 0.5 * c * c + 0.5 * np.log(2 * np.pi)).sum(axis=-1)

    def values(self):
        raise ValueError("gaussian units cannot be enumerated")

    #: Larger values would overflow (v - a)**2 / 2 in float64.
    MAX_ABS = 1e150

    def validate(self, data, name):
        if data.size and np.abs(data).max() > self.MAX_ABS:
            raise ValueError(f"{name} holds values up to {np.abs(data).max():g}; gaussian units "
                             f"need |values| <= {self.MAX_ABS:g} (their energy v**2/2 would "
                             f"overflow)")
        return data

    def bias_from_data(self, data):
        return data.mean(axis=0)


_NAMES = {"bernoulli": Bernoulli, "binary": Bernoulli, "spin": Spin, "gaussian": Gaussian,
          "poisson": Poisson}


def check_joint(visible, hidden):
    """Refuse unit pairs whose joint distribution has no finite normaliser (ValueError).

    Examples
    --------
    >>> from heatbath.rbm.units import Bernoulli, Poisson, check_joint
    >>> check_joint(Poisson(), Bernoulli())     # proper: the hidden layer is bounded
    >>> try:
    ...     check_joint(Poisson(), Poisson())
    ... except ValueError as exc:
    ...     print(str(exc).split(":")[0])
    visible and hidden cannot both be poisson
    """
    kinds = {visible.name, hidden.name}
    if kinds == {"gaussian"}:
        raise ValueError("visible and hidden cannot both be gaussian: the joint "
                         "distribution is not normalisable")
    if kinds == {"poisson"}:
        raise ValueError(
            "visible and hidden cannot both be poisson: summing the counts of one layer "
            "gives exp(exp(a_i + (W h)_i)), which grows faster than 1 / h! falls for any "
            "positive weight, so the partition function diverges (it is finite only while "
            "every weight is <= 0, which training does not keep). Use bounded units "
            "(bernoulli, spin, binomial(n) or softmax(k)) on the other layer")
    if kinds == {"poisson", "gaussian"}:
        raise ValueError(
            "poisson and gaussian units cannot share an RBM: summing the counts gives "
            "exp(exp(a_i + (W h)_i)), which grows without bound in the gaussian units "
            "faster than their exp(-h**2 / 2) decays, so the partition function diverges. "
            "Use bounded units (bernoulli, spin, binomial(n) or softmax(k)) with poisson "
            "units")


def as_unit(spec, name="units"):
    """A Unit from a Unit, a name, or ("binomial", n) / ("softmax", k) / "binomial(n)".

    Examples
    --------
    >>> from heatbath.rbm.units import as_unit
    >>> as_unit("bernoulli"), as_unit(("binomial", 3)), as_unit("softmax(4)")
    (bernoulli, binomial(3), softmax(4))
    """
    if isinstance(spec, Unit):
        return spec
    if isinstance(spec, str):
        key = spec.strip().lower()
        if key in _NAMES:
            return _NAMES[key]()
        for prefix, cls in (("binomial", Binomial), ("softmax", Softmax)):
            if key.startswith(prefix + "(") and key.endswith(")"):
                try:
                    return cls(int(key[len(prefix) + 1:-1]))
                except ValueError as exc:
                    raise ValueError(f"{name}: {exc}") from None
    if isinstance(spec, (tuple, list)) and len(spec) == 2 and spec[0] in ("binomial", "softmax"):
        return (Binomial if spec[0] == "binomial" else Softmax)(spec[1])
    raise ValueError(f"{name} must be 'bernoulli', 'spin', 'gaussian', 'poisson', "
                     f"'binomial(n)' or 'softmax(k)' (or a Unit), got {spec!r}")
