/*
 * vec_dot_cycles — one weight type's dot product of the active level, alone: ROWS weight rows
 * of K = 4096 (in L1/L2 for small ROWS) against one activation row, 100 passes per round,
 * 50 rounds; prints the best round in TSC cycles per 256 weights and GFLOP/s. For kernel
 * changes too small to see through ts_matmul's threads on a noisy machine: build it against
 * two versions of the library and run the two binaries in turn (BENCHMARKS.md).
 *
 *   bench_vec_dot_cycles TYPE ROWS        (x86-64: the TSC; TYPE a TS_TYPE_* id)
 */
#include <stdio.h>
#include <stdlib.h>
#include <x86intrin.h>

#include "bench_clock.h"
#include "tessera.h"
#include "ts_dispatch.h"
#include "ts_quants.h"

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s TYPE ROWS\n", argv[0]);
        return 2;
    }
    const int32_t type = atoi(argv[1]);
    const int rows = atoi(argv[2]);
    const int64_t k = 4096;
    const ts_type_traits *t = ts_get_type_traits(type);
    if (t == NULL || t->vec_dot == NULL || rows <= 0 || ts_init(1, NULL) != TS_OK) {
        fprintf(stderr, "bad type or rows, or %s\n", ts_last_error());
        return 2;
    }
    const struct ts_kernels *kern = ts_kernels_active();
    const size_t rb = ts_qtype_row_size(type, k), ab = ts_qtype_row_size(t->vec_dot_type, k);
    float *wf = malloc(sizeof(float) * (size_t)(k * rows)), *x = malloc(sizeof(float) * (size_t)k);
    char *w = malloc(rb * (size_t)rows), *a = malloc(ab);
    if (wf == NULL || x == NULL || w == NULL || a == NULL) return 3;
    uint64_t s = 88172645463325252ull;
    for (int64_t i = 0; i < k * rows + k; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        const float v = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5);
        if (i < k * rows) wf[i] = v;
        else x[i - k * rows] = v;
    }
    ts_quantize(w, type, wf, rows, k);
    kern->quantize_row[t->vec_dot_type](x, a, k);
    volatile float sink = 0;
    double best = 1e30, best_gflops = 0;
    for (int round = 0; round < 50; round++) {
        const double t0 = bench_now();
        const uint64_t c0 = __rdtsc();
        for (int pass = 0; pass < 100; pass++)
            for (int r = 0; r < rows; r++) sink += kern->vec_dot[type](k, w + (size_t)r * rb, a);
        const double cycles = (double)(__rdtsc() - c0) / (100.0 * rows * (k / 256));
        if (cycles < best) {
            best = cycles;
            best_gflops = 2.0 * (double)k * rows * 100 / (bench_now() - t0) / 1e9;
        }
    }
    printf("%s on %s, %d rows: best %.1f TSC cycles per 256 weights (%.1f GFLOP/s)\n", t->name, ts_isa_name(ts_isa()), rows,
           best, best_gflops);
    ts_shutdown();
    return 0;
}
