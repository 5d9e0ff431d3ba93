/* Branch-free, table-free exp and log for `#pragma omp simd` loops.
 *
 *   double fl_exp_f64(double x)   every x: overflow -> +inf (x > 709.78),
 *                                 gradual underflow to subnormals, then +0
 *                                 (x < -745.13); exp(+-0) = 1, exp(+inf) = +inf,
 *                                 exp(-inf) = +0, NaN -> NaN
 *   double fl_log_f64(double x)   every x: subnormal inputs handled,
 *                                 log(+-0) = -inf, log(x < 0) = NaN,
 *                                 log(-inf) = NaN, log(+inf) = +inf,
 *                                 log(1) = +0, NaN -> NaN
 *   float  fl_exp_f32(float x)    as fl_exp_f64 (overflow above 88.72, zero
 *                                 below -103.97)
 *   float  fl_log_f32(float x)    as fl_log_f64
 *
 * Why: glibc's libmvec exp/log are gather-bound on some AVX-512 CPUs and do
 * not exist on macOS, musl or Windows (scalar libm there, ~4x slower than
 * NumPy). These use only +, -, *, one divide (log), compares/selects and
 * integer bit moves, so a loop calling them vectorizes with no calls and no
 * table lookups at every x86-64 level (SSE2, AVX2+FMA, AVX-512) with gcc 12,
 * and with clang 14.
 *
 * Build with IEEE semantics: never -ffast-math (it breaks the rounding tricks
 * below, and links crtfastmath, which flushes subnormals to zero
 * process-wide). Use -fno-trapping-math, or gcc keeps the `c ? a : b` selects
 * as control flow and does not vectorize the SSE2 and AVX2 clones, and
 * -fno-math-errno. Correct with and without FMA contraction (gcc contracts by
 * default in gnu modes, not in -std=c99); results can then differ in the last
 * bit between FMA and non-FMA code. Round-to-nearest assumed.
 *
 * Accuracy, measured by csrc/tests/test_mathvec.c (dense and random sweeps,
 * every float for the f32 functions; reference long double / double). All
 * four are faithfully rounded (< 1 ULP); max error, FMA builds / SSE2 build:
 *   fl_exp_f64  0.94 / 0.95 ULP   (subnormal results: 0.75 ULP of the grid)
 *   fl_log_f64  0.92 / 0.99 ULP   (subnormal inputs and near 1: 0.50)
 *   fl_exp_f32  0.92 / 0.95 ULP
 *   fl_log_f32  0.95 / 0.95 ULP
 * Special values (+-0, +-inf, NaN, negatives, overflow / underflow edges)
 * match glibc. Measured maxima per range and ISA: csrc/tests/README.md.
 *
 * Writing loops that use them: keep selects as `c ? a : b` on doubles/floats
 * (not `&&` of conditions), see the note at fl_log_f64.
 */
#ifndef FASTLOSS_MATHVEC_H
#define FASTLOSS_MATHVEC_H

#include <math.h> /* INFINITY, NAN */
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__)
#define FL_MV_INLINE static inline __attribute__((always_inline))
#else
#define FL_MV_INLINE static inline
#endif

/* memcpy punning: defined behaviour in C, and gcc turns it into a plain
 * register reinterpretation that vectorizes. */
FL_MV_INLINE uint64_t fl_mv_bits64(double x) { uint64_t u; memcpy(&u, &x, 8); return u; }
FL_MV_INLINE double fl_mv_f64(uint64_t u) { double x; memcpy(&x, &u, 8); return x; }
FL_MV_INLINE uint32_t fl_mv_bits32(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }
FL_MV_INLINE float fl_mv_f32(uint32_t u) { float x; memcpy(&x, &u, 4); return x; }

/* ======================================================================== */
/* exp                                                                       */
/* ======================================================================== */
/* exp(x) = 2^k exp(r), k = round(x / ln2), |r| <= ln2/2.
 *
 * k comes from the shifter trick, t = x log2(e) + 1.5*2^52: the addition
 * rounds to an integer and the low mantissa bits of t hold k in two's
 * complement, so no double->int64 conversion is needed (SSE2 and AVX2 have
 * none). ln2 is split so that k*LN2_HI is exact (LN2_HI has 42 significant
 * bits, |k| < 2^11) and x - k*LN2_HI is exact (Sterbenz); r = rh - k*LN2_LO
 * rounds once, and that rounding error rl is carried into the polynomial's
 * small terms (without it the maximum error is 1.09 ULP instead of 0.94).
 *
 * 2^k is applied as 2^k1 * 2^k2, k1 = floor(k/2), k2 = k - k1, each a normal
 * number built in the exponent field. s1 (1 + v) rounds once (v = exp(r) - 1);
 * the product with s2 is exact unless the result is subnormal, where it
 * rounds to the subnormal grid (gradual underflow, < 1 ULP of that grid).
 * Overflow to inf and underflow to 0 happen in these IEEE multiplies
 * themselves for |x| up to ~1418; beyond, two selects pin the result.
 *
 * exp(r) = 1 + r + r^2 Q(r), Q of degree 9 fitted by Remez (relative error of
 * exp on |r| <= ln2/2: 2^-57.9 before rounding). */
FL_MV_INLINE double fl_exp_f64(double x) {
    const double SHIFT = 0x1.8p52;
    const double LOG2E = 0x1.71547652b82fep+0;
    const double LN2_HI = 0x1.62e42fefa3800p-1;
    const double LN2_LO = 0x1.ef35793c76730p-45;
    const double C2 = 0x1.000000000000ap-1, C3 = 0x1.55555555554fap-3,
                 C4 = 0x1.555555555088cp-5, C5 = 0x1.1111111127b9ep-7,
                 C6 = 0x1.6c16c18426773p-10, C7 = 0x1.a01a012a68d6dp-13,
                 C8 = 0x1.a0199a16c482ep-16, C9 = 0x1.71df253c2201ep-19,
                 C10 = 0x1.28ad68bf17fa3p-22, C11 = 0x1.ad7f77dfdc5dcp-26;

    double t = x * LOG2E + SHIFT;
    double kd = t - SHIFT;
    double rh = x - kd * LN2_HI;
    double r = rh - kd * LN2_LO;
    double rl = (rh - r) - kd * LN2_LO;

    /* Horner in r^2 on the even and odd coefficients: same operation count
     * as plain Horner, half the dependency chain. */
    double r2 = r * r;
    double qe = C10;
    qe = qe * r2 + C8;
    qe = qe * r2 + C6;
    qe = qe * r2 + C4;
    qe = qe * r2 + C2;
    double qo = C11;
    qo = qo * r2 + C9;
    qo = qo * r2 + C7;
    qo = qo * r2 + C5;
    qo = qo * r2 + C3;
    double v = r + (r2 * (qe + r * qo) + rl); /* exp(r) - 1 */

    /* The low 52 bits of t are 2^51 + k. Only the low 12 bits of k1 + 1023
     * and k2 + 1023 reach the exponent field, and modulo 2^12 the logical
     * shift gives floor(k/2) exactly (2^51 is even): no 64-bit arithmetic
     * shift or int64->double conversion, which SSE2/AVX2 lack. */
    uint64_t b = fl_mv_bits64(t);
    uint64_t h = b >> 1;
    double s1 = fl_mv_f64((h + 1023) << 52);
    double s2 = fl_mv_f64((b - h + 1023) << 52);
    /* s1 (1 + v): one rounding with an FMA; without, v * s1 is exact. */
    double y = (v * s1 + s1) * s2;

    /* Up to |x| ~ 1418 the two-step scale overflows to inf / underflows to 0
     * by itself; past that the exponent fields wrap, so pin the results. Both
     * thresholds lie where the true result already rounds to inf / 0. NaN
     * fails both compares and propagates through the arithmetic.
     * Selecting on the result is cheaper than clamping x (gcc turns a clamp
     * into extra compares and blends). The pinned value is built from the sign
     * of x (+inf for x >= 0, +0 for x < 0) rather than written as a constant:
     * a constant arm lets gcc's jump threading follow it into a following
     * inlined call, e.g. the log in log(1 + exp(-|x|)), and duplicate that
     * call's whole body, divide included. */
    double big = fl_mv_f64(((fl_mv_bits64(x) >> 63) - 1) & 0x7ff0000000000000ULL);
    y = x > 709.8 ? big : y;
    return x < -745.2 ? big : y;
}

/* Same scheme in float: LN2_HI has 15 significant bits so k*LN2_HI is exact
 * for |k| < 512. Q has degree 4 (exp(r) of degree 6): 2^-28.3 relative
 * before rounding. */
FL_MV_INLINE float fl_exp_f32(float x) {
    const float SHIFT = 0x1.8p23f;
    const float LOG2E = 0x1.715476p+0f;
    const float LN2_HI = 0x1.62e4p-1f;
    const float LN2_LO = 0x1.7f7d1cp-20f;
    const float C2 = 0x1.fffffcp-2f, C3 = 0x1.555492p-3f, C4 = 0x1.5558f2p-5f,
                C5 = 0x1.1239d4p-7f, C6 = 0x1.6a244cp-10f;

    float t = x * LOG2E + SHIFT;
    float kd = t - SHIFT;
    float rh = x - kd * LN2_HI;
    float r = rh - kd * LN2_LO;
    float rl = (rh - r) - kd * LN2_LO;

    float r2 = r * r;
    float qe = C6;
    qe = qe * r2 + C4;
    qe = qe * r2 + C2;
    float qo = C5;
    qo = qo * r2 + C3;
    float v = r + (r2 * (qe + r * qo) + rl);

    uint32_t b = fl_mv_bits32(t);
    uint32_t h = b >> 1;
    float s1 = fl_mv_f32((h + 127) << 23);
    float s2 = fl_mv_f32((b - h + 127) << 23);
    float y = (v * s1 + s1) * s2;

    /* exp overflows above 88.73 and rounds to 0 below -103.98; the scale
     * fields stay valid up to |x| ~ 176. +inf / +0 from the sign, as above. */
    float big = fl_mv_f32(((fl_mv_bits32(x) >> 31) - 1) & 0x7f800000u);
    y = x > 89.0f ? big : y;
    return x < -104.0f ? big : y;
}

/* ======================================================================== */
/* log                                                                       */
/* ======================================================================== */
/* log(x) = k ln2 + log(m), m in [sqrt(1/2), sqrt(2)), f = m - 1 (exact).
 *
 * k and m come from integer arithmetic on the bits: adding
 * bits(1.0) - bits(sqrt(1/2)) moves the exponent boundary to sqrt(1/2), so
 * the top 12 bits give k + 1023 (mod 4096) and the mantissa bits plus
 * bits(sqrt(1/2)) give m. k becomes a double by the 2^52 magic-number trick (no
 * int64->double conversion before AVX-512, no 64-bit arithmetic shift before
 * AVX-512 either: the xor below sign-extends instead).
 *
 * With s = f / (2 + f), |s| <= 0.1716, log(1+f) = 2 atanh(s) = 2s + s R(s^2)
 * and, since 2s = f - s f, log(1+f) = f - s (f - R). R(z) = z P(z), P of
 * degree 6 fitted by Remez (2^-59.5 relative before rounding). The division
 * rounds, but s only scales the term s (f - R) ~ f^2/2. k*LN2_HI + f is
 * summed exactly (Fast2Sum: |k*LN2_HI| >= ln2 > |f| unless k = 0, where the
 * sum is f itself), so the result carries one final rounding plus small
 * terms: max 0.92 ULP (0.99 without FMA; 0.5 for subnormal inputs and
 * near 1; 1.16 without the Fast2Sum). The divide is the one non-FMA
 * operation; it vectorizes everywhere.
 *
 * Zero, negative, infinite and NaN inputs run through the same arithmetic on
 * garbage and are replaced by three final selects. */
FL_MV_INLINE double fl_log_f64(double x) {
    const double LN2_HI = 0x1.62e42fefa3800p-1;
    const double LN2_LO = 0x1.ef35793c76730p-45;
    const double P0 = 0x1.5555555555592p-1, P1 = 0x1.999999997fdb7p-2,
                 P2 = 0x1.24924941f12d7p-2, P3 = 0x1.c71c520955707p-3,
                 P4 = 0x1.74663eea2286fp-3, P5 = 0x1.39a1ba88230dep-3,
                 P6 = 0x1.2f05657ea56bap-3;
    const uint64_t SQRTH = 0x3fe6a09e667f3bcdULL; /* bits of sqrt(1/2) */
    const uint64_t ONE = 0x3ff0000000000000ULL;
    const double INF = (double)INFINITY;

    /* Subnormals: scale by 2^54 and take 54 off the exponent field. That
     * field may go negative (it borrows into the sign bit), so it is read
     * back sign-extended from 12 bits with the xor. One select, on the bits:
     * a second select on the same condition (say, for k) lets gcc's jump
     * threading duplicate the whole log between the two, divide included. */
    int sub = x < 0x1p-1022;
    uint64_t ix = sub ? fl_mv_bits64(x * 0x1p54) - (54ULL << 52) : fl_mv_bits64(x);
    ix += ONE - SQRTH;
    uint64_t e = (ix >> 52) ^ 0x800; /* k + 1023 + 2048 for x > 0 */
    double m = fl_mv_f64((ix & 0x000fffffffffffffULL) + SQRTH);
    /* 2^52 + e exactly, minus 2^52 + 3071: k with no int64->double convert */
    double kd = fl_mv_f64(0x4330000000000000ULL | e) - (0x1p52 + 3071.0);

    double f = m - 1.0;
    double s = f / (m + 1.0); /* m + 1 == 2 + f, available one step earlier */
    double z = s * s;
    double p = P6;
    p = p * z + P5;
    p = p * z + P4;
    p = p * z + P3;
    p = p * z + P2;
    p = p * z + P1;
    p = p * z + P0;
    double R = z * p;
    /* log(1+f) = f - s (f - R); k ln2_hi + f summed exactly (Fast2Sum). */
    double khi = kd * LN2_HI;
    double hi = khi + f;
    double lo = (khi - hi) + f;
    double y = hi + ((lo + kd * LN2_LO) - s * (f - R));

    /* One comparison per select, each on x. `x > 0 && x < INF ? y : special`
     * or nested selects let gcc merge the masks, also with those of a
     * neighbouring inlined call, into a form that costs extra compares or, in
     * log(1 + exp(-|x|)), did not vectorize at all. */
    y = x > 0.0 ? y : (double)NAN;
    y = x == 0.0 ? -INF : y;
    return x < INF ? y : x; /* +inf, and NaN with its payload */
}

/* Same scheme in float: subnormals scaled by 2^25; k is an int32, whose
 * arithmetic shift and conversion to float exist in SSE2. P has degree 2
 * (2^-30.2 relative before rounding). Float keeps the shorter final sum:
 * max 0.95 ULP even without the Fast2Sum step. */
FL_MV_INLINE float fl_log_f32(float x) {
    const float LN2_HI = 0x1.62e4p-1f;
    const float LN2_LO = 0x1.7f7d1cp-20f;
    const float P0 = 0x1.55557ap-1f, P1 = 0x1.995ebap-2f, P2 = 0x1.31e2f2p-2f;
    const uint32_t SQRTH = 0x3f3504f3u;
    const uint32_t ONE = 0x3f800000u;
    const float INF = INFINITY;

    int sub = x < 0x1p-126f;
    uint32_t ix = sub ? fl_mv_bits32(x * 0x1p25f) - (25u << 23) : fl_mv_bits32(x);
    ix += ONE - SQRTH;
    /* arithmetic shift (gcc defines it for negative ints; SSE2 has it) */
    int32_t k = ((int32_t)ix >> 23) - 127;
    float m = fl_mv_f32((ix & 0x007fffffu) + SQRTH);
    float kd = (float)k;

    float f = m - 1.0f;
    float s = f / (m + 1.0f);
    float z = s * s;
    float p = P2;
    p = p * z + P1;
    p = p * z + P0;
    float R = z * p;
    float y = kd * LN2_HI + ((f - s * (f - R)) + kd * LN2_LO);

    y = x > 0.0f ? y : NAN;
    y = x == 0.0f ? -INF : y;
    return x < INF ? y : x;
}

#endif
