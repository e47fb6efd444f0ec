"""Helpers shared by the ``heatbath`` subcommands.

- :class:`CommandError`: a user error, printed as one line (exit 2).
- :func:`check_writable`: an output path is checked before any work starts.
- :func:`dumps`: strict JSON (RFC 8259): NaN and infinities become null.
- :func:`add_deprecated`: an old flag spelling that still works for one
  release, with a one-line notice on stderr.
- :class:`HelpFormatter`: every option's help shows its default.
- :func:`add_dask_options` / :func:`dask_client`: ``--dask-workers N`` and
  ``--scheduler ADDRESS`` (blocks on Dask, :mod:`heatbath.distributed`).
"""

import argparse
import contextlib
import json
import math
import os
import sys

import numpy as np

from heatbath._format import fmt, table  # noqa: F401  (re-exported for the commands)

__all__ = ["CommandError", "HelpFormatter", "add_deprecated", "check_writable", "dumps",
           "is_tty", "positive_int", "nonnegative_int", "finite_float", "temperature",
           "add_dask_options", "dask_client"]


class CommandError(Exception):
    """A user error: printed as ``heatbath CMD: error: MESSAGE``, exit status 2."""


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show ``(default: X)`` after every option that has a default."""

    def _get_help_string(self, action):
        help = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or not action.option_strings:
            return help
        return super()._get_help_string(action)


def add_parser(subparsers, name, **kwargs):
    """``subparsers.add_parser`` with the shared help formatter."""
    return subparsers.add_parser(name, formatter_class=HelpFormatter, **kwargs)


class _Deprecated(argparse.Action):
    def __init__(self, option_strings, dest, new=None, **kwargs):
        self.new = new
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"{parser.prog}: warning: {option_string} is deprecated and will be removed in "
              f"the next release; use {self.new}", file=sys.stderr)
        setattr(namespace, self.dest, values)


def add_deprecated(parser, old, new):
    """Accept the old spelling ``old`` of the flag ``new`` (hidden from --help)."""
    action = next(a for a in parser._actions if new in a.option_strings)
    parser.add_argument(old, dest=action.dest, type=action.type, new=new,
                        action=_Deprecated, default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def _number(kind, name, check, what):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not check(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    parse.__name__ = name
    return parse


positive_int = _number(int, "positive integer", lambda v: v >= 1, "an integer >= 1")
nonnegative_int = _number(int, "integer", lambda v: v >= 0, "an integer >= 0")
finite_float = _number(float, "number", math.isfinite, "a finite number")
temperature = _number(float, "temperature", lambda v: v > 0,
                      "a temperature > 0 (a number, or inf for the uniform distribution)")


positive_float = _number(float, "number", lambda v: math.isfinite(v) and v > 0,
                         "a number > 0")


def add_dask_options(parser, what="chains"):
    """``--dask-workers N``, ``--scheduler ADDRESS``, ``--scheduler-timeout`` and ``--block-size``."""
    g = parser.add_argument_group("distributed runs (Dask; pip install 'heatbath[dask]')")
    g.add_argument("--dask-workers", type=positive_int, default=None, metavar="N",
                   help=f"run the {what} in blocks on a local Dask cluster of N processes "
                        "(the same numbers as without)")
    g.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help=f"run the {what} in blocks on the Dask cluster at ADDRESS "
                        "(tcp://host:8786)")
    g.add_argument("--scheduler-timeout", type=positive_float, default=10.0, metavar="SECONDS",
                   help="give up on --scheduler after this long")
    g.add_argument("--block-size", type=positive_int, default=None,
                   help=f"{what} per block (default: one block per worker)")


@contextlib.contextmanager
def dask_client(args):
    """None without --dask-workers / --scheduler; else a checked Dask client (one-line errors)."""
    workers, address = getattr(args, "dask_workers", None), getattr(args, "scheduler", None)
    if workers is not None and address is not None:
        raise CommandError("--dask-workers starts a local cluster and --scheduler joins one: "
                           "give one of them")
    if workers is None and address is None:
        if getattr(args, "block_size", None) is not None:
            raise CommandError("--block-size needs --dask-workers or --scheduler")
        yield None
        return
    from heatbath.distributed import connect

    with contextlib.ExitStack() as stack:
        try:
            client = stack.enter_context(connect(address, workers,
                                                 timeout=args.scheduler_timeout))
        except (ImportError, OSError, RuntimeError) as exc:
            raise CommandError(str(exc)) from None
        yield client


def is_tty(args):
    """Progress bars only on a terminal and never with --json."""
    return sys.stderr.isatty() and not getattr(args, "json", False)


def check_writable(path, flag):
    """Raise :class:`CommandError` unless ``path`` can be written (before any work).

    The folder must exist and be writable; an existing ``path`` must be a
    writable file. The message names ``path`` as the user gave it.
    """
    if path is None:
        return
    text = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(text))
    if os.path.isdir(text):
        raise CommandError(f"{flag} {text}: is a folder, expected a file path")
    if not os.path.isdir(folder):
        raise CommandError(f"{flag} {text}: the folder {os.path.dirname(text) or '.'} "
                           "does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CommandError(f"{flag} {text}: the folder is not writable")
    if os.path.exists(text) and not os.access(text, os.W_OK):
        raise CommandError(f"{flag} {text}: the file is not writable")


def check_folder_writable(path, flag):
    """Like :func:`check_writable`, for a folder that is created if missing."""
    text = os.fspath(path)
    probe = os.path.abspath(text)
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise CommandError(f"{flag} {text}: {probe} is a file, expected a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise CommandError(f"{flag} {text}: {probe} is not writable")


def _plain(obj):
    """JSON-ready copy: numpy scalars and arrays to Python, NaN and inf to None."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else None
    return obj


def dumps(obj):
    """Strict JSON (RFC 8259): non-finite numbers are written as null."""
    return json.dumps(_plain(obj), allow_nan=False)


_NPY, _NPZ = b"\x93NUMPY", b"PK\x03\x04"


def _file_kind(path, flag):
    """'npy', 'npz' or raise a one-line error saying what the file is not."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except FileNotFoundError:
        raise CommandError(f"{flag} {path}: no such file") from None
    except IsADirectoryError:
        raise CommandError(f"{flag} {path}: is a folder, expected a file") from None
    except OSError as exc:
        raise CommandError(f"{flag} {path}: cannot read it ({exc.strerror})") from None
    if head.startswith(_NPY):
        return "npy"
    if head.startswith(_NPZ):
        return "npz"
    return None


DATASETS = ("digits", "mnist", "fashion-mnist")


def _dataset(spec):
    """('digits' | 'mnist' | 'fashion-mnist', 'train' | 'test') for a data set name, else None."""
    for name in DATASETS:
        for suffix, subset in (("", "train"), ("-train", "train"), ("-test", "test")):
            if spec == name + suffix:
                return name, subset
    return None


def load_dataset(spec, flag="--data"):
    """``(X, y)`` of a built-in data set: digits (binarised at >= 8), MNIST or
    Fashion-MNIST (binarised at 0.5; downloaded once and checked)."""
    from heatbath import datasets

    name, subset = _dataset(spec)
    try:
        if name == "digits":
            return datasets.load_digits_binary(subset)
        loader = datasets.load_mnist if name == "mnist" else datasets.load_fashion_mnist
        return loader(subset=subset, binarize=0.5)
    except ValueError as exc:
        raise CommandError(f"{flag} {spec}: {exc}") from None


def load_data(spec, flag="--data"):
    """Rows to train or evaluate on: a data set name (digits, mnist, fashion-mnist, each with
    -test for the test set) or a .npy/.npz file of a 2-D array."""
    if _dataset(spec) is not None:
        return load_dataset(spec, flag)[0]
    kind = _file_kind(spec, flag)
    if kind is None:
        raise CommandError(f"{flag} {spec}: not a NumPy .npy or .npz file (write the rows "
                           "with numpy.save, or numpy.savez with the array named X)")
    try:
        loaded = np.load(spec, allow_pickle=False)
        if kind == "npz":
            with loaded as f:
                names = f.files
                key = next((k for k in ("X", "data", "train") if k in names),
                           names[0] if len(names) == 1 else None)
                if key is None:
                    raise CommandError(f"{flag} {spec}: holds arrays {names}; name the rows X")
                X = f[key]
        else:
            X = loaded
    except (OSError, ValueError) as exc:
        raise CommandError(f"{flag} {spec}: cannot read it: {exc}") from None
    if X.ndim != 2:
        raise CommandError(f"{flag} {spec}: holds an array of shape {X.shape}; expected a 2-D "
                           "array of rows (n_samples, n_features); one sample of n values "
                           "is X.reshape(1, -1)")
    if X.dtype.kind not in "biuf":
        raise CommandError(f"{flag} {spec}: holds {X.dtype} values; expected numbers")
    return X


def load_model(path, flag="--model"):
    """An RBM written by ``heatbath train`` or ``RBM.save``."""
    from heatbath import RBM

    kind = _file_kind(path, flag)
    if kind == "npy":
        raise CommandError(f"{flag} {path}: a .npy array, not a model file; model files are "
                           "the .npz files that heatbath train --out or RBM.save write")
    if kind is None:
        raise CommandError(f"{flag} {path}: not a heatbath model file (the .npz files that "
                           "heatbath train --out or RBM.save write)")
    return RBM.load(path)


def fit_history(returned, model):
    """The training history: ``fit`` returns the model (history on an attribute) or the dict."""
    if isinstance(returned, dict):
        return returned
    return getattr(model, "history_", None) or getattr(model, "history", {})
