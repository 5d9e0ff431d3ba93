/* SGD epochs (per sample and mini-batch) for one floating type. Included by linear_f64.c
 * and linear_f32.c, after fl_real.h (REAL, SFX, R_EXP, R_LOG, R_SQRT).
 *
 * Shape: loss1() is the loss and derivative of one single-output sample (loss_rules.h's
 * per-element rules, in REAL); step() applies one update rule to a parameter vector: plain
 * SGD here (scikit-learn's clamped L2 shrink), momentum/adagrad/rmsprop/adam/adamw as
 * update_rules.h's torch.optim rules; epoch1() and epoch_softmax() run the sample loop
 * with (loss, optimizer) as compile-time constants, so each pair is its own branch-free
 * loop whose dot product and update vectorize; epoch1_batch() and epoch_softmax_batch()
 * are their mini-batch counterparts (the gradient summed over a batch in the work array,
 * one step() per batch, the rule chosen at run time); nadam/radam/adamax/lion run per
 * sample through the same run-time rule step (epoch1() / epoch_softmax() with RUNTIME);
 * sgd_epoch() picks the instantiation once per call.
 */
#include "optim.h" /* the fl_*_hyper structs that update_rules.h's scalars take */
#include "loss_rules.h"
#include "update_rules.h"

#include "linear_rules.h" /* loss1(): one sample's loss and dl/dz */

/* max(0, 1 - eta alpha): the L2 shrink factor of a plain SGD step (scikit-learn's clamp). */
FL_INLINE REAL FL_NAME(decay_factor)(REAL eta, REAL alpha) {
    const REAL keep = (REAL)1 - eta * alpha;
    return keep > 0 ? keep : (REAL)0;
}

/* This update's scalars: plain SGD's eta, or the torch.optim rule's (update_rules.h).
 * Only the member of the epoch's rule is set. */
typedef struct {
    REAL eta, alpha; /* plain sgd: learning rate, L2 penalty */
    FL_NAME(sgd_scalars) momentum;
    FL_NAME(adagrad_scalars) adagrad;
    FL_NAME(rmsprop_scalars) rmsprop;
    FL_NAME(adam_scalars) adam;
    FL_NAME(nadam_scalars) nadam;
    FL_NAME(radam_scalars) radam;
    FL_NAME(adamax_scalars) adamax;
    FL_NAME(lion_scalars) lion;
} FL_NAME(rule_scalars);

/* Adam and AdamW share the scalars, the running powers and the per-element rule. */
FL_INLINE int FL_NAME(is_adam)(const int opt) { return opt == FL_OPT_ADAM || opt == FL_OPT_ADAMW; }

/* The rules whose scalars change with the step count (bias corrections, NAdam's momentum
 * cache, RAdam's rectification): rebuilt every update. */
FL_INLINE int FL_NAME(per_update)(const int opt) {
    return FL_NAME(is_adam)(opt) || opt == FL_OPT_NADAM || opt == FL_OPT_RADAM ||
           opt == FL_OPT_ADAMAX;
}

/* The scalars of update t (1-based) with learning rate eta, each rule as the torch.optim
 * optimizer the epoch's docs name: momentum = SGD(momentum, nesterov, dampening 0),
 * Adagrad(lr_decay 0), RMSprop(alpha = rho, momentum 0, centered False), Adam(betas,
 * amsgrad False), AdamW(the same); weight_decay = alpha (the update of the intercept drops
 * it by its flag).
 * NAdam(betas, momentum_decay, decoupled_weight_decay), RAdam(betas,
 * decoupled_weight_decay), Adamax(betas), Lion(betas) with the scalars of update_rules.h as
 * the fused optimizers compute them (torch's beta ** t; mu_product: NAdam's state before
 * this update).
 * Adam's bias corrections come from the running powers b1t = beta1^t, b2t = beta2^t: no
 * pow() per sample, where torch computes beta ** t (they differ in the last bits). */
FL_INLINE void FL_NAME(rule_scalars_of)(const int opt, const fl_sgd_config *cfg, double eta,
                                        int64_t t, double b1t, double b2t, REAL mu_product,
                                        FL_NAME(rule_scalars) *k) {
    switch (opt) {
    case FL_OPT_SGD:
        k->eta = (REAL)eta;
        k->alpha = (REAL)cfg->alpha;
        break;
    case FL_OPT_MOMENTUM: {
        const fl_sgd_hyper h = {eta, cfg->momentum, 0, cfg->alpha, cfg->nesterov, 0};
        /* first_step 0: the zero-started buffer times momentum plus g is torch's clone of g */
        k->momentum = FL_NAME(sgd_scalars_of)(&h, 0);
        break;
    }
    case FL_OPT_ADAGRAD: {
        const fl_adagrad_hyper h = {eta, 0, cfg->alpha, cfg->eps, 0};
        k->adagrad = FL_NAME(adagrad_scalars_of)(&h, (double)t);
        break;
    }
    case FL_OPT_RMSPROP: {
        const fl_rmsprop_hyper h = {eta, cfg->rho, cfg->eps, cfg->alpha, 0, 0, 0};
        k->rmsprop = FL_NAME(rmsprop_scalars_of)(&h);
        break;
    }
    case FL_OPT_NADAM: {
        const fl_nadam_hyper h = {eta,       cfg->beta1,          cfg->beta2,     cfg->eps,
                                  cfg->alpha, cfg->momentum_decay, cfg->decoupled, 0};
        k->nadam = FL_NAME(nadam_scalars_of)(&h, (double)t, mu_product);
        break;
    }
    case FL_OPT_RADAM: {
        const fl_radam_hyper h = {eta,        cfg->beta1,     cfg->beta2, cfg->eps,
                                  cfg->alpha, cfg->decoupled, 0};
        k->radam = FL_NAME(radam_scalars_of)(&h, (double)t);
        break;
    }
    case FL_OPT_ADAMAX: {
        const fl_adamax_hyper h = {eta, cfg->beta1, cfg->beta2, cfg->eps, cfg->alpha, 0};
        k->adamax = FL_NAME(adamax_scalars_of)(&h, (double)t);
        break;
    }
    case FL_OPT_LION: {
        const fl_lion_hyper h = {eta, cfg->beta1, cfg->beta2, cfg->alpha, 0};
        k->lion = FL_NAME(lion_scalars_of)(&h);
        break;
    }
    default: { /* FL_OPT_ADAM, FL_OPT_ADAMW (decoupled) */
        const fl_adam_hyper h = {eta, cfg->beta1, cfg->beta2, cfg->eps, cfg->alpha, 0, 0,
                                 opt == FL_OPT_ADAMW};
        k->adam = FL_NAME(adam_scalars_of_corrections)(&h, 1 - b1t, sqrt(1 - b2t));
        break;
    }
    }
}

/* rule_scalars_of() for a rule known at run time only (RUNTIME in the epochs below): one
 * copy of every rule's scalars, called once per update, rather than one inlined into each
 * run-time loop (which cost the translation unit compile time for no speed). */
static FL_NOINLINE void FL_NAME(rule_scalars_at_run_time)(const int opt,
                                                          const fl_sgd_config *cfg, double eta,
                                                          int64_t t, double b1t, double b2t,
                                                          REAL mu_product,
                                                          FL_NAME(rule_scalars) *k) {
    FL_NAME(rule_scalars_of)(opt, cfg, eta, t, b1t, b2t, mu_product, k);
}

/* The optimizer state arrays of coef and intercept (NULL where the rule keeps none). */
typedef struct {
    REAL *s1w, *s1b, *s2w, *s2b;
} FL_NAME(rule_state);

FL_INLINE FL_NAME(rule_state) FL_NAME(rule_state_of)(const fl_sgd_data *D) {
    const FL_NAME(rule_state) st = {(REAL *)D->s1_coef, (REAL *)D->s1_intercept,
                                    (REAL *)D->s2_coef, (REAL *)D->s2_intercept};
    return st;
}

/* Where an epoch starts: Adam's running powers beta^t after the t updates done before the
 * call, NAdam's mu_product, and the rule's scalars for the first update of the call. */
typedef struct {
    int64_t t;       /* updates done */
    double b1t, b2t; /* beta1^t, beta2^t */
    REAL mu_product; /* NAdam's, after the updates done */
} FL_NAME(epoch_clock);

FL_INLINE FL_NAME(epoch_clock) FL_NAME(epoch_start)(const int opt, const int RUNTIME,
                                                    const fl_sgd_config *cfg,
                                                    const fl_sgd_data *D,
                                                    FL_NAME(rule_scalars) *k) {
    const int64_t t = D->t;
    FL_NAME(epoch_clock) ck = {t, pow(cfg->beta1, (double)t), pow(cfg->beta2, (double)t),
                               (REAL)D->mu_product};
    if (RUNTIME)
        FL_NAME(rule_scalars_at_run_time)(opt, cfg, cfg->lr, t + 1, ck.b1t, ck.b2t,
                                          ck.mu_product, k);
    else
        FL_NAME(rule_scalars_of)(opt, cfg, cfg->lr, t + 1, ck.b1t, ck.b2t, ck.mu_product, k);
    return ck;
}

/* Where an epoch stops: the updates done and NAdam's mu_product, for the next call. */
FL_INLINE void FL_NAME(epoch_stop)(const FL_NAME(epoch_clock) *ck, fl_sgd_data *D) {
    D->t = ck->t;
    D->mu_product = (double)ck->mu_product;
}

/* NAdam's and RAdam's steps on m parameters (see step()): DECAY (0 none, 1 L2, 2
 * decoupled) and RAdam's RECT are compile-time constants here, chosen by step() once per
 * update from the scalars. */
FL_INLINE void FL_NAME(nadam_step)(fl_index m, REAL *FL_RESTRICT p, const REAL *FL_RESTRICT v,
                                   const REAL s, REAL *FL_RESTRICT s1, REAL *FL_RESTRICT s2,
                                   const FL_NAME(nadam_scalars) *k, const int DECAY) {
    FL_SIMD
    for (fl_index j = 0; j < m; j++)
        p[j] = FL_NAME(nadam_rule)(p[j], s * v[j], s1 + j, s2 + j, k, 0, DECAY);
}

FL_INLINE void FL_NAME(radam_step)(fl_index m, REAL *FL_RESTRICT p, const REAL *FL_RESTRICT v,
                                   const REAL s, REAL *FL_RESTRICT s1, REAL *FL_RESTRICT s2,
                                   const FL_NAME(radam_scalars) *k, const int DECAY,
                                   const int RECT) {
    FL_SIMD
    for (fl_index j = 0; j < m; j++)
        p[j] = FL_NAME(radam_rule)(p[j], s * v[j], s1 + j, s2 + j, k, 0, DECAY, RECT);
}

/* One update of the m parameters p with gradient g_j = s v_j, state s1/s2 as the rule
 * needs; `decay` adds the L2 term (weight_decay x) of the rule (AdamW: its decoupled
 * decay, x *= 1 - eta weight_decay). `opt`, `decay` and
 * `nesterov` are constants at every call site, so the switch folds away and the loop
 * vectorizes. */
FL_INLINE void FL_NAME(step)(const int opt, const int decay, const int nesterov, fl_index m,
                             REAL *FL_RESTRICT p, const REAL *FL_RESTRICT v, const REAL s,
                             REAL *FL_RESTRICT s1, REAL *FL_RESTRICT s2,
                             const FL_NAME(rule_scalars) *k) {
    switch (opt) {
    case FL_OPT_SGD:
        if (decay) {
            /* p - eta (s v + alpha p) = (1 - eta alpha) p - eta s v, with the factor clamped
             * at 0 as scikit-learn does: eta alpha > 1 zeroes the weights instead of
             * flipping their sign and growing them every step */
            const REAL keep = FL_NAME(decay_factor)(k->eta, k->alpha);
            FL_SIMD
            for (fl_index j = 0; j < m; j++) p[j] = keep * p[j] - k->eta * (s * v[j]);
        } else {
            FL_SIMD
            for (fl_index j = 0; j < m; j++) p[j] -= k->eta * (s * v[j]);
        }
        break;
    case FL_OPT_MOMENTUM:
        FL_SIMD
        for (fl_index j = 0; j < m; j++)
            p[j] = FL_NAME(sgd_rule)(p[j], s * v[j], s1 + j, &k->momentum, 0, decay, 1,
                                     nesterov, 0);
        break;
    case FL_OPT_ADAGRAD:
        FL_SIMD
        for (fl_index j = 0; j < m; j++)
            p[j] = FL_NAME(adagrad_rule)(p[j], s * v[j], s1 + j, &k->adagrad, 0, decay);
        break;
    case FL_OPT_RMSPROP:
        FL_SIMD
        for (fl_index j = 0; j < m; j++)
            p[j] = FL_NAME(rmsprop_rule)(p[j], s * v[j], s1 + j, NULL, NULL, &k->rmsprop, 0,
                                         decay, 0, 0);
        break;
    case FL_OPT_NADAM: { /* with decay (alpha != 0) the scalars' is 1 (L2) or 2 (decoupled) */
        const int kind = decay ? (k->nadam.decay == 2 ? 2 : 1) : 0;
        if (kind == 0) FL_NAME(nadam_step)(m, p, v, s, s1, s2, &k->nadam, 0);
        else if (kind == 1) FL_NAME(nadam_step)(m, p, v, s, s1, s2, &k->nadam, 1);
        else FL_NAME(nadam_step)(m, p, v, s, s1, s2, &k->nadam, 2);
        break;
    }
    case FL_OPT_RADAM: {
        const int kind = decay ? (k->radam.decay == 2 ? 2 : 1) : 0;
        const FL_NAME(radam_scalars) *r = &k->radam;
        if (r->rectified) {
            if (kind == 0) FL_NAME(radam_step)(m, p, v, s, s1, s2, r, 0, 1);
            else if (kind == 1) FL_NAME(radam_step)(m, p, v, s, s1, s2, r, 1, 1);
            else FL_NAME(radam_step)(m, p, v, s, s1, s2, r, 2, 1);
        } else {
            if (kind == 0) FL_NAME(radam_step)(m, p, v, s, s1, s2, r, 0, 0);
            else if (kind == 1) FL_NAME(radam_step)(m, p, v, s, s1, s2, r, 1, 0);
            else FL_NAME(radam_step)(m, p, v, s, s1, s2, r, 2, 0);
        }
        break;
    }
    case FL_OPT_ADAMAX:
        FL_SIMD
        for (fl_index j = 0; j < m; j++)
            p[j] = FL_NAME(adamax_rule)(p[j], s * v[j], s1 + j, s2 + j, &k->adamax, 0, decay);
        break;
    case FL_OPT_LION:
        FL_SIMD
        for (fl_index j = 0; j < m; j++)
            p[j] = FL_NAME(lion_rule)(p[j], s * v[j], s1 + j, &k->lion, 0, decay);
        break;
    default: /* FL_OPT_ADAM, FL_OPT_ADAMW: adam_rule's DECAY is 1 (L2) or 2 (decoupled) */
        FL_SIMD
        for (fl_index j = 0; j < m; j++)
            p[j] = FL_NAME(adam_rule)(p[j], s * v[j], s1 + j, s2 + j, NULL, &k->adam, 0,
                                      decay ? (opt == FL_OPT_ADAMW ? 2 : 1) : 0, 0);
        break;
    }
}

/* step() on coefficients with the epoch's `decay` and `nesterov` turned into compile-time
 * constants: one loop per combination that occurs (nesterov is read by momentum only). */
FL_INLINE void FL_NAME(step_coef)(const int opt, const int decay, const int nesterov,
                                  fl_index m, REAL *FL_RESTRICT p, const REAL *FL_RESTRICT v,
                                  const REAL s, REAL *FL_RESTRICT s1, REAL *FL_RESTRICT s2,
                                  const FL_NAME(rule_scalars) *k) {
    if (opt == FL_OPT_MOMENTUM && nesterov) { /* the rule spelled out: one loop each */
        if (decay) FL_NAME(step)(FL_OPT_MOMENTUM, 1, 1, m, p, v, s, s1, s2, k);
        else FL_NAME(step)(FL_OPT_MOMENTUM, 0, 1, m, p, v, s, s1, s2, k);
    } else if (decay) {
        FL_NAME(step)(opt, 1, 0, m, p, v, s, s1, s2, k);
    } else {
        FL_NAME(step)(opt, 0, 0, m, p, v, s, s1, s2, k);
    }
}

/* Advances the step counter to this update's t and rebuilds the scalars where they change
 * per update: the learning rate of "invscaling", Adam's bias corrections (running powers
 * b1t, b2t), the per-update scalars of nadam, radam and adamax (NAdam's mu_product
 * advanced). Otherwise the scalars of the call's first update stand. RUNTIME: opt is a
 * run-time value (rule_scalars_at_run_time). */
FL_INLINE void FL_NAME(next_step)(const int opt, const int RUNTIME, const fl_sgd_config *cfg,
                                  FL_NAME(epoch_clock) *ck, FL_NAME(rule_scalars) *k) {
    ck->t += 1;
    const int invscaling = cfg->schedule == FL_LR_INVSCALING;
    if (FL_NAME(is_adam)(opt)) {
        ck->b1t *= cfg->beta1;
        ck->b2t *= cfg->beta2;
    }
    if (invscaling || FL_NAME(per_update)(opt)) {
        const double eta = invscaling ? cfg->lr / pow((double)ck->t, cfg->power_t) : cfg->lr;
        if (RUNTIME)
            FL_NAME(rule_scalars_at_run_time)(opt, cfg, eta, ck->t, ck->b1t, ck->b2t,
                                              ck->mu_product, k);
        else
            FL_NAME(rule_scalars_of)(opt, cfg, eta, ck->t, ck->b1t, ck->b2t, ck->mu_product, k);
        if (opt == FL_OPT_NADAM) ck->mu_product = k->nadam.mu_product; /* this update's */
    }
}

/* Row j of a (., c) state array, or NULL where the rule keeps none. */
FL_INLINE REAL *FL_NAME(row_of)(REAL *a, fl_index j, fl_index c) { return a ? a + j * c : NULL; }

/* The arrays of an epoch, typed: coef w (d,) and intercept b (1,) or NULL for a single
 * output (y the targets); w (d, c) row-major and b (c,) or NULL for softmax. */
typedef struct {
    fl_index n, d, c, rs, cs;
    const REAL *X, *y, *sw;
    const int64_t *order;
    REAL *w, *b;
} FL_NAME(epoch_arrays);

FL_INLINE FL_NAME(epoch_arrays) FL_NAME(epoch_arrays_of)(const fl_sgd_data *D) {
    FL_NAME(epoch_arrays) a;
    a.n = D->s.n;
    a.d = D->s.d;
    a.c = D->s.c;
    a.rs = D->s.row_stride;
    a.cs = D->s.col_stride;
    a.X = (const REAL *)D->s.X;
    a.y = (const REAL *)D->s.y;
    a.sw = (const REAL *)D->s.sample_weight;
    a.order = D->order;
    a.w = (REAL *)D->coef;
    a.b = (REAL *)D->intercept;
    return a;
}

/* Sample i's weighted dl/dz at the prediction z, its weighted loss added to *total (in
 * double). (REAL)(w_i dl/dz) in double would be the same: a product of two REALs is exact
 * in double. */
FL_INLINE REAL FL_NAME(sample_grad)(const int loss, const FL_NAME(epoch_arrays) *a,
                                    fl_index i, REAL z, REAL epsilon, double *total) {
    REAL dz;
    const REAL l = FL_NAME(loss1)(loss, z, a->y[i], epsilon, &dz);
    const REAL wi = a->sw ? a->sw[i] : (REAL)1;
    *total += (double)wi * (double)l;
    return wi * dz;
}

/* Visit v of a single-output epoch, sample *i = order[v]: returns its row x_i (NULL if
 * order[v] is out of range: then D->bad = v) and sets *g to its weighted dl/dz at the
 * current coef and intercept, its weighted loss added to *total. */
FL_INLINE const REAL *FL_NAME(visit1)(const int loss, const FL_NAME(epoch_arrays) *a,
                                      fl_index v, REAL epsilon, REAL *xbuf, fl_sgd_data *D,
                                      fl_index *i, REAL *g, double *total) {
    *i = fl_visit(a->order, v, a->n);
    if (*i < 0) {
        D->bad = v;
        return NULL;
    }
    const REAL *x = FL_NAME(row)(a->X, *i, a->rs, a->cs, a->d, xbuf);
    const REAL dot = FL_NAME(dot)(a->d, x, a->w);
    *g = FL_NAME(sample_grad)(loss, a, *i, a->b ? dot + a->b[0] : dot, epsilon, total);
    return x;
}

/* An update of a single-output model, the rule chosen at run time: coef with gradient
 * scale gw, the intercept with scale gsum[0]. It runs once per batch, so the mini-batch
 * loops are specialized on the loss alone (their per-sample work) and share one copy of the
 * rules, which keeps the translation unit's compile time in bounds; the per-sample epochs
 * of the rules without a loop of their own (nadam, radam, adamax, lion) call it once per
 * sample (gw = x_i, gsum = 1, scale = w_i dl/dz: epoch1's update). */
static FL_HOT_NO_AVX512 FL_NOINLINE void FL_NAME(batch_step1)(
    const int opt, const int decay, const int nesterov, fl_index d, REAL *FL_RESTRICT w,
    const REAL *FL_RESTRICT gw, REAL *b, const REAL *gsum, const REAL scale,
    const FL_NAME(rule_state) *st, const FL_NAME(rule_scalars) *k) {
    FL_NAME(step_coef)(opt, decay, nesterov, d, w, gw, scale, st->s1w, st->s2w, k);
    if (b) FL_NAME(step_coef)(opt, 0, nesterov, 1, b, gsum, scale, st->s1b, st->s2b, k);
}

/* Single output, any rule; RUNTIME: the rule opt is a run-time value, each update is
 * batch_step1()'s (no loop of the rule's own here). */
FL_INLINE double FL_NAME(epoch1)(const int loss, const int opt, const int RUNTIME,
                                 const fl_sgd_config *cfg, fl_sgd_data *D) {
    const FL_NAME(epoch_arrays) a = FL_NAME(epoch_arrays_of)(D);
    const fl_index n = a.n, d = a.d;
    REAL *FL_RESTRICT w = a.w;
    REAL *b = a.b;
    const FL_NAME(rule_state) st = FL_NAME(rule_state_of)(D);
    REAL *xbuf = (REAL *)D->work;
    const int decay = cfg->alpha != 0, nesterov = cfg->nesterov;
    const REAL one = 1, epsilon = (REAL)cfg->epsilon;
    FL_NAME(rule_scalars) k;
    FL_NAME(epoch_clock) ck = FL_NAME(epoch_start)(opt, RUNTIME, cfg, D, &k);
    double total = 0;

    for (fl_index v = 0; v < n; v++) {
        fl_index i;
        REAL g;
        const REAL *FL_RESTRICT x =
            FL_NAME(visit1)(loss, &a, v, epsilon, xbuf, D, &i, &g, &total);
        if (!x) break;
        FL_NAME(next_step)(opt, RUNTIME, cfg, &ck, &k);
        if (RUNTIME) {
            FL_NAME(batch_step1)(opt, decay, nesterov, d, w, x, b, &one, g, &st, &k);
            continue;
        }
        FL_NAME(step_coef)(opt, decay, nesterov, d, w, x, g, st.s1w, st.s2w, &k);
        if (b) FL_NAME(step_coef)(opt, 0, nesterov, 1, b, &one, g, st.s1b, st.s2b, &k);
    }
    FL_NAME(epoch_stop)(&ck, D);
    return total;
}

/* Plain SGD, single output, small d: the same updates as epoch1(), scheduled to take
 * the vector work off the sample-to-sample dependency chain. In epoch1() each sample
 * waits for dot -> loss -> update -> next dot; with few features that latency, not
 * arithmetic, sets the speed. Here the update is rank one,
 *   coef_k = decay_k coef_{k-1} - eta_k g_k x_k      (decay_k = 1 - eta_k alpha),
 * so the next prediction follows from two dot products that do not need g_k:
 *   x_{k+1} . coef_k = decay_k (x_{k+1} . coef_{k-1}) - eta_k g_k (x_{k+1} . x_k).
 * Only a few scalar operations per sample remain on the chain; the dots and the
 * update overlap with them. Equal to epoch1() up to rounding (the prediction is
 * summed in a different order). */
FL_INLINE double FL_NAME(epoch1_sgd_small)(const int loss, const fl_sgd_config *cfg,
                                           fl_sgd_data *D) {
    const FL_NAME(epoch_arrays) a = FL_NAME(epoch_arrays_of)(D);
    const fl_index n = a.n, d = a.d;
    REAL *FL_RESTRICT w = a.w;
    REAL *b = a.b;
    REAL *buf[2] = {(REAL *)D->work, (REAL *)D->work + d};
    const int decay = cfg->alpha != 0, invscaling = cfg->schedule == FL_LR_INVSCALING;
    const double lr = cfg->lr, power_t = cfg->power_t;
    const REAL alpha = (REAL)cfg->alpha, epsilon = (REAL)cfg->epsilon;
    int64_t t = D->t;
    double total = 0;
    if (n == 0) return 0;

    REAL eta = (REAL)lr;
    REAL bias = b ? b[0] : (REAL)0;
    fl_index i = fl_visit(a.order, 0, n);
    if (i < 0) {
        D->bad = 0;
        return 0;
    }
    const REAL *x = FL_NAME(row)(a.X, i, a.rs, a.cs, d, buf[0]);
    REAL z = FL_NAME(dot)(d, x, w) + bias;
    for (fl_index k = 0; k < n; k++) {
        /* next sample's dots against the parameters before this update */
        const REAL *xn = x;
        REAL p = 0, q = 0;
        const fl_index i_next = k + 1 < n ? fl_visit(a.order, k + 1, n) : -1;
        if (i_next >= 0) {
            xn = FL_NAME(row)(a.X, i_next, a.rs, a.cs, d, buf[(k + 1) & 1]);
            p = FL_NAME(dot)(d, xn, w);
            q = FL_NAME(dot)(d, xn, x);
        }
        const REAL g = FL_NAME(sample_grad)(loss, &a, i, z, epsilon, &total);
        t += 1;
        if (invscaling) eta = (REAL)(lr / pow((double)t, power_t));
        const REAL eg = eta * g;
        if (decay) {
            const REAL dk = FL_NAME(decay_factor)(eta, alpha);
            FL_SIMD
            for (fl_index j = 0; j < d; j++) w[j] = dk * w[j] - eg * x[j];
            p *= dk;
        } else {
            FL_SIMD
            for (fl_index j = 0; j < d; j++) w[j] -= eg * x[j];
        }
        if (b) bias -= eg;
        z = p - eg * q + bias;
        x = xn;
        i = i_next;
        if (i < 0 && k + 1 < n) { /* the next index was out of range: stop before it */
            D->bad = k + 1;
            break;
        }
    }
    if (b) b[0] = bias;
    D->t = t;
    return total;
}

/* Mini-batch, single output, any rule: the visits in batches of B = batch_size (the last
 * one shorter); every sample of a batch is evaluated at the batch's starting parameters,
 * its weighted gradient w_i dl/dz (x_i, 1) summed (in REAL) into gw = work + 2 d + 2 and
 * gsum, then one update with the weighted mean: step() scales the sums by
 * 1 / sum_batch w_i (by 0 for a batch of zero total weight, as linear_value_and_grad). */
FL_INLINE double FL_NAME(epoch1_batch)(const int loss, const int opt, const fl_sgd_config *cfg,
                                       fl_sgd_data *D) {
    const FL_NAME(epoch_arrays) a = FL_NAME(epoch_arrays_of)(D);
    const fl_index n = a.n, d = a.d, B = cfg->batch_size;
    REAL *FL_RESTRICT w = a.w;
    REAL *b = a.b;
    const FL_NAME(rule_state) st = FL_NAME(rule_state_of)(D);
    REAL *xbuf = (REAL *)D->work;
    REAL *FL_RESTRICT gw = xbuf + 2 * d + 2;
    const int decay = cfg->alpha != 0, nesterov = cfg->nesterov;
    const REAL epsilon = (REAL)cfg->epsilon;
    FL_NAME(rule_scalars) k;
    FL_NAME(epoch_clock) ck = FL_NAME(epoch_start)(opt, 1, cfg, D, &k);
    double total = 0;

    for (fl_index first = 0; first < n && D->bad < 0;) {
        const fl_index end = n - first > B ? first + B : n; /* no first + B: B may be huge */
        REAL gsum = 0;
        double wsum = 0;
        for (fl_index j = 0; j < d; j++) gw[j] = 0;
        for (fl_index v = first; v < end; v++) {
            fl_index i;
            REAL g;
            const REAL *FL_RESTRICT x =
                FL_NAME(visit1)(loss, &a, v, epsilon, xbuf, D, &i, &g, &total);
            if (!x) break;
            wsum += a.sw ? (double)a.sw[i] : 1.0;
            FL_SIMD
            for (fl_index j = 0; j < d; j++) gw[j] += g * x[j];
            gsum += g;
        }
        if (D->bad >= 0) break; /* the batch cut short is not applied */
        const REAL scale = wsum != 0 ? (REAL)(1.0 / wsum) : (REAL)0;
        FL_NAME(next_step)(opt, 1, cfg, &ck, &k);
        FL_NAME(batch_step1)(opt, decay, nesterov, d, w, gw, b, &gsum, scale, &st, &k);
        first = end;
    }
    FL_NAME(epoch_stop)(&ck, D);
    return total;
}

/* One softmax sample: z = x W + b into zb (c), the weighted gradient
 * wi (softmax(z) - e_yi) into gb (c); returns wi l in double. */
FL_INLINE double FL_NAME(softmax_sample)(fl_index d, fl_index c, const REAL *FL_RESTRICT x,
                                         const REAL *FL_RESTRICT W, const REAL *b, int64_t yi,
                                         double wi, REAL *FL_RESTRICT zb,
                                         REAL *FL_RESTRICT gb) {
    for (fl_index q = 0; q < c; q++) zb[q] = b ? b[q] : (REAL)0;
    for (fl_index j = 0; j < d; j++) {
        const REAL xj = x[j];
        const REAL *FL_RESTRICT wr = W + j * c;
        FL_SIMD
        for (fl_index q = 0; q < c; q++) zb[q] += xj * wr[q];
    }
    /* log-sum-exp from the max; a NaN logit makes the sum, and so everything, NaN */
    double mx = zb[0];
    for (fl_index q = 1; q < c; q++) mx = zb[q] > mx ? zb[q] : mx;
    double se = 0;
    for (fl_index q = 0; q < c; q++) {
        const double e = exp((double)zb[q] - mx);
        gb[q] = (REAL)e; /* reused for softmax = e / se: one exp per class */
        se += e;
    }
    const double inv_se = 1.0 / se;
    for (fl_index q = 0; q < c; q++)
        gb[q] = (REAL)(wi * ((double)gb[q] * inv_se - (q == yi ? 1.0 : 0.0)));
    return wi * ((mx - (double)zb[yi]) + log(se)); /* not lse - z_y: see losses_impl.h */
}

/* Visit v of a softmax epoch: returns its row x_i (NULL if order[v] or its label is out of
 * range: then D->bad = v; each loaded once and checked), its weighted gradient into gb
 * (zb: the logits), its weighted loss added to *total and its weight in *wi. */
FL_INLINE const REAL *FL_NAME(visit_softmax)(const FL_NAME(epoch_arrays) *a, fl_index v,
                                             REAL *xbuf, REAL *FL_RESTRICT zb,
                                             REAL *FL_RESTRICT gb, fl_sgd_data *D,
                                             double *wi, double *total) {
    const fl_index i = fl_visit(a->order, v, a->n);
    const int64_t yi = i < 0 ? -1 : fl_load_index(D->s.labels + i);
    if ((uint64_t)yi >= (uint64_t)a->c) { /* also i < 0 */
        D->bad = v;
        return NULL;
    }
    const REAL *x = FL_NAME(row)(a->X, i, a->rs, a->cs, a->d, xbuf);
    *wi = a->sw ? (double)a->sw[i] : 1.0;
    *total += FL_NAME(softmax_sample)(a->d, a->c, x, a->w, a->b, yi, *wi, zb, gb);
    return x;
}

/* One update of a softmax model: row j of W with gradient s V_j (V (d, c) row-major: the
 * sample's gb with s = x_j, or the batch's sum with s = its scale and stride c), the
 * intercept with s u. */
FL_INLINE void FL_NAME(step_softmax)(const int opt, const int decay, const int nesterov,
                                     const FL_NAME(epoch_arrays) *a, const REAL *V,
                                     fl_index v_stride, const REAL *s, fl_index s_stride,
                                     const REAL *u, REAL su, const FL_NAME(rule_state) *st,
                                     const FL_NAME(rule_scalars) *h) {
    const fl_index c = a->c;
    for (fl_index j = 0; j < a->d; j++)
        FL_NAME(step_coef)(opt, decay, nesterov, c, a->w + j * c, V + j * v_stride,
                           s[j * s_stride], FL_NAME(row_of)(st->s1w, j, c),
                           FL_NAME(row_of)(st->s2w, j, c), h);
    if (a->b) FL_NAME(step_coef)(opt, 0, nesterov, c, a->b, u, su, st->s1b, st->s2b, h);
}

/* A softmax update, the rule chosen at run time (see batch_step1): step_softmax()'s
 * arguments, once per batch, or once per sample for the rules without a loop of their own. */
static FL_HOT_NO_AVX512 FL_NOINLINE void FL_NAME(batch_step_softmax)(
    const int opt, const int decay, const int nesterov, const FL_NAME(epoch_arrays) *a,
    const REAL *V, fl_index v_stride, const REAL *s, fl_index s_stride, const REAL *u,
    REAL su, const FL_NAME(rule_state) *st, const FL_NAME(rule_scalars) *h) {
    FL_NAME(step_softmax)(opt, decay, nesterov, a, V, v_stride, s, s_stride, u, su, st, h);
}

/* Softmax over c outputs, one update per sample; RUNTIME as in epoch1(). */
FL_INLINE double FL_NAME(epoch_softmax)(const int opt, const int RUNTIME,
                                        const fl_sgd_config *cfg, fl_sgd_data *D) {
    const FL_NAME(epoch_arrays) a = FL_NAME(epoch_arrays_of)(D);
    const fl_index d = a.d, c = a.c;
    const FL_NAME(rule_state) st = FL_NAME(rule_state_of)(D);
    REAL *xbuf = (REAL *)D->work;
    REAL *FL_RESTRICT zb = xbuf + d;
    REAL *FL_RESTRICT gb = zb + c;
    const int decay = cfg->alpha != 0, nesterov = cfg->nesterov;
    FL_NAME(rule_scalars) h;
    FL_NAME(epoch_clock) ck = FL_NAME(epoch_start)(opt, RUNTIME, cfg, D, &h);
    double total = 0;

    for (fl_index k = 0; k < a.n; k++) {
        double wi;
        const REAL *FL_RESTRICT x =
            FL_NAME(visit_softmax)(&a, k, xbuf, zb, gb, D, &wi, &total);
        if (!x) break;
        FL_NAME(next_step)(opt, RUNTIME, cfg, &ck, &h);
        /* row j of W: gradient x_j gb */
        if (RUNTIME)
            FL_NAME(batch_step_softmax)(opt, decay, nesterov, &a, gb, 0, x, 1, gb, 1, &st, &h);
        else
            FL_NAME(step_softmax)(opt, decay, nesterov, &a, gb, 0, x, 1, gb, 1, &st, &h);
    }
    FL_NAME(epoch_stop)(&ck, D);
    return total;
}

/* Softmax, mini-batch: as epoch1_batch(), the batch's gradient sums in work + 2 d + 2 c:
 * GW (d, c) = sum w_i x_i^T (softmax - e_y), then GB (c). */
FL_INLINE double FL_NAME(epoch_softmax_batch)(const int opt, const fl_sgd_config *cfg,
                                              fl_sgd_data *D) {
    const FL_NAME(epoch_arrays) a = FL_NAME(epoch_arrays_of)(D);
    const fl_index n = a.n, d = a.d, c = a.c, B = cfg->batch_size;
    const FL_NAME(rule_state) st = FL_NAME(rule_state_of)(D);
    REAL *xbuf = (REAL *)D->work;
    REAL *FL_RESTRICT zb = xbuf + d;
    REAL *FL_RESTRICT gb = zb + c;
    REAL *FL_RESTRICT GW = xbuf + 2 * d + 2 * c;
    REAL *FL_RESTRICT GB = GW + d * c;
    const int decay = cfg->alpha != 0, nesterov = cfg->nesterov;
    FL_NAME(rule_scalars) h;
    FL_NAME(epoch_clock) ck = FL_NAME(epoch_start)(opt, 1, cfg, D, &h);
    double total = 0;

    for (fl_index first = 0; first < n && D->bad < 0;) {
        const fl_index end = n - first > B ? first + B : n;
        double wsum = 0;
        for (fl_index q = 0; q < (d + 1) * c; q++) GW[q] = 0; /* GB follows GW */
        for (fl_index v = first; v < end; v++) {
            double wi;
            const REAL *FL_RESTRICT x =
                FL_NAME(visit_softmax)(&a, v, xbuf, zb, gb, D, &wi, &total);
            if (!x) break;
            wsum += wi;
            for (fl_index j = 0; j < d; j++) {
                const REAL xj = x[j];
                REAL *FL_RESTRICT gr = GW + j * c;
                FL_SIMD
                for (fl_index q = 0; q < c; q++) gr[q] += xj * gb[q];
            }
            FL_SIMD
            for (fl_index q = 0; q < c; q++) GB[q] += gb[q];
        }
        if (D->bad >= 0) break; /* the batch cut short is not applied */
        const REAL scale = wsum != 0 ? (REAL)(1.0 / wsum) : (REAL)0;
        FL_NAME(next_step)(opt, 1, cfg, &ck, &h);
        FL_NAME(batch_step_softmax)(opt, decay, nesterov, &a, GW, c, &scale, 0, GB, scale,
                                    &st, &h);
        first = end;
    }
    FL_NAME(epoch_stop)(&ck, D);
    return total;
}

/* The dispatch switches: one case per (loss, rule) pair, keyed 8 loss + rule. */
#define FL_EACH_RULE(CASE, L)                                                               \
    CASE(L, FL_OPT_SGD) CASE(L, FL_OPT_MOMENTUM) CASE(L, FL_OPT_ADAGRAD)                    \
    CASE(L, FL_OPT_RMSPROP) CASE(L, FL_OPT_ADAM) CASE(L, FL_OPT_ADAMW)
#define FL_EACH_PAIR(CASE, SOFTMAX_CASE)                                                    \
    FL_EACH_RULE(CASE, FL_LIN_SQUARED) FL_EACH_RULE(CASE, FL_LIN_ABSOLUTE)                  \
    FL_EACH_RULE(CASE, FL_LIN_HUBER) FL_EACH_RULE(CASE, FL_LIN_LOGISTIC)                    \
    FL_EACH_RULE(SOFTMAX_CASE, FL_LIN_SOFTMAX)


/* The epochs with the rule chosen at run time: mini-batch epochs (every rule), and the
 * per-sample epochs of the rules without a (loss, rule) loop of their own (nadam, radam,
 * adamax, lion: their update is batch_step1's, one call per sample, which keeps the
 * translation unit's compile time in bounds). A function of its own, so that the
 * per-sample dispatch below stays the code it was (in one function with it, the
 * per-sample loops' rounding changed: the compiler fused other multiply-adds). */
static FL_HOT_NO_AVX512 FL_NOINLINE double FL_NAME(sgd_epoch_batch)(const fl_sgd_config *cfg,
                                                                   fl_sgd_data *D) {
    const int opt = cfg->optimizer, batches = cfg->batch_size > 1;
#define FL_EPOCH1_RUNTIME(L)                                                                \
    batches ? FL_NAME(epoch1_batch)(L, opt, cfg, D) : FL_NAME(epoch1)(L, opt, 1, cfg, D)
    switch ((enum fl_linear_loss)cfg->loss) {
    case FL_LIN_SQUARED: return FL_EPOCH1_RUNTIME(FL_LIN_SQUARED);
    case FL_LIN_ABSOLUTE: return FL_EPOCH1_RUNTIME(FL_LIN_ABSOLUTE);
    case FL_LIN_HUBER: return FL_EPOCH1_RUNTIME(FL_LIN_HUBER);
    case FL_LIN_LOGISTIC: return FL_EPOCH1_RUNTIME(FL_LIN_LOGISTIC);
    case FL_LIN_SOFTMAX:
        return batches ? FL_NAME(epoch_softmax_batch)(opt, cfg, D)
                       : FL_NAME(epoch_softmax)(opt, 1, cfg, D);
    /* scikit-learn's SGD losses are fl_sgd_epoch_scaled's alone (linear.h): a loop for
     * them here would cost the translation unit 20% more compile time for no caller */
    case FL_LIN_HINGE:
    case FL_LIN_SQUARED_HINGE:
    case FL_LIN_MODIFIED_HUBER:
    case FL_LIN_EPSILON_INSENSITIVE:
    case FL_LIN_SQUARED_EPSILON_INSENSITIVE: break;
    /* the GLM and quantile losses: one loop for the four, the loss a run-time value (its
     * exp, not the switch, is the per-sample cost; four loops would add compile time) */
    case FL_LIN_POISSON:
    case FL_LIN_GAMMA:
    case FL_LIN_TWEEDIE:
    case FL_LIN_PINBALL: return FL_EPOCH1_RUNTIME(cfg->loss);
    }
#undef FL_EPOCH1_RUNTIME
    return 0;
}

/* Per sample: one function per (loss, rule) pair (small functions compile much faster than
 * one holding every loop); plain SGD on short rows runs the latency-hiding loop. */
#define FL_EPOCH_FN(L, O)                                                                   \
    static FL_HOT_NO_AVX512 FL_NOINLINE double FL_NAME(epoch_##L##_##O)(                    \
        const fl_sgd_config *cfg, fl_sgd_data *D) {                                         \
        if ((O) == FL_OPT_SGD && D->s.d * (fl_index)sizeof(REAL) <= FL_SGD_SMALL_BYTES)     \
            return FL_NAME(epoch1_sgd_small)(L, cfg, D);                                    \
        return FL_NAME(epoch1)(L, O, 0, cfg, D);                                            \
    }
#define FL_EPOCH_SOFTMAX_FN(L, O)                                                           \
    static FL_HOT_NO_AVX512 FL_NOINLINE double FL_NAME(epoch_##L##_##O)(                    \
        const fl_sgd_config *cfg, fl_sgd_data *D) {                                         \
        return FL_NAME(epoch_softmax)(O, 0, cfg, D);                                        \
    }
FL_EACH_PAIR(FL_EPOCH_FN, FL_EPOCH_SOFTMAX_FN)

#define FL_EPOCH_CASE(L, O)                                                                 \
    case 8 * (L) + (O): return FL_NAME(epoch_##L##_##O)(cfg, D);

static double FL_NAME(sgd_epoch)(const fl_sgd_config *cfg, fl_sgd_data *D) {
    /* the rules past adamw and the losses from poisson on have no per-sample loops of
     * their own (and 8 loss + rule keys only up to adamw) */
    if (cfg->batch_size > 1 || cfg->optimizer > FL_OPT_ADAMW || cfg->loss >= FL_LIN_POISSON)
        return FL_NAME(sgd_epoch_batch)(cfg, D);
    switch (8 * cfg->loss + cfg->optimizer) {
    FL_EACH_PAIR(FL_EPOCH_CASE, FL_EPOCH_CASE)
    default: return 0;
    }
}

#undef FL_EACH_RULE
#undef FL_EACH_PAIR
#undef FL_EPOCH_CASE
#undef FL_EPOCH_FN
#undef FL_EPOCH_SOFTMAX_FN
