r"""Training RBMs: CD-k, PCD-k and parallel tempering (PT).

The log-likelihood gradient is :math:`\langle v h^\top \rangle_{data} -
\langle v h^\top \rangle_{model}`. Each minibatch:

- **positive phase**: hidden means :math:`E[h | v]` of the data rows;
- **negative phase**: k block-Gibbs steps from the data (CD-k), from
  persistent chains (PCD-k), or from the beta = 1 replica of a ladder of
  tempered chains with swaps between neighbours (PT); hidden means of the
  final visible states;
- **update**: ``velocity = momentum * velocity + lr * (grad - weight_decay * W)``
  (weight decay on W only), then the parameters move by the velocity.

Products with W are BLAS GEMMs; sampling is the fused Cython layer kernel,
one random stream per chain (CD: one per minibatch row), so a seed gives
the same model for any ``n_threads``. :func:`heatbath.reference.rbm.cd_update`
is the NumPy twin of one update.
"""

import hashlib
import time

import numpy as np

from heatbath import _random
from heatbath._openmp import effective_n_threads
from heatbath._sampler import progress
from heatbath._validation import check_2d, check_int, check_real_array
from heatbath.rbm import _cd, _gibbs
from heatbath.rbm._layers import matmul, means_, pass_threads, sample_, single_threaded_blas
from heatbath.rbm.units import Bernoulli

__all__ = ["fit", "fit_trainer", "reconstruction_error", "pt_betas", "Trainer", "SCORES",
           "PersistentChains", "cd_step", "check_data", "MONITOR_ROWS"]


def _check_positive(value, name, allow_zero=False):
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a real number, got the string {value!r}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {value!r}") from None
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value}")
    return value


def check_sgd_settings(epochs, batch_size, k, learning_rate, momentum, weight_decay):
    """The minibatch settings every trainer takes, checked: (epochs, batch_size, k, lr,
    momentum, weight_decay) as ints and floats, or TypeError / ValueError naming one."""
    epochs = check_int(epochs, "epochs", minimum=0)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    k = check_int(k, "k", minimum=1)
    lr = _check_positive(learning_rate, "learning_rate")
    momentum = _check_positive(momentum, "momentum", allow_zero=True)
    if momentum >= 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    weight_decay = _check_positive(weight_decay, "weight_decay", allow_zero=True)
    return epochs, batch_size, k, lr, momentum, weight_decay


def reconstruction_error(model, X):
    """Mean over rows of sum_i (v_i - E[v_i | h = E[h | v]])**2 (deterministic).

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath import RBM
    >>> from heatbath.rbm.train import reconstruction_error
    >>> rbm = RBM(4, 2).set_parameters(weights=np.zeros((4, 2)))
    >>> reconstruction_error(rbm, np.ones((3, 4)))   # every mean is 1/2
    1.0
    """
    return _reconstruction(model, _check_data(model, X, False))


#: The per-epoch reconstruction error in a fit's history is measured on the
#: first this many training rows (a monitor: scikit-learn's fit computes none).
MONITOR_ROWS = 500


def _squared_error(V, R):
    # mean over rows of sum_i (V - R)**2, in R's memory (no temporaries the size of V)
    np.subtract(V, R, out=R)
    np.square(R, out=R)
    return float(R.sum(axis=1).mean())


def _reconstruction(model, V, n_threads=1):
    # The products give the same bits for any n_threads (heatbath.rbm._layers.matmul).
    return _squared_error(V, _down(model, _up(model, V, n_threads), n_threads))


def _fused_reconstruction(model, V):
    # The fused kernel's arithmetic, serial, no BLAS: for the small models it trains,
    # the BLAS calls' thread pinning and the generic sigmoid cost more than the epoch.
    R = np.empty_like(V)
    _cd._reconstruct(model.weights, model.visible_bias, model.hidden_bias, V, R)
    return _squared_error(V, R)


def _up(model, V, n_threads=1, out=None):
    x = matmul(V, model.weights, n_threads, out=out)
    means_(x, model.hidden, np.ones(x.shape[0]), n_threads, bias=model.hidden_bias)
    return x


def _down(model, H, n_threads=1):
    x = matmul(H, model.weights.T, n_threads)
    means_(x, model.visible, np.ones(x.shape[0]), n_threads, bias=model.visible_bias)
    return x


def pt_betas(n_temperatures, beta_min=0.1):
    """Geometric ladder of inverse temperatures from 1 down to ``beta_min``."""
    n = check_int(n_temperatures, "n_temperatures", minimum=2)
    return beta_min ** (np.arange(n) / (n - 1))


class PersistentChains:
    """Negative-phase chains: visible/hidden states, streams, betas (PCD and PT)."""

    def __init__(self, model, V, streams, beta):
        # A copy: the chains are sampled in place and V may be the data itself.
        self.v = np.array(V, dtype=model.dtype, order="C", copy=True)
        self.h = np.zeros((V.shape[0], model.n_hidden), dtype=model.dtype)
        self.streams = streams
        self.beta = np.ascontiguousarray(beta, dtype=np.float64)

    def gibbs(self, model, k, n_threads):
        """k steps of the one block-Gibbs step (:meth:`RBM._gibbs_step`)."""
        for _ in range(k):
            model._gibbs_step(self.v, self.h, self.beta, self.streams, n_threads)


_Chains = PersistentChains   # the old private name


def _apply(model, velocity, grads, lr, momentum, weight_decay, n_threads=1):
    """velocity = momentum velocity + lr (grad - weight_decay W); params += velocity.

    ``grads`` holds the bias gradients; the weights' velocity is already
    updated by :func:`_cd_step` (the GEMM does it: one pass over the weights).
    Returns whether every parameter is finite (checked in the pass that adds
    the weights' velocity: no second pass over the weights).
    """
    _, ga, gb = grads
    vW, va, vb = velocity
    if weight_decay:
        vW -= (lr * weight_decay) * model.weights
    va *= momentum
    va += lr * ga
    vb *= momentum
    vb += lr * gb
    W = model.weights
    if W.flags.c_contiguous and W.dtype == vW.dtype and vW.flags.c_contiguous:
        finite = _gibbs._add_rows(W, vW, pass_threads(W.size, n_threads))
    else:
        W += vW
        finite = bool(np.isfinite(W).all())
    model.visible_bias += va
    model.hidden_bias += vb
    return finite and bool(np.isfinite(model.visible_bias).all()
                           and np.isfinite(model.hidden_bias).all())


def _step_workspace(model, batch_size, persistent):
    """Buffers of :func:`_cd_step`: [V0; Vn] and [H0; Hn] for the gradient GEMM (written
    in place: no concatenation), the CD chains' hidden states."""
    B = batch_size
    Bn = B if persistent is None else int((persistent.beta == 1.0).sum())
    dt = model.dtype
    return {"VV": np.empty((B + Bn, model.n_visible), dt),
            "HH": np.empty((B + Bn, model.n_hidden), dt),
            "Hs": np.empty((B, model.n_hidden), dt)}


def _cd_step(model, V0, k, streams, velocity, lr, momentum, weight_decay, persistent,
             n_threads, work, keep_h0=None):
    """:func:`cd_step` on the buffers of :func:`_step_workspace` (``V0`` may be
    ``work["VV"][:B]`` itself). Returns whether every parameter is finite afterwards;
    ``keep_h0``, a list, gets a copy of the data's hidden means.

    The weights' velocity is ONE GEMM: vW = momentum vW + lr [V0; Vn]^T [H0 / B;
    -Hn / Bn] (BLAS's alpha and beta), which is momentum vW + lr (<v h>_data -
    <v h>_model); the rows are written into ``work`` in place, not concatenated.
    """
    B = V0.shape[0]
    ones = np.ones(B)
    W = model.weights
    VV, HH = work["VV"], work["HH"]
    if not np.shares_memory(V0, VV):
        VV[:B] = V0
    V0, H0 = VV[:B], HH[:B]
    matmul(V0, W, n_threads, out=H0)
    H0 += model.hidden_bias
    if persistent is None:
        Vn = VV[B:2 * B]
        Vn[...] = V0                      # the chains start from the data
        h = work["Hs"][:B]
        st = streams[:B]
        # The chain's first step's hidden means are H0.
        model._gibbs_step(Vn, h, ones, st, n_threads, H0)
        for _ in range(k - 1):
            model._gibbs_step(Vn, h, ones, st, n_threads)
    else:
        means_(H0, model.hidden, ones, n_threads)
        persistent.gibbs(model, k, n_threads)
        Vp = persistent.v if persistent.beta.min() == 1.0 else \
            persistent.v[persistent.beta == 1.0]
        Vn = VV[B:B + Vp.shape[0]]
        Vn[...] = Vp
    Bn = Vn.shape[0]
    Hn = _up(model, Vn, n_threads, out=HH[B:B + Bn])
    grads = (None, V0.mean(axis=0) - Vn.mean(axis=0), H0.mean(axis=0) - Hn.mean(axis=0))
    if keep_h0 is not None:
        keep_h0.append(H0.copy())
    H0 *= 1.0 / B
    Hn *= -1.0 / Bn
    matmul(VV[:B + Bn].T, HH[:B + Bn], n_threads, out=velocity[0], alpha=lr, beta=momentum)
    return _apply(model, velocity, grads, lr, momentum, weight_decay, n_threads)


def cd_step(model, V0, k, streams, velocity, lr, momentum=0.0, weight_decay=0.0,
            persistent=None, n_threads=1):
    """One CD-k (``persistent=None``) or PCD-k update on the minibatch ``V0``.

    ``streams`` are the per-row streams of the minibatch (CD); for PCD the
    persistent chains carry their own. Returns the hidden means of the data.
    """
    H0 = []
    _cd_step(model, V0, k, streams, velocity, lr, momentum, weight_decay, persistent,
             n_threads, _step_workspace(model, V0.shape[0], persistent), H0)
    return H0[0]


def _swap(model, chains, n_replicas, u, parity):
    """Replica-exchange between neighbouring temperatures (pairs r, r+1 with r % 2 == parity).

    Chains are laid out replica-major: rows [r * C, (r + 1) * C) hold replica r.
    Accept with min(1, exp((beta_r - beta_s) (E_r - E_s))) on the tempered part of
    the joint energy: the base measures (log C(n, v), -log v!) are not tempered
    (heatbath.rbm.units), so they cancel and are left out.
    """
    C = chains.v.shape[0] // n_replicas
    E = model.energy(chains.v, chains.h)
    for unit, states in ((model.visible, chains.v), (model.hidden, chains.h)):
        if unit.has_base:
            E += unit.log_base(states).sum(axis=1)
    accepted = np.zeros(n_replicas - 1)
    attempted = np.zeros(n_replicas - 1)
    for r in range(parity, n_replicas - 1, 2):
        i, j = slice(r * C, (r + 1) * C), slice((r + 1) * C, (r + 2) * C)
        d = (chains.beta[i] - chains.beta[j]) * (E[i] - E[j])
        with np.errstate(over="ignore"):
            ok = u[:, r] < np.exp(np.minimum(d, 0.0))
        for arr in (chains.v, chains.h):
            a, b = arr[i][ok].copy(), arr[j][ok].copy()
            sub_i, sub_j = arr[i], arr[j]
            sub_i[ok], sub_j[ok] = b, a
        accepted[r] = ok.sum()
        attempted[r] = ok.size
    return accepted, attempted


#: Models up to this many weights train with the fused kernel (above it BLAS
#: wins; measured on the bench shapes: 64x64 and 64x256 fused, 784x500 BLAS).
FUSED_MAX_WEIGHTS = 64 * 1024


def _use_fused(model):
    return model.n_visible * model.n_hidden <= FUSED_MAX_WEIGHTS


def _workspace(model, batch_size, persistent):
    rows = max(batch_size, 0 if persistent is None else persistent.v.shape[0])
    dt = model.dtype
    return {"H0": np.empty((batch_size, model.n_hidden), dt),
            "Hs": np.empty((rows, model.n_hidden), dt),
            "Vs": np.empty((rows, model.n_visible), dt),
            "Pv": np.empty((rows, model.n_visible), dt),
            "G": np.empty((model.n_visible, model.n_hidden), dt)}


def _fused_epoch(model, V, rows, batch_size, k, lr, momentum, weight_decay, persistent,
                 batch_streams, velocity, work):
    dt = model.dtype
    chains = persistent.v if persistent is not None else np.empty((1, model.n_visible), dt)
    streams = persistent.streams if persistent is not None else batch_streams
    _cd._bernoulli_epoch(model.weights, model.visible_bias, model.hidden_bias,
                         velocity[0], velocity[1], velocity[2], V,
                         np.ascontiguousarray(rows, dtype=np.int64), batch_size, k, lr,
                         momentum, weight_decay, persistent is not None, chains, streams,
                         work["H0"], work["Hs"], work["Vs"], work["Pv"], work["G"])


def check_data(model, X, probabilities=False):
    """The training rows in the model's dtype (checked; 1-D input is refused).

    ``probabilities``: False (values of the unit type), True (bernoulli data
    in [0, 1]) or "any" (any finite reals, used as given: scikit-learn's
    BernoulliRBM does that, and heatbath.sklearn follows it).
    """
    X = check_2d(X, "X")
    if not probabilities:
        # Data already in the model's dtype is checked as it is (no float64 copy of a
        # large float32 data set); anything else is checked in float64, then cast.
        dtype = model.dtype if getattr(X, "dtype", None) == model.dtype else np.float64
        return np.ascontiguousarray(model._check_layer(X, "visible", "X", dtype), dtype=model.dtype)
    if not isinstance(model.visible, Bernoulli):
        raise ValueError("probabilities=True needs bernoulli visible units")
    V = check_real_array(X, "X")
    if V.ndim != 2 or V.shape[1] != model.n_visible:
        raise ValueError(f"X must have shape (n_samples, {model.n_visible}), got {V.shape}")
    if probabilities != "any" and V.size and (V.min() < 0 or V.max() > 1):
        raise ValueError("X must hold values in [0, 1] (binary, or the probability that each "
                         f"unit is on); got values from {V.min():g} to {V.max():g}")
    return np.ascontiguousarray(V, dtype=model.dtype)


_check_data = check_data   # the old private name


_SETTINGS = ("method", "k", "batch_size", "learning_rate", "momentum", "weight_decay",
             "n_persistent_chains", "n_temperatures", "shuffle")
TRAINING_FORMAT_VERSION = 1


def _diverged(model, saved, epoch, lr, where=""):
    model.weights, model.visible_bias, model.hidden_bias = saved
    return FloatingPointError(
        f"training diverged in epoch {epoch}{where}: the parameters became NaN or infinite; "
        f"they are restored to the end of epoch {epoch - 1}. Lower learning_rate (now {lr}).")


def _finite(model):
    return bool(np.isfinite(model.weights.sum() + model.visible_bias.sum()
                            + model.hidden_bias.sum()))


class Trainer:
    """One training run's state: enough to continue it bit for bit.

    It holds the settings, the velocity, the persistent chains and every
    random stream (minibatch order, chains, swaps). :meth:`run_epoch` does
    one pass over the data; :meth:`get_state` / :meth:`set_state` give a
    dict of arrays for checkpoints (:mod:`heatbath.io`).
    """

    def __init__(self, model, V, batch_size, method, k, lr, momentum, weight_decay,
                 n_persistent_chains, n_temperatures, shuffle, seed):
        n = V.shape[0]
        self.model = model
        self.settings = {"method": method, "k": k, "batch_size": batch_size,
                         "learning_rate": lr, "momentum": momentum,
                         "weight_decay": weight_decay, "shuffle": bool(shuffle),
                         "n_persistent_chains": -1, "n_temperatures": -1}
        # Each stream family is spawned once from the root, so no family depends on
        # another's size: the persistent chains do not depend on the batch size.
        order_seed, batch_seed, swap_seed, chain_seed = _random.as_seed_sequence(seed).spawn(4)
        self.order_rng = np.random.Generator(np.random.SFC64(order_seed))
        self.batch_streams = _random.spawn_states(batch_seed, min(batch_size, n))
        self.persistent = None
        self.swap_streams = None
        self.n_replicas = 1
        if method in ("pcd", "pt"):
            C = check_int(n_persistent_chains if n_persistent_chains is not None
                          else batch_size, "n_persistent_chains", minimum=1)
            betas = np.ones(1)
            if method == "pt":
                betas = pt_betas(n_temperatures if n_temperatures is not None else 4)
                self.n_replicas = betas.size
            self.settings["n_persistent_chains"] = C
            self.settings["n_temperatures"] = self.n_replicas if method == "pt" else -1
            start = V[self.order_rng.integers(0, n, size=C)]
            self.persistent = PersistentChains(model, np.tile(start, (self.n_replicas, 1)),
                                      _random.spawn_states(chain_seed, C * self.n_replicas),
                                      np.repeat(betas, C))
            self.swap_streams = _random.spawn_states(swap_seed, C)
        # C-ordered in the model's dtype: the weights' velocity is a GEMM's output.
        self.velocity = [np.zeros(p.shape, model.dtype) for p in
                         (model.weights, model.visible_bias, model.hidden_bias)]
        self.epoch = 0
        self.history = {"epoch": [], "reconstruction_error": [], "seconds": []}
        if method == "pt":
            self.history["swap_rate"] = []
        # Bernoulli-Bernoulli CD/PCD runs whole epochs in one fused kernel (a small
        # model's cost is otherwise Python overhead); same draws, same maths.
        self.fused = (isinstance(model.visible, Bernoulli) and isinstance(model.hidden, Bernoulli)
                      and method in ("cd", "pcd") and _use_fused(model))
        self.work = (_workspace(model, batch_size, self.persistent) if self.fused else
                     _step_workspace(model, min(batch_size, n), self.persistent))

    def run_epoch(self, V, n_threads):
        """One pass over the rows of V; appends to ``history``."""
        model, st = self.model, self.settings
        method, k, batch_size = st["method"], st["k"], st["batch_size"]
        lr, momentum, weight_decay = st["learning_rate"], st["momentum"], st["weight_decay"]
        n = V.shape[0]
        epoch = self.epoch + 1
        start_time = time.perf_counter()
        saved = (model.weights.copy(), model.visible_bias.copy(), model.hidden_bias.copy())
        rows = self.order_rng.permutation(n) if st["shuffle"] else np.arange(n)
        swaps, tries, n_swaps = np.zeros(self.n_replicas - 1), np.zeros(self.n_replicas - 1), 0
        if self.fused:
            _fused_epoch(model, V, rows, batch_size, k, lr, momentum, weight_decay,
                         self.persistent, self.batch_streams, self.velocity, self.work)
            if not _finite(model):
                raise _diverged(model, saved, epoch, lr)
        for batch, b0 in enumerate(range(0, 0 if self.fused else n, batch_size), start=1):
            idx = rows[b0:b0 + batch_size]
            V0 = np.take(V, idx, axis=0, out=self.work["VV"][:idx.shape[0]])
            # Overflow is detected below and reported as one clear error (poisson
            # rates that run away stop the sampler first).
            with np.errstate(over="ignore", invalid="ignore"):
                try:
                    finite = _cd_step(model, V0, k, self.batch_streams, self.velocity, lr,
                                      momentum, weight_decay, self.persistent, n_threads,
                                      self.work)
                except FloatingPointError:
                    finite = False
            if not finite:
                raise _diverged(model, saved, epoch, lr, f" (minibatch {batch})")
            if method == "pt":
                u = _random.random(self.swap_streams, self.n_replicas - 1)
                acc, att = _swap(model, self.persistent, self.n_replicas, u, n_swaps % 2)
                swaps += acc
                tries += att
                n_swaps += 1
        self.epoch = epoch
        h = self.history
        h["epoch"].append(epoch)
        with np.errstate(over="ignore", invalid="ignore"):
            h["reconstruction_error"].append(
                _fused_reconstruction(model, V[:MONITOR_ROWS]) if self.fused
                else _reconstruction(model, V[:MONITOR_ROWS], n_threads))
        h["seconds"].append(time.perf_counter() - start_time)
        if method == "pt":
            with np.errstate(invalid="ignore"):
                h["swap_rate"].append((swaps / tries).tolist())

    # -- state -------------------------------------------------------------------
    def get_state(self):
        """A dict of arrays, numbers and text (see :mod:`heatbath.io`)."""
        bg = self.order_rng.bit_generator.state
        state = {"format_version": TRAINING_FORMAT_VERSION, "epoch": self.epoch,
                 "settings": dict(self.settings),
                 "order_stream": {"state": bg["state"]["state"], "has_uint32": bg["has_uint32"],
                                  "uinteger": bg["uinteger"]},
                 "batch_streams": self.batch_streams.copy(),
                 "velocity": {"weights": self.velocity[0].copy(),
                              "visible_bias": self.velocity[1].copy(),
                              "hidden_bias": self.velocity[2].copy()},
                 "history": {key: np.asarray(value, dtype=float)
                             for key, value in self.history.items()}}
        if self.persistent is not None:
            p = self.persistent
            state["chains"] = {"visible": p.v.copy(), "hidden": p.h.copy(),
                               "stream_state": p.streams.copy(), "beta": p.beta.copy()}
        if self.swap_streams is not None:
            state["swap_streams"] = self.swap_streams.copy()
        return state

    def set_state(self, state):
        """Restore :meth:`get_state` output (checked against this run's settings)."""
        try:
            if int(state["format_version"]) > TRAINING_FORMAT_VERSION:
                raise ValueError(f"training state format_version {state['format_version']} "
                                 f"is newer than this heatbath reads "
                                 f"({TRAINING_FORMAT_VERSION})")
            for key in _SETTINGS:
                saved, now = state["settings"][key], self.settings[key]
                if (float(saved) != float(now)) if not isinstance(now, str) else saved != now:
                    raise ValueError(f"cannot resume: the checkpoint was made with "
                                     f"{key}={saved!r}, this call has {key}={now!r}")
            m = self.model
            velocity = [np.asarray(state["velocity"][key]) for key in
                        ("weights", "visible_bias", "hidden_bias")]
            for v, ref in zip(velocity, self.velocity):
                if v.shape != ref.shape:
                    raise ValueError(f"cannot resume: velocity has shape {v.shape}, the model "
                                     f"needs {ref.shape}")
            batch_streams = _random.check_states(state["batch_streams"],
                                                 self.batch_streams.shape[0],
                                                 "state['batch_streams']")
            order = state["order_stream"]
            order_state = {"bit_generator": "SFC64",
                           "state": {"state": np.asarray(order["state"], dtype=np.uint64)},
                           "has_uint32": int(order["has_uint32"]),
                           "uinteger": int(order["uinteger"])}
            chains = None
            if self.persistent is not None:
                c = state["chains"]
                rows = self.persistent.v.shape[0]
                v = m._check_layer(c["visible"], "visible", "state['chains']['visible']")
                h = m._check_layer(c["hidden"], "hidden", "state['chains']['hidden']")
                if v.shape[0] != rows or h.shape[0] != rows:
                    raise ValueError(f"cannot resume: the checkpoint has {v.shape[0]} chains, "
                                     f"this run has {rows}")
                streams = _random.check_states(c["stream_state"], rows,
                                               "state['chains']['stream_state']")
                chains = (v, h, streams, np.asarray(c["beta"], dtype=float))
            swap = (_random.check_states(state["swap_streams"], self.swap_streams.shape[0],
                                         "state['swap_streams']")
                    if self.swap_streams is not None else None)
            history = {key: np.asarray(value).tolist() for key, value in state["history"].items()}
            epoch = int(state["epoch"])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"training state is missing a field: {exc}") from None
        self.order_rng.bit_generator.state = order_state
        self.batch_streams = batch_streams
        for v, ref in zip(velocity, self.velocity):
            ref[...] = v
        if chains is not None:
            p = self.persistent
            p.v[...], p.h[...], p.streams, p.beta = chains[0], chains[1], chains[2], chains[3]
        if swap is not None:
            self.swap_streams = swap
        self.history, self.epoch = history, epoch


SCORES = ("pseudo_likelihood", "log_likelihood", "log_likelihood_ais")
_LABELS = {"pseudo_likelihood": "PL", "log_likelihood": "LL", "log_likelihood_ais": "LL(AIS)"}


def _score(model, name, data, epoch, n_threads):
    from heatbath.rbm import estimators

    if name == "pseudo_likelihood":
        probabilities = isinstance(model.visible, Bernoulli)   # data may be probabilities
        return {name: float(estimators.pseudo_likelihood(
            model, data, n_threads=n_threads, probabilities=probabilities).mean())}
    if name == "log_likelihood":
        return {name: float(model.log_likelihood(data, "exact", n_threads=n_threads))}
    est = model.log_likelihood(data, "ais", n_runs=100, n_betas=1000, data=data,
                               seed=np.random.SeedSequence([epoch, 0x5C0E]), n_threads=n_threads)
    return {name: float(est), name + "_stderr": est.stderr}


#: The default recipe of RBM.fit and ``heatbath train``: CD-5, learning rate 0.1,
#: momentum 0.5, visible biases from the data. On binarised digits (16 hidden, 10
#: epochs, seeds 0-2) it scores -19.35 nats of exact test log-likelihood against
#: -21.55 for scikit-learn's BernoulliRBM defaults (PCD-1, no momentum, zero
#: biases), in less time (README, "RBM defaults").
DEFAULT_RECIPE = {"method": "cd", "k": 5, "learning_rate": 0.1, "momentum": 0.5,
                  "init_visible_bias": True}


def fit(model, X, epochs=10, batch_size=10, method="cd", k=5, learning_rate=0.1, momentum=0.5,
        weight_decay=0.0, n_persistent_chains=None, n_temperatures=None, shuffle=True,
        seed=None, callback=None, verbose=False, n_threads=None, score_every=0,
        scores=("pseudo_likelihood",), score_data=None, checkpoint=None, checkpoint_every=1,
        resume=None, probabilities=False, init_visible_bias=True):
    """Train ``model`` on the rows of ``X`` (see :meth:`heatbath.RBM.fit`).

    ``probabilities=True`` (bernoulli visible units only) accepts data in
    [0, 1], read as the probability that each unit is on (scikit-learn's
    convention); the positive phase uses them as they are.
    """
    return fit_trainer(model, X, epochs, batch_size, method, k, learning_rate, momentum,
                       weight_decay, n_persistent_chains, n_temperatures, shuffle, seed,
                       callback, verbose, n_threads, score_every, scores, score_data,
                       checkpoint, checkpoint_every, resume, probabilities,
                       init_visible_bias).history


def fit_trainer(model, X, epochs=10, batch_size=10, method="cd", k=5, learning_rate=0.1,
                momentum=0.5, weight_decay=0.0, n_persistent_chains=None,
                n_temperatures=None, shuffle=True, seed=None, callback=None, verbose=False,
                n_threads=None, score_every=0, scores=("pseudo_likelihood",), score_data=None,
                checkpoint=None, checkpoint_every=1, resume=None, probabilities=False,
                init_visible_bias=True):
    """:func:`fit`, returning the :class:`Trainer` (its chains, velocity and history)."""
    V = _check_data(model, X, probabilities)
    epochs, batch_size, k, lr, momentum, weight_decay = check_sgd_settings(
        epochs, batch_size, k, learning_rate, momentum, weight_decay)
    if method not in ("cd", "pcd", "pt"):
        raise ValueError(f"method must be 'cd', 'pcd' or 'pt', got {method!r}")
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable or None")
    score_every = check_int(score_every, "score_every", minimum=0)
    checkpoint_every = check_int(checkpoint_every, "checkpoint_every", minimum=1)
    if isinstance(scores, str):
        scores = (scores,)
    scores = tuple(scores)
    for name in scores:
        if name not in SCORES:
            raise ValueError(f"scores must name some of {SCORES}, got {name!r}")
    S = V[:2000] if score_data is None else _check_data(model, score_data, probabilities)
    n_threads = effective_n_threads(n_threads)
    if init_visible_bias and resume is None and not np.any(model.visible_bias):
        # a new model (all-zero visible biases): start from the data's unit means
        model.set_parameters(visible_bias=model.visible.bias_from_data(V))
    trainer = Trainer(model, V, batch_size, method, k, lr, momentum, weight_decay,
                      n_persistent_chains, n_temperatures, shuffle, seed)
    digest = hashlib.sha256(V.tobytes()).hexdigest() if checkpoint or resume else ""
    if resume is not None:
        _resume(model, trainer, resume, digest)
    # Products on n_threads with BLAS pinned to one thread (heatbath.rbm._layers).
    with progress(verbose, epochs, unit="epoch", desc=f"RBM {method}-{k}",
                  initial=min(trainer.epoch, epochs)) as bar, single_threaded_blas():
        while trainer.epoch < epochs:
            trainer.run_epoch(V, n_threads)
            epoch, history = trainer.epoch, trainer.history
            if score_every and scores:
                due = epoch % score_every == 0
                values = {}
                if due:
                    for name in scores:
                        values.update(_score(model, name, S, epoch, n_threads))
                for name in scores:
                    keys = (name, name + "_stderr") if name == "log_likelihood_ais" else (name,)
                    for key in keys:
                        history.setdefault(key, [float("nan")] * (epoch - 1))
                        history[key].append(values.get(key, float("nan")))
            if checkpoint is not None and (epoch % checkpoint_every == 0 or epoch == epochs):
                from heatbath.io import save_checkpoint

                save_checkpoint(checkpoint, model, dict(trainer.get_state(), data_sha256=digest))
            if callback is not None:
                callback(epoch, model, history)
            bar.update(1)
            if verbose:
                post = {"recon": f"{history['reconstruction_error'][-1]:.4g}"}
                for name in scores if score_every else ():
                    if np.isfinite(history[name][-1]):
                        post[_LABELS[name]] = f"{history[name][-1]:.4g}"
                bar.set_postfix(post)
    return trainer


def _resume(model, trainer, path, digest):
    """Load a checkpoint into ``model`` and ``trainer`` (checked first)."""
    from heatbath.io import load_checkpoint

    saved, state = load_checkpoint(path)
    if state.get("data_sha256", digest) != digest:
        raise ValueError(f"cannot resume from {path!r}: it was trained on different data "
                         f"(SHA-256 of X differs)")
    if (saved.n_visible, saved.n_hidden, saved.visible, saved.hidden, saved.dtype) != \
            (model.n_visible, model.n_hidden, model.visible, model.hidden, model.dtype):
        raise ValueError(f"cannot resume from {path!r}: it holds {saved!r}, the model is "
                         f"{model!r}")
    trainer.set_state(state)
    model.set_parameters(saved.weights, saved.visible_bias, saved.hidden_bias)
