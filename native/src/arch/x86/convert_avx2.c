/*
 * convert_avx2.c — F16/BF16 <-> F32 row kernels for the avx2 level (AVX2 + F16C).
 *
 * F16 uses the F16C instructions, which round to nearest even (given the default MXCSR
 * rounding mode) and quiet NaNs exactly like ts_fp16.h. BF16 has no instruction at this
 * level, so the RNE + NaN-quieting formula of ts_fp16.h is done on 8 lanes of integers.
 * Tails (< one vector) use the scalar reference.
 */
#include <immintrin.h>

#include "ts_convert.h"
#include "ts_dispatch.h"

static void f32_to_f16_avx2(uint16_t *dst, const float *src, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i a = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m128i b = _mm256_cvtps_ph(_mm256_loadu_ps(src + i + 8), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128((__m128i *)(dst + i), a);
        _mm_storeu_si128((__m128i *)(dst + i + 8), b);
    }
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    ts_f32_to_f16_ref(dst + i, src + i, n - i);
}

static void f16_to_f32_avx2(float *dst, const uint16_t *src, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i)));
        __m256 b = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i + 8)));
        _mm256_storeu_ps(dst + i, a);
        _mm256_storeu_ps(dst + i + 8, b);
    }
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    ts_f16_to_f32_ref(dst + i, src + i, n - i);
}

/* 8 floats -> 8 bf16 in the low 16 bits of each 32-bit lane (see ts_f32_to_bf16). */
static inline __m256i bf16_round8(__m256i x) {
    const __m256i abs_mask = _mm256_set1_epi32(0x7fffffff);
    const __m256i inf = _mm256_set1_epi32(0x7f800000);
    __m256i hi = _mm256_srli_epi32(x, 16);
    __m256i lsb = _mm256_and_si256(hi, _mm256_set1_epi32(1));
    __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(x, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff))), 16);
    __m256i quiet = _mm256_or_si256(hi, _mm256_set1_epi32(0x40));
    /* |x| > inf as signed ints (both operands are non-negative) <=> NaN */
    __m256i is_nan = _mm256_cmpgt_epi32(_mm256_and_si256(x, abs_mask), inf);
    return _mm256_blendv_epi8(rounded, quiet, is_nan);
}

static void f32_to_bf16_avx2(uint16_t *dst, const float *src, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i a = bf16_round8(_mm256_loadu_si256((const __m256i *)(src + i)));
        __m256i b = bf16_round8(_mm256_loadu_si256((const __m256i *)(src + i + 8)));
        /* packus works per 128-bit lane: a0-3 b0-3 | a4-7 b4-7; reorder the 64-bit quarters. */
        __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), _MM_SHUFFLE(3, 1, 2, 0));
        _mm256_storeu_si256((__m256i *)(dst + i), p);
    }
    ts_f32_to_bf16_ref(dst + i, src + i, n - i);
}

static void bf16_to_f32_avx2(float *dst, const uint16_t *src, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(src + i)));
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_slli_epi32(w, 16));
    }
    ts_bf16_to_f32_ref(dst + i, src + i, n - i);
}

void ts_register_convert_avx2(struct ts_kernels *k, uint64_t cpu) {
    (void)cpu;
    k->f32_to_f16 = f32_to_f16_avx2;
    k->f16_to_f32 = f16_to_f32_avx2;
    k->f32_to_bf16 = f32_to_bf16_avx2;
    k->bf16_to_f32 = bf16_to_f32_avx2;
}
