"""``heatbath mcmc``: help, JSON keys, exact-moment columns and one-line errors."""

import json

import pytest

from heatbath import cli

KEYS = {"acceptance_rate", "step_size", "mean_abs_error", "variance_rel_error", "min_ess",
        "ess_per_second", "seconds"}


def test_help(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["mcmc", "--help"])
    assert exc.value.code == 0
    assert "--algorithm" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    ["--target", "gaussian", "--dim", "3", "--algorithm", "mala"],
    ["--target", "mixture", "--dim", "2", "--algorithm", "rwm"],
    ["--target", "double-well", "--dim", "2", "--algorithm", "ula", "--step-size", "0.05"],
    ["--target", "phi4", "--size", "4", "--algorithm", "hmc"],
])
def test_json_output(argv, capsys):
    rc = cli.main(["mcmc", *argv, "--n-chains", "8", "--n-steps", "200", "--burn-in", "200",
                   "--seed", "3", "--n-threads", "1", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert KEYS <= set(out)
    assert 0 < out["acceptance_rate"] <= 1 and out["step_size"] > 0 and out["min_ess"] > 0
    assert out["mean_abs_error"] is not None and out["variance_rel_error"] < 1.0


def test_errors_are_one_line(capsys):
    assert cli.main(["mcmc", "--dim", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--dim" in err
    assert cli.main(["mcmc", "--target", "phi4", "--kappa", "0.3", "--n-steps", "5"]) == 2
    assert "kappa" in capsys.readouterr().err
