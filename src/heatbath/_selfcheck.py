"""Determinism self-check: every kernel, the same bits for any thread count and build.

Each case runs one kernel (through its public entry point) from a fixed seed
and returns the bytes of its output. ``kernel_digests(n_threads)`` hashes
them. The test suite requires equal digests for n_threads = 1, 2 and 3; CI
writes the digests of the OpenMP build and checks them in the build without
OpenMP, on the same machine:

    python -m heatbath._selfcheck --write digests.json      # OpenMP build
    python -m heatbath._selfcheck --check digests.json      # serial build

(Digests are not frozen in the repository: BLAS kernels and libm differ
between CPUs, so floating-point bits are only comparable on one machine.)
"""

import argparse
import hashlib
import json
import sys

import numpy as np

__all__ = ["CASES", "kernel_digests"]


def _bytes(*arrays):
    return b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)


def _streams(t):
    from heatbath import _random

    s = _random.spawn_states(1, 37)     # advanced in place by each call
    raw = _random.random_raw(s, 500, n_threads=t)
    uni = _random.random(s, 300, n_threads=t)
    single = _random.random(s, 300, dtype=np.float32, n_threads=t)
    ints = _random.integers(s, 7, 200, n_threads=t)
    return _bytes(raw, uni, single, ints, s)


def _gauss_streams(t):
    from heatbath import _random

    s = _random.spawn_states(2, 37)
    z = _random.standard_normal(s, 400, n_threads=t)
    e = _random.standard_exponential(s, 400, n_threads=t)
    return _bytes(z, e, s)


def _continuous(algorithm, t):
    from heatbath import continuous

    target = continuous.Phi4(6, dim=2, kappa=0.2, lam=0.4)
    cls = {"mala": continuous.MALA, "hmc": continuous.HMC, "rwm": continuous.RWM,
           "ula": continuous.ULA}[algorithm]
    s = cls(target, n_chains=13, seed=17, n_threads=t)
    tr = s.run(30, burn_in=160, thin=3)
    return _bytes(tr.info["samples"], tr["log_prob"], s.x, s.stream_state,
                  np.array([s.step_size]), s.inv_mass)


def _markov(t):
    from heatbath import markov

    P = np.random.default_rng(0).random((9, 9))
    P /= P.sum(axis=1, keepdims=True)
    return _bytes(markov.simulate(P, 0, 200, n_chains=33, seed=2, n_threads=t))


def _spin(cls_name, t):
    from heatbath import spin

    J = np.zeros((6, 6))
    J[np.arange(5), np.arange(1, 6)] = 0.5
    J = J + J.T
    make = {
        "metropolis": lambda: spin.MetropolisSampler(spin.Ising((16, 12), h=0.1),
                                                     temperature=[2.0, 2.5, 3.0] * 5, n_chains=15,
                                                     seed=1, n_threads=t),
        "heatbath": lambda: spin.HeatBathSampler(spin.Ising((4, 5, 6), periodic=False), temperature=2.5,
                                                 n_chains=9, seed=2, n_threads=t),
        "wolff": lambda: spin.WolffSampler(spin.Ising((12, 12)), temperature=2.3, n_chains=7, seed=3,
                                           n_threads=t, clusters_per_sweep=3),
        "machine": lambda: spin.MetropolisSampler(spin.BoltzmannMachine(J, h=0.2), temperature=1.5,
                                                  n_chains=11, seed=4, n_threads=t),
    }[cls_name]
    tr = make().run(40, burn_in=5, thin=2)
    return _bytes(tr["energy"], tr["magnetization"], tr.final_state)


def _multispin(algorithm, t):
    from heatbath.spin import Ising
    from heatbath.spin.multispin import MultispinSampler

    model = Ising((12, 10), h=0.1) if algorithm == "metropolis" else Ising((4, 5, 6),
                                                                          periodic=False)
    s = MultispinSampler(model, temperature=[2.0] * 64 + [3.0] * 64 + [2.5] * 30,
                         n_chains=158, seed=17, n_threads=t, algorithm=algorithm)
    tr = s.run(30, burn_in=3, thin=2)
    return _bytes(tr["energy"], tr["magnetization"], s.words, tr.info["draws"])


def _swendsen_wang(t):
    from heatbath.spin import Ising, SwendsenWangSampler

    s = SwendsenWangSampler(Ising((10, 12)), temperature=[2.0, 2.3, 2.6] * 3, n_chains=9,
                            seed=18, n_threads=t)
    tr = s.run(20, burn_in=2, thin=2)
    return _bytes(tr["energy"], tr["magnetization"], tr["m2_improved"], tr.final_state)


def _gibbs(units, nv, nh, n_chains, dtype, t):
    from heatbath import RBM

    m = RBM(nv, nh, units, "bernoulli", dtype=dtype, seed=5)
    rng = np.random.default_rng(6)
    m.set_parameters(rng.normal(scale=0.3, size=(nv, nh)), rng.normal(size=nv),
                     rng.normal(size=nh))
    s = m.gibbs_sampler(n_chains=n_chains, seed=7, n_threads=t)
    tr = s.run(6, burn_in=2)
    return _bytes(tr["free_energy"], s.visible, s.hidden)


def _poisson(t):
    from heatbath import RBM

    # 9 poisson visible units with rates from 0.05 to ~3000: inversion and PTRS.
    m = RBM(9, 5, "poisson", "bernoulli", dtype=np.float64, seed=21)
    rng = np.random.default_rng(22)
    m.set_parameters(rng.normal(scale=0.3, size=(9, 5)), np.linspace(-3.0, 8.0, 9),
                     rng.normal(size=5))
    s = m.gibbs_sampler(n_chains=13, seed=23, n_threads=t)
    tr = s.run(6, burn_in=2)
    est = m.log_partition("ais", n_runs=11, n_betas=15, seed=24, n_threads=t)
    X = np.random.default_rng(25).poisson([0.5, 2.0, 6.0, 15.0], size=(60, 4)).astype(float)
    f = RBM(4, 6, "poisson", dtype=np.float32, seed=26)
    f.fit(X, epochs=2, batch_size=20, k=2, learning_rate=0.005, seed=27, n_threads=t)
    return _bytes(tr["free_energy"], s.visible, s.hidden, est.log_weights, f.weights,
                  f.visible_bias, f.hidden_bias)


def _fit(method, nv, nh, dtype, t, batch_size=20):
    from heatbath import RBM

    X = (np.random.default_rng(8).random((120, nv)) < 0.2).astype(float)
    m = RBM(nv, nh, dtype=dtype, seed=9)
    h = m.fit(X, epochs=2, batch_size=batch_size, method=method, k=2, learning_rate=0.05,
              momentum=0.5, seed=10, n_threads=t, init_visible_bias=False).history_
    return _bytes(m.weights, m.visible_bias, m.hidden_bias, h["reconstruction_error"])


def _ais(t):
    from heatbath import RBM

    m = RBM(784, 200, dtype=np.float32, seed=11)
    X = (np.random.default_rng(12).random((50, 784)) < 0.2).astype(float)
    est = m.log_partition("ais", n_runs=40, n_betas=12, data=X, seed=13, n_threads=t)
    rev = m.log_partition("reverse_ais", data=X, n_runs=40, n_betas=12, seed=14, n_threads=t)
    return _bytes(est.log_weights, rev.log_weights)


def _exact(t):
    from heatbath import RBM

    m = RBM(30, 12, seed=15)
    return _bytes(np.array([float(m.log_partition(n_threads=t))]))


def _sklearn(t):
    try:
        from heatbath.sklearn import BernoulliRBM
    except ImportError:
        return b"scikit-learn not installed"
    X = (np.random.default_rng(16).random((200, 64)) < 0.3).astype(np.float32)
    est = BernoulliRBM(n_components=1100, n_iter=1, batch_size=50, random_state=0,
                       n_threads=t).fit(X)
    return _bytes(est.components_, est.transform(X), est.gibbs(X[:5]))


def _nqs(kind, t):
    from heatbath import nqs

    if kind == "sampler":
        H = nqs.TransverseFieldIsing((4, 3), h=0.9)
        psi = nqs.RBM(12, alpha=2, seed=17, scale=0.3)
        s = nqs.MetropolisSampler(psi, hamiltonian=H, n_chains=13, seed=18, n_threads=t)
        tr = s.run(30, burn_in=5, record_states=True)
        return _bytes(tr["energy"], tr.states, s.get_state()["stream_state"])
    if kind == "factored":
        # SR in sample space from the factored RBM log-derivatives (s s^T, t t^T)
        H = nqs.TransverseFieldIsing(12, h=0.8)
        vmc = nqs.VMC(H, nqs.RBM(12, alpha=2, seed=21), n_samples=120, n_chains=12, seed=22,
                      n_threads=t, optimizer=nqs.SR(0.05, nqs.optimizers.Decay(0.1, 0.01, 3)))
        vmc.run(3)
        return _bytes(vmc.wavefunction.parameters, np.array(vmc.history["energy"]))
    if kind == "pairs":
        # SR from the pair products (dense S P x P, real): heatbath.nqs._sr
        H = nqs.TransverseFieldIsing(9, h=1.0)
        vmc = nqs.VMC(H, nqs.RBM(9, alpha=1, seed=23), n_samples=700, n_chains=14, seed=24,
                      n_threads=t, optimizer=nqs.SR(0.02, 0.01))
        vmc.run(3)
        return _bytes(vmc.wavefunction.parameters, np.array(vmc.history["energy"]))
    H = nqs.Heisenberg(10)
    vmc = nqs.VMC(H, nqs.RBM(10, alpha=1, dtype="complex128", seed=19), n_samples=600,
                  n_chains=11, seed=20, n_threads=t, optimizer=nqs.SR(0.01, 0.01), burn_in=5)
    vmc.run(3)
    return _bytes(vmc.wavefunction.parameters, np.array(vmc.history["energy"]))


#: name -> function(n_threads) -> bytes
CASES = {
    "random streams": _streams,
    "random normal and exponential": _gauss_streams,
    "markov.simulate": _markov,
    "ising Metropolis 2D": lambda t: _spin("metropolis", t),
    "ising heat-bath 3D open": lambda t: _spin("heatbath", t),
    "ising Wolff": lambda t: _spin("wolff", t),
    "Boltzmann machine Metropolis": lambda t: _spin("machine", t),
    "ising multispin Metropolis 2D": lambda t: _multispin("metropolis", t),
    "ising multispin heat-bath 3D open": lambda t: _multispin("heat_bath", t),
    "ising Swendsen-Wang": _swendsen_wang,
    "rbm Gibbs bernoulli small": lambda t: _gibbs("bernoulli", 10, 6, 13, np.float64, t),
    "rbm Gibbs softmax": lambda t: _gibbs("softmax(3)", 12, 5, 13, np.float64, t),
    "rbm Gibbs gaussian": lambda t: _gibbs("gaussian", 7, 5, 13, np.float32, t),
    "rbm Gibbs 784x300 blocked products": lambda t: _gibbs("bernoulli", 784, 300, 100,
                                                           np.float32, t),
    "rbm poisson: Gibbs (inversion and PTRS), AIS, CD fit": _poisson,
    "rbm fit CD fused kernel": lambda t: _fit("cd", 64, 16, np.float64, t),
    "rbm fit PCD 64x1100 (products)": lambda t: _fit("pcd", 64, 1100, np.float32, t),
    "rbm fit PT": lambda t: _fit("pt", 20, 8, np.float64, t),
    # The weights are continuous, so a product that changed its last bit with
    # the thread count would show (plain multithreaded OpenBLAS does here).
    "rbm fit CD 784x500 (products)": lambda t: _fit("cd", 784, 500, np.float32, t, 60),
    "rbm AIS and reverse AIS": _ais,
    "rbm exact log Z (chunks)": _exact,
    "sklearn BernoulliRBM": _sklearn,
    "nqs Metropolis flips, TFIM 4x3": lambda t: _nqs("sampler", t),
    "nqs VMC SR complex, Heisenberg exchange": lambda t: _nqs("vmc", t),
    "nqs VMC SR sample space, factored RBM": lambda t: _nqs("factored", t),
    "nqs VMC SR pair products, TFIM": lambda t: _nqs("pairs", t),
    "continuous RWM phi4": lambda t: _continuous("rwm", t),
    "continuous MALA phi4": lambda t: _continuous("mala", t),
    "continuous ULA phi4": lambda t: _continuous("ula", t),
    "continuous HMC phi4": lambda t: _continuous("hmc", t),
}


def kernel_digests(n_threads, names=None):
    """sha256 of each case's output at ``n_threads``."""
    return {name: hashlib.sha256(CASES[name](n_threads)).hexdigest()
            for name in (names or CASES)}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m heatbath._selfcheck",
                                     description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", metavar="FILE")
    group.add_argument("--check", metavar="FILE")
    args = parser.parse_args(argv)
    import heatbath

    got = kernel_digests(2)
    if args.write:
        with open(args.write, "w") as f:
            json.dump({"openmp": heatbath.openmp_enabled(), "digests": got}, f, indent=1)
        print(f"wrote {len(got)} kernel digests to {args.write}")
        return 0
    with open(args.check) as f:
        ref = json.load(f)
    bad = [name for name in ref["digests"] if got.get(name) != ref["digests"][name]]
    for name in bad:
        print(f"DIFFERENT: {name}", file=sys.stderr)
    print(f"{len(ref['digests']) - len(bad)} of {len(ref['digests'])} kernels give the same "
          f"bits here (OpenMP {heatbath.openmp_enabled()}) as in the reference build "
          f"(OpenMP {ref['openmp']})")
    return 1 if bad else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
