/*
 * quants_k_x86.h — helpers shared by the x86 Q4_K/Q5_K dots of the avx2 and avx512 levels
 * (internal; included only by files compiled with at least AVX2 + FMA + F16C).
 */
#ifndef TS_QUANTS_K_X86_H
#define TS_QUANTS_K_X86_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

/* Eight 6-bit scales and mins of Q4_K/Q5_K, unpacked from their 12 bytes with 32-bit lane
 * operations (word 0: low 6 bits of scales 0..3 and top 2 bits of scales 4..7; word 1: the
 * same for the mins; word 2: low nibbles of scales 4..7, high nibbles of mins 4..7).
 * Reads 16 bytes: the 4 after the scales are quants of the same block, and are ignored.
 * Returns scales as int16 in the low 128 bits and mins in the high 128 bits. */
static inline __m256i k4_scales_mins(const uint8_t *packed) {
    const __m128i u = _mm_loadu_si128((const __m128i *)packed);
    const __m128i lo = _mm_and_si128(u, _mm_set1_epi8(0x3f));                    /* [sc 0..3, mn 0..3] */
    const __m128i w2 = _mm_srlv_epi32(_mm_shuffle_epi32(u, _MM_SHUFFLE(2, 2, 2, 2)), _mm_setr_epi32(0, 4, 0, 0));
    const __m128i hi = _mm_or_si128(_mm_and_si128(w2, _mm_set1_epi8(0x0f)),
                                    _mm_and_si128(_mm_srli_epi32(u, 2), _mm_set1_epi8(0x30))); /* [sc 4..7, mn 4..7] */
    return _mm256_cvtepu8_epi16(_mm_unpacklo_epi32(lo, hi));
}

/* Per-block float factors [d·da, dmin·da, 0, 0] from the adjacent half fields d, dmin. */
static inline __m128 k4_factors(const uint16_t *d_dmin, float da) {
    uint32_t u;
    memcpy(&u, d_dmin, sizeof u);
    return _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128((int)u)), _mm_set1_ps(da));
}

/* Σ_j m_j·(bsums[2j] + bsums[2j+1]) of one Q8_K block as four int32 lanes. */
static inline __m128i k4_min_term(__m128i mins, const int16_t *bsums) {
    const __m128i pairs = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)bsums), _mm_loadu_si128((const __m128i *)(bsums + 8)));
    return _mm_madd_epi16(pairs, mins);
}

#endif /* TS_QUANTS_K_X86_H */
