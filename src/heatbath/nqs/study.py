"""One VMC study, as the ``heatbath nqs`` command runs it: build, optimise, evaluate, compare.

:func:`run_vmc` builds the Hamiltonian and the wavefunction from plain
settings, runs the optimisation (resuming from a checkpoint if asked), then
evaluates the energy of the final state separately, with ``eval_samples``
fresh samples, so that its standard error is well below the relative error
it is compared with. The exact energy is the closed form (1D periodic TFIM,
even N) or Lanczos up to 2**22 states (else None).
"""

import os
import time

from heatbath._validation import check_int
from heatbath.lattice import Lattice
from heatbath.nqs.driver import VMC
from heatbath.nqs.exact import exact_energy
from heatbath.nqs.hamiltonians import Heisenberg, TransverseFieldIsing
from heatbath.nqs.optimizers import SGD, SR, Adam, Decay
from heatbath.nqs.wavefunctions import RBM, SymmetricRBM

__all__ = ["run_vmc", "build", "RECIPE"]

#: The default recipe of :func:`run_vmc` and ``heatbath nqs`` (see the README's NQS
#: section for the runs that chose it).
RECIPE = dict(n_samples=1008, iterations=600, learning_rate=0.05, diag_shift=0.1,
              learning_rate_final=None, diag_shift_final=0.001, decay_iterations=600,
              final_iterations=0, final_samples=None)


def _schedule(start, end, n_iterations):
    if end is None or end == start:
        return start
    return Decay(start, end, n_iterations)


def build(hamiltonian="tfim", size=20, dim=1, field=1.0, coupling=1.0, delta=1.0,
          marshall_sign=False, alpha=1, dtype="float64", symmetric=False, periodic=True,
          seed=None):
    """(Hamiltonian, wavefunction) from plain settings.

    Examples
    --------
    >>> from heatbath.nqs.study import build
    >>> H, psi = build("heisenberg", size=6, dtype="complex128")
    >>> H.hilbert.total_sz, psi.n_parameters
    (0.0, 48)
    """
    lattice = Lattice((size,) * dim, periodic)
    if hamiltonian == "tfim":
        H = TransverseFieldIsing(lattice, h=field, J=coupling)
    elif hamiltonian == "heisenberg":
        H = Heisenberg(lattice, J=coupling, delta=delta, marshall_sign=marshall_sign)
    else:
        raise ValueError(f"hamiltonian must be 'tfim' or 'heisenberg', got {hamiltonian!r}")
    if symmetric:
        psi = SymmetricRBM(lattice, alpha=int(alpha), dtype=dtype, seed=seed)
    else:
        psi = RBM(lattice.n_sites, alpha=alpha, dtype=dtype, seed=seed)
    return H, psi


def run_vmc(hamiltonian="tfim", size=20, dim=1, field=1.0, coupling=1.0, delta=1.0,
            marshall_sign=False, alpha=1, dtype="float64", symmetric=False,
            n_samples=RECIPE["n_samples"], n_chains=16, iterations=RECIPE["iterations"],
            optimizer="sr", learning_rate=RECIPE["learning_rate"],
            diag_shift=RECIPE["diag_shift"], seed=None, n_threads=None, checkpoint=None,
            resume=False, eval_samples=100_000, exact=True, verbose=False,
            learning_rate_final=RECIPE["learning_rate_final"],
            diag_shift_final=RECIPE["diag_shift_final"],
            decay_iterations=RECIPE["decay_iterations"],
            final_iterations=RECIPE["final_iterations"], final_samples=RECIPE["final_samples"],
            executor=None, block_size=None):
    """Optimise, evaluate and compare; returns a dict (the ``--json`` object).

    The defaults are :data:`RECIPE`: SR with step 0.05 (NetKet's learning rate
    0.025) and a diagonal shift decaying geometrically from 0.1 to 0.001 over
    ``decay_iterations`` = 600, 600 iterations of 1008 samples. ``learning_rate_final``
    decays the step the same way; ``final_iterations`` > 0 adds a second phase
    at the final values with ``final_samples`` per iteration.

    With ``executor`` (an Executor or a Dask client) the chains sample in
    blocks of ``block_size`` on it and the SR solve runs here
    (:func:`heatbath.distributed.distribute_vmc`): the same numbers.

    Keys: ``energy``, ``energy_stderr``, ``energy_variance`` (of the separate
    evaluation), ``exact_energy`` and ``relative_error`` (or None),
    ``n_parameters``, ``acceptance_rate``, ``iterations`` (done in total),
    ``seconds`` and ``seconds_per_iteration`` (optimisation only, this run),
    ``eval_seconds``, ``eval_samples``, ``history`` (per-iteration lists) and
    ``wavefunction`` (the optimised one).

    Examples
    --------
    >>> from heatbath.nqs.study import run_vmc
    >>> r = run_vmc(size=6, iterations=60, n_samples=256, learning_rate=0.05,
    ...             eval_samples=4000, seed=0)
    >>> r["relative_error"] < 0.01
    True
    """
    H, psi = build(hamiltonian, size, dim, field, coupling, delta, marshall_sign, alpha, dtype,
                   symmetric, seed=seed)
    iterations = check_int(iterations, "iterations", minimum=0)
    final_iterations = check_int(final_iterations, "final_iterations", minimum=0)
    decay = check_int(decay_iterations, "decay_iterations", minimum=1)
    lr = _schedule(learning_rate, learning_rate_final, decay)
    opt = {"sr": lambda: SR(lr, _schedule(diag_shift, diag_shift_final, decay)),
           "sgd": lambda: SGD(lr), "adam": lambda: Adam(lr)}
    if optimizer not in opt:
        raise ValueError(f"optimizer must be 'sr', 'sgd' or 'adam', got {optimizer!r}")
    vmc = VMC(H, psi, optimizer=opt[optimizer](), n_samples=n_samples, n_chains=n_chains,
              seed=seed, n_threads=n_threads)
    if resume and checkpoint is not None and os.path.exists(checkpoint):
        vmc.load_checkpoint(checkpoint)
    if executor is not None:
        from heatbath.distributed import distribute_vmc

        distribute_vmc(vmc, executor, block_size=block_size)
    total = iterations + final_iterations
    todo = max(0, total - vmc.iteration)
    t0 = time.perf_counter()
    # The schedules run over ``decay_iterations`` whatever the length of the run (so a
    # resumed, longer run follows the same path); after ``iterations``, a second phase
    # with ``final_samples`` per iteration. The phase follows from vmc.iteration, so a
    # resumed run continues where it stopped.
    if vmc.iteration < iterations:
        vmc.run(iterations - vmc.iteration, verbose=verbose, checkpoint=checkpoint)
    if vmc.iteration < total:
        vmc.n_samples = final_samples or n_samples
        vmc.run(total - vmc.iteration, verbose=verbose, checkpoint=checkpoint)
    seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    ev = vmc.evaluate(eval_samples)
    eval_seconds = time.perf_counter() - t1
    e_exact = exact_energy(H) if exact else None
    rel = None if e_exact is None else abs(ev["energy"] - e_exact) / abs(e_exact)
    return {
        "hamiltonian": hamiltonian, "size": size, "dim": dim, "n_spins": H.n_spins,
        "dtype": str(psi.dtype), "symmetric": bool(symmetric), "alpha": alpha,
        "energy": ev["energy"], "energy_stderr": ev["energy_stderr"],
        "energy_variance": ev["variance"], "exact_energy": e_exact, "relative_error": rel,
        "relative_error_stderr": None if e_exact is None else ev["energy_stderr"] / abs(e_exact),
        "n_parameters": psi.n_parameters, "acceptance_rate": ev["acceptance"],
        "rhat": ev["rhat"], "iterations": vmc.iteration, "n_samples": vmc.n_samples,
        "seconds": seconds, "seconds_per_iteration": seconds / todo if todo else None,
        "eval_samples": ev["n_samples"], "eval_seconds": eval_seconds,
        "history": vmc.history, "wavefunction": psi,
    }
