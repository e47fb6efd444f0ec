"""Every public docstring example runs (doctest), and every public name has one."""

import doctest
import importlib

import pytest

import heatbath
import heatbath.lattice
import heatbath.nqs

MODULES = ["heatbath._openmp", "heatbath._random", "heatbath.boltzmann", "heatbath.markov",
           "heatbath.diagnostics", "heatbath.spin.models", "heatbath.spin.samplers",
           "heatbath.spin.exact", "heatbath.spin.observables", "heatbath.rbm.model",
           "heatbath.rbm.units", "heatbath.rbm.train", "heatbath.rbm.estimators", "heatbath.io",
           "heatbath.sklearn", "heatbath.plot", "heatbath.datasets", "heatbath.spin.study",
           "heatbath.spin.multispin", "heatbath.spin.swendsen_wang", "heatbath.spin.tempering",
           "heatbath.lattice", "heatbath.nqs.hilbert", "heatbath.nqs.hamiltonians",
           "heatbath.nqs.wavefunctions", "heatbath.nqs.sampler", "heatbath.nqs.optimizers",
           "heatbath.nqs.driver", "heatbath.nqs.observables", "heatbath.nqs.exact",
           "heatbath.nqs.study",
           "heatbath.continuous.targets", "heatbath.continuous.samplers",
           "heatbath.continuous.adaptation", "heatbath.continuous.diffusion",
           "heatbath.rbm.classifier", "heatbath.spin.thermo", "heatbath.distributed"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(module, name) if t.examples]
    assert tests, f"{name} has no examples"
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0


@pytest.mark.parametrize("name", heatbath.__all__)
def test_public_functions_have_numpydoc_examples(name):
    obj = getattr(heatbath, name)
    if callable(obj):
        doc = obj.__doc__ or ""
        assert "Examples" in doc and ">>>" in doc, name


@pytest.mark.parametrize("module, name", [
    (m, n) for m in (heatbath.markov, heatbath.diagnostics, heatbath.spin, heatbath.spin.exact,
                      heatbath.lattice, heatbath.nqs, heatbath.nqs.exact)
    for n in m.__all__ if callable(getattr(m, n))])
def test_module_functions_have_examples(module, name):
    doc = getattr(module, name).__doc__ or ""
    assert "Examples" in doc and ">>>" in doc, f"{module.__name__}.{name}"


def test_readme_python_examples_run(tmp_path, monkeypatch):
    # The README's ```python blocks are run as written (in a temporary folder:
    # one saves a model file).
    import pathlib
    import re

    readme = pathlib.Path(__file__).resolve().parents[1] / "README.md"
    blocks = re.findall(r"```python\n(.*?)```", readme.read_text(), re.S)
    assert len(blocks) >= 3
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    assert (tmp_path / "model.npz").exists()


def test_readme_test_command_is_what_ci_runs():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1]
    command = ('python3 -m venv .venv && .venv/bin/pip install ".[test]" && '
               '.venv/bin/python -m pytest')
    assert command in (root / "README.md").read_text()
    assert command.replace("python3", "$PY") in (root / "ci" / "ci.sh").read_text()
