"""Threads shared by the RBM and NQS code: BLAS pinned to one thread, and a small pool.

OpenBLAS does not give the same bits for every thread count (it blocks a
GEMM's sums differently when threaded), so heatbath's products run with BLAS
on one thread (:func:`single_threaded_blas`) and split work into blocks fixed
by the shapes alone, which :func:`run_parallel` (or OpenMP) runs on
``n_threads`` threads: any thread count gives the same bits.
"""

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

__all__ = ["run_parallel", "single_threaded_blas"]

_CONTROLLER = None
_PIN_LOCK = threading.Lock()
_PIN_DEPTH = 0
_PIN_CONTEXT = None


@contextlib.contextmanager
def single_threaded_blas():
    """BLAS on one thread inside (re-entrant, and safe with several Python threads).

    The limit is set by the first caller to enter and restored by the last
    to leave, so one thread leaving never un-pins BLAS under another.
    """
    global _CONTROLLER, _PIN_DEPTH, _PIN_CONTEXT
    with _PIN_LOCK:
        if _PIN_DEPTH == 0:
            if _CONTROLLER is None:
                from threadpoolctl import ThreadpoolController

                # Made once: building one scans the loaded libraries.
                _CONTROLLER = ThreadpoolController()
            _PIN_CONTEXT = _CONTROLLER.limit(limits=1, user_api="blas")
        _PIN_DEPTH += 1
    try:
        yield
    finally:
        with _PIN_LOCK:
            _PIN_DEPTH -= 1
            if _PIN_DEPTH == 0:
                _PIN_CONTEXT.restore_original_limits()
                _PIN_CONTEXT = None


_POOL = None
_POOL_LOCK = threading.Lock()


def _pool():
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max(2, os.cpu_count() or 1),
                                       thread_name_prefix="heatbath")
    return _POOL


def run_parallel(tasks, n_threads):
    """Run callables on ``n_threads`` pool threads (in order when 1); return results."""
    if n_threads <= 1 or len(tasks) == 1:
        return [t() for t in tasks]
    groups = [tasks[i::n_threads] for i in range(min(n_threads, len(tasks)))]
    # The calling thread does the first group itself (one hand-off fewer).
    futures = [_pool().submit(lambda g=g: [t() for t in g]) for g in groups[1:]]
    done = [[t() for t in groups[0]]] + [f.result() for f in futures]
    out = [None] * len(tasks)
    for i, res in enumerate(done):
        out[i::n_threads] = res
    return out
