/* Random draws of 4 rows at once, each row its own SFC64 stream, for the kernels that
   draw 4 rows in lockstep: the fused small-model epoch (heatbath.rbm._cd, rbm/_cd_epoch.h:
   hb_draw4) and the logistic layer pass (heatbath.rbm._gibbs: hb_bern4). The streams'
   states are 4 locals of vectors of 64-bit lanes (one stream a lane); the numbers are
   those of 4 serial runs of heatbath._random.rng_next.

   u < p is compared exactly on scaled integers in double. float64's u = (x >> 11) 2^-53
   < p if and only if x with its low 11 bits cleared, N, is below p 2^64 (powers of 2
   scale exactly). N is made exact in double without a 64-bit integer conversion (none
   before AVX-512): its high 32 bits in the mantissa of 2^84 and its next 21 in that of
   2^52, (hi - (2^84 + 2^52)) + lo (both steps exact). float32's u = (x >> 40) 2^-24 < p if
   and only if (x >> 40) < p 2^24, (x >> 40) in the mantissa of 2^52. */
#ifndef HB_LOCKSTEP_H
#define HB_LOCKSTEP_H

/* SFC64 (numpy's sfc64_next; heatbath._random.rng_next) on a state held in locals (scalars
   or vectors of 64-bit lanes, one stream a lane). */
#define HB_SFC64(out, s0, s1, s2, s3)                     \
    do {                                                  \
        __typeof__(s0) tmp_ = s0 + s1 + s3;               \
        s3 += 1;                                          \
        s0 = s1 ^ (s1 >> 11);                             \
        s1 = s2 + (s2 << 3);                              \
        s2 = ((s2 << 24) | (s2 >> 40)) + tmp_;            \
        out = tmp_;                                       \
    } while (0)

/* p 2^64 (float64) or p 2^24 (float32): the scale of HB_SCALED_U's uniforms */
#define HB_U_SCALE(dbl) ((dbl) ? 18446744073709551616.0 : 16777216.0)

/* u = the scaled uniform (above) of the 64-bit lanes x, exact in double: U4 is the vector
   of 4 uint64, D4 that of 4 doubles */
#define HB_SCALED_U(u, x, dbl, U4, D4)                                                      \
    do {                                                                                    \
        const U4 b84_ = {0x4530000000000000ULL, 0x4530000000000000ULL,                      \
                         0x4530000000000000ULL, 0x4530000000000000ULL};                     \
        const U4 b52_ = {0x4330000000000000ULL, 0x4330000000000000ULL,                      \
                         0x4330000000000000ULL, 0x4330000000000000ULL};                     \
        const U4 mk_ = {0xfffff800ULL, 0xfffff800ULL, 0xfffff800ULL, 0xfffff800ULL};       \
        if (dbl) u = ((D4)(((x) >> 32) | b84_) - 19342813118337666422669312.0 /* 2^84 + 2^52 */) \
                     + (D4)(((x) & mk_) | b52_);                                            \
        else u = (D4)(((x) >> 40) | b52_) - 4503599627370496.0 /* 2^52 */;                  \
    } while (0)

/* The 4 rows' states: load from and store to state[c][0..3], c < 4 */
#define HB_LOAD4(U4, state, s0, s1, s2, s3)                                                 \
    U4 s0 = {state[0][0], state[1][0], state[2][0], state[3][0]};                           \
    U4 s1 = {state[0][1], state[1][1], state[2][1], state[3][1]};                           \
    U4 s2 = {state[0][2], state[1][2], state[2][2], state[3][2]};                           \
    U4 s3 = {state[0][3], state[1][3], state[2][3], state[3][3]}
#define HB_STORE4(state, s0, s1, s2, s3)                                                    \
    for (int c_ = 0; c_ < 4; c_++) {                                                        \
        state[c_][0] = s0[c_]; state[c_][1] = s1[c_]; state[c_][2] = s2[c_];                \
        state[c_][3] = s3[c_];                                                              \
    }

#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
/* 4 steps' vectors (lane c: row c) transposed to 4 rows' vectors (lane t: step t), by
   shuffles (Clang, GCC 12 and later: __builtin_shufflevector) */
#define HB_TRANSPOSE4(D4, U, u0, u1, u2, u3)                                                \
    do {                                                                                    \
        D4 t0_ = __builtin_shufflevector(u0, u1, 0, 4, 2, 6);                               \
        D4 t1_ = __builtin_shufflevector(u0, u1, 1, 5, 3, 7);                               \
        D4 t2_ = __builtin_shufflevector(u2, u3, 0, 4, 2, 6);                               \
        D4 t3_ = __builtin_shufflevector(u2, u3, 1, 5, 3, 7);                               \
        U[0] = __builtin_shufflevector(t0_, t2_, 0, 1, 4, 5);                               \
        U[1] = __builtin_shufflevector(t1_, t3_, 0, 1, 4, 5);                               \
        U[2] = __builtin_shufflevector(t0_, t2_, 2, 3, 6, 7);                               \
        U[3] = __builtin_shufflevector(t1_, t3_, 2, 3, 6, 7);                               \
    } while (0)
#endif

#endif  /* HB_LOCKSTEP_H */
