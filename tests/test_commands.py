"""The command line, item by item (issue 15): each test failed on the old cli.py.

In-process through ``heatbath.cli.main`` (capsys) where that is enough, and
through the installed console script where a signal or exit code is the point.
"""

import json
import os
import pathlib
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from heatbath import RBM
from heatbath.cli import build_parser, main
from heatbath._commands import COMMANDS

ROOT = pathlib.Path(__file__).resolve().parents[1]


def strict_loads(text):
    """json.loads that refuses NaN and Infinity, as RFC 8259 parsers do."""
    def refuse(name):
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def _script():
    exe = shutil.which("heatbath", path=os.path.dirname(sys.executable)) or shutil.which("heatbath")
    assert exe is not None, "the heatbath console script is not installed beside this Python"
    return exe


def run_cli(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def small_model(tmp_path):
    rng = np.random.default_rng(0)
    X = (rng.random((100, 8)) < 0.3).astype(float)
    np.save(tmp_path / "x.npy", X)
    model = RBM(8, 4, seed=0)
    model.fit(X, epochs=1, seed=0)
    model.save(tmp_path / "m.npz")
    return tmp_path / "m.npz", tmp_path / "x.npy"


# -- structure -----------------------------------------------------------------

@pytest.mark.parametrize("command", [c.__name__.rsplit(".", 1)[1] for c in COMMANDS])
def test_every_subcommand_help_works_and_shows_defaults(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: heatbath {command}")
    if command not in ("demo", "bench"):
        assert "(default:" in out
    # every option has a help text
    for action in build_parser()._subparsers._group_actions[0].choices[command]._actions:
        if action.help != "==SUPPRESS==":
            assert action.help, (command, action.option_strings)


def _readme_commands():
    text = (ROOT / "README.md").read_text()
    text = text.replace("\\\n", " ")
    found = re.findall(r"`(heatbath [^`]+)`", text)
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        found += re.findall(r"^(heatbath [a-z].*?)(?:\s+#.*)?$", block, re.M)
    return [c.replace("\\|", "|") for c in found]


def test_readme_commands_parse_and_chain(tmp_path, monkeypatch, capsys):
    """Every heatbath command in the README parses; the train -> evaluate -> sample chain runs."""
    commands = _readme_commands()
    assert len(commands) >= 8
    parser = build_parser()
    for command in commands:
        argv = [a for a in shlex.split(command)[1:] if a not in ("[--quick]", "[--json]")]
        argv = [a for a in argv if not (a.startswith("[") or a.endswith("]"))]
        if len(argv) < 2 and argv != ["demo"]:     # a subcommand named in prose
            continue
        if argv == ["demo"]:
            argv = ["demo", "--out", str(tmp_path)]
        parser.parse_args(argv)          # SystemExit(2) on an unknown or bad flag
    monkeypatch.chdir(tmp_path)
    # The command-line table's chain, shortened only by --epochs / --n-betas.
    rc, out, _ = run_cli(capsys, "train", "--data", "digits", "--hidden", "64", "--method",
                         "pcd", "--out", "model.npz", "--epochs", "1", "--seed", "0")
    assert rc == 0
    rc, out, _ = run_cli(capsys, "evaluate", "--model", "model.npz", "--data", "digits-test",
                         "--json", "--n-betas", "100", "--seed", "1")
    assert rc == 0 and strict_loads(out)["method"] == "ais"
    rc, out, _ = run_cli(capsys, "sample", "--model", "model.npz", "--n-chains", "10",
                         "--n-sweeps", "10", "--out", "s.npy")
    assert rc == 0 and np.load("s.npy").shape == (10, 64)


def test_old_flag_spellings_work_with_a_notice(capsys, tmp_path, small_model):
    model, _ = small_model
    rc, out, err = run_cli(capsys, "ising", "--size", "4", "--sweeps", "10", "--chains", "2",
                           "--threads", "1", "--seed", "0", "--json")
    assert rc == 0 and strict_loads(out)["n_sweeps"] == 10
    assert "--sweeps is deprecated" in err and "use --n-sweeps" in err
    assert "--chains is deprecated" in err and "--threads is deprecated" in err
    rc, out, err = run_cli(capsys, "sample", "--model", model, "--chains", "2", "--steps", "4",
                           "--every", "2", "--out", tmp_path / "s.npy")
    assert rc == 0 and np.load(tmp_path / "s.npy").shape == (2, 2, 8)
    assert "use --thin" in err and "use --n-sweeps" in err


# -- crashes and lost work ---------------------------------------------------------

def test_rhat_missing_is_reported_not_a_crash(capsys, tmp_path):
    rc, out, _ = run_cli(capsys, "ising", "--size", "8", "--n-sweeps", "3", "--burn-in", "0",
                         "--seed", "1")
    assert rc == 0 and "R-hat(E) = n/a" in out
    rc, out, _ = run_cli(capsys, "train", "--data", "digits", "--hidden", "4", "--epochs", "0",
                         "--out", tmp_path / "m.npz")
    assert rc == 0 and "reconstruction error n/a" in out


def test_output_in_a_missing_folder_fails_before_any_work(capsys, tmp_path, small_model):
    model, data = small_model
    missing = tmp_path / "nope" / "out.npz"
    # the data does not exist either: the --out check must come first
    for argv in (["train", "--data", tmp_path / "absent.npy", "--out", missing],
                 ["sample", "--model", model, "--out", missing],
                 ["ising", "--checkpoint", missing, "--n-sweeps", "10**9"]):
        # ising asks for 1e9 sweeps: the call returns only because the check comes first.
        rc, _, err = run_cli(capsys, *argv) if argv[0] != "ising" else (None, None, None)
        if argv[0] == "ising":
            rc, _, err = run_cli(capsys, "ising", "--checkpoint", missing, "--n-sweeps",
                                 "1000000000")
        assert rc == 2 and str(missing) in err and "does not exist" in err, argv
        assert ".heatbath-" not in err
    # the library names the user's path too
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        RBM(3, 2).save(missing)


def test_ctrl_c_is_one_line_naming_the_checkpoint(tmp_path):
    ckpt = tmp_path / "ising.npz"
    proc = subprocess.Popen([_script(), "ising", "--size", "64", "--n-sweeps", "10000000",
                             "--n-chains", "2", "--n-threads", "1", "--checkpoint", str(ckpt),
                             "--checkpoint-every", "20"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not ckpt.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert str(ckpt) in err and "--resume" in err


def test_memory_is_estimated_before_allocating(capsys, monkeypatch):
    from heatbath.spin import study

    monkeypatch.setattr(study, "_available_memory", lambda: 2**30)
    rc, _, err = run_cli(capsys, "ising", "--size", "16384")
    assert rc == 2 and "GiB" in err and "16384x16384" in err
    assert len(err.strip().splitlines()) == 1


def test_per_spin_memory_of_a_lattice_sampler():
    import tracemalloc

    from heatbath.spin import Ising, MetropolisSampler

    L, n_chains = 1024, 8
    tracemalloc.start()
    try:
        model = Ising((L, L))
        sampler = MetropolisSampler(model, temperature=2.5, n_chains=n_chains, seed=0)
        sampler.run(1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # 1 byte per spin per chain and a 16-byte neighbour table: 24 bytes per
    # site for 8 chains, 8 more while the table is built (88 before).
    assert peak / (L * L) < 36, peak / (L * L)


# -- wrong or wasteful by default ---------------------------------------------------

@pytest.mark.parametrize("L", [32, 64, 128, 256])
def test_wolff_sweep_flips_about_n_spins_at_tc(L):
    from heatbath.spin.exact import critical_temperature
    from heatbath.spin.study import run_ising

    r = run_ising(L, temperature=critical_temperature(), algorithm="wolff", n_sweeps=20,
                  burn_in=0, n_chains=4, seed=L)
    per_sweep = r.trace.info["flipped"].sum() / (20 * 4 * L * L)
    # It was 121 N at L = 96 and 431 N at L = 128.
    assert 0.4 < per_sweep < 2.5, per_sweep


def test_not_mixed_warning_in_text_and_json(capsys):
    argv = ["ising", "--size", "32", "--n-sweeps", "60", "--burn-in", "0", "--seed", "3"]
    rc, out, err = run_cli(capsys, *argv, "--json")
    data = strict_loads(out)
    assert rc == 0 and data["mixed"] is False and data["warnings"]
    assert "--n-sweeps" in err or "--burn-in" in err
    rc, out, _ = run_cli(capsys, *argv)
    assert "WARNING, chains not mixed" in out
    rc, out, _ = run_cli(capsys, "ising", "--size", "8", "--temperature", "4", "--n-sweeps",
                         "4000", "--seed", "3", "--json")
    assert strict_loads(out)["mixed"] is True


def test_tau_int_is_never_below_one_half(capsys):
    from heatbath.spin import thermodynamics
    from heatbath.spin.study import run_ising

    # A short run: the raw estimate is 1/n_sweeps (it printed 0.25 and 0.33).
    r = run_ising(8, n_sweeps=3, burn_in=0, n_chains=4, seed=0)
    assert thermodynamics(r.trace)["tau_int_energy"] < 0.5
    assert r.tau_int_energy == 0.5 and r.tau_int_abs_magnetization >= 0.5
    rc, out, _ = run_cli(capsys, "ising", "--size", "8", "--n-sweeps", "4", "--burn-in", "0",
                         "--seed", "0", "--json")
    data = strict_loads(out)
    assert data["tau_int_energy"] >= 0.5 and data["tau_int_abs_magnetization"] >= 0.5


def test_exact_values_finite_at_low_temperature(capsys):
    import warnings

    from heatbath.spin import exact

    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        for T in (1e-3, 2e-3, 0.01, 0.05, 0.09):
            assert exact.onsager_energy(T) == pytest.approx(-2.0, abs=1e-12)
            assert 0 <= exact.onsager_specific_heat(T) < 1e-10
            ex = exact.torus_thermodynamics((16, 16), T)
            assert ex["energy_per_spin"] == pytest.approx(-2.0, abs=1e-12)
            assert np.isfinite(ex["log_partition"]) and 0 <= ex["specific_heat"] < 1e-10
            assert exact.chain_thermodynamics(10, T)["energy_per_spin"] == pytest.approx(-1.0)
    # the series and the closed forms agree where they meet (K = 10)
    closed = exact.torus_thermodynamics((6, 6), 1 / 9.999)
    series = exact.torus_thermodynamics((6, 6), 1 / 10.001)
    assert closed["energy_per_spin"] == pytest.approx(series["energy_per_spin"], abs=1e-14)
    # log Z - 2 N K -> log 2 on both sides
    assert closed["log_partition"] - 72 * 9.999 == pytest.approx(
        series["log_partition"] - 72 * 10.001, abs=1e-9)
    x = exact.onsager_energy(np.array([1 / 9.999, 1 / 10.001]))
    c = exact.onsager_specific_heat(np.array([1 / 9.999, 1 / 10.001]))
    assert x[0] == pytest.approx(x[1], abs=1e-14) and c[0] == pytest.approx(c[1], rel=0.02)
    rc, out, err = run_cli(capsys, "ising", "--size", "8", "--temperature", "1e-3",
                           "--n-sweeps", "20", "--seed", "0")
    assert rc == 0 and "nan" not in out and "Warning" not in err


@pytest.mark.parametrize("periodic", [True, False])
def test_chain_exact_against_enumeration(periodic):
    from heatbath.spin import Ising, exact

    for n, T in [(2, 0.7), (5, 1.3), (10, 2.0), (10, 0.3)]:
        if n == 2 and not periodic:
            continue
        model = Ising((n,), J=1.3, periodic=periodic)
        enum = exact.enumerate_states(model)
        E = enum[1] if isinstance(enum, tuple) else enum["energy"]
        w = np.exp(-(E - E.min()) / T)
        p = w / w.sum()
        mean = (p * E).sum()
        ex = exact.chain_thermodynamics(n, T, J=1.3, periodic=periodic)
        assert ex["energy_per_spin"] == pytest.approx(mean / n, rel=1e-12)
        assert ex["specific_heat"] == pytest.approx((p * (E - mean) ** 2).sum() / (n * T**2),
                                                    rel=1e-10)
        assert ex["log_partition"] == pytest.approx(np.log(w.sum()) - E.min() / T, rel=1e-12)


def test_exact_columns_for_1d(capsys):
    rc, out, _ = run_cli(capsys, "ising", "--dim", "1", "--size", "64", "--temperature", "1.5",
                         "--n-sweeps", "3000", "--seed", "4", "--json")
    data = strict_loads(out)
    ex = data["exact"]
    assert abs(data["energy_per_spin"] - ex["finite_energy_per_spin"]) < 4.5 * data[
        "energy_per_spin_stderr"]
    assert "infinite_energy_per_spin" in ex
    rc, out, _ = run_cli(capsys, "ising", "--dim", "1", "--size", "64", "--n-sweeps", "50",
                         "--seed", "4")
    row = next(line for line in out.splitlines() if line.strip().startswith("energy_per_spin"))
    assert len(row.split()) == 7     # name, value +- err, exact, z, infinite


def test_past_the_end_and_zero_clusters_are_errors(capsys, tmp_path, small_model):
    model, _ = small_model
    rc, _, err = run_cli(capsys, "sample", "--model", model, "--n-chains", "3", "--n-sweeps",
                         "100", "--thin", "300", "--out", tmp_path / "s.npy")
    assert rc == 2 and "past the end" in err and not (tmp_path / "s.npy").exists()
    with pytest.raises(SystemExit) as exit_:
        main(["ising", "--algorithm", "wolff", "--clusters-per-sweep", "0"])
    assert exit_.value.code == 2 and ">= 1" in capsys.readouterr().err


# -- files and JSON ------------------------------------------------------------------

@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_files_honour_the_umask(tmp_path, umask, mode, capsys, small_model):
    from heatbath import io
    from heatbath.spin import Ising, MetropolisSampler

    old = os.umask(umask)
    try:
        RBM(3, 2).save(tmp_path / "m.npz")
        io.save_state(tmp_path / "s.npz",
                      MetropolisSampler(Ising((4, 4)), temperature=2.0, seed=0).get_state())
        run_cli(capsys, "sample", "--model", small_model[0], "--n-chains", "2", "--n-sweeps",
                "2", "--out", tmp_path / "x.npy")
    finally:
        os.umask(old)
    for name in ("m.npz", "s.npz", "x.npy"):
        assert (tmp_path / name).stat().st_mode & 0o777 == mode, name


def test_json_is_strict(capsys, tmp_path):
    rng = np.random.default_rng(1)
    np.save(tmp_path / "d.npy", (rng.random((60, 6)) < 0.4).astype(float))
    rc, out, _ = run_cli(capsys, "train", "--data", tmp_path / "d.npy", "--hidden", "3",
                         "--epochs", "3", "--score-every", "2", "--seed", "0", "--json",
                         "--out", tmp_path / "m.npz")
    assert rc == 0
    assert "NaN" not in out
    data = strict_loads(out)
    assert None in data["history"]["pseudo_likelihood"]     # epochs not scored
    from heatbath._commands._common import dumps

    assert strict_loads(dumps({"a": float("nan"), "b": [np.inf, np.float32(1.5)],
                               "c": np.arange(2)})) == {"a": None, "b": [None, 1.5],
                                                        "c": [0, 1]}


def test_a_run_without_seed_records_its_entropy(capsys):
    argv = ["ising", "--size", "8", "--n-sweeps", "30", "--n-chains", "2", "--json"]
    rc, out, _ = run_cli(capsys, *argv)
    first = strict_loads(out)
    assert first["seed"] is None and first["seed_entropy"] > 0
    rc, out, _ = run_cli(capsys, *argv, "--seed", first["seed_entropy"])
    again = strict_loads(out)
    for key in ("energy_per_spin", "abs_magnetization", "specific_heat"):
        assert again[key] == first[key]


def test_bernoulli_rbm_n_jobs_names_the_public_class():
    pytest.importorskip("sklearn")
    from heatbath.sklearn import BernoulliRBM

    with pytest.raises(TypeError, match=r"^BernoulliRBM\.__init__\(\) got an unexpected.*n_jobs"):
        BernoulliRBM(n_jobs=2)


# -- messages ------------------------------------------------------------------------

def test_misleading_messages_are_gone(capsys, tmp_path, small_model):
    model, data = small_model
    (tmp_path / "t.txt").write_text("0 1 0\n1 1 0\n")
    np.save(tmp_path / "one.npy", np.zeros(8))
    cases = [
        (["evaluate", "--model", tmp_path / "t.txt", "--data", data], "not a heatbath model"),
        (["evaluate", "--model", data, "--data", data], "a .npy array, not a model file"),
        (["evaluate", "--model", model, "--data", tmp_path / "t.txt"], "not a NumPy .npy"),
        (["train", "--data", tmp_path / "t.txt", "--out", tmp_path / "m2.npz"],
         "not a NumPy .npy"),
        (["evaluate", "--model", model, "--data", tmp_path / "one.npy"], "shape (8,)"),
        (["train", "--data", tmp_path / "one.npy", "--out", tmp_path / "m2.npz"], "2-D"),
    ]
    for argv, expected in cases:
        rc, _, err = run_cli(capsys, *argv)
        assert rc == 2 and expected in err, (argv, err)
        assert "pickled" not in err and "context manager" not in err and "got -1" not in err
    big = RBM(30, 30, seed=0)
    big.save(tmp_path / "big.npz")
    np.save(tmp_path / "d30.npy", np.zeros((4, 30)))
    rc, _, err = run_cli(capsys, "evaluate", "--model", tmp_path / "big.npz", "--data",
                         tmp_path / "d30.npy", "--method", "exact")
    assert rc == 2 and "--method ais" in err and "log_partition(" not in err
    rc, out, _ = run_cli(capsys, "sample", "--model", model, "--temperature", "inf",
                         "--n-sweeps", "2", "--out", tmp_path / "s.npy")
    assert rc == 0
    rc, out, _ = run_cli(capsys, "ising", "--size", "4", "--temperature", "inf",
                         "--n-sweeps", "20", "--seed", "0")
    assert rc == 0


def test_evaluate_chooses_the_method_and_says_which(capsys, tmp_path, small_model):
    model, data = small_model
    rc, out, _ = run_cli(capsys, "evaluate", "--model", model, "--data", data)
    assert rc == 0 and "exact enumeration (chosen by --method auto)" in out
    RBM(24, 24, seed=0).save(tmp_path / "m24.npz")
    np.save(tmp_path / "d24.npy", np.zeros((4, 24)))
    rc, out, _ = run_cli(capsys, "evaluate", "--model", tmp_path / "m24.npz", "--data",
                         tmp_path / "d24.npy", "--n-betas", "50", "--n-runs", "10",
                         "--seed", "0", "--json")
    data = strict_loads(out)
    assert rc == 0 and data["method"] == "ais" and data["method_requested"] == "auto"


# -- library pieces ------------------------------------------------------------------

def test_datasets_split_and_labels():
    pytest.importorskip("sklearn")
    from heatbath import datasets

    X, y = datasets.load_digits(subset="train", return_X_y=True)
    Xt, yt = datasets.load_digits(subset="test", return_X_y=True)
    assert X.shape == (1437, 64) and Xt.shape == (360, 64) and y.shape == (1437,)
    assert set(np.unique(X)) == {0.0, 1.0} and set(np.unique(yt)) == set(range(10))
    full = datasets.load_digits(binarize=False)
    assert full.data.shape == (1797, 64) and full.data.max() == 16
    assert np.array_equal(full.data[::5] >= 8, Xt.astype(bool))
    assert np.array_equal(full.target[::5], yt)
    Xb, yb = datasets.load_digits_binary()
    assert np.array_equal(Xb, X) and np.array_equal(yb, y)
    with pytest.raises(ValueError, match="subset"):
        datasets.load_digits(subset="validation")


def test_filter_plot_has_a_colour_bar_and_counts_right():
    pytest.importorskip("matplotlib")
    from heatbath.plot import weight_grid

    fig = weight_grid(RBM(16, 6, seed=0), n_filters=4, colorbar=True)
    assert len(fig.axes) == 4 + 1
    src = (ROOT / "src" / "heatbath" / "_demo" / "digits.py").read_text()
    assert "first {n_filters} of {nh} hidden units" in src


def test_license_and_changelog():
    text = (ROOT / "LICENSE").read_text()
    assert "BSD 3-Clause" in text and "heatbath developers" in text
    assert 'license = "BSD-3-Clause"' in (ROOT / "pyproject.toml").read_text()
    assert (ROOT / "CHANGELOG.md").read_text().startswith("# Changelog")


def test_docs_pins_agree():
    """The ``docs`` extra and docs/requirements.txt (what CI installs) pin the same versions."""
    text = (ROOT / "pyproject.toml").read_text()
    extra = re.search(r'^docs = \[(.*?)\]', text, re.M).group(1)
    pins = sorted(p.strip().strip('"') for p in extra.split(","))
    assert pins == sorted((ROOT / "docs" / "requirements.txt").read_text().split())
    assert "sphinx -W" in (ROOT / "ci" / "ci.sh").read_text()
