from typing import Any

from numpy.typing import NDArray

_A = NDArray[Any]

def _matmul(A: _A, a_f: bool, lda: int, B: _A, b_f: bool, ldb: int, C: _A, by_rows: bool,
            cuts: _A, n_threads: int, alpha: float = ..., beta: float = ...) -> None: ...
def _use_ilp64(sgemm_address: int, dgemm_address: int) -> bool: ...
def __getattr__(name: str) -> Any: ...
