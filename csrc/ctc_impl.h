/* ctc.h's loss for one dtype: included by ctc.c with REAL, SFX, R_EXP and R_LOG defined.
 * The recursions of torch's CPU kernel (aten/src/ATen/native/LossCTC.cpp) state by state:
 * the same logsumexp, shifted by the largest term, the arithmetic in REAL; the collection of
 * alpha beta by class is a sum of occupancies in linear space (ctc_collect), not torch's
 * log-space accumulation: the same value to rounding. No include guard: one inclusion per
 * dtype. */

/* exp(d) for d = x - max <= 0 in a logsumexp, where one term is exp(0) = 1: 0 below -64,
 * whose exp (1.6e-28) is below half an ulp of 1 in float and double, so the sum is the same
 * to the last bit, and the exp of a large negative d never computes a subnormal (which
 * costs float32 loops a microcode assist per element). NaN stays NaN. */
FL_INLINE REAL FL_NAME(ctc_exp_term)(REAL d) {
    const REAL lo = (REAL)-64;
    return d < lo ? (REAL)0 : R_EXP(d < lo ? lo : d);
}

/* log(exp(a) + exp(b) + exp(c)), shifted by the largest (by 0 when all are -inf, where
 * -inf - -inf would be NaN); NaN in, NaN out. */
FL_INLINE REAL FL_NAME(ctc_lse3)(REAL a, REAL b, REAL c) {
    REAL m = a;
    m = b > m ? b : m;
    m = c > m ? c : m;
    m = m == -(REAL)INFINITY ? (REAL)0 : m;
    return R_LOG(FL_NAME(ctc_exp_term)(a - m) + FL_NAME(ctc_exp_term)(b - m)
                 + FL_NAME(ctc_exp_term)(c - m)) + m;
}

FL_INLINE REAL FL_NAME(ctc_lse2)(REAL a, REAL b) {
    REAL m = b > a ? b : a;
    m = m == -(REAL)INFINITY ? (REAL)0 : m;
    return R_LOG(FL_NAME(ctc_exp_term)(a - m) + FL_NAME(ctc_exp_term)(b - m)) + m;
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

/* alpha of a sample of tb >= 1 frames: rows of w = lv + 2 values, two -inf in front of the
 * states (the paths from s - 1 and s - 2 need no test at s = 0, 1). The loop runs over lv
 * states, l rounded up to FL_CTC_LANES (no scalar remainder: a float32 AVX-512 loop over 61
 * states would spend half its time in one); the states from l on are never read by those
 * before them, nor by the loss. */
static FL_HOT void FL_NAME(ctc_alpha)(const FL_NAME(ctc_call) *k, fl_index b, fl_index tb,
                                      fl_index l, fl_index lv, const int32_t *ext,
                                      const REAL *skip, REAL *alpha) {
    const REAL neg = -(REAL)INFINITY;
    const fl_index w = lv + 2;
    const REAL *lp0 = FL_CTC_FRAME(k->lp, k, 0, b);
    for (fl_index s = 0; s < w; s++) alpha[s] = neg;
    alpha[2] = lp0[k->blank];
    if (l > 1) alpha[3] = lp0[ext[1]];
    for (fl_index f = 1; f < tb; f++) {
        const REAL *prev = alpha + (f - 1) * w + 2, *lp = FL_CTC_FRAME(k->lp, k, f, b);
        REAL *cur = alpha + f * w + 2;
        cur[-2] = cur[-1] = neg;
        FL_SIMD
        for (fl_index s = 0; s < lv; s++)
            cur[s] = FL_NAME(ctc_lse3)(prev[s], prev[s - 1], skip[s] != 0 ? prev[s - 2] : neg)
                     + lp[ext[s]];
    }
}

/* The occupancy of state s of frame f, alpha beta / (y p) = exp(log alpha beta + nll - lp):
 * torch's exp(log sum alpha beta + nll - lp) is the sum of these over the states of a class. */
FL_INLINE REAL FL_NAME(ctc_occupancy)(REAL alpha, REAL beta, REAL nll, REAL lp) {
    return R_EXP(((alpha + beta) + nll) - lp);
}

/* Adds state occupancies of one frame into its gradient row g, by class (-inf: no state of
 * the class yet), the last state first (torch's order). */
FL_INLINE void FL_NAME(ctc_add_occupancies)(REAL *g, const int32_t *ext, const REAL *occ,
                                            fl_index from, fl_index to) {
    const REAL neg = -(REAL)INFINITY;
    for (fl_index s = to - 1; s >= from; s--) {
        REAL *sum = g + ext[s];
        *sum = *sum == neg ? occ[s] : *sum + occ[s];
    }
}

/* beta, two rows of w = lv + 2 values (-inf after the l states: the states from l on stay
 * -inf), and each frame's state occupancies summed by class into the sample's gradient rows
 * (-inf where no state has the class), from the last frame; occ: a row of lv. In linear
 * space, relative to each state's own lp: occupancies are at most 1 whatever the scale of the
 * log-probabilities (torch sums alpha beta in log space, then subtracts lp). */
static FL_HOT void FL_NAME(ctc_collect)(const FL_NAME(ctc_call) *k, fl_index b, fl_index tb,
                                        fl_index l, fl_index lv, const int32_t *ext,
                                        const REAL *skip, const REAL *alpha, REAL nll,
                                        REAL *beta, REAL *occ) {
    const REAL neg = -(REAL)INFINITY;
    const fl_index w = lv + 2;
    REAL *next = beta, *cur = beta + w;
    for (fl_index f = 0; f < tb; f++) {
        REAL *row = FL_CTC_FRAME(k->grad, k, f, b);
        for (fl_index j = 0; j < k->c; j++) row[j] = neg;
    }
    const REAL *lp = FL_CTC_FRAME(k->lp, k, tb - 1, b), *at = alpha + (tb - 1) * w + 2;
    for (fl_index s = 0; s < w; s++) next[s] = neg;
    /* the last frame: the paths end in the last blank or the last label (torch reads only
     * those two states) */
    const fl_index first = l > 1 ? l - 2 : l - 1;
    for (fl_index s = first; s < l; s++) {
        next[s] = lp[ext[s]];
        occ[s] = FL_NAME(ctc_occupancy)(at[s], next[s], nll, lp[ext[s]]);
    }
    FL_NAME(ctc_add_occupancies)(FL_CTC_FRAME(k->grad, k, tb - 1, b), ext, occ, first, l);
    for (fl_index f = tb - 2; f >= 0; f--) {
        lp = FL_CTC_FRAME(k->lp, k, f, b);
        at = alpha + f * w + 2;
        cur[lv] = cur[lv + 1] = neg;
        FL_SIMD
        for (fl_index s = 0; s < lv; s++) {
            const REAL e = lp[ext[s]];
            cur[s] = FL_NAME(ctc_lse3)(next[s], next[s + 1], skip[s + 2] != 0 ? next[s + 2] : neg)
                     + e;
            occ[s] = FL_NAME(ctc_occupancy)(at[s], cur[s], nll, e);
        }
        FL_NAME(ctc_add_occupancies)(FL_CTC_FRAME(k->grad, k, f, b), ext, occ, 0, l);
        REAL *swap = next;
        next = cur;
        cur = swap;
    }
}

/* One sample: its nll and, with k->grad, its gradient rows. */
static void FL_NAME(ctc_sample)(const FL_NAME(ctc_call) *k, fl_index b, REAL *work,
                                int32_t *iwork) {
    const fl_index tb = (fl_index)k->input_lengths[b], s_len = (fl_index)k->target_lengths[b];
    const fl_index l = 2 * s_len + 1, lv = FL_CTC_ROUND_UP(l), w = lv + 2;
    int32_t *ext = iwork; /* the lv states' classes (blank from l on) */
    REAL *skip = work; /* w flags (1: a path may come from s - 2), 0 from l on */
    work += w;
    for (fl_index s = 0; s < lv; s++) ext[s] = (int32_t)k->blank;
    for (fl_index j = 0; j < s_len; j++) {
        const int64_t y = fl_load_index(k->targets + k->offsets[b] + j);
        if ((uint64_t)y >= (uint64_t)k->c) {
            FL_NOTE_BAD(k->bad, b);
            k->nll[b] = (REAL)NAN;
            if (k->grad) FL_NAME(ctc_fill_rows)(k, b, 0, (REAL)NAN);
            return;
        }
        ext[2 * j + 1] = (int32_t)y;
    }
    for (fl_index s = 0; s < w; s++) skip[s] = (REAL)(s >= 2 && s < l && ext[s] != ext[s - 2]);
    if (tb == 0) { /* no frame: only the empty target has a path, of probability 1 */
        k->nll[b] = s_len == 0 ? -(REAL)0 : (REAL)INFINITY;
        if (k->grad) FL_NAME(ctc_fill_rows)(k, b, 0, 0);
        return;
    }
    FL_NAME(ctc_alpha)(k, b, tb, l, lv, ext, skip, work);
    const REAL *last = work + (tb - 1) * w + 2;
    const REAL nll = l == 1 ? -last[0] : -FL_NAME(ctc_lse2)(last[l - 1], last[l - 2]);
    k->nll[b] = nll;
    if (!k->grad) return;
    if (k->zero_infinity && nll == (REAL)INFINITY) {
        FL_NAME(ctc_fill_rows)(k, b, 0, 0);
        return;
    }
    FL_NAME(ctc_collect)(k, b, tb, l, lv, ext, skip, work, nll, work + tb * w,
                         work + (tb + 2) * w);
    const REAL gs = (REAL)k->grad_scale[b], neg = -(REAL)INFINITY;
    for (fl_index f = 0; f < tb; f++) {
        const REAL *lp = FL_CTC_FRAME(k->lp, k, f, b);
        REAL *g = FL_CTC_FRAME(k->grad, k, f, b);
        /* a class on no state: torch's exp(-inf + nll - lp), 0 but for NaN and infinities */
        FL_SIMD
        for (fl_index j = 0; j < k->c; j++)
            g[j] = (R_EXP(lp[j]) - (g[j] == neg ? R_EXP((neg + nll) - lp[j]) : g[j])) * gs;
    }
    FL_NAME(ctc_fill_rows)(k, b, tb, 0);
}

static void FL_NAME(ctc_kernel)(fl_index t, fl_index n, fl_index c, const REAL *log_probs,
                                const int64_t *targets, const int64_t *target_offsets,
                                const int64_t *input_lengths, const int64_t *target_lengths,
                                fl_index s_max, int64_t blank, int zero_infinity,
                                const double *grad_scale, REAL *nll, REAL *grad, REAL *work,
                                int32_t *iwork, int n_threads, fl_index *bad) {
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
