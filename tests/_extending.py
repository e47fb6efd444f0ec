"""Compile a Cython extension against the INSTALLED heatbath, as numpy's test_extending does.

The .pxd files are found where ``heatbath`` is imported from (the installed
package, not the source tree); the build uses this interpreter's Cython and
setuptools in a temporary folder. The caller skips with a reason if there is
no Cython or no C compiler.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

import heatbath


def build_extension(tmp_dir, name, source):
    """Build module ``name`` from Cython ``source`` in ``tmp_dir``; return the imported module."""
    try:
        import Cython  # noqa: F401
        import setuptools  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"building a Cython extension needs Cython and setuptools: {exc}")
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(cc) is None and shutil.which("cc") is None:
        pytest.skip(f"no C compiler ({cc!r}) on PATH to build the example extension")
    tmp_dir = Path(tmp_dir)
    (tmp_dir / f"{name}.pyx").write_text(textwrap.dedent(source))
    include = str(Path(heatbath.__file__).resolve().parent.parent)
    (tmp_dir / "setup.py").write_text(textwrap.dedent(f"""
        from Cython.Build import cythonize
        from setuptools import Extension, setup
        ext = Extension({name!r}, [{name + '.pyx'!r}], extra_compile_args=["-O0"])
        setup(ext_modules=cythonize([ext], include_path=[{include!r}],
                                    compiler_directives={{"language_level": 3}}))
    """))
    env = dict(os.environ)
    env.pop("HEATBATH_SANITIZE", None)
    proc = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=tmp_dir,
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    built = next(p for p in tmp_dir.iterdir()
                 if p.name.startswith(name + ".") and p.suffix in (".so", ".pyd"))
    spec = importlib.util.spec_from_file_location(name, built)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
