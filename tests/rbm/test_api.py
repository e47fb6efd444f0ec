"""RBM conventions (issue 15) and the one-of-each restructuring (issue 11)."""

import ast
import pathlib

import numpy as np
import pytest
import scipy.sparse as sp

import heatbath
from heatbath import RBM, io
from heatbath.rbm.train import Trainer

X = (np.random.default_rng(0).random((60, 6)) < 0.3).astype(float)


def test_fit_returns_the_model_with_history_on_an_attribute():
    rbm = RBM(6, 3, seed=0)
    assert rbm.fit(X, epochs=2, seed=1) is rbm
    assert len(rbm.history_["reconstruction_error"]) == 2
    assert RBM(6, 3).fit(X, epochs=1, seed=0).sample(2, 3, seed=0).shape == (2, 6)


def test_fit_accepts_sparse_input_as_dense():
    a = RBM(6, 3, seed=0).fit(X, epochs=2, seed=1)
    b = RBM(6, 3, seed=0).fit(sp.csr_matrix(X), epochs=2, seed=1)
    np.testing.assert_array_equal(a.weights, b.weights)


@pytest.mark.parametrize("call", [
    lambda m: m.fit(X[0], epochs=1),
    lambda m: m.log_likelihood(X[0]),
    lambda m: m.pseudo_likelihood(X[0]),
    lambda m: m.hidden_means(X[0]),
])
def test_one_dimensional_input_is_refused_with_scikit_learns_message(call):
    with pytest.raises(ValueError, match=r"(?s)Expected 2D array, got 1D array instead:.*Reshape your data"):
        call(RBM(6, 3))


@pytest.mark.parametrize("kw", [{"learning_rate": "0.1"}, {"momentum": "0.5"},
                                {"weight_decay": "0"}, {"epochs": "2"}, {"batch_size": "5"},
                                {"k": "1"}])
def test_strings_are_not_numbers(kw):
    with pytest.raises(TypeError):
        RBM(6, 3).fit(X, **kw)


def test_public_layer_methods_are_the_steps_the_sampler_takes():
    m = RBM(6, 4, seed=3).set_parameters(visible_bias=np.linspace(-1, 1, 6))
    V = X[:8]
    H = m.hidden_means(V)
    expected = 1 / (1 + np.exp(-(V @ m.weights + m.hidden_bias)))
    np.testing.assert_allclose(H, expected, rtol=1e-12)
    np.testing.assert_allclose(m.visible_means(H),
                               1 / (1 + np.exp(-(H @ m.weights.T + m.visible_bias))),
                               rtol=1e-12)
    # gibbs_step from seed s is one step of a GibbsSampler with the same seed and start
    V1, H1 = m.gibbs_step(V, seed=7)
    sampler = m.gibbs_sampler(n_chains=8, seed=7, init=V)
    sampler.step()
    np.testing.assert_array_equal(V1, sampler.visible)
    np.testing.assert_array_equal(H1, sampler.hidden)
    # sample_hidden then sample_visible from two seeds: binary, the right shapes
    h = m.sample_hidden(V, seed=1)
    assert h.shape == (8, 4) and set(np.unique(h)) <= {0.0, 1.0}
    assert m.sample_visible(h, seed=2, temperature=np.inf).shape == (8, 6)
    np.testing.assert_array_equal(m.sample_hidden(V, seed=1, n_threads=2), h)


def test_n_threads_is_honoured_and_checked_everywhere():
    m = RBM(6, 4, seed=3)
    for call in (m.free_energy, m.pseudo_likelihood, m.hidden_means):
        np.testing.assert_array_equal(call(X, n_threads=1), call(X, n_threads=2))
        with pytest.raises(ValueError, match="n_threads"):
            call(X, n_threads=0)
    H = (X[:, :4] > 0).astype(float)
    np.testing.assert_array_equal(m.free_energy_hidden(H, n_threads=1),
                                  m.free_energy_hidden(H, n_threads=3))
    with pytest.raises(ValueError, match="n_threads"):
        m.free_energy_hidden(H, n_threads=0)


@pytest.mark.parametrize("method", ["pcd", "pt"])
def test_persistent_chains_do_not_depend_on_the_batch_size(method):
    def chains(batch_size):
        t = Trainer(RBM(6, 3, seed=0), X, batch_size, method, 1, 0.1, 0.0, 0.0, 10, 3, True, 5)
        return t.persistent.streams, t.swap_streams, t.order_rng.random()

    a, b = chains(5), chains(20)
    np.testing.assert_array_equal(a[0], b[0])
    if method == "pt":
        np.testing.assert_array_equal(a[1], b[1])
    assert a[2] == b[2]


def test_one_model_file_format(tmp_path):
    m = RBM(5, 3, visible="spin", hidden="binomial(3)", dtype=np.float32, seed=2)
    state = m.to_state()
    assert all(np.asarray(v).dtype.kind in "biufU" for v in state.values())
    back = RBM.from_state(state)
    for name in ("weights", "visible_bias", "hidden_bias"):
        np.testing.assert_array_equal(getattr(back, name), getattr(m, name))
    m.save(tmp_path / "m.npz")
    assert repr(io.load_model(tmp_path / "m.npz")) == repr(m)
    # the checkpoint's model is the same plain state
    RBM(6, 3, seed=0).fit(X, epochs=1, seed=0, checkpoint=tmp_path / "c.npz")
    model, _ = io.load_checkpoint(tmp_path / "c.npz")
    with np.load(tmp_path / "c.npz") as f:
        assert {k[len("model/"):] for k in f.files if k.startswith("model/")} == \
            set(RBM(6, 3).to_state()) | {"kind"}
    assert model.n_visible == 6


def test_io_and_sklearn_import_no_private_engine_names():
    root = pathlib.Path(heatbath.__file__).parent
    for name in ("io.py", "sklearn.py"):
        tree = ast.parse((root / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                if name == "io.py":
                    assert parts[:2] not in (["heatbath", "rbm"], ["heatbath", "spin"]), \
                        node.module
                if parts[:2] == ["heatbath", "rbm"]:
                    assert not any(p.startswith("_") for p in parts[2:]), node.module
                    assert not any(a.name.startswith("_") for a in node.names), node.module


@pytest.mark.parametrize("data_dtype", [np.float32, np.float64])
def test_training_data_is_checked_in_either_dtype(data_dtype):
    # float32 data for a float32 model is checked as it is (no float64 copy); other dtypes
    # are checked in float64 first, so 1 + 1e-9 is refused rather than rounded to 1 by the cast.
    from heatbath.rbm.train import check_data
    m = RBM(4, 2, dtype=np.float32, seed=0)
    X = np.array([[0, 1, 1, 0], [1, 0, 0, 1]], dtype=data_dtype)
    V = check_data(m, X)
    assert V.dtype == np.float32 and V.flags.c_contiguous
    np.testing.assert_array_equal(V, X)
    bad = X.copy()
    bad[0, 1] = 0.5 if data_dtype == np.float32 else 1 + 1e-9
    with pytest.raises(ValueError, match="binary"):
        check_data(m, bad)
    nan = X.copy()
    nan[1, 2] = np.nan
    with pytest.raises(ValueError, match="finite"):
        check_data(m, nan)
