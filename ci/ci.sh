#!/usr/bin/env bash
# Everything CI checks, from a clean clone, on a machine with only Python and a
# C compiler. Called by .ci/run; also fine to run by hand (it makes .venv,
# .venv-serial, .venv-debug, dist-serial/ and ci-*.log in the repository root).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
step() { printf '\n=== %s (at %d s)\n' "$*" "$((SECONDS - start))"; }
PY=${PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_PROGRESS_BAR=off

step "1/4 the README's test command: fresh venv, build, install, test"
rm -rf .venv .venv-serial .venv-bare .venv-debug dist-serial
export HEATBATH_EXPECT_OPENMP=1
# The serial wheel and the debug build (steps 3 and 4) are made in the background from a copy
# of the tree (two builds in one tree would share build/), while this step builds and tests:
# its suite keeps about one core of two busy (CI time). Their log, ci-builds.log, is printed
# if they fail.
tree=$(mktemp -d)/heatbath
$PY -c 'import shutil, sys; shutil.copytree(".", sys.argv[1], ignore=shutil.ignore_patterns(
    ".git", ".venv*", "build", "dist", "dist-serial", "_build", "*.so", "*.egg-info",
    "__pycache__", "ci-*.log", "digests-*.json"))' "$tree"
(
    set -euo pipefail
    $PY -m venv .venv-serial
    .venv-serial/bin/pip install -q build
    (cd "$tree" && HEATBATH_NO_OPENMP=1 "$OLDPWD/.venv-serial/bin/python" -m build --wheel \
        --outdir "$OLDPWD/dist-serial" .)
    .venv-serial/bin/pip install -q "$(ls dist-serial/heatbath-*.whl)[test]"
    $PY -m venv .venv-bare
    .venv-bare/bin/pip install -q "$(ls dist-serial/heatbath-*.whl)"
    $PY -m venv .venv-debug
    HEATBATH_CYTHON_DEBUG=1 .venv-debug/bin/pip install -q "$tree[test]"
) > ci-builds.log 2>&1 &
builds_pid=$!
trap 'kill "$builds_pid" 2>/dev/null || true' EXIT   # if a step below fails first
$PY -m venv .venv && .venv/bin/pip install ".[test]" && .venv/bin/python -m pytest
# Kernel digests of this (OpenMP) build, for the builds below to match bit for bit.
.venv/bin/python -m heatbath._selfcheck --write "$PWD/digests-openmp.json"
# Types: [tool.mypy] in pyproject.toml; mypy at the typecheck extra's pin (installed alone, so
# that the package is not built a second time).
.venv/bin/pip install -q $(.venv/bin/python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['typecheck'])")
.venv/bin/mypy

step "2/4 benchmarks once, untimed, and the CLI (a broken bench fails CI)"
.venv/bin/python -m pytest bench --benchmark-disable -q -p no:cacheprovider
.venv/bin/heatbath bench --quick --json > /dev/null
# (`heatbath demo --quick` ran in step 1: tests/test_cli.py::test_demo_quick.)
# The API reference from the numpydoc docstrings, warnings as errors (the doctests run in the suite).
.venv/bin/pip install -q -r docs/requirements.txt
.venv/bin/python -m sphinx -W --keep-going -q -b html docs docs/_build/html

step "3/4 serial wheel (HEATBATH_NO_OPENMP=1) from python -m build: same bits; bare install"
# (built in the background since step 1)
builds_rc=0; wait "$builds_pid" || builds_rc=$?
if [ "$builds_rc" -ne 0 ]; then
    printf '\n--- the serial and debug builds failed (exit %d)\n' "$builds_rc"; cat ci-builds.log
    exit 1
fi
tail -n 3 ci-builds.log
# The serial wheel in a bare environment (no extras: no scikit-learn, no
# matplotlib): it imports, runs the demo, and says what it skipped.
bare_out=$(mktemp -d)
(cd "$bare_out" && "$OLDPWD/.venv-bare/bin/heatbath" demo --quick --out plots > demo.txt)
grep "skipped (scikit-learn is not installed" "$bare_out/demo.txt"
grep "skipped (matplotlib is not installed" "$bare_out/demo.txt"

step "4/4 the serial and the bounds-checked debug (HEATBATH_CYTHON_DEBUG=1) builds' suites side by side"
# Long statistical tests (marked slow) ran once, in step 1; here the rest checks the builds.
# The tests of pure-Python layers (the CLI in subprocesses, README and docstring examples,
# the bench harness, plots, the Dask orchestration) ran in step 1 too: the compiled code they
# reach is the same as in the tests below, which cover every kernel (CI time, issue 11).
# The serial build's suite runs on one core, so the two suites run at once (CI time); each
# writes its own log, printed when both are done.
PURE_PYTHON=(--ignore=tests/test_cli.py --ignore=tests/test_commands.py --ignore=tests/test_docs.py
             --ignore=tests/test_bench.py --ignore=tests/test_plot.py --ignore=tests/distributed)
SUITE=(-q -p no:cacheprovider -m "not slow" "${PURE_PYTHON[@]}")
HEATBATH_EXPECT_OPENMP=0 .venv-serial/bin/python -m pytest "${SUITE[@]}" > ci-serial-tests.log 2>&1 &
serial_pid=$!
.venv-debug/bin/python -m pytest "${SUITE[@]}" > ci-debug-tests.log 2>&1 &
debug_pid=$!
serial_rc=0; wait "$serial_pid" || serial_rc=$?
debug_rc=0; wait "$debug_pid" || debug_rc=$?
printf '\n--- serial build (HEATBATH_NO_OPENMP=1), exit %d\n' "$serial_rc"; cat ci-serial-tests.log
printf '\n--- debug build (HEATBATH_CYTHON_DEBUG=1), exit %d\n' "$debug_rc"; cat ci-debug-tests.log
[ "$serial_rc" -eq 0 ] && [ "$debug_rc" -eq 0 ]
.venv-serial/bin/python -m heatbath._selfcheck --check "$PWD/digests-openmp.json"
.venv-debug/bin/python -m heatbath._selfcheck --check "$PWD/digests-openmp.json"

step "done"
