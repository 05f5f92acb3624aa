/*
 * probe_avx2.c — FMA throughput probe for the avx2 level: 10 independent 8-lane FMA
 * chains, enough to cover FMA latency x throughput on current x86 cores.
 */
#include <immintrin.h>

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

void ts_register_probe_avx2(struct ts_kernels *k, uint64_t cpu) {
    (void)cpu;
    k->fma_probe = fma_probe_avx2;
}
