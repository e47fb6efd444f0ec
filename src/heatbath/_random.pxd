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

cdef extern from *:
    """
    static const double hb_sign[2] = {1.0, -1.0};
    """
    const double hb_sign[2]


cdef inline bint _normal_try(rng_t* r, uint64_t* u, int* idx, double* x) noexcept nogil:
    """One try of the normal ziggurat from one draw: True if x is in its layer's rectangle.

    The sign is a product with +-1 (exact: the same bits as -x), not a branch:
    the sign bit is a coin flip, and a branch on it is mispredicted half the
    time (issue 16).
    """
    cdef uint64_t v = rng_next(r)
    cdef uint64_t mant
    idx[0] = <int>(v & 0xFF)
    v >>= 8
    u[0] = v
    mant = (v >> 1) & ((<uint64_t>1 << 52) - 1)
    x[0] = <double>mant * hb_zig_n_w[idx[0]] * hb_sign[v & 1]
    return mant < hb_zig_n_k[idx[0]]


cdef inline double _normal_finish(rng_t* r, uint64_t u, int idx, double x) noexcept nogil:
    """Finish a draw whose try missed its rectangle (0.7%): the tail, the wedge, or new tries."""
    cdef double xx, yy
    while True:
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
        if _normal_try(r, &u, &idx, &x):
            return x


cdef inline double rng_normal(rng_t* r) noexcept nogil:
    """A standard normal draw N(0, 1) (ziggurat; see the note above)."""
    cdef uint64_t u
    cdef int idx
    cdef double x
    if _normal_try(r, &u, &idx, &x):
        return x
    return _normal_finish(r, u, idx, x)


cdef inline void rng_normals(rng_t* r, double* out, Py_ssize_t n) noexcept nogil:
    """n normal draws into out: the same draws as n calls of rng_normal, faster.

    The loop over the draws that hit their rectangle (99.3%) calls nothing, so
    the compiler keeps the stream and the tables in registers; a miss leaves
    it for _normal_finish (with its calls of exp and log1p) and comes back.
    """
    cdef Py_ssize_t i = 0
    cdef uint64_t u
    cdef int idx
    cdef double x
    while i < n:
        while i < n and _normal_try(r, &u, &idx, &x):
            out[i] = x
            i += 1
        if i < n:
            out[i] = _normal_finish(r, u, idx, x)
            i += 1


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
