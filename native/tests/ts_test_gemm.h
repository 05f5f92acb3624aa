/* The one check of a gemm[] tile entry shared by test_gemm and test_gemm_avx512 (internal
 * to the tests; include after ts_test.h, ts_dispatch.h and ts_quants.h). */
#ifndef TS_TEST_GEMM_H
#define TS_TEST_GEMM_H

#include <math.h>

#define TS_TEST_SENTINEL 12345.0f

typedef void (*ts_test_gemm_fn)(int64_t k, const void *w, int64_t w_stride, const void *a, int64_t a_stride, float *y,
                                int64_t y_stride, int64_t nr, int64_t nc);

/* Sum of |w_i·a_i| of a pair (dequantized): the scale of the float rounding allowed. */
static double ts_test_pair_mag(const ts_type_traits *t, const void *w, const void *a, int64_t k, float *wd, float *ad) {
    t->dequantize(w, wd, k);
    ts_get_type_traits(t->vec_dot_type)->dequantize(a, ad, k);
    double mag = 0;
    for (int64_t i = 0; i < k; i++) mag += fabs((double)wd[i] * ad[i]);
    return mag;
}

/* gemm over n rows of `type` weights x m activation columns of depth k, rows and columns at
 * odd strides from odd base addresses, into output rows padded by 3: every result within
 * 1e-5 of the pair's Σ|w·a| of the scalar reference dot and the padding untouched; with a
 * level's table lk, also within that of lk's own vec_dot and, on the scalar level, equal
 * to the reference bit for bit. Weight rows: mode 0 gaussian, 1 every third block zero,
 * 2 block scales spread over 1e-3..1e3. */
static void ts_test_gemm_shape(ts_test_gemm_fn gemm, const struct ts_kernels *lk, const char *what, int32_t type, int64_t n,
                               int64_t m, int64_t k, int mode, uint64_t *seed) {
    const ts_type_traits *t = ts_get_type_traits(type);
    const ts_type_traits *at = ts_get_type_traits(t->vec_dot_type);
    const int64_t w_stride = (int64_t)ts_qtype_row_size(type, k) + 3;
    const int64_t a_stride = (int64_t)ts_qtype_row_size(t->vec_dot_type, k) + 5;
    const int64_t y_cols = n + 3;
    char *wbuf = malloc((size_t)(w_stride * n + 1)), *abuf = malloc((size_t)(a_stride * m + 1));
    char *w = wbuf + 1, *a = abuf + 1;
    float *y = malloc(sizeof(float) * (size_t)(y_cols * m)), *row = malloc(sizeof(float) * (size_t)k);
    float *wd = malloc(sizeof(float) * (size_t)k), *ad = malloc(sizeof(float) * (size_t)k);
    for (int64_t r = 0; r < n; r++) {
        for (int64_t i = 0; i < k; i++) {
            double g = ts_test_gauss(seed);
            row[i] = mode == 1 && (i / 32 + r) % 3 == 0 ? 0.0f : (float)(mode == 2 ? g * pow(10.0, (double)((i / 32 + r) % 7) - 3) : g);
        }
        t->quantize(row, w + r * w_stride, k);
    }
    for (int64_t c = 0; c < m; c++) {
        for (int64_t i = 0; i < k; i++) row[i] = (float)ts_test_gauss(seed);
        at->quantize(row, a + c * a_stride, k);
    }
    for (int64_t i = 0; i < y_cols * m; i++) y[i] = TS_TEST_SENTINEL;
    gemm(k, w, w_stride, a, a_stride, y, y_cols * 4, n, m);
    for (int64_t c = 0; c < m; c++) {
        for (int64_t r = 0; r < n; r++) {
            const char *wr = w + r * w_stride, *ac = a + c * a_stride;
            const float got = y[c * y_cols + r], ref = t->vec_dot(k, wr, ac);
            const double tol = 1e-5 * ts_test_pair_mag(t, wr, ac, k, wd, ad) + 1e-30;
            CHECK(fabs((double)got - ref) <= tol, "%s gemm %s n=%lld m=%lld k=%lld mode %d: y[%lld][%lld] = %g, reference %g",
                  what, t->name, (long long)n, (long long)m, (long long)k, mode, (long long)c, (long long)r, got, ref);
            if (lk != NULL) {
                const float want = lk->vec_dot[type](k, wr, ac);
                CHECK(fabs((double)got - want) <= tol, "%s gemm %s n=%lld m=%lld k=%lld mode %d: y[%lld][%lld] = %g, vec_dot %g",
                      what, t->name, (long long)n, (long long)m, (long long)k, mode, (long long)c, (long long)r, got, want);
                if (lk->isa == TS_ISA_SCALAR)
                    CHECK(got == ref, "scalar gemm %s: y[%lld][%lld] = %g is not the reference dot %g", t->name, (long long)c,
                          (long long)r, got, ref);
            }
        }
        for (int64_t r = n; r < y_cols; r++)
            CHECK(y[c * y_cols + r] == TS_TEST_SENTINEL, "%s gemm %s wrote past row %lld of column %lld", what, t->name,
                  (long long)n, (long long)c);
    }
    free(wbuf); free(abuf); free(y); free(row); free(wd); free(ad);
}

#endif /* TS_TEST_GEMM_H */
