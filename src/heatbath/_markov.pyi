from typing import Any

from numpy.typing import NDArray

def _simulate(cdf: NDArray[Any], x0: NDArray[Any], states: NDArray[Any], path: NDArray[Any],
              counts: NDArray[Any], burn_in: int, n_steps: int, thin: int,
              n_threads: int) -> None: ...
