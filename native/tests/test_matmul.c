/* ts_matmul against a double-precision product of the dequantized weights and the
 * activations as the kernel sees them (quantized to the paired type, then dequantized; or
 * unrounded where the level takes the SGEMM path),
 * for every weight type, odd row counts, M = 1 and M > 1, padded row strides. */
#include <math.h>

#include "tessera.h"
#include "ts_dispatch.h"
#include "ts_quants.h"
#include "ts_test.h"

static const int32_t TYPES[] = {TS_TYPE_F32,  TS_TYPE_F16,  TS_TYPE_BF16, TS_TYPE_Q4_0, TS_TYPE_Q4_1,
                                TS_TYPE_Q5_0, TS_TYPE_Q5_1, TS_TYPE_Q8_0, TS_TYPE_Q2_K, TS_TYPE_Q3_K,
                                TS_TYPE_Q4_K, TS_TYPE_Q5_K, TS_TYPE_Q6_K};

static void check_type(int32_t type, int64_t n, int64_t k, int64_t m, uint64_t *seed) {
    const ts_type_traits *t = ts_get_type_traits(type);
    const ts_type_traits *at = ts_get_type_traits(t->vec_dot_type);
    size_t w_row = ts_qtype_row_size(type, k), a_row = ts_qtype_row_size(t->vec_dot_type, k);
    int64_t w_stride = (int64_t)w_row + 3; /* unaligned, padded rows */
    float *wf = malloc(sizeof(float) * n * k), *x = malloc(sizeof(float) * m * k);
    char *w = calloc(1, (size_t)w_stride * n);
    float *y = malloc(sizeof(float) * n * m), *wd = malloc(sizeof(float) * k), *xd = malloc(sizeof(float) * k);
    char *xq = malloc(a_row);
    for (int64_t i = 0; i < n * k; i++) wf[i] = (float)ts_test_gauss(seed);
    for (int64_t i = 0; i < m * k; i++) x[i] = (float)ts_test_gauss(seed);
    for (int64_t r = 0; r < n; r++) CHECK(ts_quantize(w + r * w_stride, type, wf + r * k, 1, k) == TS_OK, "%s", ts_last_error());
    CHECK(ts_matmul(y, n * 4, w, type, w_stride, x, k * 4, n, k, m) == TS_OK, "%s: %s", t->name, ts_last_error());
    /* From the level's sgemm_min_m on (float weights at M >= 8; quantized ones where the
     * level says so) the F32 SGEMM runs on dequantized W and X unrounded. */
    const int64_t sgemm_m = ts_kernels_active()->sgemm_min_m[type];
    const int sgemm = sgemm_m > 0 && m >= sgemm_m;
    for (int64_t c = 0; c < m; c++) {
        at->quantize(x + c * k, xq, k);
        at->dequantize(xq, xd, k);
        if (sgemm) memcpy(xd, x + c * k, sizeof(float) * k);
        for (int64_t r = 0; r < n; r++) {
            t->dequantize(w + r * w_stride, wd, k);
            double ref = 0, mag = 0;
            for (int64_t i = 0; i < k; i++) {
                ref += (double)wd[i] * xd[i];
                mag += fabs((double)wd[i] * xd[i]);
            }
            /* float accumulation over k products (and, for Q4_1/Q5_1, the half-stored s):
             * relative to the sum of magnitudes, a few float epsilons times log2(k). */
            double tol = 2e-5 * mag + 1e-6;
            if (t->vec_dot_type == TS_TYPE_Q8_1) {
                /* Q4_1/Q5_1 fold the weight minimum m through the activation block sum s,
                 * which Q8_1 stores as a half: |m|·|s|·2^-10 per block on top. */
                for (int64_t b = 0; b < k; b += 32) {
                    double wmax = 0, xs = 0;
                    for (int64_t i = b; i < b + 32; i++) {
                        wmax = fmax(wmax, fabs(wd[i]));
                        xs += xd[i];
                    }
                    tol += wmax * fabs(xs) * (1.0 / 1024);
                }
            }
            CHECK(fabs(y[c * n + r] - ref) <= tol, "%s n=%lld k=%lld m=%lld: y[%lld][%lld] = %g, ref %g (tol %g)", t->name,
                  (long long)n, (long long)k, (long long)m, (long long)c, (long long)r, y[c * n + r], ref, tol);
        }
    }
    free(wf); free(x); free(w); free(y); free(wd); free(xd); free(xq);
}

int main(void) {
    uint64_t seed = 42;
    CHECK(ts_init(2, NULL) == TS_OK, "%s", ts_last_error());
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++) {
        check_type(TYPES[i], 7, 256, 1, &seed);
        check_type(TYPES[i], 33, 512, 5, &seed);
        check_type(TYPES[i], 37, 512, 13, &seed); /* M >= 8: tiles / SGEMM paths */
        /* Quantized weights through the widened SGEMM on avx2 (crossovers 12..64): two MC
         * blocks of X, three KC slices, a partial NR panel of W rows; for 32-element blocks
         * also a last KC slice of one block (K = 800). */
        check_type(TYPES[i], 45, 768, 40, &seed);
        check_type(TYPES[i], 45, 768, 130, &seed); /* past every crossover */
        if (ts_get_type_traits(TYPES[i])->blck_size <= 32) check_type(TYPES[i], 19, 800, 70, &seed);
    }
    /* Errors: row length not a multiple of the block, activation-only type, null pointers. */
    float y[4], x[64];
    char w[64];
    CHECK(ts_matmul(y, 16, w, TS_TYPE_Q4_0, 18, x, 40, 1, 10, 1) == TS_ERR_INVALID_ARGUMENT, "k=10 for q4_0");
    CHECK(strstr(ts_last_error(), "block size") != NULL, "%s", ts_last_error());
    CHECK(ts_matmul(y, 16, w, TS_TYPE_Q8_K, 292, x, 1024, 1, 256, 1) == TS_ERR_UNSUPPORTED, "q8_K weights");
    CHECK(ts_matmul(y, 16, w, 99, 18, x, 128, 1, 32, 1) == TS_ERR_UNSUPPORTED, "unknown type");
    CHECK(ts_matmul(NULL, 16, w, TS_TYPE_Q4_0, 18, x, 128, 1, 32, 1) == TS_ERR_INVALID_ARGUMENT, "null y");
    CHECK(ts_matmul(y, 16, w, TS_TYPE_Q4_0, 10, x, 128, 1, 32, 1) == TS_ERR_INVALID_ARGUMENT, "short w stride");
    ts_shutdown();
    TS_TEST_EXIT();
}
