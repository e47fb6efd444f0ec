"""Argument checks shared by every public function.

Each check raises ``TypeError`` for a value of the wrong kind and ``ValueError``
for a value of the right kind that is out of range, and names the argument.
Validation happens here, once, before any kernel runs.
"""

import numbers

import numpy as np

__all__ = [
    "check_2d",
    "check_int",
    "check_real_array",
    "check_temperature",
]

# Refuse requests that could only end in a MemoryError or a very long hang.
MAX_ELEMENTS = 2**31


def check_int(value, name, *, minimum=None, maximum=None):
    """Return ``value`` as a Python int, checking its type and range."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be an int, got {value!r} (type {type(value).__name__})"
        )
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_real_array(x, name, *, ndim=None, min_ndim=None, allow_empty=False,
                     finite=True, dtype=np.float64):
    """Convert ``x`` to a real floating array, rejecting what cannot be one.

    Integers and booleans are converted; complex numbers, objects and strings
    are a ``TypeError``; NaN or infinity (when ``finite``), an empty array
    (unless ``allow_empty``) and a wrong number of dimensions are a
    ``ValueError``.
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} must be an array of real numbers: {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers (bool, int or float), got dtype {arr.dtype}"
        )
    arr = arr.astype(dtype, copy=False)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(
            f"{name} must be {ndim}-dimensional, got shape {arr.shape}"
        )
    if min_ndim is not None and arr.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimension(s), got shape {arr.shape}"
        )
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        bad = "NaN" if np.isnan(arr).any() else "infinite values"
        raise ValueError(f"{name} must be finite, but it contains {bad}")
    return arr


def check_temperature(temperature, name="temperature"):
    """Return the temperature as a float64 array (or scalar array).

    Every entry must be > 0. ``+inf`` is allowed and means beta = 0: the
    uniform (infinite-temperature) limit. NaN, 0 and negative values are not.
    """
    t = check_real_array(temperature, name, allow_empty=False, finite=False)
    if np.isnan(t).any():
        raise ValueError(f"{name} must be > 0, but it contains NaN")
    if (t <= 0).any():
        raise ValueError(
            f"{name} must be > 0 (use np.inf for the uniform limit), "
            f"got min {float(t.min())!r}"
        )
    return t


def check_2d(X, name="X"):
    """X as a dense 2-D array-like: scipy.sparse is densified; 1-D is refused as scikit-learn does."""
    if hasattr(X, "toarray") and hasattr(X, "nnz"):   # scipy.sparse, without importing it
        X = X.toarray()
    if np.ndim(X) == 1:
        raise ValueError(f"Expected 2D array, got 1D array instead:\narray={np.asarray(X)}.\n"
                         "Reshape your data either using array.reshape(-1, 1) if your data has "
                         "a single feature or array.reshape(1, -1) if it contains a single "
                         f"sample ({name}).")
    return X
