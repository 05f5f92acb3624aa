/* The avx512 VNNI matmul tiles (src/arch/x86/gemm_avx512.c: Q8_0 and Q4_0 weights) against
 * the scalar reference dot of every (row, column) pair:
 *  - always (x86-64 GCC with AVX2): the source compiled over the plain-C emulation of the
 *    AVX-512 intrinsics (ts_avx512_emu.h), which checks the algebra (the a + 128 and
 *    nibble corrections), the block pairing and odd tails, tile edges and strides;
 *  - on a CPU with AVX-512 + VNNI: the real tiles as the avx512 level installs them (also
 *    covered by test_gemm there); on other CPUs it says so and checks that the level keeps
 *    the avx2 tiles when VNNI is missing.
 * Shapes: not multiples of the 4 x 4 register tile, the one-column path (M = 1, 2), one
 * block, odd and even block counts, odd strides and base addresses, output padding that
 * must stay untouched, zero blocks and block scales over 1e-3..1e3. */
#include <math.h>

#include "tessera.h"
#include "ts_cpu.h"
#include "ts_dispatch.h"
#include "ts_quants.h"
#include "ts_test.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TS_EMU_AVX512 1
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#include "ts_avx512_emu.h"
#define TS_TARGET_AVX512VNNI
#define ts_register_gemm_avx512 emu_register_gemm_avx512
#include "arch/x86/gemm_avx512.c"
#undef ts_register_gemm_avx512
#pragma GCC pop_options
#endif

#define SENTINEL 12345.0f

typedef void (*gemm_fn)(int64_t k, const void *w, int64_t w_stride, const void *a, int64_t a_stride, float *y, int64_t y_stride,
                        int64_t nr, int64_t nc);

static void check_shape(gemm_fn gemm, const char *what, int32_t type, int64_t n, int64_t m, int64_t k, int mode, uint64_t *seed) {
    const ts_type_traits *t = ts_get_type_traits(type);
    const ts_type_traits *at = ts_get_type_traits(TS_TYPE_Q8_0);
    const int64_t w_stride = (int64_t)ts_qtype_row_size(type, k) + 3; /* odd: rows at odd offsets */
    const int64_t a_stride = (int64_t)ts_qtype_row_size(TS_TYPE_Q8_0, k) + 5;
    const int64_t y_cols = n + 3; /* padded output rows */
    char *wbuf = malloc((size_t)(w_stride * n + 1)), *abuf = malloc((size_t)(a_stride * m + 1));
    char *w = wbuf + 1, *a = abuf + 1;
    float *y = malloc(sizeof(float) * (size_t)(y_cols * m)), *row = malloc(sizeof(float) * (size_t)k);
    float *wd = malloc(sizeof(float) * (size_t)k), *ad = malloc(sizeof(float) * (size_t)k);
    for (int64_t r = 0; r < n; r++) {
        for (int64_t i = 0; i < k; i++) {
            double g = ts_test_gauss(seed);
            /* mode 1: every third block zero; mode 2: block scales over 1e-3..1e3 */
            row[i] = mode == 1 && (i / 32 + r) % 3 == 0 ? 0.0f : (float)(mode == 2 ? g * pow(10.0, (double)((i / 32 + r) % 7) - 3) : g);
        }
        t->quantize(row, w + r * w_stride, k);
    }
    for (int64_t c = 0; c < m; c++) {
        for (int64_t i = 0; i < k; i++) row[i] = (float)ts_test_gauss(seed);
        at->quantize(row, a + c * a_stride, k);
    }
    for (int64_t i = 0; i < y_cols * m; i++) y[i] = SENTINEL;
    gemm(k, w, w_stride, a, a_stride, y, y_cols * 4, n, m);
    for (int64_t c = 0; c < m; c++) {
        for (int64_t r = 0; r < n; r++) {
            const char *wr = w + r * w_stride, *ac = a + c * a_stride;
            const float got = y[c * y_cols + r], ref = t->vec_dot(k, wr, ac);
            t->dequantize(wr, wd, k);
            at->dequantize(ac, ad, k);
            double mag = 0;
            for (int64_t i = 0; i < k; i++) mag += fabs((double)wd[i] * ad[i]);
            CHECK(fabs((double)got - ref) <= 1e-5 * mag + 1e-30, "%s gemm %s n=%lld m=%lld k=%lld mode %d: y[%lld][%lld] = %g, reference %g",
                  what, t->name, (long long)n, (long long)m, (long long)k, mode, (long long)c, (long long)r, got, ref);
        }
        for (int64_t r = n; r < y_cols; r++)
            CHECK(y[c * y_cols + r] == SENTINEL, "%s gemm %s wrote past row %lld of column %lld", what, t->name, (long long)n, (long long)c);
    }
    free(wbuf); free(abuf); free(y); free(row); free(wd); free(ad);
}

static void check_tiles(const struct ts_kernels *k, const char *what, uint64_t *seed) {
    static const int64_t shapes[][2] = {{37, 13}, {1, 1}, {1, 7}, {5, 1}, {7, 2}, {3, 4}, {4, 5}, {9, 3}, {48, 64}, {9, 66}};
    static const int64_t ks[] = {32, 64, 96, 4096};
    static const int32_t types[] = {TS_TYPE_Q8_0, TS_TYPE_Q4_0};
    for (size_t ti = 0; ti < 2; ti++) {
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++)
                check_shape(k->gemm[types[ti]], what, types[ti], shapes[s][0], shapes[s][1], ks[ki], 0, seed);
        for (int mode = 1; mode < 3; mode++) {
            check_shape(k->gemm[types[ti]], what, types[ti], 37, 13, 288, mode, seed);
            check_shape(k->gemm[types[ti]], what, types[ti], 13, 1, 288, mode, seed);
        }
    }
    fprintf(stderr, "%s: Q8_0 and Q4_0 tiles checked\n", what);
}

int main(void) {
    uint64_t cpu = ts_cpu_detect(), seed = 5;
#if TS_EMU_AVX512
    if (ts_cpu_level_ok(TS_ISA_AVX2, cpu)) {
        struct ts_kernels none, emu;
        memset(&none, 0, sizeof none);
        emu_register_gemm_avx512(&none, cpu & ~(uint64_t)TS_CPU_AVX512VNNI);
        CHECK(none.gemm[TS_TYPE_Q8_0] == NULL && none.gemm[TS_TYPE_Q4_0] == NULL, "tiles registered without VNNI");
        memset(&emu, 0, sizeof emu);
        emu_register_gemm_avx512(&emu, cpu | TS_CPU_AVX512VNNI);
        CHECK(emu.gemm[TS_TYPE_Q8_0] != NULL && emu.gemm[TS_TYPE_Q4_0] != NULL, "no tiles with VNNI");
        if (emu.gemm[TS_TYPE_Q8_0] && emu.gemm[TS_TYPE_Q4_0]) check_tiles(&emu, "emulated avx512 (vnni)", &seed);
    } else {
        fprintf(stderr, "no AVX2: emulated avx512 tiles skipped\n");
    }
#else
    fprintf(stderr, "not x86-64 GCC: emulated avx512 tiles not built\n");
#endif
#if defined(__x86_64__)
    if (ts_cpu_level_ok(TS_ISA_AVX512, cpu)) {
        struct ts_kernels lk, avx2, plain;
        ts_kernels_fill(&avx2, TS_ISA_AVX2, cpu);
        ts_kernels_fill(&plain, TS_ISA_AVX512, cpu & ~(uint64_t)TS_CPU_AVX512VNNI);
        CHECK(plain.gemm[TS_TYPE_Q8_0] == avx2.gemm[TS_TYPE_Q8_0] && plain.gemm[TS_TYPE_Q4_0] == avx2.gemm[TS_TYPE_Q4_0],
              "avx512 without VNNI must keep the avx2 tiles");
        if (cpu & TS_CPU_AVX512VNNI) {
            ts_kernels_fill(&lk, TS_ISA_AVX512, cpu);
            CHECK(lk.gemm[TS_TYPE_Q8_0] != avx2.gemm[TS_TYPE_Q8_0] && lk.gemm[TS_TYPE_Q4_0] != avx2.gemm[TS_TYPE_Q4_0],
                  "avx512 with VNNI: the level's own tiles expected");
            check_tiles(&lk, "real avx512 (vnni)", &seed);
        } else {
            fprintf(stderr, "real avx512: CPU has no AVX512-VNNI, the level keeps the avx2 tiles (checked by test_gemm)\n");
        }
    } else {
        fprintf(stderr, "real avx512: not on this CPU, skipped (only the emulation ran)\n");
    }
#endif
    TS_TEST_EXIT();
}
