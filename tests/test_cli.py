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
    assert set(data) == {"metadata", "results"} and data["results"]
    for row in data["results"]:
        assert row["heatbath"] > 0 and row["per_second"] > 0
        assert row["ratio"] is None or row["ratio"] > 0


def test_demo_quick(tmp_path):
    text = _run("demo", "--quick", "--out", str(tmp_path / "plots"))
    assert "log Z (exact)" in text and "mixing time" in text and "speedup" in text
    assert "sklearn BernoulliRBM" in text and "AIS" in text
    assert "for independent Poisson pixels" in text
    assert "Neural-network quantum state" in text and "relative error" in text
    # the distributed section: three kinds of work on 2 worker processes, the same bits
    section = text.split("Distributed runs: ", 1)[1].split("Runs this short", 1)[0]
    assert section.count(" yes\n") == 3 and " NO\n" not in section
    names = sorted(os.listdir(tmp_path / "plots"))
    assert names == sorted(["ising_observables.png", "ising_snapshot.png", "rbm_filters.png",
                            "rbm_samples.png", "learning_curves.png",
                            "classification_confusion.png", "diffusion_mixture.png",
                            "nqs_energy.png", "thermo.png"])
    for name in names:
        assert (tmp_path / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_matches_the_library(tmp_path):
    import numpy as np

    from heatbath import RBM

    rng = np.random.default_rng(3)
    X = (rng.random((300, 10)) < 0.3).astype(float)
    np.save(tmp_path / "x.npy", X)
    model = RBM(10, 6, seed=0)
    model.fit(X, epochs=3, seed=0)
    model.save(tmp_path / "m.npz")
    exact = json.loads(_run("evaluate", "--model", str(tmp_path / "m.npz"), "--data",
                            str(tmp_path / "x.npy"), "--json"))
    assert exact["method"] == "exact" and exact["log_partition_stderr"] == 0
    assert exact["log_partition"] == model.log_partition()
    assert exact["log_likelihood"] == pytest.approx(model.log_likelihood(X), rel=1e-12)
    assert exact["pseudo_likelihood"] == pytest.approx(model.pseudo_likelihood(X).mean(),
                                                       rel=1e-12)
    assert exact["reconstruction_error"] == pytest.approx(model.reconstruction_error(X))
    ais = json.loads(_run("evaluate", "--model", str(tmp_path / "m.npz"), "--data",
                          str(tmp_path / "x.npy"), "--method", "ais", "--n-betas", "500",
                          "--seed", "1", "--json"))
    assert abs(ais["log_partition"] - exact["log_partition"]) < 3 * ais["log_partition_stderr"]
    assert 0 < ais["ess"] <= 100 and ais["n_betas"] == 500
    text = _run("evaluate", "--model", str(tmp_path / "m.npz"), "--data", str(tmp_path / "x.npy"))
    assert "log-likelihood" in text and "pseudo-likelihood" in text
    out = subprocess.run([_script(), "evaluate", "--model", str(tmp_path / "m.npz"), "--data",
                          str(tmp_path / "nope.npy")], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "nope.npy" in out.stderr and "Traceback" not in out.stderr


def test_train_killed_with_sigkill_resumes_bit_for_bit(tmp_path):
    """SIGKILL after a checkpoint, resume, compare with an uninterrupted run."""
    import signal
    import time

    import numpy as np

    from heatbath import RBM, io

    rng = np.random.default_rng(0)
    np.save(tmp_path / "d.npy", (rng.random((1000, 64)) < 0.2).astype(float))
    args = ["train", "--data", str(tmp_path / "d.npy"), "--hidden", "1100", "--epochs", "8",
            "--method", "pcd", "--seed", "4", "--n-threads", "1", "--json"]
    _run(*args, "--out", str(tmp_path / "whole.npz"))
    ckpt = tmp_path / "ckpt.npz"
    proc = subprocess.Popen([_script(), *args, "--out", str(tmp_path / "cut.npz"),
                             "--checkpoint", str(ckpt)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not ckpt.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    _, state = io.load_checkpoint(ckpt)          # never corrupt, whenever the kill came
    assert 1 <= state["epoch"] < 8                # killed mid-run
    _run(*args, "--out", str(tmp_path / "cut.npz"), "--checkpoint", str(ckpt), "--resume")
    whole, cut = RBM.load(tmp_path / "whole.npz"), RBM.load(tmp_path / "cut.npz")
    assert np.array_equal(whole.weights, cut.weights)
    assert np.array_equal(whole.hidden_bias, cut.hidden_bias)


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
                                          ("wolff", 2.27), ("multispin", 2.5),
                                          ("swendsen-wang", 2.27)])
def test_ising_json_against_exact_torus(algorithm, T):
    data = json.loads(_run("ising", "--size", "16", "--temperature", str(T), "--n-sweeps", "3000",
                           "--burn-in", "300", "--n-chains", "16", "--algorithm", algorithm,
                           "--seed", "3", "--json"))
    assert ISING_FIELDS <= set(data)
    ex = data["exact"]
    for key, exact_key in [("energy_per_spin", "finite_energy_per_spin"),
                           ("specific_heat", "finite_specific_heat")]:
        assert abs(data[key] - ex[exact_key]) < 4 * data[key + "_stderr"]
    assert data["flips_per_second"] > 0 and data["seconds"] > 0


def test_ising_replica_exchange_json():
    data = json.loads(_run("ising", "--size", "8", "--temperatures", "2.0,2.3,2.7",
                           "--n-sweeps", "400", "--burn-in", "100", "--n-chains", "4", "--seed",
                           "2", "--n-threads", "1", "--json"))
    assert [r["temperature"] for r in data["rows"]] == [2.0, 2.3, 2.7]
    assert len(data["swap_rates"]) == 2 and all(0 < x <= 1 for x in data["swap_rates"])
    energies = [r["energy_per_spin"] for r in data["rows"]]
    assert energies == sorted(energies)          # hotter is higher in energy
    out = subprocess.run([_script(), "ising", "--temperatures", "2,x"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and "--temperatures" in out.stderr


def test_ising_same_numbers_for_any_thread_count():
    args = ["ising", "--size", "12", "--n-sweeps", "50", "--burn-in", "5", "--n-chains", "3",
            "--seed", "1", "--json"]
    one = json.loads(_run(*args, "--n-threads", "1"))
    two = json.loads(_run(*args, "--n-threads", "2"))
    for key in ("energy_per_spin", "specific_heat", "abs_magnetization", "tau_int_energy"):
        assert one[key] == two[key]


def test_ising_text_and_errors():
    assert "exact (finite)" in _run("ising", "--size", "8", "--n-sweeps", "20", "--burn-in", "0")
    for bad in (["--temperature", "-1"], ["--size", "0"], ["--n-chains", "0"], ["--n-threads", "0"],
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
    _run("sample", "--model", str(tmp_path / "m.npz"), "--n-chains", "20000", "--n-sweeps", "300",
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
    _run("sample", "--model", str(tmp_path / "t.npz"), "--n-chains", "3", "--n-sweeps", "10",
         "--thin", "5", "--out", str(every))
    assert np.load(every).shape == (2, 3, 8)
    out = subprocess.run([_script(), "train", "--data", str(tmp_path / "d.npy"),
                          "--learning-rate", "0", "--out", str(tmp_path / "x.npz")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "learning_rate" in out.stderr


@pytest.mark.parametrize("algorithm", ["metropolis", "wolff"])
def test_ising_killed_with_sigkill_resumes_bit_for_bit(tmp_path, algorithm):
    import signal
    import time

    from heatbath import io

    args = ["ising", "--size", "48", "--n-sweeps", "6000", "--burn-in", "500", "--n-chains", "4",
            "--seed", "9", "--algorithm", algorithm, "--n-threads", "1", "--json"]
    whole = json.loads(_run(*args))
    ckpt = tmp_path / "ising.npz"
    run = [_script(), *args, "--checkpoint", str(ckpt), "--checkpoint-every", "250"]
    proc = subprocess.Popen(run, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not ckpt.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.01)
    time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    state = io.load_state(ckpt)                  # never corrupt, whenever the kill came
    assert state["sweeps_done"] < 6000           # killed mid-run
    resumed = json.loads(_run(*args, "--checkpoint", str(ckpt), "--checkpoint-every", "250",
                              "--resume"))
    for key in whole:
        if key not in ("seconds", "flips_per_second"):
            assert resumed[key] == whole[key], key
    with pytest.raises(AssertionError):   # different settings: refused, not mixed
        _run(*args[:-1], "--temperature", "2.0", "--json", "--checkpoint", str(ckpt),
             "--resume")
