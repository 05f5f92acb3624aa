/*
 * matmul_ab — one ts_matmul case timed on two builds of libtessera, alternated call by call
 * in one process, so both see the same moments of a noisy machine (BENCHMARKS.md's A/B
 * figures for kernel changes).
 *
 *   bench_matmul_ab A/libtessera.so B/libtessera.so TYPE N M REPS [THREADS]
 *
 * TYPE is a TS_TYPE_* id (1 F16, 2 Q4_0, 8 Q8_0, 12 Q4_K, 14 Q6_K, ...); W is N x 4096 of
 * gaussian-ish values quantized by build A, X is M x 4096. Each round initialises a build,
 * makes one untimed call (the workers' first wake-up, caches), times calls for at least
 * 50 ms (one call when a call takes longer) and shuts it down, A then B: a round's figure is
 * the mean over its timed calls, as test-backend-ops reports. Prints the median and best
 * GFLOP/s of each, and
 * (M = 1) B's matvec in GB/s of weights beside the read bandwidth B's probe measures over the
 * same bytes in the same rounds.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_clock.h"
#include "tessera.h"

typedef int32_t (*init_fn)(int32_t, const char *);
typedef int32_t (*shutdown_fn)(void);
typedef int32_t (*quantize_fn)(void *, int32_t, const float *, int64_t, int64_t);
typedef int32_t (*matmul_fn)(float *, int64_t, const void *, int32_t, int64_t, const float *, int64_t, int64_t, int64_t,
                             int64_t);
typedef int64_t (*read_fn)(const void *, int64_t);

struct build {
    const char *path;
    init_fn init;
    shutdown_fn shutdown;
    matmul_fn matmul;
};

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void *sym(void *h, const char *path, const char *name) {
    void *p = dlsym(h, name);
    if (p == NULL) {
        fprintf(stderr, "%s: no symbol %s\n", path, name);
        exit(2);
    }
    return p;
}

/* Bytes of one W row of k elements, for the types this tool takes. */
static int64_t row_bytes(int32_t type, int64_t k) {
    switch (type) {
        case TS_TYPE_F32: return k * 4;
        case TS_TYPE_F16: case TS_TYPE_BF16: return k * 2;
        case TS_TYPE_Q4_0: return k / 32 * 18;
        case TS_TYPE_Q4_1: return k / 32 * 20;
        case TS_TYPE_Q5_0: return k / 32 * 22;
        case TS_TYPE_Q5_1: return k / 32 * 24;
        case TS_TYPE_Q8_0: return k / 32 * 34;
        case TS_TYPE_Q2_K: return k / 256 * 84;
        case TS_TYPE_Q3_K: return k / 256 * 110;
        case TS_TYPE_Q4_K: return k / 256 * 144;
        case TS_TYPE_Q5_K: return k / 256 * 176;
        case TS_TYPE_Q6_K: return k / 256 * 210;
        default: return -1;
    }
}

static void report(const char *what, double *v, int n, const char *unit) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    printf("%s: median %.2f best %.2f %s\n", what, v[n / 2], v[n - 1], unit);
}

int main(int argc, char **argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: %s A.so B.so TYPE N M REPS [THREADS]\n", argv[0]);
        return 2;
    }
    const int32_t type = atoi(argv[3]);
    const int64_t n = atoll(argv[4]), m = atoll(argv[5]), k = 4096;
    const int reps = atoi(argv[6]), threads = argc > 7 ? atoi(argv[7]) : 0;
    const int64_t rb = row_bytes(type, k);
    if (rb < 0 || n <= 0 || m <= 0 || reps <= 0) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    struct build b[2];
    void *handle[2];
    for (int i = 0; i < 2; i++) {
        b[i].path = argv[1 + i];
        handle[i] = dlopen(b[i].path, RTLD_NOW | RTLD_LOCAL);
        if (handle[i] == NULL) {
            fprintf(stderr, "%s\n", dlerror());
            return 2;
        }
        b[i].init = (init_fn)sym(handle[i], b[i].path, "ts_init");
        b[i].shutdown = (shutdown_fn)sym(handle[i], b[i].path, "ts_shutdown");
        b[i].matmul = (matmul_fn)sym(handle[i], b[i].path, "ts_matmul");
    }
    const quantize_fn quantize = (quantize_fn)sym(handle[0], b[0].path, "ts_quantize");
    const read_fn read_probe = (read_fn)sym(handle[1], b[1].path, "ts_bench_read");

    /* W: 1024 distinct rows, repeated; X: M rows. */
    char *w = aligned_alloc(64, (size_t)((rb * n + 63) / 64 * 64));
    float *wf = malloc(sizeof(float) * 1024 * (size_t)k), *x = malloc(sizeof(float) * (size_t)(m * k));
    float *y = malloc(sizeof(float) * (size_t)(n * m));
    if (w == NULL || wf == NULL || x == NULL || y == NULL) return 3;
    uint64_t s = 88172645463325252ull;
    for (int64_t i = 0; i < 1024 * k; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        wf[i] = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5);
    }
    for (int64_t i = 0; i < m * k; i++) x[i] = wf[(i * 7) % (1024 * k)];
    b[0].init(threads, NULL);
    for (int64_t r = 0; r < n; r += 1024) quantize(w + r * rb, type, wf, n - r < 1024 ? n - r : 1024, k);
    b[0].shutdown();

    double *t[3];
    for (int i = 0; i < 3; i++) t[i] = malloc(sizeof(double) * (size_t)reps);
    const int64_t read_bytes = rb * n / 64 * 64;
    for (int r = 0; r < reps; r++) {
        for (int i = 0; i < 2; i++) {
            b[i].init(threads, NULL);
            b[i].matmul(y, n * 4, w, type, rb, x, k * 4, n, k, m);
            double t0 = bench_now(), t1;
            int calls = 0;
            do {
                b[i].matmul(y, n * 4, w, type, rb, x, k * 4, n, k, m);
                calls++;
            } while ((t1 = bench_now()) - t0 < 0.05);
            t[i][r] = 2.0 * (double)n * (double)k * (double)m * calls / (t1 - t0) / 1e9;
            if (i == 1) {
                t0 = bench_now();
                read_probe(w, read_bytes);
                t[2][r] = (double)read_bytes / (bench_now() - t0) / 1e9;
            }
            b[i].shutdown();
        }
    }
    printf("type %d, W %lld x %lld (%.1f MB), M %lld, %d rounds\n", type, (long long)n, (long long)k, rb * n / 1e6,
           (long long)m, reps);
    report(b[0].path, t[0], reps, "GFLOP/s");
    report(b[1].path, t[1], reps, "GFLOP/s");
    if (m == 1) {
        for (int r = 0; r < reps; r++) t[1][r] = t[1][r] / 2.0 * (double)rb / (double)k; /* GFLOP/s -> GB/s of W */
        report("B's matvec over the weights", t[1], reps, "GB/s");
        report("B's read probe over the same bytes", t[2], reps, "GB/s");
    }
    return 0;
}
