"""OpenMP helpers: whether the kernels were built parallel, and thread counts."""

import numbers
import os

from heatbath._openmp cimport HEATBATH_OPENMP_ENABLED, omp_get_max_threads


def openmp_enabled():
    """openmp_enabled()

    Whether the compiled kernels were built with OpenMP.

    Returns
    -------
    bool
        True if the kernels run chains in parallel; False for a serial build
        (for example one made with ``HEATBATH_NO_OPENMP=1``). Results are the
        same either way; only the speed differs.

    Examples
    --------
    >>> import heatbath
    >>> heatbath.openmp_enabled() in (True, False)
    True
    """
    return bool(HEATBATH_OPENMP_ENABLED)


def _cpu_count():
    """Cores this process may use (affinity-aware where the OS tells)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def effective_n_threads(n_threads=None):
    """effective_n_threads(n_threads=None)

    Resolve a user's ``n_threads`` to the number of threads a kernel will use.

    The rules are scikit-learn's: ``None`` means every core OpenMP may use
    (it honours ``OMP_NUM_THREADS``), a negative count counts back from the
    number of cores (``-1`` is all of them, ``-2`` all but one), and ``0`` is
    an error. A build without OpenMP always runs one thread. The result never
    changes what a kernel computes, only how fast.

    Parameters
    ----------
    n_threads : int or None, default=None
        Requested number of threads.

    Returns
    -------
    int
        The number of threads, at least 1.

    Raises
    ------
    TypeError
        If ``n_threads`` is not an integer or None.
    ValueError
        If ``n_threads`` is 0.

    Examples
    --------
    >>> from heatbath import effective_n_threads
    >>> effective_n_threads(1)
    1
    >>> effective_n_threads(-1) >= 1
    True
    """
    if n_threads is not None and (
        isinstance(n_threads, (bool,)) or not isinstance(n_threads, numbers.Integral)
    ):
        raise TypeError(
            "n_threads must be an int or None, got %r (type %s)"
            % (n_threads, type(n_threads).__name__)
        )
    if n_threads is not None and n_threads == 0:
        raise ValueError(
            "n_threads must be a positive or negative int, or None for all cores; got 0"
        )
    if not HEATBATH_OPENMP_ENABLED:
        return 1
    if n_threads is None:
        return max(1, omp_get_max_threads())
    n_threads = int(n_threads)
    if n_threads < 0:
        return max(1, _cpu_count() + 1 + n_threads)
    return n_threads
