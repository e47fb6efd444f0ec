r"""RBMs that learn thermodynamics: Torlai & Melko (2016) on the 2D Ising model.

At each temperature the study

1. samples an L x L Ising torus with the Wolff cluster algorithm and keeps
   configurations ``thin`` sweeps apart, where ``thin`` is at least twice the
   integrated autocorrelation time of E and abs(m) measured in a pilot run (so the
   data set is close to independent draws; the residual tau_int of the kept
   series is reported);
2. trains a restricted Boltzmann machine on them (spin {-1, +1} visible and
   hidden units, zero biases, weights tied under lattice translations in two
   filters that start as nearest-neighbour bonds with their weight fitted by
   pseudo-likelihood, then PCD-10 at a small learning rate: see :data:`RECIPE`);
3. samples the RBM by block Gibbs over many chains, half started from random
   states and half from held-out data, and checks that they mixed (split
   R-hat and tau_int of E and abs(m), and the gap between the two halves);
4. measures E/N, <abs(m)>, C and chi from both sample sets (the Monte Carlo
   ones from a reference set larger than the training set), with error bars, and
   puts the exact finite-torus energy and specific heat (Kaufman 1949) beside
   them;
5. scores the model on held-out configurations: the mean log-likelihood per
   configuration (exact log Z when a layer has at most 25 units, else AIS) and,
   since the Ising log p is known exactly on the torus, the KL divergence
   ``KL(p_Ising || p_RBM)`` estimated on those configurations.

References
----------
G. Torlai and R. G. Melko, "Learning thermodynamics with Boltzmann machines",
Phys. Rev. B 94, 165134 (2016).
"""

import time
import warnings

import numpy as np

from heatbath._validation import check_int, check_real_array
from heatbath.diagnostics import Trace, split_rhat, tau_int
from heatbath.spin import exact
from heatbath.spin.models import Ising
from heatbath.spin.observables import thermodynamics
from heatbath.spin.samplers import WolffSampler

__all__ = ["RECIPE", "CORRELATION_RECIPE", "ising_dataset", "train_rbm", "rbm_thermodynamics",
           "held_out_scores", "learn_thermodynamics", "report", "plot_thermodynamics",
           "NotMixedWarning"]

#: The training recipe (measured on L = 8 across T = 1.5 .. 3.5 and on the 4x4
#: torus by exact KL; README "Learning thermodynamics"). ``epochs`` is split in
#: stages of ``(fraction, learning_rate)``. ``symmetric``: biases held at 0
#: (p(s) = p(-s)). ``translation_invariant``: the weights are tied to
#: n_hidden / n_spins filters, each moved over every lattice translation (a
#: convolutional RBM; projected after every minibatch), which needs n_hidden to
#: be a multiple of the spins. ``init``: ``"bonds"`` starts filter f as a
#: nearest-neighbour bond along axis f % 2 with the weight fitted to the data by
#: pseudo-likelihood (an even number of filters; two filters can represent the
#: Ising model exactly), ``"correlation"`` as a bump shaped like the data's
#: spin-spin correlation, ``"random"`` from the RBM's random weights. Then PCD-10
#: with 500 persistent chains (the maximum-likelihood gradient; CD-10 drifted
#: away from the bond start near T_c) at a small learning rate moves every
#: weight. ``average``: the last fraction of the epochs over which the weights
#: are averaged (tied models only; 0 = off), which takes out the gradient noise.
#: ``translation_invariant=False`` is Torlai & Melko's plain RBM.
RECIPE = {
    "visible": "spin",
    "hidden": "spin",
    "method": "pcd",
    "k": 10,
    "batch_size": 100,
    "n_persistent_chains": 500,
    "momentum": 0.5,
    "weight_decay": 0.0,
    "schedule": ((0.5, 0.002), (0.5, 0.0005)),
    "symmetric": True,
    "translation_invariant": True,
    "init": "bonds",
    "average": 0.5,
}

#: The earlier recipe (one filter, correlation start, CD-10, learning rate 0.05
#: decaying to 0.001 over 60 epochs): no knowledge of the bond structure, for
#: comparison (``train_rbm(X, L*L, epochs=60, **thermo.CORRELATION_RECIPE)``).
CORRELATION_RECIPE = {
    "method": "cd",
    "n_persistent_chains": 100,
    "schedule": ((0.4, 0.05), (0.2, 0.02), (0.2, 0.005), (0.2, 0.001)),
    "init": "correlation",
    "average": 0.0,
}

_OBSERVABLES = ("energy_per_spin", "abs_magnetization", "specific_heat", "susceptibility")


class NotMixedWarning(UserWarning):
    """RBM chains did not mix: their observables are not trustworthy."""


def _observables(energy, magnetization, temperature, n_spins):
    """E/N, abs(m), C, chi with errors from series (n_records, n_chains) of totals."""
    trace = Trace({"energy": energy, "magnetization": magnetization},
                  np.ones(energy.shape[1]), None, np.full(energy.shape[1], temperature), n_spins)
    th = thermodynamics(trace)
    out = {}
    for name in _OBSERVABLES:
        out[name], out[name + "_stderr"] = th[name]
    return out


def ising_dataset(size, temperature, n_samples, *, n_chains=200, seed=None, n_threads=None,
                  pilot_sweeps=400):
    """Nearly independent Ising configurations on an L x L torus, by Wolff sweeps.

    A sweep is a fixed number of cluster flips, chosen in a warm-up so that
    it flips about L*L spins. A pilot run measures tau_int of E and abs(m) in
    sweeps; configurations are then kept every ``thin = ceil(2 tau)`` sweeps
    from each of ``n_chains`` chains.

    Parameters
    ----------
    size : int
        Side L (>= 2).
    temperature : float
    n_samples : int
        Configurations to return (rounded up to whole rounds over the chains,
        then cut).
    n_chains : int, default=200
    seed, n_threads
        As for the samplers.
    pilot_sweeps : int, default=400

    Returns
    -------
    dict
        ``states`` int8 (n_samples, L*L); ``energy`` and ``magnetization``
        (totals, shape (n_rounds, n_chains), in the order the states came);
        ``clusters_per_sweep``, ``tau_int_sweeps`` (pilot, max over E and
        abs(m)), ``thin`` and ``tau_int_kept`` (of the kept series, in kept
        samples: about 1 when they are independent).

    Examples
    --------
    >>> from heatbath.spin.thermo import ising_dataset
    >>> data = ising_dataset(4, 2.5, 400, n_chains=20, seed=0)
    >>> data["states"].shape, data["thin"] >= 1
    ((400, 16), True)
    """
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    n_chains = min(check_int(n_chains, "n_chains", minimum=1), n_samples)
    model = Ising((size, size))
    sampler = WolffSampler(model, temperature=temperature, n_chains=n_chains, seed=seed,
                           n_threads=n_threads)
    sampler.run(0, burn_in=100)
    warm = sampler.run(100)
    mean_size = float(np.mean(warm.info["mean_cluster_size"]))
    sampler.clusters_per_sweep = max(1, int(round(model.n_spins / mean_size)))
    pilot = sampler.run(check_int(pilot_sweeps, "pilot_sweeps", minimum=20))
    tau = max(tau_int(pilot["energy"]), tau_int(np.abs(pilot["magnetization"])))
    thin = max(1, int(np.ceil(2.0 * tau)))
    rounds = -(-n_samples // n_chains)
    states = np.empty((rounds, n_chains, model.n_spins), dtype=np.int8)
    energy = np.empty((rounds, n_chains))
    mag = np.empty((rounds, n_chains))
    for r in range(rounds):
        trace = sampler.run(thin, thin=thin)
        states[r] = trace.final_state
        energy[r] = trace["energy"][0]
        mag[r] = trace["magnetization"][0]
    kept = max(tau_int(energy), tau_int(np.abs(mag))) if rounds >= 4 else float("nan")
    return {"states": states.reshape(-1, model.n_spins)[:n_samples], "energy": energy,
            "magnetization": mag, "clusters_per_sweep": sampler.clusters_per_sweep,
            "tau_int_sweeps": tau, "thin": thin, "tau_int_kept": kept}


def _as_units(states, unit):
    s = np.asarray(states, dtype=float)
    return s if unit == "spin" else (s + 1.0) / 2.0


def train_rbm(states, n_hidden, *, epochs=10, seed=None, n_threads=None, **recipe):
    """Train an RBM on +-1 spin configurations with :data:`RECIPE` (overridable).

    Tied models (the recipe) start as ``recipe["init"]`` says and train with
    one set of persistent chains over the stages of ``recipe["schedule"]``
    (fractions of ``epochs`` and their learning rates). Untied ones run
    ``model.fit`` once per stage, with a fresh seed per stage (with
    ``symmetric=False`` the visible biases start from the data's unit means).

    Parameters
    ----------
    states : array_like, shape (n_samples, n_spins), values -1/+1
    n_hidden : int
    epochs : int, default=10
    seed, n_threads
    **recipe
        Any key of :data:`RECIPE`.

    Returns
    -------
    RBM

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.spin.thermo import train_rbm
    >>> X = np.where(np.random.default_rng(0).random((200, 9)) < 0.5, -1, 1)
    >>> train_rbm(X, 18, epochs=2, seed=0).weights.shape
    (9, 18)
    """
    from heatbath import _random
    from heatbath.rbm import RBM

    settings = dict(RECIPE)
    unknown = set(recipe) - set(settings)
    if unknown:
        raise TypeError(f"unknown recipe keys {sorted(unknown)}; expected some of "
                        f"{sorted(settings)}")
    settings.update(recipe)
    epochs = check_int(epochs, "epochs", minimum=0)
    X = check_real_array(states, "states", ndim=2)
    root = _random.as_seed_sequence(seed)
    init_seed, *stage_seeds = root.spawn(1 + len(settings["schedule"]))
    rbm = RBM(X.shape[1], n_hidden, visible=settings["visible"], hidden=settings["hidden"],
              seed=init_seed)
    V = _as_units(X, settings["visible"])
    callback = None
    if settings["symmetric"]:
        if settings["visible"] != "spin" or settings["hidden"] != "spin":
            raise ValueError("symmetric=True needs spin visible and hidden units")
        callback = _zero_biases
    else:
        rbm.init_visible_bias(V)
    tied = settings["translation_invariant"]
    if tied:
        if not settings["symmetric"]:
            raise ValueError("translation_invariant=True needs symmetric=True")
        tie = _TranslationTie(X.shape[1], n_hidden)
        tie(rbm.weights)
        if settings["init"] == "correlation":
            tie.add_correlation_filter(rbm.weights, X)
        elif settings["init"] == "bonds":
            if (n_hidden // X.shape[1]) % 2:
                raise ValueError(f"init='bonds' needs an even number of filters (n_hidden a "
                                 f"multiple of 2 * {X.shape[1]}), got n_hidden={n_hidden}")
            # Exactly the bond model: the random start's small couplings
            # between all pairs would shift its effective temperature.
            rbm.weights[...] = 0.0
            tie.add_bond_filters(rbm.weights, X)
        elif settings["init"] != "random":
            raise ValueError(f"init must be 'correlation', 'bonds' or 'random', "
                             f"got {settings['init']!r}")
        return _fit_tied(rbm, V, epochs, settings, tie, root.spawn(1)[0], n_threads)
    for n, (_, lr), stage_seed in zip(_stage_epochs(settings["schedule"], epochs),
                                      settings["schedule"], stage_seeds):
        if n <= 0:
            continue
        rbm.fit(V, epochs=n, batch_size=settings["batch_size"], method=settings["method"],
                k=settings["k"], learning_rate=lr, momentum=settings["momentum"],
                weight_decay=settings["weight_decay"],
                n_persistent_chains=settings["n_persistent_chains"], seed=stage_seed,
                n_threads=n_threads, callback=callback)
    return rbm


def _stage_epochs(schedule, epochs):
    """Epochs per stage of a ``((fraction, learning_rate), ...)`` schedule (sum = epochs)."""
    counts, done = [], 0
    for i, (fraction, _) in enumerate(schedule):
        n = epochs - done if i == len(schedule) - 1 else int(round(fraction * epochs))
        counts.append(max(0, n))
        done += max(0, n)
    return counts


class _TranslationTie:
    """Project spin-RBM weights onto the translation-invariant (convolutional) subspace.

    Hidden unit ``f * N + t`` is filter ``f`` moved by lattice translation
    ``t``: ``W[(i + t), f N + t] = w_f[i]``. The projection averages each
    filter over its N copies (the orthogonal projection onto tied weights).
    """

    def __init__(self, n_spins, n_hidden):
        size = int(round(np.sqrt(n_spins)))
        if size * size != n_spins:
            raise ValueError(f"translation_invariant needs a square lattice; got {n_spins} spins")
        if n_hidden % n_spins:
            raise ValueError(f"translation_invariant needs n_hidden a multiple of the "
                             f"{n_spins} spins, got {n_hidden}")
        x, y = np.divmod(np.arange(n_spins), size)
        # shifted[t, i]: site i moved by translation t = (x_t, y_t).
        shifted = ((x[None, :] + x[:, None]) % size) * size + (y[None, :] + y[:, None]) % size
        n_filters = n_hidden // n_spins
        self.rows = np.broadcast_to(shifted, (n_filters, n_spins, n_spins))
        cols = np.arange(n_filters)[:, None, None] * n_spins + np.arange(n_spins)[None, :, None]
        self.cols = np.broadcast_to(cols, self.rows.shape)

    def add_correlation_filter(self, W, X, scale=0.2):
        """Add ``scale * (C(r) - min C) / (1 - min C)`` to every filter, centred on its unit.

        ``C(r)`` is the data's spin-spin correlation at lattice displacement r
        (1 at r = 0): a data-dependent start, the same for every seed, that is
        a local bump, invariant under the lattice's point group.
        """
        shifted = self.rows[0]
        corr = np.array([np.mean(X * X[:, shifted[t]]) for t in range(shifted.shape[0])])
        bump = (corr - corr.min()) / max(1.0 - corr.min(), 1e-12)
        W[self.rows, self.cols] += scale * bump[None, None, :]
        return W

    def add_bond_filters(self, W, X):
        """Start filter f as a nearest-neighbour bond along axis f % 2, its weight from the data.

        A spin hidden unit joined by weight c to both ends of one bond
        contributes ``log 2 cosh(c (s_i + s_k))``: a pair coupling K with
        ``cosh 2c = exp(2 K)``, so two such filters can represent a
        nearest-neighbour Ising model exactly. K is the data's
        pseudo-likelihood estimate (:func:`_pair_coupling`); training then
        moves every weight from there.
        """
        size = int(round(np.sqrt(W.shape[0])))
        weight = 0.5 * np.arccosh(np.exp(2.0 * _pair_coupling(X, size)))
        for f in range(self.rows.shape[0]):
            bump = np.zeros(W.shape[0])
            bump[0] = bump[size if f % 2 == 0 else 1] = weight
            W[self.rows[f], self.cols[f]] += bump[None, :]
        return W

    def __call__(self, W):
        filters = W[self.rows, self.cols].mean(axis=1, keepdims=True)
        W[self.rows, self.cols] = filters
        return W


def _pair_coupling(X, size):
    """Pseudo-likelihood estimate of a nearest-neighbour coupling K from +-1 configurations.

    Maximises ``sum log sigmoid(2 K s_i h_i)`` over sites and rows, where
    ``h_i`` is the sum of the four neighbours of site i (the conditional of
    one spin given the rest in a zero-field Ising model), by Newton steps on
    this concave function of one variable. Returns K >= 0.
    """
    S = np.asarray(X, dtype=float).reshape(-1, size, size)
    h = sum(np.roll(S, shift, axis) for shift in (1, -1) for axis in (1, 2))
    a = 2.0 * (S * h).ravel()
    a = a[a != 0.0]
    if a.size == 0:
        return 0.0
    K = 0.0
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(np.clip(a * K, -500.0, 500.0)))   # sigmoid(-a K)
        grad, curv = np.sum(a * p), np.sum(a * a * p * (1.0 - p))
        if curv <= 0.0:
            break
        step = grad / curv
        K = max(K + step, 0.0)
        if abs(step) < 1e-10:
            break
    return float(K)


def _fit_tied(rbm, V, epochs, settings, tie, seed, n_threads):
    """PCD with the weights projected by ``tie`` after every minibatch, biases held at 0.

    One set of persistent chains and one velocity for the whole schedule;
    the learning rate changes per stage.
    """
    from heatbath._openmp import effective_n_threads
    from heatbath.rbm._layers import single_threaded_blas
    from heatbath import _random
    from heatbath.rbm.train import Trainer, _swap, cd_step

    n_threads = effective_n_threads(n_threads)
    V = np.ascontiguousarray(V, dtype=rbm.dtype)
    batch = settings["batch_size"]
    method = settings["method"]
    trainer = Trainer(rbm, V, batch, method, settings["k"], settings["schedule"][0][1],
                      settings["momentum"], settings["weight_decay"],
                      settings["n_persistent_chains"], None, True, seed)
    n_swaps = 0
    n = V.shape[0]
    average_from = epochs - int(round(settings["average"] * epochs))
    total, count, epoch = np.zeros_like(rbm.weights), 0, 0
    with single_threaded_blas(), np.errstate(over="ignore", invalid="ignore"):
        for n_epochs, (_, lr) in zip(_stage_epochs(settings["schedule"], epochs),
                                     settings["schedule"]):
            for _ in range(n_epochs):
                rows = trainer.order_rng.permutation(n)
                for b0 in range(0, n, batch):
                    cd_step(rbm, np.ascontiguousarray(V[rows[b0:b0 + batch]]), settings["k"],
                            trainer.batch_streams, trainer.velocity, lr, settings["momentum"],
                            settings["weight_decay"], trainer.persistent, n_threads)
                    if method == "pt":
                        u = _random.random(trainer.swap_streams, trainer.n_replicas - 1)
                        _swap(rbm, trainer.persistent, trainer.n_replicas, u, n_swaps % 2)
                        n_swaps += 1
                    tie(rbm.weights)
                    rbm.visible_bias[...] = 0.0
                    rbm.hidden_bias[...] = 0.0
                    if epoch >= average_from:
                        total += rbm.weights
                        count += 1
                if not np.isfinite(rbm.weights).all():
                    raise FloatingPointError(f"training diverged (learning rate {lr}); "
                                             "lower the learning rates in the schedule")
                epoch += 1
    if count:
        rbm.weights[...] = total / count
    return rbm


def _zero_biases(epoch, model, history):
    """Keep a spin-spin RBM symmetric under s -> -s: biases back to 0 after each epoch.

    With zero biases, p(s) = p(-s) exactly, and the weight gradient is the
    same whichever of the two ordered states a persistent chain is stuck in.
    Left free, the biases follow chains stuck in one state below T_c and the
    model loses the other (measured on the 4x4 torus at T = 2: exact KL 4.6
    nats with free biases, 0.04-0.06 with this; README).
    """
    model.visible_bias[...] = 0.0
    model.hidden_bias[...] = 0.0


def rbm_thermodynamics(rbm, size, temperature, *, start=None, n_chains=200, burn_in=400,
                       n_sweeps=400, thin=4, seed=None, n_threads=None, rhat_max=1.05):
    """E/N, abs(m), C and chi of an RBM's samples read as L x L Ising spins.

    Block-Gibbs chains (an RBM's own sampler) run ``burn_in`` steps, then
    ``n_sweeps`` steps recorded every ``thin``. Half the chains start from
    the rows of ``start`` (held-out data) when given, the other half from the
    model's own random start; if the halves disagree, or split R-hat of E or
    abs(m) exceeds ``rhat_max``, a :class:`NotMixedWarning` is issued.

    Returns
    -------
    dict
        The four observables with ``_stderr``, plus ``rhat_energy``,
        ``rhat_abs_magnetization``, ``tau_int_energy`` (in recorded steps),
        ``start_gap_z`` (energy of data-started minus random-started chains,
        in standard errors) and ``mixed`` (bool).

    Examples
    --------
    >>> from heatbath.rbm import RBM
    >>> from heatbath.spin.thermo import rbm_thermodynamics
    >>> rbm = RBM(16, 4, visible="spin", hidden="spin", seed=0)
    >>> out = rbm_thermodynamics(rbm, 4, 2.5, n_chains=20, burn_in=10, n_sweeps=80, seed=1)
    >>> sorted(out)[:3]
    ['abs_magnetization', 'abs_magnetization_stderr', 'energy_per_spin']
    """
    model = Ising((size, size))
    if rbm.n_visible != model.n_spins:
        raise ValueError(f"rbm has {rbm.n_visible} visible units; an {size}x{size} lattice "
                         f"has {model.n_spins} spins")
    unit = rbm.visible.name
    if unit not in ("spin", "bernoulli"):
        raise ValueError(f"rbm must have spin or bernoulli visible units, got {unit}")
    n_chains = check_int(n_chains, "n_chains", minimum=2)
    from heatbath import _random

    init = None
    pick_seed, random_seed, chain_seed = _random.as_seed_sequence(seed).spawn(3)
    if start is not None:
        half = n_chains // 2
        start = np.asarray(start)
        rows = np.random.default_rng(pick_seed).integers(0, start.shape[0], size=half)
        random_half = rbm.sample(n_chains=n_chains - half, n_steps=1, seed=random_seed,
                                 n_threads=n_threads)
        init = np.concatenate([_as_units(start[rows], unit), random_half])
    sampler = rbm.gibbs_sampler(n_chains=n_chains, seed=chain_seed, n_threads=n_threads,
                                init=init)
    trace = sampler.run(n_sweeps, burn_in=burn_in, thin=thin, record_states=True)
    S = trace.info["states"]
    spins = S if unit == "spin" else 2.0 * S - 1.0
    flat = spins.reshape(-1, model.n_spins)
    energy = model.energy(flat, n_threads=n_threads).reshape(S.shape[:2])
    mag = model.magnetization(flat).reshape(S.shape[:2])
    out = _observables(energy, mag, temperature, model.n_spins)
    out["rhat_energy"] = split_rhat(energy)
    out["rhat_abs_magnetization"] = split_rhat(np.abs(mag))
    out["tau_int_energy"] = tau_int(energy)
    gap = float("nan")
    if start is not None:
        half = n_chains // 2
        e = energy / model.n_spins
        a, b = e[:, :half], e[:, half:]
        se = np.hypot(_stderr(a), _stderr(b))
        gap = float((a.mean() - b.mean()) / se) if se > 0 else 0.0
    out["start_gap_z"] = gap
    rhat_ok = max(out["rhat_energy"], out["rhat_abs_magnetization"]) <= rhat_max
    out["mixed"] = bool(rhat_ok and not abs(gap) > 4.0)
    if not out["mixed"]:
        warnings.warn(
            f"RBM chains at T = {temperature} did not mix: R-hat(E) = "
            f"{out['rhat_energy']:.3f}, R-hat(|m|) = {out['rhat_abs_magnetization']:.3f}, "
            f"data-started minus random-started E = {gap:+.1f} standard errors; "
            "run longer chains (burn_in, n_sweeps)", NotMixedWarning, stacklevel=2)
    return out


def _stderr(x):
    from heatbath.diagnostics import stderr

    return stderr(x)


def held_out_scores(rbm, states, size, temperature, *, n_ais_runs=64, n_ais_betas=2000,
                    seed=None, n_threads=None):
    """Held-out log-likelihood of an RBM and its KL divergence from the exact Ising model.

    ``log p_RBM(s) = -F(s) - log Z``, with log Z exact when a layer has at
    most 25 units (:meth:`heatbath.rbm.RBM.log_partition`), else by AIS. On
    the torus the Ising log-probability is exact (Kaufman's log Z), so
    ``KL(p_Ising || p_RBM)`` is estimated by the mean over the held-out
    configurations of ``log p_Ising(s) - log p_RBM(s)``, which has a much
    smaller error than either term.

    Returns
    -------
    dict
        ``test_log_likelihood`` (mean per configuration, nats) with
        ``test_log_likelihood_stderr`` (data and log Z errors combined),
        ``exact_log_likelihood`` (the same mean under the Ising model itself:
        the best any model can do), ``kl_divergence`` and
        ``kl_divergence_stderr`` (nats per configuration), and
        ``log_partition_method``.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.rbm import RBM
    >>> from heatbath.spin.thermo import held_out_scores
    >>> rbm = RBM(16, 2, visible="spin", hidden="spin").set_parameters(weights=np.zeros((16, 2)))
    >>> X = np.ones((5, 16))
    >>> round(held_out_scores(rbm, X, 4, 2.0)["test_log_likelihood"], 4)   # 16 fair coins
    -11.0904
    """
    model = Ising((size, size))
    X = check_real_array(states, "states", ndim=2)
    V = _as_units(X, rbm.visible.name)
    neg_free = -rbm.free_energy(V)
    if min(rbm.n_visible, rbm.n_hidden) <= 25:
        log_z, method = rbm.log_partition("exact", n_threads=n_threads), "exact"
    else:
        log_z = rbm.log_partition("ais", n_runs=n_ais_runs, n_betas=n_ais_betas, data=V,
                                  seed=seed, n_threads=n_threads)
        method = "ais"
    log_p = neg_free - float(log_z)
    ex = exact.torus_thermodynamics((size, size), temperature)
    log_true = -model.energy(X.astype(np.int8)) / temperature - ex["log_partition"]
    diff = log_true - log_p
    n = X.shape[0]
    data_err = log_p.std(ddof=1) / np.sqrt(n) if n > 1 else float("inf")
    kl_err = diff.std(ddof=1) / np.sqrt(n) if n > 1 else float("inf")
    return {"test_log_likelihood": float(log_p.mean()),
            "test_log_likelihood_stderr": float(np.hypot(data_err, log_z.stderr)),
            "exact_log_likelihood": float(log_true.mean()),
            "kl_divergence": float(diff.mean()),
            "kl_divergence_stderr": float(np.hypot(kl_err, log_z.stderr)),
            "log_partition_method": method}


def learn_thermodynamics(size, temperatures, *, n_hidden=None, n_samples=10000, n_test=2000,
                         n_reference=50000, epochs=10, seed=None, n_threads=None, n_chains=200,
                         burn_in=1000, n_sweeps=2000, verbose=False, **recipe):
    """Run the Torlai-Melko study at each temperature: MC data, RBM, both sets of observables.

    Parameters
    ----------
    size : int
        Lattice side L: an L x L periodic Ising ferromagnet, J = 1, h = 0.
    temperatures : sequence of float
    n_hidden : int, optional
        Default ``2 * size**2``: two translation-tied filters (the number the
        ``"bonds"`` start of :data:`RECIPE` needs).
    n_samples : int, default=10000
        Training configurations per temperature.
    n_test : int, default=2000
        Held-out configurations (test log-likelihood, KL, data-started chains).
    n_reference : int, default=50000
        Monte Carlo configurations behind the ``mc`` observables: the
        training and held-out sets are the first of them (Wolff draws are
        cheap; a reference from the 10,000 training configurations alone
        would have errors of the order of the 2 % being tested).
    epochs : int, default=10
    seed : None, int, SeedSequence or Generator
        One root: each temperature gets its own spawned seeds.
    n_threads : int or None
    n_chains, burn_in, n_sweeps
        RBM sampling (see :func:`rbm_thermodynamics`); defaults 200, 1000, 2000.
    verbose : bool
        Print one line per temperature as it finishes.
    **recipe
        Overrides of :data:`RECIPE`.

    Returns
    -------
    list of dict
        One row per temperature: ``temperature``; ``mc`` and ``rbm`` (each
        with the four observables and their ``_stderr``; ``mc`` also holds
        the decorrelation figures of :func:`ising_dataset`, ``rbm`` the
        mixing figures of :func:`rbm_thermodynamics`);
        ``exact_energy_per_spin`` and ``exact_specific_heat`` (finite torus);
        the scores of :func:`held_out_scores`; ``n_hidden``; ``seconds``.

    Examples
    --------
    >>> from heatbath.spin.thermo import learn_thermodynamics
    >>> rows = learn_thermodynamics(4, [3.0], n_hidden=32, n_samples=500, n_test=100,
    ...                             n_reference=600, epochs=3, n_chains=20, burn_in=20,
    ...                             n_sweeps=80, seed=0)
    >>> row = rows[0]
    >>> round(row["exact_energy_per_spin"], 4), sorted(row["mc"])[:2]
    (-1.0171, ['abs_magnetization', 'abs_magnetization_stderr'])
    """
    from heatbath import _random

    size = check_int(size, "size", minimum=2)
    temps = check_real_array(temperatures, "temperatures", ndim=1)
    if temps.size == 0 or (temps <= 0).any() or not np.isfinite(temps).all():
        raise ValueError(f"temperatures must be finite and > 0, got {temps.tolist()}")
    n_hidden = 2 * size * size if n_hidden is None else check_int(n_hidden, "n_hidden",
                                                                   minimum=1)
    n_samples = check_int(n_samples, "n_samples", minimum=2)
    n_test = check_int(n_test, "n_test", minimum=2)
    n_reference = check_int(n_reference, "n_reference", minimum=1)
    root = _random.as_seed_sequence(seed)
    rows = []
    for T, t_seed in zip(temps.tolist(), root.spawn(temps.size)):
        start = time.perf_counter()
        data_seed, train_seed, sample_seed, score_seed = t_seed.spawn(4)
        # At least 20 rounds over the chains, so that the error bars have groups to use.
        mc_chains = min(200, max(2, n_samples // 20))
        data = ising_dataset(size, T, max(n_samples + n_test, n_reference), n_chains=mc_chains,
                             seed=data_seed, n_threads=n_threads)
        N = size * size
        # The Ising observables from every round (training and held-out
        # sets are the first rows); the training set's own, beside them.
        mc = _observables(data["energy"], data["magnetization"], T, N)
        full = n_samples // mc_chains
        train_obs = _observables(data["energy"][:full], data["magnetization"][:full], T, N)
        mc["training_set"] = train_obs
        mc.update({key: data[key] for key in ("clusters_per_sweep", "tau_int_sweeps", "thin",
                                              "tau_int_kept")})
        mc["n_samples"] = n_samples
        mc["n_reference"] = int(data["energy"].size)
        mc["n_spins"] = N
        train, test = data["states"][:n_samples], data["states"][n_samples:n_samples + n_test]
        rbm = train_rbm(train, n_hidden, epochs=epochs, seed=train_seed, n_threads=n_threads,
                        **recipe)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", NotMixedWarning)
            sampled = rbm_thermodynamics(rbm, size, T, start=test, n_chains=n_chains,
                                         burn_in=burn_in, n_sweeps=n_sweeps, seed=sample_seed,
                                         n_threads=n_threads)
        for w in caught:
            warnings.warn(w.message, w.category, stacklevel=2)
        scores = held_out_scores(rbm, test, size, T, seed=score_seed, n_threads=n_threads)
        ex = exact.torus_thermodynamics((size, size), T)
        row = {"temperature": T, "mc": mc, "rbm": sampled,
               "exact_energy_per_spin": ex["energy_per_spin"],
               "exact_specific_heat": ex["specific_heat"], "n_hidden": n_hidden, **scores,
               "seconds": time.perf_counter() - start}
        rows.append(row)
        if verbose:
            print(format_row(row), flush=True)
    return rows


def format_row(row):
    """One line: T, E/N and abs(m) from MC and RBM with their relative gaps, KL, seconds."""
    mc, rbm = row["mc"], row["rbm"]
    gaps = {k: 100.0 * (rbm[k] / mc[k] - 1.0) for k in _OBSERVABLES}
    return (f"T={row['temperature']:.3f}  E/N mc {mc['energy_per_spin']:.4f} rbm "
            f"{rbm['energy_per_spin']:.4f} ({gaps['energy_per_spin']:+.1f}%)  |m| mc "
            f"{mc['abs_magnetization']:.4f} rbm {rbm['abs_magnetization']:.4f} "
            f"({gaps['abs_magnetization']:+.1f}%)  C {gaps['specific_heat']:+.1f}%  chi "
            f"{gaps['susceptibility']:+.1f}%  KL {row['kl_divergence']:.3f} nats  "
            f"R-hat {max(rbm['rhat_energy'], rbm['rhat_abs_magnetization']):.3f}  "
            f"{row['seconds']:.0f} s")


def report(rows):
    """A text table of :func:`learn_thermodynamics` rows (value +- error, MC beside RBM).

    Examples
    --------
    >>> from heatbath.spin.thermo import learn_thermodynamics, report
    >>> rows = learn_thermodynamics(4, [3.0], n_hidden=32, n_samples=200, n_test=50, epochs=1,
    ...                             n_reference=250, n_chains=8, burn_in=5, n_sweeps=40, seed=0)
    >>> print(report(rows).splitlines()[0].split()[:3])
    ['T', 'E/N', 'MC']
    """
    def pm(d, key, digits):
        return f"{d[key]:.{digits}f}({_digits(d[key + '_stderr'], digits)})"

    header = ["T", "E/N MC", "E/N RBM", "E/N exact", "|m| MC", "|m| RBM", "C MC", "C RBM",
              "C exact", "chi MC", "chi RBM", "KL (nats)", "R-hat", "s"]
    table = []
    for r in rows:
        mc, rbm = r["mc"], r["rbm"]
        table.append([f"{r['temperature']:.3f}", pm(mc, "energy_per_spin", 4),
                      pm(rbm, "energy_per_spin", 4), f"{r['exact_energy_per_spin']:.4f}",
                      pm(mc, "abs_magnetization", 4), pm(rbm, "abs_magnetization", 4),
                      pm(mc, "specific_heat", 3), pm(rbm, "specific_heat", 3),
                      f"{r['exact_specific_heat']:.3f}", pm(mc, "susceptibility", 3),
                      pm(rbm, "susceptibility", 3),
                      f"{r['kl_divergence']:.3f}({_digits(r['kl_divergence_stderr'], 3)})",
                      f"{max(rbm['rhat_energy'], rbm['rhat_abs_magnetization']):.3f}",
                      f"{r['seconds']:.0f}"])
    widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in table]
    return "\n".join(lines)


def _digits(err, digits):
    """An error in units of the last digit shown: 0.0012 at 4 digits -> '12'."""
    if not np.isfinite(err):
        return "?"
    return str(int(round(err * 10**digits)))


def plot_thermodynamics(rows, title=None):
    """E/N, abs(m), C and chi against T: MC and RBM with error bars, exact torus curves.

    Needs matplotlib (``pip install heatbath[plot]``); returns a Figure made
    without pyplot.

    Examples
    --------
    >>> from heatbath.spin.thermo import learn_thermodynamics, plot_thermodynamics
    >>> rows = learn_thermodynamics(4, [2.0, 3.0], n_hidden=32, n_samples=200, n_test=50,
    ...                             n_reference=250, epochs=1, n_chains=8, burn_in=5,
    ...                             n_sweeps=40, seed=0)
    >>> len(plot_thermodynamics(rows).axes)
    4
    """
    from matplotlib.figure import Figure

    if not rows:
        raise ValueError("rows must hold at least one temperature")
    size = int(round(np.sqrt(_n_spins(rows[0]))))
    T = np.array([r["temperature"] for r in rows])
    fine = np.linspace(T.min() * 0.95, T.max() * 1.05, 200)
    curves = [exact.torus_thermodynamics((size, size), t) for t in fine]
    fig = Figure(figsize=(10, 7), layout="constrained")
    axes = fig.subplots(2, 2).ravel()
    labels = {"energy_per_spin": "E / N", "abs_magnetization": "<|m|>",
              "specific_heat": "C / N", "susceptibility": "chi / N"}
    for ax, name in zip(axes, _OBSERVABLES):
        for key, marker, label in (("mc", "o", "Monte Carlo (Wolff)"),
                                   ("rbm", "s", "RBM samples")):
            ax.errorbar(T, [r[key][name] for r in rows],
                        yerr=[r[key][name + "_stderr"] for r in rows], fmt=marker,
                        mfc="none" if key == "rbm" else None, capsize=3, label=label)
        if name in ("energy_per_spin", "specific_heat"):
            ax.plot(fine, [c[name] for c in curves], "k-", lw=1, label=f"exact {size}x{size} torus")
        ax.axvline(exact.critical_temperature(), color="0.7", ls=":", lw=1)
        ax.set_xlabel("T")
        ax.set_ylabel(labels[name])
    axes[0].legend(fontsize=8)
    fig.suptitle(title or f"RBMs learn the {size}x{size} Ising model "
                          f"({rows[0]['n_hidden']} hidden units)")
    return fig


def _n_spins(row):
    return row["mc"]["n_spins"]
