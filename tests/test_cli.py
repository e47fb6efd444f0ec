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
