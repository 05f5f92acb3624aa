/*
 * probe_avx2.c — the machine-limit probes for the avx2 level: FMA throughput (10
 * independent 8-lane FMA chains, enough to cover FMA latency x throughput on current x86
 * cores) and read bandwidth (32-byte loads into two accumulators, with a software prefetch
 * a few lines ahead, as the weight-streaming matvec kernels read: on the CI machine, 2
 * threads over 256 MiB, 24.8 GB/s against 13.3 for the scalar level's plain C loop,
 * `tessera bench --isa avx2|scalar`, BENCHMARKS.md).
 */
#include <immintrin.h>
#include <stdint.h>

#include "ts_dispatch.h"

static int64_t fma_probe_avx2(int64_t iters, float *sink) {
    __m256 a[10];
    for (int j = 0; j < 10; j++) a[j] = _mm256_set1_ps((float)(j + 1));
    const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int64_t i = 0; i < iters; i++)
        for (int j = 0; j < 10; j++) a[j] = _mm256_fmadd_ps(a[j], m, c);
    __m256 s = a[0];
    for (int j = 1; j < 10; j++) s = _mm256_add_ps(s, a[j]);
    float out[8];
    _mm256_storeu_ps(out, s);
    *sink = out[0] + out[7];
    return iters * 10 * 8 * 2;
}

static uint64_t read_probe_avx2(const void *p, int64_t n_bytes) {
    const char *c = p;
    __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
    int64_t i = 0;
    for (; i + 128 <= n_bytes; i += 128) {
        _mm_prefetch(c + i + 256, _MM_HINT_T0);
        _mm_prefetch(c + i + 320, _MM_HINT_T0);
        a0 = _mm256_add_epi64(a0, _mm256_loadu_si256((const __m256i *)(c + i)));
        a1 = _mm256_add_epi64(a1, _mm256_loadu_si256((const __m256i *)(c + i + 32)));
        a0 = _mm256_add_epi64(a0, _mm256_loadu_si256((const __m256i *)(c + i + 64)));
        a1 = _mm256_add_epi64(a1, _mm256_loadu_si256((const __m256i *)(c + i + 96)));
    }
    for (; i < n_bytes; i += 32) a0 = _mm256_add_epi64(a0, _mm256_loadu_si256((const __m256i *)(c + i)));
    uint64_t t[4];
    _mm256_storeu_si256((__m256i *)t, _mm256_add_epi64(a0, a1));
    return t[0] + t[1] + t[2] + t[3];
}

void ts_register_probe_avx2(struct ts_kernels *k, uint64_t cpu) {
    (void)cpu;
    k->fma_probe = fma_probe_avx2;
    k->read_probe = read_probe_avx2;
}
