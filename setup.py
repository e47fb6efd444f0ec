"""Build the Cython kernels, with OpenMP when the compiler has it.

Environment switches (read at build time):

HEATBATH_NO_OPENMP=1       build serial kernels even if OpenMP is available.
HEATBATH_FAIL_NO_OPENMP=1  make a missing OpenMP a build error (release builds).
HEATBATH_CYTHON_DEBUG=1    turn boundscheck, wraparound and initializedcheck on.
HEATBATH_BUILD_JOBS=N      translate and compile N extensions at once (default: the CPU count).
"""

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# (module, source) pairs; each kernel sits beside the .py that validates input.
EXTENSIONS = [
    ("heatbath._openmp", "src/heatbath/_openmp.pyx"),
    ("heatbath._random", "src/heatbath/_random.pyx"),
    ("heatbath._markov", "src/heatbath/_markov.pyx"),
    ("heatbath.spin._metropolis", "src/heatbath/spin/_metropolis.pyx"),
    ("heatbath.spin._cluster", "src/heatbath/spin/_cluster.pyx"),
    ("heatbath.spin._multispin", "src/heatbath/spin/_multispin.pyx"),
    ("heatbath.spin._swendsen", "src/heatbath/spin/_swendsen.pyx"),
    ("heatbath.rbm._gibbs", "src/heatbath/rbm/_gibbs.pyx"),
    ("heatbath.rbm._cd", "src/heatbath/rbm/_cd.pyx"),
    ("heatbath.rbm._blas", "src/heatbath/rbm/_blas.pyx"),
    ("heatbath.nqs._metropolis", "src/heatbath/nqs/_metropolis.pyx"),
    ("heatbath.nqs._sr", "src/heatbath/nqs/_sr.pyx"),
    ("heatbath.continuous._kernels", "src/heatbath/continuous/_kernels.pyx"),
]

# Kernels whose NumPy twin reproduces them bit for bit through a*b + c: no
# fused multiply-add on any target (gcc fuses by default where the ISA has it).
# -fno-trapping-math changes no value; it lets gcc vectorise loops with
# comparisons (the sigmoid's clamps) into selects. heatbath.rbm._gibbs: its
# Poisson draws are replayed in Python floats (heatbath.reference.random.poisson).
# heatbath.nqs._sr: S = R / n - conj(m_p) m_q, twinned in NumPy.
FP_CONTRACT_OFF = {"heatbath.rbm._cd", "heatbath.rbm._gibbs", "heatbath.nqs._sr"}

# C headers an extension includes (a change rebuilds it).
DEPENDS = {"heatbath.rbm._cd": ["src/heatbath/rbm/_cd_epoch.h", "src/heatbath/rbm/_sigmoid.h",
                                 "src/heatbath/rbm/_lockstep.h"],
           "heatbath.rbm._gibbs": ["src/heatbath/rbm/_sigmoid.h", "src/heatbath/rbm/_lockstep.h"]}

OPENMP_PROBE = textwrap.dedent(
    """
    #include <omp.h>
    #include <stdio.h>
    int main(void) {
        int n = 0;
        #pragma omp parallel reduction(+:n)
        n += 1;
        printf("%d\\n", n);
        return n > 0 ? 0 : 1;
    }
    """
)


def _flag(name):
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _build_jobs():
    """Extensions translated and compiled at once: HEATBATH_BUILD_JOBS, else the CPU count."""
    jobs = os.environ.get("HEATBATH_BUILD_JOBS", "").strip()
    return int(jobs) if jobs.isdigit() and int(jobs) > 0 else (os.cpu_count() or 1)


def _openmp_flags(compiler):
    """Return (compile_args, link_args) for OpenMP, or None if it does not work.

    A tiny program is compiled, linked and run, as pykdtree and scikit-learn do:
    a compiler that accepts -fopenmp but cannot link libgomp must not pass.
    """
    if compiler.compiler_type == "msvc":
        candidates = [(["/openmp"], [])]
    else:
        candidates = [(["-fopenmp"], ["-fopenmp"])]
    for cflags, lflags in candidates:
        tmp = tempfile.mkdtemp(prefix="heatbath-omp-")
        try:
            src = os.path.join(tmp, "probe.c")
            with open(src, "w") as f:
                f.write(OPENMP_PROBE)
            objs = compiler.compile([src], output_dir=tmp, extra_postargs=cflags)
            exe = os.path.join(tmp, "probe")
            compiler.link_executable(objs, exe, extra_postargs=lflags)
            out = subprocess.run([exe], capture_output=True, text=True, timeout=60)
            if out.returncode == 0 and out.stdout.strip().isdigit():
                return cflags, lflags
        except Exception:  # noqa: BLE001 - any failure means "no OpenMP"
            pass
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return None


class BuildExt(build_ext):
    def finalize_options(self):
        super().finalize_options()
        # Always recompile: pip builds in the source tree, and objects left by a
        # build with other flags (OpenMP or not, debug or not) would otherwise
        # be taken as up to date. (Set after finalize: it copies build's value.)
        self.force = True
        # Compile the extensions in parallel (pip passes no -j): the kernels are
        # independent, and CI builds the package three times.
        if not self.parallel:
            self.parallel = _build_jobs()

    def build_extensions(self):
        flags = None
        if _flag("HEATBATH_NO_OPENMP"):
            msg = "heatbath: HEATBATH_NO_OPENMP is set: building serial kernels."
        else:
            flags = _openmp_flags(self.compiler)
            if flags is None:
                msg = (
                    "heatbath: the compiler cannot build and run an OpenMP program: "
                    "building SERIAL kernels (heatbath.openmp_enabled() will be False)."
                )
                if _flag("HEATBATH_FAIL_NO_OPENMP"):
                    raise RuntimeError(msg + " HEATBATH_FAIL_NO_OPENMP is set; stopping.")
            else:
                msg = "heatbath: OpenMP found (%s): building parallel kernels." % " ".join(flags[0])
        print(msg, file=sys.stderr)
        for ext in self.extensions:
            if flags is not None:
                ext.extra_compile_args += flags[0]
                ext.extra_link_args += flags[1]
            if self.compiler.compiler_type != "msvc":
                ext.extra_compile_args += ["-O3", "-fno-math-errno"]
                if ext.name in FP_CONTRACT_OFF:
                    ext.extra_compile_args += ["-ffp-contract=off", "-fno-trapping-math"]
                if _flag("HEATBATH_SANITIZE"):
                    # AddressSanitizer: run with LD_PRELOAD=$(gcc -print-file-name=libasan.so)
                    # (Python itself is not instrumented); see ci/asan.sh.
                    ext.extra_compile_args += ["-fsanitize=address", "-fno-omit-frame-pointer",
                                               "-g"]
                    ext.extra_link_args += ["-fsanitize=address"]
        super().build_extensions()


def extensions():
    debug = _flag("HEATBATH_CYTHON_DEBUG")
    directives = {
        "language_level": 3,
        "boundscheck": debug,
        "wraparound": debug,
        "initializedcheck": debug,
        "cdivision": True,
        "embedsignature": True,
    }
    exts = [
        Extension(
            name,
            [src],
            include_dirs=[np.get_include(), "src/heatbath"],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_9_API_VERSION")],
            depends=DEPENDS.get(name, []),
        )
        for name, src in EXTENSIONS
    ]
    return cythonize(
        exts,
        compiler_directives=directives,
        include_path=["src"],
        # Translation is about a quarter of the build's CPU time (gcc the rest).
        nthreads=_build_jobs(),
        # Generated C goes to one folder per mode: a debug build must never
        # reuse C files generated without the checks, nor the other way round.
        build_dir="build/cython-debug" if debug else "build/cython-release",
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})
