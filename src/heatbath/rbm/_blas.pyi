from typing import Any

from numpy.typing import NDArray

_A = NDArray[Any]

def _matmul(A: _A, a_f: bool, lda: int, B: _A, b_f: bool, ldb: int, C: _A, by_rows: bool,
            cuts: _A, n_threads: int) -> None: ...
def __getattr__(name: str) -> Any: ...
