/*
 * convert_avx512.c — F16/BF16 <-> F32 row kernels for the avx512 level (F+BW+VL+DQ).
 *
 * 16 lanes per vector; tails use masked loads/stores instead of a scalar loop.
 * f32 -> bf16 uses vcvtneps2bf16 when the CPU has AVX512-BF16 (selected at registration,
 * the function carries its own target attribute because the level does not require it).
 * That instruction always flushes f32 subnormal inputs to zero (it ignores MXCSR.DAZ) and
 * its NaN result is only documented as "quiet", so lanes holding a subnormal or a NaN are
 * recomputed with the integer formula of ts_fp16.h, keeping all levels bit-identical.
 */
#include <immintrin.h>

#include "tessera.h"
#include "ts_dispatch.h"

#define TS_RNE (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

static inline __mmask16 tail_mask(int64_t r) { return (__mmask16)((1u << r) - 1u); }

static void f32_to_f16_avx512(uint16_t *dst, const float *src, int64_t n) {
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i a = _mm512_cvtps_ph(_mm512_loadu_ps(src + i), TS_RNE);
        __m256i b = _mm512_cvtps_ph(_mm512_loadu_ps(src + i + 16), TS_RNE);
        _mm256_storeu_si256((__m256i *)(dst + i), a);
        _mm256_storeu_si256((__m256i *)(dst + i + 16), b);
    }
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : tail_mask(n - i);
        __m256i h = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, src + i), TS_RNE);
        _mm256_mask_storeu_epi16(dst + i, m, h);
    }
}

static void f16_to_f32_avx512(float *dst, const uint16_t *src, int64_t n) {
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 a = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(src + i)));
        __m512 b = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(src + i + 16)));
        _mm512_storeu_ps(dst + i, a);
        _mm512_storeu_ps(dst + i + 16, b);
    }
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : tail_mask(n - i);
        __m512 f = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, src + i));
        _mm512_mask_storeu_ps(dst + i, m, f);
    }
}

/* Integer RNE with NaN quieting, 16 lanes, result in the low half of each lane. */
static inline __m512i bf16_round16(__m512i x) {
    __m512i hi = _mm512_srli_epi32(x, 16);
    __m512i lsb = _mm512_and_si512(hi, _mm512_set1_epi32(1));
    __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(x, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))), 16);
    __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(x, _mm512_set1_epi32(0x7fffffff)),
                                            _mm512_set1_epi32(0x7f800000));
    return _mm512_mask_or_epi32(rounded, nan, hi, _mm512_set1_epi32(0x40));
}

static void f32_to_bf16_avx512(uint16_t *dst, const float *src, int64_t n) {
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : tail_mask(n - i);
        __m512i x = _mm512_maskz_loadu_epi32(m, src + i);
        _mm256_mask_storeu_epi16(dst + i, m, _mm512_cvtepi32_epi16(bf16_round16(x)));
    }
}

__attribute__((target("avx512bf16"))) static void f32_to_bf16_avx512bf16(uint16_t *dst, const float *src, int64_t n) {
    const __m512i exp_mask = _mm512_set1_epi32(0x7f800000);
    const __m512i man_mask = _mm512_set1_epi32(0x007fffff);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : tail_mask(n - i);
        __m512i x = _mm512_maskz_loadu_epi32(m, src + i);
        __m256i h = (__m256i)_mm512_cvtneps_pbh(_mm512_castsi512_ps(x));
        /* subnormal: exponent 0 and mantissa != 0; NaN: exponent all ones and mantissa != 0 */
        __mmask16 exp0 = _mm512_testn_epi32_mask(x, exp_mask);
        __mmask16 exp1 = _mm512_cmpeq_epi32_mask(_mm512_and_si512(x, exp_mask), exp_mask);
        __mmask16 fix = (__mmask16)((exp0 | exp1) & _mm512_test_epi32_mask(x, man_mask));
        if (fix) h = _mm256_mask_mov_epi16(h, fix, _mm512_cvtepi32_epi16(bf16_round16(x)));
        _mm256_mask_storeu_epi16(dst + i, m, h);
    }
}

static void bf16_to_f32_avx512(float *dst, const uint16_t *src, int64_t n) {
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : tail_mask(n - i);
        __m512i w = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, src + i));
        _mm512_mask_storeu_epi32(dst + i, m, _mm512_slli_epi32(w, 16));
    }
}

void ts_register_convert_avx512(struct ts_kernels *k, uint64_t cpu) {
    k->f32_to_f16 = f32_to_f16_avx512;
    k->f16_to_f32 = f16_to_f32_avx512;
    k->f32_to_bf16 = (cpu & TS_CPU_AVX512BF16) ? f32_to_bf16_avx512bf16 : f32_to_bf16_avx512;
    k->bf16_to_f32 = bf16_to_f32_avx512;
}
