/* Per-sample SGD epoch for one floating type. Included by linear_f64.c and linear_f32.c, with
 *   REAL = double | float,  SFX = f64 | f32,  R_SQRT = sqrt | sqrtf (fl_real.h).
 *
 * Shape: loss1() is the loss and derivative of one single-output sample;
 * step() applies one update rule to a parameter vector; epoch1() and
 * epoch_softmax() run the sample loop with (loss, optimizer) as compile-time
 * constants, so each pair is its own branch-free loop whose dot product and
 * update vectorize; sgd_epoch() picks the instantiation once per call.
 */

/* Per-sample scalars of the update rules, in the parameters' dtype. */
typedef struct {
    REAL eta, mu, rho, one_m_rho, b1, one_m_b1, b2, one_m_b2, eps;
    REAL step_size, bc2_sqrt; /* adam: eta / (1 - b1^t), sqrt(1 - b2^t) */
} FL_NAME(hyper);

/* Loss and dl/dz of one sample, in double (scalar work, once per sample). */
FL_INLINE double FL_NAME(loss1)(const int loss, double z, double y, double eps, double *dz) {
    const double r = z - y;
    switch (loss) {
    case FL_LIN_SQUARED:
        *dz = r;
        return 0.5 * r * r;
    case FL_LIN_ABSOLUTE:
        /* subgradient 0 at r == 0; NaN stays NaN */
        *dz = r > 0 ? 1.0 : (r < 0 ? -1.0 : r);
        return fabs(r);
    case FL_LIN_HUBER: {
        const double a = fabs(r);
        *dz = r < -eps ? -eps : (r > eps ? eps : r);
        return a <= eps ? 0.5 * r * r : eps * (a - 0.5 * eps);
    }
    default: { /* FL_LIN_LOGISTIC: softplus(z) = max(z, 0) + log1p(exp(-|z|)), never overflows */
        const double e = exp(-fabs(z));
        const double inv = 1.0 / (1.0 + e);
        *dz = (z >= 0 ? inv : e * inv) - y;
        /* the small log1p term last: max(z, 0) - y z is exact for y in {0, 1}, and adding
         * log1p first would lose it to the cancellation of z - z */
        return ((z > 0 ? z : 0.0) - y * z) + log1p(e);
    }
    }
}

/* max(0, 1 - eta alpha): the L2 shrink factor of a plain SGD step (scikit-learn's clamp). */
FL_INLINE REAL FL_NAME(decay_factor)(REAL eta, REAL alpha) {
    const REAL keep = (REAL)1 - eta * alpha;
    return keep > 0 ? keep : (REAL)0;
}

/* One update of the m parameters p with gradient g_j = s v_j (+ alpha p_j when
 * decay), state s1/s2 as the rule needs. `opt` and `decay` are constants at
 * every call site, so the switch folds away and the loop vectorizes. */
FL_INLINE void FL_NAME(step)(const int opt, const int decay, fl_index m, REAL *FL_RESTRICT p,
                             const REAL *FL_RESTRICT v, const REAL s, const REAL alpha,
                             REAL *FL_RESTRICT s1, REAL *FL_RESTRICT s2, int nesterov,
                             const FL_NAME(hyper) *h) {
#define FL_GRAD(j) (decay ? s * v[j] + alpha * p[j] : s * v[j])
    const REAL eta = h->eta, eps = h->eps;
    switch (opt) {
    case FL_OPT_SGD:
        if (decay) {
            /* p - eta (s v + alpha p) = (1 - eta alpha) p - eta s v, with the factor clamped
             * at 0 as scikit-learn does: eta alpha > 1 zeroes the weights instead of
             * flipping their sign and growing them every step */
            const REAL keep = FL_NAME(decay_factor)(eta, alpha);
            FL_SIMD
            for (fl_index j = 0; j < m; j++) p[j] = keep * p[j] - eta * (s * v[j]);
        } else {
            FL_SIMD
            for (fl_index j = 0; j < m; j++) p[j] -= eta * (s * v[j]);
        }
        break;
    case FL_OPT_MOMENTUM: {
        const REAL mu = h->mu;
        if (nesterov) {
            FL_SIMD
            for (fl_index j = 0; j < m; j++) {
                const REAL g = FL_GRAD(j);
                const REAL b = mu * s1[j] + g;
                s1[j] = b;
                p[j] -= eta * (g + mu * b);
            }
        } else {
            FL_SIMD
            for (fl_index j = 0; j < m; j++) {
                const REAL b = mu * s1[j] + FL_GRAD(j);
                s1[j] = b;
                p[j] -= eta * b;
            }
        }
        break;
    }
    case FL_OPT_ADAGRAD:
        FL_SIMD
        for (fl_index j = 0; j < m; j++) {
            const REAL g = FL_GRAD(j);
            const REAL acc = s1[j] + g * g;
            s1[j] = acc;
            p[j] -= eta * (g / (R_SQRT(acc) + eps));
        }
        break;
    case FL_OPT_RMSPROP: {
        const REAL rho = h->rho, one_m_rho = h->one_m_rho;
        FL_SIMD
        for (fl_index j = 0; j < m; j++) {
            const REAL g = FL_GRAD(j);
            const REAL avg = rho * s1[j] + one_m_rho * g * g;
            s1[j] = avg;
            p[j] -= eta * (g / (R_SQRT(avg) + eps));
        }
        break;
    }
    default: { /* FL_OPT_ADAM */
        const REAL b1 = h->b1, c1 = h->one_m_b1, b2 = h->b2, c2 = h->one_m_b2;
        const REAL step_size = h->step_size, bc2_sqrt = h->bc2_sqrt;
        FL_SIMD
        for (fl_index j = 0; j < m; j++) {
            const REAL g = FL_GRAD(j);
            const REAL mj = b1 * s1[j] + c1 * g;
            const REAL vj = b2 * s2[j] + c2 * g * g;
            s1[j] = mj;
            s2[j] = vj;
            p[j] -= step_size * (mj / (R_SQRT(vj) / bc2_sqrt + eps));
        }
        break;
    }
    }
#undef FL_GRAD
}

/* Scalars of the rules that do not change within a call. */
FL_INLINE void FL_NAME(hyper_init)(const fl_sgd_config *cfg, FL_NAME(hyper) *h) {
    h->eta = (REAL)cfg->lr;
    h->mu = (REAL)cfg->momentum;
    h->rho = (REAL)cfg->rho;
    h->one_m_rho = (REAL)(1.0 - cfg->rho);
    h->b1 = (REAL)cfg->beta1;
    h->one_m_b1 = (REAL)(1.0 - cfg->beta1);
    h->b2 = (REAL)cfg->beta2;
    h->one_m_b2 = (REAL)(1.0 - cfg->beta2);
    h->eps = (REAL)cfg->eps;
    h->step_size = h->eta;
    h->bc2_sqrt = 1;
}

/* Advances the step counter and sets this update's learning rate (and Adam's
 * bias corrections, from running powers b1^t, b2^t: no pow() per sample). */
FL_INLINE void FL_NAME(next_step)(const int opt, const fl_sgd_config *cfg, int64_t *t,
                                  double *b1t, double *b2t, FL_NAME(hyper) *h) {
    *t += 1;
    double eta = cfg->lr;
    if (cfg->schedule == FL_LR_INVSCALING) {
        eta = cfg->lr / pow((double)*t, cfg->power_t);
        h->eta = (REAL)eta;
    }
    if (opt == FL_OPT_ADAM) {
        *b1t *= cfg->beta1;
        *b2t *= cfg->beta2;
        h->step_size = (REAL)(eta / (1.0 - *b1t));
        h->bc2_sqrt = (REAL)sqrt(1.0 - *b2t);
    }
}

/* Row i of X as a unit-stride vector: X itself when columns are contiguous,
 * else gathered into buf (F-ordered or sliced X: one strided read per value). */
FL_INLINE const REAL *FL_NAME(row)(const REAL *X, fl_index i, fl_index rs, fl_index cs,
                                  fl_index d, REAL *FL_RESTRICT buf) {
    const REAL *x = X + i * rs;
    if (cs == 1) return x;
    for (fl_index j = 0; j < d; j++) buf[j] = x[j * cs];
    return buf;
}

FL_INLINE REAL FL_NAME(dot)(fl_index d, const REAL *FL_RESTRICT a, const REAL *FL_RESTRICT b) {
    REAL s = 0;
    FL_SIMD_REDUCE_SUM(s)
    for (fl_index j = 0; j < d; j++) s += a[j] * b[j];
    return s;
}

/* Single output: coef (d,), intercept (1,) or NULL. */
FL_INLINE double FL_NAME(epoch1)(const int loss, const int opt, const fl_sgd_config *cfg,
                                 fl_sgd_data *D) {
    const fl_index n = D->n, d = D->d, rs = D->row_stride, cs = D->col_stride;
    const REAL *X = (const REAL *)D->X;
    const REAL *y = (const REAL *)D->y;
    const REAL *sw = (const REAL *)D->sample_weight;
    const int64_t *order = D->order;
    REAL *FL_RESTRICT w = (REAL *)D->coef;
    REAL *b = (REAL *)D->intercept;
    REAL *s1w = (REAL *)D->s1_coef, *s1b = (REAL *)D->s1_intercept;
    REAL *s2w = (REAL *)D->s2_coef, *s2b = (REAL *)D->s2_intercept;
    REAL *xbuf = (REAL *)D->work;
    const int decay = cfg->alpha != 0, nesterov = cfg->nesterov;
    const REAL alpha = (REAL)cfg->alpha, one = 1;
    const double huber_eps = cfg->epsilon;
    FL_NAME(hyper) h;
    FL_NAME(hyper_init)(cfg, &h);
    int64_t t = D->t;
    double b1t = pow(cfg->beta1, (double)t), b2t = pow(cfg->beta2, (double)t);
    double total = 0;

    for (fl_index k = 0; k < n; k++) {
        const fl_index i = fl_visit(order, k, n);
        if (i < 0) {
            D->bad = k;
            break;
        }
        const REAL *FL_RESTRICT x = FL_NAME(row)(X, i, rs, cs, d, xbuf);
        const REAL dot = FL_NAME(dot)(d, x, w);
        const REAL z = b ? dot + b[0] : dot;
        double dz;
        const double l = FL_NAME(loss1)(loss, (double)z, (double)y[i], huber_eps, &dz);
        const double wi = sw ? (double)sw[i] : 1.0;
        total += wi * l;
        FL_NAME(next_step)(opt, cfg, &t, &b1t, &b2t, &h);
        const REAL g = (REAL)(wi * dz);
        if (decay)
            FL_NAME(step)(opt, 1, d, w, x, g, alpha, s1w, s2w, nesterov, &h);
        else
            FL_NAME(step)(opt, 0, d, w, x, g, alpha, s1w, s2w, nesterov, &h);
        if (b) FL_NAME(step)(opt, 0, 1, b, &one, g, 0, s1b, s2b, nesterov, &h);
    }
    D->t = t;
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
    const fl_index n = D->n, d = D->d, rs = D->row_stride, cs = D->col_stride;
    const REAL *X = (const REAL *)D->X;
    const REAL *y = (const REAL *)D->y;
    const REAL *sw = (const REAL *)D->sample_weight;
    const int64_t *order = D->order;
    REAL *FL_RESTRICT w = (REAL *)D->coef;
    REAL *b = (REAL *)D->intercept;
    REAL *buf[2] = {(REAL *)D->work, (REAL *)D->work + d};
    const int decay = cfg->alpha != 0, invscaling = cfg->schedule == FL_LR_INVSCALING;
    const double huber_eps = cfg->epsilon, lr = cfg->lr, power_t = cfg->power_t;
    const REAL alpha = (REAL)cfg->alpha;
    int64_t t = D->t;
    double total = 0;
    if (n == 0) return 0;

    REAL eta = (REAL)lr;
    REAL bias = b ? b[0] : (REAL)0;
    fl_index i = fl_visit(order, 0, n);
    if (i < 0) {
        D->bad = 0;
        return 0;
    }
    const REAL *x = FL_NAME(row)(X, i, rs, cs, d, buf[0]);
    REAL z = FL_NAME(dot)(d, x, w) + bias;
    for (fl_index k = 0; k < n; k++) {
        /* next sample's dots against the parameters before this update */
        const REAL *xn = x;
        REAL p = 0, q = 0;
        const fl_index i_next = k + 1 < n ? fl_visit(order, k + 1, n) : -1;
        if (i_next >= 0) {
            xn = FL_NAME(row)(X, i_next, rs, cs, d, buf[(k + 1) & 1]);
            p = FL_NAME(dot)(d, xn, w);
            q = FL_NAME(dot)(d, xn, x);
        }
        double dz;
        const double l = FL_NAME(loss1)(loss, (double)z, (double)y[i], huber_eps, &dz);
        const double wi = sw ? (double)sw[i] : 1.0;
        total += wi * l;
        t += 1;
        if (invscaling) eta = (REAL)(lr / pow((double)t, power_t));
        const REAL g = (REAL)(wi * dz);
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

/* Softmax over c outputs: coef (d, c) row-major, intercept (c,) or NULL. */
FL_INLINE double FL_NAME(epoch_softmax)(const int opt, const fl_sgd_config *cfg,
                                        fl_sgd_data *D) {
    const fl_index n = D->n, d = D->d, c = D->c, rs = D->row_stride, cs = D->col_stride;
    const REAL *X = (const REAL *)D->X;
    const int64_t *labels = D->labels;
    const REAL *sw = (const REAL *)D->sample_weight;
    const int64_t *order = D->order;
    REAL *FL_RESTRICT W = (REAL *)D->coef;
    REAL *b = (REAL *)D->intercept;
    REAL *s1w = (REAL *)D->s1_coef, *s1b = (REAL *)D->s1_intercept;
    REAL *s2w = (REAL *)D->s2_coef, *s2b = (REAL *)D->s2_intercept;
    REAL *xbuf = (REAL *)D->work;
    REAL *FL_RESTRICT zb = xbuf + d;
    REAL *FL_RESTRICT gb = zb + c;
    const int decay = cfg->alpha != 0, nesterov = cfg->nesterov;
    const REAL alpha = (REAL)cfg->alpha, one = 1;
    FL_NAME(hyper) h;
    FL_NAME(hyper_init)(cfg, &h);
    int64_t t = D->t;
    double b1t = pow(cfg->beta1, (double)t), b2t = pow(cfg->beta2, (double)t);
    double total = 0;

    for (fl_index k = 0; k < n; k++) {
        const fl_index i = fl_visit(order, k, n);
        const int64_t yi = i < 0 ? -1 : fl_load_index(labels + i);
        if ((uint64_t)yi >= (uint64_t)c) { /* also i < 0 */
            D->bad = k;
            break;
        }
        const REAL *FL_RESTRICT x = FL_NAME(row)(X, i, rs, cs, d, xbuf);
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
        const double wi = sw ? (double)sw[i] : 1.0;
        total += wi * ((mx - (double)zb[yi]) + log(se)); /* not lse - z_y: see losses_impl.h */
        for (fl_index q = 0; q < c; q++)
            gb[q] = (REAL)(wi * ((double)gb[q] * inv_se - (q == yi ? 1.0 : 0.0)));
        FL_NAME(next_step)(opt, cfg, &t, &b1t, &b2t, &h);
        for (fl_index j = 0; j < d; j++) {
            REAL *r1 = s1w ? s1w + j * c : NULL, *r2 = s2w ? s2w + j * c : NULL;
            if (decay)
                FL_NAME(step)(opt, 1, c, W + j * c, gb, x[j], alpha, r1, r2, nesterov, &h);
            else
                FL_NAME(step)(opt, 0, c, W + j * c, gb, x[j], alpha, r1, r2, nesterov, &h);
        }
        if (b) FL_NAME(step)(opt, 0, c, b, gb, one, 0, s1b, s2b, nesterov, &h);
    }
    D->t = t;
    return total;
}

#define FL_EPOCH1_CASES(L)                                                                    \
    case 8 * (L) + FL_OPT_SGD:                                                              \
        if (short_rows) return FL_NAME(epoch1_sgd_small)(L, cfg, D);                        \
        return FL_NAME(epoch1)(L, FL_OPT_SGD, cfg, D);                                      \
    case 8 * (L) + FL_OPT_MOMENTUM: return FL_NAME(epoch1)(L, FL_OPT_MOMENTUM, cfg, D);     \
    case 8 * (L) + FL_OPT_ADAGRAD: return FL_NAME(epoch1)(L, FL_OPT_ADAGRAD, cfg, D);       \
    case 8 * (L) + FL_OPT_RMSPROP: return FL_NAME(epoch1)(L, FL_OPT_RMSPROP, cfg, D);       \
    case 8 * (L) + FL_OPT_ADAM: return FL_NAME(epoch1)(L, FL_OPT_ADAM, cfg, D);

static FL_HOT_NO_AVX512 double FL_NAME(sgd_epoch)(const fl_sgd_config *cfg, fl_sgd_data *D) {
    const int short_rows = D->d * (fl_index)sizeof(REAL) <= FL_SGD_SMALL_BYTES;
    switch (8 * cfg->loss + cfg->optimizer) {
    FL_EPOCH1_CASES(FL_LIN_SQUARED)
    FL_EPOCH1_CASES(FL_LIN_ABSOLUTE)
    FL_EPOCH1_CASES(FL_LIN_HUBER)
    FL_EPOCH1_CASES(FL_LIN_LOGISTIC)
    case 8 * FL_LIN_SOFTMAX + FL_OPT_SGD: return FL_NAME(epoch_softmax)(FL_OPT_SGD, cfg, D);
    case 8 * FL_LIN_SOFTMAX + FL_OPT_MOMENTUM:
        return FL_NAME(epoch_softmax)(FL_OPT_MOMENTUM, cfg, D);
    case 8 * FL_LIN_SOFTMAX + FL_OPT_ADAGRAD:
        return FL_NAME(epoch_softmax)(FL_OPT_ADAGRAD, cfg, D);
    case 8 * FL_LIN_SOFTMAX + FL_OPT_RMSPROP:
        return FL_NAME(epoch_softmax)(FL_OPT_RMSPROP, cfg, D);
    case 8 * FL_LIN_SOFTMAX + FL_OPT_ADAM: return FL_NAME(epoch_softmax)(FL_OPT_ADAM, cfg, D);
    default: return 0;
    }
}

#undef FL_EPOCH1_CASES
