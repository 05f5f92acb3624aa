/*
 * ts_conv.h — internals of the 2-D convolution (ts_conv2d in tessera.h).
 */
#ifndef TS_CONV_H
#define TS_CONV_H

#include <stdint.h>

/* One image plane's geometry, as the per-level depthwise kernel sees it. */
typedef struct ts_conv_geom {
    int64_t h, w;   /* input plane */
    int64_t oh, ow; /* output plane */
    int64_t kh, kw;
    int64_t sh, sw, ph, pw, dh, dw;
} ts_conv_geom;

/* Most bytes of patch rows the patchify path gathers at once (plus the threaded GEMM's
 * packing scratch, ~2 MiB per thread). The panel never gets narrower than 16 patches, so a
 * patch of more than 512 Ki values goes over (by that much). The general (im2col) path
 * needs no cap: it holds the packed weights plus one KC x 1024 slice (1 MiB) per thread,
 * whatever the image size. */
#define TS_CONV_SCRATCH_CAP ((int64_t)32 << 20)

/* Direct seven-loop convolution (F32 weights), the reference every path is tested against.
 * Same argument meaning as ts_conv2d; no validation. */
void ts_conv2d_ref(float *y, const float *x, const float *w, const float *bias, int64_t n, int64_t cin, int64_t h,
                   int64_t width, int64_t cout, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
                   int64_t dh, int64_t dw, int64_t groups);

/* Scalar depthwise plane kernel (the avx2 level compiles the same loop with AVX2). */
void ts_conv_dw_plane_ref(float *y, const float *x, const float *w, float bias, const ts_conv_geom *g);

#endif /* TS_CONV_H */
