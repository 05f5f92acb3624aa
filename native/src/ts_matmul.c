/*
 * ts_matmul.c — quantize/dequantize entry points and the matmul driver.
 *
 * Y = W·Xᵀ row by row: X is converted once per call into the activation type W pairs with
 * (as ggml pairs them), then the threads claim chunks of W's rows from a shared counter
 * (ts_claim_chunk: on a shared machine a static split waits for its slowest thread) and run
 * the type's dot product over all of X's rows for each chunk. The dot products come from the
 * kernel table of the active level.
 *
 * From the level's sgemm_min_m[w] columns on (ts_dispatch.h: float weights from M = 8 on every
 * level; quantized weights where the level's int8 arithmetic is no faster than its FP32 FMAs),
 * W is widened to F32 block by block into the packed panels of the F32 SGEMM (ts_sgemm.h)
 * and multiplied with X as it is (no rounding of the activations there).
 *
 * For a weight type with a gemm tile (ts_dispatch.h; Q8_0, Q4_0 and F16 today), each chunk of
 * W's rows instead walks X in blocks of TS_GEMM_COLS columns through the register tiles, so
 * a weight block loaded into registers serves several columns.
 */
#include <stdlib.h>
#include <string.h>

#include "tessera.h"
#include "ts_core.h"
#include "ts_dispatch.h"
#include "ts_quants.h"
#include "ts_sgemm.h"
#include "ts_threadpool.h"

/* Looks up the traits of `type` and checks the row length against its block size. */
static int32_t checked_traits(int32_t type, int64_t n_per_row, const char *fn, const ts_type_traits **out) {
    const ts_type_traits *t = ts_get_type_traits(type);
    if (t == NULL || t->dequantize == NULL)
        return ts_set_error(TS_ERR_UNSUPPORTED, "%s: type id %d is not supported", fn, (int)type);
    if (n_per_row <= 0 || n_per_row % t->blck_size != 0)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "%s: row length %lld is not a positive multiple of %s's block size %d",
                            fn, (long long)n_per_row, t->name, (int)t->blck_size);
    *out = t;
    return TS_OK;
}

int32_t ts_quantize(void *dst, int32_t type, const float *src, int64_t rows, int64_t n_per_row) {
    int32_t st = ts_require_init("ts_quantize");
    if (st) return st;
    const ts_type_traits *t = NULL;
    if ((st = checked_traits(type, n_per_row, "ts_quantize", &t))) return st;
    if (t->quantize == NULL) return ts_set_error(TS_ERR_UNSUPPORTED, "ts_quantize: no quantizer for %s", t->name);
    if (rows < 0 || (rows > 0 && (dst == NULL || src == NULL)))
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_quantize: bad rows %lld or null pointer", (long long)rows);
    size_t row_bytes = ts_qtype_row_size(type, n_per_row);
    for (int64_t r = 0; r < rows; r++) t->quantize(src + r * n_per_row, (char *)dst + r * row_bytes, n_per_row);
    return TS_OK;
}

int32_t ts_dequantize(float *dst, const void *src, int32_t type, int64_t rows, int64_t n_per_row) {
    int32_t st = ts_require_init("ts_dequantize");
    if (st) return st;
    const ts_type_traits *t = NULL;
    if ((st = checked_traits(type, n_per_row, "ts_dequantize", &t))) return st;
    if (rows < 0 || (rows > 0 && (dst == NULL || src == NULL)))
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_dequantize: bad rows %lld or null pointer", (long long)rows);
    size_t row_bytes = ts_qtype_row_size(type, n_per_row);
    for (int64_t r = 0; r < rows; r++) t->dequantize((const char *)src + r * row_bytes, dst + r * n_per_row, n_per_row);
    return TS_OK;
}

typedef struct {
    float *y;
    int64_t y_stride;
    const char *w;
    int64_t w_stride;
    const char *xq; /* X in the activation type, rows packed */
    size_t xq_row;
    int64_t n, k, m;
    ts_vec_dot_fn dot;
    int64_t chunk_rows;
    _Atomic int64_t next_row; /* ts_claim_chunk's counter */
} matmul_job;

/* W rows per claimed chunk: about per_thread chunks per thread, so a delayed thread's share
 * can move to the others, rounded up to a multiple of `multiple` rows. */
static int64_t chunk_rows(int64_t n, int32_t nth, int64_t per_thread, int64_t multiple) {
    const int64_t chunks = per_thread * nth, rows = (n + chunks - 1) / chunks;
    return (rows + multiple - 1) / multiple * multiple;
}
/* The row-parallel dot and tile paths: 16 chunks per thread, each still one long stream of
 * weights for the prefetchers, of a multiple of 48 rows (16 floats, a line of y, and the
 * tiles' 3, 4 and 8 rows). */
#define TS_ROWS_PER_CHUNK_THREAD 16
#define TS_ROWS_CHUNK_MULTIPLE 48

static void matmul_task(void *ctx, int32_t ith, int32_t nth) {
    (void)ith, (void)nth;
    matmul_job *j = ctx;
    int64_t n0, n1;
    while (ts_claim_chunk(&j->next_row, j->n, j->chunk_rows, &n0, &n1)) {
        for (int64_t r = n0; r < n1; r++) {
            const char *wr = j->w + r * j->w_stride;
            for (int64_t c = 0; c < j->m; c++) {
                float *yr = (float *)((char *)j->y + c * j->y_stride);
                yr[r] = j->dot(j->k, wr, j->xq + (size_t)c * j->xq_row);
            }
        }
    }
}

/* Smallest M that takes the tile path: every M. The tiles switch to a several-row x
 * 1-column kernel for blocks of fewer than 3 columns, which beats the per-row dots even at
 * M = 1 (measured with 4 rows, 1 thread, weights in cache: Q4_0 12.0 vs 7.9 GB/s of
 * weights, Q8_0 ~39 vs ~31 GFLOP/s), because the rows share each activation block and
 * Q4_0 drops the sign trick.
 * At M >= 4 the 3x4 register tile is about 1.2-1.4x (Q8_0) and 2x (Q4_0) the per-row dots. */
#define TS_GEMM_MIN_M 1
/* Activation columns per cache block (a multiple of the 4-column register tile): 64 Q8_0
 * rows of K = 4096 are 272 KiB (L2-sized). Under this machine's load 6..60 columns timed
 * the same (the kernel is compute-bound at these sizes). */
#define TS_GEMM_COLS 64

typedef struct {
    float *y;
    int64_t y_stride;
    const char *w;
    int64_t w_stride;
    const char *xq;
    size_t xq_row;
    int64_t n, k, m;
    void (*gemm)(int64_t k, const void *w, int64_t w_stride, const void *a, int64_t a_stride, float *y,
                 int64_t y_stride, int64_t nr, int64_t nc);
    int64_t chunk_rows;
    _Atomic int64_t next_row;
} gemm_job;

static void gemm_task(void *ctx, int32_t ith, int32_t nth) {
    (void)ith, (void)nth;
    gemm_job *j = ctx;
    int64_t n0, n1;
    while (ts_claim_chunk(&j->next_row, j->n, j->chunk_rows, &n0, &n1)) {
        for (int64_t c0 = 0; c0 < j->m; c0 += TS_GEMM_COLS) {
            int64_t nc = j->m - c0 < TS_GEMM_COLS ? j->m - c0 : TS_GEMM_COLS;
            float *yb = (float *)((char *)j->y + c0 * j->y_stride) + n0;
            j->gemm(j->k, j->w + n0 * j->w_stride, j->w_stride, j->xq + (size_t)c0 * j->xq_row, (int64_t)j->xq_row, yb,
                    j->y_stride, n1 - n0, nc);
        }
    }
}

/* W rows per packed B block of the widened path: a KC x 256 block of F32 (256 KiB) stays in
 * L2 beside the MC x KC block of X it meets. */
#define TS_WIDE_NC 256

typedef struct {
    float *y;
    int64_t ldy; /* floats */
    const char *w;
    int64_t w_stride, n, k, m;
    int32_t w_type;
    const float *x;
    int64_t ldx; /* floats */
    float *pa;   /* X packed whole (ts_sgemm.h layout), shared */
    float *scratch;
    int64_t scratch_per_thread;
    int64_t chunk_rows; /* W rows per claimed chunk, a multiple of NR, at most TS_WIDE_NC */
    _Atomic int64_t next_row;
} wide_job;

static int64_t round_up(int64_t v, int64_t to) { return (v + to - 1) / to * to; }

/* X's KC-deep slices packed into the shared whole-A layout, slices dealt round-robin. */
static void wide_pack_x_task(void *ctx, int32_t ith, int32_t nth) {
    const wide_job *j = ctx;
    const int64_t mround = round_up(j->m, TS_SGEMM_MR);
    int64_t slice = 0;
    for (int64_t pc = 0; pc < j->k; pc += TS_SGEMM_KC, slice++) {
        if (slice % nth != ith) continue;
        int64_t kc = j->k - pc < TS_SGEMM_KC ? j->k - pc : TS_SGEMM_KC;
        ts_sgemm_pack_a_block(j->m, kc, j->x + pc, j->ldx, j->pa + pc * mround);
    }
}

/* Elements [pc, pc + kc) of W rows [0, nc) (from row0), widened to F32 into the packed B
 * layout of ts_sgemm.h: NR rows at a time are converted into tmp ([NR x kc]), then transposed
 * into their micro-panel by the level's panel packer. */
static void wide_pack_w(const struct ts_kernels *kern, const wide_job *j, int64_t row0, int64_t nc, int64_t pc, int64_t kc,
                        float *pb, float *tmp) {
    const size_t off = ts_qtype_row_size(j->w_type, pc); /* pc is a multiple of the block size */
    for (int64_t jr = 0; jr < nc; jr += TS_SGEMM_NR, pb += kc * TS_SGEMM_NR) {
        const int64_t nr = nc - jr < TS_SGEMM_NR ? nc - jr : TS_SGEMM_NR;
        for (int64_t r = 0; r < nr; r++) {
            const void *src = j->w + (row0 + jr + r) * j->w_stride + off;
            float *dst = tmp + r * kc;
            if (j->w_type == TS_TYPE_F16) kern->f16_to_f32(dst, src, kc);
            else if (j->w_type == TS_TYPE_BF16) kern->bf16_to_f32(dst, src, kc);
            else kern->dequantize_row[j->w_type](src, dst, kc);
        }
        kern->sgemm_pack_bt_panel(kc, tmp, kc, nr, pb);
    }
}

/* W rows a chunk at a time: per KC slice, widen the chunk's block once, then run the level's
 * macro kernel over every MC block of the packed X. */
static void wide_task(void *ctx, int32_t ith, int32_t nth) {
    (void)nth;
    wide_job *j = ctx;
    const struct ts_kernels *kern = ts_kernels_active();
    float *pb = j->scratch + ith * j->scratch_per_thread; /* 64-byte aligned */
    float *tmp = pb + TS_SGEMM_KC * TS_WIDE_NC;
    const int64_t mround = round_up(j->m, TS_SGEMM_MR);
    int64_t jc, jc_end;
    while (ts_claim_chunk(&j->next_row, j->n, j->chunk_rows, &jc, &jc_end)) {
        int64_t nc = jc_end - jc;
        for (int64_t pc = 0; pc < j->k; pc += TS_SGEMM_KC) {
            int64_t kc = j->k - pc < TS_SGEMM_KC ? j->k - pc : TS_SGEMM_KC;
            wide_pack_w(kern, j, jc, nc, pc, kc, pb, tmp);
            for (int64_t ic = 0; ic < j->m; ic += TS_SGEMM_MC) {
                int64_t mc = j->m - ic < TS_SGEMM_MC ? j->m - ic : TS_SGEMM_MC;
                kern->sgemm_macro(mc, nc, kc, j->pa + pc * mround + ic * kc, pb, j->y + ic * j->ldy + jc, j->ldy, pc > 0);
            }
        }
    }
}

/* M >= the level's sgemm_min_m[w_type]: the F32 SGEMM on X as it is. F32 weights go straight
 * in; other types are widened to F32 block by block inside the product (never a whole F32
 * copy of W), each W element once per call, while X is packed once and shared (scratch: one
 * packed copy of X plus 272 KiB per thread). */
static int32_t matmul_sgemm(float *y, int64_t y_stride, const void *w, int32_t w_type, int64_t w_stride, const float *x,
                            int64_t x_stride, int64_t n, int64_t k, int64_t m) {
    if (w_type == TS_TYPE_F32 && w_stride % 4 == 0 && (uintptr_t)w % 4 == 0)
        return ts_sgemm(m, n, k, x, x_stride / 4, w, w_stride / 4, 1, y, y_stride / 4, 0);
    const int64_t pa_floats = ts_sgemm_packed_a_floats(m, k);
    const int64_t per_thread = round_up(TS_SGEMM_KC * TS_WIDE_NC + TS_SGEMM_NR * TS_SGEMM_KC, 16);
    int32_t nth = ts_threads_for(n * m * k, 1 << 18);
    const int64_t max_nth = (n + TS_SGEMM_NR - 1) / TS_SGEMM_NR;
    if (nth > max_nth) nth = (int32_t)max_nth;
    /* About four chunks per thread of whole NR panels, at most a TS_WIDE_NC block. */
    int64_t rows = chunk_rows(n, nth, 4, TS_SGEMM_NR);
    if (rows > TS_WIDE_NC) rows = TS_WIDE_NC;
    const size_t bytes = (size_t)(round_up(pa_floats, 16) + per_thread * nth) * sizeof(float);
    float *buf = aligned_alloc(64, bytes);
    if (buf == NULL) return ts_set_error(TS_ERR_OUT_OF_MEMORY, "ts_matmul: cannot allocate %zu bytes of packing scratch", bytes);
    wide_job job = {y, y_stride / 4, w, w_stride, n, k, m, w_type, x, x_stride / 4, buf, buf + round_up(pa_floats, 16), per_thread,
                    rows, 0};
    ts_parallel(wide_pack_x_task, &job, nth);
    ts_parallel(wide_task, &job, nth);
    free(buf);
    return TS_OK;
}

int32_t ts_matmul(float *y, int64_t y_stride, const void *w, int32_t w_type, int64_t w_stride, const float *x,
                  int64_t x_stride, int64_t n, int64_t k, int64_t m) {
    int32_t st = ts_require_init("ts_matmul");
    if (st) return st;
    const ts_type_traits *t = NULL;
    if ((st = checked_traits(w_type, k, "ts_matmul", &t))) return st;
    if (t->vec_dot == NULL) return ts_set_error(TS_ERR_UNSUPPORTED, "ts_matmul: %s is an activation-only type", t->name);
    if (n < 0 || m < 0) return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_matmul: negative n %lld or m %lld", (long long)n, (long long)m);
    if (n == 0 || m == 0) return TS_OK;
    if (y == NULL || w == NULL || x == NULL) return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_matmul: null pointer");
    size_t w_row = ts_qtype_row_size(w_type, k);
    if (w_stride < (int64_t)w_row || x_stride < k * 4 || y_stride < n * 4)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_matmul: row strides (w %lld, x %lld, y %lld) shorter than the rows",
                            (long long)w_stride, (long long)x_stride, (long long)y_stride);

    const struct ts_kernels *kern = ts_kernels_active();
    const int64_t sgemm_m = kern->sgemm_min_m[w_type];
    if (sgemm_m > 0 && m >= sgemm_m && x_stride % 4 == 0 && y_stride % 4 == 0 && ((uintptr_t)x | (uintptr_t)y) % 4 == 0)
        return matmul_sgemm(y, y_stride, w, w_type, w_stride, x, x_stride, n, k, m);

    size_t xq_row = ts_qtype_row_size(t->vec_dot_type, k);
    char *xq = malloc(xq_row * (size_t)m);
    if (xq == NULL) return ts_set_error(TS_ERR_OUT_OF_MEMORY, "ts_matmul: cannot allocate %zu bytes for activations", xq_row * (size_t)m);
    for (int64_t c = 0; c < m; c++) kern->quantize_row[t->vec_dot_type]((const float *)((const char *)x + c * x_stride), xq + c * xq_row, k);

    const int32_t nth = ts_threads_for(n * m * k, 1 << 16);
    if (m >= TS_GEMM_MIN_M && kern->gemm[w_type] != NULL) {
        gemm_job job = {y, y_stride, w, w_stride, xq, xq_row, n, k, m, kern->gemm[w_type],
                       chunk_rows(n, nth, TS_ROWS_PER_CHUNK_THREAD, TS_ROWS_CHUNK_MULTIPLE), 0};
        ts_parallel(gemm_task, &job, nth);
    } else {
        matmul_job job = {y, y_stride, w, w_stride, xq, xq_row, n, k, m, kern->vec_dot[w_type],
                         chunk_rows(n, nth, TS_ROWS_PER_CHUNK_THREAD, TS_ROWS_CHUNK_MULTIPLE), 0};
        ts_parallel(matmul_task, &job, nth);
    }
    free(xq);
    return TS_OK;
}
