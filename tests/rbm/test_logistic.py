"""The fused logistic-layer pass and the update pass (heatbath.rbm._gibbs) against NumPy.

``_logistic_layer`` must give the bits of the NumPy path it stands for (bias added, the
scale, the library's sigmoid :func:`heatbath.reference.rbm.fused_sigmoid`, the draw kernel
from the row's stream, the means) and of the twin
(:func:`heatbath.reference.rbm.sample_layer`), for every row length (short rows, long
rows in chunks with a tail), thread count, and in both its AVX2 and baseline-ISA code.
"""

import numpy as np
import pytest

from heatbath import _random
from heatbath.rbm import _gibbs, _layers
from heatbath.rbm.units import BERNOULLI, BINOMIAL, SPIN
from heatbath.reference import rbm as ref

KINDS = [(BERNOULLI, 0), (SPIN, 0), (BINOMIAL, 3)]


def _numpy_path(x, bias, kind, param, beta, streams, draw):
    """The pass in NumPy: x + bias, times the scale in the layer's dtype, the sigmoid
    (the twin's), draws by _gibbs._draw, the means."""
    x = x + bias
    scale = (2.0 * beta) if kind == SPIN else beta
    if not np.all(scale == 1.0):
        x *= scale.astype(x.dtype)[:, None]
    x = ref.fused_sigmoid(x)
    out = np.empty_like(x)
    if draw:
        _gibbs._draw(x, out, kind, param, streams, 1)
    if kind == SPIN:
        x = x * 2 - 1
    elif kind == BINOMIAL:
        x = x * param
    return x, out


def _bits(a):
    return np.ascontiguousarray(a).view(np.uint8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind, param", KINDS)
@pytest.mark.parametrize("n_rows, n", [(37, 3), (50, 255), (9, 256), (7, 700), (3, 1)])
@pytest.mark.parametrize("tempered", [False, True])
# The AVX2 code (where the CPU has it) and the baseline code give the same bits.
@pytest.mark.parametrize("baseline", [False, True])
def test_logistic_layer_gives_the_numpy_paths_bits(dtype, kind, param, n_rows, n, tempered,
                                                   baseline):
    rng = np.random.default_rng(n_rows * n + kind)
    x = (rng.standard_normal((n_rows, n)) * 6).astype(dtype)
    x[0, 0], x[-1, -1] = 200, -200                      # beyond the sigmoid's clamps
    if n_rows * n > 4:
        x[1 // n, 1 % n], x[2 // n, 2 % n], x[3 // n, 3 % n] = np.nan, np.inf, -np.inf
    bias = rng.standard_normal(n).astype(dtype)
    beta = rng.uniform(0.3, 2.0, n_rows) if tempered else np.ones(n_rows)
    streams = _random.spawn_states(3, n_rows)
    want_means, want = _numpy_path(x, bias, kind, param, beta, streams.copy(), True)
    want_means_only, _ = _numpy_path(x, bias, kind, param, beta, None, False)
    previous = _gibbs._baseline_only(baseline)
    try:
        for n_threads in (1, 2, 3):
            got, out, st = x.copy(), np.empty_like(x), streams.copy()
            _gibbs._logistic_layer(got, bias, out, kind, param, beta, st, n_threads)
            assert np.array_equal(_bits(got), _bits(want_means))
            assert np.array_equal(_bits(out), _bits(want))
            means = x.copy()
            _gibbs._logistic_layer(means, bias, np.empty((0, n), dtype), kind, param, beta,
                                   np.empty((0, 4), np.uint64), n_threads)
            assert np.array_equal(_bits(means), _bits(want_means_only))
    finally:
        _gibbs._baseline_only(previous)
    # the streams advanced exactly as the draw kernel's
    st_ref = streams.copy()
    _gibbs._draw(np.full((n_rows, n), 0.5, dtype), np.empty_like(x), kind, param, st_ref, 1)
    assert np.array_equal(st, st_ref)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind, param", KINDS)
def test_sample_layer_equals_the_twin_bit_for_bit(dtype, kind, param):
    rng = np.random.default_rng(11)
    n_rows, n = 40, 600
    x = (rng.standard_normal((n_rows, n)) * 4).astype(dtype)
    streams = _random.spawn_states(5, n_rows)
    means, samples, st = ref.sample_layer(x, kind, param, np.ones(n_rows), streams.copy())
    unit = type("U", (), {"kind": kind, "param": param})()
    got, out, st2 = x.copy(), np.empty_like(x), streams.copy()
    _layers.sample_(got, out, unit, np.ones(n_rows), st2, n_threads=2)
    assert np.array_equal(_bits(out), _bits(samples))
    assert np.array_equal(_bits(got), _bits(means.astype(dtype)))
    assert np.array_equal(st2, st)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_add_rows_adds_and_flags_non_finite_results(dtype):
    rng = np.random.default_rng(2)
    W = rng.standard_normal((300, 70)).astype(dtype)
    V = rng.standard_normal((300, 70)).astype(dtype)
    for n_threads in (1, 2, 3):
        got = W.copy()
        assert _gibbs._add_rows(got, V, n_threads) is True
        assert np.array_equal(_bits(got), _bits(W + V))
    big = np.finfo(dtype).max
    for bad in (np.nan, np.inf, -np.inf, big):     # big + big overflows to inf
        got, V2 = W.copy(), V.copy()
        got[123, 45], V2[123, 45] = big, bad
        assert _gibbs._add_rows(got, V2, 2) is False
    assert _gibbs._add_rows(np.empty((0, 3), dtype), np.empty((0, 3), dtype), 2) is True


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_layer_pass_and_the_fused_epoch_share_one_sigmoid(dtype):
    from heatbath.rbm import _cd

    rng = np.random.default_rng(8)
    t = np.concatenate([rng.normal(scale=30, size=5001), [-1e4, 1e4, 0, -0.0, np.nan]])
    t = t.astype(dtype)
    for baseline in (False, True):
        previous = _gibbs._baseline_only(baseline)
        try:
            got = t[None, :].copy()
            _gibbs._logistic_layer(got, np.empty(0, dtype), np.empty((0, t.size), dtype),
                                   BERNOULLI, 0, np.ones(1), np.empty((0, 4), np.uint64), 2)
        finally:
            _gibbs._baseline_only(previous)
        assert np.array_equal(_bits(got[0]), _bits(_cd._sigmoid_array(t.copy())))
        assert np.array_equal(_bits(got[0]), _bits(ref.fused_sigmoid(t)))
