/*
 * conv_avx2.c — the depthwise plane loop of ts_conv_dw.h compiled for the avx2 level.
 */
#include "ts_conv_dw.h"
#include "ts_dispatch.h"

static void conv_dw_plane_avx2(float *y, const float *x, const float *w, float bias, const ts_conv_geom *g) {
    ts_conv_dw_plane_impl(y, x, w, bias, g);
}

void ts_register_conv_avx2(struct ts_kernels *k, uint64_t cpu) {
    (void)cpu;
    k->conv_dw_plane = conv_dw_plane_avx2;
}
