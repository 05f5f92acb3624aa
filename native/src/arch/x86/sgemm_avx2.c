/*
 * sgemm_avx2.c — F32 GEMM block for the avx2 level: a 6 x 16 register tile (12 ymm
 * accumulators, 2 B vectors, 1 broadcast A value), A and B packed into contiguous
 * micro-panels in the caller's scratch, blocked KC / MC / NC for L1 / L2 / L3
 * (parameters in ts_sgemm.h).
 */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "ts_dispatch.h"
#include "ts_sgemm.h"

#define MR TS_SGEMM_MR
#define NR TS_SGEMM_NR

/* Packs rows [0, mc) x cols [0, kc) of A into MR-row panels: panel r holds, for each p,
 * the MR values A(r*MR + i, p) contiguously; rows past mc are zero. */
static void pack_a(int64_t mc, int64_t kc, const float *a, int64_t lda, float *pa) {
    for (int64_t ir = 0; ir < mc; ir += MR) {
        int64_t mr = mc - ir < MR ? mc - ir : MR;
        const float *ar = a + ir * lda;
        if (mr == MR) {
            for (int64_t p = 0; p < kc; p++) {
                pa[0] = ar[p];
                pa[1] = ar[lda + p];
                pa[2] = ar[2 * lda + p];
                pa[3] = ar[3 * lda + p];
                pa[4] = ar[4 * lda + p];
                pa[5] = ar[5 * lda + p];
                pa += MR;
            }
        } else {
            for (int64_t p = 0; p < kc; p++) {
                for (int64_t i = 0; i < MR; i++) pa[i] = i < mr ? ar[i * lda + p] : 0.0f;
                pa += MR;
            }
        }
    }
}

/* Packs rows [0, kc) x cols [0, nc) of B into NR-column panels (for each p, NR values
 * contiguous); columns past nc are zero. */
static void pack_b(int64_t kc, int64_t nc, const float *b, int64_t ldb, int32_t b_trans, float *pb) {
    for (int64_t jr = 0; jr < nc; jr += NR) {
        int64_t nr = nc - jr < NR ? nc - jr : NR;
        if (!b_trans) {
            const float *bp = b + jr;
            if (nr == NR) {
                for (int64_t p = 0; p < kc; p++) {
                    _mm256_store_ps(pb, _mm256_loadu_ps(bp));
                    _mm256_store_ps(pb + 8, _mm256_loadu_ps(bp + 8));
                    bp += ldb;
                    pb += NR;
                }
            } else {
                for (int64_t p = 0; p < kc; p++) {
                    int64_t j = 0;
                    for (; j < nr; j++) pb[j] = bp[j];
                    for (; j < NR; j++) pb[j] = 0.0f;
                    bp += ldb;
                    pb += NR;
                }
            }
        } else {
            /* B(p, j) = b[j * ldb + p]: walk each source row once, scattering with stride NR. */
            for (int64_t j = 0; j < NR; j++) {
                if (j < nr) {
                    const float *bj = b + (jr + j) * ldb;
                    for (int64_t p = 0; p < kc; p++) pb[p * NR + j] = bj[p];
                } else {
                    for (int64_t p = 0; p < kc; p++) pb[p * NR + j] = 0.0f;
                }
            }
            pb += kc * NR;
        }
    }
}

/* C[mr x nr] (+)= packed A panel · packed B panel over kc. */
static inline void kernel_6x16(int64_t kc, const float *pa, const float *pb, float *c, int64_t ldc, int64_t mr,
                               int64_t nr, int32_t acc) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
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
            const float *bsrc = b_trans ? b + jc * ldb + pc : b + pc * ldb + jc;
            pack_b(kc, nc, bsrc, ldb, b_trans, pb);
            int32_t acc = accumulate || pc > 0;
            for (int64_t ic = 0; ic < m; ic += TS_SGEMM_MC) {
                int64_t mc = m - ic < TS_SGEMM_MC ? m - ic : TS_SGEMM_MC;
                pack_a(mc, kc, a + ic * lda + pc, lda, pa);
                for (int64_t jr = 0; jr < nc; jr += NR) {
                    int64_t nr = nc - jr < NR ? nc - jr : NR;
                    const float *pbj = pb + jr * kc;
                    for (int64_t ir = 0; ir < mc; ir += MR) {
                        int64_t mr = mc - ir < MR ? mc - ir : MR;
                        kernel_6x16(kc, pa + ir * kc, pbj, c + (ic + ir) * ldc + jc + jr, ldc, mr, nr, acc);
                    }
                }
            }
        }
    }
}

void ts_register_sgemm_avx2(struct ts_kernels *k, uint64_t cpu) {
    (void)cpu;
    k->sgemm_block = sgemm_block_avx2;
}
