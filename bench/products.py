"""The RBM's 784x500 products: heatbath's blocked, thread-count-independent matmul
against NumPy's threaded matmul, interleaved in one process.

    python bench/products.py [ROUNDS]

Prints, per product and dtype, the best and median time of each side over ROUNDS x 3
calls (default 30), in microseconds. Sides: NumPy's ``np.matmul`` with its BLAS on all
threads; heatbath's ``heatbath.rbm._layers.matmul`` on 2 threads with its blocks run by
numpy's bundled OpenBLAS (the default where found) and by scipy's.
"""

import contextlib
import sys
import time

import numpy as np

from heatbath.rbm import _blas, _layers
from heatbath.rbm._layers import matmul, single_threaded_blas


def main(rounds=30):
    numpy_blas = _layers._numpy_ilp64_blas()
    rng = np.random.default_rng(0)
    sides = ["NumPy, threaded BLAS", "heatbath, numpy's BLAS", "heatbath, scipy's BLAS"]
    print(f"{'product':34s}" + "".join(f"{s:>26s}" for s in sides))
    for dt in (np.float32, np.float64):
        VV = (rng.random((200, 784)) < 0.13).astype(dt)
        HH = rng.random((200, 500)).astype(dt)
        W = rng.standard_normal((784, 500)).astype(dt)
        V, H = VV[:100], HH[:100]
        cases = [(V, W, "V @ W (100x784 @ 784x500)"), (H, W.T, "H @ W.T (100x500 @ 500x784)"),
                 (V.T, H, "V.T @ H (784x100 @ 100x500)"),
                 (VV.T, HH, "[V;V'].T @ [H;H'] (K = 200)")]
        for A, B, name in cases:
            out = np.empty((A.shape[0], B.shape[1]), dt)
            times = {s: [] for s in sides}
            for _ in range(rounds):
                for s in sides:
                    if s == sides[0]:
                        call = lambda: np.matmul(A, B, out=out)   # noqa: E731
                    else:
                        _blas._use_ilp64(*(numpy_blas if s == sides[1] else (0, 0)))
                        call = lambda: matmul(A, B, 2, out=out)   # noqa: E731
                    with single_threaded_blas() if s != sides[0] else contextlib.nullcontext():
                        for _ in range(3):
                            t = time.perf_counter()
                            call()
                            times[s].append(time.perf_counter() - t)
            row = f"{name + ', ' + np.dtype(dt).name:34s}"
            for s in sides:
                if s == sides[1] and numpy_blas == (0, 0):
                    row += f"{'n/a':>26s}"
                    continue
                t = np.array(times[s]) * 1e6
                row += f"{f'{t.min():.0f} / {np.median(t):.0f} us':>26s}"
            print(row)
    _blas._use_ilp64(*numpy_blas)
    print("best / median of", rounds * 3, "calls per side, interleaved")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
