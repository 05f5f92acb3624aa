/*
 * convert_neon.c — F16/BF16 <-> F32 row kernels for the neon level (baseline AArch64).
 *
 * FCVTN/FCVTL convert half precision in base ARMv8 (no +fp16 needed) and, with the default
 * FPCR (RNE, no flush, IEEE half), match ts_fp16.h including NaN quieting. BF16 uses the
 * integer formula on 4 lanes (the BFCVTN instruction needs ARMv8.6 and is not assumed).
 */
#include <arm_neon.h>

#include "ts_convert.h"
#include "ts_dispatch.h"

static void f32_to_f16_neon(uint16_t *dst, const float *src, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float16x4_t lo = vcvt_f16_f32(vld1q_f32(src + i));
        float16x8_t h = vcvt_high_f16_f32(lo, vld1q_f32(src + i + 4));
        vst1q_u16(dst + i, vreinterpretq_u16_f16(h));
    }
    for (; i + 4 <= n; i += 4) vst1_u16(dst + i, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(src + i))));
    ts_f32_to_f16_ref(dst + i, src + i, n - i);
}

static void f16_to_f32_neon(float *dst, const uint16_t *src, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(src + i));
        vst1q_f32(dst + i, vcvt_f32_f16(vget_low_f16(h)));
        vst1q_f32(dst + i + 4, vcvt_high_f32_f16(h));
    }
    for (; i + 4 <= n; i += 4) vst1q_f32(dst + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(src + i))));
    ts_f16_to_f32_ref(dst + i, src + i, n - i);
}

static inline uint16x4_t bf16_round4(uint32x4_t x) {
    uint32x4_t hi = vshrq_n_u32(x, 16);
    uint32x4_t lsb = vandq_u32(hi, vdupq_n_u32(1));
    uint32x4_t rounded = vshrq_n_u32(vaddq_u32(x, vaddq_u32(lsb, vdupq_n_u32(0x7fff))), 16);
    uint32x4_t quiet = vorrq_u32(hi, vdupq_n_u32(0x40));
    uint32x4_t is_nan = vcgtq_u32(vandq_u32(x, vdupq_n_u32(0x7fffffff)), vdupq_n_u32(0x7f800000));
    return vmovn_u32(vbslq_u32(is_nan, quiet, rounded));
}

static void f32_to_bf16_neon(uint16_t *dst, const float *src, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint16x4_t a = bf16_round4(vld1q_u32((const uint32_t *)(src + i)));
        uint16x4_t b = bf16_round4(vld1q_u32((const uint32_t *)(src + i + 4)));
        vst1q_u16(dst + i, vcombine_u16(a, b));
    }
    ts_f32_to_bf16_ref(dst + i, src + i, n - i);
}

static void bf16_to_f32_neon(float *dst, const uint16_t *src, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint16x8_t h = vld1q_u16(src + i);
        vst1q_u32((uint32_t *)(dst + i), vshll_n_u16(vget_low_u16(h), 16));
        vst1q_u32((uint32_t *)(dst + i + 4), vshll_high_n_u16(h, 16));
    }
    ts_bf16_to_f32_ref(dst + i, src + i, n - i);
}

void ts_register_convert_neon(struct ts_kernels *k, uint64_t cpu) {
    (void)cpu;
    k->f32_to_f16 = f32_to_f16_neon;
    k->f16_to_f32 = f16_to_f32_neon;
    k->f32_to_bf16 = f32_to_bf16_neon;
    k->bf16_to_f32 = bf16_to_f32_neon;
}
