/*
 * ts_gemm.c — reference (scalar) quantized matmul tiles: the gemm[] entry points of the
 * kernel table for the weight types that have a SIMD tile at some level (Q8_0, Q4_0).
 *
 * Every output is the reference dot of its pair, so on the scalar level the tile path and
 * the per-pair vec_dot path give identical bits; SIMD levels are tested against this.
 */
#include "ts_dispatch.h"
#include "ts_quants.h"

static inline void gemm_ref(ts_vec_dot_fn dot, int64_t k, const void *w, int64_t w_stride, const void *a,
                            int64_t a_stride, float *y, int64_t y_stride, int64_t nr, int64_t nc) {
    for (int64_t c = 0; c < nc; c++) {
        float *yc = (float *)((char *)y + c * y_stride);
        const char *ac = (const char *)a + c * a_stride;
        for (int64_t r = 0; r < nr; r++) yc[r] = dot(k, (const char *)w + r * w_stride, ac);
    }
}

static void gemm_q8_0_ref(int64_t k, const void *w, int64_t w_stride, const void *a, int64_t a_stride, float *y,
                          int64_t y_stride, int64_t nr, int64_t nc) {
    gemm_ref(ts_vec_dot_q8_0_q8_0_ref, k, w, w_stride, a, a_stride, y, y_stride, nr, nc);
}

static void gemm_q4_0_ref(int64_t k, const void *w, int64_t w_stride, const void *a, int64_t a_stride, float *y,
                          int64_t y_stride, int64_t nr, int64_t nc) {
    gemm_ref(ts_vec_dot_q4_0_q8_0_ref, k, w, w_stride, a, a_stride, y, y_stride, nr, nc);
}

void ts_register_gemm_scalar(struct ts_kernels *k, uint64_t cpu) {
    (void)cpu;
    k->gemm[TS_TYPE_Q8_0] = gemm_q8_0_ref;
    k->gemm[TS_TYPE_Q4_0] = gemm_q4_0_ref;
    /* Float weights at M >= 8 go through the F32 SGEMM: one dot per (row, column) pair
     * re-reads W for every column; below 8 the product is memory-bound and the dots stream
     * W once. Quantized weights keep their dots/tiles here (the reference path). */
    k->sgemm_min_m[TS_TYPE_F32] = 8;
    k->sgemm_min_m[TS_TYPE_F16] = 8;
    k->sgemm_min_m[TS_TYPE_BF16] = 8;
}
