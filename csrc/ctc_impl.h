/* ctc.h's loss for one dtype: included by ctc.c with REAL, SFX, R_EXP and R_LOG defined.
 * torch's CPU kernel (aten/src/ATen/native/LossCTC.cpp) state by state: the same
 * logsumexp, shifted by the largest term, the same order of accumulation, the arithmetic in
 * REAL. No include guard: one inclusion per dtype. */

/* log(exp(a) + exp(b) + exp(c)), shifted by the largest (by 0 when all are -inf, where
 * -inf - -inf would be NaN); NaN in, NaN out. */
FL_INLINE REAL FL_NAME(ctc_lse3)(REAL a, REAL b, REAL c) {
    REAL m = a;
    m = b > m ? b : m;
    m = c > m ? c : m;
    m = m == -(REAL)INFINITY ? (REAL)0 : m;
    return R_LOG(R_EXP(a - m) + R_EXP(b - m) + R_EXP(c - m)) + m;
}

FL_INLINE REAL FL_NAME(ctc_lse2)(REAL a, REAL b) {
    REAL m = b > a ? b : a;
    m = m == -(REAL)INFINITY ? (REAL)0 : m;
    return R_LOG(R_EXP(a - m) + R_EXP(b - m)) + m;
}

/* The arrays of one call, shared by its samples. */
typedef struct {
    fl_index t, n, c;
    const REAL *lp;
    const int64_t *targets, *offsets, *input_lengths, *target_lengths;
    int64_t blank;
    int zero_infinity;
    const double *grad_scale;
    REAL *nll, *grad;
    fl_index *bad;
} FL_NAME(ctc_call);

/* Frame f of sample b in a (t, n, c) array. */
#define FL_CTC_FRAME(a, k, f, b) ((a) + ((f) * (k)->n + (b)) * (k)->c)

static void FL_NAME(ctc_fill_rows)(const FL_NAME(ctc_call) *k, fl_index b, fl_index from,
                                   REAL value) {
    for (fl_index f = from; f < k->t; f++) {
        REAL *g = FL_CTC_FRAME(k->grad, k, f, b);
        for (fl_index j = 0; j < k->c; j++) g[j] = value;
    }
}

/* alpha of a sample of tb >= 1 frames: rows of w = l + 2 values, two -inf in front of the l
 * states (the paths from s - 1 and s - 2 need no test at s = 0, 1). */
static FL_HOT void FL_NAME(ctc_alpha)(const FL_NAME(ctc_call) *k, fl_index b, fl_index tb,
                                      fl_index l, const int64_t *ext, const int64_t *skip,
                                      REAL *alpha) {
    const REAL neg = -(REAL)INFINITY;
    const fl_index w = l + 2;
    const REAL *lp0 = FL_CTC_FRAME(k->lp, k, 0, b);
    for (fl_index s = 0; s < w; s++) alpha[s] = neg;
    alpha[2] = lp0[k->blank];
    if (l > 1) alpha[3] = lp0[ext[1]];
    for (fl_index f = 1; f < tb; f++) {
        const REAL *prev = alpha + (f - 1) * w + 2, *lp = FL_CTC_FRAME(k->lp, k, f, b);
        REAL *cur = alpha + f * w + 2;
        cur[-2] = cur[-1] = neg;
        FL_SIMD
        for (fl_index s = 0; s < l; s++)
            cur[s] = FL_NAME(ctc_lse3)(prev[s], prev[s - 1], skip[s] ? prev[s - 2] : neg)
                     + lp[ext[s]];
    }
}

/* beta, two rows of w = l + 2 values (two -inf after the l states), and the log of the sum of
 * alpha beta over the states of each label, collected into the sample's gradient rows (-inf
 * where no state has the label), frame by frame from the last. */
static FL_HOT void FL_NAME(ctc_collect)(const FL_NAME(ctc_call) *k, fl_index b, fl_index tb,
                                        fl_index l, const int64_t *ext, const int64_t *skip,
                                        const REAL *alpha, REAL *beta) {
    const REAL neg = -(REAL)INFINITY;
    const fl_index w = l + 2;
    REAL *next = beta, *cur = beta + w;
    for (fl_index f = 0; f < tb; f++) {
        REAL *row = FL_CTC_FRAME(k->grad, k, f, b);
        for (fl_index j = 0; j < k->c; j++) row[j] = neg;
    }
    const REAL *lp = FL_CTC_FRAME(k->lp, k, tb - 1, b), *at = alpha + (tb - 1) * w + 2;
    REAL *g = FL_CTC_FRAME(k->grad, k, tb - 1, b);
    for (fl_index s = 0; s < w; s++) next[s] = neg;
    next[l - 1] = lp[k->blank];
    g[k->blank] = at[l - 1] + next[l - 1];
    if (l > 1) {
        next[l - 2] = lp[ext[l - 2]];
        g[ext[l - 2]] = at[l - 2] + next[l - 2];
    }
    for (fl_index f = tb - 2; f >= 0; f--) {
        lp = FL_CTC_FRAME(k->lp, k, f, b);
        at = alpha + f * w + 2;
        g = FL_CTC_FRAME(k->grad, k, f, b);
        cur[l] = cur[l + 1] = neg;
        FL_SIMD
        for (fl_index s = 0; s < l; s++)
            cur[s] = FL_NAME(ctc_lse3)(next[s], next[s + 1], skip[s + 2] ? next[s + 2] : neg)
                     + lp[ext[s]];
        for (fl_index s = l - 1; s >= 0; s--) { /* torch's order: the last state first */
            const REAL ab = at[s] + cur[s];
            REAL *lcab = g + ext[s];
            *lcab = *lcab == neg ? ab : FL_NAME(ctc_lse2)(*lcab, ab);
        }
        REAL *swap = next;
        next = cur;
        cur = swap;
    }
}

/* One sample: its nll and, with k->grad, its gradient rows. */
static void FL_NAME(ctc_sample)(const FL_NAME(ctc_call) *k, fl_index b, REAL *work,
                                int64_t *iwork) {
    const fl_index tb = (fl_index)k->input_lengths[b], s_len = (fl_index)k->target_lengths[b];
    const fl_index l = 2 * s_len + 1;
    int64_t *ext = iwork, *skip = iwork + l; /* l states; l + 2 flags, the last two 0 */
    for (fl_index s = 0; s < l; s++) ext[s] = k->blank;
    for (fl_index j = 0; j < s_len; j++) {
        const int64_t y = fl_load_index(k->targets + k->offsets[b] + j);
        if ((uint64_t)y >= (uint64_t)k->c) {
            FL_NOTE_BAD(k->bad, b);
            k->nll[b] = (REAL)NAN;
            if (k->grad) FL_NAME(ctc_fill_rows)(k, b, 0, (REAL)NAN);
            return;
        }
        ext[2 * j + 1] = y;
    }
    for (fl_index s = 0; s < l + 2; s++) skip[s] = s >= 2 && s < l && ext[s] != ext[s - 2];
    if (tb == 0) { /* no frame: only the empty target has a path, of probability 1 */
        k->nll[b] = s_len == 0 ? -(REAL)0 : (REAL)INFINITY;
        if (k->grad) FL_NAME(ctc_fill_rows)(k, b, 0, 0);
        return;
    }
    FL_NAME(ctc_alpha)(k, b, tb, l, ext, skip, work);
    const REAL *last = work + (tb - 1) * (l + 2) + 2;
    const REAL nll = l == 1 ? -last[0] : -FL_NAME(ctc_lse2)(last[l - 1], last[l - 2]);
    k->nll[b] = nll;
    if (!k->grad) return;
    if (k->zero_infinity && nll == (REAL)INFINITY) {
        FL_NAME(ctc_fill_rows)(k, b, 0, 0);
        return;
    }
    FL_NAME(ctc_collect)(k, b, tb, l, ext, skip, work, work + tb * (l + 2));
    const REAL gs = (REAL)k->grad_scale[b];
    for (fl_index f = 0; f < tb; f++) {
        const REAL *lp = FL_CTC_FRAME(k->lp, k, f, b);
        REAL *g = FL_CTC_FRAME(k->grad, k, f, b);
        FL_SIMD
        for (fl_index j = 0; j < k->c; j++)
            g[j] = (R_EXP(lp[j]) - R_EXP(g[j] + nll - lp[j])) * gs;
    }
    FL_NAME(ctc_fill_rows)(k, b, tb, 0);
}

static void FL_NAME(ctc_kernel)(fl_index t, fl_index n, fl_index c, const REAL *log_probs,
                                const int64_t *targets, const int64_t *target_offsets,
                                const int64_t *input_lengths, const int64_t *target_lengths,
                                fl_index s_max, int64_t blank, int zero_infinity,
                                const double *grad_scale, REAL *nll, REAL *grad, REAL *work,
                                int64_t *iwork, int n_threads, fl_index *bad) {
    const FL_NAME(ctc_call) k = {t, n, c, log_probs, targets, target_offsets, input_lengths,
                                 target_lengths, blank, zero_infinity, grad_scale, nll, grad,
                                 bad};
    const int nt = fl_threads_for(n, n_threads, 1);
#if defined(_OPENMP)
    if (nt > 1) {
        const fl_index ws = fl_ctc_work_items(t, s_max), is = fl_ctc_index_items(s_max);
        /* samples dealt round-robin (their lengths differ); each thread its own scratch */
        FL_PRAGMA(omp parallel num_threads(nt))
        {
            const int id = omp_get_thread_num(), count = omp_get_num_threads();
            for (fl_index b = id; b < n; b += count)
                FL_NAME(ctc_sample)(&k, b, work + id * ws, iwork + id * is);
        }
        return;
    }
#endif
    (void)nt;
    (void)s_max; /* the scratch of one thread: the caller sized it */
    for (fl_index b = 0; b < n; b++) FL_NAME(ctc_sample)(&k, b, work, iwork);
}

#undef FL_CTC_FRAME
