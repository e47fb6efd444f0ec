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

import time

import numpy as np

from heatbath import _random
from heatbath._openmp import effective_n_threads
from heatbath._validation import check_int
from heatbath.rbm import _cd
from heatbath.rbm._layers import blas_threads, means_, sample_
from heatbath.rbm.units import Bernoulli

__all__ = ["fit", "reconstruction_error", "pt_betas"]


def _check_positive(value, name, allow_zero=False):
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {value!r}") from None
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value}")
    return value


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
    V = model._check_layer(X, "visible", "X").astype(model.dtype)
    return float(((V - _down(model, _up(model, V))) ** 2).sum(axis=1).mean())


def _up(model, V, n_threads=1):
    x = np.ascontiguousarray(model.hidden_bias + V @ model.weights)
    means_(x, model.hidden, np.ones(x.shape[0]), n_threads)
    return x


def _down(model, H, n_threads=1):
    x = np.ascontiguousarray(model.visible_bias + H @ model.weights.T)
    means_(x, model.visible, np.ones(x.shape[0]), n_threads)
    return x


def pt_betas(n_temperatures, beta_min=0.1):
    """Geometric ladder of inverse temperatures from 1 down to ``beta_min``."""
    n = check_int(n_temperatures, "n_temperatures", minimum=2)
    return beta_min ** (np.arange(n) / (n - 1))


class _Chains:
    """Negative-phase chains: visible/hidden states, streams, betas."""

    def __init__(self, model, V, streams, beta):
        # A copy: the chains are sampled in place and V may be the data itself.
        self.v = np.array(V, dtype=model.dtype, order="C", copy=True)
        self.h = np.zeros((V.shape[0], model.n_hidden), dtype=model.dtype)
        self.streams = streams
        self.beta = np.ascontiguousarray(beta, dtype=np.float64)

    def gibbs(self, model, k, n_threads):
        """k steps: h | v, then v | h. Leaves h sampled from the last v's parent."""
        for _ in range(k):
            x = np.ascontiguousarray(model.hidden_bias + self.v @ model.weights)
            sample_(x, self.h, model.hidden, self.beta, self.streams, n_threads)
            x = np.ascontiguousarray(model.visible_bias + self.h @ model.weights.T)
            sample_(x, self.v, model.visible, self.beta, self.streams, n_threads)


def _apply(model, velocity, grads, lr, momentum, weight_decay):
    """velocity = momentum velocity + lr (grad - weight_decay W); params += velocity.

    In place: gW is a fresh array owned here.
    """
    gW, ga, gb = grads
    vW, va, vb = velocity
    if weight_decay:
        gW -= weight_decay * model.weights
    gW *= lr
    vW *= momentum
    vW += gW
    va *= momentum
    va += lr * ga
    vb *= momentum
    vb += lr * gb
    model.weights += vW
    model.visible_bias += va
    model.hidden_bias += vb


def _gradient(model, V0, H0, Vn, Hn):
    """<v h>_data - <v h>_model as ONE GEMM: [V0; Vn]^T [H0 / B; -Hn / Bn]."""
    B, Bn = V0.shape[0], Vn.shape[0]
    H = np.concatenate([H0, Hn])
    H[:B] *= 1.0 / B
    H[B:] *= -1.0 / Bn
    gW = np.concatenate([V0, Vn]).T @ H
    return gW, V0.mean(axis=0) - Vn.mean(axis=0), H0.mean(axis=0) - Hn.mean(axis=0)


def cd_step(model, V0, k, streams, velocity, lr, momentum=0.0, weight_decay=0.0,
            persistent=None, n_threads=1):
    """One CD-k (``persistent=None``) or PCD-k update on the minibatch ``V0``.

    ``streams`` are the per-row streams of the minibatch (CD); for PCD the
    persistent chains carry their own. Returns the hidden means of the data.
    """
    ones = np.ones(V0.shape[0])
    x = np.ascontiguousarray(model.hidden_bias + V0 @ model.weights)
    if persistent is None:
        chains = _Chains(model, V0, streams[: V0.shape[0]], ones)
        # The chain starts from a sample of h given the data.
        sample_(x, chains.h, model.hidden, ones, chains.streams, n_threads)
        H0 = x
        xv = np.ascontiguousarray(model.visible_bias + chains.h @ model.weights.T)
        sample_(xv, chains.v, model.visible, ones, chains.streams, n_threads)
        chains.gibbs(model, k - 1, n_threads)
    else:
        means_(x, model.hidden, ones, n_threads)
        H0 = x
        chains = persistent
        chains.gibbs(model, k, n_threads)
    Vn = chains.v if persistent is None or persistent.beta.min() == 1.0 else \
        chains.v[chains.beta == 1.0]
    Hn = _up(model, Vn, n_threads)
    _apply(model, velocity, _gradient(model, V0, H0, Vn, Hn), lr, momentum, weight_decay)
    return H0


def _swap(model, chains, n_replicas, u, parity):
    """Replica-exchange between neighbouring temperatures (pairs r, r+1 with r % 2 == parity).

    Chains are laid out replica-major: rows [r * C, (r + 1) * C) hold replica r.
    Accept with min(1, exp((beta_r - beta_s) (E_r - E_s))) on the joint energy.
    """
    C = chains.v.shape[0] // n_replicas
    E = model.energy(chains.v, chains.h)
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


def fit(model, X, epochs=10, batch_size=10, method="cd", k=1, learning_rate=0.1, momentum=0.0,
        weight_decay=0.0, n_persistent_chains=None, n_temperatures=None, shuffle=True,
        seed=None, callback=None, verbose=False, n_threads=None):
    """Train ``model`` on the rows of ``X`` (see :meth:`heatbath.RBM.fit`)."""
    V = model._check_layer(X, "visible", "X").astype(model.dtype)
    n = V.shape[0]
    epochs = check_int(epochs, "epochs", minimum=0)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    k = check_int(k, "k", minimum=1)
    lr = _check_positive(learning_rate, "learning_rate")
    momentum = _check_positive(momentum, "momentum", allow_zero=True)
    if momentum >= 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    weight_decay = _check_positive(weight_decay, "weight_decay", allow_zero=True)
    if method not in ("cd", "pcd", "pt"):
        raise ValueError(f"method must be 'cd', 'pcd' or 'pt', got {method!r}")
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable or None")
    n_threads = effective_n_threads(n_threads)
    root = _random.as_seed_sequence(seed)
    order_seed, chain_seed, swap_seed = root.spawn(3)
    order_rng = np.random.Generator(np.random.SFC64(order_seed))
    batch_streams = _random.spawn_states(chain_seed, min(batch_size, n))
    persistent = None
    n_replicas = 1
    if method in ("pcd", "pt"):
        C = check_int(n_persistent_chains if n_persistent_chains is not None else batch_size,
                      "n_persistent_chains", minimum=1)
        betas = np.ones(1)
        if method == "pt":
            betas = pt_betas(n_temperatures if n_temperatures is not None else 4)
            n_replicas = betas.size
        start = V[order_rng.integers(0, n, size=C)]
        persistent = _Chains(model, np.tile(start, (n_replicas, 1)),
                             _random.spawn_states(chain_seed, C * n_replicas),
                             np.repeat(betas, C))
        swap_streams = _random.spawn_states(swap_seed, C)
    velocity = [np.zeros_like(model.weights), np.zeros_like(model.visible_bias),
                np.zeros_like(model.hidden_bias)]
    history = {"epoch": [], "reconstruction_error": [], "seconds": []}
    if method == "pt":
        history["swap_rate"] = []
    bar = None
    if verbose:
        from tqdm.auto import tqdm
        bar = tqdm(total=epochs, unit="epoch", desc=f"RBM {method}-{k}")
    # Bernoulli-Bernoulli CD/PCD runs whole epochs in one fused kernel (a small
    # model's cost is otherwise Python overhead); same draws, same maths.
    fused = (isinstance(model.visible, Bernoulli) and isinstance(model.hidden, Bernoulli)
             and method in ("cd", "pcd") and _use_fused(model))
    work = _workspace(model, batch_size, persistent) if fused else None
    # BLAS has the threads; the draw kernels run on one (heatbath.rbm._layers).
    blas_limit = blas_threads(n_threads)
    n_threads = 1
    try:
        for epoch in range(1, epochs + 1):
            start_time = time.perf_counter()
            saved = (model.weights.copy(), model.visible_bias.copy(), model.hidden_bias.copy())
            rows = order_rng.permutation(n) if shuffle else np.arange(n)
            swaps, tries, n_swaps = np.zeros(n_replicas - 1), np.zeros(n_replicas - 1), 0
            if fused:
                _fused_epoch(model, V, rows, batch_size, k, lr, momentum, weight_decay,
                             persistent, batch_streams, velocity, work)
                if not np.isfinite(model.weights.sum() + model.visible_bias.sum()
                                   + model.hidden_bias.sum()):
                    model.weights, model.visible_bias, model.hidden_bias = saved
                    raise FloatingPointError(
                        f"training diverged in epoch {epoch}: the parameters became NaN or "
                        f"infinite; they are restored to the end of epoch {epoch - 1}. "
                        f"Lower learning_rate (now {lr}).")
            for batch, b0 in enumerate(range(0, 0 if fused else n, batch_size), start=1):
                V0 = np.ascontiguousarray(V[rows[b0:b0 + batch_size]])
                # Overflow is detected below and reported as one clear error.
                with np.errstate(over="ignore", invalid="ignore"):
                    cd_step(model, V0, k, batch_streams, velocity, lr, momentum, weight_decay,
                            persistent, n_threads)
                    finite = np.isfinite(model.weights.sum() + model.visible_bias.sum()
                                         + model.hidden_bias.sum())
                if not finite:
                    model.weights, model.visible_bias, model.hidden_bias = saved
                    raise FloatingPointError(
                        f"training diverged in epoch {epoch} (minibatch {batch}): the "
                        f"parameters became NaN or infinite; they are restored to the end "
                        f"of epoch {epoch - 1}. Lower learning_rate (now {lr}).")
                if method == "pt":
                    u = _random.random(swap_streams, n_replicas - 1)
                    acc, att = _swap(model, persistent, n_replicas, u, n_swaps % 2)
                    swaps += acc
                    tries += att
                    n_swaps += 1
            history["epoch"].append(epoch)
            history["reconstruction_error"].append(reconstruction_error(model, V[:2000]))
            history["seconds"].append(time.perf_counter() - start_time)
            if method == "pt":
                with np.errstate(invalid="ignore"):
                    history["swap_rate"].append((swaps / tries).tolist())
            if callback is not None:
                callback(epoch, model, history)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(recon=f"{history['reconstruction_error'][-1]:.4g}")
    finally:
        blas_limit.restore_original_limits()
        if bar is not None:
            bar.close()
    return history
