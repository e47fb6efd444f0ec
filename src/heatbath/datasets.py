"""Data sets, in the manner of :mod:`sklearn.datasets`.

- :func:`load_digits`: scikit-learn's bundled 8x8 digits, binarised at
  pixel >= 8 by default, with a fixed train/test split (rows whose index is a
  multiple of 5 are the test set: 360 rows; the other 1437 train).
- :func:`load_digits_binary`: the binarised rows and labels of one subset.

Both need scikit-learn (``pip install heatbath[sklearn]``); the digits ship
with it, so nothing is downloaded.
"""

import numpy as np

__all__ = ["load_digits", "load_digits_binary", "Bunch"]

SUBSETS = ("all", "train", "test")


class Bunch(dict):
    """A dict whose keys are also attributes, as scikit-learn's ``Bunch``.

    Examples
    --------
    >>> from heatbath.datasets import Bunch
    >>> Bunch(data=1).data
    1
    """

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


def _sklearn_digits():
    try:
        from sklearn.datasets import load_digits as sk_load_digits
    except ImportError:
        raise ValueError("the digits data set needs scikit-learn "
                         "(pip install heatbath[sklearn])") from None
    return sk_load_digits()


def load_digits(*, subset="all", binarize=True, threshold=8, return_X_y=False):
    """scikit-learn's 8x8 digits, binarised and split the way heatbath's examples use them.

    Parameters
    ----------
    subset : {"all", "train", "test"}, default="all"
        "test" is the rows whose index is a multiple of 5 (360 rows),
        "train" the others (1437 rows).
    binarize : bool, default=True
        Pixels >= ``threshold`` become 1.0, the others 0.0. With False the
        grey levels 0..16 are kept.
    threshold : float, default=8
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a :class:`Bunch`.

    Returns
    -------
    Bunch with ``data`` (n_samples, 64) float64, ``target`` (n_samples,) int,
    ``images`` (n_samples, 8, 8), ``index`` (the rows' positions in the full
    set) and ``DESCR``; or ``(data, target)`` with ``return_X_y``.

    Examples
    --------
    >>> from heatbath.datasets import load_digits
    >>> X, y = load_digits(subset="test", return_X_y=True)
    >>> X.shape, y.shape, sorted(set(X.ravel().tolist()))
    ((360, 64), (360,), [0.0, 1.0])
    """
    if subset not in SUBSETS:
        raise ValueError(f"subset must be one of {SUBSETS}, got {subset!r}")
    digits = _sklearn_digits()
    X = np.asarray(digits.data, dtype=np.float64)
    if binarize:
        X = (X >= threshold).astype(np.float64)
    index = np.arange(X.shape[0])
    if subset != "all":
        test = index % 5 == 0
        index = index[test] if subset == "test" else index[~test]
    X, y = np.ascontiguousarray(X[index]), np.asarray(digits.target)[index]
    if return_X_y:
        return X, y
    return Bunch(data=X, target=y, images=X.reshape(-1, 8, 8), index=index,
                 DESCR=("scikit-learn's 8x8 digits" + (f", binarised at >= {threshold}"
                                                         if binarize else "")
                        + f"; subset {subset!r} (test rows: index % 5 == 0)"))


def load_digits_binary(subset="train"):
    """Binarised digits (pixel >= 8) of one subset as ``(X, y)``.

    The same as ``load_digits(subset=subset, return_X_y=True)``.

    Examples
    --------
    >>> from heatbath.datasets import load_digits_binary
    >>> X, y = load_digits_binary()
    >>> X.shape, y.shape
    ((1437, 64), (1437,))
    """
    return load_digits(subset=subset, binarize=True, return_X_y=True)
