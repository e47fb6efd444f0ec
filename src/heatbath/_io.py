"""Atomic file writes: a save never leaves a broken file behind."""

import os
import tempfile

__all__ = ["atomic_write"]


def atomic_write(path, write, suffix=""):
    """Call ``write(f)`` on a temporary file in ``path``'s folder, fsync, rename.

    The rename is atomic, so ``path`` holds either the old content or the
    complete new one, even if the process dies mid-write.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".heatbath-", suffix=suffix, dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
