from typing import Any

from numpy.typing import NDArray

_A = NDArray[Any]

def _sample(spins: _A, X: _A, Y: _A, am: _A, ap: _A, eb: _A, work: _A, states: _A, move: int,
            pairs: _A, ham: int, bonds: _A, c_diag: float, c_off: float, burn_in: int,
            n_sweeps: int, thin: int, s_out: _A, eloc_out: _A, tanh_out: _A, accepted: _A,
            attempted: _A, n_threads: int) -> None: ...
def _measure(spins: _A, X: _A, Y: _A, am: _A, ap: _A, eb: _A, work: _A, ham: int, bonds: _A,
             c_diag: float, c_off: float, eloc_out: _A, tanh_out: _A, n_threads: int) -> None: ...
def __getattr__(name: str) -> Any: ...
