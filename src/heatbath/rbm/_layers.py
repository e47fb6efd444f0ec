"""One layer of block Gibbs: pre-activations -> means (in place) -> samples.

For bernoulli, spin and binomial units the probabilities are computed in
place with numpy's SIMD exp (about 30x faster per element than libm's
scalar expf in a C loop, measured here), and the Cython kernel only draws,
one stream per chain. Softmax and gaussian layers use the fused kernel.
Either way the results match :mod:`heatbath.reference.rbm`.

Threads. OpenBLAS does not give the same bits for every thread count: it
blocks the sum of a GEMM differently when it runs threaded (784x500 products
differ in the last bits between 1 and 2 threads; measured with the OpenBLAS
0.3.31 that numpy ships). So in RBM code BLAS always runs on one thread, and
:func:`matmul` splits each large product into output blocks fixed by the
shapes alone, run on ``n_threads`` Python threads (numpy releases the GIL).
The same BLAS calls happen for any ``n_threads``, so the bits are the same.
The draw kernel runs on one thread: it costs about 1 ns a unit.
"""

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from heatbath.rbm import _gibbs

BERNOULLI, SPIN, GAUSSIAN, BINOMIAL, SOFTMAX = 0, 1, 2, 3, 4


def _probabilities(x, kind, beta):
    """x <- sigmoid(beta x) (bernoulli, binomial) or sigmoid(2 beta x) (spin), in place."""
    scale = (2.0 * beta) if kind == SPIN else beta
    if not np.all(scale == 1.0):
        x *= scale.astype(x.dtype)[:, None]
    with np.errstate(over="ignore"):
        np.negative(x, out=x)
        np.exp(x, out=x)
    x += 1
    np.reciprocal(x, out=x)


def _probabilities_to_means(x, unit):
    """p(+1) -> 2p - 1 for spin units, p -> n p for binomial units, in place."""
    if unit.kind == SPIN:
        x *= 2
        x -= 1
    elif unit.kind == BINOMIAL:
        x *= unit.param


def means_(x, unit, beta, n_threads=1):
    """Overwrite pre-activations x with the conditional means."""
    if unit.kind in (BERNOULLI, SPIN, BINOMIAL):
        _probabilities(x, unit.kind, beta)
        _probabilities_to_means(x, unit)
    else:
        _gibbs._layer_means(x, unit.kind, unit.param, beta, n_threads)


def sample_(x, out, unit, beta, streams, n_threads):
    """Overwrite x with the means and write samples to out."""
    if unit.kind in (BERNOULLI, SPIN, BINOMIAL):
        _probabilities(x, unit.kind, beta)
        _gibbs._draw(x, out, unit.kind, unit.param, streams, n_threads)
        _probabilities_to_means(x, unit)
    else:
        _gibbs._sample_layer(x, out, unit.kind, unit.param, beta, streams, n_threads)


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
                                       thread_name_prefix="heatbath-blas")
    return _POOL


#: Products with fewer multiply-adds run as one BLAS call.
SMALL_PRODUCT = 1 << 21
#: Output blocks: up to this many rows, and columns cut into an even number of
#: near-equal parts of at most this many (both fixed by the shapes alone).
ROW_BLOCK, COL_BLOCK = 256, 512


def _cuts(n, size, even):
    count = -(-n // size)
    if even and count % 2:
        count += 1
    count = max(1, min(count, n))
    return [slice(n * i // count, n * (i + 1) // count) for i in range(count)]


def run_parallel(tasks, n_threads):
    """Run callables on ``n_threads`` pool threads (in order when 1); return results."""
    if n_threads <= 1 or len(tasks) == 1:
        return [t() for t in tasks]
    groups = [tasks[i::n_threads] for i in range(min(n_threads, len(tasks)))]
    done = list(_pool().map(lambda g: [t() for t in g], groups))
    out = [None] * len(tasks)
    for i, res in enumerate(done):
        out[i::n_threads] = res
    return out


def matmul(A, B, n_threads=1, out=None):
    """``A @ B`` (2-D), the same bits for any ``n_threads``.

    BLAS runs on one thread; a product of more than :data:`SMALL_PRODUCT`
    multiply-adds is cut into output blocks that depend only on the shapes,
    computed on ``n_threads`` threads.
    """
    M, K = A.shape
    N = B.shape[1]
    if out is None:
        out = np.empty((M, N), dtype=np.result_type(A, B))
    with single_threaded_blas():
        if M * N * K <= SMALL_PRODUCT:
            np.matmul(A, B, out=out)
            return out
        tasks = [(lambda r=r, c=c: np.matmul(A[r], B[:, c], out=out[r, c]))
                 for r in _cuts(M, ROW_BLOCK, False) for c in _cuts(N, COL_BLOCK, True)]
        run_parallel(tasks, n_threads)
    return out


def preactivation(bias, X, W, n_threads=1, transpose=False):
    """``bias + X @ W`` (or ``X @ W.T``), C-contiguous, in W's dtype (see :func:`matmul`)."""
    out = matmul(X, W.T if transpose else W, n_threads)
    out += bias
    return out
