/*
 * ts_probe.c — the machine's limits, measured by the same library that runs the kernels:
 * read bandwidth (a streaming sum over the pool, the active level's widest loads) and FMA throughput (independent chains,
 * the active level's widest vectors). Benchmarks report kernel figures next to these.
 */
#include <string.h>

#include "tessera.h"
#include "ts_core.h"
#include "ts_dispatch.h"
#include "ts_threadpool.h"

typedef struct {
    const unsigned char *p;
    int64_t n;
    uint64_t sums[512];
} read_job;

static void read_task(void *ctx, int32_t ith, int32_t nth) {
    read_job *j = ctx;
    int64_t b, e;
    ts_split_range(j->n / 64, 1, ith, nth, &b, &e);
    j->sums[ith] = b < e ? ts_kernels_active()->read_probe(j->p + b * 64, (e - b) * 64) : 0;
}

/* Scalar: eight independent accumulators per 64-byte line (the compiler may vectorise it). */
static uint64_t read_probe_scalar(const void *p, int64_t n_bytes) {
    const unsigned char *c = p;
    uint64_t acc[8] = {0};
    for (int64_t line = 0; line < n_bytes / 64; line++) {
        uint64_t w[8];
        memcpy(w, c + line * 64, 64);
        for (int i = 0; i < 8; i++) acc[i] += w[i];
    }
    uint64_t s = 0;
    for (int i = 0; i < 8; i++) s += acc[i];
    return s;
}

int64_t ts_bench_read(const void *p, int64_t n_bytes) {
    if (ts_require_init("ts_bench_read") || p == NULL || n_bytes < 64) return 0;
    read_job job = {.p = p, .n = n_bytes};
    ts_parallel(read_task, &job, 512);
    uint64_t s = 0;
    for (int i = 0; i < 512; i++) s += job.sums[i];
    return (int64_t)s;
}

typedef struct {
    int64_t iters;
    int64_t flops[512];
    float sink[512];
} fma_job;

static void fma_task(void *ctx, int32_t ith, int32_t nth) {
    fma_job *j = ctx;
    j->flops[ith] = ts_kernels_active()->fma_probe(j->iters, &j->sink[ith]);
}

int64_t ts_bench_fma(int64_t iters) {
    if (ts_require_init("ts_bench_fma") || iters <= 0) return 0;
    fma_job job = {.iters = iters};
    ts_parallel(fma_task, &job, 512);
    int64_t total = 0;
    for (int i = 0; i < 512; i++) total += job.flops[i];
    return total;
}

/* Scalar: 8 independent multiply-add chains (the compiler may not fuse them: contraction
 * follows the default, so this measures what scalar code gets). */
static int64_t fma_probe_scalar(int64_t iters, float *sink) {
    float a[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const float m = 0.999999f, c = 1e-7f;
    for (int64_t i = 0; i < iters; i++)
        for (int j = 0; j < 8; j++) a[j] = a[j] * m + c;
    float s = 0;
    for (int j = 0; j < 8; j++) s += a[j];
    *sink = s;
    return iters * 8 * 2;
}

void ts_register_probe_scalar(struct ts_kernels *k, uint64_t cpu) {
    (void)cpu;
    k->fma_probe = fma_probe_scalar;
    k->read_probe = read_probe_scalar;
}
