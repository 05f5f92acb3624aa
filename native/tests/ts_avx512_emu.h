/*
 * ts_avx512_emu.h — plain-C emulation of the AVX-512 intrinsics that
 * src/arch/x86/quants_avx512.c and gemm_avx512.c use, so those files can run (slowly) on a
 * CPU without AVX-512 (test only; include after nothing else, then include the kernel
 * source).
 *
 * Each vector is a byte array; every function is written from the instruction's
 * definition lane by lane (in-lane byte shuffles per 128 bits, saturating maddubs,
 * non-saturating dpbusd), independently of how the kernels combine them.
 */
#ifndef TS_AVX512_EMU_H
#define TS_AVX512_EMU_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

typedef union {
    int8_t b[64];
    uint8_t ub[64];
    int16_t h[32];
    uint16_t uh[32];
    int32_t w[16];
    int64_t q[8];
} emu_m512i;
typedef union {
    float f[16];
} emu_m512;
typedef uint64_t emu_mmask64;

#define __m512i emu_m512i
#define __m512 emu_m512
#define __mmask64 emu_mmask64

static inline emu_m512i emu_setzero_si512(void) {
    emu_m512i r;
    memset(&r, 0, sizeof r);
    return r;
}
static inline emu_m512 emu_setzero_ps(void) {
    emu_m512 r;
    memset(&r, 0, sizeof r);
    return r;
}
static inline emu_m512 emu_insertf32x8(emu_m512 a, __m256 b, int i) {
    memcpy(&a.f[8 * (i & 1)], &b, 32);
    return a;
}
static inline emu_m512 emu_castps256_ps512(__m256 a) { /* upper half undefined in hardware; zero here */
    emu_m512 r = emu_setzero_ps();
    memcpy(r.f, &a, 32);
    return r;
}
static inline emu_m512i emu_inserti64x4(emu_m512i a, __m256i b, int i) {
    memcpy(&a.b[32 * (i & 1)], &b, 32);
    return a;
}
static inline emu_m512i emu_zextsi256_si512(__m256i a) {
    emu_m512i r = emu_setzero_si512();
    memcpy(r.b, &a, 32);
    return r;
}
static inline emu_m512i emu_mask_sub_epi8(emu_m512i src, emu_mmask64 m, emu_m512i a, emu_m512i b) {
    for (int i = 0; i < 64; i++)
        if ((m >> i) & 1) src.b[i] = (int8_t)(a.b[i] - b.b[i]);
    return src;
}
static inline emu_mmask64 emu_movepi8_mask(emu_m512i a) {
    emu_mmask64 m = 0;
    for (int i = 0; i < 64; i++)
        if (a.b[i] < 0) m |= 1ull << i;
    return m;
}
static inline emu_m512i emu_abs_epi8(emu_m512i a) {
    for (int i = 0; i < 64; i++) a.ub[i] = (uint8_t)(a.b[i] < 0 ? -a.b[i] : a.b[i]);
    return a;
}
static inline emu_m512i emu_maddubs_epi16(emu_m512i a, emu_m512i b) {
    emu_m512i r;
    for (int i = 0; i < 32; i++) {
        int v = a.ub[2 * i] * b.b[2 * i] + a.ub[2 * i + 1] * b.b[2 * i + 1];
        r.h[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
    }
    return r;
}
static inline emu_m512i emu_madd_epi16(emu_m512i a, emu_m512i b) {
    emu_m512i r;
    for (int i = 0; i < 16; i++) r.w[i] = a.h[2 * i] * b.h[2 * i] + a.h[2 * i + 1] * b.h[2 * i + 1];
    return r;
}
static inline emu_m512i emu_dpbusd_epi32(emu_m512i s, emu_m512i a, emu_m512i b) {
    for (int i = 0; i < 16; i++) {
        int32_t t = 0;
        for (int j = 0; j < 4; j++) t += a.ub[4 * i + j] * b.b[4 * i + j];
        s.w[i] = (int32_t)((uint32_t)s.w[i] + (uint32_t)t);
    }
    return s;
}
static inline emu_m512i emu_set1_epi16(short v) {
    emu_m512i r;
    for (int i = 0; i < 32; i++) r.h[i] = v;
    return r;
}
static inline emu_m512i emu_set1_epi8(char v) {
    emu_m512i r;
    for (int i = 0; i < 64; i++) r.b[i] = (int8_t)v;
    return r;
}
static inline emu_m512 emu_set1_ps(float v) {
    emu_m512 r;
    for (int i = 0; i < 16; i++) r.f[i] = v;
    return r;
}
static inline emu_m512 emu_cvtepi32_ps(emu_m512i a) {
    emu_m512 r;
    for (int i = 0; i < 16; i++) r.f[i] = (float)a.w[i];
    return r;
}
static inline emu_m512 emu_fmadd_ps(emu_m512 a, emu_m512 b, emu_m512 c) {
    for (int i = 0; i < 16; i++) c.f[i] = __builtin_fmaf(a.f[i], b.f[i], c.f[i]);
    return c;
}
static inline float emu_reduce_add_ps(emu_m512 a) {
    float s = 0;
    for (int i = 0; i < 16; i++) s += a.f[i];
    return s;
}
static inline emu_m512i emu_broadcast_i32x4(__m128i a) {
    emu_m512i r;
    for (int l = 0; l < 4; l++) memcpy(&r.b[16 * l], &a, 16);
    return r;
}
static inline emu_m512i emu_broadcast_i64x4(__m256i a) {
    emu_m512i r;
    for (int l = 0; l < 2; l++) memcpy(&r.b[32 * l], &a, 32);
    return r;
}
static inline emu_m512i emu_srlv_epi16(emu_m512i a, emu_m512i c) {
    for (int i = 0; i < 32; i++) a.uh[i] = c.uh[i] > 15 ? 0 : (uint16_t)(a.uh[i] >> c.uh[i]);
    return a;
}
static inline emu_m512i emu_and_si512(emu_m512i a, emu_m512i b) {
    for (int i = 0; i < 8; i++) a.q[i] &= b.q[i];
    return a;
}
static inline emu_m512i emu_loadu_si512(const void *p) {
    emu_m512i r;
    memcpy(&r, p, 64);
    return r;
}
static inline emu_m512i emu_shuffle_epi8(emu_m512i a, emu_m512i c) { /* within each 128-bit lane */
    emu_m512i r;
    for (int i = 0; i < 64; i++) r.b[i] = (c.b[i] & 0x80) ? 0 : a.b[16 * (i / 16) + (c.b[i] & 15)];
    return r;
}
static inline emu_m512i emu_add_epi32(emu_m512i a, emu_m512i b) {
    for (int i = 0; i < 16; i++) a.w[i] = (int32_t)((uint32_t)a.w[i] + (uint32_t)b.w[i]);
    return a;
}
static inline emu_m512i emu_mask_add_epi8(emu_m512i src, emu_mmask64 m, emu_m512i a, emu_m512i b) {
    for (int i = 0; i < 64; i++)
        if ((m >> i) & 1) src.b[i] = (int8_t)(a.b[i] + b.b[i]);
    return src;
}
static inline emu_mmask64 emu_test_epi8_mask(emu_m512i a, emu_m512i b) {
    emu_mmask64 m = 0;
    for (int i = 0; i < 64; i++)
        if (a.ub[i] & b.ub[i]) m |= 1ull << i;
    return m;
}
static inline emu_m512i emu_permutexvar_epi16(emu_m512i idx, emu_m512i a) { /* across all 512 bits */
    emu_m512i r;
    for (int i = 0; i < 32; i++) r.h[i] = a.h[idx.uh[i] & 31];
    return r;
}
static inline emu_m512i emu_sllv_epi16(emu_m512i a, emu_m512i c) {
    for (int i = 0; i < 32; i++) a.uh[i] = c.uh[i] > 15 ? 0 : (uint16_t)(a.uh[i] << c.uh[i]);
    return a;
}
static inline emu_m512i emu_srli_epi16(emu_m512i a, unsigned int n) {
    for (int i = 0; i < 32; i++) a.uh[i] = n > 15 ? 0 : (uint16_t)(a.uh[i] >> n);
    return a;
}
static inline emu_m512i emu_or_si512(emu_m512i a, emu_m512i b) {
    for (int i = 0; i < 8; i++) a.q[i] |= b.q[i];
    return a;
}
static inline emu_m512i emu_xor_si512(emu_m512i a, emu_m512i b) {
    for (int i = 0; i < 8; i++) a.q[i] ^= b.q[i];
    return a;
}
static inline emu_m512i emu_sub_epi32(emu_m512i a, emu_m512i b) {
    for (int i = 0; i < 16; i++) a.w[i] = (int32_t)((uint32_t)a.w[i] - (uint32_t)b.w[i]);
    return a;
}
static inline emu_m512 emu_mul_ps(emu_m512 a, emu_m512 b) {
    for (int i = 0; i < 16; i++) a.f[i] *= b.f[i];
    return a;
}

/* #undef first: GCC spells the immediate-operand intrinsics as macros at -O0. */
#undef _mm512_setzero_si512
#define _mm512_setzero_si512 emu_setzero_si512
#undef _mm512_setzero_ps
#define _mm512_setzero_ps emu_setzero_ps
#undef _mm512_insertf32x8
#define _mm512_insertf32x8 emu_insertf32x8
#undef _mm512_castps256_ps512
#define _mm512_castps256_ps512 emu_castps256_ps512
#undef _mm512_inserti64x4
#define _mm512_inserti64x4 emu_inserti64x4
#undef _mm512_castsi256_si512
#define _mm512_castsi256_si512 emu_zextsi256_si512
#undef _mm512_zextsi256_si512
#define _mm512_zextsi256_si512 emu_zextsi256_si512
#undef _mm512_mask_sub_epi8
#define _mm512_mask_sub_epi8 emu_mask_sub_epi8
#undef _mm512_movepi8_mask
#define _mm512_movepi8_mask emu_movepi8_mask
#undef _mm512_abs_epi8
#define _mm512_abs_epi8 emu_abs_epi8
#undef _mm512_maddubs_epi16
#define _mm512_maddubs_epi16 emu_maddubs_epi16
#undef _mm512_madd_epi16
#define _mm512_madd_epi16 emu_madd_epi16
#undef _mm512_dpbusd_epi32
#define _mm512_dpbusd_epi32 emu_dpbusd_epi32
#undef _mm512_set1_epi16
#define _mm512_set1_epi16 emu_set1_epi16
#undef _mm512_set1_epi8
#define _mm512_set1_epi8 emu_set1_epi8
#undef _mm512_set1_ps
#define _mm512_set1_ps emu_set1_ps
#undef _mm512_cvtepi32_ps
#define _mm512_cvtepi32_ps emu_cvtepi32_ps
#undef _mm512_fmadd_ps
#define _mm512_fmadd_ps emu_fmadd_ps
#undef _mm512_reduce_add_ps
#define _mm512_reduce_add_ps emu_reduce_add_ps
#undef _mm512_broadcast_i32x4
#define _mm512_broadcast_i32x4 emu_broadcast_i32x4
#undef _mm512_broadcast_i64x4
#define _mm512_broadcast_i64x4 emu_broadcast_i64x4
#undef _mm512_srlv_epi16
#define _mm512_srlv_epi16 emu_srlv_epi16
#undef _mm512_and_si512
#define _mm512_and_si512 emu_and_si512
#undef _mm512_loadu_si512
#define _mm512_loadu_si512 emu_loadu_si512
#undef _mm512_shuffle_epi8
#define _mm512_shuffle_epi8 emu_shuffle_epi8
#undef _mm512_add_epi32
#define _mm512_add_epi32 emu_add_epi32

#undef _mm512_mask_add_epi8
#define _mm512_mask_add_epi8 emu_mask_add_epi8
#undef _mm512_test_epi8_mask
#define _mm512_test_epi8_mask emu_test_epi8_mask
#undef _mm512_permutexvar_epi16
#define _mm512_permutexvar_epi16 emu_permutexvar_epi16
#undef _mm512_sllv_epi16
#define _mm512_sllv_epi16 emu_sllv_epi16
#undef _mm512_srli_epi16
#define _mm512_srli_epi16 emu_srli_epi16
#undef _mm512_or_si512
#define _mm512_or_si512 emu_or_si512
#undef _mm512_xor_si512
#define _mm512_xor_si512 emu_xor_si512
#undef _mm512_sub_epi32
#define _mm512_sub_epi32 emu_sub_epi32
#undef _mm512_mul_ps
#define _mm512_mul_ps emu_mul_ps

#endif /* TS_AVX512_EMU_H */
