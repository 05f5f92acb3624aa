/*
 * gemm_avx2.c — matmul tiles for the avx2 level: Q8_0 and Q4_0 weights against Q8_0
 * activations, and F16 weights against F16 activations below the SGEMM's 8 columns (the
 * gemm[] contract is in ts_dispatch.h); and the level's widened-SGEMM crossovers.
 *
 * Register tile: GEMM_MR (3) weight rows x GEMM_NR (4) activation columns, one 8-lane
 * float accumulator per pair (12 of the 16 ymm registers). Per block step each weight block is
 * loaded (Q4_0: unpacked to signed bytes) and its |w| formed once, then reused for all
 * GEMM_NR columns; each activation block is loaded once and reused for all GEMM_MR rows.
 * A pair costs sign(a, w), maddubs(|w|, ·) into int16 pairs (no saturation: our Q8
 * quantizer never writes -128, so |products| <= 2·127·127), madd with ones to int32,
 * convert, and one FMA with the product of the two block scales — the same integer block
 * sums as vec_dot, only the float summation order differs.
 *
 * Partial tiles at the right/bottom edges run the full register tile with the missing rows
 * or columns pointed at the last valid one and their results dropped: the waste is at most
 * one tile per edge, and the hot loop stays branch-free.
 *
 * Blocks of fewer than 3 columns (the M = 1 matvec, a block's last columns) use an 8-row x
 * 1-column kernel instead, which shares each activation block among 8 rows (see mv_q4_0).
 *
 * Cache use: ts_matmul hands the threads chunks of rows and blocks of 64 columns; here the
 * row tiles are the outer loop, so a tile's GEMM_MR weight rows stay in L1 while every column
 * tile of the block streams its activation rows from L2.
 */
#include <immintrin.h>
#include <string.h>

#include "ts_dispatch.h"
#include "ts_quants.h"
#include "simd_x86.h"

/* 3 x 4: 12 accumulators. Measured against 2 x 6 (1 thread, 512x4096 weights x 256
 * columns, CPU time): 3 x 4 ~55 GFLOP/s, 2 x 6 ~40 for both types. At most 8 columns (the
 * scale table converts 8 halves at once). */
#define GEMM_MR 3
#define GEMM_NR 4
/* The column scales of block b as lanes of a half vector, inserted in registers (lanes past
 * GEMM_NR stay 0). */
#define DA_LANE(v, ar, b, c) \
    if (c < GEMM_NR) v = _mm_insert_epi16(v, ((const ts_block_q8_0 *)ar[c < GEMM_NR ? c : 0] + b)->d, c)
#define GATHER_DA(v, ar, b)                                                                 \
    do {                                                                                    \
        DA_LANE(v, ar, b, 0); DA_LANE(v, ar, b, 1); DA_LANE(v, ar, b, 2); DA_LANE(v, ar, b, 3); \
        DA_LANE(v, ar, b, 4); DA_LANE(v, ar, b, 5); DA_LANE(v, ar, b, 6); DA_LANE(v, ar, b, 7); \
    } while (0)

/* Block b of a weight row as 32 signed bytes, and its scale. */
static inline __m256i load_w_q8_0(const char *row, int64_t b, float *d) {
    const ts_block_q8_0 *blk = (const ts_block_q8_0 *)row + b;
    *d = h2f(blk->d);
    return _mm256_loadu_si256((const __m256i *)blk->qs);
}

static inline __m256i load_w_q4_0(const char *row, int64_t b, float *d) {
    const ts_block_q4_0 *blk = (const ts_block_q4_0 *)row + b;
    *d = h2f(blk->d);
    /* Bytes 0..15: low nibbles (elements 0..15); bytes 16..31: high nibbles (16..31). */
    const __m128i q = _mm_loadu_si128((const __m128i *)blk->qs);
    const __m256i both = _mm256_set_m128i(_mm_srli_epi16(q, 4), q);
    return _mm256_sub_epi8(_mm256_and_si256(both, _mm256_set1_epi8(0x0f)), _mm256_set1_epi8(8));
}

/* One register tile over nb blocks: out[r][c] = dot(wr[r], ar[c]). The GEMM_MR x GEMM_NR
 * scale products of a block step are formed with one 8-wide multiply per row into a small
 * table, and each pair broadcasts its product straight from memory (a load, no ALU op; a
 * narrow load inside one earlier wide store forwards fine, whereas building the scale
 * vector from narrow stores read back by one wide load stalls store forwarding: that
 * halved the tile's speed when measured). */
#define TS_GEMM_MICRO(NAME, LOADW)                                                                 \
    static inline void NAME(int64_t nb, const char *const *wr, const char *const *ar,               \
                            float out[GEMM_MR][GEMM_NR]) {                                          \
        const __m256i ones = _mm256_set1_epi16(1);                                                  \
        _Alignas(32) float sc[GEMM_MR][8];                                                            \
        __m256 acc[GEMM_MR][GEMM_NR];                                                               \
        for (int r = 0; r < GEMM_MR; r++)                                                           \
            for (int c = 0; c < GEMM_NR; c++) acc[r][c] = _mm256_setzero_ps();                      \
        for (int64_t b = 0; b < nb; b++) {                                                          \
            __m256i ws[GEMM_MR], wa[GEMM_MR];                                                       \
            float dw[GEMM_MR];                                                                      \
            for (int r = 0; r < GEMM_MR; r++) {                                                     \
                ws[r] = LOADW(wr[r], b, &dw[r]);                                                    \
                wa[r] = _mm256_sign_epi8(ws[r], ws[r]);                                             \
            }                                                                                       \
            /* Gathered in registers: narrow stores read back by one wide load would stall. */      \
            __m128i dah = _mm_setzero_si128();                                                      \
            GATHER_DA(dah, ar, b);                                                                  \
            const __m256 da = _mm256_cvtph_ps(dah);                                                 \
            for (int r = 0; r < GEMM_MR; r++) _mm256_store_ps(sc[r], _mm256_mul_ps(_mm256_set1_ps(dw[r]), da)); \
            for (int c = 0; c < GEMM_NR; c++) {                                                     \
                const __m256i av = _mm256_loadu_si256((const __m256i *)((const ts_block_q8_0 *)ar[c] + b)->qs); \
                for (int r = 0; r < GEMM_MR; r++) {                                                 \
                    const __m256i p16 = _mm256_maddubs_epi16(wa[r], _mm256_sign_epi8(av, ws[r]));   \
                    const __m256 p = _mm256_cvtepi32_ps(_mm256_madd_epi16(p16, ones));              \
                    acc[r][c] = _mm256_fmadd_ps(_mm256_broadcast_ss(&sc[r][c]), p, acc[r][c]);      \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
        for (int r = 0; r < GEMM_MR; r++)                                                           \
            for (int c = 0; c < GEMM_NR; c++) out[r][c] = hsum8(acc[r][c]);                         \
    }

TS_GEMM_MICRO(micro_q8_0, load_w_q8_0)
TS_GEMM_MICRO(micro_q4_0, load_w_q4_0)

/* One activation column (M = 1, or the last column of a block): MV_ROWS weight rows per
 * step share each activation block load and its scale. Q4_0 weights skip the -8 and the
 * sign trick: maddubs takes the raw nibbles u = w + 8 as its unsigned operand, so the block
 * sum is sum(u·a) - 8·sum(a), the second term formed once per block for all rows (integer
 * arithmetic: the block sums are exactly vec_dot's). 8 rows (8 accumulators; 15 of the 16
 * ymm registers in the Q4_0 kernel) against 4: 4096² M = 1, median of 21-31 alternated
 * rounds, Q4_0 +7% on 1 thread, +1-4% on 2 and over 2 GiB; Q8_0 +4% / +1%. F16 keeps 4
 * rows: its two FMA chains per row would not fit 8 rows in registers (2 threads -15%). */
#define MV_ROWS 8
#define MV_ROWS_F16 4

/* The next row tile, [p, p + bytes) of it per step: consecutive steps' spans abut, so
 * touching every 64th byte from p reaches every line. */
static inline void prefetch_span(const char *p, int bytes) {
    for (int o = 0; o < bytes; o += 64) _mm_prefetch(p + o, _MM_HINT_T0);
}

static inline __m256 bcast_h2f(const uint16_t *h) {
    return _mm256_cvtph_ps(_mm_set1_epi16((short)*h));
}

/* [h0 x4, h1 x4] as floats, from two halves (the scales of two consecutive blocks). */
static inline __m256 pair_h2f(uint16_t h0, uint16_t h1) {
    const __m128i both = _mm_cvtsi32_si128((int)((uint32_t)h0 | (uint32_t)h1 << 16));
    return _mm256_cvtph_ps(_mm_shuffle_epi8(both, _mm_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3)));
}

/* Q4_0 rows x one column, two blocks per step: a row's two 16-byte quant arrays form one
 * vector whose low nibbles are elements 0..15 of both blocks and whose high nibbles are
 * elements 16..31, so one and/shift pair, one madd, one convert and one FMA serve 64
 * weights; the activation halves are regrouped to match once per step for all rows. Int32
 * lanes 0..3 then hold block b, lanes 4..7 block b + 1, scaled by [d_b x4, d_b+1 x4]. */
static inline void mv_q4_0(int64_t k, const char *const *wr, const char *a, float *out, const char *pf) {
    const int64_t nb = k / 32;
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i low = _mm256_set1_epi8(0x0f);
    const __m256i eight = _mm256_set1_epi8(8);
    __m256 acc[MV_ROWS];
    for (int r = 0; r < MV_ROWS; r++) acc[r] = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        if (pf) prefetch_span(pf + b * (MV_ROWS * 18), 2 * MV_ROWS * 18);
        const ts_block_q8_0 *ab = (const ts_block_q8_0 *)a + b;
        const __m256i a0 = _mm256_loadu_si256((const __m256i *)ab[0].qs);
        const __m256i a1 = _mm256_loadu_si256((const __m256i *)ab[1].qs);
        const __m256i alo = _mm256_permute2x128_si256(a0, a1, 0x20); /* elements 0..15 of b, b+1 */
        const __m256i ahi = _mm256_permute2x128_si256(a0, a1, 0x31); /* elements 16..31 */
        const __m256 da = pair_h2f(ab[0].d, ab[1].d);
        /* 8·Σa per block, as the int32 lanes of that block: the raw nibbles are w + 8. */
        const __m256i corr = _mm256_madd_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(eight, alo), _mm256_maddubs_epi16(eight, ahi)), ones);
        for (int r = 0; r < MV_ROWS; r++) {
            const ts_block_q4_0 *wb = (const ts_block_q4_0 *)wr[r] + b;
            const __m256i q = _mm256_loadu2_m128i((const __m128i *)wb[1].qs, (const __m128i *)wb[0].qs);
            const __m256i ulo = _mm256_and_si256(q, low), uhi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low);
            const __m256i p16 = _mm256_add_epi16(_mm256_maddubs_epi16(ulo, alo), _mm256_maddubs_epi16(uhi, ahi));
            const __m256i s = _mm256_sub_epi32(_mm256_madd_epi16(p16, ones), corr);
            acc[r] = _mm256_fmadd_ps(_mm256_mul_ps(pair_h2f(wb[0].d, wb[1].d), da), _mm256_cvtepi32_ps(s), acc[r]);
        }
    }
    for (; b < nb; b++) { /* odd block count: the last block alone */
        const ts_block_q8_0 *ab = (const ts_block_q8_0 *)a + b;
        const __m256i av = _mm256_loadu_si256((const __m256i *)ab->qs);
        const __m256 da = bcast_h2f(&ab->d);
        const __m256i corr = _mm256_madd_epi16(_mm256_maddubs_epi16(eight, av), ones);
        for (int r = 0; r < MV_ROWS; r++) {
            const ts_block_q4_0 *wb = (const ts_block_q4_0 *)wr[r] + b;
            const __m128i q = _mm_loadu_si128((const __m128i *)wb->qs);
            const __m256i u = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), low);
            const __m256i s = _mm256_sub_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(u, av), ones), corr);
            acc[r] = _mm256_fmadd_ps(_mm256_mul_ps(bcast_h2f(&wb->d), da), _mm256_cvtepi32_ps(s), acc[r]);
        }
    }
    for (int r = 0; r < MV_ROWS; r++) out[r] = hsum8(acc[r]);
}

static inline void mv_q8_0(int64_t k, const char *const *wr, const char *a, float *out, const char *pf) {
    const int64_t nb = k / 32;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[MV_ROWS];
    for (int r = 0; r < MV_ROWS; r++) acc[r] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        if (pf) prefetch_span(pf + b * (MV_ROWS * 34), MV_ROWS * 34);
        const ts_block_q8_0 *ab = (const ts_block_q8_0 *)a + b;
        const __m256i av = _mm256_loadu_si256((const __m256i *)ab->qs);
        const __m256 da = bcast_h2f(&ab->d);
        for (int r = 0; r < MV_ROWS; r++) {
            const ts_block_q8_0 *wb = (const ts_block_q8_0 *)wr[r] + b;
            const __m256i w = _mm256_loadu_si256((const __m256i *)wb->qs);
            const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(av, w));
            const __m256 p = _mm256_cvtepi32_ps(_mm256_madd_epi16(p16, ones));
            acc[r] = _mm256_fmadd_ps(_mm256_mul_ps(bcast_h2f(&wb->d), da), p, acc[r]);
        }
    }
    for (int r = 0; r < MV_ROWS; r++) out[r] = hsum8(acc[r]);
}

/* F16 rows x one column (every column below the SGEMM's M = 8; activations F16 as ggml pairs them):
 * 32 elements per step, each activation vector widened once for all rows (the per-pair dot
 * widens it again for every row), two FMA chains per row, and the next row tile prefetched
 * as for Q4_0. Any k: the last k % 32 elements in scalar code. */
static inline float ld_h2f(const char *p) {
    uint16_t h;
    memcpy(&h, p, sizeof h);
    return h2f(h);
}

static inline void mv_f16(int64_t k, const char *const *wr, const char *a, float *out, const char *pf) {
    __m256 acc0[MV_ROWS_F16], acc1[MV_ROWS_F16];
    for (int r = 0; r < MV_ROWS_F16; r++) acc0[r] = acc1[r] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= k; i += 32) {
        if (pf) prefetch_span(pf + i * (MV_ROWS_F16 * 2), 32 * MV_ROWS_F16 * 2);
        __m256 x[4];
        for (int j = 0; j < 4; j++) x[j] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + 2 * (i + 8 * j))));
        for (int r = 0; r < MV_ROWS_F16; r++) {
            const char *w = wr[r] + 2 * i;
            acc0[r] = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)w)), x[0], acc0[r]);
            acc1[r] = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + 16))), x[1], acc1[r]);
            acc0[r] = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + 32))), x[2], acc0[r]);
            acc1[r] = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + 48))), x[3], acc1[r]);
        }
    }
    for (int r = 0; r < MV_ROWS_F16; r++) {
        float sum = hsum8(_mm256_add_ps(acc0[r], acc1[r]));
        for (int64_t j = i; j < k; j++) sum += ld_h2f(wr[r] + 2 * j) * ld_h2f(a + 2 * j);
        out[r] = sum;
    }
}

typedef void (*mv_fn)(int64_t k, const char *const *wr, const char *a, float *out, const char *pf);

/* The one-column kernel mv (over `rows` rows, at most MV_ROWS) for each column (nc small,
 * e.g. the M = 1 matvec), row tiles outer so a second column rereads the tile's weight rows
 * from L1, not from memory. */
static inline void gemm_columns(mv_fn mv, int rows, int64_t block_bytes, int64_t k, const void *w, int64_t w_stride,
                                const void *a, int64_t a_stride, float *y, int64_t y_stride, int64_t nr, int64_t nc) {
    const int64_t nb = k / 32;
    for (int64_t r0 = 0; r0 < nr; r0 += rows) {
        const int64_t mr = nr - r0 < rows ? nr - r0 : rows;
        const char *wr[MV_ROWS];
        for (int r = 0; r < rows; r++) wr[r] = (const char *)w + (r0 + (r < mr ? r : mr - 1)) * w_stride;
        /* M = 1 over packed rows: the next row tile (the bytes right after this tile's rows)
         * is prefetched while this one is read, so the interleaved row streams are not left
         * to the hardware prefetchers alone (BENCHMARKS.md, large matvec). */
        const char *pf = nc == 1 && r0 + 2 * rows <= nr && w_stride == nb * block_bytes ? (const char *)w + (r0 + rows) * w_stride : NULL;
        for (int64_t c = 0; c < nc; c++) {
            float out[MV_ROWS];
            mv(k, wr, (const char *)a + c * a_stride, out, pf);
            float *yc = (float *)((char *)y + c * y_stride);
            for (int64_t r = 0; r < mr; r++) yc[r0 + r] = out[r];
        }
    }
}

typedef void (*micro_fn)(int64_t nb, const char *const *wr, const char *const *ar, float out[GEMM_MR][GEMM_NR]);

/* Row tiles outer, column tiles inner (see the header comment); edges clamp pointers. */
static inline void gemm_tiles(micro_fn micro, int64_t k, const void *w, int64_t w_stride, const void *a,
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
            micro(nb, wr, ar, out);
            for (int64_t c = 0; c < mc; c++) {
                float *yc = (float *)((char *)y + (c0 + c) * y_stride) + r0;
                for (int64_t r = 0; r < mr; r++) yc[r] = out[r][c];
            }
        }
    }
}

static void gemm_q8_0_avx2(int64_t k, const void *w, int64_t w_stride, const void *a, int64_t a_stride, float *y,
                           int64_t y_stride, int64_t nr, int64_t nc) {
    if (nc < 3) gemm_columns(mv_q8_0, MV_ROWS, 34, k, w, w_stride, a, a_stride, y, y_stride, nr, nc);
    else gemm_tiles(micro_q8_0, k, w, w_stride, a, a_stride, y, y_stride, nr, nc);
}

/* F16 weights reach the tiles only below the SGEMM's 8 columns: every column through the
 * 4-row kernel (its 4 rows stay in L1/L2 across the few columns). */
static void gemm_f16_avx2(int64_t k, const void *w, int64_t w_stride, const void *a, int64_t a_stride, float *y,
                          int64_t y_stride, int64_t nr, int64_t nc) {
    gemm_columns(mv_f16, MV_ROWS_F16, 64, k, w, w_stride, a, a_stride, y, y_stride, nr, nc);
}

static void gemm_q4_0_avx2(int64_t k, const void *w, int64_t w_stride, const void *a, int64_t a_stride, float *y,
                           int64_t y_stride, int64_t nr, int64_t nc) {
    if (nc < 3) gemm_columns(mv_q4_0, MV_ROWS, 18, k, w, w_stride, a, a_stride, y, y_stride, nr, nc);
    else gemm_tiles(micro_q4_0, k, w, w_stride, a, a_stride, y, y_stride, nr, nc);
}

void ts_register_gemm_avx2(struct ts_kernels *k, uint64_t cpu) {
    (void)cpu;
    k->gemm[TS_TYPE_Q8_0] = gemm_q8_0_avx2;
    k->gemm[TS_TYPE_Q4_0] = gemm_q4_0_avx2;
    k->gemm[TS_TYPE_F16] = gemm_f16_avx2;
    /* An int8 block pair costs sign, maddubs, madd, convert and an FMA here, so from a few
     * dozen columns on the F32 SGEMM on weights widened inside the product beats the int8
     * tiles and dots. Crossovers measured on Zen 3 (2 threads, 4096 x 4096, both paths
     * alternated in one process; int8 vs widened GFLOP/s; BENCHMARKS.md): */
    k->sgemm_min_m[TS_TYPE_Q4_0] = 32;  /* M=32: 89 vs 99; M=24: 93 vs 93; M=64: 88 vs 128 */
    k->sgemm_min_m[TS_TYPE_Q8_0] = 32;  /* M=32: 86 vs 91; M=24: 88 vs 94; M=16: 86 vs 72 */
    k->sgemm_min_m[TS_TYPE_Q4_1] = 12;  /* M=12: 44 vs 60; M=8: 44 vs 43 */
    k->sgemm_min_m[TS_TYPE_Q5_0] = 12;  /* per-pair dots as slow as Q4_1's (M=16: 44-53 vs 63) */
    k->sgemm_min_m[TS_TYPE_Q5_1] = 12;  /* as Q4_1 (its dot costs more) */
    k->sgemm_min_m[TS_TYPE_Q2_K] = 64;  /* M=64: 109 vs 118; M=48: 120 vs 118; M=96: 131 vs 148 */
    k->sgemm_min_m[TS_TYPE_Q3_K] = 24;  /* M=24: 68 vs 78; M=16: 75 vs 66 */
    k->sgemm_min_m[TS_TYPE_Q4_K] = 48;  /* M=48: 102 vs 103; M=32: 103 vs 81; M=96: 98 vs 115 */
    k->sgemm_min_m[TS_TYPE_Q5_K] = 48;  /* M=48: 52 vs 72; M=32: 90 vs 80 */
    k->sgemm_min_m[TS_TYPE_Q6_K] = 32;  /* M=32: 94 vs 98; M=48: 95 vs 118; M=16: 100 vs 72 */
}
