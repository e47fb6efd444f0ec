"""Every public docstring example runs (doctest), and every public name has one."""

import doctest
import importlib

import pytest

import heatbath

MODULES = ["heatbath._openmp", "heatbath._random", "heatbath.boltzmann", "heatbath.markov",
           "heatbath.diagnostics", "heatbath.spin.models", "heatbath.spin.samplers",
           "heatbath.spin.exact", "heatbath.spin.observables", "heatbath.rbm.model",
           "heatbath.rbm.units", "heatbath.rbm.train"]


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
    (m, n) for m in (heatbath.markov, heatbath.diagnostics, heatbath.spin, heatbath.spin.exact)
    for n in m.__all__ if callable(getattr(m, n))])
def test_module_functions_have_examples(module, name):
    doc = getattr(module, name).__doc__ or ""
    assert "Examples" in doc and ">>>" in doc, f"{module.__name__}.{name}"
