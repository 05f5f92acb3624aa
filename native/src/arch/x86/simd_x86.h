/*
 * simd_x86.h — the small AVX2/F16C helpers every x86 kernel file uses: horizontal sums and
 * maxima, one-half conversion, unaligned 256-bit loads (internal; included only by files
 * compiled with at least AVX2 + F16C).
 */
#ifndef TS_SIMD_X86_H
#define TS_SIMD_X86_H

#include <immintrin.h>
#include <stdint.h>

static inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

static inline __m256i loadu256(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }

static inline float hsum4(__m128 s) {
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline float hsum8(__m256 v) { return hsum4(_mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1))); }

static inline float hmax8(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

#endif /* TS_SIMD_X86_H */
