"""Bench cases: neural-network quantum states (heatbath.nqs), one VMC + SR iteration.

The settings are the issue's NetKet reference (issue 12): TFIM chain, h = 1,
real RBM alpha = 1, 1008 samples from 16 chains, SR with diag_shift 0.01 and
learning rate 0.01. The NetKet side runs where ``netket`` is importable
(a peer: install it in a separate venv with heatbath, ``pip install netket``);
it times ``driver.advance(1)`` after a warm-up that compiles its JAX functions.
"""

from heatbath._bench import Side, case


def _vmc(n, quick, n_threads, complex_=False):
    from heatbath.nqs import RBM, SR, VMC, Heisenberg, TransverseFieldIsing

    H = Heisenberg(n) if complex_ else TransverseFieldIsing(n, h=1.0)
    psi = RBM(n, alpha=1, dtype="complex128" if complex_ else "float64", seed=0)
    vmc = VMC(H, psi, optimizer=SR(0.01, 0.01), n_samples=1008, n_chains=16, seed=1,
              n_threads=n_threads)
    vmc.run(2)
    return vmc


def _netket(n, complex_=False):
    try:
        import netket as nk
    except ImportError:
        return None
    import numpy as np

    g = nk.graph.Chain(n, pbc=True)
    if complex_:
        hi = nk.hilbert.Spin(0.5, N=n, total_sz=0)
        ham = nk.operator.Heisenberg(hi, g)
        model = nk.models.RBM(alpha=1, param_dtype=complex)
        sampler = nk.sampler.MetropolisExchange(hi, graph=g, n_chains=16)
    else:
        hi = nk.hilbert.Spin(0.5, N=n)
        ham = nk.operator.Ising(hi, g, h=1.0)
        model = nk.models.RBM(alpha=1, param_dtype=float)
        sampler = nk.sampler.MetropolisLocal(hi, n_chains=16)
    vs = nk.vqs.MCState(sampler, model, n_samples=1008, seed=0)
    opt = nk.optimizer.Sgd(learning_rate=0.01)
    driver = nk.driver.VMC(ham, opt, variational_state=vs,
                           preconditioner=nk.optimizer.SR(diag_shift=0.01))
    driver.run(3, out=None, show_progress=False)          # compile
    del np
    return lambda: driver.advance(1)


def _builder(n, complex_):
    def build(quick, n_threads):
        size = 8 if quick else n
        vmc = _vmc(size, quick, n_threads, complex_)
        sides = dict(work=1, heatbath=vmc.step,
                     title=f"{'Heisenberg complex' if complex_ else 'TFIM real'} RBM alpha = 1, "
                           f"N = {size}, 1008 samples x 16 chains, SR, {n_threads} thread(s)")
        nk_fn = _netket(size, complex_)
        if nk_fn is not None:
            sides["netket"] = Side(nk_fn, "NetKet VMC + SR")
        return sides
    return build


for _n in (20, 40, 80):
    case("nqs", f"nqs-vmc-sr-tfim{_n}", unit="iteration", sides=("netket",))(_builder(_n, False))
case("nqs", "nqs-vmc-sr-heisenberg20-complex", unit="iteration",
     sides=("netket",))(_builder(20, True))
