"""``heatbath nqs``: the JSON keys, the exact reference, resume, one-line errors."""

import json

import pytest

from heatbath.cli import main

KEYS = {"energy", "energy_stderr", "energy_variance", "exact_energy", "relative_error",
        "n_parameters", "acceptance_rate", "iterations", "seconds", "seconds_per_iteration"}


def _run(capsys, *argv):
    rc = main(["nqs", *[str(a) for a in argv]])
    out, err = capsys.readouterr()
    return rc, out, err


def test_json_keys_and_accuracy(capsys):
    rc, out, _ = _run(capsys, "--size", 6, "--iterations", 60, "--n-samples", 256,
                      "--learning-rate", 0.05, "--eval-samples", 8000, "--seed", 0, "--json")
    r = json.loads(out, parse_constant=lambda name: pytest.fail(f"not strict JSON: {name}"))
    assert rc == 0 and KEYS <= set(r)
    assert r["iterations"] == 60 and r["n_parameters"] == 6 + 6 + 36
    assert r["relative_error"] < 0.01
    # the evaluation's stderr is well below the relative error it is compared with
    assert r["energy_stderr"] / abs(r["exact_energy"]) < 2e-3


def test_heisenberg_symmetric_complex_and_resume(capsys, tmp_path):
    ck = tmp_path / "ck.npz"
    args = ["--hamiltonian", "heisenberg", "--size", 6, "--dtype", "complex128", "--symmetric",
            "--alpha", 2, "--n-samples", 128, "--eval-samples", 2000, "--seed", 1,
            "--checkpoint", ck, "--json"]
    rc, out, _ = _run(capsys, *args, "--iterations", 4)
    part = json.loads(out)
    assert rc == 0 and part["iterations"] == 4 and part["n_parameters"] == 1 + 2 + 12
    rc, out, _ = _run(capsys, *args, "--iterations", 8, "--resume")
    resumed = json.loads(out)
    rc, out, _ = _run(capsys, *[a if a != ck else tmp_path / "other.npz" for a in args],
                      "--iterations", 8)
    straight = json.loads(out)
    assert resumed["iterations"] == 8 and resumed["energy"] == straight["energy"]


def test_errors_are_one_line(capsys):
    with pytest.raises(SystemExit):
        main(["nqs", "--size", "0"])
    assert "expected an integer >= 1" in capsys.readouterr().err
    rc, out, err = _run(capsys, "--resume")
    assert rc == 2 and "--checkpoint" in err and len(err.strip().splitlines()) == 1
    rc, out, err = _run(capsys, "--hamiltonian", "heisenberg", "--size", 5, "--iterations", 1)
    assert rc == 2 and "total_sz" in err
