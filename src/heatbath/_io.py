"""Atomic file writes: a save never leaves a broken file behind."""

import os
import tempfile

__all__ = ["atomic_write"]


def _umask():
    """The process umask, read without changing it where Linux allows."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)   # elsewhere: set and restore (not thread-safe, but brief)
    os.umask(mask)
    return mask


def atomic_write(path, write, suffix=""):
    """Call ``write(f)`` on a temporary file in ``path``'s folder, fsync, rename.

    The rename is atomic, so ``path`` holds either the old content or the
    complete new one, even if the process dies mid-write. The file gets the
    mode that ``open`` would give it (0666 less the umask), not the 0600 of
    the temporary file.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".heatbath-", suffix=suffix, dir=folder)
    except FileNotFoundError:
        raise FileNotFoundError(f"cannot write {path}: the folder {folder} does not "
                                "exist") from None
    except PermissionError:
        raise PermissionError(f"cannot write {path}: the folder {folder} is not "
                              "writable") from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            os.fchmod(f.fileno(), 0o666 & ~_umask())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
