/*
 * ts_conv_dw.h — the depthwise plane loop, included by ts_conv.c (scalar level) and by
 * arch/x86/conv_avx2.c (compiled there with AVX2, where the unit-stride row update
 * vectorises 8 wide). Rows of the output are accumulated tap by tap, so each update is a
 * contiguous axpy over the range of output columns whose input column is inside the image.
 */
#ifndef TS_CONV_DW_H
#define TS_CONV_DW_H

#include "ts_conv.h"

static inline int64_t ts_dw_floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

static inline void ts_conv_dw_plane_impl(float *restrict y, const float *restrict x, const float *restrict w,
                                         float bias, const ts_conv_geom *g) {
    for (int64_t oy = 0; oy < g->oh; oy++) {
        float *restrict yr = y + oy * g->ow;
        for (int64_t ox = 0; ox < g->ow; ox++) yr[ox] = bias;
        for (int64_t ky = 0; ky < g->kh; ky++) {
            int64_t iy = oy * g->sh - g->ph + ky * g->dh;
            if (iy < 0 || iy >= g->h) continue;
            const float *restrict xr = x + iy * g->w;
            for (int64_t kx = 0; kx < g->kw; kx++) {
                const float wv = w[ky * g->kw + kx];
                int64_t off = kx * g->dw - g->pw;
                /* output columns with 0 <= ox*sw + off < w */
                int64_t lo = off >= 0 ? 0 : (-off + g->sw - 1) / g->sw;
                int64_t hi = ts_dw_floor_div(g->w - 1 - off, g->sw) + 1;
                if (hi > g->ow) hi = g->ow;
                if (g->sw == 1) {
                    for (int64_t ox = lo; ox < hi; ox++) yr[ox] += wv * xr[ox + off];
                } else {
                    for (int64_t ox = lo; ox < hi; ox++) yr[ox] += wv * xr[ox * g->sw + off];
                }
            }
        }
    }
}

#endif /* TS_CONV_DW_H */
