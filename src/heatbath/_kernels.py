"""The kernel table: (model kind, update, state layout) -> compiled kernel and NumPy twin.

One entry per kernel, read by the samplers to pick the kernel (no
``isinstance`` branches) and walked by one test (``tests/test_kernels.py``)
that holds each kernel against its twin, bit for bit. Kernels and twins are
named as ``"module:function"`` and imported when used, so this module
imports no engine. A new kernel is one entry here plus the kernel, its twin
(:mod:`heatbath.reference`), its case in the test and its bench case.

Layouts:

- ``"square"``: 2-D lattice with one periodicity for both axes, neighbours by
  arithmetic (the fast path; the same visiting order as ``"table"``);
- ``"table"``: any lattice through its neighbour table (open, mixed
  boundaries, 1-D, 3-D, ...), sites in the model's ``sweep_order``;
- ``"csr"``: general coupling graph, J in CSR form;
- ``"bits"``: multispin coding, bit b of a uint64 word is one site of replica b
  (any lattice through its neighbour table);
- ``"dense"``: RBM layers and Markov transition matrices as dense arrays;
- ``"fused"``: a whole Bernoulli-Bernoulli CD/PCD epoch in one kernel (and the
  per-epoch reconstruction of the models it trains);
- ``"enumerate"``: exact sums over every state;
- ``"pair_products"``: the SR matrix of a plain RBM from the products of pairs of
  [1, s] and of [1, tanh theta] (:mod:`heatbath.nqs._sr`);
- ``"compiled"``: a continuous target as a C function (built-in or a user's
  ``cdef`` target) called inside the kernel's loop over chains (Python
  targets take the NumPy path of :mod:`heatbath.continuous.samplers`, which
  has no kernel).

``bench`` names the cases of :mod:`heatbath._bench` that time a kernel
(``heatbath bench``, ``pytest bench``); the walk checks that they exist.

Examples
--------
>>> from heatbath._kernels import KERNELS, lookup
>>> lookup("ising", "metropolis", "table").kernel
'heatbath.spin._metropolis:_table_sweeps'
>>> sorted({key[0] for key in KERNELS})
['boltzmann_machine', 'continuous', 'ising', 'markov', 'nqs_rbm', 'rbm']
"""

import importlib
from typing import Callable, NamedTuple

__all__ = ["Kernel", "KERNELS", "lookup", "resolve"]


class Kernel(NamedTuple):
    """One table entry: where the kernel and its twin live, the test that compares them,
    and the bench cases that time it."""

    kernel: str
    twin: str
    test: str
    bench: tuple[str, ...] = ()


_FLIP = "heatbath.spin._metropolis:"
_REF_SPIN = "heatbath.reference.spin:"
_WALK = "tests/test_kernels.py::test_every_kernel_equals_its_twin"
_CONT_TEST = "tests/continuous/test_samplers.py::test_kernel_equals_numpy_twin_bit_for_bit"

KERNELS = {
    **{("ising", update, "square"): Kernel(_FLIP + "_square_sweeps", _REF_SPIN + "table_sweeps",
                                           _WALK)
       for update in ("metropolis", "heat_bath")},
    **{("ising", update, "table"): Kernel(_FLIP + "_table_sweeps", _REF_SPIN + "table_sweeps",
                                          _WALK)
       for update in ("metropolis", "heat_bath")},
    **{("boltzmann_machine", update, "csr"): Kernel(_FLIP + "_graph_sweeps",
                                                    _REF_SPIN + "graph_sweeps", _WALK)
       for update in ("metropolis", "heat_bath")},
    ("ising", "wolff", "table"): Kernel(
        "heatbath.spin._cluster:_wolff_sweeps", _REF_SPIN + "wolff_sweeps",
        "tests/spin/test_samplers.py::test_wolff_equals_python_twin"),
    **{("ising", "multispin_" + update, "bits"): Kernel(
        "heatbath.spin._multispin:_multispin_sweeps", "heatbath.reference.multispin:multispin_sweeps",
        "tests/spin/test_multispin.py::test_kernel_equals_numpy_twin")
       for update in ("metropolis", "heat_bath")},
    ("ising", "swendsen_wang", "table"): Kernel(
        "heatbath.spin._swendsen:_sw_sweeps", "heatbath.reference.swendsen_wang:swendsen_wang_sweeps",
        "tests/spin/test_swendsen_wang.py::test_kernel_equals_numpy_twin"),
    ("rbm", "gibbs", "dense"): Kernel(
        "heatbath.rbm._gibbs:_sample_layer", "heatbath.reference.rbm:sample_layer",
        "tests/rbm/test_model.py::test_layer_kernel_equals_twin"),
    ("rbm", "logistic", "dense"): Kernel(
        "heatbath.rbm._gibbs:_logistic_layer", "heatbath.reference.rbm:sample_layer",
        "tests/rbm/test_logistic.py::test_sample_layer_equals_the_twin_bit_for_bit",
        ("rbm-gibbs-1000ch-784x500-f32", "rbm-fit-cd1-784x500-f32")),
    ("rbm", "cd", "dense"): Kernel(
        "heatbath.rbm.train:cd_step", "heatbath.reference.rbm:cd_update",
        "tests/rbm/test_model.py::test_update_equals_numpy_twin"),
    ("rbm", "cd", "fused"): Kernel(
        "heatbath.rbm._cd:_bernoulli_epoch", "heatbath.reference.rbm:fused_epoch",
        "tests/rbm/test_fused.py::test_fused_epoch_equals_twin_bit_for_bit"),
    ("rbm", "reconstruction", "fused"): Kernel(
        "heatbath.rbm._cd:_reconstruct", "heatbath.reference.rbm:fused_reconstruction",
        "tests/rbm/test_fused.py::test_fused_reconstruction_equals_twin_bit_for_bit"),
    ("rbm", "ais", "dense"): Kernel(
        "heatbath.rbm.estimators:ais", "heatbath.reference.rbm:ais_log_weights",
        "tests/rbm/test_estimators.py::test_ais_equals_numpy_twin_and_is_thread_count_independent"),
    ("rbm", "exact_log_z", "enumerate"): Kernel(
        "heatbath.rbm.estimators:exact_log_partition",
        "heatbath.reference.rbm:exact_log_partition", _WALK),
    ("markov", "simulate", "dense"): Kernel(
        "heatbath._markov:_simulate", "heatbath.reference.markov:simulate",
        "tests/test_markov.py::test_simulate_equals_numpy_twin_bit_for_bit"),
    **{("nqs_rbm", move, "lookup_table"): Kernel(
        "heatbath.nqs._metropolis:_sample", "heatbath.reference.nqs:sample",
        "tests/nqs/test_sampler.py::test_kernel_equals_numpy_twin_bit_for_bit")
       for move in ("flip", "exchange")},
    # Continuous states: one kernel runs every algorithm over a target's C function.
    **{("continuous", algorithm, "compiled"): Kernel(
        "heatbath.continuous._kernels:run_chains", "heatbath.reference.continuous:run_chains",
        _CONT_TEST, bench)
       for algorithm, bench in (("rwm", ("mcmc-rwm-gauss100",)),
                                ("mala", ("mcmc-mala-gauss100",)),
                                ("ula", ("mcmc-ula-gauss100",)),
                                ("hmc", ("mcmc-hmc-phi4-32",)))},
    ("continuous", "log_prob", "compiled"): Kernel(
        "heatbath.continuous._kernels:evaluate", "heatbath.reference.continuous:log_prob_and_grad",
        _CONT_TEST),
    # SR for the plain RBM: S and F from the pair products of [1, s] and [1, tanh theta]
    **{("nqs_rbm", update, "pair_products"): Kernel(
        f"heatbath.nqs._sr:{kernel}", f"heatbath.reference.nqs:{twin}",
        "tests/nqs/test_sr_kernels.py::test_kernels_equal_numpy_twins_bit_for_bit")
       for update, kernel, twin in (("sr_pairs_spins", "_spin_pairs", "pairs"),
                                    ("sr_pairs_tanh", "_tanh_pairs", "pairs"),
                                    ("sr_matrix", "_scatter", "scatter"),
                                    ("sr_force", "_force", "force"))},
    ("nqs_rbm", "local_energy", "lookup_table"): Kernel(
        "heatbath.nqs._metropolis:_measure", "heatbath.reference.nqs:measure",
        "tests/nqs/test_sampler.py::test_kernel_equals_numpy_twin_bit_for_bit"),
}


def lookup(model_kind: str, update: str, layout: str) -> Kernel:
    """The table entry for (model kind, update, layout); ValueError if there is none."""
    try:
        return KERNELS[(model_kind, update, layout)]
    except KeyError:
        raise ValueError(f"no kernel for a {model_kind} with update {update!r} on layout "
                         f"{layout!r}") from None


def resolve(name: str) -> Callable:
    """Import ``"module:function"`` and return the function."""
    module, _, attr = name.partition(":")
    return getattr(importlib.import_module(module), attr)
