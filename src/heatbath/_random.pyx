"""Per-chain random streams: seeding, state checks, and the stream kernels.

One stream per chain, never per thread: chain ``i`` always draws from row ``i``
of the state array, whichever thread runs it, so a seed gives the same numbers
for any ``n_threads`` and in a build without OpenMP. Streams come from
``SeedSequence(seed).spawn(n_chains)``; each child seeds one SFC64 exactly as
``numpy.random.SFC64(child)`` does, so ``heatbath.reference`` can reproduce
every draw with numpy itself.
"""

import numpy as np

cimport numpy as cnp
from cython cimport floating
from cython.parallel cimport prange
from libc.stdint cimport uint32_t, uint64_t

from heatbath._random cimport (
    rng_t, rng_load, rng_store, rng_next, rng_double, rng_float, rng_bounded,
    rng_normal, rng_normals, rng_exponential,
)
from heatbath._ziggurat cimport (
    hb_zig_n_r, hb_zig_n_k, hb_zig_n_w, hb_zig_n_f,
    hb_zig_e_r, hb_zig_e_k, hb_zig_e_w, hb_zig_e_f,
)
from heatbath._validation import MAX_ELEMENTS, check_int
from heatbath._openmp import effective_n_threads

cnp.import_array()

# Rounds of SFC64 discarded after seeding, as numpy.random.SFC64 does.
cdef enum:
    _WARMUP = 12

#: Number of uint64 words in one chain's stream state.
STATE_WORDS = 4


def as_seed_sequence(seed, name="seed"):
    """Return a ``numpy.random.SeedSequence`` for any accepted ``seed``.

    ``None`` draws fresh OS entropy; an int seeds deterministically; a
    ``SeedSequence`` is used as is (spawning from it advances it, as in numpy);
    a ``Generator`` is consumed: 256 bits are drawn from it to make the seed, so
    two calls with the same generator give different, reproducible streams.
    """
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(seed) if seed is None else seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(seed.integers(0, 2**32, size=8, dtype=np.uint32))
    if isinstance(seed, (bool, np.bool_)):
        raise TypeError(f"{name} must be None, an int, a SeedSequence or a Generator, got a bool")
    try:
        import numbers
        if isinstance(seed, numbers.Integral):
            if seed < 0:
                raise ValueError(f"{name} must be a non-negative int, got {seed}")
            return np.random.SeedSequence(int(seed))
    except TypeError:  # pragma: no cover - exotic int-likes
        pass
    raise TypeError(
        f"{name} must be None, an int, a numpy.random.SeedSequence or a "
        f"numpy.random.Generator, got {type(seed).__name__}"
    )


def _seed_rows(const uint64_t[:, ::1] words,  # IN  (n, 3) from SeedSequence
               uint64_t[:, ::1] out):         # OUT (n, 4) stream states
    """Seed SFC64 states as numpy's sfc64_set_seed does: counter 1, 12 rounds."""
    cdef Py_ssize_t i, k
    cdef rng_t r
    with nogil:
        for i in range(words.shape[0]):
            r.a = words[i, 0]
            r.b = words[i, 1]
            r.c = words[i, 2]
            r.w = 1
            for k in range(_WARMUP):
                rng_next(&r)
            rng_store(&r, &out[i, 0])


def spawn_states(seed, n_chains):
    """Make the stream states of ``n_chains`` independent chains.

    Parameters
    ----------
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Root of the streams (see :func:`as_seed_sequence`).
    n_chains : int
        Number of chains, >= 1.

    Returns
    -------
    ndarray of uint64, shape (n_chains, 4)
        Row ``i`` is the SFC64 state of the stream of chain ``i``. Save it to
        resume; it is all the random state there is.

    Examples
    --------
    >>> from heatbath._random import spawn_states
    >>> spawn_states(42, 3).shape
    (3, 4)
    """
    n_chains = check_int(n_chains, "n_chains", minimum=1, maximum=MAX_ELEMENTS // 4)
    ss = as_seed_sequence(seed)
    children = ss.spawn(n_chains)
    words = np.empty((n_chains, 3), dtype=np.uint64)
    for i, child in enumerate(children):
        words[i] = child.generate_state(3, np.uint64)
    out = np.empty((n_chains, STATE_WORDS), dtype=np.uint64)
    _seed_rows(words, out)
    return out


def check_states(states, n_chains=None, name="stream_state"):
    """Validate a stream-state array and return a C-contiguous uint64 copy."""
    arr = np.asarray(states)
    if arr.dtype != np.uint64:
        raise TypeError(f"{name} must have dtype uint64, got {arr.dtype}")
    if arr.ndim != 2 or arr.shape[1] != STATE_WORDS:
        raise ValueError(f"{name} must have shape (n_chains, {STATE_WORDS}), got {arr.shape}")
    if n_chains is not None and arr.shape[0] != n_chains:
        raise ValueError(f"{name} must have {n_chains} rows (one per chain), got {arr.shape[0]}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must have at least one row")
    return np.array(arr, dtype=np.uint64, order="C", copy=True)


def _writable_states(states):
    arr = states
    if not (isinstance(arr, np.ndarray) and arr.dtype == np.uint64 and arr.ndim == 2
            and arr.shape[1] == STATE_WORDS and arr.flags.c_contiguous
            and arr.flags.writeable and arr.shape[0] > 0):
        raise ValueError(
            "states must be a writable C-contiguous uint64 array of shape "
            f"(n_chains, {STATE_WORDS}) (as made by spawn_states); it is advanced in place"
        )
    return arr


# ---------------------------------------------------------------------------
# Kernels. Each advances the chains' states in place.

# The body of each prange loop is a nogil function with its own locals: a
# struct whose address is taken inside prange would not be made thread-private.

cdef void _raw_chain(uint64_t* state, uint64_t* out, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t k
    cdef rng_t r
    rng_load(&r, state)
    for k in range(n):
        out[k] = rng_next(&r)
    rng_store(&r, state)


def _fill_raw(uint64_t[:, ::1] states,  # IN/OUT stream states
              uint64_t[:, ::1] out,     # OUT (n_chains, n) raw draws
              int n_threads):
    cdef Py_ssize_t c
    for c in prange(out.shape[0], schedule="static", num_threads=n_threads, nogil=True):
        _raw_chain(&states[c, 0], &out[c, 0], out.shape[1])


cdef void _uniform_chain(uint64_t* state, floating* out, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t k
    cdef rng_t r
    rng_load(&r, state)
    if floating is double:
        for k in range(n):
            out[k] = rng_double(&r)
    else:
        for k in range(n):
            out[k] = rng_float(&r)
    rng_store(&r, state)


def _fill_uniform(uint64_t[:, ::1] states,  # IN/OUT stream states
                  floating[:, ::1] out,     # OUT (n_chains, n) uniforms in [0, 1)
                  int n_threads):
    cdef Py_ssize_t c
    for c in prange(out.shape[0], schedule="static", num_threads=n_threads, nogil=True):
        _uniform_chain(&states[c, 0], &out[c, 0], out.shape[1])


cdef void _bounded_chain(uint64_t* state, uint32_t high, uint32_t* out,
                         Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t k
    cdef rng_t r
    rng_load(&r, state)
    for k in range(n):
        out[k] = rng_bounded(&r, high)
    rng_store(&r, state)


def _fill_bounded(uint64_t[:, ::1] states,  # IN/OUT stream states
                  uint32_t high,
                  uint32_t[:, ::1] out,     # OUT (n_chains, n) integers in [0, high)
                  int n_threads):
    cdef Py_ssize_t c
    for c in prange(out.shape[0], schedule="static", num_threads=n_threads, nogil=True):
        _bounded_chain(&states[c, 0], high, &out[c, 0], out.shape[1])


cdef void _gauss_chain(uint64_t* state, double* out, Py_ssize_t n,
                       bint exponential) noexcept nogil:
    cdef Py_ssize_t k
    cdef rng_t r
    rng_load(&r, state)
    if exponential:
        for k in range(n):
            out[k] = rng_exponential(&r)
    else:
        rng_normals(&r, out, n)
    rng_store(&r, state)


def _fill_normal(uint64_t[:, ::1] states,  # IN/OUT stream states
                 double[:, ::1] out,       # OUT (n_chains, n) draws
                 bint exponential,
                 int n_threads):
    cdef Py_ssize_t c
    for c in prange(out.shape[0], schedule="static", num_threads=n_threads, nogil=True):
        _gauss_chain(&states[c, 0], &out[c, 0], out.shape[1], exponential)


# Benchmark kernels: draw and fold into one word per chain, so that the timing
# is the generator's and not the memory system's.

cdef uint64_t _xor_chain(uint64_t* state, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t k
    cdef uint64_t acc = 0
    cdef rng_t r
    rng_load(&r, state)
    for k in range(n):
        acc ^= rng_next(&r)
    rng_store(&r, state)
    return acc


cdef double _sum_chain(uint64_t* state, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t k
    cdef double acc = 0.0
    cdef rng_t r
    rng_load(&r, state)
    for k in range(n):
        acc += rng_double(&r)
    rng_store(&r, state)
    return acc


def _xor_raw(uint64_t[:, ::1] states,  # IN/OUT stream states
             Py_ssize_t n,
             uint64_t[::1] out,        # OUT (n_chains,) xor of n draws
             int n_threads):
    cdef Py_ssize_t c
    for c in prange(out.shape[0], schedule="static", num_threads=n_threads, nogil=True):
        out[c] = _xor_chain(&states[c, 0], n)


def _sum_uniform(uint64_t[:, ::1] states,  # IN/OUT stream states
                 Py_ssize_t n,
                 double[::1] out,          # OUT (n_chains,) sum of n uniforms
                 int n_threads):
    cdef Py_ssize_t c
    for c in prange(out.shape[0], schedule="static", num_threads=n_threads, nogil=True):
        out[c] = _sum_chain(&states[c, 0], n)


# ---------------------------------------------------------------------------
# Python-callable twins of the inline functions (tests and benchmarks).

def _check_n(n, n_chains):
    n = check_int(n, "n", minimum=0)
    if n * n_chains > MAX_ELEMENTS:
        raise ValueError(f"n * n_chains = {n * n_chains} draws is more than {MAX_ELEMENTS}")
    return n


def random_raw(states, n, n_threads=None):
    """Draw ``n`` raw 64-bit words from each chain's stream.

    Parameters
    ----------
    states : ndarray of uint64, shape (n_chains, 4)
        Stream states from :func:`spawn_states`; advanced in place.
    n : int
        Draws per chain.
    n_threads : int or None, default=None
        Threads (see :func:`heatbath.effective_n_threads`); never changes the result.

    Returns
    -------
    ndarray of uint64, shape (n_chains, n)

    Examples
    --------
    >>> from heatbath._random import spawn_states, random_raw
    >>> random_raw(spawn_states(0, 2), 3).shape
    (2, 3)
    """
    states = _writable_states(states)
    n = _check_n(n, states.shape[0])
    out = np.empty((states.shape[0], n), dtype=np.uint64)
    if n:
        _fill_raw(states, out, effective_n_threads(n_threads))
    return out


def random(states, n, dtype=np.float64, n_threads=None):
    """Draw ``n`` uniform numbers in [0, 1) from each chain's stream.

    float64 uses the top 53 bits of one draw (as ``numpy.random.Generator.random``
    does, so the doubles equal numpy's on the same SFC64 state); float32 uses
    the top 24 bits of one draw.

    Examples
    --------
    >>> from heatbath._random import spawn_states, random
    >>> u = random(spawn_states(0, 2), 1000)
    >>> bool((u >= 0).all() and (u < 1).all())
    True
    """
    states = _writable_states(states)
    n = _check_n(n, states.shape[0])
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    out = np.empty((states.shape[0], n), dtype=dtype)
    if n:
        _fill_uniform(states, out, effective_n_threads(n_threads))
    return out


def integers(states, high, n, n_threads=None):
    """Draw ``n`` integers uniform on ``[0, high)`` from each chain's stream.

    Unbiased (Lemire's multiply-and-reject); ``1 <= high < 2**32``.

    Examples
    --------
    >>> from heatbath._random import spawn_states, integers
    >>> k = integers(spawn_states(0, 2), 6, 100)
    >>> int(k.min()) >= 0 and int(k.max()) < 6
    True
    """
    states = _writable_states(states)
    high = check_int(high, "high", minimum=1, maximum=2**32 - 1)
    n = _check_n(n, states.shape[0])
    out = np.empty((states.shape[0], n), dtype=np.uint32)
    if n:
        _fill_bounded(states, high, out, effective_n_threads(n_threads))
    return out


def _fill(states, n, n_threads, exponential):
    states = _writable_states(states)
    n = _check_n(n, states.shape[0])
    out = np.empty((states.shape[0], n), dtype=np.float64)
    if n:
        _fill_normal(states, out, exponential, effective_n_threads(n_threads))
    return out


def standard_normal(states, n, n_threads=None):
    """Draw ``n`` standard normal numbers from each chain's stream.

    The inline C ``rng_normal`` of ``heatbath/_random.pxd``: a 256-layer
    ziggurat (Marsaglia & Tsang 2000) that is exact up to its 52-bit mantissa,
    about one 64-bit draw per number. Not numpy's values: the tables are
    heatbath's own; ``heatbath.reference.random.standard_normal`` reproduces
    them bit for bit.

    Parameters
    ----------
    states : ndarray of uint64, shape (n_chains, 4)
        Stream states from :func:`spawn_states`; advanced in place.
    n : int
        Draws per chain.
    n_threads : int or None, default=None
        Threads; never changes the result.

    Returns
    -------
    ndarray of float64, shape (n_chains, n)

    Examples
    --------
    >>> from heatbath._random import spawn_states, standard_normal
    >>> z = standard_normal(spawn_states(0, 2), 100_000)
    >>> bool(abs(z.mean()) < 0.02 and abs(z.var() - 1) < 0.02)
    True
    """
    return _fill(states, n, n_threads, False)


def standard_exponential(states, n, n_threads=None):
    """Draw ``n`` standard exponential numbers (rate 1) from each chain's stream.

    The inline C ``rng_exponential`` of ``heatbath/_random.pxd`` (a 256-layer
    ziggurat, exact up to its 53-bit mantissa); see :func:`standard_normal`.

    Examples
    --------
    >>> from heatbath._random import spawn_states, standard_exponential
    >>> e = standard_exponential(spawn_states(0, 2), 100_000)
    >>> bool(e.min() >= 0 and abs(e.mean() - 1) < 0.02)
    True
    """
    return _fill(states, n, n_threads, True)


def _ziggurat_tables(kind):
    """The compiled ziggurat tables (r, k, w, f) of 'normal' or 'exponential' (for twins)."""
    cdef Py_ssize_t i
    k = np.empty(256, dtype=np.uint64)
    w = np.empty(256)
    f = np.empty(256)
    if kind == "normal":
        r = hb_zig_n_r
        for i in range(256):
            k[i] = hb_zig_n_k[i]
            w[i] = hb_zig_n_w[i]
            f[i] = hb_zig_n_f[i]
    elif kind == "exponential":
        r = hb_zig_e_r
        for i in range(256):
            k[i] = hb_zig_e_k[i]
            w[i] = hb_zig_e_w[i]
            f[i] = hb_zig_e_f[i]
    else:
        raise ValueError(f"kind must be 'normal' or 'exponential', got {kind!r}")
    return r, k, w, f
