/*
 * tsc_test.h — shared by the CUDA C tests: device check (exit 77 = ctest "skipped" when no
 * GPU is usable), device buffers from host arrays, and error measures. Builds on the CPU
 * tests' ts_test.h (CHECK, TS_TEST_EXIT, deterministic random numbers).
 */
#ifndef TSC_TEST_H
#define TSC_TEST_H

#include <math.h>

#include "tessera.h"
#include "tessera_cuda.h"
#include "ts_test.h"

#define TSC_SKIP 77

/* Set by tsc_test_open when device 0 is the CPU emulator (tessera_cuda_emu, the tests' _emu
 * builds), where a kernel runs some thousand times slower than on a GPU. */
static int tsc_test_emulated;

/* Whether a case of `work` multiply-adds is more than a run spends on one: under the emulator
 * TSC_TEST_EMU_WORK (default 2e8; 0 lifts the limit), on any device TSC_TEST_WORK where set
 * (for slow tools such as compute-sanitizer; ci/gpu-profile.sh sets it). It says so and skips. */
static inline int tsc_test_too_big(double work, const char *what) {
    const char *g = getenv("TSC_TEST_WORK"), *e = getenv("TSC_TEST_EMU_WORK");
    if (g == NULL && !tsc_test_emulated) return 0;
    const double limit = g ? atof(g) : e ? atof(e) : 2e8;
    if (limit <= 0 || work <= limit) return 0;
    printf("skip %s: %.3g multiply-adds, beyond the limit of %.3g per case (%s)\n", what, work, limit,
           g ? "TSC_TEST_WORK" : "TSC_TEST_EMU_WORK");
    return 1;
}

/* Opens a context on device 0 and the CPU library at its scalar level, or exits with the
 * skip code saying why there is no device. */
static inline void *tsc_test_open(void) {
    int32_t n = tsc_device_count();
    if (n == 0) {
        printf("no CUDA device: skipped (%s)\n", tsc_last_error());
        fflush(stdout);
        exit(TSC_SKIP);
    }
    char name[256] = "";
    if (tsc_device_name(0, name, sizeof name) == TS_OK) printf("device 0: %s\n", name);
    tsc_test_emulated = strncmp(name, "CPU emulator", 12) == 0;
    void *ctx = NULL;
    int32_t st = tsc_init(0, 0, &ctx);
    if (st != TS_OK) {
        fprintf(stderr, "tsc_init failed: %s\n", tsc_last_error());
        exit(1);
    }
    /* The scalar reference kernels (double reductions, glibc libm) are the yardstick, not
     * whichever SIMD level this CPU would pick: tolerances then bound the GPU alone. On all
     * cores unless TSC_TEST_CPU_THREADS says (ci/emu-racecheck.sh: 1, as ThreadSanitizer does
     * not see the uninstrumented pool's synchronization). */
    const char *threads = getenv("TSC_TEST_CPU_THREADS");
    if (ts_init(threads ? atoi(threads) : 0, "scalar") != TS_OK) {
        fprintf(stderr, "ts_init failed: %s\n", ts_last_error());
        exit(1);
    }
    return ctx;
}

/* Device copy of bytes (>= 0) of host memory; never a NULL pointer, even for 0 bytes. */
static inline void *tsc_test_up(void *ctx, const void *host, int64_t bytes) {
    void *d = NULL;
    if (tsc_alloc(ctx, bytes > 0 ? bytes : 256, &d) != TS_OK || tsc_upload(ctx, d, host, bytes) != TS_OK) {
        fprintf(stderr, "upload of %lld bytes failed: %s\n", (long long)bytes, tsc_last_error());
        exit(1);
    }
    return d;
}

static inline void tsc_test_down(void *ctx, void *host, const void *dev, int64_t bytes) {
    if (tsc_download(ctx, host, dev, bytes) != TS_OK) {
        fprintf(stderr, "download failed: %s\n", tsc_last_error());
        exit(1);
    }
}

static inline float *tsc_test_randn(uint64_t *seed, int64_t n, float scale) {
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++) p[i] = (float)ts_test_gauss(seed) * scale;
    return p;
}

/* Largest |a - b| - tol(b) over n values; <= 0 means all within abs_tol + rel_tol·|b|. Also
 * counts NaN mismatches as failures. Prints the worst element. */
static inline int tsc_test_close(const char *what, const float *got, const float *want, int64_t n, double abs_tol, double rel_tol) {
    double worst = 0;
    int64_t wi = -1;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(want[i]) || isnan(got[i])) {
            if (isnan(want[i]) != isnan(got[i])) {
                CHECK(0, "%s: [%lld] got %g want %g", what, (long long)i, got[i], want[i]);
                return 0;
            }
            continue;
        }
        double err = fabs((double)got[i] - want[i]), tol = abs_tol + rel_tol * fabs(want[i]);
        if (err - tol > worst || wi < 0) {
            if (err - tol > worst) worst = err - tol;
            if (err > tol || wi < 0) wi = i;
        }
    }
    int ok = worst <= 0;
    CHECK(ok, "%s: [%lld] got %.9g want %.9g (tolerance %g + %g·|want|)", what, (long long)wi, wi >= 0 ? got[wi] : 0.0,
          wi >= 0 ? want[wi] : 0.0, abs_tol, rel_tol);
    return ok;
}

#endif /* TSC_TEST_H */
