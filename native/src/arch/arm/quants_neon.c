/*
 * quants_neon.c — quantized-format kernels for the neon level (baseline AArch64 AdvSIMD).
 *
 * Activation quantizers Q8_0, Q8_1 and Q8_K write the same bytes as the references of
 * ts_quants.c for finite input: the same f32 operations (one multiply, no add, so FMA
 * contraction cannot change them) and the same rounding, which the FCVT variants provide
 * exactly: FCVTAS is roundf (ties away from zero, the Q8_0/Q8_1 rule), FCVTNS is ties to even
 * (ts_nearest_int, the Q8_K rule). Scales are narrowed to half with ts_fp16.h.
 * Dot products: the plain types here, the integer ones from quants_arm_dots.h with widening
 * multiplies (SMULL + SADALP; the dotprod level swaps in SDOT).
 */
#include <arm_neon.h>
#include <math.h>
#include <float.h>
#include <string.h>

#include "ts_dispatch.h"
#include "ts_fp16.h"
#include "ts_quants.h"

/* 16 int8 products summed into the 4 int32 lanes of acc: each int16 product is at most
 * 128·128, and SADALP widens every pair before adding, so nothing can overflow. */
static inline int32x4_t neon_dot_i8(int32x4_t acc, int8x16_t w, int8x16_t a) {
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(w), vget_low_s8(a)));
    return vpadalq_s16(acc, vmull_high_s8(w, a));
}
#define TS_ARM_DOT_I8 neon_dot_i8
#include "quants_arm_dots.h"

/* ---- Plain-type dots: 16 elements per step in four independent FMA chains. Rows may be at
 * any address, so vectors are loaded as bytes. */

static inline float32x4_t ld_f32x4(const float *p) { return vreinterpretq_f32_u8(vld1q_u8((const uint8_t *)p)); }

static float vec_dot_f32_neon(int64_t k, const void *vw, const void *va) {
    const float *w = vw, *a = va;
    float32x4_t acc[4] = {vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0)};
    int64_t i = 0;
    for (; i + 16 <= k; i += 16)
        for (int j = 0; j < 4; j++) acc[j] = vfmaq_f32(acc[j], ld_f32x4(w + i + 4 * j), ld_f32x4(a + i + 4 * j));
    for (; i + 4 <= k; i += 4) acc[0] = vfmaq_f32(acc[0], ld_f32x4(w + i), ld_f32x4(a + i));
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3])));
    for (; i < k; i++) {
        float x, y;
        memcpy(&x, w + i, sizeof x);
        memcpy(&y, a + i, sizeof y);
        sum += x * y;
    }
    return sum;
}

/* 8 halves -> two float32x4 with FCVTL (exact). */
static inline void ld_f16x8(const uint16_t *p, float32x4_t *lo, float32x4_t *hi) {
    const float16x8_t h = vreinterpretq_f16_u8(vld1q_u8((const uint8_t *)p));
    *lo = vcvt_f32_f16(vget_low_f16(h));
    *hi = vcvt_high_f32_f16(h);
}

/* 8 bfloat16 -> two float32x4: the bits are the top half of the f32. */
static inline void ld_bf16x8(const uint16_t *p, float32x4_t *lo, float32x4_t *hi) {
    const uint16x8_t h = vreinterpretq_u16_u8(vld1q_u8((const uint8_t *)p));
    *lo = vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h), 16));
    *hi = vreinterpretq_f32_u32(vshll_high_n_u16(h, 16));
}

static inline uint16_t ld_u16(const uint16_t *p) {
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

#define TS_HALF_DOT(NAME, LOAD8, SCALAR)                                                        \
    static float NAME(int64_t k, const void *vw, const void *va) {                              \
        const uint16_t *w = vw, *a = va;                                                        \
        float32x4_t acc[4] = {vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0)}; \
        int64_t i = 0;                                                                          \
        for (; i + 16 <= k; i += 16) {                                                          \
            float32x4_t w0, w1, w2, w3, a0, a1, a2, a3;                                         \
            LOAD8(w + i, &w0, &w1);                                                             \
            LOAD8(w + i + 8, &w2, &w3);                                                         \
            LOAD8(a + i, &a0, &a1);                                                             \
            LOAD8(a + i + 8, &a2, &a3);                                                         \
            acc[0] = vfmaq_f32(acc[0], w0, a0);                                                 \
            acc[1] = vfmaq_f32(acc[1], w1, a1);                                                 \
            acc[2] = vfmaq_f32(acc[2], w2, a2);                                                 \
            acc[3] = vfmaq_f32(acc[3], w3, a3);                                                 \
        }                                                                                       \
        for (; i + 8 <= k; i += 8) {                                                            \
            float32x4_t w0, w1, a0, a1;                                                         \
            LOAD8(w + i, &w0, &w1);                                                             \
            LOAD8(a + i, &a0, &a1);                                                             \
            acc[0] = vfmaq_f32(acc[0], w0, a0);                                                 \
            acc[1] = vfmaq_f32(acc[1], w1, a1);                                                 \
        }                                                                                       \
        float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3]))); \
        for (; i < k; i++) sum += SCALAR(ld_u16(w + i)) * SCALAR(ld_u16(a + i));               \
        return sum;                                                                             \
    }

TS_HALF_DOT(vec_dot_f16_neon, ld_f16x8, ts_f16_to_f32)
TS_HALF_DOT(vec_dot_bf16_neon, ld_bf16x8, ts_bf16_to_f32)

/* ---- Activation quantizers ---- */

/* int32 lanes already in [-127, 127] -> 16 int8 (saturating narrows never saturate here). */
static inline int8x16_t narrow_s32x16(int32x4_t q0, int32x4_t q1, int32x4_t q2, int32x4_t q3) {
    const int16x8_t lo = vcombine_s16(vqmovn_s32(q0), vqmovn_s32(q1));
    const int16x8_t hi = vcombine_s16(vqmovn_s32(q2), vqmovn_s32(q3));
    return vcombine_s8(vqmovn_s16(lo), vqmovn_s16(hi));
}

/* Shared Q8_0/Q8_1 step on 32 floats: d = amax/127, q = roundf(x·(1/d)). Returns f32 d. */
static inline float q8_block_neon(const float *x, int8_t *qs) {
    float32x4_t v[8];
    float32x4_t amax = vdupq_n_f32(0);
    for (int j = 0; j < 8; j++) {
        v[j] = vld1q_f32(x + 4 * j);
        amax = vmaxq_f32(amax, vabsq_f32(v[j]));
    }
    const float d = vmaxvq_f32(amax) / 127;
    const float id = d ? 1.0f / d : 0.0f;
    if (!(id <= FLT_MAX)) { /* tiny block: every level is 0, as the reference defines it */
        memset(qs, 0, 32);
        return d;
    }
    int32x4_t q[8];
    for (int j = 0; j < 8; j++) q[j] = vcvtaq_s32_f32(vmulq_n_f32(v[j], id)); /* FCVTAS = roundf */
    vst1q_s8(qs, narrow_s32x16(q[0], q[1], q[2], q[3]));
    vst1q_s8(qs + 16, narrow_s32x16(q[4], q[5], q[6], q[7]));
    return d;
}

static inline void st_u16(uint16_t *p, uint16_t v) { memcpy(p, &v, sizeof v); }

static void quantize_row_q8_0_neon(const float *x, void *vy, int64_t k) {
    ts_block_q8_0 *y = vy;
    const int64_t nb = k / TS_QK8_0;
    for (int64_t i = 0; i < nb; i++, x += TS_QK8_0) st_u16(&y[i].d, ts_f32_to_f16(q8_block_neon(x, y[i].qs)));
}

static void quantize_row_q8_1_neon(const float *x, void *vy, int64_t k) {
    ts_block_q8_1 *y = vy;
    const int64_t nb = k / TS_QK8_1;
    for (int64_t i = 0; i < nb; i++, x += TS_QK8_1) {
        const float d = q8_block_neon(x, y[i].qs);
        const int sum = vaddlvq_s8(vld1q_s8(y[i].qs)) + vaddlvq_s8(vld1q_s8(y[i].qs + 16));
        st_u16(&y[i].d, ts_f32_to_f16(d));
        st_u16(&y[i].s, ts_f32_to_f16((float)sum * d)); /* f32 d, as the reference */
    }
}

static void quantize_row_q8_K_neon(const float *x, void *vy, int64_t k) {
    ts_block_q8_K *y = vy;
    const int64_t nb = k / TS_QK_K;
    for (int64_t i = 0; i < nb; i++, x += TS_QK_K) {
        /* FMAXNM skips NaN lanes as the reference's strict '>' does, so amax is the largest
         * non-NaN |x| and some element equals it (the scan below needs one). */
        float32x4_t m = vdupq_n_f32(0);
        for (int j = 0; j < TS_QK_K; j += 4) m = vmaxnmq_f32(m, vabsq_f32(vld1q_f32(x + j)));
        const float amax = vmaxnmvq_f32(m);
        if (!amax) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        /* The sign of the scale comes from the FIRST element of largest |x| (the reference
         * keeps the first on ties, and +a / -a ties flip every level). */
        int first = 0;
        const float32x4_t vmax = vdupq_n_f32(amax);
        while (first < TS_QK_K - 4 && vmaxvq_u32(vceqq_f32(vabsq_f32(vld1q_f32(x + first)), vmax)) == 0) first += 4;
        while (first < TS_QK_K - 1 && fabsf(x[first]) != amax) first++;
        const float iscale = -127.f / x[first];
        if (!(iscale >= -FLT_MAX && iscale <= FLT_MAX)) {
            /* |max| < ~3.7e-37: the reference's rounding maps the ±inf/NaN products to 0
             * (FCVTNS would saturate them to ±127). */
            memset(y[i].qs, 0, sizeof y[i].qs);
            memset(y[i].bsums, 0, sizeof y[i].bsums);
            const float d = 1 / iscale;
            memcpy(&y[i].d, &d, sizeof d);
            continue;
        }
        const int32x4_t hi = vdupq_n_s32(127);
        int16_t bsums[16];
        for (int g = 0; g < 16; g++) {
            int32x4_t q[4];
            for (int j = 0; j < 4; j++) /* FCVTNS = ties to even, as ts_nearest_int */
                q[j] = vminq_s32(vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + 16 * g + 4 * j), iscale)), hi);
            const int8x16_t qs = narrow_s32x16(q[0], q[1], q[2], q[3]);
            vst1q_s8(y[i].qs + 16 * g, qs);
            bsums[g] = vaddlvq_s8(qs);
        }
        memcpy(y[i].bsums, bsums, sizeof bsums);
        const float d = 1 / iscale;
        memcpy(&y[i].d, &d, sizeof d);
    }
}

void ts_register_quants_neon(struct ts_kernels *k, uint64_t cpu) {
    (void)cpu;
    k->quantize_row[TS_TYPE_Q8_0] = quantize_row_q8_0_neon;
    k->quantize_row[TS_TYPE_Q8_1] = quantize_row_q8_1_neon;
    k->quantize_row[TS_TYPE_Q8_K] = quantize_row_q8_K_neon;
    k->vec_dot[TS_TYPE_F32] = vec_dot_f32_neon;
    k->vec_dot[TS_TYPE_F16] = vec_dot_f16_neon;
    k->vec_dot[TS_TYPE_BF16] = vec_dot_bf16_neon;
    arm_register_int_dots(k);
}
