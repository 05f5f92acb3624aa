/*
 * matmul_paths — where the widened-SGEMM path starts to beat a type's int8 tiles / dots on
 * this machine: 4096 x 4096 weights, for each M both paths of the active level alternated in
 * one process (the level's sgemm_min_m[type] switched between 0 and 1), best of REPS rounds.
 * The crossovers beside sgemm_min_m in gemm_<level>.c come from this.
 *
 *   bench_matmul_paths TYPE REPS [M ...]        (default M: 8 12 16 24 32 48 64 96 128 512)
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_clock.h"
#include "tessera.h"
#include "ts_dispatch.h"
#include "ts_quants.h"

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s TYPE REPS [M ...]\n", argv[0]);
        return 2;
    }
    const int32_t type = atoi(argv[1]);
    const int reps = atoi(argv[2]);
    static const int64_t default_ms[] = {8, 12, 16, 24, 32, 48, 64, 96, 128, 512};
    int64_t ms[64];
    int nm = 0;
    for (int i = 3; i < argc && nm < 64; i++) ms[nm++] = atoll(argv[i]);
    if (nm == 0)
        for (size_t i = 0; i < sizeof default_ms / sizeof default_ms[0]; i++) ms[nm++] = default_ms[i];
    int64_t mmax = 1;
    for (int i = 0; i < nm; i++) mmax = ms[i] > mmax ? ms[i] : mmax;
    const ts_type_traits *t = ts_get_type_traits(type);
    const int64_t n = 4096, k = 4096;
    if (t == NULL || t->vec_dot == NULL || reps <= 0 || ts_init(0, NULL) != TS_OK) {
        fprintf(stderr, "bad type or repetitions, or %s\n", ts_last_error());
        return 2;
    }
    const size_t rb = ts_qtype_row_size(type, k);
    char *w = malloc(rb * (size_t)n);
    float *wf = malloc(sizeof(float) * (size_t)(n * k)), *x = malloc(sizeof(float) * (size_t)(mmax * k));
    float *y = malloc(sizeof(float) * (size_t)(n * mmax));
    if (w == NULL || wf == NULL || x == NULL || y == NULL) return 3;
    uint64_t s = 88172645463325252ull;
    for (int64_t i = 0; i < n * k; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        wf[i] = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5);
    }
    for (int64_t i = 0; i < mmax * k; i++) x[i] = wf[(i * 7) % (n * k)];
    ts_quantize(w, type, wf, n, k);
    /* The tool flips the level's own switch: the table is the library's live one. */
    struct ts_kernels *active = (struct ts_kernels *)ts_kernels_active();
    const int64_t level_m = active->sgemm_min_m[type];
    printf("%s on %s, %d threads (the level switches at M = %lld), GFLOP/s best of %d:\n", t->name, ts_isa_name(ts_isa()),
           ts_n_threads(), (long long)level_m, reps);
    for (int i = 0; i < nm; i++) {
        double best[2] = {1e30, 1e30};
        for (int r = 0; r < reps; r++)
            for (int path = 0; path < 2; path++) {
                active->sgemm_min_m[type] = path; /* 0: tiles / dots, 1: widened SGEMM */
                const double t0 = bench_now();
                ts_matmul(y, n * 4, w, type, (int64_t)rb, x, k * 4, n, k, ms[i]);
                const double dt = bench_now() - t0;
                if (dt < best[path]) best[path] = dt;
            }
        const double flop = 2.0 * (double)n * (double)k * (double)ms[i];
        printf("M %4lld: int8 tiles / dots %6.1f   widened SGEMM %6.1f\n", (long long)ms[i], flop / best[0] / 1e9,
               flop / best[1] / 1e9);
    }
    active->sgemm_min_m[type] = level_m;
    ts_shutdown();
    return 0;
}
