"""Bench cases: restricted Boltzmann machines (heatbath.rbm), at MNIST's shape 784x500."""

import numpy as np

from heatbath import _random
from heatbath._bench import Side, case, load_shared, peer
from heatbath._benchcases._numpy import CDk, block_gibbs
from heatbath.reference import rbm as twin

_BERNOULLI = (0, 0)   # (kind, param) of bernoulli units in heatbath.reference.rbm


def _data(n, nv, dtype, seed=0):
    """MNIST-like binary rows (pixel density ~0.13), made here: no downloads."""
    return (np.random.default_rng(seed).random((n, nv)) < 0.13).astype(dtype)


def _model(nv, nh, dtype):
    from heatbath import RBM
    return RBM(nv, nh, dtype=dtype, seed=0)


def _fit_case(method, k, dtype, quick, n_threads):
    # One epoch over 10,000 rows (a sixth of MNIST): per-fit costs (checks, the epoch's
    # reconstruction error on 2,000 rows) weigh on it as on a real run, not 10x more.
    nv, nh, batch, n = (20, 10, 10, 40) if quick else (784, 500, 100, 10_000)
    X = _data(n, nv, dtype)
    model = _model(nv, nh, dtype)
    W, a, b = model.weights.copy(), model.visible_bias.copy(), model.hidden_bias.copy()
    ours = CDk(W.copy(), a.copy(), b.copy(), batch, k=k, persistent=method == "pcd")
    streams = _random.spawn_states(0, batch)
    velocity = [np.zeros_like(W), np.zeros_like(a), np.zeros_like(b)]
    twin_batches = 1 if quick else 2
    persistent = ({"v": X[:batch].copy(), "streams": _random.spawn_states(1, batch)}
                  if method == "pcd" else None)

    def twin_fn():
        for i in range(twin_batches):
            twin.cd_update(W, a, b, _BERNOULLI, _BERNOULLI, X[i * batch:(i + 1) * batch], k,
                           streams, velocity, 0.1, persistent=persistent)

    name = np.dtype(dtype).name
    sides = dict(
        work=n, title=f"fit {method.upper()}-{k}, {nv}x{nh}, batch {batch}, {n} rows, {name}",
        heatbath=lambda: model.fit(X, epochs=1, batch_size=batch, method=method, k=k,
                                   learning_rate=0.1, shuffle=False, seed=0, n_threads=n_threads),
        twin=Side(twin_fn, "reference.rbm.cd_update", n / (twin_batches * batch)),
        numpy=Side(lambda: ours.epoch(X, batch), "NumPy CD-k"))
    sides["bound_gemm"] = Side(_products_only(W, X, batch, k, method == "pcd", n_threads),
                               "GEMM-only bound")
    if method == "cd" and k == 1 and dtype == np.float32:
        torch = peer("torch")
        if torch is not None:
            sides["torch"] = Side(lambda: _torch_epoch(torch, X, batch, nh, n_threads),
                                  f"PyTorch CPU, {n_threads} thread(s)")
    shared = load_shared("rbm_numpy")
    if shared is not None:
        if method == "cd":
            theirs = shared.RBM(nv, nh, dtype, 0)
            sides["shared_numpy"] = Side(lambda: theirs.epoch(X, batch, k, False),
                                         "shared rbm_numpy")
        if method == "cd" and k == 1 and dtype == np.float32 and peer("torch") is not None:
            shared_torch = load_shared("rbm_torch")
            if shared_torch is not None:
                sides["shared_torch"] = Side(
                    lambda: shared_torch.cd1_epoch_torch(X, batch, n_threads=n_threads),
                    "shared rbm_torch")
    return sides


def _products_only(W, X, batch, k, persistent, n_threads):
    """The GEMMs of one epoch of heatbath's CD-k / PCD-k alone (its blocked products, on
    n_threads threads, BLAS pinned to one): per minibatch the data's hidden pre-activations,
    the chain's k steps (CD's first step reuses them), the final hidden pre-activations
    and the one gradient GEMM (K = 2 * batch). No sampling, no update, no monitor."""
    from heatbath.rbm._layers import matmul, single_threaded_blas

    dt = W.dtype
    nv, nh = W.shape
    VV, HH = X[:2 * batch].copy(), np.full((2 * batch, nh), 0.5, dt)
    up, down, G = np.empty((batch, nh), dt), np.empty((batch, nv), dt), np.zeros_like(W)
    n_up = k + (1 if persistent else 0)      # V @ W per minibatch besides the data's

    def run():
        with single_threaded_blas():
            for _ in range(0, X.shape[0], batch):
                matmul(VV[:batch], W, n_threads, out=up)
                for _ in range(k):
                    matmul(HH[:batch], W.T, n_threads, out=down)
                for _ in range(n_up):
                    matmul(VV[batch:], W, n_threads, out=up)
                matmul(VV.T, HH, n_threads, out=G, alpha=0.1, beta=0.5)
    return run


def _torch_epoch(torch, X, batch, nh, n_threads, lr=0.1):
    """CD-1 epoch in PyTorch on the CPU (what a PyTorch user would write)."""
    torch.set_num_threads(n_threads)
    Xt = torch.from_numpy(X)
    g = torch.Generator().manual_seed(0)
    W = 0.01 * torch.randn(X.shape[1], nh, generator=g)
    b, c = torch.zeros(X.shape[1]), torch.zeros(nh)
    with torch.no_grad():
        for i in range(0, len(Xt), batch):
            v0 = Xt[i:i + batch]
            h0 = torch.sigmoid(v0 @ W + c)
            h = (torch.rand(h0.shape, generator=g) < h0).float()
            v = (torch.rand(v0.shape, generator=g) < torch.sigmoid(h @ W.T + b)).float()
            hk = torch.sigmoid(v @ W + c)
            W += lr / len(v0) * (v0.T @ h0 - v.T @ hk)
            b += lr * (v0 - v).mean(0)
            c += lr * (h0 - hk).mean(0)


_FIT_SIDES = ("twin", "numpy", "torch", "shared_numpy", "shared_torch", "bound_gemm")


@case("rbm", "rbm-fit-cd1-784x500-f32", unit="sample", sides=_FIT_SIDES, demo=True)
def _cd1_f32(quick, n_threads):
    return _fit_case("cd", 1, np.float32, quick, n_threads)


@case("rbm", "rbm-fit-cd1-784x500-f64", unit="sample", sides=_FIT_SIDES)
def _cd1_f64(quick, n_threads):
    return _fit_case("cd", 1, np.float64, quick, n_threads)


@case("rbm", "rbm-fit-cd10-784x500-f32", unit="sample", sides=_FIT_SIDES)
def _cd10_f32(quick, n_threads):
    return _fit_case("cd", 10, np.float32, quick, n_threads)


@case("rbm", "rbm-fit-pcd1-784x500-f32", unit="sample", sides=_FIT_SIDES)
def _pcd1_f32(quick, n_threads):
    return _fit_case("pcd", 1, np.float32, quick, n_threads)


@case("rbm", "rbm-gibbs-1000ch-784x500-f32", unit="step", sides=("twin", "numpy", "bound_gemm"),
      demo=True)
def _gibbs(quick, n_threads):
    nv, nh, n_chains = (20, 10, 16) if quick else (784, 500, 1000)
    dtype = np.float32
    model = _model(nv, nh, dtype)
    V = _data(n_chains, nv, dtype)
    sampler = model.gibbs_sampler(n_chains=n_chains, seed=0, n_threads=n_threads, init=V)
    W, a, b = model.weights, model.visible_bias, model.hidden_bias
    Vn, rng = V.copy(), np.random.default_rng(0)
    streams = _random.spawn_states(0, n_chains)
    ones = np.ones(n_chains)
    n_twin = max(1, n_chains // 10)

    def twin_fn():
        st = streams[:n_twin]
        _, H, st = twin.sample_layer(b + V[:n_twin] @ W, *_BERNOULLI, ones[:n_twin], st)
        return twin.sample_layer(a + H @ W.T, *_BERNOULLI, ones[:n_twin], st)

    def products_only():
        from heatbath.rbm._layers import matmul, single_threaded_blas

        with single_threaded_blas():
            matmul(V, W, n_threads, out=up)
            matmul(Hb, W.T, n_threads, out=down)

    up, down = np.empty((n_chains, nh), dtype), np.empty((n_chains, nv), dtype)
    Hb = np.full((n_chains, nh), 0.5, dtype)
    return dict(work=n_chains, title=f"block Gibbs, {n_chains} chains, {nv}x{nh}, float32",
                heatbath=lambda: sampler.run(0, burn_in=1),
                bound_gemm=Side(products_only, "GEMM-only bound"),
                twin=Side(twin_fn, "reference.rbm.sample_layer", n_chains / n_twin),
                numpy=Side(lambda: block_gibbs(W, a, b, Vn, rng), "NumPy block Gibbs"))


def _sklearn_case(nh, dtype, quick, n_threads):
    """heatbath's fit against scikit-learn's BernoulliRBM.fit at its own shape (digits):
    64 visible, PCD-1, batch 10, 10 epochs; both fit data of ``dtype``."""
    sklearn_rbm = peer("sklearn.neural_network")
    datasets = peer("sklearn.datasets")
    nh, epochs = (16, 1) if quick else (nh, 10)
    if datasets is not None:
        X = (datasets.load_digits().data >= 8).astype(dtype)
    else:
        X = _data(1797, 64, dtype)
    model = _model(64, nh, dtype)
    sides = dict(work=epochs * X.shape[0],
                 title=f"fit PCD-1, digits 64x{nh}, batch 10, {epochs} epochs, "
                       f"{np.dtype(dtype).name}",
                 # k=1 given: RBM.fit's default is PCD-5 (five times the Gibbs work).
                 heatbath=lambda: model.fit(X, epochs=epochs, batch_size=10, method="pcd", k=1,
                                            learning_rate=0.1, seed=0, n_threads=n_threads))
    if sklearn_rbm is not None:
        sides["sklearn"] = Side(lambda: sklearn_rbm.BernoulliRBM(
            n_components=nh, n_iter=epochs, batch_size=10, learning_rate=0.1,
            random_state=0).fit(X), "sklearn BernoulliRBM")
    return sides


@case("rbm", "rbm-fit-vs-sklearn-64x64", unit="sample", sides=("sklearn",))
def _sklearn_64(quick, n_threads):
    return _sklearn_case(64, np.float64, quick, n_threads)


@case("rbm", "rbm-fit-vs-sklearn-64x64-f32", unit="sample", sides=("sklearn",))
def _sklearn_64_f32(quick, n_threads):
    return _sklearn_case(64, np.float32, quick, n_threads)


@case("rbm", "rbm-fit-vs-sklearn-64x256", unit="sample", sides=("sklearn",))
def _sklearn_256(quick, n_threads):
    return _sklearn_case(256, np.float64, quick, n_threads)


@case("rbm", "rbm-fit-vs-sklearn-64x256-f32", unit="sample", sides=("sklearn",))
def _sklearn_256_f32(quick, n_threads):
    return _sklearn_case(256, np.float32, quick, n_threads)


def _numpy_ais(W, a, b, a0, betas, rng, n_runs=100):
    """AIS (Salakhutdinov & Murray 2008) for a Bernoulli RBM in plain NumPy."""
    dt = W.dtype
    v = (rng.random((n_runs, W.shape[0]), dtype=dt) < 1.0 / (1.0 + np.exp(-a0))).astype(dt)
    log_w = np.zeros(n_runs)

    def log_f(beta, v, c):
        return v @ (a0 + beta * (a - a0)) + np.logaddexp(0.0, beta * (b + c)).sum(axis=1)

    c = v @ W
    for k in range(1, len(betas)):
        log_w += log_f(betas[k], v, c) - log_f(betas[k - 1], v, c)
        beta = betas[k]
        ph = 1.0 / (1.0 + np.exp(-beta * (b + c)))
        h = (rng.random(ph.shape, dtype=dt) < ph).astype(dt)
        pv = 1.0 / (1.0 + np.exp(-((h @ W.T) * dt.type(beta) + (a0 + beta * (a - a0)))))
        v = (rng.random(pv.shape, dtype=dt) < pv).astype(dt)
        c = v @ W
    return log_w


@case("rbm", "rbm-ais-784x500-f32", unit="run-beta", sides=("twin", "numpy"))
def _ais(quick, n_threads):
    from heatbath.rbm.estimators import ais_schedule

    nv, nh, n_betas = (20, 10, 20) if quick else (784, 500, 300)
    model = _model(nv, nh, np.float32)
    X = _data(1000, nv, np.float32)
    a0 = np.log(np.clip(X.mean(0), 1e-3, 1 - 1e-3) / (1 - np.clip(X.mean(0), 1e-3, 1 - 1e-3)))
    betas = ais_schedule(n_betas)
    rng = np.random.default_rng(0)
    W, a, b = model.weights, model.visible_bias, model.hidden_bias
    n_twin, twin_betas = 10, betas[:max(2, n_betas // 10)]   # the twin does a fraction
    streams = _random.spawn_states(2, n_twin)
    return dict(
        work=100 * (n_betas - 1),
        title=f"AIS, 100 runs x {n_betas} betas, {nv}x{nh}, float32, {n_threads} thread(s)",
        heatbath=lambda: model.log_partition("ais", n_runs=100, n_betas=n_betas, data=X, seed=1,
                                             n_threads=n_threads),
        twin=Side(lambda: twin.ais_log_weights(W, a, b, _BERNOULLI, _BERNOULLI, a0,
                                               twin_betas, streams),
                  "reference.rbm.ais_log_weights",
                  100 * (n_betas - 1) / (n_twin * (len(twin_betas) - 1))),
        numpy=Side(lambda: _numpy_ais(W, a.astype(float), b.astype(float), a0, betas, rng),
                   "NumPy AIS"))


@case("rbm", "rbm-exact-logz-64x20", unit="state", sides=("numpy",))
def _exact(quick, n_threads):
    from scipy.special import logsumexp

    nv, nh = (8, 6) if quick else (64, 20)
    model = _model(nv, nh, np.float64)
    W, a, b = model.weights, model.visible_bias, model.hidden_bias

    def numpy_exact():
        # Enumerate the hidden states (bits of 0..2**nh - 1) in chunks; sum v out.
        parts = []
        for start in range(0, 2**nh, 2**14):
            idx = np.arange(start, min(start + 2**14, 2**nh))
            H = ((idx[:, None] >> np.arange(nh)) & 1).astype(float)
            parts.append(logsumexp(H @ b + np.logaddexp(0.0, a + H @ W.T).sum(axis=1)))
        return logsumexp(parts)

    return dict(work=2**nh, title=f"exact log Z, {nv}x{nh} (2^{nh} states), {n_threads} thread(s)",
                heatbath=lambda: model.log_partition(n_threads=n_threads),
                numpy=Side(numpy_exact, "NumPy enumeration"))
