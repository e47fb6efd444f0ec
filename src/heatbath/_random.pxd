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

from libc.math cimport exp, log1p
from libc.stdint cimport uint32_t, uint64_t

from heatbath._ziggurat cimport (
    hb_zig_n_r, hb_zig_n_k, hb_zig_n_w, hb_zig_n_f,
    hb_zig_e_r, hb_zig_e_k, hb_zig_e_w, hb_zig_e_f,
)

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



# Normal and exponential draws: 256-layer ziggurats (Marsaglia & Tsang 2000) in
# the 64-bit layout numpy's Generator uses (layer index, sign and mantissa from
# ONE draw; 99.3% / 98.9% of draws return after one multiply and one compare),
# with tables of our own making (tools/ziggurat_tables.py -> _ziggurat.pxd).
#
# Exact, not approximate: the wedges are decided by rejection against exp()
# and the tail beyond r by Marsaglia's exact tail method, so the draws follow
# the density up to the 2**-52 (normal) / 2**-53 (exponential) resolution of
# the mantissa. Bit-reproducible: integer arithmetic plus libm's exp and
# log1p, called in a fixed order; heatbath.reference.random reproduces every
# draw with Python floats (math.exp, math.log1p: the same libm).
# Build note: compilers that contract a*b+c into an FMA (-ffp-contract=fast on
# targets with FMA, e.g. aarch64) change the wedge test in its last bit; the
# x86-64 baseline has no FMA.

cdef inline double rng_normal(rng_t* r) noexcept nogil:
    """A standard normal draw N(0, 1) (ziggurat; see the note above)."""
    cdef uint64_t u, mant
    cdef int idx
    cdef double x, xx, yy
    while True:
        u = rng_next(r)
        idx = <int>(u & 0xFF)
        u >>= 8
        mant = (u >> 1) & ((<uint64_t>1 << 52) - 1)
        x = <double>mant * hb_zig_n_w[idx]
        if u & 1:
            x = -x
        if mant < hb_zig_n_k[idx]:
            return x
        if idx == 0:
            # Tail |x| > r: Marsaglia (1964). 1 - U avoids log(0).
            while True:
                xx = -log1p(-rng_double(r)) / hb_zig_n_r
                yy = -log1p(-rng_double(r))
                if yy + yy > xx * xx:
                    return -(hb_zig_n_r + xx) if u & 1 else hb_zig_n_r + xx
        elif ((hb_zig_n_f[idx - 1] - hb_zig_n_f[idx]) * rng_double(r) + hb_zig_n_f[idx]
              < exp(-0.5 * x * x)):
            return x


cdef inline double rng_exponential(rng_t* r) noexcept nogil:
    """A standard exponential draw Exp(1) (ziggurat; see the note above)."""
    cdef uint64_t u
    cdef int idx
    cdef double x
    while True:
        u = rng_next(r) >> 3
        idx = <int>(u & 0xFF)
        u >>= 8
        x = <double>u * hb_zig_e_w[idx]
        if u < hb_zig_e_k[idx]:
            return x
        if idx == 0:
            # Memoryless tail: r + Exp(1), by inversion (1 - U avoids log(0)).
            return hb_zig_e_r - log1p(-rng_double(r))
        if (hb_zig_e_f[idx - 1] - hb_zig_e_f[idx]) * rng_double(r) + hb_zig_e_f[idx] < exp(-x):
            return x
