/*
 * test_sgemm.c — the F32 GEMM block of every level this CPU runs, and the threaded driver,
 * against a double-precision naive product: odd sizes (edge tiles in both directions, K
 * across several KC blocks), B plain and transposed, padded row strides, accumulate on and
 * off, and no writes outside C's m x n window. TS_SGEMM_BENCH=1 also times 1024^3 per level.
 */
#include <math.h>
#include <time.h>

#include "tessera.h"
#include "ts_cpu.h"
#include "ts_dispatch.h"
#include "ts_sgemm.h"
#include "ts_test.h"

static void fill(float *p, int64_t n, uint64_t seed) {
    for (int64_t i = 0; i < n; i++) p[i] = (float)ts_test_gauss(&seed);
}

/* C window check: |got - want| <= 2e-6 * sum |a*b| (float accumulation of k terms with
 * blocked order: a few ulps of the magnitude sum) + 1e-6; padding columns untouched. */
static int check_c(const char *what, const float *a, int64_t lda, const float *b, int64_t ldb, int32_t bt, const float *c0,
                   const float *c, int64_t ldc, int64_t m, int64_t n, int64_t k, int32_t acc) {
    int bad = 0;
    for (int64_t i = 0; i < m && bad < 3; i++) {
        for (int64_t j = 0; j < ldc; j++) {
            if (j >= n) {
                if (ts_test_f32_bits(c[i * ldc + j]) != ts_test_f32_bits(c0[i * ldc + j])) {
                    CHECK(0, "%s: wrote padding at (%lld, %lld)", what, (long long)i, (long long)j);
                    bad++;
                }
                continue;
            }
            double s = acc ? c0[i * ldc + j] : 0.0, mag = fabs(s);
            for (int64_t p = 0; p < k; p++) {
                double bv = bt ? b[j * ldb + p] : b[p * ldb + j];
                s += (double)a[i * lda + p] * bv;
                mag += fabs((double)a[i * lda + p] * bv);
            }
            double err = fabs(c[i * ldc + j] - s);
            if (!(err <= 2e-6 * mag * (1 + k / 256.0) + 1e-6)) {
                CHECK(0, "%s: C(%lld,%lld) = %g, want %g (mag %g)", what, (long long)i, (long long)j, c[i * ldc + j], s, mag);
                bad++;
                break;
            }
        }
    }
    ts_test_checks++;
    return bad == 0;
}

static const int64_t k_sizes[][3] = {{1, 1, 1},   {7, 13, 37},  {13, 7, 1},    {6, 16, 256},  {37, 300, 13},
                                     {300, 37, 257}, {5, 17, 600}, {121, 33, 70}, {12, 2049, 3}, {1, 300, 300},
                                     {64, 64, 0}};

static void run_case(const char *level, ts_sgemm_block_fn block, int threaded, int64_t m, int64_t n, int64_t k, int32_t bt,
                     int32_t acc) {
    int64_t lda = k + 3, ldb = (bt ? k : n) + 5, ldc = n + 2;
    int64_t brows = bt ? n : k;
    float *a = malloc(sizeof(float) * (size_t)(m * lda + 1));
    float *b = malloc(sizeof(float) * (size_t)(brows * ldb + 1));
    float *c0 = malloc(sizeof(float) * (size_t)(m * ldc));
    float *c = malloc(sizeof(float) * (size_t)(m * ldc));
    fill(a, m * lda, 1 + (uint64_t)m);
    fill(b, brows * ldb, 2 + (uint64_t)n);
    fill(c0, m * ldc, 3);
    memcpy(c, c0, sizeof(float) * (size_t)(m * ldc));
    char what[160];
    snprintf(what, sizeof what, "%s %s m=%lld n=%lld k=%lld bt=%d acc=%d", level, threaded ? "threaded" : "block", (long long)m,
             (long long)n, (long long)k, (int)bt, (int)acc);
    if (threaded) {
        CHECK(ts_sgemm(m, n, k, a, lda, b, ldb, bt, c, ldc, acc) == TS_OK, "%s: status", what);
    } else {
        float *scr = aligned_alloc(64, (size_t)(ts_sgemm_scratch_floats(m, n, k) + 15) / 16 * 64);
        block(m, n, k, a, lda, b, ldb, bt, c, ldc, acc, scr);
        free(scr);
    }
    check_c(what, a, lda, b, ldb, bt, c0, c, ldc, m, n, k, acc);
    free(a), free(b), free(c0), free(c);
}

/* The macro kernel on the shared packed layouts: whole A packed once (ts_sgemm_pack_a), B
 * slice by slice, C accumulated over the KC slices as the convolution drives it. */
static void run_macro(const char *level, const struct ts_kernels *kt, int64_t m, int64_t n, int64_t k) {
    int64_t ldc = n + 3, mround = (m + TS_SGEMM_MR - 1) / TS_SGEMM_MR * TS_SGEMM_MR;
    float *a = malloc(sizeof(float) * (size_t)(m * k + 1)), *b = malloc(sizeof(float) * (size_t)(k * n + 1));
    float *c0 = malloc(sizeof(float) * (size_t)(m * ldc)), *c = malloc(sizeof(float) * (size_t)(m * ldc));
    float *pa = malloc(sizeof(float) * (size_t)ts_sgemm_packed_a_floats(m, k));
    float *pb = aligned_alloc(64, sizeof(float) * (size_t)(TS_SGEMM_KC * ((n + 15) / 16 * 16) + 16));
    fill(a, m * k, 11), fill(b, k * n, 12), fill(c0, m * ldc, 13);
    memcpy(c, c0, sizeof(float) * (size_t)(m * ldc));
    ts_sgemm_pack_a(m, k, a, k, pa);
    for (int64_t pc = 0; pc < k; pc += TS_SGEMM_KC) {
        int64_t kc = k - pc < TS_SGEMM_KC ? k - pc : TS_SGEMM_KC;
        ts_sgemm_pack_b(kc, n, b + pc * n, n, 0, kt->sgemm_pack_bt_panel, pb);
        for (int64_t ic = 0; ic < m; ic += TS_SGEMM_MC) {
            int64_t mc = m - ic < TS_SGEMM_MC ? m - ic : TS_SGEMM_MC;
            kt->sgemm_macro(mc, n, kc, pa + pc * mround + ic * kc, pb, c + ic * ldc, ldc, 1);
        }
    }
    char what[120];
    snprintf(what, sizeof what, "%s macro m=%lld n=%lld k=%lld", level, (long long)m, (long long)n, (long long)k);
    check_c(what, a, k, b, n, 0, c0, c, ldc, m, n, k, 1);
    free(a), free(b), free(c0), free(c), free(pa), free(pb);
}

static double clock_s(clockid_t id) {
    struct timespec t;
    clock_gettime(id, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static double now(void) { return clock_s(CLOCK_MONOTONIC); }

static void bench(const char *level, const struct ts_kernels *k) {
    ts_sgemm_block_fn block = k->sgemm_block;
    float sink;
    double tf = now();
    int64_t flops = k->fma_probe(20000000, &sink);
    double peak = flops / (now() - tf) / 1e9;
    const int64_t s = 1024;
    float *a = malloc(sizeof(float) * s * s), *b = malloc(sizeof(float) * s * s), *c = malloc(sizeof(float) * s * s);
    fill(a, s * s, 1), fill(b, s * s, 2);
    float *scr = aligned_alloc(64, (size_t)(ts_sgemm_scratch_floats(s, s, s) + 15) / 16 * 64);
    /* Thread CPU time as well as wall time: on a shared, oversubscribed machine the CPU
     * time still measures the kernel's speed while it runs (cache sharing aside). */
    double best = 1e9, best_cpu = 1e9;
    for (int r = 0; r < 3; r++) {
        double t0 = now(), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        block(s, s, s, a, s, b, s, 0, c, s, 0, scr);
        double t = now() - t0, tc = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
        if (t < best) best = t;
        if (tc < best_cpu) best_cpu = tc;
    }
    double fc0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    k->fma_probe(20000000, &sink);
    double peak_cpu = flops / (clock_s(CLOCK_THREAD_CPUTIME_ID) - fc0) / 1e9;
    double t0 = now();
    ts_sgemm(s, s, s, a, s, b, s, 0, c, s, 0);
    double tp = now() - t0;
    fprintf(stderr, "%s sgemm 1024^3: one thread %.1f GFLOP/s (%.0f%% of the FMA probe's %.1f), pool (%d threads) %.1f GFLOP/s\n",
            level, 2.0 * s * s * s / best / 1e9, 100.0 * 2.0 * s * s * s / best / 1e9 / peak, peak, ts_n_threads(),
            2.0 * s * s * s / tp / 1e9);
    fprintf(stderr, "%s sgemm 1024^3 per CPU-second: %.1f GFLOP/s, FMA probe %.1f: %.0f%%\n", level,
            2.0 * s * s * s / best_cpu / 1e9, peak_cpu, 100.0 * 2.0 * s * s * s / best_cpu / 1e9 / peak_cpu);
    free(a), free(b), free(c), free(scr);
}

/* The level's transposing panel packer against the definition, bit for bit: full and partial
 * panels, kc a multiple of 8 and not, a padded source stride. */
static void run_pack_bt(const char *level, const struct ts_kernels *kt) {
    static const int64_t cases[][2] = {{256, 16}, {8, 16}, {13, 16}, {256, 5}, {40, 1}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const int64_t kc = cases[c][0], nr = cases[c][1], lds = kc + 3;
        float *src = malloc(sizeof(float) * (size_t)(lds * TS_SGEMM_NR)), *pb = malloc(sizeof(float) * (size_t)(kc * TS_SGEMM_NR));
        for (int64_t i = 0; i < lds * TS_SGEMM_NR; i++) src[i] = (float)i * 0.5f - 7.0f;
        for (int64_t i = 0; i < kc * TS_SGEMM_NR; i++) pb[i] = 12345.0f;
        kt->sgemm_pack_bt_panel(kc, src, lds, nr, pb);
        int bad = 0;
        for (int64_t p = 0; p < kc; p++)
            for (int64_t t = 0; t < TS_SGEMM_NR; t++) bad += pb[p * TS_SGEMM_NR + t] != (t < nr ? src[t * lds + p] : 0.0f);
        CHECK(bad == 0, "%s pack_bt_panel kc=%lld nr=%lld: %d wrong values", level, (long long)kc, (long long)nr, bad);
        free(src), free(pb);
    }
}

int main(void) {
    uint64_t cpu = ts_cpu_detect();
    static const int32_t levels[] = {TS_ISA_SCALAR, TS_ISA_AVX2, TS_ISA_AVX512, TS_ISA_AMX, TS_ISA_NEON, TS_ISA_DOTPROD};
    int tested = 0;
    for (size_t li = 0; li < sizeof levels / sizeof levels[0]; li++) {
        if (!ts_cpu_level_ok(levels[li], cpu)) continue;
        const char *name = ts_isa_name(levels[li]);
        struct ts_kernels k;
        ts_kernels_fill(&k, levels[li], cpu);
        CHECK(ts_init(2, name) == TS_OK, "init %s", name);
        for (size_t s = 0; s < sizeof k_sizes / sizeof k_sizes[0]; s++)
            for (int32_t bt = 0; bt < 2; bt++)
                for (int32_t acc = 0; acc < 2; acc++)
                    for (int threaded = 0; threaded < 2; threaded++)
                        run_case(name, k.sgemm_block, threaded, k_sizes[s][0], k_sizes[s][1], k_sizes[s][2], bt, acc);
        run_pack_bt(name, &k);
        run_macro(name, &k, 7, 13, 5);
        run_macro(name, &k, 125, 50, 300);
        run_macro(name, &k, 6, 2048, 256);
        if (getenv("TS_SGEMM_BENCH")) bench(name, &k);
        ts_shutdown();
        fprintf(stderr, "level %s checked\n", name);
        tested++;
    }
    CHECK(tested >= 1, "no level tested");
    TS_TEST_EXIT();
}
