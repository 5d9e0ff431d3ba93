/* Vectors of 8 values and the 8 x 8 transpose in registers, for one floating type: a
 * template (no include guard), included by the kernel templates after fl_real.h (REAL, SFX).
 * GNU C vector extensions (gcc's __builtin_shuffle, clang's __builtin_shufflevector): each
 * ISA clone lowers them to its own registers (one zmm or ymm, or several xmm). */
#include "fl_config.h"

#include <stdint.h>
#include <string.h> /* memcpy */

#ifndef FL_SHUF8
#if defined(__clang__)
#define FL_SHUF8(a, b, i0, i1, i2, i3, i4, i5, i6, i7) \
    __builtin_shufflevector((a), (b), i0, i1, i2, i3, i4, i5, i6, i7)
#else
#define FL_SHUF8(a, b, i0, i1, i2, i3, i4, i5, i6, i7) \
    __builtin_shuffle((a), (b), (FL_NAME(idx8)){i0, i1, i2, i3, i4, i5, i6, i7})
#endif
#endif

/* 8 vectors of 8 values: dst[k * ldd + i] = src[i * lds + k], i, k < 8, by three rounds of
 * two-vector shuffles (24 in all; one vpermt2 each with AVX-512) instead of 64 strided
 * loads. */
typedef REAL FL_NAME(vec8) __attribute__((vector_size(8 * sizeof(REAL))));
#if defined(FL_REAL_F64)
typedef int64_t FL_NAME(idx8) __attribute__((vector_size(64)));
#else
typedef int32_t FL_NAME(idx8) __attribute__((vector_size(32)));
#endif

/* o[k][i] = r[i][k]: the 8 x 8 transpose, in registers. */
FL_INLINE void FL_NAME(transpose8_regs)(const FL_NAME(vec8) *r, FL_NAME(vec8) *o) {
    FL_NAME(vec8) t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = FL_SHUF8(r[i], r[i + 1], 0, 8, 2, 10, 4, 12, 6, 14);
        t[i + 1] = FL_SHUF8(r[i], r[i + 1], 1, 9, 3, 11, 5, 13, 7, 15);
    }
    for (int i = 0; i < 8; i += 4)
        for (int k = 0; k < 2; k++) {
            u[i + k] = FL_SHUF8(t[i + k], t[i + k + 2], 0, 1, 8, 9, 4, 5, 12, 13);
            u[i + k + 2] = FL_SHUF8(t[i + k], t[i + k + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        }
    for (int k = 0; k < 4; k++) {
        o[k] = FL_SHUF8(u[k], u[k + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        o[k + 4] = FL_SHUF8(u[k], u[k + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

FL_INLINE void FL_NAME(transpose8)(const REAL *src, fl_index lds, REAL *dst, fl_index ldd) {
    FL_NAME(vec8) r[8], o[8];
    for (int i = 0; i < 8; i++) memcpy(&r[i], src + i * lds, sizeof r[i]);
    FL_NAME(transpose8_regs)(r, o);
    for (int k = 0; k < 8; k++) memcpy(dst + k * ldd, &o[k], sizeof o[k]);
}
