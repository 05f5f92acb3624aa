/*
 * quants_arm_dots.h — integer dot products of the quantized formats for AArch64, shared by
 * the neon level (quants_neon.c) and the dotprod level (quants_dotprod.c).
 *
 * The two levels differ only in how 16 int8 pairs are multiplied and summed into 4 int32
 * lanes, so the includer defines that primitive first:
 *   int32x4_t TS_ARM_DOT_I8(int32x4_t acc, int8x16_t w, int8x16_t a)
 * which adds to each lane of acc the sum of 4 products w·a (any grouping of the 16 products
 * into lanes is fine: every caller only uses the total of the 4 lanes). Baseline NEON does it
 * with widening multiplies (vmull_s8, vpadalq_s16), ARMv8.2 dotprod with vdotq_s32.
 *
 * Every level is unpacked to signed int8 in a vector (Q4/Q5 nibbles, Q6 6-bit values minus
 * 32, Q3 values -4..3, Q2 values 0..3), so both primitives are exact: the widening path keeps
 * one product (|p| <= 128·128) per int16 lane and widens before adding, SDOT sums in int32.
 * Per block (legacy) or per 16/32-group (K-quants) the integer sums are exactly the
 * reference's; K-quant super-blocks then apply the scales in float with the reference's
 * expression and block order, the legacy formats keep four float lanes per accumulator, so
 * results agree with the scalar references to float rounding (tests/test_quants_levels.c).
 *
 * Rows may start at any address: only byte loads (vld1q_u8/vld1q_s8) and memcpy touch them.
 */
#ifndef TS_QUANTS_ARM_DOTS_H
#define TS_QUANTS_ARM_DOTS_H

#ifndef TS_ARM_DOT_I8
#error "define TS_ARM_DOT_I8(acc, w, a) before including quants_arm_dots.h"
#endif

#include <arm_neon.h>
#include <string.h>

#include "ts_dispatch.h"
#include "ts_quants.h"

/* Half -> float with FCVT (base ARMv8): exact, the same value as ts_f16_to_f32. */
static inline float arm_h2f(const uint16_t *p) {
    __fp16 h;
    memcpy(&h, p, sizeof h);
    return (float)h;
}

static inline float arm_ldf(const float *p) {
    float f;
    memcpy(&f, p, sizeof f);
    return f;
}

/* Q8_K group sums of 16 (bsums), widened from any address. */
static inline int16x8_t arm_bsums(const ts_block_q8_K *a, int half) {
    return vreinterpretq_s16_u8(vld1q_u8((const uint8_t *)a->bsums + 16 * half));
}

/* 32 int8 pairs into a fresh int32x4. */
static inline int32x4_t arm_dot32(int8x16_t w0, int8x16_t w1, const int8_t *a) {
    return TS_ARM_DOT_I8(TS_ARM_DOT_I8(vdupq_n_s32(0), w0, vld1q_s8(a)), w1, vld1q_s8(a + 16));
}

/* 16 int8 pairs into a fresh int32x4. */
static inline int32x4_t arm_dot16(int8x16_t w, const int8_t *a) { return TS_ARM_DOT_I8(vdupq_n_s32(0), w, vld1q_s8(a)); }

/* Legacy 5th bits: bytes b0 (elements 0..7) and b1 (8..15) of qh -> 0x10 in each byte whose
 * element has its bit set, else 0. */
static inline uint8x16_t arm_q5_high(uint8_t b0, uint8_t b1) {
    static const uint8_t bit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t bytes = vcombine_u8(vdup_n_u8(b0), vdup_n_u8(b1));
    return vandq_u8(vtstq_u8(bytes, vld1q_u8(bit)), vdupq_n_u8(0x10));
}

/* Q4_K/Q5_K 6-bit (scale, min) pairs of the 12-byte packing (FORMATS.md §2.3). */
static inline void arm_k4_scales(const uint8_t *q, int32_t sc[8], int16_t mn[8]) {
    for (int j = 0; j < 4; j++) {
        sc[j] = q[j] & 63;
        mn[j] = (int16_t)(q[j + 4] & 63);
    }
    for (int j = 4; j < 8; j++) {
        sc[j] = (q[j + 4] & 15) | ((q[j - 4] >> 6) << 4);
        mn[j] = (int16_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* Σ_j mn[j]·(bsums[2j] + bsums[2j+1]): the min term of Q4_K/Q5_K. */
static inline int32_t arm_k4_min_sum(const ts_block_q8_K *a, const int16_t mn[8]) {
    const int16x8_t pairs = vpaddq_s16(arm_bsums(a, 0), arm_bsums(a, 1)); /* |.| <= 32·127 */
    const int16x8_t m = vld1q_s16(mn);
    int32x4_t s = vmull_s16(vget_low_s16(pairs), vget_low_s16(m));
    s = vmlal_high_s16(s, pairs, m);
    return vaddvq_s32(s);
}

static float vec_dot_q8_0_q8_0_arm(int64_t k, const void *vw, const void *va) {
    const ts_block_q8_0 *w = vw;
    const ts_block_q8_0 *a = va;
    const int64_t nb = k / TS_QK8_0;
    /* Two accumulators so consecutive blocks do not wait on each other's FMA. */
    float32x4_t acc0 = vdupq_n_f32(0), acc1 = vdupq_n_f32(0);
    int64_t i = 0;
    for (; i + 2 <= nb; i += 2) {
        const int32x4_t p0 = arm_dot32(vld1q_s8(w[i].qs), vld1q_s8(w[i].qs + 16), a[i].qs);
        const int32x4_t p1 = arm_dot32(vld1q_s8(w[i + 1].qs), vld1q_s8(w[i + 1].qs + 16), a[i + 1].qs);
        acc0 = vmlaq_n_f32(acc0, vcvtq_f32_s32(p0), arm_h2f(&w[i].d) * arm_h2f(&a[i].d));
        acc1 = vmlaq_n_f32(acc1, vcvtq_f32_s32(p1), arm_h2f(&w[i + 1].d) * arm_h2f(&a[i + 1].d));
    }
    for (; i < nb; i++) {
        const int32x4_t p = arm_dot32(vld1q_s8(w[i].qs), vld1q_s8(w[i].qs + 16), a[i].qs);
        acc0 = vmlaq_n_f32(acc0, vcvtq_f32_s32(p), arm_h2f(&w[i].d) * arm_h2f(&a[i].d));
    }
    return vaddvq_f32(vaddq_f32(acc0, acc1));
}

static float vec_dot_q4_0_q8_0_arm(int64_t k, const void *vw, const void *va) {
    const ts_block_q4_0 *w = vw;
    const ts_block_q8_0 *a = va;
    const int64_t nb = k / TS_QK4_0;
    const uint8x16_t low = vdupq_n_u8(0x0f);
    const int8x16_t eight = vdupq_n_s8(8);
    float32x4_t acc[2] = {vdupq_n_f32(0), vdupq_n_f32(0)};
    for (int64_t i = 0; i < nb; i++) {
        /* Low nibbles are elements 0..15, high nibbles 16..31; levels are q - 8. */
        const uint8x16_t q = vld1q_u8(w[i].qs);
        const int8x16_t q0 = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, low)), eight);
        const int8x16_t q1 = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), eight);
        const int32x4_t p = arm_dot32(q0, q1, a[i].qs);
        acc[i & 1] = vmlaq_n_f32(acc[i & 1], vcvtq_f32_s32(p), arm_h2f(&w[i].d) * arm_h2f(&a[i].d));
    }
    return vaddvq_f32(vaddq_f32(acc[0], acc[1]));
}

/* Q4_1·Q8_1: d·da·Σ q·qa + m·s per block (s = da·Σ qa, stored by the activation quantizer). */
static float vec_dot_q4_1_q8_1_arm(int64_t k, const void *vw, const void *va) {
    const ts_block_q4_1 *w = vw;
    const ts_block_q8_1 *a = va;
    const int64_t nb = k / TS_QK4_1;
    const uint8x16_t low = vdupq_n_u8(0x0f);
    float32x4_t acc[2] = {vdupq_n_f32(0), vdupq_n_f32(0)};
    float summ = 0;
    for (int64_t i = 0; i < nb; i++) {
        const uint8x16_t q = vld1q_u8(w[i].qs);
        const int8x16_t q0 = vreinterpretq_s8_u8(vandq_u8(q, low));
        const int8x16_t q1 = vreinterpretq_s8_u8(vshrq_n_u8(q, 4));
        const int32x4_t p = arm_dot32(q0, q1, a[i].qs);
        acc[i & 1] = vmlaq_n_f32(acc[i & 1], vcvtq_f32_s32(p), arm_h2f(&w[i].d) * arm_h2f(&a[i].d));
        summ += arm_h2f(&w[i].m) * arm_h2f(&a[i].s);
    }
    return vaddvq_f32(vaddq_f32(acc[0], acc[1])) + summ;
}

static float vec_dot_q5_0_q8_0_arm(int64_t k, const void *vw, const void *va) {
    const ts_block_q5_0 *w = vw;
    const ts_block_q8_0 *a = va;
    const int64_t nb = k / TS_QK5_0;
    const uint8x16_t low = vdupq_n_u8(0x0f);
    const int8x16_t sixteen = vdupq_n_s8(16);
    float32x4_t acc[2] = {vdupq_n_f32(0), vdupq_n_f32(0)};
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *qh = w[i].qh; /* little-endian u32: bit e = 5th bit of element e */
        const uint8x16_t q = vld1q_u8(w[i].qs);
        const uint8x16_t u0 = vorrq_u8(vandq_u8(q, low), arm_q5_high(qh[0], qh[1]));
        const uint8x16_t u1 = vorrq_u8(vshrq_n_u8(q, 4), arm_q5_high(qh[2], qh[3]));
        const int8x16_t q0 = vsubq_s8(vreinterpretq_s8_u8(u0), sixteen);
        const int8x16_t q1 = vsubq_s8(vreinterpretq_s8_u8(u1), sixteen);
        const int32x4_t p = arm_dot32(q0, q1, a[i].qs);
        acc[i & 1] = vmlaq_n_f32(acc[i & 1], vcvtq_f32_s32(p), arm_h2f(&w[i].d) * arm_h2f(&a[i].d));
    }
    return vaddvq_f32(vaddq_f32(acc[0], acc[1]));
}

static float vec_dot_q5_1_q8_1_arm(int64_t k, const void *vw, const void *va) {
    const ts_block_q5_1 *w = vw;
    const ts_block_q8_1 *a = va;
    const int64_t nb = k / TS_QK5_1;
    const uint8x16_t low = vdupq_n_u8(0x0f);
    float32x4_t acc[2] = {vdupq_n_f32(0), vdupq_n_f32(0)};
    float summ = 0;
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *qh = w[i].qh;
        const uint8x16_t q = vld1q_u8(w[i].qs);
        const int8x16_t q0 = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(q, low), arm_q5_high(qh[0], qh[1])));
        const int8x16_t q1 = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(q, 4), arm_q5_high(qh[2], qh[3])));
        const int32x4_t p = arm_dot32(q0, q1, a[i].qs);
        acc[i & 1] = vmlaq_n_f32(acc[i & 1], vcvtq_f32_s32(p), arm_h2f(&w[i].d) * arm_h2f(&a[i].d));
        summ += arm_h2f(&w[i].m) * arm_h2f(&a[i].s);
    }
    return vaddvq_f32(vaddq_f32(acc[0], acc[1])) + summ;
}

/* Q2_K: element e of a super-block is bits 2·((e>>5)&3) of qs[32·(e>>7) + (e&31)]; 16-group
 * s has scale scales[s]&15 and min scales[s]>>4. */
static float vec_dot_q2_K_q8_K_arm(int64_t k, const void *vw, const void *va) {
    const ts_block_q2_K *w = vw;
    const ts_block_q8_K *a = va;
    const int64_t nb = k / TS_QK_K;
    const uint8x16_t three = vdupq_n_u8(3);
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) {
        const uint8x16_t sc = vld1q_u8(w[i].scales);
        uint8_t scl[16];
        vst1q_u8(scl, vandq_u8(sc, vdupq_n_u8(15)));
        /* Min term: Σ_s (scales[s]>>4)·bsums[s]. */
        const uint8x16_t mins = vshrq_n_u8(sc, 4);
        const int16x8_t m0 = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(mins)));
        const int16x8_t m1 = vreinterpretq_s16_u16(vmovl_high_u8(mins));
        const int16x8_t b0 = arm_bsums(&a[i], 0), b1 = arm_bsums(&a[i], 1);
        int32x4_t ms = vmull_s16(vget_low_s16(m0), vget_low_s16(b0));
        ms = vmlal_high_s16(ms, m0, b0);
        ms = vmlal_s16(ms, vget_low_s16(m1), vget_low_s16(b1));
        ms = vmlal_high_s16(ms, m1, b1);
        const int32_t summ = vaddvq_s32(ms);

        int32x4_t acc = vdupq_n_s32(0);
        for (int n = 0; n < 2; n++) {
            const uint8x16_t q0 = vld1q_u8(w[i].qs + 32 * n), q1 = vld1q_u8(w[i].qs + 32 * n + 16);
            const int8_t *qa = a[i].qs + 128 * n;
            for (int p = 0; p < 4; p++) { /* 32-group g = 4n + p, shift 2p */
                const int8x16_t sh = vdupq_n_s8((int8_t)(-2 * p));
                const int8x16_t l0 = vreinterpretq_s8_u8(vandq_u8(vshlq_u8(q0, sh), three));
                const int8x16_t l1 = vreinterpretq_s8_u8(vandq_u8(vshlq_u8(q1, sh), three));
                const int g = 4 * n + p;
                acc = vmlaq_n_s32(acc, arm_dot16(l0, qa + 32 * p), scl[2 * g]);
                acc = vmlaq_n_s32(acc, arm_dot16(l1, qa + 32 * p + 16), scl[2 * g + 1]);
            }
        }
        const int32_t sumi = vaddvq_s32(acc);
        sum += arm_ldf(&a[i].d) * (arm_h2f(&w[i].d) * (float)sumi - arm_h2f(&w[i].dmin) * (float)summ);
    }
    return sum;
}

/* Q3_K: as Q2_K for the low 2 bits, plus hmask bit (e>>5) of byte e&31 (set: +0, clear: -4),
 * and a signed 6-bit scale per 16-group. */
static float vec_dot_q3_K_q8_K_arm(int64_t k, const void *vw, const void *va) {
    const ts_block_q3_K *w = vw;
    const ts_block_q8_K *a = va;
    const int64_t nb = k / TS_QK_K;
    const uint8x16_t three = vdupq_n_u8(3), four = vdupq_n_u8(4);
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *s8 = w[i].scales;
        int32_t scl[16];
        for (int s = 0; s < 16; s++) {
            const int lo = s < 8 ? (s8[s] & 15) : (s8[s - 8] >> 4);
            const int hi = (s8[8 + (s & 3)] >> (2 * (s >> 2))) & 3;
            scl[s] = (lo | (hi << 4)) - 32;
        }
        const uint8x16_t h0 = vld1q_u8(w[i].hmask), h1 = vld1q_u8(w[i].hmask + 16);
        int32x4_t acc = vdupq_n_s32(0);
        for (int n = 0; n < 2; n++) {
            const uint8x16_t q0 = vld1q_u8(w[i].qs + 32 * n), q1 = vld1q_u8(w[i].qs + 32 * n + 16);
            const int8_t *qa = a[i].qs + 128 * n;
            for (int p = 0; p < 4; p++) {
                const int g = 4 * n + p;
                const int8x16_t sh = vdupq_n_s8((int8_t)(-2 * p));
                const uint8x16_t bit = vdupq_n_u8((uint8_t)(1u << g));
                /* low bits minus 4 where the high bit is clear: values -4..3 */
                const int8x16_t l0 = vreinterpretq_s8_u8(
                    vsubq_u8(vandq_u8(vshlq_u8(q0, sh), three), vbicq_u8(four, vtstq_u8(h0, bit))));
                const int8x16_t l1 = vreinterpretq_s8_u8(
                    vsubq_u8(vandq_u8(vshlq_u8(q1, sh), three), vbicq_u8(four, vtstq_u8(h1, bit))));
                acc = vmlaq_n_s32(acc, arm_dot16(l0, qa + 32 * p), scl[2 * g]);
                acc = vmlaq_n_s32(acc, arm_dot16(l1, qa + 32 * p + 16), scl[2 * g + 1]);
            }
        }
        const int32_t sumi = vaddvq_s32(acc);
        sum += arm_ldf(&a[i].d) * arm_h2f(&w[i].d) * (float)sumi;
    }
    return sum;
}

/* Q4_K: 32-groups 2t and 2t+1 are the low and high nibbles of qs[32t .. 32t+31]. */
static float vec_dot_q4_K_q8_K_arm(int64_t k, const void *vw, const void *va) {
    const ts_block_q4_K *w = vw;
    const ts_block_q8_K *a = va;
    const int64_t nb = k / TS_QK_K;
    const uint8x16_t low = vdupq_n_u8(0x0f);
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) {
        int32_t sc[8];
        int16_t mn[8];
        arm_k4_scales(w[i].scales, sc, mn);
        const int32_t summ = arm_k4_min_sum(&a[i], mn);
        int32x4_t acc = vdupq_n_s32(0);
        for (int t = 0; t < 4; t++) {
            const uint8x16_t q0 = vld1q_u8(w[i].qs + 32 * t), q1 = vld1q_u8(w[i].qs + 32 * t + 16);
            const int8_t *qa = a[i].qs + 64 * t;
            const int32x4_t pl = arm_dot32(vreinterpretq_s8_u8(vandq_u8(q0, low)), vreinterpretq_s8_u8(vandq_u8(q1, low)), qa);
            const int32x4_t ph = arm_dot32(vreinterpretq_s8_u8(vshrq_n_u8(q0, 4)), vreinterpretq_s8_u8(vshrq_n_u8(q1, 4)), qa + 32);
            acc = vmlaq_n_s32(acc, pl, sc[2 * t]);
            acc = vmlaq_n_s32(acc, ph, sc[2 * t + 1]);
        }
        const int32_t sumi = vaddvq_s32(acc);
        sum += arm_ldf(&a[i].d) * (arm_h2f(&w[i].d) * (float)sumi - arm_h2f(&w[i].dmin) * (float)summ);
    }
    return sum;
}

/* Q5_K: Q4_K plus a 5th bit, bit j of qh[l] for element l of 32-group j. */
static float vec_dot_q5_K_q8_K_arm(int64_t k, const void *vw, const void *va) {
    const ts_block_q5_K *w = vw;
    const ts_block_q8_K *a = va;
    const int64_t nb = k / TS_QK_K;
    const uint8x16_t low = vdupq_n_u8(0x0f), b4 = vdupq_n_u8(0x10);
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) {
        int32_t sc[8];
        int16_t mn[8];
        arm_k4_scales(w[i].scales, sc, mn);
        const int32_t summ = arm_k4_min_sum(&a[i], mn);
        const uint8x16_t h0 = vld1q_u8(w[i].qh), h1 = vld1q_u8(w[i].qh + 16);
        int32x4_t acc = vdupq_n_s32(0);
        for (int t = 0; t < 4; t++) {
            const uint8x16_t q0 = vld1q_u8(w[i].qs + 32 * t), q1 = vld1q_u8(w[i].qs + 32 * t + 16);
            const uint8x16_t bl = vdupq_n_u8((uint8_t)(1u << (2 * t))), bh = vdupq_n_u8((uint8_t)(2u << (2 * t)));
            const int8_t *qa = a[i].qs + 64 * t;
            const uint8x16_t l0 = vorrq_u8(vandq_u8(q0, low), vandq_u8(vtstq_u8(h0, bl), b4));
            const uint8x16_t l1 = vorrq_u8(vandq_u8(q1, low), vandq_u8(vtstq_u8(h1, bl), b4));
            const uint8x16_t u0 = vorrq_u8(vshrq_n_u8(q0, 4), vandq_u8(vtstq_u8(h0, bh), b4));
            const uint8x16_t u1 = vorrq_u8(vshrq_n_u8(q1, 4), vandq_u8(vtstq_u8(h1, bh), b4));
            const int32x4_t pl = arm_dot32(vreinterpretq_s8_u8(l0), vreinterpretq_s8_u8(l1), qa);
            const int32x4_t ph = arm_dot32(vreinterpretq_s8_u8(u0), vreinterpretq_s8_u8(u1), qa + 32);
            acc = vmlaq_n_s32(acc, pl, sc[2 * t]);
            acc = vmlaq_n_s32(acc, ph, sc[2 * t + 1]);
        }
        const int32_t sumi = vaddvq_s32(acc);
        sum += arm_ldf(&a[i].d) * (arm_h2f(&w[i].d) * (float)sumi - arm_h2f(&w[i].dmin) * (float)summ);
    }
    return sum;
}

/* Q6_K: in each half n (128 elements) the 32-element part p takes its low 4 bits from
 * ql[64n + (p&1)·32 + l] (low nibble for p < 2, high for p >= 2) and its top 2 bits from
 * bits 2p of qh[32n + l]; 16-group scale index 8n + 2p + (l >> 4); level minus 32. */
static float vec_dot_q6_K_q8_K_arm(int64_t k, const void *vw, const void *va) {
    const ts_block_q6_K *w = vw;
    const ts_block_q8_K *a = va;
    const int64_t nb = k / TS_QK_K;
    const uint8x16_t low = vdupq_n_u8(0x0f), top = vdupq_n_u8(0x30);
    const int8x16_t off = vdupq_n_s8(32);
    float sum = 0;
    for (int64_t i = 0; i < nb; i++) {
        int32x4_t acc = vdupq_n_s32(0);
        for (int n = 0; n < 2; n++) {
            const uint8_t *ql = w[i].ql + 64 * n, *qh = w[i].qh + 32 * n;
            const int8_t *sc = w[i].scales + 8 * n;
            const int8_t *qa = a[i].qs + 128 * n;
            const uint8x16_t A0 = vld1q_u8(ql), A1 = vld1q_u8(ql + 16);
            const uint8x16_t B0 = vld1q_u8(ql + 32), B1 = vld1q_u8(ql + 48);
            const uint8x16_t H0 = vld1q_u8(qh), H1 = vld1q_u8(qh + 16);
            uint8x16_t u[8];
            u[0] = vorrq_u8(vandq_u8(A0, low), vandq_u8(vshlq_n_u8(H0, 4), top));
            u[1] = vorrq_u8(vandq_u8(A1, low), vandq_u8(vshlq_n_u8(H1, 4), top));
            u[2] = vorrq_u8(vandq_u8(B0, low), vandq_u8(vshlq_n_u8(H0, 2), top));
            u[3] = vorrq_u8(vandq_u8(B1, low), vandq_u8(vshlq_n_u8(H1, 2), top));
            u[4] = vorrq_u8(vshrq_n_u8(A0, 4), vandq_u8(H0, top));
            u[5] = vorrq_u8(vshrq_n_u8(A1, 4), vandq_u8(H1, top));
            u[6] = vorrq_u8(vshrq_n_u8(B0, 4), vandq_u8(vshrq_n_u8(H0, 2), top));
            u[7] = vorrq_u8(vshrq_n_u8(B1, 4), vandq_u8(vshrq_n_u8(H1, 2), top));
            for (int j = 0; j < 8; j++) { /* u[2p + h]: part p, elements 16h .. 16h+15 */
                const int8x16_t q = vsubq_s8(vreinterpretq_s8_u8(u[j]), off);
                acc = vmlaq_n_s32(acc, arm_dot16(q, qa + 16 * j), sc[j]);
            }
        }
        const int32_t sumi = vaddvq_s32(acc);
        sum += arm_ldf(&a[i].d) * arm_h2f(&w[i].d) * (float)sumi;
    }
    return sum;
}

/* The integer dots this header provides, for the includer's registration function. */
static inline void arm_register_int_dots(struct ts_kernels *k) {
    k->vec_dot[TS_TYPE_Q8_0] = vec_dot_q8_0_q8_0_arm;
    k->vec_dot[TS_TYPE_Q4_0] = vec_dot_q4_0_q8_0_arm;
    k->vec_dot[TS_TYPE_Q4_1] = vec_dot_q4_1_q8_1_arm;
    k->vec_dot[TS_TYPE_Q5_0] = vec_dot_q5_0_q8_0_arm;
    k->vec_dot[TS_TYPE_Q5_1] = vec_dot_q5_1_q8_1_arm;
    k->vec_dot[TS_TYPE_Q2_K] = vec_dot_q2_K_q8_K_arm;
    k->vec_dot[TS_TYPE_Q3_K] = vec_dot_q3_K_q8_K_arm;
    k->vec_dot[TS_TYPE_Q4_K] = vec_dot_q4_K_q8_K_arm;
    k->vec_dot[TS_TYPE_Q5_K] = vec_dot_q5_K_q8_K_arm;
    k->vec_dot[TS_TYPE_Q6_K] = vec_dot_q6_K_q8_K_arm;
}

#endif /* TS_QUANTS_ARM_DOTS_H */
