/*
 * gemm_avx512.c — quantized matmul tiles for the avx512 level on CPUs with AVX512-VNNI:
 * Q8_0 and Q4_0 weights against Q8_0 activations (the gemm[] contract is in ts_dispatch.h).
 * Without VNNI nothing is registered and the level keeps the avx2 tiles.
 *
 * Two 32-element blocks per 512-bit vector (lanes 0..7 block b, 8..15 block b+1), and one
 * vpdpbusd (unsigned x signed bytes, summed in fours into int32, no saturation) per
 * (row, column) pair and block pair, its accumulator started at a correction term so the
 * result is exactly the signed block sum:
 *  - Q8_0 weights: the activations are made unsigned as u = a + 128 (a xor 0x80, once per
 *    column), so Σ u·w = Σ a·w + 128·Σ w; each weight pair's -128·Σ w is formed once per
 *    row and seeds the accumulator of every column;
 *  - Q4_0 weights: the raw nibbles n = w + 8 are already unsigned, so Σ n·a = Σ w·a +
 *    8·Σ a; -8·Σ a is formed once per column and seeds every row.
 * Then the int32 lanes are converted and multiplied into the float accumulator by the
 * product of the two blocks' scales ([dw·da of block b x8 | of block b+1 x8]). Same integer
 * block sums as vec_dot; only the float summation order differs. An odd last block runs
 * with zero upper halves (its corrections are then zero too).
 *
 * Register tile: GEMM_MR (4) weight rows x GEMM_NR (4) activation columns, 16 zmm
 * accumulators. Blocks of fewer than 3 columns (the M = 1 matvec) use the same kernel
 * with one column, prefetching the next row tile as the avx2 one does. Edges: missing rows
 * or columns point at the last valid one and their results are dropped (gemm_avx2.c).
 *
 * The vpdpbusd functions carry target("avx512vnni") (the file is compiled for F+BW+VL+DQ
 * only, CMakeLists.txt); tests/test_gemm_avx512.c, which runs this file on an emulation of
 * the intrinsics, defines TS_TARGET_AVX512VNNI empty.
 */
#include <immintrin.h>

#include "tessera.h"
#include "ts_dispatch.h"
#include "ts_quants.h"
#include "simd_x86.h"

#ifndef TS_TARGET_AVX512VNNI
#define TS_TARGET_AVX512VNNI __attribute__((target("avx512vnni")))
#endif

#define GEMM_MR 4
#define GEMM_NR 4

static inline __m512i join256(__m256i lo, __m256i hi) { return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); }

/* [d0 in lanes 0..7 | d1 in lanes 8..15]. */
static inline __m512 two_scales(float d0, float d1) {
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(d0)), _mm256_set1_ps(d1), 1);
}

/* Blocks b and b+1 (two = 0: b only, upper half zero) of a Q8_0 row as signed bytes, and
 * their scales. */
static inline __m512i pair_q8_0(const char *row, int64_t b, int two, __m512 *d) {
    const ts_block_q8_0 *blk = (const ts_block_q8_0 *)row + b;
    *d = two_scales(h2f(blk[0].d), two ? h2f(blk[1].d) : 0.0f);
    return two ? join256(loadu256(blk[0].qs), loadu256(blk[1].qs)) : _mm512_zextsi256_si512(loadu256(blk[0].qs));
}

/* The same for Q4_0 as raw nibbles (w + 8), elements in order. */
static inline __m256i nibbles32(const uint8_t *qs) {
    const __m128i q = _mm_loadu_si128((const __m128i *)qs);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0f));
}

static inline __m512i pair_q4_0(const char *row, int64_t b, int two, __m512 *d) {
    const ts_block_q4_0 *blk = (const ts_block_q4_0 *)row + b;
    *d = two_scales(h2f(blk[0].d), two ? h2f(blk[1].d) : 0.0f);
    return two ? join256(nibbles32(blk[0].qs), nibbles32(blk[1].qs)) : _mm512_zextsi256_si512(nibbles32(blk[0].qs));
}

static inline float hsum512(__m512 v) { return _mm512_reduce_add_ps(v); }

/* One step (a block pair) of an MR x NC tile; a macro so acc stays in registers. */
#define STEP_Q8_0(NC, two)                                                                                  \
    do {                                                                                                    \
        __m512i wv[GEMM_MR], base[GEMM_MR];                                                                 \
        __m512 dw[GEMM_MR];                                                                                 \
        for (int r = 0; r < GEMM_MR; r++) {                                                                 \
            wv[r] = pair_q8_0(wr[r], b, two, &dw[r]);                                                       \
            base[r] = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), k80, wv[r])); \
        }                                                                                                   \
        for (int c = 0; c < NC; c++) {                                                                      \
            __m512 da;                                                                                      \
            const __m512i u = _mm512_xor_si512(pair_q8_0(ar[c], b, two, &da), k80);                         \
            for (int r = 0; r < GEMM_MR; r++)                                                               \
                acc[r][c] = _mm512_fmadd_ps(_mm512_mul_ps(dw[r], da), _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(base[r], u, wv[r])), acc[r][c]); \
        }                                                                                                   \
    } while (0)

#define STEP_Q4_0(NC, two)                                                                                  \
    do {                                                                                                    \
        __m512i wv[GEMM_MR];                                                                                \
        __m512 dw[GEMM_MR];                                                                                 \
        for (int r = 0; r < GEMM_MR; r++) wv[r] = pair_q4_0(wr[r], b, two, &dw[r]);                         \
        for (int c = 0; c < NC; c++) {                                                                      \
            __m512 da;                                                                                      \
            const __m512i av = pair_q8_0(ar[c], b, two, &da);                                               \
            const __m512i base = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), k8, av)); \
            for (int r = 0; r < GEMM_MR; r++)                                                               \
                acc[r][c] = _mm512_fmadd_ps(_mm512_mul_ps(dw[r], da), _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(base, wv[r], av)), acc[r][c]); \
        }                                                                                                   \
    } while (0)

/* out[r][c] = dot(wr[r], ar[c]) over nb blocks. pf: NULL, or the next row tile to prefetch
 * (GEMM_MR packed rows of BB-byte blocks), paced with this tile's progress. */
#define TS_GEMM512_MICRO(NAME, NC, STEP, BB)                                                                \
    TS_TARGET_AVX512VNNI static inline void NAME(int64_t nb, const char *const *wr, const char *const *ar,   \
                                                 float out[GEMM_MR][GEMM_NR], const char *pf) {              \
        const __m512i k80 = _mm512_set1_epi8((char)0x80);                                                   \
        const __m512i k8 = _mm512_set1_epi8(8);                                                             \
        (void)k80;                                                                                          \
        (void)k8;                                                                                           \
        __m512 acc[GEMM_MR][NC];                                                                            \
        for (int r = 0; r < GEMM_MR; r++)                                                                   \
            for (int c = 0; c < NC; c++) acc[r][c] = _mm512_setzero_ps();                                   \
        int64_t b = 0;                                                                                      \
        for (; b + 2 <= nb; b += 2) {                                                                       \
            if (pf)                                                                                         \
                for (int o = 0; o < 2 * GEMM_MR * BB; o += 64) _mm_prefetch(pf + b * (GEMM_MR * BB) + o, _MM_HINT_T0); \
            STEP(NC, 1);                                                                                    \
        }                                                                                                   \
        if (b < nb) STEP(NC, 0);                                                                            \
        for (int r = 0; r < GEMM_MR; r++)                                                                   \
            for (int c = 0; c < NC; c++) out[r][c] = hsum512(acc[r][c]);                                    \
    }

TS_GEMM512_MICRO(tile_q8_0, GEMM_NR, STEP_Q8_0, 34)
TS_GEMM512_MICRO(tile_q4_0, GEMM_NR, STEP_Q4_0, 18)
TS_GEMM512_MICRO(col_q8_0, 1, STEP_Q8_0, 34)
TS_GEMM512_MICRO(col_q4_0, 1, STEP_Q4_0, 18)

typedef void (*micro_fn)(int64_t nb, const char *const *wr, const char *const *ar, float out[GEMM_MR][GEMM_NR], const char *pf);

/* One column at a time (nc < 3: the M = 1 matvec, a block's last columns), row tiles
 * outer so a second column rereads the rows from L1. Over packed rows at M = 1 the next
 * row tile (the bytes right after these rows) is prefetched while this one is read. */
TS_TARGET_AVX512VNNI static inline void gemm_columns(micro_fn col, int64_t block_bytes, int64_t k, const void *w, int64_t w_stride,
                                                     const void *a, int64_t a_stride, float *y, int64_t y_stride, int64_t nr, int64_t nc) {
    const int64_t nb = k / 32;
    for (int64_t r0 = 0; r0 < nr; r0 += GEMM_MR) {
        const int64_t mr = nr - r0 < GEMM_MR ? nr - r0 : GEMM_MR;
        const char *wr[GEMM_MR];
        for (int r = 0; r < GEMM_MR; r++) wr[r] = (const char *)w + (r0 + (r < mr ? r : mr - 1)) * w_stride;
        const char *pf = nc == 1 && r0 + 2 * GEMM_MR <= nr && w_stride == nb * block_bytes ? (const char *)w + (r0 + GEMM_MR) * w_stride : NULL;
        for (int64_t c = 0; c < nc; c++) {
            const char *ac = (const char *)a + c * a_stride;
            float out[GEMM_MR][GEMM_NR];
            col(nb, wr, &ac, out, pf);
            float *yc = (float *)((char *)y + c * y_stride);
            for (int64_t r = 0; r < mr; r++) yc[r0 + r] = out[r][0];
        }
    }
}

/* Row tiles outer, column tiles inner; edges clamp pointers. */
TS_TARGET_AVX512VNNI static inline void gemm_tiles(micro_fn tile, int64_t k, const void *w, int64_t w_stride, const void *a,
                                                   int64_t a_stride, float *y, int64_t y_stride, int64_t nr, int64_t nc) {
    const int64_t nb = k / 32;
    for (int64_t r0 = 0; r0 < nr; r0 += GEMM_MR) {
        const int64_t mr = nr - r0 < GEMM_MR ? nr - r0 : GEMM_MR;
        const char *wr[GEMM_MR];
        for (int r = 0; r < GEMM_MR; r++) wr[r] = (const char *)w + (r0 + (r < mr ? r : mr - 1)) * w_stride;
        for (int64_t c0 = 0; c0 < nc; c0 += GEMM_NR) {
            const int64_t mc = nc - c0 < GEMM_NR ? nc - c0 : GEMM_NR;
            const char *ar[GEMM_NR];
            for (int c = 0; c < GEMM_NR; c++) ar[c] = (const char *)a + (c0 + (c < mc ? c : mc - 1)) * a_stride;
            float out[GEMM_MR][GEMM_NR];
            tile(nb, wr, ar, out, NULL);
            for (int64_t c = 0; c < mc; c++) {
                float *yc = (float *)((char *)y + (c0 + c) * y_stride) + r0;
                for (int64_t r = 0; r < mr; r++) yc[r] = out[r][c];
            }
        }
    }
}

TS_TARGET_AVX512VNNI static void gemm_q8_0_avx512vnni(int64_t k, const void *w, int64_t w_stride, const void *a, int64_t a_stride,
                                                      float *y, int64_t y_stride, int64_t nr, int64_t nc) {
    if (nc < 3) gemm_columns(col_q8_0, 34, k, w, w_stride, a, a_stride, y, y_stride, nr, nc);
    else gemm_tiles(tile_q8_0, k, w, w_stride, a, a_stride, y, y_stride, nr, nc);
}

TS_TARGET_AVX512VNNI static void gemm_q4_0_avx512vnni(int64_t k, const void *w, int64_t w_stride, const void *a, int64_t a_stride,
                                                      float *y, int64_t y_stride, int64_t nr, int64_t nc) {
    if (nc < 3) gemm_columns(col_q4_0, 18, k, w, w_stride, a, a_stride, y, y_stride, nr, nc);
    else gemm_tiles(tile_q4_0, k, w, w_stride, a, a_stride, y, y_stride, nr, nc);
}

void ts_register_gemm_avx512(struct ts_kernels *k, uint64_t cpu) {
    if (!(cpu & TS_CPU_AVX512VNNI)) return; /* F+BW+VL without VNNI: the avx2 tiles stay */
    k->gemm[TS_TYPE_Q8_0] = gemm_q8_0_avx512vnni;
    k->gemm[TS_TYPE_Q4_0] = gemm_q4_0_avx512vnni;
    /* VNNI does a 4-way int8 dot per lane in one instruction: these tiles, not the widened
     * SGEMM the avx2 level picks, serve every M (not timed yet: see BENCHMARKS.md). */
    k->sgemm_min_m[TS_TYPE_Q8_0] = 0;
    k->sgemm_min_m[TS_TYPE_Q4_0] = 0;
}
