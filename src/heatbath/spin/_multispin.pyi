from typing import Any

# Compiled kernels (Cython); their signatures are documented in the .pyx file.
def __getattr__(name: str) -> Any: ...
