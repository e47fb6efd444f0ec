from typing import Any

from numpy.typing import NDArray

_A = NDArray[Any]

def _table_sweeps(spins: _A, order: _A, nbr: _A, thr: _A, states: _A, burn_in: int,
                  n_sweeps: int, thin: int, bonds_out: _A, mag_out: _A, accepted: _A,
                  n_threads: int) -> None: ...
def _table_bonds_mag(spins: _A, nbr: _A, bonds: _A, mag: _A, n_threads: int) -> None: ...
def _square_sweeps(spins: _A, rows: int, cols: int, periodic: bool, nbr: _A, thr: _A,
                   states: _A, burn_in: int, n_sweeps: int, thin: int, bonds_out: _A,
                   mag_out: _A, accepted: _A, zeros: _A, n_threads: int) -> None: ...
def _graph_sweeps(spins: _A, indptr: _A, indices: _A, data: _A, h: _A, beta: _A,
                  heat_bath: bool, states: _A, burn_in: int, n_sweeps: int, thin: int,
                  energy_out: _A, mag_out: _A, accepted: _A, n_threads: int) -> None: ...
def __getattr__(name: str) -> Any: ...
