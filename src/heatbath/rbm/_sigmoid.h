/* heatbath's one logistic function, sigmoid(x) = 1 / (1 + exp(-x)), in place on n
   elements: hb_sigmoid_d_body (double) and hb_sigmoid_f_body (float).

   Included by heatbath.rbm._cd (the fused small-model epoch) and heatbath.rbm._gibbs
   (the logistic layer pass of the general path): every Bernoulli, spin and binomial
   probability in heatbath.rbm comes from here. Twin: heatbath.reference.rbm.fused_sigmoid,
   operation for operation (the extensions are built with -ffp-contract=off, so no
   multiply-add is fused on any target, and the includers compile these loops for the
   baseline ISA and for AVX2 with the same bits).

   Branch-free, so it vectorises (libm's exp does not); within 2.4 ulp of the exact
   sigmoid over [-700, 700] (double) and [-87, 87] (float), where 1 / (1 + numpy.exp(-x))
   is within 2.2 and 2.7 (tests/rbm/test_fused.py). Beyond the clamp it gives a tiny
   positive number (never 0) and exactly 1; NaN stays NaN. */
#ifndef HB_SIGMOID_H
#define HB_SIGMOID_H

#include <stdint.h>
#include <string.h>

#ifndef HB_ALWAYS_INLINE
#if defined(__GNUC__) || defined(__clang__)
#define HB_ALWAYS_INLINE __attribute__((always_inline))
#else
#define HB_ALWAYS_INLINE
#endif
#endif
#ifndef HB_RESTRICT
#define HB_RESTRICT CYTHON_RESTRICT
#endif

/* x[i] = 1 / (1 + exp(-x[i])).  exp(t) = 2^m (q + p) / (q - p) with
   t = m ln2 + r, |r| <= ln2 / 2 (Cephes exp.c); the sigmoid is then
   (q - p) / ((q - p) + 2^m (q + p)), one division. 2^m is added to the
   exponent bits: m sits in the low bits of k = t log2(e) + 1.5 2^52. */
static CYTHON_INLINE HB_ALWAYS_INLINE void hb_sigmoid_d_body(double *HB_RESTRICT x,
                                                             Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        double t = -x[i];
        t = t < -700.0 ? -700.0 : t;
        t = t > 700.0 ? 700.0 : t;
        double k = t * 1.4426950408889634 + 6755399441055744.0;
        double m = k - 6755399441055744.0;
        double r = (t - m * 0.693145751953125) - m * 1.42860682030941723212e-6;
        double rr = r * r;
        double p = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr
                        + 1.0);
        double q = ((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr
                    + 2.27265548208155028766e-1) * rr + 2.0;
        double num = q - p, e = q + p;
        uint64_t kb, eb;
        memcpy(&kb, &k, 8);
        memcpy(&eb, &e, 8);
        eb += kb << 52;
        memcpy(&e, &eb, 8);
        x[i] = num / (num + e);
    }
}

/* float: Cephes expf (degree-5 polynomial), 1 / (1 + e). The constants are
   double literals rounded to float, as numpy.float32(constant) rounds them. */
#define HBF(c) ((float)(c))
static CYTHON_INLINE HB_ALWAYS_INLINE void hb_sigmoid_f_body(float *HB_RESTRICT x,
                                                            Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        float t = -x[i];
        t = t < HBF(-87.0) ? HBF(-87.0) : t;
        t = t > HBF(87.0) ? HBF(87.0) : t;
        float k = t * HBF(1.44269504088896341) + HBF(12582912.0);
        float m = k - HBF(12582912.0);
        float r = (t - m * HBF(0.693359375)) - m * HBF(-2.12194440e-4);
        float rr = r * r;
        float e = (((((HBF(1.9875691500e-4) * r + HBF(1.3981999507e-3)) * r + HBF(8.3334519073e-3)) * r
                     + HBF(4.1665795894e-2)) * r + HBF(1.6666665459e-1)) * r + HBF(5.0000001201e-1))
                  * rr + r + HBF(1.0);
        uint32_t kb, eb;
        memcpy(&kb, &k, 4);
        memcpy(&eb, &e, 4);
        eb += kb << 23;
        memcpy(&e, &eb, 4);
        x[i] = HBF(1.0) / (HBF(1.0) + e);
    }
}

#endif  /* HB_SIGMOID_H */
