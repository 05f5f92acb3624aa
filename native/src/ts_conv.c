/*
 * ts_conv.c — 2-D convolution (NCHW): validation, the direct reference, and the driver
 * that picks a path:
 *  - depthwise (groups == cin == cout): the per-level plane kernel, threads over planes;
 *  - 1x1 stride 1 no padding: Y_g = W_g · X_g is a plain GEMM on each image and group;
 *  - patchify (kernel == stride, no padding/dilation): each output pixel's input patch is
 *    a set of contiguous row pieces, gathered into rows of a [pixels x K] panel, then
 *    Y = W · panelᵀ on the threaded GEMM (which splits Cout when there are few patches,
 *    as for ViT's 49 or 196);
 *  - anything else: im2col fused with the GEMM's B packing. The weights are packed once
 *    per call (ts_sgemm_pack_a, shared by the threads); for each panel of output pixels
 *    and each KC-deep slice of K, the im2col rows of that slice are written straight into
 *    the packed B layout (KC x panel, at most 1 MiB: it stays in cache), then the macro
 *    kernel runs every MC-row block of the weights against it.
 * K = cin/groups * kh * kw. The panel paths cut the output pixels of each (image, group)
 * into panels; threads take whole panels, each writes its own output columns.
 */
#include "ts_conv.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "tessera.h"
#include "ts_conv_dw.h"
#include "ts_core.h"
#include "ts_dispatch.h"
#include "ts_sgemm.h"
#include "ts_threadpool.h"

void ts_conv2d_ref(float *y, const float *x, const float *w, const float *bias, int64_t n, int64_t cin, int64_t h,
                   int64_t width, int64_t cout, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
                   int64_t dh, int64_t dw, int64_t groups) {
    int64_t oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1;
    int64_t ow = (width + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
    int64_t cin_g = cin / groups, cout_g = cout / groups;
    for (int64_t b = 0; b < n; b++)
        for (int64_t co = 0; co < cout; co++) {
            int64_t g = co / cout_g;
            for (int64_t oy = 0; oy < oh; oy++)
                for (int64_t ox = 0; ox < ow; ox++) {
                    float s = bias ? bias[co] : 0.0f;
                    for (int64_t ci = 0; ci < cin_g; ci++)
                        for (int64_t ky = 0; ky < kh; ky++) {
                            int64_t iy = oy * sh - ph + ky * dh;
                            if (iy < 0 || iy >= h) continue;
                            for (int64_t kx = 0; kx < kw; kx++) {
                                int64_t ix = ox * sw - pw + kx * dw;
                                if (ix < 0 || ix >= width) continue;
                                s += w[((co * cin_g + ci) * kh + ky) * kw + kx] *
                                     x[((b * cin + g * cin_g + ci) * h + iy) * width + ix];
                            }
                        }
                    y[((b * cout + co) * oh + oy) * ow + ox] = s;
                }
        }
}

void ts_conv_dw_plane_ref(float *y, const float *x, const float *w, float bias, const ts_conv_geom *g) {
    ts_conv_dw_plane_impl(y, x, w, bias, g);
}

void ts_register_conv_scalar(struct ts_kernels *k, uint64_t cpu) {
    (void)cpu;
    k->conv_dw_plane = ts_conv_dw_plane_ref;
}

enum { PATH_DEPTHWISE, PATH_GEMM_1X1, PATH_PATCH, PATH_IM2COL };

typedef struct {
    int64_t n, cin, h, w, cout, kh, kw, sh, sw, ph, pw, dh, dw, groups;
    int64_t oh, ow, ohw, cin_g, cout_g, k; /* k: GEMM depth cin_g*kh*kw */
    int path;
    /* panel paths */
    int32_t nth;
    int64_t panel;      /* output pixels per panel */
    int64_t ppi;        /* panels per (image, group) */
    int64_t col_floats; /* per thread: the packed im2col slice */
    int64_t per_thread; /* per thread: col_floats + a row buffer, 16-float aligned */
    int64_t pa_floats;  /* im2col: packed weights of one group */
    int64_t shared;     /* im2col: packed weights of all groups, ahead of the per-thread parts */
} conv_plan;

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

static int mul_ok(int64_t a, int64_t b, int64_t *out) { return !__builtin_mul_overflow(a, b, out) && *out < ((int64_t)1 << 60); }

/* Checks the arguments and fills the plan (path, panel sizes for nth threads when nth > 0). */
static int32_t conv_plan_make(conv_plan *p, int32_t w_type, int64_t n, int64_t cin, int64_t h, int64_t width,
                              int64_t cout, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
                              int64_t dh, int64_t dw, int64_t groups) {
    const char *fn = "ts_conv2d";
    if (w_type != TS_TYPE_F32 && w_type != TS_TYPE_F16)
        return ts_set_error(TS_ERR_UNSUPPORTED, "%s: weight type %d is not supported (F32 or F16)", fn, (int)w_type);
    if (n < 0 || cin < 1 || h < 1 || width < 1 || cout < 1 || kh < 1 || kw < 1)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "%s: bad sizes n=%lld cin=%lld h=%lld w=%lld cout=%lld kernel %lldx%lld", fn,
                            (long long)n, (long long)cin, (long long)h, (long long)width, (long long)cout, (long long)kh, (long long)kw);
    if (sh < 1 || sw < 1 || dh < 1 || dw < 1 || ph < 0 || pw < 0)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "%s: stride %lldx%lld and dilation %lldx%lld must be >= 1, padding %lldx%lld >= 0", fn,
                            (long long)sh, (long long)sw, (long long)dh, (long long)dw, (long long)ph, (long long)pw);
    if (groups < 1 || cin % groups != 0 || cout % groups != 0)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "%s: groups %lld must divide cin %lld and cout %lld", fn, (long long)groups,
                            (long long)cin, (long long)cout);
    int64_t t1, t2, t3;
    if (!mul_ok(dh, kh - 1, &t1) || !mul_ok(dw, kw - 1, &t2) || h > ((int64_t)1 << 40) || width > ((int64_t)1 << 40) ||
        ph > ((int64_t)1 << 40) || pw > ((int64_t)1 << 40))
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "%s: sizes overflow", fn);
    int64_t eh = h + 2 * ph - t1, ew = width + 2 * pw - t2;
    if (eh < 1 || ew < 1)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "%s: the dilated kernel (%lldx%lld) is larger than the padded input (%lldx%lld)", fn,
                            (long long)(t1 + 1), (long long)(t2 + 1), (long long)(h + 2 * ph), (long long)(width + 2 * pw));
    memset(p, 0, sizeof *p);
    p->n = n, p->cin = cin, p->h = h, p->w = width, p->cout = cout, p->kh = kh, p->kw = kw;
    p->sh = sh, p->sw = sw, p->ph = ph, p->pw = pw, p->dh = dh, p->dw = dw, p->groups = groups;
    p->oh = (eh - 1) / sh + 1;
    p->ow = (ew - 1) / sw + 1;
    p->cin_g = cin / groups;
    p->cout_g = cout / groups;
    /* every element count the kernels index must fit comfortably in int64 */
    int64_t t4;
    if (!mul_ok(p->oh, p->ow, &p->ohw) || !mul_ok(p->cin_g, kh, &t4) || !mul_ok(t4, kw, &p->k) || !mul_ok(n, cin, &t1) ||
        !mul_ok(t1, h, &t1) || !mul_ok(t1, width, &t1) || !mul_ok(n, cout, &t2) || !mul_ok(t2, p->ohw, &t2) ||
        !mul_ok(cout, p->k, &t3) || !mul_ok(t2, p->k, &t3))
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "%s: sizes overflow", fn);
    if (p->cin_g == 1 && p->cout_g == 1)
        p->path = PATH_DEPTHWISE;
    else if (kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0)
        p->path = PATH_GEMM_1X1;
    else if (kh == sh && kw == sw && ph == 0 && pw == 0 && dh == 1 && dw == 1)
        p->path = PATH_PATCH;
    else
        p->path = PATH_IM2COL;
    return TS_OK;
}

static int64_t round16(int64_t x) { return (x + 15) / 16 * 16; }

/* Panel width and scratch for the im2col path with nth threads: panels of at most 1024
 * pixels (the packed slice is KC x 1024 floats, 1 MiB), plus the packed weights once. */
static void conv_plan_panels(conv_plan *p, int32_t nth) {
    /* 1024 pixels: a 1 MiB packed slice, and enough panels on large images for the dynamic
     * split to even out threads that the OS (or a busy machine) slows down */
    int64_t pmax = 1024;
    int64_t ppi = ceil_div(p->ohw, pmax);
    int64_t ng = p->n * p->groups;
    /* enough panels for every thread, if the panels can stay >= 16 pixels wide */
    if (ng * ppi < nth) {
        int64_t want = ceil_div(nth, ng), most = p->ohw / 16 > 1 ? p->ohw / 16 : 1;
        ppi = want < most ? want : most;
    }
    /* Whole panels per thread: round the total up to a multiple of nth when that needs at
     * most nth - 1 more panels per (image, group), so no thread idles on a short last one. */
    if (ng * ppi % nth != 0)
        for (int64_t extra = 1; extra < nth; extra++)
            if (ng * (ppi + extra) % nth == 0 && ceil_div(p->ohw, ppi + extra) >= 16) {
                ppi += extra;
                break;
            }
    p->panel = ceil_div(p->ohw, ppi);
    p->ppi = ceil_div(p->ohw, p->panel);
    p->nth = nth;
    int64_t kc = p->k < TS_SGEMM_KC ? p->k : TS_SGEMM_KC;
    p->col_floats = round16(kc * round16(p->panel));
    p->per_thread = p->col_floats + round16(p->panel);
    p->pa_floats = round16(ts_sgemm_packed_a_floats(p->cout_g, p->k));
    p->shared = p->pa_floats * p->groups;
}

/* Patch rows per panel of the patchify path: the panel stays within TS_CONV_SCRATCH_CAP. */
static int64_t patch_panel_pixels(const conv_plan *p) {
    int64_t pmax = TS_CONV_SCRATCH_CAP / (int64_t)sizeof(float) / p->k;
    if (pmax < 16) pmax = 16;
    return pmax < p->ohw ? pmax : p->ohw;
}

typedef struct {
    const conv_plan *p;
    float *y;
    const float *x, *w, *bias;
    float *scratch;
    _Atomic int64_t next; /* panel_task: next work item to take */
    ts_sgemm_macro_fn macro;
    void (*dw)(float *, const float *, const float *, float, const struct ts_conv_geom *);
} conv_job;

static void depthwise_task(void *ctx, int32_t ith, int32_t nth) {
    const conv_job *j = ctx;
    const conv_plan *p = j->p;
    ts_conv_geom g = {p->h, p->w, p->oh, p->ow, p->kh, p->kw, p->sh, p->sw, p->ph, p->pw, p->dh, p->dw};
    int64_t b, e;
    ts_split_range(p->n * p->cout, 1, ith, nth, &b, &e);
    for (int64_t plane = b; plane < e; plane++) {
        int64_t c = plane % p->cout;
        j->dw(j->y + plane * p->ohw, j->x + plane * p->h * p->w, j->w + c * p->kh * p->kw, j->bias ? j->bias[c] : 0.0f, &g);
    }
}

/* Floor division for possibly negative numerators. */
static int64_t fdiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* One im2col row r = (ci, ky, kx) for the np output pixels from p0: the input value each
 * reads through that tap (0 in the padding). */
static void im2col_row(const conv_plan *p, const float *xg, int64_t r, int64_t p0, int64_t np, float *dst) {
    int64_t ci = r / (p->kh * p->kw), ky = r / p->kw % p->kh, kx = r % p->kw;
    const float *xc = xg + ci * p->h * p->w;
    int64_t off = kx * p->dw - p->pw;
    int64_t pix = p0, j = 0;
    while (j < np) {
        int64_t oy = pix / p->ow, ox = pix % p->ow;
        int64_t seg = p->ow - ox < np - j ? p->ow - ox : np - j;
        int64_t iy = oy * p->sh - p->ph + ky * p->dh;
        float *d = dst + j;
        if (iy < 0 || iy >= p->h) {
            memset(d, 0, (size_t)seg * sizeof(float));
        } else {
            const float *xr = xc + iy * p->w;
            /* t in [lo, hi) reads column (ox + t) * sw + off inside [0, w) */
            int64_t lo = fdiv(-off - 1, p->sw) + 1 - ox;
            int64_t hi = fdiv(p->w - 1 - off, p->sw) + 1 - ox;
            if (lo < 0) lo = 0;
            if (hi > seg) hi = seg;
            if (lo > hi) lo = hi;
            if (lo > 0) memset(d, 0, (size_t)lo * sizeof(float));
            if (p->sw == 1) {
                if (hi > lo) memcpy(d + lo, xr + ox + lo + off, (size_t)(hi - lo) * sizeof(float));
            } else {
                for (int64_t t = lo; t < hi; t++) d[t] = xr[(ox + t) * p->sw + off];
            }
            if (hi < seg) memset(d + hi, 0, (size_t)(seg - hi) * sizeof(float));
        }
        j += seg;
        pix += seg;
    }
}

/* im2col rows [pc, pc + kc) for the panel, in the packed B layout (ts_sgemm.h): each row
 * is built in rowbuf, then cut into NR-wide pieces, one per column panel. */
static void im2col_packed(const conv_plan *p, const float *xg, int64_t p0, int64_t np, int64_t pc, int64_t kc,
                          float *pb, float *rowbuf) {
    int64_t np_round = (np + TS_SGEMM_NR - 1) / TS_SGEMM_NR * TS_SGEMM_NR;
    for (int64_t j = np; j < np_round; j++) rowbuf[j] = 0.0f;
    for (int64_t r = 0; r < kc; r++) {
        im2col_row(p, xg, pc + r, p0, np, rowbuf);
        float *dst = pb + r * TS_SGEMM_NR;
        for (int64_t jb = 0; jb < np_round; jb += TS_SGEMM_NR) {
            memcpy(dst, rowbuf + jb, TS_SGEMM_NR * sizeof(float));
            dst += kc * TS_SGEMM_NR;
        }
    }
}

/* Patch rows of one panel: row j is the input patch under output pixel p0 + j, in the
 * weights' (ci, ky, kx) order; each (ci, ky) piece is kw contiguous input values. */
static void patch_panel(const conv_plan *p, const float *xg, int64_t p0, int64_t np, float *rows) {
    for (int64_t j = 0; j < np; j++) {
        int64_t oy = (p0 + j) / p->ow, ox = (p0 + j) % p->ow;
        float *dst = rows + j * p->k;
        for (int64_t ci = 0; ci < p->cin_g; ci++)
            for (int64_t ky = 0; ky < p->kh; ky++)
                memcpy(dst + (ci * p->kh + ky) * p->kw, xg + (ci * p->h + oy * p->kh + ky) * p->w + ox * p->kw,
                       (size_t)p->kw * sizeof(float));
    }
}

/* Packs the weights of every group, one KC-deep slice per work item. */
static void pack_weights_task(void *ctx, int32_t ith, int32_t nth) {
    const conv_job *j = ctx;
    const conv_plan *p = j->p;
    int64_t slices = ceil_div(p->k, TS_SGEMM_KC), mround = (p->cout_g + TS_SGEMM_MR - 1) / TS_SGEMM_MR * TS_SGEMM_MR;
    int64_t b, e;
    ts_split_range(p->groups * slices, 1, ith, nth, &b, &e);
    for (int64_t item = b; item < e; item++) {
        int64_t g = item / slices, pc = item % slices * TS_SGEMM_KC;
        int64_t kc = p->k - pc < TS_SGEMM_KC ? p->k - pc : TS_SGEMM_KC;
        ts_sgemm_pack_a_block(p->cout_g, kc, j->w + g * p->cout_g * p->k + pc, p->k,
                              j->scratch + g * p->pa_floats + pc * mround);
    }
}

static void panel_task(void *ctx, int32_t ith, int32_t nth) {
    conv_job *j = ctx;
    const conv_plan *p = j->p;
    float *col = j->scratch + p->shared + (int64_t)ith * p->per_thread;
    float *rowbuf = col + p->col_floats;
    int64_t mround = (p->cout_g + TS_SGEMM_MR - 1) / TS_SGEMM_MR * TS_SGEMM_MR;
    int64_t items = p->n * p->groups * p->ppi;
    (void)nth;
    /* Dynamic: each thread takes the next panel, so one slowed thread does not hold up the
     * rest; every panel writes its own output columns, so results do not depend on who. */
    for (int64_t item, end; ts_claim_chunk(&j->next, items, 1, &item, &end);) {
        int64_t img = item / (p->groups * p->ppi), g = item / p->ppi % p->groups, pan = item % p->ppi;
        int64_t p0 = pan * p->panel;
        int64_t np = p->ohw - p0 < p->panel ? p->ohw - p0 : p->panel;
        const float *xg = j->x + (img * p->cin + g * p->cin_g) * p->h * p->w;
        float *yt = j->y + (img * p->cout + g * p->cout_g) * p->ohw + p0;
        if (j->bias) {
            for (int64_t co = 0; co < p->cout_g; co++) {
                float bv = j->bias[g * p->cout_g + co];
                float *yr = yt + co * p->ohw;
                for (int64_t t = 0; t < np; t++) yr[t] = bv;
            }
        }
        const float *pa = j->scratch + g * p->pa_floats;
        for (int64_t pc = 0; pc < p->k; pc += TS_SGEMM_KC) {
            int64_t kc = p->k - pc < TS_SGEMM_KC ? p->k - pc : TS_SGEMM_KC;
            im2col_packed(p, xg, p0, np, pc, kc, col, rowbuf);
            for (int64_t ic = 0; ic < p->cout_g; ic += TS_SGEMM_MC) {
                int64_t mc = p->cout_g - ic < TS_SGEMM_MC ? p->cout_g - ic : TS_SGEMM_MC;
                j->macro(mc, np, kc, pa + pc * mround + ic * kc, col, yt + ic * p->ohw, p->ohw, j->bias != NULL || pc > 0);
            }
        }
    }
}

static int32_t conv_threads(const conv_plan *p) {
    int64_t flops;
    if (!mul_ok(p->n * p->cout, p->ohw, &flops) || !mul_ok(flops, p->k, &flops)) flops = (int64_t)1 << 60;
    return ts_threads_for(flops, 1 << 18);
}

int64_t ts_conv2d_scratch_bytes(int32_t w_type, int64_t n, int64_t cin, int64_t h, int64_t width, int64_t cout,
                                int64_t kh, int64_t kw, int32_t sh, int32_t sw, int32_t ph, int32_t pw, int32_t dh,
                                int32_t dw, int32_t groups) {
    if (ts_require_init("ts_conv2d_scratch_bytes")) return -1;
    conv_plan p;
    if (conv_plan_make(&p, w_type, n, cin, h, width, cout, kh, kw, sh, sw, ph, pw, dh, dw, groups)) return -1;
    int64_t bytes = w_type == TS_TYPE_F16 ? cout * p.k * (int64_t)sizeof(float) : 0;
    if (n == 0) return bytes;
    if (p.path == PATH_GEMM_1X1) return bytes + ts_sgemm_scratch_bytes(p.cout_g, p.ohw, p.k);
    if (p.path == PATH_DEPTHWISE) return bytes;
    if (p.path == PATH_PATCH) {
        int64_t np = patch_panel_pixels(&p);
        return bytes + round16(np * p.k) * (int64_t)sizeof(float) + ts_sgemm_scratch_bytes(p.cout_g, np, p.k);
    }
    int32_t nth = conv_threads(&p);
    conv_plan_panels(&p, nth);
    int64_t items = n * groups * p.ppi;
    if (nth > items) nth = (int32_t)items;
    return bytes + (p.shared + p.per_thread * nth) * (int64_t)sizeof(float);
}

int32_t ts_conv2d(float *y, const float *x, const void *w, int32_t w_type, const float *bias, int64_t n, int64_t cin,
                  int64_t h, int64_t width, int64_t cout, int64_t kh, int64_t kw, int32_t stride_h, int32_t stride_w,
                  int32_t pad_h, int32_t pad_w, int32_t dil_h, int32_t dil_w, int32_t groups) {
    int32_t st = ts_require_init("ts_conv2d");
    if (st) return st;
    conv_plan p;
    if ((st = conv_plan_make(&p, w_type, n, cin, h, width, cout, kh, kw, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w,
                             groups)))
        return st;
    if (n == 0) return TS_OK;
    if (y == NULL || x == NULL || w == NULL) return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_conv2d: null pointer");

    const struct ts_kernels *kern = ts_kernels_active();
    const float *wf = w;
    float *wconv = NULL;
    if (w_type == TS_TYPE_F16) {
        /* once per call: every path then reads F32 weights */
        size_t bytes = (size_t)(cout * p.k) * sizeof(float);
        wconv = malloc(bytes);
        if (wconv == NULL) return ts_set_error(TS_ERR_OUT_OF_MEMORY, "ts_conv2d: cannot allocate %zu bytes for F32 weights", bytes);
        kern->f16_to_f32(wconv, w, cout * p.k);
        wf = wconv;
    }

    conv_job job = {&p, y, x, wf, bias, NULL, 0, kern->sgemm_macro, kern->conv_dw_plane};
    if (p.path == PATH_DEPTHWISE) {
        int64_t planes = n * cout;
        int32_t nth = conv_threads(&p);
        if (nth > planes) nth = (int32_t)planes;
        ts_parallel(depthwise_task, &job, nth);
    } else if (p.path == PATH_GEMM_1X1) {
        for (int64_t img = 0; img < n && st == TS_OK; img++)
            for (int64_t g = 0; g < groups && st == TS_OK; g++) {
                float *yt = y + (img * cout + g * p.cout_g) * p.ohw;
                if (bias)
                    for (int64_t co = 0; co < p.cout_g; co++)
                        for (int64_t t = 0; t < p.ohw; t++) yt[co * p.ohw + t] = bias[g * p.cout_g + co];
                st = ts_sgemm(p.cout_g, p.ohw, p.k, wf + g * p.cout_g * p.k, p.k, x + (img * cin + g * p.cin_g) * p.ohw,
                              p.ohw, 0, yt, p.ohw, bias != NULL);
            }
    } else if (p.path == PATH_PATCH) {
        int64_t pmax = patch_panel_pixels(&p);
        size_t bytes = (size_t)round16(pmax * p.k) * sizeof(float);
        float *rows = aligned_alloc(64, bytes);
        if (rows == NULL) st = ts_set_error(TS_ERR_OUT_OF_MEMORY, "ts_conv2d: cannot allocate %zu bytes of scratch", bytes);
        for (int64_t img = 0; img < n && st == TS_OK; img++)
            for (int64_t g = 0; g < groups && st == TS_OK; g++)
                for (int64_t p0 = 0; p0 < p.ohw && st == TS_OK; p0 += pmax) {
                    int64_t np = p.ohw - p0 < pmax ? p.ohw - p0 : pmax;
                    float *yt = y + (img * cout + g * p.cout_g) * p.ohw + p0;
                    patch_panel(&p, x + (img * cin + g * p.cin_g) * h * width, p0, np, rows);
                    if (bias)
                        for (int64_t co = 0; co < p.cout_g; co++)
                            for (int64_t t = 0; t < np; t++) yt[co * p.ohw + t] = bias[g * p.cout_g + co];
                    st = ts_sgemm(p.cout_g, np, p.k, wf + g * p.cout_g * p.k, p.k, rows, p.k, 1, yt, p.ohw, bias != NULL);
                }
        free(rows);
    } else {
        int32_t nth = conv_threads(&p);
        conv_plan_panels(&p, nth);
        int64_t items = n * groups * p.ppi;
        if (nth > items) nth = (int32_t)items;
        size_t bytes = (size_t)(p.shared + p.per_thread * nth) * sizeof(float);
        job.scratch = aligned_alloc(64, bytes);
        if (job.scratch == NULL) {
            st = ts_set_error(TS_ERR_OUT_OF_MEMORY, "ts_conv2d: cannot allocate %zu bytes of scratch", bytes);
        } else {
            int64_t slices = groups * ceil_div(p.k, TS_SGEMM_KC);
            ts_parallel(pack_weights_task, &job, slices < nth ? (int32_t)slices : nth);
            ts_parallel(panel_task, &job, nth);
            free(job.scratch);
        }
    }
    free(wconv);
    return st;
}
