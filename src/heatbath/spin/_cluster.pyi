from typing import Any

from numpy.typing import NDArray

_A = NDArray[Any]

def _wolff_sweeps(spins: _A, nbr: _A, thr: _A, clusters_per_sweep: int, states: _A,
                  burn_in: int, n_sweeps: int, thin: int, bonds_out: _A, mag_out: _A,
                  n_clusters: _A, n_flipped: _A, n_threads: int) -> None: ...
def __getattr__(name: str) -> Any: ...
