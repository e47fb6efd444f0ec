"""Swendsen-Wang against enumeration, the exact torus, its twin and itself.

False-alarm rates: each chi-square test fails a correct sampler with
probability 1e-4 (5 cases); each comparison with the exact finite torus
allows 4 standard errors (6.3e-5 each for Gaussian errors).
"""

import numpy as np
import pytest

import heatbath
from heatbath.reference import swendsen_wang as ref
from heatbath.spin import Ising
from heatbath.spin.swendsen_wang import SwendsenWangSampler


@pytest.mark.parametrize("shape, periodic, T", [
    ((3, 3), True, 1.5), ((3, 3), True, 2.27), ((3, 3), True, 3.5), ((4, 4), True, 2.27),
    ((2, 2, 3), (True, False, True), 3.0),
])
def test_chi_square_energy_magnetization(shape, periodic, T, chi_square_joint_pvalue):
    # 20,000 chains, 30 sweeps from random starts; joint (E, M) of the final states.
    model = Ising(shape, periodic=periodic)
    sampler = SwendsenWangSampler(model, temperature=T, n_chains=20_000,
                                  seed=model.n_spins + int(10 * T))
    sampler.run(0, burn_in=30)
    assert chi_square_joint_pvalue(model, T, sampler.spins) > 1e-4


@pytest.mark.parametrize("T", [2.27, 2.5])
def test_l16_against_exact_finite_torus_and_improved_estimator(T, assert_matches_torus):
    trace = SwendsenWangSampler(Ising((16, 16)), temperature=T, n_chains=16,
                                seed=int(T * 100)).run(2000, burn_in=100)
    assert_matches_torus(trace, (16, 16), T)
    # The improved estimator and M^2 estimate the same <M^2>, the first with less noise.
    m2, imp = trace["magnetization"] ** 2, trace["m2_improved"]
    se = [heatbath.diagnostics.stderr(x) for x in (m2, imp)]
    assert abs(m2.mean() - imp.mean()) < 4 * np.hypot(*se)
    assert se[1] < se[0]


@pytest.mark.parametrize("shape", [(6, 6), (3, 4, 3), (5, 4)])
def test_kernel_equals_numpy_twin(shape):
    model = Ising(shape, periodic=(len(shape) != 2 or shape[0] == 6))
    sampler = SwendsenWangSampler(model, temperature=[2.0, 3.0, 4.5], n_chains=3, seed=5)
    spins, streams = sampler.spins, sampler.get_state()["stream_state"]
    trace = sampler.run(6)
    out = ref.swendsen_wang_sweeps(model.neighbors, spins, streams, [2.0, 3.0, 4.5], 6)
    np.testing.assert_array_equal(out[0], sampler.spins)
    np.testing.assert_array_equal(out[1], sampler.get_state()["stream_state"])
    np.testing.assert_array_equal(out[2], trace["magnetization"])
    np.testing.assert_array_equal(out[3], trace["m2_improved"])


def test_same_bits_for_any_thread_count_resume_and_errors():
    model = Ising((6, 8))

    def make(**kw):
        return SwendsenWangSampler(model, **{"temperature": 2.4, "n_chains": 5, "seed": 9,
                                             **kw})

    runs = [make(n_threads=t).run(20, burn_in=3, thin=2) for t in (1, 2, 3)]
    for r in runs[1:]:
        for name in ("energy", "magnetization", "m2_improved"):
            np.testing.assert_array_equal(r[name], runs[0][name])
    whole = make().run(40, thin=4)
    a = make()
    first = a.run(20, thin=4)
    b = make(seed=1)
    b.set_state(a.get_state())
    second = b.run(20, thin=4)
    np.testing.assert_array_equal(np.vstack([first["energy"], second["energy"]]),
                                  whole["energy"])
    np.testing.assert_array_equal(second.final_state, whole.final_state)
    with pytest.raises(ValueError, match="h = 0"):
        SwendsenWangSampler(Ising((4, 4), h=0.1))
    with pytest.raises(ValueError, match="J > 0"):
        SwendsenWangSampler(Ising((4, 4), J=-1.0))
    with pytest.raises(TypeError):
        SwendsenWangSampler(model, 2.0)
