"""Files: states, checkpoints, resume bit for bit, atomic saves, bad files."""

import os
import zipfile

import numpy as np
import pytest

from heatbath import RBM, Ising, MetropolisSampler, WolffSampler, io
from heatbath.rbm.train import FUSED_MAX_WEIGHTS


def _data(n=120, nv=12, seed=0):
    return (np.random.default_rng(seed).random((n, nv)) < 0.3).astype(float)


@pytest.mark.parametrize("method, nh, dtype", [
    ("cd", 5, np.float64), ("pcd", 5, np.float32), ("pt", 5, np.float64),
    ("pcd", FUSED_MAX_WEIGHTS // 12 + 1, np.float32),   # the BLAS (unfused) path
    ("cd", 7, np.float64),
])
def test_resume_from_checkpoint_is_bit_identical(tmp_path, method, nh, dtype):
    X = _data()
    kw = dict(batch_size=16, method=method, learning_rate=0.05, momentum=0.5, seed=3,
              score_every=2, scores=("pseudo_likelihood",))
    whole = RBM(12, nh, dtype=dtype, seed=1)
    h_whole = whole.fit(X, epochs=5, **kw).history_
    path = tmp_path / "run.npz"
    RBM(12, nh, dtype=dtype, seed=1).fit(X, epochs=3, checkpoint=path, **kw)
    resumed = RBM(12, nh, dtype=dtype, seed=99)      # parameters come from the file
    h_resumed = resumed.fit(X, epochs=5, resume=path, checkpoint=path, **kw).history_
    for name in ("weights", "visible_bias", "hidden_bias"):
        assert np.array_equal(getattr(whole, name), getattr(resumed, name)), name
    for key in h_whole:
        if key != "seconds":
            np.testing.assert_array_equal(np.asarray(h_whole[key]), np.asarray(h_resumed[key]))
    model, state = io.load_checkpoint(path)     # the last epoch is always saved
    assert state["epoch"] == 5 and np.array_equal(model.weights, resumed.weights)


def test_resume_refuses_other_settings_data_or_model(tmp_path):
    X = _data()
    path = tmp_path / "run.npz"
    RBM(12, 4, seed=1).fit(X, epochs=2, method="pcd", seed=3, checkpoint=path)
    with pytest.raises(ValueError, match="learning_rate"):
        RBM(12, 4).fit(X, epochs=3, method="pcd", learning_rate=0.2, resume=path)
    with pytest.raises(ValueError, match="method"):
        RBM(12, 4).fit(X, epochs=3, method="cd", resume=path)
    with pytest.raises(ValueError, match="different data"):
        RBM(12, 4).fit(1 - X, epochs=3, method="pcd", resume=path)
    with pytest.raises(ValueError, match="RBM"):
        RBM(12, 5).fit(X, epochs=3, method="pcd", resume=path)


def test_sampler_states_round_trip_through_files(tmp_path):
    for cls in (MetropolisSampler, WolffSampler):
        a = cls(Ising((6, 6)), temperature=2.3, n_chains=3, seed=5)
        a.run(10)
        io.save_state(tmp_path / "s.npz", a.get_state())
        b = cls(Ising((6, 6)), temperature=2.3, n_chains=3, seed=0)
        b.set_state(io.load_state(tmp_path / "s.npz"))
        ta, tb = a.run(20), b.run(20)
        assert np.array_equal(ta["energy"], tb["energy"]) and np.array_equal(a.spins, b.spins)
    rbm = RBM(8, 4, seed=0)
    g = rbm.gibbs_sampler(n_chains=5, seed=2)
    g.run(3)
    io.save_state(tmp_path / "g.npz", g.get_state())
    g2 = rbm.gibbs_sampler(n_chains=5, seed=9)
    g2.set_state(io.load_state(tmp_path / "g.npz"))
    assert np.array_equal(g.run(7)["free_energy"], g2.run(7)["free_energy"])


def test_bad_files_get_clear_errors(tmp_path):
    path = tmp_path / "s.npz"
    io.save_state(path, {"x": np.arange(3)})
    raw = path.read_bytes()
    (tmp_path / "cut.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="truncated"):
        io.load_state(tmp_path / "cut.npz")
    with pytest.raises(ValueError, match="not a 'heatbath.checkpoint'"):
        io.load_checkpoint(path)
    np.savez(tmp_path / "future.npz", format_version=np.int64(io.FORMAT_VERSION + 1),
             kind=np.str_("heatbath.state"), state=np.zeros(1))
    with pytest.raises(ValueError, match="format_version"):
        io.load_state(tmp_path / "future.npz")
    np.savez(tmp_path / "plain.npz", x=np.zeros(2))
    with pytest.raises(ValueError, match="not a heatbath file"):
        io.load_state(tmp_path / "plain.npz")
    with pytest.raises(TypeError, match="dict"):
        io.save_state(path, [1, 2])
    with pytest.raises(TypeError, match="numbers or text"):
        io.save_state(path, {"x": np.array([object()])})
    # A checkpoint whose weights were cut to the wrong shape
    X = _data()
    RBM(12, 3, seed=0).fit(X, epochs=1, checkpoint=tmp_path / "c.npz", seed=0)
    with np.load(tmp_path / "c.npz") as f:
        parts = {k: f[k] for k in f.files}
    parts["model/visible_bias"] = parts["model/visible_bias"][:5]
    np.savez(tmp_path / "bad.npz", **parts)
    with pytest.raises(ValueError, match="visible_bias"):
        io.load_checkpoint(tmp_path / "bad.npz")


def test_interrupted_save_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    RBM(4, 2, seed=0).save(path)
    before = path.read_bytes()

    def broken(f, **arrays):
        f.write(b"PK\x03\x04 half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(KeyboardInterrupt):
        RBM(4, 2, seed=1).save(path)
    with pytest.raises(KeyboardInterrupt):
        io.save_state(path, {"x": 1})
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]          # no temporary files left behind
    with zipfile.ZipFile(path) as z:
        assert "weights.npy" in z.namelist()


def test_checkpoint_file_is_plain_arrays(tmp_path):
    X = _data()
    RBM(12, 3, seed=0).fit(X, epochs=1, method="pt", seed=0, checkpoint=tmp_path / "c.npz")
    with np.load(tmp_path / "c.npz", allow_pickle=False) as f:
        assert all(f[k].dtype.kind in "biufU" for k in f.files)
        assert int(f["format_version"]) == io.FORMAT_VERSION
        # the model part is the model's plain state (RBM.to_state), as in model files
        assert str(f["model/kind"]) == "heatbath.RBM" and str(f["model/visible"]) == "bernoulli"
        assert int(f["model/visible_param"]) == 0
