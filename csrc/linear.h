/* SGD epochs for linear models: one call runs a whole epoch over X (n, d).
 *
 * Per sample (batch_size 1): for each sample i (in the given order) the kernel computes
 * the prediction z = x_i . coef + intercept, the loss l(z, y_i) and its derivative, then
 * updates coef and intercept with the chosen rule before moving to the next sample, so the
 * loss of a sample is the loss *before* its own update.
 *
 * Mini-batch (batch_size B > 1): the visits are cut into batches of B consecutive ones (the
 * last may be shorter); every sample of a batch is evaluated at the same parameters, and
 * one update per batch steps with the weighted mean gradient sum w_i g_i / sum w_i over the
 * batch (0 for a batch of zero total weight), the L2 term once per update.
 *
 * These trust their inputs (validation lives in src/fastloss/linear.py):
 * arrays of the stated dtype, sizes as given, no overlap
 * between written arrays (coef, intercept, state, work) and read ones.
 * `dtype` is FL_FLOAT32 or FL_FLOAT64 and applies to every `void *` array.
 */
#ifndef FASTLOSS_LINEAR_H
#define FASTLOSS_LINEAR_H

#include "fl_config.h"

/* Per-sample losses of the prediction z and the target y (r = z - y). */
enum fl_linear_loss {
    FL_LIN_SQUARED = 0,  /* 0.5 r^2                          dl/dz = r              */
    FL_LIN_ABSOLUTE = 1, /* |r|                              dl/dz = sign(r), 0 at 0 */
    FL_LIN_HUBER = 2,    /* 0.5 r^2 if |r| <= eps, else eps (|r| - eps/2); clip(r)  */
    FL_LIN_LOGISTIC = 3, /* softplus(z) - y z, y in {0, 1}   dl/dz = sigmoid(z) - y */
    FL_LIN_SOFTMAX = 4,  /* lse(z) - z_y over c outputs      dl/dz = softmax(z) - e_y */
    /* scikit-learn's SGD losses, plain SGD only (fl_sgd_epoch_scaled): m = y z with y in
     * {-1, 1} for the margin losses; r = z - y, e = epsilon for the insensitive ones */
    FL_LIN_HINGE = 5,          /* max(0, 1 - m)                  -y if m <= 1, else 0    */
    FL_LIN_SQUARED_HINGE = 6,  /* max(0, 1 - m)^2                -2 y (1 - m) if m < 1   */
    FL_LIN_MODIFIED_HUBER = 7, /* (1 - m)^2 for m >= -1 (0 above 1), -4 m below -1        */
    FL_LIN_EPSILON_INSENSITIVE = 8,        /* max(0, |r| - e)    sign(r) if |r| > e     */
    FL_LIN_SQUARED_EPSILON_INSENSITIVE = 9, /* max(0, |r| - e)^2  2 sign(r)(|r| - e)    */
    /* scikit-learn's GLM losses on the log link (z = log of the mean; constant terms of y
     * dropped: the half deviances up to them), and the quantile loss of z itself; p is the
     * loss's parameter (the `epsilon` fields below). Per-sample epochs run them through the
     * rule chosen at run time (one loop for the four, the loss picked per sample). */
    FL_LIN_POISSON = 10, /* exp(z) - y z                         exp(z) - y             */
    FL_LIN_GAMMA = 11,   /* z + y exp(-z)                        1 - y exp(-z)          */
    FL_LIN_TWEEDIE = 12, /* exp((2-p) z)/(2-p) - y exp((1-p) z)/(1-p), p not 1 or 2     */
    FL_LIN_PINBALL = 13  /* q max(y - z, 0) + (1 - q) max(z - y, 0), q = p    -q or 1 - q */
};

/* Update rules: plain SGD with scikit-learn's clamped L2 shrink; the others are
 * torch.optim's (update_rules.h), weight decay = alpha on coef only. */
enum fl_linear_optimizer {
    FL_OPT_SGD = 0,      /* p = max(0, 1 - eta alpha) p - eta g                          */
    FL_OPT_MOMENTUM = 1, /* SGD(momentum, nesterov, dampening 0)                         */
    FL_OPT_ADAGRAD = 2,  /* Adagrad(lr_decay 0)                                          */
    FL_OPT_RMSPROP = 3,  /* RMSprop(alpha = rho, momentum 0, centered False)             */
    FL_OPT_ADAM = 4,     /* Adam(betas, amsgrad False); bias corrections from running
                          * powers beta^t, not pow() per update                          */
    FL_OPT_ADAMW = 5,    /* AdamW(betas, amsgrad False): Adam with decoupled decay       */
    /* The rules below run through the run-time rule dispatch (one loop per loss, the rule
     * picked once per update) per sample as in mini-batches: */
    FL_OPT_NADAM = 6,    /* NAdam(betas, momentum_decay, decoupled_weight_decay = decoupled) */
    FL_OPT_RADAM = 7,    /* RAdam(betas, decoupled_weight_decay = decoupled)             */
    FL_OPT_ADAMAX = 8,   /* Adamax(betas)                                                */
    FL_OPT_LION = 9      /* Lion(betas) as optax.lion; weight decay added to the sign    */
};

enum fl_linear_schedule {
    FL_LR_CONSTANT = 0,   /* eta = lr                                             */
    FL_LR_INVSCALING = 1, /* eta = lr / t^power_t                                 */
    FL_LR_OPTIMAL = 2     /* eta = 1 / (alpha (optimal_init + t - 1)): scikit-learn's
                           * "optimal" (the scaled epoch only)                    */
};

/* The penalty of the scaled epoch (fl_sgd_epoch_scaled): alpha times
 * (1 - l1_ratio) ||coef||^2 / 2 + l1_ratio ||coef||_1, as scikit-learn's SGD. */
enum fl_linear_penalty {
    FL_PENALTY_L2 = 0,        /* l1_ratio 0 */
    FL_PENALTY_L1 = 1,        /* l1_ratio 1 */
    FL_PENALTY_ELASTICNET = 2 /* l1_ratio as given */
};

typedef struct {
    int loss, optimizer, schedule;
    int nesterov;  /* momentum only */
    fl_index batch_size; /* samples per update, >= 1 (1: per-sample updates)           */
    double lr, power_t;
    double alpha;   /* L2 penalty on coef (not the intercept): g += alpha * coef */
    double epsilon; /* the loss's parameter: huber / insensitive threshold, tweedie power,
                     * pinball quantile */
    double momentum, beta1, beta2, eps, rho;
    double momentum_decay; /* nadam only */
    int decoupled;         /* nadam, radam: torch's decoupled_weight_decay             */
    /* Read by fl_sgd_epoch_scaled only: */
    int penalty;            /* enum fl_linear_penalty                                  */
    double l1_ratio;        /* FL_PENALTY_ELASTICNET's mix                              */
    double intercept_decay; /* the intercept's step is multiplied by it (1: plain)     */
    double optimal_init;    /* FL_LR_OPTIMAL's t offset                                 */
    int64_t average_start;  /* 0: no averaging; else the average runs from update t
                             * = average_start on (1: every update)                    */
} fl_sgd_config;

/* A CSR matrix of n rows and d columns: row i holds data[k], column indices[k], for k in
 * [indptr[i], indptr[i + 1]). Every indptr entry and index is the caller's: loaded once and
 * checked before it is used (0 <= start <= end <= nnz, end - start <= max_row, index < d). */
typedef struct {
    const void *data;       /* (nnz) values, of the epoch's dtype                      */
    const void *indices;    /* (nnz) int32 (index64 = 0) or int64 column indices        */
    const void *indptr;     /* (n + 1), of the indices' type                            */
    fl_index nnz;           /* entries in data and indices                              */
    fl_index max_row;       /* entries of the longest row: row_index's capacity         */
    int index64;            /* indices and indptr: int64 if nonzero, else int32        */
} fl_csr;

/* The samples a linear model reads (the epochs and the fused objective alike). */
typedef struct {
    fl_index n, d, c;        /* samples, features, outputs (c = 1 unless softmax)     */
    const void *X;           /* sample i, feature j at X[i * row_stride + j * col_stride] */
    fl_index row_stride, col_stride; /* in elements; any sign (the objective: one is 1)  */
    const void *y;           /* (n) float targets; NULL for softmax                   */
    const int64_t *labels;   /* (n) class labels in [0, c) for softmax; else NULL     */
    const void *sample_weight; /* (n) or NULL (all ones)                              */
} fl_samples;

typedef struct {
    fl_samples s;
    const int64_t *order;    /* (n) sample indices to visit, or NULL (0, 1, ..., n-1) */
    void *coef;              /* (d, c) C-contiguous                                   */
    void *intercept;         /* (c), or NULL: no intercept                            */
    /* Optimizer state, shaped like coef / intercept; NULL where the rule needs none:
     * s1 = momentum buffer (momentum), sum of squares (adagrad), square average
     * (rmsprop), first moment (adam, nadam, radam, adamax, lion); s2 = second moment
     * (adam, nadam, radam), exponentially weighted infinity norm (adamax). */
    void *s1_coef, *s1_intercept, *s2_coef, *s2_intercept;
    /* NAdam's mu_product (update_rules.h): the product of the momentum cache over the
     * updates so far (1 before the first), a value of the epoch's dtype held in a double;
     * advanced by the epoch. One for coef and intercept: torch keeps one per tensor, and
     * they are equal (the same steps). Read and written by nadam only. */
    double mu_product;
    void *work;              /* scratch of 2 d + 2 c elements, and (d + 1) c more when
                              * batch_size > 1 (the batch's gradient sums)             */
    int64_t t;               /* updates done before the call; advanced by the number of
                              * updates (n, or ceil(n / batch_size))                  */
    /* Set by the caller to -1. Each order[k] and label is loaded once and checked before it
     * indexes anything; if one is out of range the epoch stops before visit k, stores k
     * here, and t and the returned sum cover the visits done (a batch cut short by it is
     * not applied: t counts the updates made). */
    fl_index bad;
    /* Read by fl_sgd_epoch_scaled only: */
    const fl_csr *csr;       /* the rows of X, or NULL: dense X (s.X, its strides)      */
    int64_t *row_index;      /* scratch of csr->max_row entries (the row's checked indices) */
    void *avg_coef, *avg_intercept; /* the averaged parameters (NULL: no averaging, no
                              * intercept); updated from update average_start on       */
    double *l1_q;            /* (d) the L1 penalty each weight received so far, float64  */
    double l1_u;             /* the penalty every weight could have received so far     */
} fl_sgd_data;

/* Runs one epoch (losses FL_LIN_SQUARED to FL_LIN_SOFTMAX; scikit-learn's SGD losses are
 * fl_sgd_epoch_scaled's: here they run nothing and return 0); returns sum_i w_i l_i
 * (accumulated in double), the loss of
 * each sample taken before the update its gradient goes into. Updates coef, intercept,
 * state and t. */
double fl_sgd_epoch(int dtype, const fl_sgd_config *cfg, fl_sgd_data *data);

/* Plain SGD per sample (optimizer FL_OPT_SGD, batch_size 1, one output) as scikit-learn's
 * _plain_sgd, on dense or CSR rows, with coef = scale * v held as a scaled vector so that the
 * L2 shrink costs O(1) and a CSR epoch costs O(nnz): for each visit, z = x . coef +
 * intercept; t += 1; eta from the schedule; u = -eta w_i dl/dz;
 *   coef *= max(0, 1 - (1 - l1_ratio) eta alpha);  coef += u x;  intercept += u decay;
 *   the average (from update average_start on): avg += (coef - avg) / (t - start + 1), kept
 *   lazily (Bottou's trick: avg = (aw + a v) / b) so that it too costs O(nnz);
 *   L1 / elastic net: Tsuruoka et al.'s cumulative truncated gradient on the row's
 *   features (l1_u += l1_ratio eta alpha; each w_j moves towards 0 by l1_u - l1_q[j] at
 *   most, never across it). Dense rows are rows with every feature stored.
 * On return coef, the averages and l1_q are plain (the scale multiplied in), l1_u and t
 * advanced. An out-of-range order entry or CSR entry stops the epoch before that visit
 * (D->bad, as fl_sgd_epoch). Returns sum_i w_i l_i. */
double fl_sgd_epoch_scaled(int dtype, const fl_sgd_config *cfg, fl_sgd_data *data);

#endif
