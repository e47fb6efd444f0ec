from typing import Any

from numpy.typing import NDArray

_A = NDArray[Any]

UNIT_KINDS: dict[str, int]
POISSON_MAX_RATE: float
POISSON_PTRS_FROM: float
LOG_FACTORIALS: _A

def _sample_layer(x: _A, out: _A, kind: int, param: int, beta: _A, states: _A,
                  n_threads: int) -> None: ...
def _layer_means(x: _A, kind: int, param: int, beta: _A, n_threads: int) -> None: ...
def _draw(p: _A, out: _A, kind: int, param: int, states: _A, n_threads: int) -> None: ...
def __getattr__(name: str) -> Any: ...
