"""One object, one thread at a time: refuse concurrent use instead of corrupting state."""

import contextlib
import threading

__all__ = ["Exclusive"]


class Exclusive:
    """A non-blocking guard: ``with guard(what):`` raises if another thread is inside.

    It is left out of pickles and copies (a lock cannot be pickled) and made
    afresh on the other side.
    """

    def __init__(self):
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def __call__(self, what):
        if not self._lock.acquire(blocking=False):
            raise RuntimeError(f"this {what} is already in use by another thread; use one "
                               f"per thread (or wait for the other call to finish)")
        try:
            yield
        finally:
            self._lock.release()

    def locked(self):
        return self._lock.locked()

    def __getstate__(self):
        return {}

    def __setstate__(self, state):
        self._lock = threading.Lock()

    def __deepcopy__(self, memo):
        return Exclusive()
