from typing import Any

# Kernels of the fused CD/PCD epoch (signatures in _cd.pyx; they change with tuning).
def __getattr__(name: str) -> Any: ...
