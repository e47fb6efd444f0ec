"""Files: models, sampler states and training checkpoints as ``.npz``, never pickle.

Every file is a flat ``.npz`` of arrays (nested dicts are stored as keys
joined by ``/``), loaded with ``allow_pickle=False``, and carries a
``format_version``. Writes are atomic: a temporary file in the same folder
is written, fsynced and renamed over the target, so an interrupted save
leaves the previous file intact. Reading a file from a newer format, a
truncated file or a file of the wrong kind raises ``ValueError``.

- :func:`save_model` / :func:`load_model`: any model that gives a plain
  state (``model.to_state()``, a dict of arrays and text) and is rebuilt
  from it (``cls.from_state(state)``); its class registers its file
  ``kind`` with :func:`register_model`. :meth:`RBM.save` writes these files.
  This module imports no engine.
- :func:`save_state` / :func:`load_state`: any ``get_state()`` dict of a
  sampler (chains, random streams, temperatures).
- :func:`save_checkpoint` / :func:`load_checkpoint`: a model plus the state
  of its training run; ``RBM.fit(..., checkpoint=path)`` writes them and
  ``RBM.fit(..., resume=path)`` continues bit for bit.
"""

import os

import numpy as np

from heatbath._io import atomic_write

__all__ = ["FORMAT_VERSION", "save_model", "load_model", "save_state", "load_state",
           "save_checkpoint", "load_checkpoint", "register_model", "save_arrays", "load_arrays"]

#: Version of the state and checkpoint files this heatbath writes.
FORMAT_VERSION = 1
_SEP = "/"


def _flatten(obj, prefix, out):
    if isinstance(obj, dict):
        for key, value in obj.items():
            if _SEP in str(key):
                raise ValueError(f"state keys cannot contain {_SEP!r}: {key!r}")
            _flatten(value, f"{prefix}{key}{_SEP}", out)
        return
    key = prefix[:-1]
    if obj is None:
        return
    if isinstance(obj, str):
        out[key] = np.str_(obj)
        return
    arr = np.asarray(obj)
    if arr.dtype.kind not in "biufU":
        raise TypeError(f"state entry {key!r} must be numbers or text, got {arr.dtype}")
    out[key] = arr


def _unflatten(flat):
    root = {}
    for key, value in flat.items():
        parts = key.split(_SEP)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        if value.ndim == 0:
            value = value.item()
        node[parts[-1]] = value
    return root


def _write(path, kind, payload):
    flat = {}
    _flatten(payload, "", flat)
    flat["format_version"] = np.int64(FORMAT_VERSION)
    flat["kind"] = np.str_(kind)
    atomic_write(path, lambda f: np.savez(f, **flat), suffix=".npz")


def _read(path, kind):
    flat, found = _read_any(path)
    if found != kind:
        raise ValueError(f"{path!r} holds a {found!r}, not a {kind!r}")
    return _unflatten(flat)


def _read_any(path):
    try:
        with np.load(os.fspath(path), allow_pickle=False) as f:
            flat = {k: f[k] for k in f.files}
    except Exception as exc:  # missing, truncated, not a zip: BadZipFile, EOFError, ...
        raise ValueError(f"cannot read {path!r} (truncated or not an .npz file): "
                         f"{type(exc).__name__}: {exc}") from None
    if "format_version" not in flat or "kind" not in flat:
        raise ValueError(f"{path!r} is not a heatbath file (missing 'format_version' or 'kind')")
    version = int(flat.pop("format_version"))
    found = str(flat.pop("kind"))
    if version > FORMAT_VERSION:
        raise ValueError(f"{path!r} has format_version {version}; this heatbath reads up to "
                         f"{FORMAT_VERSION}: upgrade heatbath")
    return flat, found


#: file kind -> model class (filled by the classes themselves: this module imports no engine)
_MODELS = {}


def register_model(kind, cls):
    """Let :func:`load_model` rebuild files of ``kind`` with ``cls.from_state``."""
    _MODELS[str(kind)] = cls
    return cls


def _model_class(kind, path):
    try:
        return _MODELS[kind]
    except KeyError:
        raise ValueError(f"{path!r} holds a {kind!r}, which is not a heatbath model kind "
                         f"(known: {sorted(_MODELS)})") from None


def save_model(path, model):
    """Save a model's plain state (atomic, no pickle); ``model.save(path)`` does the same.

    The model needs ``MODEL_KIND`` and ``to_state()``; :func:`load_model`
    rebuilds it with the registered class's ``from_state``.
    """
    _write(path, model.MODEL_KIND, model.to_state())


def save_arrays(path, kind, payload):
    """Save a dict of arrays, numbers and text (nested dicts allowed) as ``kind`` (atomic)."""
    _write(path, kind, payload)


def load_arrays(path, kind):
    """Read a dict written by :func:`save_arrays` with the same ``kind``."""
    return _read(path, kind)


def load_model(path):
    """Load a model saved by :func:`save_model` (or ``model.save``).

    Examples
    --------
    >>> import os, tempfile
    >>> from heatbath import RBM, io
    >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
    >>> io.save_model(path, RBM(5, 3, seed=0))
    >>> io.load_model(path).weights.shape
    (5, 3)
    """
    flat, kind = _read_any(path)
    return _model_class(kind, path).from_state(_unflatten(flat), path)


def save_state(path, state):
    """Save a sampler's ``get_state()`` dict (arrays, numbers, text; nested dicts).

    Examples
    --------
    >>> import os, tempfile
    >>> from heatbath import Ising, MetropolisSampler, io
    >>> sampler = MetropolisSampler(Ising((8, 8)), temperature=2.5, n_chains=2, seed=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "chains.npz")
    >>> io.save_state(path, sampler.get_state())
    >>> again = MetropolisSampler(Ising((8, 8)), temperature=2.5, n_chains=2, seed=99)
    >>> again.set_state(io.load_state(path))
    >>> bool((again.spins == sampler.spins).all())
    True
    """
    if not isinstance(state, dict):
        raise TypeError(f"state must be a dict (from get_state()), got {type(state).__name__}")
    _write(path, "heatbath.state", {"state": state})


def load_state(path):
    """Read a dict written by :func:`save_state`; pass it to ``set_state``."""
    return _read(path, "heatbath.state")["state"]


def save_checkpoint(path, model, training_state):
    """Save a model and the state of its training run (what ``fit`` writes)."""
    payload = {"model": {"kind": model.MODEL_KIND, **model.to_state()},
               "training": training_state}
    _write(path, "heatbath.checkpoint", payload)


def load_checkpoint(path):
    """Read a checkpoint: ``(model, training_state)``.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from heatbath import RBM, io
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
    >>> X = (np.random.default_rng(0).random((40, 6)) < 0.3).astype(float)
    >>> _ = RBM(6, 3, seed=0).fit(X, epochs=2, seed=1, checkpoint=path)
    >>> model, state = io.load_checkpoint(path)
    >>> state["epoch"], model.weights.shape
    (2, (6, 3))
    """
    data = _read(path, "heatbath.checkpoint")
    try:
        m = dict(data["model"])
        # Checkpoints of format 1 before the model kind was stored held RBMs.
        kind = str(m.pop("kind", "heatbath.RBM"))
        return _model_class(kind, path).from_state(m, path), data["training"]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path!r} is not a complete checkpoint (missing {exc})") from None
