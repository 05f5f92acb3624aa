/*
 * sgemm_avx2.c — F32 GEMM block for the avx2 level: a 6 x 16 register tile (12 ymm
 * accumulators, 2 B vectors, 1 broadcast A value) over A and B packed into
 * contiguous micro-panels (the generic packers of ts_sgemm.c) in the caller's scratch, blocked KC / MC / NC for L1 / L2 / L3
 * (parameters in ts_sgemm.h).
 */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "ts_dispatch.h"
#include "ts_sgemm.h"

#define MR TS_SGEMM_MR
#define NR TS_SGEMM_NR

/* C[mr x nr] (+)= packed A panel · packed B panel over kc. */
static inline void kernel_6x16(int64_t kc, const float *pa, const float *pb, float *c, int64_t ldc, int64_t mr,
                               int64_t nr, int32_t acc) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    /* C is read (accumulate) or written once, after kc steps: start fetching it now. */
    for (int64_t i = 0; i < mr; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + 15), _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (int64_t p = 0; p < kc; p++) {
        const __m256 b0 = _mm256_load_ps(pb), b1 = _mm256_load_ps(pb + 8);
        __m256 av;
        av = _mm256_broadcast_ss(pa + 0);
        c00 = _mm256_fmadd_ps(av, b0, c00);
        c01 = _mm256_fmadd_ps(av, b1, c01);
        av = _mm256_broadcast_ss(pa + 1);
        c10 = _mm256_fmadd_ps(av, b0, c10);
        c11 = _mm256_fmadd_ps(av, b1, c11);
        av = _mm256_broadcast_ss(pa + 2);
        c20 = _mm256_fmadd_ps(av, b0, c20);
        c21 = _mm256_fmadd_ps(av, b1, c21);
        av = _mm256_broadcast_ss(pa + 3);
        c30 = _mm256_fmadd_ps(av, b0, c30);
        c31 = _mm256_fmadd_ps(av, b1, c31);
        av = _mm256_broadcast_ss(pa + 4);
        c40 = _mm256_fmadd_ps(av, b0, c40);
        c41 = _mm256_fmadd_ps(av, b1, c41);
        av = _mm256_broadcast_ss(pa + 5);
        c50 = _mm256_fmadd_ps(av, b0, c50);
        c51 = _mm256_fmadd_ps(av, b1, c51);
        pa += MR;
        pb += NR;
    }
    if (mr == MR && nr == NR) {
#define TS_STORE_ROW(i, r0, r1)                                                        \
    do {                                                                                \
        float *ci = c + (i) * ldc;                                                      \
        if (acc) {                                                                      \
            r0 = _mm256_add_ps(r0, _mm256_loadu_ps(ci));                                \
            r1 = _mm256_add_ps(r1, _mm256_loadu_ps(ci + 8));                            \
        }                                                                               \
        _mm256_storeu_ps(ci, r0);                                                       \
        _mm256_storeu_ps(ci + 8, r1);                                                   \
    } while (0)
        TS_STORE_ROW(0, c00, c01);
        TS_STORE_ROW(1, c10, c11);
        TS_STORE_ROW(2, c20, c21);
        TS_STORE_ROW(3, c30, c31);
        TS_STORE_ROW(4, c40, c41);
        TS_STORE_ROW(5, c50, c51);
#undef TS_STORE_ROW
        return;
    }
    /* Edge tile: spill, then write only the rows and columns that exist. */
    float t[MR * NR];
    _mm256_storeu_ps(t + 0, c00), _mm256_storeu_ps(t + 8, c01);
    _mm256_storeu_ps(t + 16, c10), _mm256_storeu_ps(t + 24, c11);
    _mm256_storeu_ps(t + 32, c20), _mm256_storeu_ps(t + 40, c21);
    _mm256_storeu_ps(t + 48, c30), _mm256_storeu_ps(t + 56, c31);
    _mm256_storeu_ps(t + 64, c40), _mm256_storeu_ps(t + 72, c41);
    _mm256_storeu_ps(t + 80, c50), _mm256_storeu_ps(t + 88, c51);
    for (int64_t i = 0; i < mr; i++) {
        float *ci = c + i * ldc;
        if (acc)
            for (int64_t j = 0; j < nr; j++) ci[j] += t[i * NR + j];
        else
            for (int64_t j = 0; j < nr; j++) ci[j] = t[i * NR + j];
    }
}

/* Eight rows of 8 floats -> their 8 columns: column j goes to dst + j * dst_stride. */
static inline void transpose8x8_store(const float *src, int64_t lds, float *dst, int64_t dst_stride) {
    __m256 r[8], t[8], u[8];
    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + i * lds);
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    for (int j = 0; j < 4; j++) {
        _mm256_storeu_ps(dst + j * dst_stride, _mm256_permute2f128_ps(u[j], u[j + 4], 0x20));
        _mm256_storeu_ps(dst + (j + 4) * dst_stride, _mm256_permute2f128_ps(u[j], u[j + 4], 0x31));
    }
}

/* A full 16-row panel in 8 x 8 register transposes (3 shuffles per 8 floats instead of a scalar
 * store per float); partial panels and kc tails take the generic loop. */
static void sgemm_pack_bt_panel_avx2(int64_t kc, const float *src, int64_t lds, int64_t nr, float *pb) {
    if (nr != NR || kc % 8 != 0) {
        ts_sgemm_pack_bt_panel_ref(kc, src, lds, nr, pb);
        return;
    }
    for (int64_t p = 0; p < kc; p += 8) {
        transpose8x8_store(src + p, lds, pb + p * NR, NR);
        transpose8x8_store(src + 8 * lds + p, lds, pb + p * NR + 8, NR);
    }
}

/* C[m x n] (+)= packed A block · packed B block: every B micro-panel (L1) against every
 * A micro-panel of the block (L2). */
static void sgemm_macro_avx2(int64_t m, int64_t n, int64_t kc, const float *pa, const float *pb, float *c, int64_t ldc,
                             int32_t accumulate) {
    for (int64_t jr = 0; jr < n; jr += NR) {
        int64_t nr = n - jr < NR ? n - jr : NR;
        const float *pbj = pb + jr * kc;
        for (int64_t ir = 0; ir < m; ir += MR) {
            int64_t mr = m - ir < MR ? m - ir : MR;
            kernel_6x16(kc, pa + ir * kc, pbj, c + ir * ldc + jr, ldc, mr, nr, accumulate);
        }
    }
}

static void sgemm_block_avx2(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b,
                             int64_t ldb, int32_t b_trans, float *c, int64_t ldc, int32_t accumulate, float *scratch) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        if (!accumulate)
            for (int64_t i = 0; i < m; i++) memset(c + i * ldc, 0, (size_t)n * sizeof(float));
        return;
    }
    int64_t kc_max = k < TS_SGEMM_KC ? k : TS_SGEMM_KC;
    int64_t mc_max = m < TS_SGEMM_MC ? m : TS_SGEMM_MC;
    mc_max = (mc_max + MR - 1) / MR * MR;
    float *pa = scratch;
    /* B panel 32-byte aligned for the aligned loads in the kernel. */
    uintptr_t pb_addr = ((uintptr_t)(pa + mc_max * kc_max) + 31) & ~(uintptr_t)31;
    float *pb = (float *)pb_addr;

    for (int64_t jc = 0; jc < n; jc += TS_SGEMM_NC) {
        int64_t nc = n - jc < TS_SGEMM_NC ? n - jc : TS_SGEMM_NC;
        for (int64_t pc = 0; pc < k; pc += TS_SGEMM_KC) {
            int64_t kc = k - pc < TS_SGEMM_KC ? k - pc : TS_SGEMM_KC;
            ts_sgemm_pack_b(kc, nc, b_trans ? b + jc * ldb + pc : b + pc * ldb + jc, ldb, b_trans, sgemm_pack_bt_panel_avx2, pb);
            int32_t acc = accumulate || pc > 0;
            for (int64_t ic = 0; ic < m; ic += TS_SGEMM_MC) {
                int64_t mc = m - ic < TS_SGEMM_MC ? m - ic : TS_SGEMM_MC;
                ts_sgemm_pack_a_block(mc, kc, a + ic * lda + pc, lda, pa);
                sgemm_macro_avx2(mc, nc, kc, pa, pb, c + ic * ldc + jc, ldc, acc);
            }
        }
    }
}

void ts_register_sgemm_avx2(struct ts_kernels *k, uint64_t cpu) {
    (void)cpu;
    k->sgemm_block = sgemm_block_avx2;
    k->sgemm_macro = sgemm_macro_avx2;
    k->sgemm_pack_bt_panel = sgemm_pack_bt_panel_avx2;
}
