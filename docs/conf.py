"""Sphinx configuration: the API reference, built from the numpydoc docstrings.

Build: ``python -m sphinx -W -b html docs docs/_build/html`` (warnings are errors in CI).
"""

import heatbath

project = "heatbath"
author = "heatbath developers"
copyright = "2026, heatbath developers"
release = version = heatbath.__version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "sphinx.ext.mathjax",
              "sphinx.ext.viewcode", "numpydoc"]
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# numpydoc's own cross-references of parameter types ("array-like", "optional", ...)
numpydoc_xref_param_type = False
html_theme = "alabaster"
exclude_patterns = ["_build"]
nitpicky = False
