/*
 * tsc_matmul_mma.cu — batched matmul (m > 1) on tensor cores. Nothing is taken over yet:
 * every call is left to the plain kernels of tsc_matmul.cu.
 */
#include "tsc_internal.cuh"

int32_t tsc_matmul_mma(struct tsc_context *c, float *y, int64_t y_stride, const void *w, int32_t w_type, int64_t w_stride,
                       const float *x, int64_t x_stride, int64_t n, int64_t k, int64_t m) {
    (void)c, (void)y, (void)y_stride, (void)w, (void)w_type, (void)w_stride, (void)x, (void)x_stride, (void)n, (void)k, (void)m;
    return TSC_NOT_HANDLED;
}
