"""Plain-text formatting shared by the command line and the demo."""

import math

import numpy as np

__all__ = ["fmt", "table"]


def fmt(value, spec, missing="n/a"):
    """``format(value, spec)``, or ``missing`` for None and NaN."""
    if value is None or (isinstance(value, (float, np.floating)) and math.isnan(value)):
        return missing
    return format(value, spec)


def table(rows, header):
    """Right-aligned plain-text table."""
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    line = "  ".join(str(h).rjust(w) for h, w in zip(header, widths))
    out = [line, "-" * len(line)]
    out += ["  ".join(str(c).rjust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)
