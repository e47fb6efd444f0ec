"""The installed ``heatbath`` console script."""

import json
import os
import shutil
import subprocess
import sys

import pytest

import heatbath


def _script():
    exe = shutil.which("heatbath", path=os.path.dirname(sys.executable)) or shutil.which("heatbath")
    if exe is None:
        pytest.fail("the heatbath console script is not installed beside this Python")
    return exe


def _run(*args):
    out = subprocess.run([_script(), *args], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_version():
    assert _run("--version").strip() == f"heatbath {heatbath.__version__}"


def test_bench_json_quick():
    data = json.loads(_run("bench", "--quick", "--json", "--n-threads", "1"))
    assert set(data) == {"results"} and data["results"]
    for row in data["results"]:
        assert set(row) == {"name", "unit", "heatbath", "reference", "ratio"}
        assert row["heatbath"] > 0 and row["reference"] > 0 and row["ratio"] > 0


def test_demo_quick():
    text = _run("demo", "--quick")
    assert "log Z (exact)" in text and "mixing time" in text and "speedup" in text


def test_no_command_and_bad_flags_fail_cleanly():
    out = subprocess.run([_script()], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "demo" in out.stdout
    out = subprocess.run([_script(), "bench", "--n-threads", "0"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and "n-threads" in out.stderr and "Traceback" not in out.stderr


ISING_FIELDS = {"energy_per_spin", "energy_per_spin_stderr", "abs_magnetization",
                "abs_magnetization_stderr", "specific_heat", "specific_heat_stderr",
                "acceptance_rate", "tau_int_energy", "flips_per_second", "seconds"}


@pytest.mark.parametrize("algorithm, T", [("metropolis", 2.5), ("heatbath", 3.0),
                                          ("wolff", 2.27)])
def test_ising_json_against_exact_torus(algorithm, T):
    data = json.loads(_run("ising", "--size", "16", "--temperature", str(T), "--sweeps", "3000",
                           "--burn-in", "300", "--chains", "16", "--algorithm", algorithm,
                           "--seed", "3", "--json"))
    assert ISING_FIELDS <= set(data)
    ex = data["exact"]
    for key, exact_key in [("energy_per_spin", "finite_torus_energy_per_spin"),
                           ("specific_heat", "finite_torus_specific_heat")]:
        assert abs(data[key] - ex[exact_key]) < 4 * data[key + "_stderr"]
    assert data["flips_per_second"] > 0 and data["seconds"] > 0


def test_ising_same_numbers_for_any_thread_count():
    args = ["ising", "--size", "12", "--sweeps", "50", "--burn-in", "5", "--chains", "3",
            "--seed", "1", "--json"]
    one = json.loads(_run(*args, "--threads", "1"))
    two = json.loads(_run(*args, "--threads", "2"))
    for key in ("energy_per_spin", "specific_heat", "abs_magnetization", "tau_int_energy"):
        assert one[key] == two[key]


def test_ising_text_and_errors():
    assert "exact (finite)" in _run("ising", "--size", "8", "--sweeps", "20", "--burn-in", "0")
    for bad in (["--temperature", "-1"], ["--size", "0"], ["--chains", "0"], ["--threads", "0"],
                ["--algorithm", "glauber"]):
        out = subprocess.run([_script(), "ising", *bad], capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 2 and "Traceback" not in out.stderr, bad


def test_train_then_sample_against_enumeration(tmp_path):
    # A model file with strong weights, sampled by the CLI, against the exact
    # p(v) from enumeration: chi-square at a 1e-4 false-alarm rate.
    import numpy as np
    from scipy import stats
    from scipy.special import logsumexp

    from heatbath import RBM

    rng = np.random.default_rng(0)
    model = RBM(5, 3).set_parameters(rng.normal(scale=2.0, size=(5, 3)),
                                     rng.normal(size=5), rng.normal(size=3))
    model.save(tmp_path / "m.npz")
    _run("sample", "--model", str(tmp_path / "m.npz"), "--chains", "20000", "--steps", "300",
         "--seed", "1", "--out", str(tmp_path / "s.npy"))
    s = np.load(tmp_path / "s.npy")
    V = model.visible.enumerate(5)
    F = model.free_energy(V)
    p = np.exp(-F - logsumexp(-F))
    codes = (s.astype(int) << np.arange(5)).sum(axis=1)
    order = (V.astype(int) << np.arange(5)).sum(axis=1)
    observed = np.bincount(codes, minlength=32)[order]
    keep = p * 20000 >= 5
    obs = np.append(observed[keep], observed[~keep].sum())
    exp = np.append(p[keep], p[~keep].sum()) * 20000
    assert stats.chisquare(obs[exp > 0], exp[exp > 0]).pvalue > 1e-4
    # training writes a model that loads
    np.save(tmp_path / "d.npy", (rng.random((200, 8)) < 0.3).astype(float))
    data = json.loads(_run("train", "--data", str(tmp_path / "d.npy"), "--hidden", "4",
                           "--epochs", "2", "--seed", "0", "--out", str(tmp_path / "t.npz"),
                           "--json"))
    assert {"epochs", "seconds", "samples_per_second", "reconstruction_error"} <= set(data)
    assert RBM.load(tmp_path / "t.npz").n_hidden == 4
    every = tmp_path / "e.npy"
    _run("sample", "--model", str(tmp_path / "t.npz"), "--chains", "3", "--steps", "10",
         "--every", "5", "--out", str(every))
    assert np.load(every).shape == (2, 3, 8)
    out = subprocess.run([_script(), "train", "--data", str(tmp_path / "d.npy"),
                          "--learning-rate", "0", "--out", str(tmp_path / "x.npz")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "learning_rate" in out.stderr
