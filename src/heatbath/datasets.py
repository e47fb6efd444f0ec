"""Data sets, in the manner of :mod:`sklearn.datasets`.

- :func:`load_digits`: scikit-learn's bundled 8x8 digits, binarised at
  pixel >= 8 by default, with a fixed train/test split (rows whose index is a
  multiple of 5 are the test set: 360 rows; the other 1437 train).
- :func:`load_digits_binary`: the binarised rows and labels of one subset.

Both need scikit-learn (``pip install heatbath[sklearn]``); the digits ship
with it, so nothing is downloaded.

- :func:`load_mnist` and :func:`load_fashion_mnist`: the published train and
  test sets as ``(X, y)``, from the standard IDX files. They are downloaded
  once into a cache (:func:`get_data_home`) and checked against their
  published SHA-256, or read from a local folder (``path=``) on a machine
  without network. :func:`read_idx` reads one IDX file.
"""

import gzip
import hashlib
import os
import shutil
import urllib.request

import numpy as np

__all__ = ["load_digits", "load_digits_binary", "load_mnist", "load_fashion_mnist", "read_idx",
           "get_data_home", "Bunch"]

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
        grey levels 0..16 are kept. They are counts: each of the 64 pixels
        is the number of set pixels in a 4x4 block of the original 32x32
        bitmap (UCI "Optical Recognition of Handwritten Digits"), the count
        data that :class:`heatbath.sklearn.PoissonRBM` models in the README.
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

# --- MNIST and Fashion-MNIST: IDX files, checked download, cache --------------------------

# The published SHA-256 of each gzipped IDX file (the same four names for both sets).
_IDX_SOURCES = {
    "mnist": {
        "url": "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "sha256": {
            "train-images-idx3-ubyte.gz":
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz":
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz":
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz":
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
    },
    "fashion-mnist": {
        "url": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "sha256": {
            "train-images-idx3-ubyte.gz":
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "train-labels-idx1-ubyte.gz":
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "t10k-images-idx3-ubyte.gz":
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "t10k-labels-idx1-ubyte.gz":
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        },
    },
}
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """Read an IDX file (LeCun's format for MNIST), gzipped or not, as an ndarray.

    The header (magic number, type code, dimensions) is checked against the
    file's length: a truncated or padded file is a ``ValueError`` that names it.

    Examples
    --------
    >>> import gzip, os, tempfile
    >>> import numpy as np
    >>> from heatbath.datasets import read_idx
    >>> path = os.path.join(tempfile.mkdtemp(), "x-idx1-ubyte.gz")
    >>> with gzip.open(path, "wb") as f:
    ...     _ = f.write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
    >>> read_idx(path)
    array([7, 8, 9], dtype=uint8)
    """
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:
        raise ValueError(f"{path} is not a readable IDX file: {exc}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path} is truncated: its header needs {header} bytes, "
                         f"the file has {len(raw)}")
    shape = tuple(int.from_bytes(raw[4 + 4 * k:8 + 4 * k], "big") for k in range(ndim))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        word = "truncated" if len(raw) < expected else "longer than its header says"
        raise ValueError(f"{path} is {word}: shape {shape} needs {expected} bytes, "
                         f"the file has {len(raw)}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(
        dtype.newbyteorder("="))


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def get_data_home(data_home=None):
    """The cache folder for downloaded data sets (made if missing).

    ``data_home``, else the environment variable ``HEATBATH_DATA``, else
    ``~/heatbath_data``.

    Examples
    --------
    >>> import os, tempfile
    >>> from heatbath.datasets import get_data_home
    >>> home = get_data_home(os.path.join(tempfile.mkdtemp(), "cache"))
    >>> os.path.isdir(home)
    True
    """
    home = data_home or os.environ.get("HEATBATH_DATA") or os.path.join("~", "heatbath_data")
    home = os.path.expanduser(os.fspath(home))
    os.makedirs(home, exist_ok=True)
    return home


def _fetch(name, filename, data_home, download, timeout):
    """Path of a checked copy of one file: from the cache, or downloaded into it."""
    source = _IDX_SOURCES[name]
    expected = source["sha256"][filename]
    folder = os.path.join(get_data_home(data_home), name)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, filename)
    if os.path.exists(path) and _sha256(path) == expected:
        return path
    if not download:
        raise ValueError(f"{path} is missing (or its SHA-256 is wrong) and download=False; "
                         f"pass path= to read local IDX files")
    url = source["url"] + filename
    tmp = path + f".part{os.getpid()}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
            shutil.copyfileobj(response, out)
        got = _sha256(tmp)
        if got != expected:
            raise ValueError(f"{url} has SHA-256 {got}, expected {expected}: the download "
                             f"is corrupt or not the published file; nothing was cached")
        os.replace(tmp, path)
    except OSError as exc:
        raise ValueError(f"could not download {url}: {exc}; pass path= to read local "
                         f"IDX files") from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def _load_idx_set(name, subset, binarize, path, data_home, download, timeout):
    if subset not in ("train", "test"):
        raise ValueError(f"subset must be 'train' or 'test', got {subset!r}")
    if binarize is not None:
        if isinstance(binarize, (bool, str)) or not isinstance(binarize, (int, float)) \
                or not 0 <= binarize <= 1:
            raise ValueError(f"binarize must be None or a threshold in [0, 1], got {binarize!r}")
    prefix = "train" if subset == "train" else "t10k"
    files = (f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz")
    if path is not None:
        found = []
        for filename in files:
            for candidate in (filename, filename[:-3]):
                full = os.path.join(os.fspath(path), candidate)
                if os.path.exists(full):
                    found.append(full)
                    break
            else:
                raise ValueError(f"path {os.fspath(path)!r} has no {filename} "
                                 f"(gzipped or not)")
    else:
        found = [_fetch(name, filename, data_home, download, timeout) for filename in files]
    images, labels = read_idx(found[0]), read_idx(found[1])
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(f"{found[0]} and {found[1]} do not match: images {images.shape}, "
                         f"labels {labels.shape}")
    X = images.reshape(images.shape[0], -1).astype(np.float64) / 255.0
    if binarize is not None:
        X = (X >= binarize).astype(np.float64)
    return X, labels.astype(np.intp)


def load_mnist(*, subset="train", binarize=None, path=None, data_home=None, download=True,
               timeout=60.0):
    """MNIST handwritten digits (60,000 train, 10,000 test, 28x28) as ``(X, y)``.

    The four IDX files are downloaded once into ``get_data_home(data_home)/mnist``
    and checked against their published SHA-256; a file that does not match
    is refused and not kept. On a machine without network, pass ``path``: a
    folder holding the IDX files (gzipped or not), read as they are.

    Parameters
    ----------
    subset : {"train", "test"}, default="train"
        The published split.
    binarize : float in [0, 1] or None, default=None
        None gives grey levels in [0, 1] (pixel / 255); a threshold ``t``
        gives ``X >= t`` as 0.0 / 1.0 (0.5 is the usual choice for RBMs).
    path : path-like or None
        Read local IDX files instead of the cache.
    data_home : path-like or None
        The cache folder (see :func:`get_data_home`).
    download : bool, default=True
        Download missing files (else a ``ValueError`` says what is missing).
    timeout : float, default=60
        Seconds to wait for the server.

    Returns
    -------
    X : ndarray of shape (n_samples, 784), float64
    y : ndarray of shape (n_samples,), int

    Examples
    --------
    >>> from heatbath.datasets import load_mnist
    >>> X, y = load_mnist(subset="test", binarize=0.5)  # doctest: +SKIP
    >>> X.shape, y.shape                                # doctest: +SKIP
    ((10000, 784), (10000,))
    """
    return _load_idx_set("mnist", subset, binarize, path, data_home, download, timeout)


def load_fashion_mnist(*, subset="train", binarize=None, path=None, data_home=None,
                       download=True, timeout=60.0):
    """Fashion-MNIST (Zalando's article images; MNIST's sizes and format) as ``(X, y)``.

    The same parameters and checks as :func:`load_mnist`; the labels are
    0 T-shirt/top, 1 trouser, 2 pullover, 3 dress, 4 coat, 5 sandal,
    6 shirt, 7 sneaker, 8 bag, 9 ankle boot.

    Examples
    --------
    >>> from heatbath.datasets import load_fashion_mnist
    >>> X, y = load_fashion_mnist(subset="test")  # doctest: +SKIP
    >>> X.shape, float(X.max()) <= 1.0           # doctest: +SKIP
    ((10000, 784), True)
    """
    return _load_idx_set("fashion-mnist", subset, binarize, path, data_home, download, timeout)
