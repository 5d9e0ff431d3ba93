/* The connectionist temporal classification loss (torch.nn.functional.ctc_loss): per sample,
 * the forward (alpha) and backward (beta) recursions over the 2 S + 1 states of its extended
 * target, in log space (src/fastloss/reference/ctc.py has the formulas and is the
 * specification). Not a row of the losses' lists: a dynamic program per sample over (T, 2S+1),
 * not a rule per element or row.
 *
 * Trusts its inputs (src/fastloss/losses/ctc.py validates): log_probs C-contiguous (t, n, c)
 * of `dtype`, n >= 1; input_lengths[b] in [0, t]; target_lengths[b] in [0, s_max];
 * sample b's labels are targets[target_offsets[b] + k], k < target_lengths[b] (padded
 * targets: offsets b * S; concatenated: the running sum of the lengths). The labels belong
 * to the caller: each is loaded once and checked in [0, c) before it indexes anything; a
 * sample with one out of range gets a NaN nll and NaN gradient rows and its index goes to
 * *bad (the caller sets -1 first).
 */
#ifndef FASTLOSS_CTC_H
#define FASTLOSS_CTC_H

#include "fl_config.h"

/* The states of a sample's recursions are processed in multiples of this many (a float32
 * AVX-512 vector), the extended target 2 S + 1 rounded up. */
#define FL_CTC_LANES 16
#define FL_CTC_ROUND_UP(l) (((l) + FL_CTC_LANES - 1) / FL_CTC_LANES * FL_CTC_LANES)

/* The scratch fl_ctc_loss needs per thread, for inputs of t frames and targets of at most
 * s_max labels: work_items elements of the dtype (the skip flags, alpha's t rows, two rows of
 * beta and one of occupancies, each of FL_CTC_ROUND_UP(2 s_max + 1) + 2) and index_items int32 (the extended
 * target: c must be at most INT32_MAX, 32-bit gather indices vectorize for float32). */
fl_index fl_ctc_work_items(fl_index t, fl_index s_max);
fl_index fl_ctc_index_items(fl_index s_max);

/* Writes nll[b] = -log p(target_b | sample b) for every sample, and with grad (not NULL;
 * t, n, c like log_probs) torch's gradient times grad_scale[b] (n doubles): for frames
 * f < input_lengths[b]
 *   grad[f, b, k] = (exp(lp[f, b, k]) - exp(log sum_{s: l'[s] = k} alpha beta + nll - lp))
 *                   * grad_scale[b]
 * (the sum taken as sum_s exp(log alpha beta + nll - lp), each term at most 1),
 * 0 for later frames and, with zero_infinity, for a sample whose nll is +inf.
 * work / iwork: n_threads times fl_ctc_work_items / fl_ctc_index_items elements. Each
 * sample's results are independent of the thread that computes it. */
void fl_ctc_loss(int dtype, fl_index t, fl_index n, fl_index c, const void *log_probs,
                 const int64_t *targets, const int64_t *target_offsets,
                 const int64_t *input_lengths, const int64_t *target_lengths, fl_index s_max,
                 int64_t blank, int zero_infinity, const double *grad_scale, void *nll,
                 void *grad, void *work, int32_t *iwork, int n_threads, fl_index *bad);

#endif
