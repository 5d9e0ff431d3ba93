/* Optimizer update kernels for one floating type. Included twice by optim.c, with
 *   REAL = double | float,   SFX = f64 | f32,   R_SQRT = sqrt | sqrtf.
 *
 * Shape of each kernel: <rule>_loop() is the single fused pass over [0, n) applying
 * <rule>_rule() (update_rules.h) to each element, with the options (maximize, weight
 * decay, momentum, ...) as compile-time constants, so every combination is its own
 * branch-free loop; <rule>_run() picks the instantiation once per call (FL_HOT: one clone
 * per ISA) by an if/else tree over the flags, so every combination reaches a loop (no
 * switch with a default that could do nothing); <rule>_kernel() computes the per-call
 * scalars (<rule>_scalars_of) and splits the array among threads.
 */
#include "update_rules.h"

/* LOOP(1, 1, ...) ... LOOP(0, 0, ...) as the flags A and B say (the two leading flag
 * arguments of LOOP), the remaining arguments passed on. */
#define FL_BY_2_FLAGS(LOOP, A, B, ...)                                                      \
    do {                                                                                    \
        if (A) {                                                                            \
            if (B) LOOP(1, 1, __VA_ARGS__); else LOOP(1, 0, __VA_ARGS__);                   \
        } else {                                                                            \
            if (B) LOOP(0, 1, __VA_ARGS__); else LOOP(0, 0, __VA_ARGS__);                   \
        }                                                                                   \
    } while (0)

/* ---- SGD ------------------------------------------------------------------------------ */

FL_INLINE void FL_NAME(sgd_loop)(fl_index n, REAL *FL_RESTRICT p, const REAL *FL_RESTRICT g,
                                 REAL *FL_RESTRICT buf, const FL_NAME(sgd_scalars) *k,
                                 const int MAX, const int WD, const int MOM, const int NEST,
                                 const int FIRST) {
    const FL_NAME(sgd_scalars) s = *k;
    FL_SIMD
    for (fl_index i = 0; i < n; i++)
        p[i] = FL_NAME(sgd_rule)(p[i], g[i], MOM ? &buf[i] : NULL, &s, MAX, WD, MOM, NEST,
                                 FIRST);
}

#define FL_SGD_LOOP(MAX, WD, MOM, NEST, FIRST) \
    FL_NAME(sgd_loop)(n, p, g, buf, k, MAX, WD, MOM, NEST, FIRST)

static FL_HOT void FL_NAME(sgd_run)(fl_index n, REAL *p, const REAL *g, REAL *buf,
                                    const FL_NAME(sgd_scalars) *k) {
    /* nesterov and first_step only with momentum (sgd_scalars_of) */
    if (!k->momentum_on)
        FL_BY_2_FLAGS(FL_SGD_LOOP, k->maximize, k->decay, 0, 0, 0);
    else if (!k->nesterov && !k->first_step)
        FL_BY_2_FLAGS(FL_SGD_LOOP, k->maximize, k->decay, 1, 0, 0);
    else if (!k->nesterov)
        FL_BY_2_FLAGS(FL_SGD_LOOP, k->maximize, k->decay, 1, 0, 1);
    else if (!k->first_step)
        FL_BY_2_FLAGS(FL_SGD_LOOP, k->maximize, k->decay, 1, 1, 0);
    else
        FL_BY_2_FLAGS(FL_SGD_LOOP, k->maximize, k->decay, 1, 1, 1);
}

static void FL_NAME(sgd_kernel)(const fl_sgd_hyper *h, const fl_update_call *c) {
    const FL_NAME(sgd_scalars) k = FL_NAME(sgd_scalars_of)(h, c->first_step);
    REAL *p = c->param, *buf = c->state[0];
    const REAL *g = c->grad;
    FL_FOR_CHUNKS(c->n, FL_OPTIM_THREADS(c->n, c->n_threads),
                  FL_NAME(sgd_run)(hi - lo, p + lo, g + lo, k.momentum_on ? buf + lo : NULL,
                                   &k));
}

/* ---- Adagrad ---------------------------------------------------------------------------- */

FL_INLINE void FL_NAME(adagrad_loop)(fl_index n, REAL *FL_RESTRICT p, const REAL *FL_RESTRICT g,
                                     REAL *FL_RESTRICT sum, const FL_NAME(adagrad_scalars) *k,
                                     const int MAX, const int WD) {
    const FL_NAME(adagrad_scalars) s = *k;
    FL_SIMD
    for (fl_index i = 0; i < n; i++)
        p[i] = FL_NAME(adagrad_rule)(p[i], g[i], &sum[i], &s, MAX, WD);
}

#define FL_ADAGRAD_LOOP(MAX, WD, _) FL_NAME(adagrad_loop)(n, p, g, sum, k, MAX, WD)

static FL_HOT void FL_NAME(adagrad_run)(fl_index n, REAL *p, const REAL *g, REAL *sum,
                                        const FL_NAME(adagrad_scalars) *k) {
    FL_BY_2_FLAGS(FL_ADAGRAD_LOOP, k->maximize, k->decay, 0);
}

static void FL_NAME(adagrad_kernel)(const fl_adagrad_hyper *h, const fl_update_call *c) {
    const FL_NAME(adagrad_scalars) k = FL_NAME(adagrad_scalars_of)(h, c->step);
    REAL *p = c->param, *sum = c->state[0];
    const REAL *g = c->grad;
    FL_FOR_CHUNKS(c->n, FL_OPTIM_THREADS(c->n, c->n_threads),
                  FL_NAME(adagrad_run)(hi - lo, p + lo, g + lo, sum + lo, &k));
}

/* ---- RMSprop ---------------------------------------------------------------------------- */

FL_INLINE void FL_NAME(rmsprop_loop)(fl_index n, REAL *FL_RESTRICT p, const REAL *FL_RESTRICT g,
                                     REAL *FL_RESTRICT sq, REAL *FL_RESTRICT ga,
                                     REAL *FL_RESTRICT buf, const FL_NAME(rmsprop_scalars) *k,
                                     const int MAX, const int WD, const int CEN,
                                     const int MOM) {
    const FL_NAME(rmsprop_scalars) s = *k;
    FL_SIMD
    for (fl_index i = 0; i < n; i++)
        p[i] = FL_NAME(rmsprop_rule)(p[i], g[i], &sq[i], CEN ? &ga[i] : NULL,
                                     MOM ? &buf[i] : NULL, &s, MAX, WD, CEN, MOM);
}

#define FL_RMSPROP_LOOP(MAX, WD, CEN, MOM) \
    FL_NAME(rmsprop_loop)(n, p, g, sq, ga, buf, k, MAX, WD, CEN, MOM)

static FL_HOT void FL_NAME(rmsprop_run)(fl_index n, REAL *p, const REAL *g, REAL *sq, REAL *ga,
                                        REAL *buf, const FL_NAME(rmsprop_scalars) *k) {
    if (!k->centered && !k->momentum_on)
        FL_BY_2_FLAGS(FL_RMSPROP_LOOP, k->maximize, k->decay, 0, 0);
    else if (!k->momentum_on)
        FL_BY_2_FLAGS(FL_RMSPROP_LOOP, k->maximize, k->decay, 1, 0);
    else if (!k->centered)
        FL_BY_2_FLAGS(FL_RMSPROP_LOOP, k->maximize, k->decay, 0, 1);
    else
        FL_BY_2_FLAGS(FL_RMSPROP_LOOP, k->maximize, k->decay, 1, 1);
}

static void FL_NAME(rmsprop_kernel)(const fl_rmsprop_hyper *h, const fl_update_call *c) {
    const FL_NAME(rmsprop_scalars) k = FL_NAME(rmsprop_scalars_of)(h);
    REAL *p = c->param, *sq = c->state[0], *ga = c->state[1], *buf = c->state[2];
    const REAL *g = c->grad;
    FL_FOR_CHUNKS(c->n, FL_OPTIM_THREADS(c->n, c->n_threads),
                  FL_NAME(rmsprop_run)(hi - lo, p + lo, g + lo, sq + lo,
                                       k.centered ? ga + lo : NULL,
                                       k.momentum_on ? buf + lo : NULL, &k));
}

/* ---- Adam / AdamW ------------------------------------------------------------------------ */

FL_INLINE void FL_NAME(adam_loop)(fl_index n, REAL *FL_RESTRICT p, const REAL *FL_RESTRICT g,
                                  REAL *FL_RESTRICT m, REAL *FL_RESTRICT v,
                                  REAL *FL_RESTRICT vmax, const FL_NAME(adam_scalars) *k,
                                  const int MAX, const int DECAY, const int AMS) {
    const FL_NAME(adam_scalars) s = *k;
    FL_SIMD
    for (fl_index i = 0; i < n; i++)
        p[i] = FL_NAME(adam_rule)(p[i], g[i], &m[i], &v[i], AMS ? &vmax[i] : NULL, &s, MAX,
                                  DECAY, AMS);
}

#define FL_ADAM_LOOP(MAX, AMS, DECAY) FL_NAME(adam_loop)(n, p, g, m, v, vmax, k, MAX, DECAY, AMS)

static FL_HOT void FL_NAME(adam_run)(fl_index n, REAL *p, const REAL *g, REAL *m, REAL *v,
                                     REAL *vmax, const FL_NAME(adam_scalars) *k) {
    if (k->decay == 0)
        FL_BY_2_FLAGS(FL_ADAM_LOOP, k->maximize, k->amsgrad, 0);
    else if (k->decay == 1)
        FL_BY_2_FLAGS(FL_ADAM_LOOP, k->maximize, k->amsgrad, 1);
    else
        FL_BY_2_FLAGS(FL_ADAM_LOOP, k->maximize, k->amsgrad, 2);
}

static void FL_NAME(adam_kernel)(const fl_adam_hyper *h, const fl_update_call *c) {
    const FL_NAME(adam_scalars) k = FL_NAME(adam_scalars_of)(h, c->step);
    REAL *p = c->param, *m = c->state[0], *v = c->state[1], *vmax = c->state[2];
    const REAL *g = c->grad;
    FL_FOR_CHUNKS(c->n, FL_OPTIM_THREADS(c->n, c->n_threads),
                  FL_NAME(adam_run)(hi - lo, p + lo, g + lo, m + lo, v + lo,
                                    k.amsgrad ? vmax + lo : NULL, &k));
}

#undef FL_BY_2_FLAGS
#undef FL_SGD_LOOP
#undef FL_ADAGRAD_LOOP
#undef FL_RMSPROP_LOOP
#undef FL_ADAM_LOOP
