/*
 * ts_ops.c — element-wise ops, norms, activations, softmax, RoPE, upsampling, embeddings:
 * the public entry points (argument checks, threading over rows) and the scalar reference
 * row kernels of the kernel table.
 *
 * Determinism: each row (group, token, plane) is computed entirely by one thread with the
 * same code whatever the thread count, so results never depend on it.
 * Reference kernels accumulate reductions in double: they are the accuracy yardstick the
 * SIMD versions are tested against.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tessera.h"
#include "ts_convert.h"
#include "ts_core.h"
#include "ts_dispatch.h"
#include "ts_quants.h"
#include "ts_threadpool.h"

#define TS_OPS_PAR_MIN 16384 /* elements per thread below which splitting does not pay */
#define TS_OPS_CHUNK 256     /* F16 rows are converted through float buffers this long */

/* ---- scalar reference row kernels ------------------------------------------------------ */

static void rms_norm_row_ref(float *y, const float *x, const float *w, int64_t n, float eps) {
    double ss = 0;
    for (int64_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    const float r = (float)(1.0 / sqrt(ss / (double)n + (double)eps));
    for (int64_t i = 0; i < n; i++) {
        float v = x[i] * r;
        y[i] = w ? v * w[i] : v;
    }
}

static void layer_norm_row_ref(float *y, const float *x, const float *w, const float *b, int64_t n, float eps) {
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += x[i];
    const double mean = sum / (double)n;
    double var = 0; /* two passes: no cancellation for rows with a large mean */
    for (int64_t i = 0; i < n; i++) var += ((double)x[i] - mean) * ((double)x[i] - mean);
    const double r = 1.0 / sqrt(var / (double)n + (double)eps);
    for (int64_t i = 0; i < n; i++) {
        float v = (float)(((double)x[i] - mean) * r);
        if (w) v *= w[i];
        if (b) v += b[i];
        y[i] = v;
    }
}

static void softmax_row_ref(float *y, const float *x, const float *mask, int64_t n, float scale) {
    float mx = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        float v = x[i] * scale + (mask ? mask[i] : 0.0f);
        if (v > mx) mx = v;
    }
    if (mx == -INFINITY) { /* every entry masked out */
        for (int64_t i = 0; i < n; i++) y[i] = 0.0f;
        return;
    }
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        float e = expf(x[i] * scale + (mask ? mask[i] : 0.0f) - mx);
        y[i] = e;
        sum += e;
    }
    const float inv = (float)(1.0 / sum);
    for (int64_t i = 0; i < n; i++) y[i] *= inv;
}

static inline float gelu_ref(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }
static inline float gelu_tanh_ref(float x) {
    return 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
}
static inline float quick_gelu_ref(float x) { return x / (1.0f + expf(-1.702f * x)); }
static inline float silu_ref(float x) { return x / (1.0f + expf(-x)); }

#define TS_DEF_ACT(name, f)                                                              \
    static void name##_row_ref(float *y, const float *x, int64_t n) {                    \
        for (int64_t i = 0; i < n; i++) y[i] = f(x[i]);                                  \
    }                                                                                    \
    static void name##_glu_ref(float *y, const float *g, const float *u, int64_t n) {    \
        for (int64_t i = 0; i < n; i++) y[i] = f(g[i]) * u[i];                           \
    }
TS_DEF_ACT(gelu, gelu_ref)
TS_DEF_ACT(gelu_tanh, gelu_tanh_ref)
TS_DEF_ACT(quick_gelu, quick_gelu_ref)
TS_DEF_ACT(silu, silu_ref)

void ts_register_ops_scalar(struct ts_kernels *k, uint64_t cpu) {
    (void)cpu;
    k->rms_norm_row = rms_norm_row_ref;
    k->layer_norm_row = layer_norm_row_ref;
    k->softmax_row = softmax_row_ref;
    k->act_row[TS_ACT_GELU] = gelu_row_ref;
    k->act_row[TS_ACT_GELU_TANH] = gelu_tanh_row_ref;
    k->act_row[TS_ACT_QUICK_GELU] = quick_gelu_row_ref;
    k->act_row[TS_ACT_SILU] = silu_row_ref;
    k->glu_row[TS_ACT_GELU] = gelu_glu_ref;
    k->glu_row[TS_ACT_GELU_TANH] = gelu_tanh_glu_ref;
    k->glu_row[TS_ACT_QUICK_GELU] = quick_gelu_glu_ref;
    k->glu_row[TS_ACT_SILU] = silu_glu_ref;
}

/* ---- shared argument checks ------------------------------------------------------------ */

/* Rows x n with row strides: sizes non-negative, pointers present when there is work,
 * strides at least a row for more than one row (outputs) or non-negative (inputs). */
static int32_t check_rows(const char *fn, const void *y, int64_t y_stride, const void *x, int64_t x_stride,
                          int64_t rows, int64_t n, int64_t esize) {
    if (rows < 0 || n < 0)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "%s: rows=%lld and n=%lld must be >= 0", fn, (long long)rows,
                            (long long)n);
    if (rows == 0 || n == 0) return TS_OK;
    if (y == NULL || x == NULL) return ts_set_error(TS_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn, y ? "x" : "y");
    if (rows > 1 && y_stride < n * esize)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "%s: output row stride %lld bytes is less than a row (%lld bytes)",
                            fn, (long long)y_stride, (long long)(n * esize));
    if (x_stride < 0)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "%s: input row stride %lld is negative", fn, (long long)x_stride);
    return TS_OK;
}

static int32_t row_threads(int64_t rows, int64_t n) {
    int64_t min_rows = n >= TS_OPS_PAR_MIN ? 1 : (TS_OPS_PAR_MIN + n - 1) / (n > 0 ? n : 1);
    return ts_threads_for(rows, min_rows);
}

/* ---- norms ------------------------------------------------------------------------------ */

struct norm_job {
    float *y;
    const float *x, *w, *b;
    int64_t ys, xs, rows, n;
    float eps;
    int rms;
};

static void norm_task(void *ctx, int32_t ith, int32_t nth) {
    const struct norm_job *j = ctx;
    const struct ts_kernels *k = ts_kernels_active();
    int64_t r0, r1;
    ts_split_range(j->rows, 1, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        float *y = (float *)((char *)j->y + r * j->ys);
        const float *x = (const float *)((const char *)j->x + r * j->xs);
        if (j->rms) k->rms_norm_row(y, x, j->w, j->n, j->eps);
        else k->layer_norm_row(y, x, j->w, j->b, j->n, j->eps);
    }
}

static int32_t check_eps(const char *fn, float eps) {
    if (!(eps >= 0.0f) || isinf(eps))
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "%s: eps=%g must be finite and >= 0", fn, (double)eps);
    return TS_OK;
}

TS_API int32_t ts_layer_norm(float *y, int64_t y_stride, const float *x, int64_t x_stride, const float *weight,
                             const float *bias, int64_t rows, int64_t n, float eps) {
    int32_t st = ts_require_init("ts_layer_norm");
    if (!st) st = check_rows("ts_layer_norm", y, y_stride, x, x_stride, rows, n, 4);
    if (!st) st = check_eps("ts_layer_norm", eps);
    if (st || rows == 0 || n == 0) return st;
    struct norm_job j = {y, x, weight, bias, y_stride, x_stride, rows, n, eps, 0};
    ts_parallel(norm_task, &j, row_threads(rows, n));
    return TS_OK;
}

TS_API int32_t ts_rms_norm(float *y, int64_t y_stride, const float *x, int64_t x_stride, const float *weight,
                           int64_t rows, int64_t n, float eps) {
    int32_t st = ts_require_init("ts_rms_norm");
    if (!st) st = check_rows("ts_rms_norm", y, y_stride, x, x_stride, rows, n, 4);
    if (!st) st = check_eps("ts_rms_norm", eps);
    if (st || rows == 0 || n == 0) return st;
    struct norm_job j = {y, x, weight, NULL, y_stride, x_stride, rows, n, eps, 1};
    ts_parallel(norm_task, &j, row_threads(rows, n));
    return TS_OK;
}

struct group_job {
    float *y;
    const float *x, *w, *b;
    int64_t ys, xs, batch, hw, cpg;
    int32_t groups;
    float eps;
};

/* One (batch item, group) per unit: its cpg * hw floats are contiguous. Scalar only: the
 * UNet calls it a few dozen times per step, far from the matmuls' cost. */
static void group_task(void *ctx, int32_t ith, int32_t nth) {
    const struct group_job *j = ctx;
    int64_t u0, u1;
    ts_split_range(j->batch * j->groups, 1, ith, nth, &u0, &u1);
    const int64_t len = j->cpg * j->hw;
    for (int64_t u = u0; u < u1; u++) {
        const int64_t bi = u / j->groups, g = u % j->groups;
        const float *x = (const float *)((const char *)j->x + bi * j->xs) + g * len;
        float *y = (float *)((char *)j->y + bi * j->ys) + g * len;
        double sum = 0;
        for (int64_t i = 0; i < len; i++) sum += x[i];
        const double mean = sum / (double)len;
        double var = 0;
        for (int64_t i = 0; i < len; i++) var += ((double)x[i] - mean) * ((double)x[i] - mean);
        const double r = 1.0 / sqrt(var / (double)len + (double)j->eps);
        for (int64_t c = 0; c < j->cpg; c++) {
            const int64_t ch = g * j->cpg + c;
            const float wc = j->w ? j->w[ch] : 1.0f, bc = j->b ? j->b[ch] : 0.0f;
            const float *xc = x + c * j->hw;
            float *yc = y + c * j->hw;
            for (int64_t i = 0; i < j->hw; i++) yc[i] = (float)(((double)xc[i] - mean) * r) * wc + bc;
        }
    }
}

TS_API int32_t ts_group_norm(float *y, int64_t y_stride, const float *x, int64_t x_stride, const float *weight,
                             const float *bias, int64_t batch, int64_t channels, int64_t hw, int32_t groups, float eps) {
    int32_t st = ts_require_init("ts_group_norm");
    if (st) return st;
    if (channels < 0 || hw < 0)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_group_norm: channels=%lld and hw=%lld must be >= 0",
                            (long long)channels, (long long)hw);
    if (groups < 1 || channels % groups != 0)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_group_norm: groups=%d must be >= 1 and divide channels=%lld",
                            (int)groups, (long long)channels);
    st = check_rows("ts_group_norm", y, y_stride, x, x_stride, batch, channels * hw, 4);
    if (!st) st = check_eps("ts_group_norm", eps);
    if (st || batch == 0 || channels == 0 || hw == 0) return st;
    struct group_job j = {y, x, weight, bias, y_stride, x_stride, batch, hw, channels / groups, groups, eps};
    ts_parallel(group_task, &j, row_threads(batch * groups, channels / groups * hw));
    return TS_OK;
}

/* ---- activations and gated units --------------------------------------------------------- */

struct act_job {
    char *y;
    const char *x, *u; /* u: the `up` operand of a GLU, NULL for a plain activation */
    int64_t ys, xs, us, rows, n;
    int32_t type, act;
};

static void act_task(void *ctx, int32_t ith, int32_t nth) {
    const struct act_job *j = ctx;
    const struct ts_kernels *k = ts_kernels_active();
    int64_t r0, r1;
    ts_split_range(j->rows, 1, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        char *y = j->y + r * j->ys;
        const char *x = j->x + r * j->xs;
        const char *u = j->u ? j->u + r * j->us : NULL;
        if (j->type == TS_TYPE_F32) {
            if (u) k->glu_row[j->act]((float *)y, (const float *)x, (const float *)u, j->n);
            else k->act_row[j->act]((float *)y, (const float *)x, j->n);
            continue;
        }
        /* F16: through float buffers, one rounding at the end. */
        float xb[TS_OPS_CHUNK], ub[TS_OPS_CHUNK], yb[TS_OPS_CHUNK];
        for (int64_t i = 0; i < j->n; i += TS_OPS_CHUNK) {
            int64_t m = j->n - i < TS_OPS_CHUNK ? j->n - i : TS_OPS_CHUNK;
            ts_convert_row(xb, TS_TYPE_F32, x + 2 * i, TS_TYPE_F16, m);
            if (u) {
                ts_convert_row(ub, TS_TYPE_F32, u + 2 * i, TS_TYPE_F16, m);
                k->glu_row[j->act](yb, xb, ub, m);
            } else {
                k->act_row[j->act](yb, xb, m);
            }
            ts_convert_row(y + 2 * i, TS_TYPE_F16, yb, TS_TYPE_F32, m);
        }
    }
}

static int32_t check_act(const char *fn, int32_t type, int32_t act) {
    if (type != TS_TYPE_F32 && type != TS_TYPE_F16)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "%s: type %d not supported (F32=0, F16=1)", fn, (int)type);
    if (act < 0 || act >= TS_ACT_KINDS)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "%s: unknown activation %d", fn, (int)act);
    return TS_OK;
}

TS_API int32_t ts_activation(void *y, int64_t y_stride, const void *x, int64_t x_stride, int32_t type, int32_t act,
                             int64_t rows, int64_t n) {
    int32_t st = ts_require_init("ts_activation");
    if (!st) st = check_act("ts_activation", type, act);
    if (!st) st = check_rows("ts_activation", y, y_stride, x, x_stride, rows, n, type == TS_TYPE_F32 ? 4 : 2);
    if (st || rows == 0 || n == 0) return st;
    struct act_job j = {y, x, NULL, y_stride, x_stride, 0, rows, n, type, act};
    ts_parallel(act_task, &j, row_threads(rows, n));
    return TS_OK;
}

TS_API int32_t ts_glu(void *y, int64_t y_stride, const void *gate, int64_t gate_stride, const void *up, int64_t up_stride,
                      int32_t type, int32_t act, int64_t rows, int64_t n) {
    int32_t st = ts_require_init("ts_glu");
    if (!st) st = check_act("ts_glu", type, act);
    if (!st) st = check_rows("ts_glu", y, y_stride, gate, gate_stride, rows, n, type == TS_TYPE_F32 ? 4 : 2);
    if (!st) st = check_rows("ts_glu", y, y_stride, up, up_stride, rows, n, type == TS_TYPE_F32 ? 4 : 2);
    if (st || rows == 0 || n == 0) return st;
    struct act_job j = {y, gate, up, y_stride, gate_stride, up_stride, rows, n, type, act};
    ts_parallel(act_task, &j, row_threads(rows, n));
    return TS_OK;
}

/* ---- softmax ------------------------------------------------------------------------------ */

struct softmax_job {
    float *y;
    const float *x, *mask;
    int64_t ys, xs, ms, mrows, rows, n;
    float scale;
};

static void softmax_task(void *ctx, int32_t ith, int32_t nth) {
    const struct softmax_job *j = ctx;
    const struct ts_kernels *k = ts_kernels_active();
    int64_t r0, r1;
    ts_split_range(j->rows, 1, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const float *m = j->mask ? (const float *)((const char *)j->mask + (r % j->mrows) * j->ms) : NULL;
        k->softmax_row((float *)((char *)j->y + r * j->ys), (const float *)((const char *)j->x + r * j->xs), m, j->n,
                       j->scale);
    }
}

TS_API int32_t ts_softmax(float *y, int64_t y_stride, const float *x, int64_t x_stride, const float *mask,
                          int64_t mask_stride, int64_t mask_rows, int64_t rows, int64_t n, float scale) {
    int32_t st = ts_require_init("ts_softmax");
    if (!st) st = check_rows("ts_softmax", y, y_stride, x, x_stride, rows, n, 4);
    if (st || rows == 0 || n == 0) return st;
    if (!isfinite(scale))
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_softmax: scale=%g is not finite", (double)scale);
    if (mask && (mask_rows < 1 || mask_stride < 0))
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_softmax: mask_rows=%lld must be >= 1, mask_stride=%lld >= 0",
                            (long long)mask_rows, (long long)mask_stride);
    struct softmax_job j = {y, x, mask, y_stride, x_stride, mask_stride, mask ? mask_rows : 1, rows, n, scale};
    ts_parallel(softmax_task, &j, row_threads(rows, n));
    return TS_OK;
}

/* ---- RoPE --------------------------------------------------------------------------------- */

struct rope_job {
    float *y;
    const float *x;
    const int32_t *pos;
    const double *inv_freq; /* n_dims/2 entries: base^(-2i/n_dims) */
    int64_t yts, yhs, xts, xhs, tokens, heads, head_dim;
    int32_t n_dims, mode;
};

static void rope_task(void *ctx, int32_t ith, int32_t nth) {
    const struct rope_job *j = ctx;
    int64_t t0, t1;
    ts_split_range(j->tokens, 1, ith, nth, &t0, &t1);
    const int64_t half = j->n_dims / 2;
    /* NORM pairs (2i, 2i+1); NEOX pairs (i, i + half). */
    const int64_t step = j->mode == TS_ROPE_NEOX ? 1 : 2, other = j->mode == TS_ROPE_NEOX ? half : 1;
    for (int64_t t = t0; t < t1; t++) {
        const double p = (double)j->pos[t];
        for (int64_t i = 0; i < half; i++) {
            const double theta = p * j->inv_freq[i];
            const float c = (float)cos(theta), s = (float)sin(theta);
            const int64_t a = i * step, b = a + other;
            for (int64_t h = 0; h < j->heads; h++) {
                const float *x = (const float *)((const char *)j->x + t * j->xts + h * j->xhs);
                float *y = (float *)((char *)j->y + t * j->yts + h * j->yhs);
                const float x0 = x[a], x1 = x[b];
                y[a] = x0 * c - x1 * s;
                y[b] = x0 * s + x1 * c;
            }
        }
        if (j->n_dims < j->head_dim) {
            for (int64_t h = 0; h < j->heads; h++) {
                const float *x = (const float *)((const char *)j->x + t * j->xts + h * j->xhs);
                float *y = (float *)((char *)j->y + t * j->yts + h * j->yhs);
                if (x != y) memmove(y + j->n_dims, x + j->n_dims, (size_t)(j->head_dim - j->n_dims) * 4);
            }
        }
    }
}

TS_API int32_t ts_rope(float *y, int64_t y_token_stride, int64_t y_head_stride, const float *x, int64_t x_token_stride,
                       int64_t x_head_stride, const int32_t *pos, int64_t tokens, int64_t heads, int64_t head_dim,
                       int32_t n_dims, int32_t mode, float freq_base) {
    int32_t st = ts_require_init("ts_rope");
    if (st) return st;
    if (tokens < 0 || heads < 0 || head_dim < 0)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_rope: tokens=%lld, heads=%lld, head_dim=%lld must be >= 0",
                            (long long)tokens, (long long)heads, (long long)head_dim);
    if (mode != TS_ROPE_NORM && mode != TS_ROPE_NEOX)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_rope: mode %d is neither TS_ROPE_NORM (0) nor TS_ROPE_NEOX (2)",
                            (int)mode);
    if (n_dims < 0 || n_dims % 2 != 0 || n_dims > head_dim)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_rope: n_dims=%d must be even and in [0, head_dim=%lld]",
                            (int)n_dims, (long long)head_dim);
    if (!(freq_base > 0.0f) || isinf(freq_base))
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_rope: freq_base=%g must be finite and > 0", (double)freq_base);
    if (tokens == 0 || heads == 0 || head_dim == 0) return TS_OK;
    if (y == NULL || x == NULL || pos == NULL)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_rope: %s is NULL", y == NULL ? "y" : x == NULL ? "x" : "pos");
    if (x_token_stride < 0 || x_head_stride < 0 || y_token_stride < 0 || y_head_stride < 0)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_rope: strides must be >= 0");
    double *inv = malloc(sizeof(double) * (size_t)(n_dims / 2 + 1));
    if (inv == NULL) return ts_set_error(TS_ERR_OUT_OF_MEMORY, "ts_rope: no memory for %d frequencies", (int)n_dims / 2);
    for (int32_t i = 0; i < n_dims / 2; i++) inv[i] = pow((double)freq_base, -2.0 * i / (double)n_dims);
    struct rope_job j = {y,      x,       pos,           inv,   y_token_stride, y_head_stride, x_token_stride,
                         x_head_stride, tokens, heads, head_dim, n_dims, mode};
    ts_parallel(rope_task, &j, row_threads(tokens, heads * head_dim));
    free(inv);
    return TS_OK;
}

/* ---- upsampling, binary ops, scale ---------------------------------------------------------- */

struct up_job {
    float *y;
    const float *x;
    int64_t planes, h, w;
};

static void upsample_task(void *ctx, int32_t ith, int32_t nth) {
    const struct up_job *j = ctx;
    int64_t p0, p1;
    ts_split_range(j->planes, 1, ith, nth, &p0, &p1);
    for (int64_t p = p0; p < p1; p++) {
        const float *x = j->x + p * j->h * j->w;
        float *y = j->y + p * 4 * j->h * j->w;
        for (int64_t r = 0; r < j->h; r++) {
            float *y0 = y + 2 * r * 2 * j->w;
            for (int64_t c = 0; c < j->w; c++) y0[2 * c] = y0[2 * c + 1] = x[r * j->w + c];
            memcpy(y0 + 2 * j->w, y0, (size_t)(2 * j->w) * 4);
        }
    }
}

TS_API int32_t ts_upsample_nearest2x(float *y, const float *x, int64_t planes, int64_t h, int64_t w) {
    int32_t st = ts_require_init("ts_upsample_nearest2x");
    if (st) return st;
    if (planes < 0 || h < 0 || w < 0)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_upsample_nearest2x: negative size");
    if (planes == 0 || h == 0 || w == 0) return TS_OK;
    if (y == NULL || x == NULL) return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_upsample_nearest2x: NULL pointer");
    struct up_job j = {y, x, planes, h, w};
    ts_parallel(upsample_task, &j, row_threads(planes, 4 * h * w));
    return TS_OK;
}

struct bin_job {
    char *y;
    const char *a, *b;
    int64_t shape[4], ys[4], as[4], bs[4];
    int32_t op;
};

/* Rows are the first three dims (padded to rank 4 with size-1 dims); the last is a loop. */
static void binary_task(void *ctx, int32_t ith, int32_t nth) {
    const struct bin_job *j = ctx;
    int64_t r0, r1;
    ts_split_range(j->shape[0] * j->shape[1] * j->shape[2], 1, ith, nth, &r0, &r1);
    const int64_t n = j->shape[3];
    for (int64_t r = r0; r < r1; r++) {
        const int64_t i2 = r % j->shape[2], i1 = r / j->shape[2] % j->shape[1], i0 = r / j->shape[2] / j->shape[1];
        char *y = j->y + i0 * j->ys[0] + i1 * j->ys[1] + i2 * j->ys[2];
        const char *a = j->a + i0 * j->as[0] + i1 * j->as[1] + i2 * j->as[2];
        const char *b = j->b + i0 * j->bs[0] + i1 * j->bs[1] + i2 * j->bs[2];
        if (j->ys[3] == 4 && j->as[3] == 4 && j->bs[3] == 4) { /* contiguous: vectorisable */
            float *yf = (float *)y;
            const float *af = (const float *)a, *bf = (const float *)b;
            if (j->op == TS_BINARY_ADD) for (int64_t i = 0; i < n; i++) yf[i] = af[i] + bf[i];
            else for (int64_t i = 0; i < n; i++) yf[i] = af[i] * bf[i];
            continue;
        }
        for (int64_t i = 0; i < n; i++) {
            float av, bv, yv;
            memcpy(&av, a + i * j->as[3], 4);
            memcpy(&bv, b + i * j->bs[3], 4);
            yv = j->op == TS_BINARY_ADD ? av + bv : av * bv;
            memcpy(y + i * j->ys[3], &yv, 4);
        }
    }
}

TS_API int32_t ts_binary(float *y, const int64_t *y_strides, const float *a, const int64_t *a_strides, const float *b,
                         const int64_t *b_strides, const int64_t *shape, int32_t ndim, int32_t op) {
    int32_t st = ts_require_init("ts_binary");
    if (st) return st;
    if (op != TS_BINARY_ADD && op != TS_BINARY_MUL)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_binary: unknown op %d", (int)op);
    if (ndim < 0 || ndim > 4) return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_binary: ndim=%d not in [0, 4]", (int)ndim);
    if (ndim > 0 && (shape == NULL || y_strides == NULL || a_strides == NULL || b_strides == NULL))
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_binary: shape or strides NULL");
    struct bin_job j;
    memset(&j, 0, sizeof j);
    int64_t total = 1;
    const int pad = 4 - ndim;
    for (int d = 0; d < 4; d++) {
        if (d < pad) {
            j.shape[d] = 1;
            continue;
        }
        int k = d - pad;
        if (shape[k] < 0) return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_binary: shape[%d] is negative", k);
        j.shape[d] = shape[k];
        j.ys[d] = y_strides[k];
        j.as[d] = a_strides[k];
        j.bs[d] = b_strides[k];
        total *= shape[k];
    }
    if (total == 0) return TS_OK;
    if (y == NULL || a == NULL || b == NULL) return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_binary: NULL operand");
    j.y = (char *)y;
    j.a = (const char *)a;
    j.b = (const char *)b;
    j.op = op;
    if (pad == 4) j.ys[3] = j.as[3] = j.bs[3] = 4;
    ts_parallel(binary_task, &j, row_threads(j.shape[0] * j.shape[1] * j.shape[2], j.shape[3]));
    return TS_OK;
}

struct scale_job {
    float *y;
    const float *x;
    int64_t ys, xs, rows, n;
    float s, b;
};

static void scale_task(void *ctx, int32_t ith, int32_t nth) {
    const struct scale_job *j = ctx;
    int64_t r0, r1;
    ts_split_range(j->rows, 1, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        float *y = (float *)((char *)j->y + r * j->ys);
        const float *x = (const float *)((const char *)j->x + r * j->xs);
        for (int64_t i = 0; i < j->n; i++) y[i] = x[i] * j->s + j->b;
    }
}

TS_API int32_t ts_scale(float *y, int64_t y_stride, const float *x, int64_t x_stride, int64_t rows, int64_t n, float s,
                        float b) {
    int32_t st = ts_require_init("ts_scale");
    if (!st) st = check_rows("ts_scale", y, y_stride, x, x_stride, rows, n, 4);
    if (st || rows == 0 || n == 0) return st;
    struct scale_job j = {y, x, y_stride, x_stride, rows, n, s, b};
    ts_parallel(scale_task, &j, row_threads(rows, n));
    return TS_OK;
}

/* ---- embeddings ------------------------------------------------------------------------------- */

struct rows_job {
    float *y;
    const char *table;
    const int32_t *ids;
    int64_t ys, ts, n, n_ids;
    int32_t type;
    ts_dequantize_row_fn deq; /* NULL for F32/F16/BF16 (converted with the active kernels) */
};

static void get_rows_task(void *ctx, int32_t ith, int32_t nth) {
    const struct rows_job *j = ctx;
    int64_t r0, r1;
    ts_split_range(j->n_ids, 1, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        float *y = (float *)((char *)j->y + r * j->ys);
        const char *src = j->table + (int64_t)j->ids[r] * j->ts;
        if (j->deq) j->deq(src, y, j->n);
        else ts_convert_row(y, TS_TYPE_F32, src, j->type, j->n);
    }
}

TS_API int32_t ts_get_rows(float *y, int64_t y_stride, const void *table, int32_t type, int64_t table_stride,
                           int64_t n_table, int64_t n, const int32_t *ids, int64_t n_ids) {
    int32_t st = ts_require_init("ts_get_rows");
    if (st) return st;
    if (n_table < 0 || n < 0 || n_ids < 0)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_get_rows: n_table=%lld, n=%lld, n_ids=%lld must be >= 0",
                            (long long)n_table, (long long)n, (long long)n_ids);
    struct rows_job j = {y, table, ids, y_stride, table_stride, n, n_ids, type, NULL};
    int64_t row_bytes;
    if (ts_convert_type_size(type)) {
        row_bytes = n * ts_convert_type_size(type);
    } else {
        const ts_type_traits *t = ts_get_type_traits(type);
        if (t == NULL || t->dequantize == NULL)
            return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_get_rows: table type %d cannot be dequantized", (int)type);
        if (n % t->blck_size != 0)
            return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_get_rows: row length %lld is not a multiple of %s's block %lld",
                                (long long)n, t->name, (long long)t->blck_size);
        j.deq = t->dequantize;
        row_bytes = (int64_t)ts_qtype_row_size(type, n);
    }
    if (n_ids == 0 || n == 0) return TS_OK;
    if (y == NULL || table == NULL || ids == NULL)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_get_rows: NULL pointer");
    if (n_ids > 1 && y_stride < n * 4)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_get_rows: output row stride %lld is less than a row",
                            (long long)y_stride);
    if (n_table > 1 && table_stride < row_bytes)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_get_rows: table row stride %lld is less than a row (%lld bytes)",
                            (long long)table_stride, (long long)row_bytes);
    /* Every id before any write: a bad id leaves y untouched. */
    for (int64_t r = 0; r < n_ids; r++)
        if (ids[r] < 0 || ids[r] >= n_table)
            return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_get_rows: ids[%lld]=%d is out of range [0, %lld)",
                                (long long)r, (int)ids[r], (long long)n_table);
    ts_parallel(get_rows_task, &j, row_threads(n_ids, n));
    return TS_OK;
}

/* ---- timestep embedding -------------------------------------------------------------------- */

TS_API int32_t ts_timestep_embedding(float *y, const float *timesteps, int64_t n, int32_t dim, int32_t flip_sin_to_cos,
                                     float downscale_freq_shift, float scale, float max_period) {
    int32_t st = ts_require_init("ts_timestep_embedding");
    if (st) return st;
    if (n < 0 || dim < 2)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_timestep_embedding: n=%lld must be >= 0 and dim=%d >= 2",
                            (long long)n, (int)dim);
    const int32_t half = dim / 2;
    if (!((float)half - downscale_freq_shift != 0.0f) || !(max_period > 0.0f))
        return ts_set_error(TS_ERR_INVALID_ARGUMENT,
                            "ts_timestep_embedding: half - downscale_freq_shift must be non-zero and max_period > 0");
    if (n == 0) return TS_OK;
    if (y == NULL || timesteps == NULL) return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_timestep_embedding: NULL pointer");
    /* The float32 steps of diffusers: exponent = -ln(max_period) * i / (half - shift), then
     * exp, times t, times scale; sin/cos of that float argument. */
    const float neg_log = -logf(max_period), denom = (float)half - downscale_freq_shift;
    for (int64_t r = 0; r < n; r++) {
        float *row = y + r * dim;
        for (int32_t i = 0; i < half; i++) {
            const float e = neg_log * (float)i / denom;
            const float arg = scale * (timesteps[r] * expf(e));
            const float sv = (float)sin((double)arg), cv = (float)cos((double)arg);
            row[i] = flip_sin_to_cos ? cv : sv;
            row[half + i] = flip_sin_to_cos ? sv : cv;
        }
        if (dim % 2) row[dim - 1] = 0.0f;
    }
    return TS_OK;
}
