/* The fused linear-model objective for one floating type (objective.h). Included by
 * objective_f64.c and objective_f32.c, after fl_real.h (REAL, SFX, R_EXP, R_LOG).
 *
 * Shape of one pass. The rows are split among threads (fl_parallel.h's chunks); each thread
 * walks its rows in blocks of `rows` (obj_block_rows: the block's d x rows values fit L1)
 * and, per block:
 *   1. Xt = the block transposed (d x rows, rows contiguous), zero-padded to a multiple of
 *      FL_OBJ_TILE rows; F-ordered X with a whole block is used in place (no copy).
 *   2. Zt = W^T Xt + b (c x rows): a register tile of FL_OBJ_TILE rows x 1 or 2 outputs,
 *      vectorized across rows, so short rows (d = 8..20) vectorize as well as long ones.
 *   3. The loss of each row and dl/dz, times w_i scale, in place in Zt (vector loops across
 *      rows: loss_rules.h's per-element rules, softmax with vector exp/log); for a Hessian-
 *      vector product, Zv = V^T Xt + v_b and D Zv in place in Zv instead.
 *   4. acc += Xt Zt^T (d x c) and the row sums of Zt (the intercept): dot products across
 *      rows, a tile of 2-4 of them at a time (the "transposed accumulation"), added to the
 *      thread's float64 accumulator once per block.
 * With one output (c = 1) and C-ordered rows of 8 to FL_OBJ_ROWWISE_MAX_D features, steps 1,
 * 2 and 4 run on the rows as they are instead (obj_rows_z, obj_rows_g): no transpose.
 * Then out = alpha W (or alpha V) + the per-thread accumulators, added in thread order.
 * Nothing allocates: the caller's `work` holds each thread's accumulator and buffers.
 */
#include "fl_parallel.h"
#include "loss_rules.h"
#include "softmax_lanes.h" /* the softmax of a block, in place */
#include "linear_rules.h" /* loss1(): one sample's loss and dl/dz */
#include "fl_vec8.h"      /* vectors of 8 values, the 8 x 8 transpose */

#include <string.h> /* memcpy */

/* Rows per register tile (4 vectors, see obj_vec); every block is padded to a multiple. */
#define FL_OBJ_TILE (4 * (fl_index)(64 / sizeof(REAL)))
/* A block's rows take at most this many bytes (L1 is 32-48 KB): measured, float64, against
 * 16 and 64 KB, softmax d=50 C=10 and logistic d=20, 100; 16 KB gains 5% with one output
 * and loses 15% with ten. */
#define FL_OBJ_BLOCK_BYTES 32768
#define FL_OBJ_MAX_ROWS 512
/* Rows per thread below which more threads cost more than they save. */
#define FL_OBJ_MIN_ROWS_PER_THREAD 2048
#define FL_OBJ_ALIGN 64
/* A read hint into L2 (T1 measured ~5-10% ahead of T0 and far ahead of NTA) */
#define FL_PREFETCH(p) FL_HINT_AHEAD(p, 0, 0, 2)

/* Rows per block: the block's transposed rows and its outputs (d + c values a row) fit in
 * FL_OBJ_BLOCK_BYTES, in whole tiles, at most FL_OBJ_MAX_ROWS. */
FL_INLINE fl_index FL_NAME(obj_block_rows)(fl_index d, fl_index c) {
    fl_index rows = (fl_index)(FL_OBJ_BLOCK_BYTES / sizeof(REAL)) / (d + c);
    rows = rows / FL_OBJ_TILE * FL_OBJ_TILE;
    return rows < FL_OBJ_TILE ? FL_OBJ_TILE : (rows > FL_OBJ_MAX_ROWS ? FL_OBJ_MAX_ROWS : rows);
}

FL_INLINE size_t FL_NAME(obj_round)(size_t bytes) {
    return (bytes + FL_OBJ_ALIGN - 1) / FL_OBJ_ALIGN * FL_OBJ_ALIGN;
}

/* One thread's scratch: acc (d c + c doubles), Xt (d x rows), Zt, Zv (c x rows), five
 * per-row vectors (max, z_y or p . v, sums, w_i scale, the loss's w_i) and the labels. */
typedef struct {
    double *acc;
    REAL *xt, *zt, *zv, *mx, *aux, *sum, *wr, *wl;
    fl_index *lab;
} FL_NAME(obj_buffers);

FL_INLINE size_t FL_NAME(obj_thread_bytes)(fl_index d, fl_index c) {
    const size_t rows = (size_t)FL_NAME(obj_block_rows)(d, c);
    return FL_NAME(obj_round)(sizeof(double) * (size_t)(d * c + c)) +
           FL_NAME(obj_round)(sizeof(REAL) * (size_t)d * rows) +
           2 * FL_NAME(obj_round)(sizeof(REAL) * (size_t)c * rows) +
           5 * FL_NAME(obj_round)(sizeof(REAL) * rows) +
           FL_NAME(obj_round)(sizeof(fl_index) * rows);
}

static size_t FL_NAME(obj_work_bytes)(fl_index d, fl_index c, int n_threads) {
    const int nt = n_threads < 1 ? 1 : (n_threads > FL_MAX_THREADS ? FL_MAX_THREADS : n_threads);
    return FL_OBJ_ALIGN + (size_t)nt * FL_NAME(obj_thread_bytes)(d, c);
}

FL_INLINE FL_NAME(obj_buffers) FL_NAME(obj_buffers_of)(char *base, fl_index d, fl_index c) {
    const size_t rows = (size_t)FL_NAME(obj_block_rows)(d, c);
    FL_NAME(obj_buffers) B;
    B.acc = (double *)base;
    base += FL_NAME(obj_round)(sizeof(double) * (size_t)(d * c + c));
    B.xt = (REAL *)base;
    base += FL_NAME(obj_round)(sizeof(REAL) * (size_t)d * rows);
    B.zt = (REAL *)base;
    base += FL_NAME(obj_round)(sizeof(REAL) * (size_t)c * rows);
    B.zv = (REAL *)base;
    base += FL_NAME(obj_round)(sizeof(REAL) * (size_t)c * rows);
    REAL **vecs[5] = {&B.mx, &B.aux, &B.sum, &B.wr, &B.wl};
    for (int k = 0; k < 5; k++) {
        *vecs[k] = (REAL *)base;
        base += FL_NAME(obj_round)(sizeof(REAL) * rows);
    }
    B.lab = (fl_index *)base;
    return B;
}

/* ---- prefetching the next block -------------------------------------------------------- */

/* Hints for a byte range, handed out a few cache lines at a time (obj_ahead_step) between
 * the tiles of a block's steps, so that the next block's rows arrive while this one
 * computes: issued all at once, in the gather, they queue behind each other. Addresses as
 * integers: the range may end past X's last value (a row stride longer than the row). */
typedef struct {
    uintptr_t next, end;
    fl_index lines; /* per step */
} FL_NAME(obj_ahead);

FL_INLINE void FL_NAME(obj_ahead_step)(FL_NAME(obj_ahead) *a) {
    if (a == NULL) return;
    for (fl_index k = 0; k < a->lines && a->next < a->end; k++, a->next += 64)
        FL_PREFETCH((const void *)a->next);
}

/* ---- step 1: the block, transposed ---------------------------------------------------- */

/* The steps of a block (gather, z = X_b W + b, the loss, g += X_b^T dz, ...) are functions of
 * their own, each with its ISA clones, called once per block: obj_range with all of them
 * inlined compiled in three times the time, for no measurable speed. */
#define FL_OBJ_STEP static FL_HOT FL_NOINLINE

/* X's elements are REAL, or double in a float32 call on float64 X (`wide`, a constant at
 * each call: the gather below is compiled once per source type). */
FL_INLINE REAL FL_NAME(obj_x)(const int wide, const void *X, fl_index k) {
    return wide ? (REAL)((const double *)X)[k] : ((const REAL *)X)[k];
}

FL_INLINE const void *FL_NAME(obj_x_at)(const int wide, const void *X, fl_index k) {
    return (const char *)X + (size_t)k * (wide ? sizeof(double) : sizeof(REAL));
}

/* transpose8 from X's elements: double rows are rounded to REAL (8 lanes at once) first. */
FL_INLINE void FL_NAME(obj_transpose8)(const int wide, const void *src, fl_index lds,
                                       REAL *dst, fl_index ldd) {
    if (!wide) {
        FL_NAME(transpose8)((const REAL *)src, lds, dst, ldd);
        return;
    }
    typedef double wide8 __attribute__((vector_size(8 * sizeof(double))));
    FL_NAME(vec8) r[8], o[8];
    for (int i = 0; i < 8; i++) {
        wide8 v;
        memcpy(&v, (const double *)src + i * lds, sizeof v);
        r[i] = __builtin_convertvector(v, FL_NAME(vec8));
    }
    FL_NAME(transpose8_regs)(r, o);
    for (int k = 0; k < 8; k++) memcpy(dst + k * ldd, &o[k], sizeof o[k]);
}

/* Xt[j * ld + r] = x_{i0 + r, j} for r < nb, 0 for r in [nb, nt) (nt: nb padded);
 * `ahead`: hints for the same values one block (ld rows) ahead, tile by tile. */
FL_INLINE void FL_NAME(obj_gather_from)(const int wide, const void *X, fl_index rs,
                                        fl_index cs, fl_index i0, fl_index nb, fl_index nt,
                                        fl_index d, REAL *FL_RESTRICT xt, fl_index ld,
                                        int ahead) {
    if (rs == 1) { /* F-ordered: each column's segment is contiguous */
        for (fl_index j = 0; j < d; j++) {
            REAL *dst = xt + j * ld;
            for (fl_index r = 0; r < nb; r++) dst[r] = FL_NAME(obj_x)(wide, X, i0 + r + j * cs);
            for (fl_index r = nb; r < nt; r++) dst[r] = 0;
        }
        return;
    }
    /* C-ordered: 8 x 8 tiles transposed in registers (transpose8), the rest by value
     * (a last partial group of columns is the last 8 columns, overlapping the one before) */
    fl_index r0 = 0;
    for (; r0 + 8 <= nb; r0 += 8) {
        const fl_index x = (i0 + r0) * rs; /* the group's first element */
        fl_index j0 = 0;
        for (; j0 + 8 <= d; j0 += 8) {
            /* the same 8 x 8 values one block ahead: that block's loads start from cache */
            for (int rr = 0; ahead && rr < 8; rr++)
                FL_PREFETCH(FL_NAME(obj_x_at)(wide, X, x + (ld + rr) * rs + j0));
            FL_NAME(obj_transpose8)(wide, FL_NAME(obj_x_at)(wide, X, x + j0), rs,
                                    xt + j0 * ld + r0, ld);
        }
        /* each row's last line too: a row that does not start on a line ends in one no
         * 8-column group above starts in */
        for (int rr = 0; ahead && rr < 8; rr++)
            FL_PREFETCH(FL_NAME(obj_x_at)(wide, X, x + (ld + rr) * rs + d - 1));
        if (j0 < d && d >= 8) { /* the last 8 columns again: overlaps, writes the same values */
            FL_NAME(obj_transpose8)(wide, FL_NAME(obj_x_at)(wide, X, x + d - 8), rs,
                                    xt + (d - 8) * ld + r0, ld);
            j0 = d;
        }
        for (fl_index j = j0; j < d; j++) {
            REAL *dst = xt + j * ld + r0;
            for (int rr = 0; rr < 8; rr++) dst[rr] = FL_NAME(obj_x)(wide, X, x + rr * rs + j);
        }
    }
    for (fl_index r = r0; r < nb; r++)
        for (fl_index j = 0; j < d; j++)
            xt[j * ld + r] = FL_NAME(obj_x)(wide, X, (i0 + r) * rs + j);
    for (fl_index j = 0; j < d; j++)
        for (fl_index r = nb; r < nt; r++) xt[j * ld + r] = 0;
}

FL_OBJ_STEP void FL_NAME(obj_gather)(const REAL *X, fl_index rs, fl_index cs, fl_index i0,
                                     fl_index nb, fl_index nt, fl_index d,
                                     REAL *FL_RESTRICT xt, fl_index ld, int ahead) {
    FL_NAME(obj_gather_from)(0, X, rs, cs, i0, nb, nt, d, xt, ld, ahead);
}

#if defined(FL_REAL_F32)
/* The gather of a float32 call on float64 X (fl_objective.x_float64). */
FL_OBJ_STEP void FL_NAME(obj_gather_wide)(const double *X, fl_index rs, fl_index cs,
                                          fl_index i0, fl_index nb, fl_index nt, fl_index d,
                                          REAL *FL_RESTRICT xt, fl_index ld, int ahead) {
    FL_NAME(obj_gather_from)(1, X, rs, cs, i0, nb, nt, d, xt, ld, ahead);
}
#endif

/* ---- register tiles: GNU C vectors of 64 bytes (8 doubles, 16 floats) ------------------ */
/* A vector type the compiler lowers to each ISA clone's registers (one zmm, two ymm, four
 * xmm): the tiles below are then register blocks on every x86-64 level, with no intrinsics.
 * Loads and stores go through memcpy (unaligned, no aliasing questions). */
#define FL_OBJ_LANES ((fl_index)(64 / sizeof(REAL)))
typedef REAL FL_NAME(obj_vec) __attribute__((vector_size(64)));

#define FL_OBJ_LOAD(v, p) memcpy(&(v), (p), sizeof(v))
#define FL_OBJ_STORE(p, v) memcpy((p), &(v), sizeof(v))

/* ---- step 2: Zt = W^T Xt + b ---------------------------------------------------------- */

/* Outputs [q0, q0 + QT) of the RV vectors of rows from r0: QT x RV accumulators in
 * registers, one vector FMA each per feature; QT, RV are constants at each call. */
FL_INLINE void FL_NAME(obj_tile_z)(const int QT, const int RV, fl_index d, fl_index c,
                                   const REAL *FL_RESTRICT xt, fl_index ldx,
                                   const REAL *FL_RESTRICT W, const REAL *b, fl_index q0,
                                   fl_index r0, REAL *FL_RESTRICT zt, fl_index ldz) {
    const fl_index L = FL_OBJ_LANES;
    FL_NAME(obj_vec) acc[2][4], xv[4];
    for (int qq = 0; qq < QT; qq++)
        for (int v = 0; v < RV; v++) acc[qq][v] = (FL_NAME(obj_vec)){0};
    for (fl_index j = 0; j < d; j++) {
        const REAL *x = xt + j * ldx + r0;
        for (int v = 0; v < RV; v++) FL_OBJ_LOAD(xv[v], x + v * L);
        for (int qq = 0; qq < QT; qq++) {
            const REAL w = W[j * c + q0 + qq];
            for (int v = 0; v < RV; v++) acc[qq][v] += w * xv[v];
        }
    }
    /* + b after the sum, as X @ W + b rounds: a z that BLAS reproduces bitwise (say, targets
     * made as X @ w + b) gives the same residuals here */
    for (int qq = 0; qq < QT; qq++) {
        const REAL b0 = b ? b[q0 + qq] : (REAL)0;
        for (int v = 0; v < RV; v++) {
            acc[qq][v] += b0;
            FL_OBJ_STORE(zt + (q0 + qq) * ldz + r0 + v * L, acc[qq][v]);
        }
    }
}

/* nt: a multiple of FL_OBJ_TILE = 4 vectors of rows, taken 4 vectors at a time (four
 * independent FMA chains per output), 2 outputs at a time when there are several; `ah`
 * (or NULL): a step of hints before each tile. */
FL_OBJ_STEP void FL_NAME(obj_block_z)(fl_index nt, fl_index d, fl_index c, const REAL *xt,
                                    fl_index ldx, const REAL *W, const REAL *b, REAL *zt,
                                    fl_index ldz, FL_NAME(obj_ahead) *ah) {
    const fl_index L = FL_OBJ_LANES;
    if (c == 1) {
        for (fl_index r0 = 0; r0 < nt; r0 += 4 * L) {
            FL_NAME(obj_ahead_step)(ah);
            FL_NAME(obj_tile_z)(1, 4, d, c, xt, ldx, W, b, 0, r0, zt, ldz);
        }
        return;
    }
    for (fl_index r0 = 0; r0 < nt; r0 += 4 * L) {
        fl_index q0 = 0;
        for (; q0 + 2 <= c; q0 += 2) {
            FL_NAME(obj_ahead_step)(ah);
            FL_NAME(obj_tile_z)(2, 4, d, c, xt, ldx, W, b, q0, r0, zt, ldz);
        }
        if (q0 < c) FL_NAME(obj_tile_z)(1, 4, d, c, xt, ldx, W, b, q0, r0, zt, ldz);
    }
}

/* ---- step 4: acc += Xt Zt^T, and the row sums of Zt ---------------------------------- */

/* acc[j c + q] += sum_r xt[j, r] zt[q, r] for the JT x QT pairs from (j0, q0): the dot
 * products run across the block's rows, a vector at a time, and are reduced once. */
FL_INLINE void FL_NAME(obj_tile_g)(const int JT, const int QT, fl_index nt, fl_index c,
                                   const REAL *FL_RESTRICT xt, fl_index ldx,
                                   const REAL *FL_RESTRICT zt, fl_index ldz, fl_index j0,
                                   fl_index q0, double *FL_RESTRICT acc) {
    const fl_index L = FL_OBJ_LANES;
    FL_NAME(obj_vec) s[8][4], g[4];
    for (int a = 0; a < JT; a++)
        for (int q = 0; q < QT; q++) s[a][q] = (FL_NAME(obj_vec)){0};
    for (fl_index r = 0; r < nt; r += L) {
        for (int q = 0; q < QT; q++) FL_OBJ_LOAD(g[q], zt + (q0 + q) * ldz + r);
        for (int a = 0; a < JT; a++) {
            FL_NAME(obj_vec) x;
            FL_OBJ_LOAD(x, xt + (j0 + a) * ldx + r);
            for (int q = 0; q < QT; q++) s[a][q] += x * g[q];
        }
    }
    if (JT * QT == 8) {
        /* the 8 sums at once: fold each vector to 8 lanes, transpose, add the rows (31
         * vector operations where 8 horizontal sums take about 60) */
        FL_NAME(vec8) h[8], o[8];
        for (int k = 0; k < 8; k++) {
            const FL_NAME(obj_vec) *sk = &s[k / QT][k % QT];
            if (sizeof(FL_NAME(obj_vec)) == sizeof(FL_NAME(vec8))) {
                memcpy(&h[k], sk, sizeof h[k]);
            } else { /* float: 16 lanes, the two halves added */
                FL_NAME(vec8) lo, hi;
                memcpy(&lo, sk, sizeof lo);
                memcpy(&hi, (const char *)sk + sizeof lo, sizeof hi);
                h[k] = lo + hi;
            }
        }
        FL_NAME(transpose8_regs)(h, o);
        FL_NAME(vec8) t = o[0];
        for (int k = 1; k < 8; k++) t += o[k];
        for (int k = 0; k < 8; k++) acc[(j0 + k / QT) * c + q0 + k % QT] += (double)t[k];
        return;
    }
    for (int a = 0; a < JT; a++)
        for (int q = 0; q < QT; q++) {
            REAL t = 0;
            for (fl_index v = 0; v < L; v++) t += s[a][q][v];
            acc[(j0 + a) * c + q0 + q] += (double)t;
        }
}

FL_OBJ_STEP void FL_NAME(obj_block_g)(fl_index nt, fl_index d, fl_index c, const REAL *xt,
                                    fl_index ldx, const REAL *zt, fl_index ldz, int intercept,
                                    double *acc, FL_NAME(obj_ahead) *ah) {
    fl_index j0 = 0;
    if (c == 1) {
        for (; j0 + 8 <= d; j0 += 8) {
            FL_NAME(obj_ahead_step)(ah);
            FL_NAME(obj_tile_g)(8, 1, nt, c, xt, ldx, zt, ldz, j0, 0, acc);
        }
        for (; j0 < d; j0++) FL_NAME(obj_tile_g)(1, 1, nt, c, xt, ldx, zt, ldz, j0, 0, acc);
    } else {
        /* 8-sum tiles throughout: outputs in fours (2 features at a time), a remaining pair
         * (4 features at a time), a remaining single output (8 features at a time) */
        const fl_index c4 = c / 4 * 4, c2 = c4 + (c - c4) / 2 * 2;
        for (; j0 + 2 <= d; j0 += 2) {
            FL_NAME(obj_ahead_step)(ah);
            for (fl_index q0 = 0; q0 < c4; q0 += 4)
                FL_NAME(obj_tile_g)(2, 4, nt, c, xt, ldx, zt, ldz, j0, q0, acc);
        }
        for (; j0 < d; j0++)
            for (fl_index q0 = 0; q0 < c4; q0++)
                FL_NAME(obj_tile_g)(1, 1, nt, c, xt, ldx, zt, ldz, j0, q0, acc);
        if (c2 > c4) {
            fl_index j = 0;
            for (; j + 4 <= d; j += 4) FL_NAME(obj_tile_g)(4, 2, nt, c, xt, ldx, zt, ldz, j, c4, acc);
            for (; j < d; j++) FL_NAME(obj_tile_g)(1, 2, nt, c, xt, ldx, zt, ldz, j, c4, acc);
        }
        if (c > c2) {
            fl_index j = 0;
            for (; j + 8 <= d; j += 8) FL_NAME(obj_tile_g)(8, 1, nt, c, xt, ldx, zt, ldz, j, c2, acc);
            for (; j < d; j++) FL_NAME(obj_tile_g)(1, 1, nt, c, xt, ldx, zt, ldz, j, c2, acc);
        }
    }
    if (intercept)
        for (fl_index q = 0; q < c; q++) {
            REAL t = 0;
            const REAL *g = zt + q * ldz;
            FL_SIMD_REDUCE_SUM(t)
            for (fl_index r = 0; r < nt; r++) t += g[r];
            acc[(fl_index)d * c + q] += (double)t;
        }
}

/* ---- C-ordered rows and one output: steps 1, 2 and 4 without the transpose ------------- */

/* With one output (c = 1), unit column stride and d >= 8, a row's 8-column chunks are
 * vectors: x_r . w is one vector FMA per chunk and, per 8 rows, a reduction tree of 14
 * shuffles (the transpose of step 1 takes 24 per 8 rows and 8 columns, and is what bounds
 * the pass at small d); acc += dz_r x_r is one FMA per chunk. A last partial chunk is the
 * row's last 8 columns with the lanes an earlier chunk counted masked out (z) or dropped
 * (g): nothing outside the row is read. */
#define FL_OBJ_ROWWISE_MAX_D 64

/* s[k] = the sum of p[k]'s 8 lanes, k < 8: three rounds of pairwise shuffles and adds.
 * (Vectors pass by pointer: a vector argument or return value would change with the ISA.) */
FL_INLINE void FL_NAME(obj_sum8)(const FL_NAME(vec8) *p, FL_NAME(vec8) *s) {
    FL_NAME(vec8) u[4], v[2];
    for (int i = 0; i < 4; i++)
        u[i] = FL_SHUF8(p[2 * i], p[2 * i + 1], 0, 8, 2, 10, 4, 12, 6, 14) +
               FL_SHUF8(p[2 * i], p[2 * i + 1], 1, 9, 3, 11, 5, 13, 7, 15);
    for (int i = 0; i < 2; i++)
        v[i] = FL_SHUF8(u[2 * i], u[2 * i + 1], 0, 1, 8, 9, 4, 5, 12, 13) +
               FL_SHUF8(u[2 * i], u[2 * i + 1], 2, 3, 10, 11, 6, 7, 14, 15);
    *s = FL_SHUF8(v[0], v[1], 0, 1, 2, 3, 8, 9, 10, 11) +
         FL_SHUF8(v[0], v[1], 4, 5, 6, 7, 12, 13, 14, 15);
}

/* The lanes of the chunk at column d - 8 that no earlier chunk covers: the last d % 8. */
FL_INLINE void FL_NAME(obj_tail_mask)(fl_index d, FL_NAME(idx8) *m) {
    for (int l = 0; l < 8; l++) (*m)[l] = l >= 8 - d % 8 ? -1 : 0;
}

/* z[r] = x_r . w + b for the block's rows r < nb (x: its first row), 0 for [nb, nt); the
 * rows `ahead` rows on are prefetched (ahead = 0: none). */
FL_OBJ_STEP void FL_NAME(obj_rows_z)(const REAL *FL_RESTRICT x, fl_index rs, fl_index nb,
                                   fl_index nt, fl_index d, const REAL *FL_RESTRICT w,
                                   const REAL *b, REAL *FL_RESTRICT z, fl_index ahead) {
    typedef FL_NAME(vec8) vec;
    const REAL b0 = b ? b[0] : (REAL)0;
    FL_NAME(idx8) mask;
    FL_NAME(obj_tail_mask)(d, &mask);
    fl_index r0 = 0;
    for (; r0 + 8 <= nb; r0 += 8) {
        const REAL *xr = x + r0 * rs;
        vec p[8], xv, wv;
        /* the same rows one block ahead: rows are read in bursts, a block at a time, and
         * the loss of each block would otherwise leave memory idle */
        if (ahead)
            for (int k = 0; k < 8; k++)
                for (fl_index o = 0; o < d; o += 64 / (fl_index)sizeof(REAL))
                    FL_PREFETCH(xr + (k + ahead) * rs + o);
        for (int k = 0; k < 8; k++) p[k] = (vec){0};
        fl_index j = 0;
        for (; j + 8 <= d; j += 8) {
            FL_OBJ_LOAD(wv, w + j);
            for (int k = 0; k < 8; k++) {
                FL_OBJ_LOAD(xv, xr + k * rs + j);
                p[k] += xv * wv;
            }
        }
        if (j < d) {
            FL_OBJ_LOAD(wv, w + d - 8);
            for (int k = 0; k < 8; k++) {
                FL_OBJ_LOAD(xv, xr + k * rs + d - 8);
                p[k] += (vec)((FL_NAME(idx8))(xv * wv) & mask);
            }
        }
        vec s;
        FL_NAME(obj_sum8)(p, &s);
        s += b0;
        FL_OBJ_STORE(z + r0, s);
    }
    for (; r0 < nb; r0++) {
        const REAL *xr = x + r0 * rs;
        REAL t = 0;
        for (fl_index j = 0; j < d; j++) t += xr[j] * w[j];
        z[r0] = t + b0;
    }
    for (fl_index r = nb; r < nt; r++) z[r] = 0;
}

/* acc[col + l] += sum_r dz[r] x_r[col + l] for G chunks from chunk k0 (chunk k at column
 * min(8 k, d - 8)), the lanes an earlier chunk covers dropped; G is a constant at each call. */
FL_INLINE void FL_NAME(obj_rows_g_tile)(const int G, const REAL *FL_RESTRICT x, fl_index rs,
                                        fl_index nb, fl_index d, const REAL *FL_RESTRICT dz,
                                        fl_index k0, double *FL_RESTRICT acc) {
    /* U = 4 / G rows at a time, each into its own sums: G U = 4 independent FMA chains
     * (with one, d = 8, each row waits on the previous row's FMA) */
    const int U = 4 / G;
    FL_NAME(vec8) s[4][4], xv;
    fl_index col[4];
    for (int q = 0; q < G; q++) {
        for (int u = 0; u < U; u++) s[q][u] = (FL_NAME(vec8)){0};
        col[q] = 8 * (k0 + q) + 8 <= d ? 8 * (k0 + q) : d - 8;
    }
    fl_index r = 0;
    for (; r + U <= nb; r += U)
        for (int u = 0; u < U; u++) {
            const REAL g = dz[r + u];
            const REAL *xr = x + (r + u) * rs;
            for (int q = 0; q < G; q++) {
                FL_OBJ_LOAD(xv, xr + col[q]);
                s[q][u] += g * xv;
            }
        }
    for (; r < nb; r++) {
        const REAL g = dz[r];
        const REAL *xr = x + r * rs;
        for (int q = 0; q < G; q++) {
            FL_OBJ_LOAD(xv, xr + col[q]);
            s[q][0] += g * xv;
        }
    }
    for (int q = 0; q < G; q++) {
        for (int u = 1; u < U; u++) s[q][0] += s[q][u];
        for (fl_index l = 8 * (k0 + q) - col[q]; l < 8; l++)
            acc[col[q] + l] += (double)s[q][0][l];
    }
}

FL_OBJ_STEP void FL_NAME(obj_rows_g)(const REAL *x, fl_index rs, fl_index nb, fl_index d,
                                   const REAL *FL_RESTRICT dz, int intercept, double *acc) {
    const fl_index chunks = (d + 7) / 8;
    fl_index k = 0;
    for (; k + 4 <= chunks; k += 4) FL_NAME(obj_rows_g_tile)(4, x, rs, nb, d, dz, k, acc);
    if (k + 2 <= chunks) {
        FL_NAME(obj_rows_g_tile)(2, x, rs, nb, d, dz, k, acc);
        k += 2;
    }
    if (k < chunks) FL_NAME(obj_rows_g_tile)(1, x, rs, nb, d, dz, k, acc);
    if (intercept) {
        REAL t = 0;
        FL_SIMD_REDUCE_SUM(t)
        for (fl_index r = 0; r < nb; r++) t += dz[r];
        acc[d] += (double)t;
    }
}

/* ---- step 3: losses and dl/dz, or the Hessian's diagonal, across a block's rows ------ */

/* wl[r] = w_i (1 without weights) and wr[r] = w_i scale for r < nb; 0 for the padding
 * rows. */
FL_INLINE void FL_NAME(obj_row_weights)(const REAL *sw, fl_index i0, fl_index nb, fl_index nt,
                                        REAL scale, REAL *FL_RESTRICT wl,
                                        REAL *FL_RESTRICT wr) {
    for (fl_index r = 0; r < nb; r++) wl[r] = sw ? sw[i0 + r] : (REAL)1;
    FL_SIMD
    for (fl_index r = 0; r < nb; r++) wr[r] = wl[r] * scale;
    for (fl_index r = nb; r < nt; r++) wl[r] = wr[r] = 0;
}

/* z[r] <- wr[r] dl/dz; returns sum_r wl[r] l_r. One loop for weighted and unweighted calls
 * (wl = 1): with two, gcc left the second unvectorized. */
FL_INLINE double FL_NAME(obj_single_rows)(const int loss, fl_index nb, fl_index nt,
                                          REAL *FL_RESTRICT z, const REAL *FL_RESTRICT y,
                                          const REAL *FL_RESTRICT wl,
                                          const REAL *FL_RESTRICT wr, REAL epsilon) {
    double total = 0;
    FL_SIMD_REDUCE_SUM(total)
    for (fl_index r = 0; r < nb; r++) {
        REAL g;
        const REAL l = FL_NAME(loss1)(loss, z[r], y[r], epsilon, &g);
        total += (double)(wl[r] * l);
        z[r] = wr[r] * g;
    }
    for (fl_index r = nb; r < nt; r++) z[r] = 0;
    return total;
}

FL_OBJ_STEP double FL_NAME(obj_single)(int loss, fl_index nb, fl_index nt, REAL *z,
                                     const REAL *y, const REAL *wl, const REAL *wr,
                                     REAL epsilon) {
    /* each loss its own loop (the loss a constant in obj_single_rows); logistic the rest */
#define FL_OBJ_SINGLE_CASE(L)                                                               \
    case L: return FL_NAME(obj_single_rows)(L, nb, nt, z, y, wl, wr, epsilon);
    switch (loss) {
    FL_OBJ_SINGLE_CASE(FL_LIN_SQUARED)
    FL_OBJ_SINGLE_CASE(FL_LIN_ABSOLUTE)
    FL_OBJ_SINGLE_CASE(FL_LIN_HUBER)
    FL_OBJ_SINGLE_CASE(FL_LIN_POISSON)
    FL_OBJ_SINGLE_CASE(FL_LIN_GAMMA)
    FL_OBJ_SINGLE_CASE(FL_LIN_TWEEDIE)
    FL_OBJ_SINGLE_CASE(FL_LIN_PINBALL)
    default: return FL_NAME(obj_single_rows)(FL_LIN_LOGISTIC, nb, nt, z, y, wl, wr, epsilon);
    }
#undef FL_OBJ_SINGLE_CASE
}

/* Hessian-vector product, single output: zv[r] <- w_r l''(z_r) zv[r], l'' from hess1
 * (linear_rules.h); the loss a constant in each loop, as in obj_single. */
FL_INLINE void FL_NAME(obj_single_hess_rows)(const int loss, fl_index nb, fl_index nt,
                                             const REAL *FL_RESTRICT z,
                                             const REAL *FL_RESTRICT y, REAL *FL_RESTRICT zv,
                                             const REAL *FL_RESTRICT wr, REAL epsilon) {
    FL_SIMD
    for (fl_index r = 0; r < nb; r++)
        zv[r] = wr[r] * FL_NAME(hess1)(loss, z[r], y[r], epsilon) * zv[r];
    for (fl_index r = nb; r < nt; r++) zv[r] = 0;
}

FL_OBJ_STEP void FL_NAME(obj_single_hess)(int loss, fl_index nb, fl_index nt, const REAL *z,
                                     const REAL *y, REAL *zv, const REAL *wr, REAL epsilon) {
#define FL_OBJ_HESS_CASE(L)                                                                 \
    case L: FL_NAME(obj_single_hess_rows)(L, nb, nt, z, y, zv, wr, epsilon); return;
    switch (loss) {
    FL_OBJ_HESS_CASE(FL_LIN_SQUARED)
    FL_OBJ_HESS_CASE(FL_LIN_POISSON)
    FL_OBJ_HESS_CASE(FL_LIN_GAMMA)
    FL_OBJ_HESS_CASE(FL_LIN_TWEEDIE)
    default: FL_NAME(obj_single_hess_rows)(FL_LIN_LOGISTIC, nb, nt, z, y, zv, wr, epsilon);
    }
#undef FL_OBJ_HESS_CASE
}

/* The label of row i0 + r, loaded once and checked; -1 (and *bad noted) if outside [0, c). */
FL_INLINE fl_index FL_NAME(obj_label)(const int64_t *labels, fl_index i, fl_index c,
                                      fl_index *bad) {
    const int64_t y = fl_load_index(labels + i);
    if ((uint64_t)y < (uint64_t)c) return (fl_index)y;
    FL_NOTE_BAD(bad, i);
    return -1;
}

/* Softmax cross-entropy of a block: the loss lse(z) - z_y = (m - z_y) + log(sum), as
 * cross_entropy and sgd_epoch form it (never lse - z_y, which rounds the loss's digits away
 * when |m| is large); zt <- w_r (softmax(z) - onehot(y)). Returns sum_r w_i l_r. */
FL_OBJ_STEP double FL_NAME(obj_softmax)(fl_index i0, fl_index nb, fl_index nt, fl_index c,
                                      REAL *zt, fl_index ld, const int64_t *labels,
                                      FL_NAME(obj_buffers) *B, fl_index *bad) {
    REAL *FL_RESTRICT zy = B->aux, *FL_RESTRICT mx = B->mx, *FL_RESTRICT sum = B->sum;
    REAL *FL_RESTRICT wr = B->wr, *FL_RESTRICT wl = B->wl;
    fl_index *FL_RESTRICT lab = B->lab;
    for (fl_index r = 0; r < nb; r++) {
        const fl_index y = FL_NAME(obj_label)(labels, i0 + r, c, bad);
        lab[r] = y < 0 ? 0 : y;
        zy[r] = zt[lab[r] * ld + r];
        if (y < 0) wl[r] = wr[r] = 0; /* a bad label's row counts with weight 0 */
    }
    FL_NAME(softmax_exp_lanes)(nt, c, zt, ld, zt, ld, mx, sum);
    double total = 0;
    FL_SIMD_REDUCE_SUM(total)
    for (fl_index r = 0; r < nb; r++) {
        const REAL l = (mx[r] - zy[r]) + R_LOG(sum[r]);
        total += (double)(wl[r] * l);
        sum[r] = wr[r] / sum[r];
    }
    for (fl_index q = 0; q < c; q++) {
        REAL *zq = zt + q * ld;
        FL_SIMD
        for (fl_index r = 0; r < nt; r++) zq[r] *= sum[r];
        for (fl_index r = nb; r < nt; r++) zq[r] = 0;
    }
    for (fl_index r = 0; r < nb; r++) zt[lab[r] * ld + r] -= wr[r];
    return total;
}

/* Hessian-vector product, softmax: with p = softmax(z) of a row and u = its zv,
 * H u = p * (u - p . u); zv <- w_r H u. */
FL_OBJ_STEP void FL_NAME(obj_softmax_hess)(fl_index nb, fl_index nt, fl_index c, REAL *zt,
                                      REAL *zv, fl_index ld, const REAL *wr,
                                      FL_NAME(obj_buffers) *B) {
    REAL *FL_RESTRICT mx = B->mx, *FL_RESTRICT sum = B->sum, *FL_RESTRICT pu = B->aux;
    FL_NAME(softmax_exp_lanes)(nt, c, zt, ld, zt, ld, mx, sum);
    for (fl_index r = 0; r < nt; r++) {
        sum[r] = (REAL)1 / sum[r];
        pu[r] = 0;
    }
    for (fl_index q = 0; q < c; q++) {
        REAL *FL_RESTRICT pq = zt + q * ld;
        const REAL *FL_RESTRICT uq = zv + q * ld;
        FL_SIMD
        for (fl_index r = 0; r < nt; r++) {
            pq[r] *= sum[r];
            pu[r] += pq[r] * uq[r];
        }
    }
    for (fl_index q = 0; q < c; q++) {
        const REAL *FL_RESTRICT pq = zt + q * ld;
        REAL *FL_RESTRICT uq = zv + q * ld;
        FL_SIMD
        for (fl_index r = 0; r < nt; r++) uq[r] = wr[r] * (pq[r] * (uq[r] - pu[r]));
        for (fl_index r = nb; r < nt; r++) uq[r] = 0;
    }
}

/* ---- one thread's rows ----------------------------------------------------------------- */

/* Rows [lo, hi) into the thread's accumulator B->acc (zeroed here, also for no rows);
 * returns their sum_i w_i l_i. `prefetch`: read the next block's rows ahead (X's rows
 * do not all fit in L2). */
static double FL_NAME(obj_range)(const fl_objective *P, fl_index lo, fl_index hi,
                                 FL_NAME(obj_buffers) *B, int prefetch, fl_index *bad) {
    const fl_index d = P->s.d, c = P->s.c, rs = P->s.row_stride, cs = P->s.col_stride;
    const REAL *X = (const REAL *)P->s.X;
    const REAL *W = (const REAL *)P->coef, *b = (const REAL *)P->intercept;
    const REAL *V = (const REAL *)P->vec_coef, *vb = (const REAL *)P->vec_intercept;
    const REAL *y = (const REAL *)P->s.y, *sw = (const REAL *)P->s.sample_weight;
    const REAL scale = (REAL)P->scale, epsilon = (REAL)P->epsilon;
    const int want_b = P->out_intercept != NULL;
    const fl_index rows = FL_NAME(obj_block_rows)(d, c);
    double total = 0;
    for (fl_index k = 0; k < d * c + c; k++) B->acc[k] = 0;
#if defined(FL_REAL_F32)
    const int wide = P->x_float64; /* X holds doubles: every block is gathered (rounded) */
#else
    const int wide = 0;
#endif
    const int rowwise = !wide && P->loss != FL_LIN_SOFTMAX && cs == 1 && d >= 8 &&
                        d <= FL_OBJ_ROWWISE_MAX_D;
    for (fl_index i0 = lo; i0 < hi; i0 += rows) {
        const fl_index nb = hi - i0 < rows ? hi - i0 : rows;
        const fl_index nt = (nb + FL_OBJ_TILE - 1) / FL_OBJ_TILE * FL_OBJ_TILE;
        if (rowwise) {
            const REAL *xb = X + i0 * rs;
            FL_NAME(obj_rows_z)(xb, rs, nb, nt, d, W, b, B->zt, prefetch ? rows : 0);
            FL_NAME(obj_row_weights)(sw, i0, nb, nt, scale, B->wl, B->wr);
            REAL *dz = B->zt;
            if (P->hessp) {
                FL_NAME(obj_rows_z)(xb, rs, nb, nt, d, V, vb, B->zv, 0);
                FL_NAME(obj_single_hess)(P->loss, nb, nt, B->zt, y + i0, B->zv, B->wr,
                                         epsilon);
                dz = B->zv;
            } else {
                total += FL_NAME(obj_single)(P->loss, nb, nt, B->zt, y + i0, B->wl, B->wr,
                                             epsilon);
            }
            FL_NAME(obj_rows_g)(xb, rs, nb, d, dz, want_b, B->acc);
            continue;
        }
        const REAL *xt = B->xt;
        fl_index ldx = rows;
        FL_NAME(obj_ahead) A, *ah = NULL;
        if (!wide && rs == 1 && nt == nb) { /* F-ordered, a whole number of tiles: in place */
            xt = X + i0;
            ldx = cs;
            /* d column segments: the next block's, one per cache line, fetched meanwhile */
            for (fl_index j = 0; j < d; j++)
                for (fl_index r = 0; r < nb; r += 64 / (fl_index)sizeof(REAL))
                    FL_PREFETCH(X + i0 + rows + r + j * cs);
        } else {
            /* C-ordered rows with several outputs: the next block's rows (contiguous) are
             * hinted during this block's z and g steps, which take long enough to hide
             * them; with one output the pass is bound by reading X, and the gather's own
             * hints, tile by tile, measured faster */
            const size_t x_size = wide ? sizeof(double) : sizeof(REAL);
            const fl_index next = i0 + nb, nn = hi - next < rows ? hi - next : rows;
            if (c > 1 && rs != 1 && nn > 0) {
                A.next = (uintptr_t)P->s.X + (uintptr_t)(next * rs) * x_size;
                A.end = A.next + (uintptr_t)(nn * rs) * x_size;
                const fl_index steps = (c / 2) * (nt / (4 * FL_OBJ_LANES)) + d / 2;
                A.lines = ((fl_index)((size_t)(A.end - A.next) / 64) + steps) / steps + 1;
                ah = &A;
            }
#if defined(FL_REAL_F32)
            if (wide)
                FL_NAME(obj_gather_wide)((const double *)P->s.X, rs, cs, i0, nb, nt, d, B->xt,
                                         rows, ah == NULL);
            else
#endif
                FL_NAME(obj_gather)(X, rs, cs, i0, nb, nt, d, B->xt, rows, ah == NULL);
        }
        FL_NAME(obj_block_z)(nt, d, c, xt, ldx, W, b, B->zt, rows, ah);
        FL_NAME(obj_row_weights)(sw, i0, nb, nt, scale, B->wl, B->wr);
        REAL *dz = B->zt;
        if (P->hessp) {
            FL_NAME(obj_block_z)(nt, d, c, xt, ldx, V, vb, B->zv, rows, NULL);
            if (P->loss == FL_LIN_SOFTMAX)
                FL_NAME(obj_softmax_hess)(nb, nt, c, B->zt, B->zv, rows, B->wr, B);
            else
                FL_NAME(obj_single_hess)(P->loss, nb, nt, B->zt, y + i0, B->zv, B->wr,
                                         epsilon);
            dz = B->zv;
        } else if (P->loss == FL_LIN_SOFTMAX) {
            total += FL_NAME(obj_softmax)(i0, nb, nt, c, B->zt, rows, P->s.labels, B, bad);
        } else {
            total += FL_NAME(obj_single)(P->loss, nb, nt, B->zt, y + i0, B->wl, B->wr,
                                         epsilon);
        }
        FL_NAME(obj_block_g)(nt, d, c, xt, ldx, dz, rows, want_b, B->acc, ah);
    }
    return total;
}

/* ---- the call ---------------------------------------------------------------------- */

static double FL_NAME(obj_run)(fl_objective *P) {
    const fl_index n = P->s.n, d = P->s.d, c = P->s.c, m = d * c;
    const int nt = fl_threads_for(n, P->n_threads < 1 ? 1 : P->n_threads,
                                  FL_OBJ_MIN_ROWS_PER_THREAD);
    const size_t per_thread = FL_NAME(obj_thread_bytes)(d, c);
    char *base = (char *)P->work;
    base += (FL_OBJ_ALIGN - (uintptr_t)base % FL_OBJ_ALIGN) % FL_OBJ_ALIGN;
    double partial[FL_MAX_THREADS];
    fl_index bad = -1;
    /* measured, d = 8: with X in L2 the prefetches cost 15%; from L3 or memory they gain
     * up to 30% */
    const double x_bytes = P->x_float64 ? sizeof(double) : sizeof(REAL);
    const int prefetch = (double)n / nt * (double)d * x_bytes > (double)fl_l2_cache_bytes();
    if (nt <= 1) {
        FL_NAME(obj_buffers) B = FL_NAME(obj_buffers_of)(base, d, c);
        partial[0] = FL_NAME(obj_range)(P, 0, n, &B, prefetch, &bad);
    } else {
        const fl_index chunk = fl_chunk_size(n, nt);
        FL_PARALLEL_FOR(nt)
        for (int t = 0; t < nt; t++) {
            FL_CHUNK_BOUNDS(t, chunk, n);
            FL_NAME(obj_buffers) B = FL_NAME(obj_buffers_of)(base + (size_t)t * per_thread, d, c);
            partial[t] = FL_NAME(obj_range)(P, lo, hi, &B, prefetch, &bad);
        }
    }
    /* fixed order: thread 0's sums, then thread 1's, ... */
    const REAL *p = (const REAL *)(P->hessp ? P->vec_coef : P->coef);
    const double alpha = P->alpha;
    REAL *out = (REAL *)P->out_coef, *out_b = (REAL *)P->out_intercept;
    double total = 0;
    for (int t = 0; t < nt; t++) total += partial[t];
    for (fl_index k = 0; k < m + (out_b ? c : 0); k++) {
        double s = 0;
        for (int t = 0; t < nt; t++) s += ((const double *)(base + (size_t)t * per_thread))[k];
        if (k < m)
            out[k] = (REAL)(alpha * (double)p[k] + s);
        else
            out_b[k - m] = (REAL)s;
    }
    if (bad >= 0) P->bad = bad;
    return total;
}
