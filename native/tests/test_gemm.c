/* The quantized matmul tiles (gemm[] of the kernel table) of every level this CPU runs,
 * against the same level's vec_dot per (row, column) pair and against the scalar
 * reference dot: shapes that are not multiples of the register tile (n = 37, m = 13, ...),
 * one block and 128 blocks per row, odd row strides and odd base addresses, and output
 * padding that must stay untouched. Then ts_matmul itself with 2 threads on a shape that
 * spans several row slices and column blocks, against the per-pair dots. */
#include <math.h>

#include "tessera.h"
#include "ts_cpu.h"
#include "ts_dispatch.h"
#include "ts_quants.h"
#include "ts_test.h"
#include "ts_test_gemm.h"

static void check_level(const struct ts_kernels *lk, const char *level, uint64_t *seed) {
    static const int64_t shapes[][2] = {{37, 13}, {1, 1}, {1, 7}, {5, 1}, {7, 2}, {3, 4}, {4, 5}, {3, 6}, {48, 64}, {9, 66}};
    int checked = 0;
    for (int32_t type = 0; type < TS_KERNEL_TYPES; type++) {
        if (lk->gemm[type] == NULL) continue;
        checked++;
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            ts_test_gemm_shape(lk->gemm[type], lk, level, type, shapes[s][0], shapes[s][1], 32, 0, seed);
            ts_test_gemm_shape(lk->gemm[type], lk, level, type, shapes[s][0], shapes[s][1], 4096, 0, seed);
            ts_test_gemm_shape(lk->gemm[type], lk, level, type, shapes[s][0], shapes[s][1], 96, 0, seed); /* odd block count > 1 */
            if (ts_get_type_traits(type)->blck_size == 1) /* plain types: a tail after the 32-element steps */
                ts_test_gemm_shape(lk->gemm[type], lk, level, type, shapes[s][0], shapes[s][1], 77, 0, seed);
        }
        for (int mode = 1; mode < 3; mode++) ts_test_gemm_shape(lk->gemm[type], lk, level, type, 37, 13, 512, mode, seed);
    }
    /* Q8_0 and Q4_0 have a tile on every level (scalar reference at least); F16 one from avx2 on. */
    CHECK(lk->gemm[TS_TYPE_Q8_0] != NULL && lk->gemm[TS_TYPE_Q4_0] != NULL, "%s: Q8_0/Q4_0 gemm missing", level);
    fprintf(stderr, "level %s: %d weight types with a gemm tile checked\n", level, checked);
}

/* ts_matmul on the active level (tile path, 2 threads, several 64-column blocks or M = 1)
 * equals the per-pair dots of the same level up to float rounding. */
static void check_matmul(int32_t type, int64_t m, uint64_t *seed) {
    const int64_t n = 301, k = 256; /* m = 129: the last column block has 1 column */
    const ts_type_traits *t = ts_get_type_traits(type);
    const struct ts_kernels *lk = ts_kernels_active();
    const int64_t w_row = (int64_t)ts_qtype_row_size(type, k), a_row = (int64_t)ts_qtype_row_size(TS_TYPE_Q8_0, k);
    float *x = malloc(sizeof(float) * (size_t)(m * k)), *wf = malloc(sizeof(float) * (size_t)(n * k));
    float *y = malloc(sizeof(float) * (size_t)(m * n)), *wd = malloc(sizeof(float) * (size_t)k), *ad = malloc(sizeof(float) * (size_t)k);
    char *w = malloc((size_t)(w_row * n)), *xq = malloc((size_t)(a_row * m));
    for (int64_t i = 0; i < n * k; i++) wf[i] = (float)ts_test_gauss(seed);
    for (int64_t i = 0; i < m * k; i++) x[i] = (float)ts_test_gauss(seed);
    CHECK(ts_quantize(w, type, wf, n, k) == TS_OK, "%s", ts_last_error());
    CHECK(ts_matmul(y, n * 4, w, type, w_row, x, k * 4, n, k, m) == TS_OK, "%s", ts_last_error());
    for (int64_t c = 0; c < m; c++) lk->quantize_row[TS_TYPE_Q8_0](x + c * k, xq + c * a_row, k);
    for (int64_t c = 0; c < m; c++)
        for (int64_t r = 0; r < n; r++) {
            float want = lk->vec_dot[type](k, w + r * w_row, xq + c * a_row);
            double tol = 1e-5 * ts_test_pair_mag(t, w + r * w_row, xq + c * a_row, k, wd, ad) + 1e-30;
            CHECK(fabs((double)y[c * n + r] - want) <= tol, "ts_matmul %s y[%lld][%lld] = %g, vec_dot %g", t->name, (long long)c,
                  (long long)r, y[c * n + r], want);
        }
    free(x); free(wf); free(y); free(wd); free(ad); free(w); free(xq);
}

int main(void) {
    uint64_t cpu = ts_cpu_detect(), seed = 11;
    struct ts_kernels lk;
    static const int32_t levels[] = {TS_ISA_SCALAR, TS_ISA_AVX2, TS_ISA_AVX512, TS_ISA_AMX, TS_ISA_NEON, TS_ISA_DOTPROD};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        if (!ts_cpu_level_ok(levels[i], cpu)) {
            fprintf(stderr, "level %s: not on this CPU, skipped\n", ts_isa_name(levels[i]));
            continue;
        }
        ts_kernels_fill(&lk, levels[i], cpu);
        check_level(&lk, ts_isa_name(levels[i]), &seed);
    }
    CHECK(ts_init(2, NULL) == TS_OK, "%s", ts_last_error());
    /* This test pins the tile path at every M: the level's switch to the widened SGEMM for
     * large M (checked in test_matmul) is turned off in the active table. */
    struct ts_kernels *active = (struct ts_kernels *)ts_kernels_active();
    active->sgemm_min_m[TS_TYPE_Q8_0] = active->sgemm_min_m[TS_TYPE_Q4_0] = 0;
    check_matmul(TS_TYPE_Q8_0, 129, &seed);
    check_matmul(TS_TYPE_Q4_0, 129, &seed);
    check_matmul(TS_TYPE_Q8_0, 1, &seed); /* the matvec goes through the tile too */
    check_matmul(TS_TYPE_Q4_0, 1, &seed);
    check_matmul(TS_TYPE_Q8_0, 2, &seed);
    ts_shutdown();
    TS_TEST_EXIT();
}
