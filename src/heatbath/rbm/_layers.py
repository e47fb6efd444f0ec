"""One layer of block Gibbs: pre-activations -> means (in place) -> samples.

For bernoulli, spin and binomial units one parallel kernel pass
(:func:`heatbath.rbm._gibbs._logistic_layer`) adds the bias, computes the
probabilities with the library's one sigmoid (rbm/_sigmoid.h, the fused
epoch kernel's vectorised Cephes form, AVX2 where the CPU has it; twin
:func:`heatbath.reference.rbm.fused_sigmoid`), draws from each chain's
stream and writes the means. Softmax and gaussian layers use the fused
kernel.
Poisson layers compute their rates in the kernel (libm's exp, which the
twin reproduces), are checked here (:func:`check_rates`), then drawn.
Either way the results match :mod:`heatbath.reference.rbm`.

Threads. OpenBLAS does not give the same bits for every thread count: it
blocks the sum of a GEMM differently when it runs threaded (784x500 products
differ in the last bits between 1 and 2 threads; measured with the OpenBLAS
0.3.31 that numpy ships). So in RBM code BLAS always runs on one thread
(:func:`heatbath._threads.single_threaded_blas`, shared with heatbath.nqs), and
:func:`matmul` cuts each large product into output blocks fixed by the
shapes alone, which OpenMP threads run (one BLAS call each,
:mod:`heatbath.rbm._blas`): any ``n_threads``, and a build without OpenMP,
make the same calls and get the same bits. The blocks run on numpy's own
OpenBLAS where numpy bundles it (:func:`_numpy_ilp64_blas`), else on
scipy's. Against NumPy's threaded matmul on 2 threads, float32, best of 90
interleaved calls on an idle 2-core bench machine (bench/products.py,
2026-11-30): 100x784 @ 784x500 671 against 756 us, 100x500 @ 500x784 563
against 578, the training gradient [V; V']^T [H; H'] (784x200 @ 200x500)
1023 against 1019, and 784x100 @ 100x500 549 against 516 (6% behind;
training does not use that shape). Layer
sampling splits rows across Python threads only for very large layers: each
row draws from its own stream, so the split changes no number.
"""

import ctypes
import glob
import os

import numpy as np

# run_parallel and single_threaded_blas are shared with heatbath.nqs (imported from here
# by the RBM modules too).
from heatbath._threads import run_parallel, single_threaded_blas  # noqa: F401
from heatbath.rbm import _blas, _gibbs
from heatbath.rbm.units import BERNOULLI, BINOMIAL, POISSON, SPIN


def _numpy_ilp64_blas():
    """Addresses of ``?gemm_`` in the ILP64 OpenBLAS that numpy's wheel bundles, else (0, 0).

    ``HEATBATH_BLAS=scipy`` keeps scipy's BLAS (for side-by-side timing).
    """
    if os.environ.get("HEATBATH_BLAS", "").lower() == "scipy":
        return 0, 0
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        if blas.get("name") != "scipy-openblas" or \
                "USE64BITINT" not in blas.get("openblas configuration", ""):
            return 0, 0
        root = os.path.dirname(os.path.dirname(np.__file__))
        libs = sorted(glob.glob(os.path.join(root, "numpy.libs", "libscipy_openblas64_*")))
        if len(libs) != 1:
            return 0, 0
        lib = ctypes.CDLL(libs[0])   # already loaded by numpy: the same handle
        return tuple(ctypes.cast(getattr(lib, f"scipy_{t}gemm_64_"), ctypes.c_void_p).value
                     for t in "sd")
    except Exception:   # any other numpy build: scipy's BLAS, which is always there
        return 0, 0


#: Whether the blocked products run on numpy's own (ILP64) OpenBLAS.
NUMPY_BLAS = _blas._use_ilp64(*_numpy_ilp64_blas())


def check_rates(rates):
    """FloatingPointError unless every poisson rate is finite and at most
    :data:`heatbath.rbm._gibbs.POISSON_MAX_RATE` (the parameters have run away)."""
    top = rates.max(initial=0.0)
    if not top <= _gibbs.POISSON_MAX_RATE:      # also NaN
        raise FloatingPointError(
            f"a poisson rate exp(a_i + (W h)_i) reached {top:g}, above the "
            f"{_gibbs.POISSON_MAX_RATE:g} that the sampler draws from: the parameters have "
            f"run away (lower the learning rate, or check the weights)")


#: Layers with fewer elements are not worth splitting across Python threads.
SMALL_LAYER = 1 << 19


def _row_blocks(x, n_threads):
    """Row ranges for n_threads threads (each row is independent: any split gives the
    same bits)."""
    if n_threads <= 1 or x.size < SMALL_LAYER or x.shape[0] < 2:
        return [slice(0, x.shape[0])]
    return _cuts(x.shape[0], -(-x.shape[0] // n_threads), False)


#: Logistic layers (bernoulli, spin, binomial) run as one parallel kernel pass
#: (heatbath.rbm._gibbs._logistic_layer).
_LOGISTIC = (BERNOULLI, SPIN, BINOMIAL)
_NO_BIAS = {np.dtype(np.float32): np.empty(0, np.float32),
            np.dtype(np.float64): np.empty(0, np.float64)}
_NO_STATES = np.empty((0, 4), np.uint64)


#: Layers with fewer elements run the logistic kernel on one thread (an OpenMP
#: team's start costs more than the work; rows are independent, so the same bits).
SMALL_PASS = 1 << 14


def pass_threads(size, n_threads):
    """Threads for an element-wise pass over ``size`` elements."""
    return n_threads if size >= SMALL_PASS else 1


def _logistic(x, out, unit, beta, streams, n_threads, bias):
    dt = x.dtype
    if dt not in _NO_BIAS:
        raise TypeError(f"logistic layers are float32 or float64, got {dt}")
    # The kernel takes C-ordered rows: a strided view goes through a copy.
    xc = np.ascontiguousarray(x)
    oc = out if out is None or out.flags.c_contiguous else np.empty_like(xc)
    _gibbs._logistic_layer(xc, _NO_BIAS[dt] if bias is None else np.asarray(bias, dt),
                           np.empty((0, x.shape[1]), dt) if out is None else oc,
                           unit.kind, unit.param, np.ascontiguousarray(beta, np.float64),
                           _NO_STATES if out is None else streams,
                           pass_threads(x.size, n_threads))
    if xc is not x:
        x[...] = xc
    if oc is not out:
        out[...] = oc


def means_(x, unit, beta, n_threads=1, bias=None):
    """Overwrite pre-activations x with the conditional means (rows on n_threads threads).

    ``bias``: added to x first (then x need not hold it).
    """
    if unit.kind in _LOGISTIC:
        _logistic(x, None, unit, beta, None, n_threads, bias)
        return
    if bias is not None:
        x += bias
    run_parallel([lambda r=r: _gibbs._layer_means(x[r], unit.kind, unit.param, beta[r], 1)
                  for r in _row_blocks(x, n_threads)], n_threads)


def sample_(x, out, unit, beta, streams, n_threads=1, bias=None):
    """Overwrite x with the means and write samples to out, one stream per row.

    Rows are split across ``n_threads`` threads; each row draws from its own
    stream, so the split changes no number. ``bias``: added to x first.
    """
    if unit.kind in _LOGISTIC:
        _logistic(x, out, unit, beta, streams, n_threads, bias)
        return
    if bias is not None:
        x += bias
    if unit.kind == POISSON:
        # All the rates first, checked as a whole: a refused layer draws nothing.
        means_(x, unit, beta, n_threads)
        check_rates(x)
        run_parallel([lambda r=r: _gibbs._draw(x[r], out[r], POISSON, 0, streams[r], 1)
                      for r in _row_blocks(x, n_threads)], n_threads)
        return
    run_parallel([lambda r=r: _gibbs._sample_layer(x[r], out[r], unit.kind, unit.param, beta[r],
                                                   streams[r], 1)
                  for r in _row_blocks(x, n_threads)], n_threads)


#: Products with fewer multiply-adds run as one BLAS call.
SMALL_PRODUCT = 1 << 21
#: Output blocks: the longer side is cut into an even number of near-equal
#: parts of at most this many rows or columns (fixed by the shapes alone).
BLOCK = 2048

#: Rows per BLAS call where each row must get the same bits whatever rows share
#: the call: OpenBLAS sums a row of a product differently by the number of rows
#: and the row's place among them, so rows go in fixed tiles counted from row 0,
#: and blocks that start at a multiple of the tile reproduce the whole run
#: (heatbath.distributed). AIS runs go in tiles of ROW_TILE, Gibbs chains in
#: tiles of GIBBS_TILE (larger: many chains of a small model would otherwise pay
#: the per-call overhead many times per step).
ROW_TILE = 128
GIBBS_TILE = 1024


def _cuts(n, size, even):
    count = -(-n // size)
    if even and count % 2:
        count += 1
    count = max(1, min(count, n))
    return [slice(n * i // count, n * (i + 1) // count) for i in range(count)]


def _operand(X):
    """(array, fortran, ld) for BLAS: a C- or Fortran-ordered view, else a C copy."""
    item = X.itemsize
    rows, cols = X.shape
    s0, s1 = X.strides
    if (s1 == item or cols == 1) and s0 % item == 0 and s0 // item >= max(1, cols):
        return X, False, max(1, s0 // item)
    if (s0 == item or rows == 1) and s1 % item == 0 and s1 // item >= max(1, rows):
        return X, True, max(1, s1 // item)
    X = np.ascontiguousarray(X)
    return X, False, max(1, X.shape[1])


def matmul(A, B, n_threads=1, out=None, alpha=1.0, beta=0.0, row_tile=None):
    """``A @ B`` (2-D, one float dtype), the same bits for any ``n_threads``.

    One BLAS call per output block; the blocks are fixed by the shapes (the
    longer side of the output cut into an even number of near-equal parts of
    at most :data:`BLOCK`), and OpenMP threads run them
    (:mod:`heatbath.rbm._blas`). BLAS itself is kept on one thread.
    With ``alpha`` and ``beta`` it is BLAS's ``out = alpha A @ B + beta out``
    (``out`` given, C-contiguous, of the product's dtype), one pass over ``out``.
    With ``row_tile``, rows go in tiles of that many from row 0, each a product
    of its own (see :data:`ROW_TILE`).
    """
    dt = np.result_type(A, B)
    A = np.asarray(A, dtype=dt)
    B = np.asarray(B, dtype=dt)
    M, K = A.shape
    N = B.shape[1]
    if out is None:
        if beta != 0.0:
            raise ValueError("matmul: beta != 0 needs out")
        out = np.empty((M, N), dtype=dt)
    if row_tile is not None and M > row_tile:
        for a in range(0, M, row_tile):
            matmul(A[a:a + row_tile], B, n_threads, out[a:a + row_tile], alpha, beta)
        return out
    if dt not in (np.float32, np.float64) or min(M, N, K) == 0:
        if beta == 0.0:
            np.matmul(A, B, out=out)
            if alpha != 1.0:
                out *= alpha
        else:
            out *= beta
            out += alpha * (A @ B)
        return out
    if out.dtype != dt or not out.flags.c_contiguous or out.shape != (M, N):
        raise ValueError(f"matmul: out must be C-contiguous {dt} of shape {(M, N)}")
    A, a_f, lda = _operand(A)
    B, b_f, ldb = _operand(B)
    by_rows = M >= N
    small = M * N * K <= SMALL_PRODUCT
    edges = np.array([0, M if by_rows else N] if small else
                     [c.start for c in _cuts(M if by_rows else N, BLOCK, True)]
                     + [M if by_rows else N], dtype=np.intp)
    with single_threaded_blas():
        _blas._matmul(A, a_f, lda, B, b_f, ldb, out, by_rows, edges,
                      1 if small else n_threads, alpha, beta)
    return out


def preactivation(bias, X, W, n_threads=1, transpose=False):
    """``bias + X @ W`` (or ``X @ W.T``), C-contiguous, in W's dtype (see :func:`matmul`)."""
    out = matmul(X, W.T if transpose else W, n_threads)
    out += bias
    return out
