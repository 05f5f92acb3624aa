/*
 * quants_x86.h — helpers shared by the x86 kernels of the legacy 32-element formats
 * (Q4_0 … Q5_1) at the avx2 level: dots and dequantizers (internal; included only by
 * files compiled with at least AVX2).
 */
#ifndef TS_QUANTS_X86_H
#define TS_QUANTS_X86_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

/* The 16 nibble bytes of a block as 32 codes (low nibbles = elements 0..15 in bytes 0..15,
 * high nibbles = 16..31). */
static inline __m256i nibbles32(const uint8_t *qs) {
    const __m128i q = _mm_loadu_si128((const __m128i *)qs);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0f));
}

/* The 32 qh bits (little-endian word) as 0x00/0xff bytes: byte i is 0xff where bit i is set. */
static inline __m256i bits32(const uint8_t *qh) {
    uint32_t u;
    memcpy(&u, qh, sizeof u);
    /* Byte i takes qh byte i/8 (in-lane shuffle of the broadcast word), then tests bit i%8. */
    const __m256i ctl = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    const __m256i b = _mm256_shuffle_epi8(_mm256_set1_epi32((int)u), ctl);
    return _mm256_cmpeq_epi8(_mm256_and_si256(b, bit), bit);
}

#endif /* TS_QUANTS_X86_H */
