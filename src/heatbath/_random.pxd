# Per-chain random streams as inline C (see DESIGN.md, "Random numbers").
#
# The generator is SFC64 (Chris Doty-Humphrey's Small Fast Chaotic PRNG), the
# same algorithm and state layout as numpy.random.SFC64, so every stream can be
# checked bit for bit against numpy's implementation. A chain's state is one
# row of a (n_chains, 4) uint64 array: [a, b, c, counter].
#
# Kernels copy a chain's row into a local rng_t at the start of the chain's
# work and store it back at the end: the hot loop keeps the state in registers,
# and threads never write to neighbouring rows while they run (no false sharing).

from libc.stdint cimport uint32_t, uint64_t

ctypedef struct rng_t:
    uint64_t a
    uint64_t b
    uint64_t c
    uint64_t w


cdef inline void rng_load(rng_t* r, const uint64_t* row) noexcept nogil:
    r.a = row[0]
    r.b = row[1]
    r.c = row[2]
    r.w = row[3]


cdef inline void rng_store(const rng_t* r, uint64_t* row) noexcept nogil:
    row[0] = r.a
    row[1] = r.b
    row[2] = r.c
    row[3] = r.w


cdef inline uint64_t rng_next(rng_t* r) noexcept nogil:
    """One 64-bit draw (numpy's sfc64_next)."""
    cdef uint64_t tmp = r.a + r.b + r.w
    r.w += 1
    r.a = r.b ^ (r.b >> 11)
    r.b = r.c + (r.c << 3)
    r.c = ((r.c << 24) | (r.c >> 40)) + tmp
    return tmp


cdef inline double rng_double(rng_t* r) noexcept nogil:
    """Uniform double in [0, 1) from the top 53 bits (numpy's next_double)."""
    return <double>(rng_next(r) >> 11) * (1.0 / 9007199254740992.0)


cdef inline float rng_float(rng_t* r) noexcept nogil:
    """Uniform float in [0, 1) from the top 24 bits of one 64-bit draw."""
    return <float>(rng_next(r) >> 40) * (<float>(1.0 / 16777216.0))


cdef inline uint32_t rng_bounded(rng_t* r, uint32_t n) noexcept nogil:
    """Uniform integer in [0, n), n >= 1, without bias (Lemire 2019).

    Uses only 64-bit arithmetic (portable), so n must fit in 32 bits.
    """
    cdef uint64_t m = (rng_next(r) >> 32) * <uint64_t>n
    cdef uint32_t low = <uint32_t>m
    cdef uint32_t threshold
    if low < n:
        threshold = (<uint32_t>0 - n) % n
        while low < threshold:
            m = (rng_next(r) >> 32) * <uint64_t>n
            low = <uint32_t>m
    return <uint32_t>(m >> 32)
