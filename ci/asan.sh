#!/usr/bin/env bash
# The whole test suite once under AddressSanitizer (heap/stack overflows,
# use-after-free in the Cython kernels), on a bounds-checked build.
#   bash ci/asan.sh            # makes .venv-asan in the repository root
# Python is not instrumented, so libasan is preloaded and leak checking (which
# would report CPython's own allocations) is off. SKIP_BUILD=1 reuses .venv-asan.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ -z "${SKIP_BUILD:-}" ]; then
    rm -rf .venv-asan
    $PY -m venv .venv-asan
    HEATBATH_SANITIZE=1 HEATBATH_CYTHON_DEBUG=1 .venv-asan/bin/pip install -q ".[test]"
fi
# libstdc++ is preloaded too, or ASan cannot intercept C++ exceptions thrown by
# extension modules loaded later (matplotlib's ft2font aborts otherwise).
ASAN_LIBS="$(${CC:-gcc} -print-file-name=libasan.so) $(${CC:-gcc} -print-file-name=libstdc++.so)"
LD_PRELOAD="$ASAN_LIBS" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1 \
    .venv-asan/bin/python -m pytest -q -p no:cacheprovider "$@"
