"""Property-based fuzzing of the RBM API, log Z estimators, files and sklearn estimators.

Every call ends in a correct result or a ValueError/TypeError whose message
names the argument: never a crash, a hang, a MemoryError from a silly size,
or NaN from finite input.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from heatbath import RBM, io

# derandomize: CI sees the same examples on every run (explore by turning it off).
SETTINGS = settings(max_examples=120, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])
UNITS = ["bernoulli", "spin", "binomial(2)", "softmax(2)", "gaussian"]
hostile = st.sampled_from([0.0, 1.0, -1.0, 0.5, 2.0, np.nan, np.inf, -np.inf, 1e300, -1e300,
                           1e-300, 3.0])


def _arrays(draw, shape):
    kind = draw(st.sampled_from(["float", "int", "bool", "f32", "object", "complex", "F",
                                 "readonly", "strided"]))
    if kind == "object":
        return np.array([[None] * shape[1]] * shape[0], dtype=object)
    if kind == "complex":
        return np.ones(shape, dtype=complex)
    if kind == "int":
        return draw(hnp.arrays(np.int64, shape, elements=st.integers(-3, 3)))
    if kind == "bool":
        return draw(hnp.arrays(np.bool_, shape))
    a = draw(hnp.arrays(np.float64, shape, elements=hostile))
    if kind == "f32":
        with np.errstate(over="ignore"):
            return a.astype(np.float32)
    if kind == "F":
        return np.asfortranarray(a)
    if kind == "readonly":
        a.setflags(write=False)
        return a
    if kind == "strided":
        return np.repeat(a, 2, axis=1)[:, ::2]
    return a


def _named(exc, *names):
    return any(n in str(exc) for n in names)


@SETTINGS
@given(nv=st.integers(-1, 6), nh=st.integers(-1, 5), visible=st.sampled_from(UNITS + ["x", 3]),
       hidden=st.sampled_from(UNITS), dtype=st.sampled_from([np.float64, np.float32, int, "f4"]))
def test_rbm_construction(nv, nh, visible, hidden, dtype):
    try:
        m = RBM(nv, nh, visible, hidden, dtype=dtype)
    except (ValueError, TypeError) as exc:
        assert _named(exc, "n_visible", "n_hidden", "visible", "hidden", "dtype", "units",
                      "gaussian"), exc
        return
    assert m.weights.shape == (nv, nh) and np.isfinite(m.weights).all()


@SETTINGS
@given(data=st.data(), visible=st.sampled_from(UNITS), rows=st.integers(0, 4),
       cols=st.sampled_from([4, 3]))
def test_rbm_methods_on_hostile_data(data, visible, rows, cols):
    m = RBM(4, 3, visible, "bernoulli", seed=0)
    X = _arrays(data.draw, (rows, cols))
    calls = [("free_energy", lambda: m.free_energy(X)),
             ("reconstruction_error", lambda: m.reconstruction_error(X)),
             ("log_likelihood", lambda: m.log_likelihood(X)),
             ("pseudo_likelihood", lambda: m.pseudo_likelihood(X)),
             ("fit", lambda: m.fit(X, epochs=1, seed=0).history_["reconstruction_error"]),
             ("init", lambda: m.sample(2, 1, init=X, seed=0))]
    for name, call in calls:
        try:
            out = np.asarray(call(), dtype=float)
        except (ValueError, TypeError) as exc:
            assert _named(exc, "X", "V", "init", "pseudo-likelihood", "gaussian"), (name, exc)
            continue
        assert np.isfinite(out).all(), (name, X)


@SETTINGS
@given(n_chains=st.one_of(st.integers(-2, 3), st.floats(0, 3), st.none()),
       n_steps=st.one_of(st.integers(-1, 3), st.just(2.5)),
       temperature=st.one_of(hostile, st.lists(hostile, min_size=1, max_size=3)),
       n_threads=st.one_of(st.integers(-3, 3), st.none()))
def test_sampling_arguments(n_chains, n_steps, temperature, n_threads):
    m = RBM(4, 3, seed=0)
    try:
        out = m.sample(n_chains, n_steps, temperature=temperature, seed=1, n_threads=n_threads)
    except (ValueError, TypeError) as exc:
        assert _named(exc, "n_chains", "n_steps", "n_sweeps", "burn_in", "temperature",
                      "n_threads"), exc
        return
    assert set(np.unique(out)) <= {0.0, 1.0}


@SETTINGS
@given(method=st.sampled_from(["exact", "ais", "reverse_ais", "bogus"]),
       n_runs=st.one_of(st.integers(-1, 5), st.just(1.5), st.none()),
       n_betas=st.one_of(st.integers(-1, 30), st.just("10")),
       schedule=st.sampled_from(["linear", "sigmoid", "cosine", [0.0, 1.0], [0.0, 0.5],
                                 [0.0, np.nan, 1.0]]))
def test_log_partition_arguments(method, n_runs, n_betas, schedule):
    m = RBM(5, 3, seed=0)
    kwargs = {} if method == "exact" else {"n_betas": n_betas, "schedule": schedule, "seed": 0}
    if n_runs is not None and method != "exact":
        kwargs["n_runs"] = n_runs
    if method == "reverse_ais":
        kwargs["data"] = np.ones((3, 5))
    try:
        out = m.log_partition(method, **kwargs)
    except (ValueError, TypeError) as exc:
        assert _named(exc, "method", "n_runs", "n_betas", "schedule"), exc
        return
    assert np.isfinite(float(out)) and out.stderr >= 0


@SETTINGS
@given(payload=st.binary(min_size=0, max_size=300))
def test_loading_garbage_files(tmp_path_factory, payload):
    path = tmp_path_factory.mktemp("f") / "x.npz"
    path.write_bytes(payload)
    for load in (io.load_state, io.load_checkpoint, io.load_model):
        with pytest.raises(ValueError):
            load(path)


@SETTINGS
@given(data=st.data(), rows=st.integers(0, 4), cols=st.sampled_from([3, 2]))
def test_sklearn_estimator_on_hostile_data(data, rows, cols):
    pytest.importorskip("sklearn")
    from heatbath.sklearn import BernoulliRBM

    X = _arrays(data.draw, (rows, cols))
    est = BernoulliRBM(n_components=2, n_iter=1, random_state=0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # values outside [0, 1] warn, as documented
            est.fit(X)
            out = est.transform(X)
    except (ValueError, TypeError) as exc:
        msg = str(exc).lower()    # scikit-learn's own validation speaks first
        assert any(w in msg for w in ("x ", "x must", "sample", "feature", "nan", "infinity",
                                      "complex", "array", "dtype")), exc
        return
    assert np.isfinite(out).all()
