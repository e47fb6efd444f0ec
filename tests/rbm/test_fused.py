"""The fused small-model epoch kernel (heatbath.rbm._cd) against its NumPy twin, bit for bit."""

import numpy as np
import pytest

from heatbath import _random
from heatbath.reference import rbm as ref
from heatbath.rbm import _cd

_LEVELS = ("baseline", "avx2", "avx512")
# Each instruction set the epoch kernel is built for; those this CPU lacks are skipped.
ISA = [pytest.param(name, marks=pytest.mark.skipif(
           _LEVELS.index(name) > _LEVELS.index(_cd._isa()),
           reason=f"this CPU (or build) does not run the {name} code"))
       for name in _LEVELS]


def _run_kernel(W, a, b, velocity, X, order, batch_size, k, lr, momentum, decay, streams,
                chains):
    W, a, b = W.copy(), a.copy(), b.copy()
    vW, va, vb = (v.copy() for v in velocity)
    streams = streams.copy()
    nv, nh = W.shape
    rows = max(batch_size, 0 if chains is None else chains.shape[0])
    persistent = chains is not None
    chains = chains.copy() if persistent else np.empty((1, nv), W.dtype)
    work = [np.empty(s, W.dtype) for s in ((batch_size, nh), (rows, nh), (rows, nv),
                                            (rows, nv), (nv, nh))]
    _cd._bernoulli_epoch(W, a, b, vW, va, vb, X, order, batch_size, k, lr, momentum, decay,
                         persistent, chains, streams, *work)
    return W, a, b, [vW, va, vb], streams, chains if persistent else None


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("method, k", [("cd", 1), ("cd", 3), ("pcd", 1), ("pcd", 2)])
@pytest.mark.parametrize("probabilities", [False, True])
# (13, 11): single vectors and scalar tails only; (37, 70): the register blocks too;
# (21, 270): the double blocks of the 0/1 row sums at every vector width.
@pytest.mark.parametrize("nv, nh", [(13, 11), (37, 70), (21, 270)])
# The AVX-512, AVX2 (where the CPU has them) and baseline codes give the same bits.
@pytest.mark.parametrize("isa", ISA)
def test_fused_epoch_equals_twin_bit_for_bit(dtype, method, k, probabilities, nv, nh, isa):
    rng = np.random.default_rng(4)
    n, batch = 53, 10      # a short last batch
    X = rng.random((n, nv))
    X = (X if probabilities else X < 0.3).astype(dtype)
    if probabilities:
        X[rng.random(X.shape) < 0.3] = 0     # zeros, ones and fractions
        X[rng.random(X.shape) < 0.2] = 1
    W = rng.normal(scale=0.5, size=(nv, nh)).astype(dtype)
    a, b = rng.normal(size=nv).astype(dtype), rng.normal(size=nh).astype(dtype)
    velocity = [rng.normal(scale=0.01, size=s).astype(dtype) for s in (W.shape, nv, nh)]
    order = rng.permutation(n).astype(np.int64)
    chains = X[:7].copy() if method == "pcd" else None
    streams = _random.spawn_states(5, 7 if method == "pcd" else batch)
    args = (W, a, b, velocity, X, order, batch, k, 0.1, 0.5, 1e-3, streams, chains)
    previous = _cd._isa(isa)
    try:
        got = _run_kernel(*args)
    finally:
        _cd._isa(previous)
    want = ref.fused_epoch(*args)
    for g, w in zip(got[:3] + tuple(got[3]) + got[4:], want[:3] + tuple(want[3]) + want[4:]):
        if w is not None:
            np.testing.assert_array_equal(g, w)
    assert not np.array_equal(got[0], W)


@pytest.mark.parametrize("dtype, limit", [(np.float64, 700), (np.float32, 87)])
def test_fused_sigmoid_is_within_3_ulp_of_the_exact_one(dtype, limit):
    # 1 / (1 + numpy.exp(-t)) itself is 2.2 (float64) and 2.7 (float32) ulp off
    # at worst on this grid; the fused form measured 2.4 and 2.3.
    t = np.linspace(-limit, limit, 200001).astype(dtype)
    exact = 1 / (1 + np.exp(-t.astype(np.longdouble)))
    got = ref.fused_sigmoid(t)
    err = np.abs(got - exact) / np.spacing(got).astype(np.longdouble)
    assert err.max() <= 3, err.max()
    # beyond the clamp: 0 < p < 1e-30 and exactly 1; NaN stays NaN
    ends = ref.fused_sigmoid(np.array([-1e4, 1e4, 0.0, np.nan], dtype))
    assert 0 < ends[0] < 1e-30 and ends[1] == 1 and ends[2] == 0.5 and np.isnan(ends[3])


def test_fused_sigmoid_kernel_equals_twin():
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        t = np.concatenate([rng.normal(scale=30, size=10001), [-1e4, 1e4, 0, -0.0]]).astype(dtype)
        np.testing.assert_array_equal(_cd._sigmoid_array(t.copy()), ref.fused_sigmoid(t))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("nv, nh", [(13, 11), (37, 70)])
@pytest.mark.parametrize("isa", ISA)
def test_fused_reconstruction_equals_twin_bit_for_bit(dtype, nv, nh, isa):
    rng = np.random.default_rng(6)
    X = (rng.random((9, nv)) < 0.3).astype(dtype)
    X[-2:] = rng.random((2, nv))                   # probability rows too
    X[-1, 0], X[-1, 1] = 0, 1
    W = rng.normal(scale=0.5, size=(nv, nh)).astype(dtype)
    a, b = rng.normal(size=nv).astype(dtype), rng.normal(size=nh).astype(dtype)
    R = np.full_like(X, np.nan)
    previous = _cd._isa(isa)
    try:
        _cd._reconstruct(W, a, b, X, R)
    finally:
        _cd._isa(previous)
    np.testing.assert_array_equal(R, ref.fused_reconstruction(W, a, b, X))
    # and it is the reconstruction: within float rounding of the plain NumPy one
    H = 1 / (1 + np.exp(-(b.astype(float) + X @ W.astype(float))))
    want = 1 / (1 + np.exp(-(a.astype(float) + H @ W.T.astype(float))))
    np.testing.assert_allclose(R, want, rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_dispatch_picks_the_widest_code_the_cpu_runs():
    # Linux x86-64 with GCC builds every level; the CPU's flags say which it runs.
    try:
        flags = open("/proc/cpuinfo").read().split("\nflags")[1].split("\n")[0].split()
    except (OSError, IndexError):
        pytest.skip("no /proc/cpuinfo flags")
    if _cd._isa() == "baseline" and "avx2" in flags:
        pytest.skip("a build without the dispatch (not GCC/Clang on x86-64 glibc)")
    want = ("avx512" if {"avx512f", "avx512dq", "avx512bw", "avx512vl"} <= set(flags)
            else "avx2" if "avx2" in flags else "baseline")
    assert _cd._isa() == want
    previous = _cd._isa("avx2")
    try:
        assert _cd._isa() == min(want, "avx2", key=_LEVELS.index)
    finally:
        _cd._isa(previous)
    assert _cd._isa() == want
