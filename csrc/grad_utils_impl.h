/* The per-dtype loops of grad_utils.c, included once per dtype by fl_each_dtype.h (REAL,
 * SFX; R_SQRT for update_rules.h, whose scalar helpers give at::lerp). Each loop has a
 * unit-stride copy that vectorizes (one clone per ISA) and a strided one. No include
 * guard: one inclusion per dtype. */
#include "update_rules.h"

/* The sum of |x| (p = 1) or x^2 (p = 2) over x[0, n) in FL_NORM_LANES independent
 * accumulators, added in lane order at the end: a vector's worth of adds in flight (not one
 * chain of dependent adds), and the same rounding on every ISA clone. */
#define FL_NORM_LANES 32
#define FL_NORM_LANES_SUM(TERM)                                                             \
    do {                                                                                    \
        double acc[FL_NORM_LANES] = {0};                                                    \
        fl_index i = 0;                                                                     \
        for (; i + FL_NORM_LANES <= n; i += FL_NORM_LANES) {                                \
            FL_SIMD                                                                         \
            for (int j = 0; j < FL_NORM_LANES; j++) {                                       \
                const double v = (double)x[i + j];                                          \
                acc[j] += TERM;                                                             \
            }                                                                               \
        }                                                                                   \
        for (int j = 0; i + j < n; j++) {                                                   \
            const double v = (double)x[i + j];                                              \
            acc[j] += TERM;                                                                 \
        }                                                                                   \
        for (int j = 0; j < FL_NORM_LANES; j++) s += acc[j];                                \
    } while (0)

static FL_HOT double FL_NAME(norm_unit)(const REAL *FL_RESTRICT x, fl_index n, int kind,
                                        double p) {
    double s = 0;
    switch ((enum fl_norm_kind)kind) {
    case FL_NORM_ONE:
        FL_NORM_LANES_SUM(fabs(v));
        return s;
    case FL_NORM_TWO:
        FL_NORM_LANES_SUM(v * v);
        return s;
    case FL_NORM_POW:
        for (fl_index i = 0; i < n; i++) s += pow(fabs((double)x[i]), p);
        return s;
    case FL_NORM_MAX: {
        fl_index nans = 0;
        FL_PRAGMA(omp simd reduction(max : s) reduction(+ : nans))
        for (fl_index i = 0; i < n; i++) {
            const double a = fabs((double)x[i]);
            s = a > s ? a : s;
            nans += a != a;
        }
        return nans ? (double)NAN : s;
    }
    }
    return s;
}

static double FL_NAME(norm_strided)(const REAL *x, fl_index n, fl_index stride, int kind,
                                    double p) {
    double s = 0;
    int nan = 0;
    for (fl_index i = 0; i < n; i++) {
        const double a = fabs((double)x[i * stride]);
        switch ((enum fl_norm_kind)kind) {
        case FL_NORM_ONE: s += a; break;
        case FL_NORM_TWO: s += a * a; break;
        case FL_NORM_POW: s += pow(a, p); break;
        case FL_NORM_MAX: s = a > s ? a : s; nan |= a != a; break;
        }
    }
    return nan ? (double)NAN : s;
}

static double FL_NAME(norm_run)(const fl_run *r, int kind, double p) {
    const REAL *x = (const REAL *)r->data;
    return r->stride == 1 ? FL_NAME(norm_unit)(x, r->n, kind, p)
                          : FL_NAME(norm_strided)(x, r->n, r->stride, kind, p);
}

static FL_HOT void FL_NAME(scale_unit)(REAL *FL_RESTRICT x, fl_index n, REAL c) {
    FL_SIMD
    for (fl_index i = 0; i < n; i++) x[i] *= c;
}

static void FL_NAME(scale_run)(const fl_run *r, double coef) {
    REAL *x = (REAL *)r->data;
    const REAL c = (REAL)coef;
    if (r->stride == 1) {
        FL_NAME(scale_unit)(x, r->n, c);
        return;
    }
    for (fl_index i = 0; i < r->n; i++) x[i * r->stride] *= c;
}

/* Two compare-selects, in torch's order; a NaN compares false and stays. */
FL_INLINE REAL FL_NAME(clamp)(REAL v, REAL lo, REAL hi) {
    v = v < lo ? lo : v;
    return v > hi ? hi : v;
}

static FL_HOT void FL_NAME(clamp_unit)(REAL *FL_RESTRICT x, fl_index n, REAL lo, REAL hi) {
    FL_SIMD
    for (fl_index i = 0; i < n; i++) x[i] = FL_NAME(clamp)(x[i], lo, hi);
}

static void FL_NAME(clamp_run)(const fl_run *r, double lo, double hi) {
    REAL *x = (REAL *)r->data;
    if (r->stride == 1) {
        FL_NAME(clamp_unit)(x, r->n, (REAL)lo, (REAL)hi);
        return;
    }
    for (fl_index i = 0; i < r->n; i++)
        x[i * r->stride] = FL_NAME(clamp)(x[i * r->stride], (REAL)lo, (REAL)hi);
}

/* The scalars of one averaging rule, rounded to REAL once per call. */
typedef struct {
    REAL a, b;
    int small; /* LERP: lerp_split's flag */
} FL_NAME(average_scalars);

FL_INLINE REAL FL_NAME(average_elem)(int kind, REAL avg, REAL p, FL_NAME(average_scalars) k) {
    switch ((enum fl_average_kind)kind) {
    case FL_AVERAGE_LERP: return FL_NAME(lerp)(avg, p, k.a, k.small);
    case FL_AVERAGE_EMA: return k.a * avg + k.b * p;
    case FL_AVERAGE_MEAN: return avg + (p - avg) / k.a;
    }
    return avg;
}

/* One loop copy per rule (the switch hoisted), unit strides on both sides or any. */
#define FL_AVERAGE_LOOP(KIND)                                                                \
    do {                                                                                     \
        if (sa == 1 && sp == 1) {                                                            \
            FL_SIMD                                                                          \
            for (fl_index i = 0; i < n; i++) a[i] = FL_NAME(average_elem)(KIND, a[i], p[i], k); \
        } else {                                                                             \
            for (fl_index i = 0; i < n; i++)                                                 \
                a[i * sa] = FL_NAME(average_elem)(KIND, a[i * sa], p[i * sp], k);            \
        }                                                                                    \
    } while (0)

static FL_HOT void FL_NAME(average_run)(REAL *FL_RESTRICT a, fl_index sa,
                                        const REAL *FL_RESTRICT p, fl_index sp, fl_index n,
                                        int kind, FL_NAME(average_scalars) k) {
    switch ((enum fl_average_kind)kind) {
    case FL_AVERAGE_LERP: FL_AVERAGE_LOOP(FL_AVERAGE_LERP); break;
    case FL_AVERAGE_EMA: FL_AVERAGE_LOOP(FL_AVERAGE_EMA); break;
    case FL_AVERAGE_MEAN: FL_AVERAGE_LOOP(FL_AVERAGE_MEAN); break;
    }
}
#undef FL_AVERAGE_LOOP

static FL_NAME(average_scalars) FL_NAME(average_scalars_of)(int kind, double w) {
    FL_NAME(average_scalars) k = {(REAL)w, (REAL)(1 - w), 0};
    if (kind == FL_AVERAGE_LERP) k.small = FL_NAME(lerp_split)((REAL)w, &k.a);
    return k;
}
