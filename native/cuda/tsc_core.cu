/*
 * tsc_core.cu — devices, contexts, the memory pool, copies and errors.
 *
 * The pool: chunks from cudaMalloc (never managed memory), each cut into blocks kept in
 * address order; allocation is first fit with splitting, freeing merges free neighbours.
 * Chunks stay reserved until tsc_shutdown, so steady-state graphs never call cudaMalloc
 * (which synchronises the device). Everything runs on the context's one stream, so a block
 * freed while enqueued work still reads it is only reused by work enqueued later.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsc_internal.cuh"

#define TSC_ALIGN 256
#define TSC_CHUNK_MIN (256ll << 20) /* a chunk is at least this big (unless the limit says less) */

static __thread char tsc_err[1024];

int32_t tsc_set_error(int32_t code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tsc_err, sizeof tsc_err, fmt, ap);
    va_end(ap);
    return code;
}

int32_t tsc_cuda_status(cudaError_t e, const char *what) {
    if (e == cudaSuccess) return TS_OK;
    return tsc_set_error(TSC_ERR_CUDA, "%s: %s: %s", what, cudaGetErrorName(e), cudaGetErrorString(e));
}

int32_t tsc_launch_status(const char *fn) { return tsc_cuda_status(cudaGetLastError(), fn); }

extern "C" TS_API uint32_t tsc_abi_version(void) { return TSC_ABI_VERSION; }
extern "C" TS_API const char *tsc_last_error(void) { return tsc_err; }

extern "C" TS_API int32_t tsc_driver_version(void) {
    int v = 0;
    if (cudaDriverGetVersion(&v) != cudaSuccess) return 0;
    return v;
}

/* Why cudaGetDeviceCount failed, in a user's terms. The runtime reports a missing driver and an
 * old one alike (cudaErrorInsufficientDriver); the driver's version tells them apart: 0 when no
 * driver is installed (cudaDriverGetVersion's contract), else the newest CUDA it supports. */
static void no_device_reason(cudaError_t e) {
    int v = 0;
    if (e == cudaErrorInsufficientDriver && cudaDriverGetVersion(&v) == cudaSuccess) {
        if (v == 0) {
            tsc_set_error(TSC_ERR_NO_DEVICE, "no usable CUDA device: no NVIDIA driver is installed (%s)", cudaGetErrorName(e));
        } else {
            tsc_set_error(TSC_ERR_NO_DEVICE,
                          "no usable CUDA device: the NVIDIA driver supports CUDA up to %d.%d, this library was built with %d.%d: "
                          "update the driver (%s)",
                          v / 1000, v % 1000 / 10, CUDART_VERSION / 1000, CUDART_VERSION % 1000 / 10, cudaGetErrorName(e));
        }
        return;
    }
    tsc_set_error(TSC_ERR_NO_DEVICE, "no usable CUDA device: %s (%s)", cudaGetErrorString(e), cudaGetErrorName(e));
}

extern "C" TS_API int32_t tsc_device_count(void) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        (void)cudaGetLastError(); /* clear the sticky-free error so later calls start clean */
        no_device_reason(e);
        return 0;
    }
    if (n == 0) tsc_set_error(TSC_ERR_NO_DEVICE, "no usable CUDA device: the driver reports none");
    return n;
}

static int32_t check_device(int32_t device, const char *fn) {
    int32_t n = tsc_device_count();
    if (n == 0) {
        char why[1024];
        snprintf(why, sizeof why, "%s", tsc_err);
        return tsc_set_error(TSC_ERR_NO_DEVICE, "%s: %s", fn, why);
    }
    if (device < 0 || device >= n)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: device %d outside [0, %d)", fn, (int)device, (int)n);
    return TS_OK;
}

extern "C" TS_API int32_t tsc_device_name(int32_t device, char *buf, int64_t buf_len) {
    int32_t st = check_device(device, "tsc_device_name");
    if (st) return st;
    if (buf == NULL || buf_len <= 0) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_device_name: empty buffer");
    cudaDeviceProp p;
    st = tsc_cuda_status(cudaGetDeviceProperties(&p, device), "tsc_device_name");
    if (st) return st;
    snprintf(buf, (size_t)buf_len, "%s", p.name);
    return TS_OK;
}

extern "C" TS_API int32_t tsc_device_info(int32_t device, int64_t *info, int32_t n) {
    int32_t st = check_device(device, "tsc_device_info");
    if (st) return st;
    if (info == NULL || n < 0) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_device_info: no output array");
    /* Field 0 (total memory) is no attribute: it comes from the properties. */
    static const cudaDeviceAttr attrs[TSC_INFO_COUNT] = {
        (cudaDeviceAttr)0, cudaDevAttrMultiProcessorCount,
        cudaDevAttrComputeCapabilityMajor, cudaDevAttrComputeCapabilityMinor, cudaDevAttrMemoryClockRate,
        cudaDevAttrGlobalMemoryBusWidth, cudaDevAttrL2CacheSize};
    int64_t v[TSC_INFO_COUNT];
    cudaDeviceProp p;
    st = tsc_cuda_status(cudaGetDeviceProperties(&p, device), "tsc_device_info");
    if (st) return st;
    v[TSC_INFO_TOTAL_MEMORY] = (int64_t)p.totalGlobalMem;
    for (int i = 1; i < TSC_INFO_COUNT; i++) {
        int a = 0;
        if (cudaDeviceGetAttribute(&a, attrs[i], device) != cudaSuccess) {
            (void)cudaGetLastError();
            a = 0; /* an attribute this driver does not report */
        }
        v[i] = a;
    }
    for (int i = 0; i < n && i < TSC_INFO_COUNT; i++) info[i] = v[i];
    return TS_OK;
}

/* ---- context ----------------------------------------------------------------------------- */

int32_t tsc_enter_keep_xq(void *ctx, const char *fn, struct tsc_context **out) {
    if (ctx == NULL) return tsc_set_error(TS_ERR_NOT_INITIALIZED, "%s: no context (call tsc_init)", fn);
    struct tsc_context *c = (struct tsc_context *)ctx;
    int32_t st = tsc_cuda_status(cudaSetDevice(c->device), fn);
    if (st) return st;
    *out = c;
    return TS_OK;
}

int32_t tsc_enter(void *ctx, const char *fn, struct tsc_context **out) {
    int32_t st = tsc_enter_keep_xq(ctx, fn, out);
    if (st == TS_OK) tsc_xq_release(*out);
    return st;
}

void tsc_xq_release(struct tsc_context *c) {
    if (c->xq.buf) (void)tsc_pool_free(c, c->xq.buf); /* a block of this pool: freeing cannot fail */
    memset(&c->xq, 0, sizeof c->xq);
}

/* One row: the stride does not matter. */
static struct tsc_xq_cache xq_key(const float *x, int64_t x_stride, int64_t k, int64_t m) {
    return tsc_xq_cache{x, m > 1 ? x_stride : 0, k, m, NULL};
}

static void xq_parts(const struct tsc_context *c, int8_t **xq, struct tsc_xs **xs) {
    int64_t xs_off;
    (void)tsc_xq_bytes(c->xq.k, c->xq.m, &xs_off);
    *xq = (int8_t *)c->xq.buf, *xs = (struct tsc_xs *)((char *)c->xq.buf + xs_off);
}

int tsc_xq_find(const struct tsc_context *c, const float *x, int64_t x_stride, int64_t k, int64_t m, int8_t **xq, struct tsc_xs **xs) {
    const struct tsc_xq_cache want = xq_key(x, x_stride, k, m), &have = c->xq;
    if (!(have.buf && have.x == want.x && have.x_stride == want.x_stride && have.k == k && have.m == m)) return 0;
    xq_parts(c, xq, xs);
    return 1;
}

int32_t tsc_xq_make(struct tsc_context *c, const float *x, int64_t x_stride, int64_t k, int64_t m, int8_t **xq, struct tsc_xs **xs) {
    int64_t xs_off;
    void *buf;
    const int32_t st = tsc_scratch(c, tsc_xq_bytes(k, m, &xs_off), &buf); /* before the old block is returned */
    if (st) return st;
    tsc_xq_release(c);
    c->xq = xq_key(x, x_stride, k, m);
    c->xq.buf = buf;
    xq_parts(c, xq, xs);
    return TS_OK;
}

extern "C" TS_API int32_t tsc_init(int32_t device, int64_t pool_limit, void **ctx_out) {
    if (ctx_out == NULL) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_init: ctx_out is NULL");
    *ctx_out = NULL;
    if (pool_limit < 0) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_init: pool_limit %lld < 0", (long long)pool_limit);
    int32_t st = check_device(device, "tsc_init");
    if (st) return st;
    st = tsc_cuda_status(cudaSetDevice(device), "tsc_init: cudaSetDevice");
    if (st) return st;
    struct tsc_context *c = (struct tsc_context *)calloc(1, sizeof *c);
    if (c == NULL) return tsc_set_error(TS_ERR_OUT_OF_MEMORY, "tsc_init: no host memory");
    c->device = device;
    c->pool_limit = pool_limit;
    int smem = 0, sms = 0, major = 0;
    cudaDeviceGetAttribute(&smem, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device);
    c->max_smem_optin = smem;
    c->sm_count = sms;
    /* TSC_PDL=0: every launch plain (to measure what programmatic dependent launch buys) */
    const char *pdl = getenv("TSC_PDL");
    c->pdl = major >= 9 && !(pdl && strcmp(pdl, "0") == 0);
    /* TSC_FUSED_QUANTIZE=0: norms, GLUs and decode attention leave the quantizing to the matmul (to measure it) */
    const char *fuse = getenv("TSC_FUSED_QUANTIZE");
    c->fuse_q8 = !(fuse && strcmp(fuse, "0") == 0);
    st = tsc_cuda_status(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking), "tsc_init: cudaStreamCreate");
    if (st) {
        free(c);
        return st;
    }
    const size_t tickets = (TSC_ATT_TICKETS + TSC_GLU_TICKETS) * sizeof(uint32_t);
    st = tsc_cuda_status(cudaMalloc((void **)&c->att_tickets, tickets), "tsc_init: cudaMalloc");
    if (!st) st = tsc_cuda_status(cudaMemsetAsync(c->att_tickets, 0, tickets, c->stream), "tsc_init: cudaMemset");
    c->glu_tickets = c->att_tickets + TSC_ATT_TICKETS;
    if (st) {
        cudaFree(c->att_tickets);
        cudaStreamDestroy(c->stream);
        free(c);
        return st;
    }
    *ctx_out = c;
    return TS_OK;
}

extern "C" TS_API int32_t tsc_shutdown(void *ctx) {
    if (ctx == NULL) return TS_OK;
    struct tsc_context *c = (struct tsc_context *)ctx;
    cudaSetDevice(c->device);
    if (c->recording) { /* a recording left open: drop it */
        cudaGraph_t g = NULL;
        if (cudaStreamEndCapture(c->stream, &g) == cudaSuccess && g) cudaGraphDestroy(g);
        (void)cudaGetLastError();
    }
    int32_t st = tsc_cuda_status(cudaStreamSynchronize(c->stream), "tsc_shutdown: pending work failed");
    for (int32_t i = 0; i < TSC_GRAPH_SLOTS; i++)
        if (c->graphs[i].exec) cudaGraphExecDestroy(c->graphs[i].exec);
    for (int32_t i = 0; i < c->n_chunks; i++) {
        cudaFree(c->chunks[i].base);
        free(c->chunks[i].blocks);
    }
    free(c->chunks);
    cudaFree(c->att_tickets);
    cudaStreamDestroy(c->stream);
    free(c->rope_inv_freq);
    free(c);
    return st;
}

/* ---- pool ----------------------------------------------------------------------------------- */

static int32_t insert_block(struct tsc_chunk *ch, int32_t at, struct tsc_block b) {
    if (ch->n_blocks == ch->cap_blocks) {
        int32_t cap = ch->cap_blocks ? 2 * ch->cap_blocks : 16;
        struct tsc_block *nb = (struct tsc_block *)realloc(ch->blocks, (size_t)cap * sizeof *nb);
        if (nb == NULL) return tsc_set_error(TS_ERR_OUT_OF_MEMORY, "tsc_alloc: no host memory for the block list");
        ch->blocks = nb;
        ch->cap_blocks = cap;
    }
    memmove(ch->blocks + at + 1, ch->blocks + at, (size_t)(ch->n_blocks - at) * sizeof *ch->blocks);
    ch->blocks[at] = b;
    ch->n_blocks++;
    return TS_OK;
}

static void remove_block(struct tsc_chunk *ch, int32_t at) {
    memmove(ch->blocks + at, ch->blocks + at + 1, (size_t)(ch->n_blocks - at - 1) * sizeof *ch->blocks);
    ch->n_blocks--;
}

/* Takes `bytes` from free block i of chunk ch (splitting off the rest). */
static int32_t take(struct tsc_context *c, struct tsc_chunk *ch, int32_t i, int64_t bytes, void **out) {
    struct tsc_block *b = &ch->blocks[i];
    if (b->size > bytes) {
        struct tsc_block rest = {b->off + bytes, b->size - bytes, 0};
        int32_t st = insert_block(ch, i + 1, rest);
        if (st) return st;
        b = &ch->blocks[i];
        b->size = bytes;
    }
    b->used = 1;
    c->used += bytes;
    *out = ch->base + b->off;
    return TS_OK;
}

int32_t tsc_pool_alloc(struct tsc_context *c, int64_t bytes, void **out) {
    bytes = (bytes + TSC_ALIGN - 1) / TSC_ALIGN * TSC_ALIGN;
    for (int32_t k = 0; k < c->n_chunks; k++) {
        struct tsc_chunk *ch = &c->chunks[k];
        for (int32_t i = 0; i < ch->n_blocks; i++)
            if (!ch->blocks[i].used && ch->blocks[i].size >= bytes) return take(c, ch, i, bytes, out);
    }
    /* A new chunk: at least TSC_CHUNK_MIN, 2 MiB granules, within the limit. */
    int64_t size = bytes > TSC_CHUNK_MIN ? (bytes + (2 << 20) - 1) / (2 << 20) * (2 << 20) : TSC_CHUNK_MIN;
    if (c->pool_limit > 0) {
        int64_t left = c->pool_limit - c->reserved;
        if (left < bytes)
            return tsc_set_error(TS_ERR_OUT_OF_MEMORY,
                                 "tsc_alloc: %lld bytes do not fit the pool limit (%lld reserved of %lld, %lld in use)",
                                 (long long)bytes, (long long)c->reserved, (long long)c->pool_limit, (long long)c->used);
        if (size > left) size = left;
    }
    if (c->n_chunks == c->cap_chunks) {
        int32_t cap = c->cap_chunks ? 2 * c->cap_chunks : 8;
        struct tsc_chunk *nc = (struct tsc_chunk *)realloc(c->chunks, (size_t)cap * sizeof *nc);
        if (nc == NULL) return tsc_set_error(TS_ERR_OUT_OF_MEMORY, "tsc_alloc: no host memory for the chunk list");
        c->chunks = nc;
        c->cap_chunks = cap;
    }
    void *base = NULL;
    cudaError_t e = cudaMalloc(&base, (size_t)size);
    if (e != cudaSuccess && size > bytes) { /* the device may hold the request but not a whole chunk */
        (void)cudaGetLastError();
        size = bytes;
        e = cudaMalloc(&base, (size_t)size);
    }
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        return tsc_set_error(TS_ERR_OUT_OF_MEMORY, "tsc_alloc: cudaMalloc of %lld bytes failed: %s (pool: %lld reserved, %lld in use)",
                             (long long)size, cudaGetErrorString(e), (long long)c->reserved, (long long)c->used);
    }
    struct tsc_chunk *ch = &c->chunks[c->n_chunks];
    memset(ch, 0, sizeof *ch);
    ch->base = (char *)base;
    ch->size = size;
    struct tsc_block whole = {0, size, 0};
    int32_t st = insert_block(ch, 0, whole);
    if (st) {
        cudaFree(base);
        return st;
    }
    c->n_chunks++;
    c->reserved += size;
    return take(c, ch, 0, bytes, out);
}

/* The chunk and block of the pool that p lies in; false when it lies in none. */
static bool block_of(const struct tsc_context *c, const void *p, struct tsc_chunk **chunk, int32_t *index) {
    const char *cp = (const char *)p;
    for (int32_t k = 0; k < c->n_chunks; k++) {
        struct tsc_chunk *ch = &c->chunks[k];
        if (cp < ch->base || cp >= ch->base + ch->size) continue;
        const int64_t off = cp - ch->base;
        int32_t lo = 0, hi = ch->n_blocks - 1; /* blocks tile the chunk in offset order: the last one at or below off */
        while (lo < hi) {
            const int32_t mid = (lo + hi + 1) / 2;
            if (ch->blocks[mid].off <= off) lo = mid;
            else hi = mid - 1;
        }
        *chunk = ch, *index = lo;
        return true;
    }
    return false;
}

/* Whether p is an allocation: a used block that starts at p (its chunk and index then set). */
static bool allocation_at(const struct tsc_context *c, const void *p, struct tsc_chunk **chunk, int32_t *index) {
    if (!block_of(c, p, chunk, index)) return false;
    const struct tsc_block *b = &(*chunk)->blocks[*index];
    return b->used && (*chunk)->base + b->off == (const char *)p;
}

int32_t tsc_pool_free(struct tsc_context *c, void *p) {
    struct tsc_chunk *ch;
    int32_t i;
    if (!allocation_at(c, p, &ch, &i))
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_free: %p is not an allocation of this context's pool", p);
    c->used -= ch->blocks[i].size;
    ch->blocks[i].used = 0;
    ch->blocks[i].weights = 0;
    if (i + 1 < ch->n_blocks && !ch->blocks[i + 1].used) {
        ch->blocks[i].size += ch->blocks[i + 1].size;
        remove_block(ch, i + 1);
    }
    if (i > 0 && !ch->blocks[i - 1].used) {
        ch->blocks[i - 1].size += ch->blocks[i].size;
        remove_block(ch, i);
    }
    return TS_OK;
}

bool tsc_pool_weights(const struct tsc_context *c, const void *p, int64_t bytes) {
    struct tsc_chunk *ch;
    int32_t i;
    if (bytes <= 0 || !block_of(c, p, &ch, &i)) return false;
    const struct tsc_block *b = &ch->blocks[i];
    return b->used && b->weights && (const char *)p + bytes <= ch->base + b->off + b->size;
}

int32_t tsc_scratch(struct tsc_context *c, int64_t bytes, void **out) { return tsc_pool_alloc(c, bytes, out); }

extern "C" TS_API int32_t tsc_alloc(void *ctx, int64_t bytes, void **dev_out) {
    struct tsc_context *c = NULL;
    if (dev_out == NULL) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_alloc: dev_out is NULL");
    *dev_out = NULL;
    int32_t st = tsc_enter(ctx, "tsc_alloc", &c);
    if (st) return st;
    if (bytes <= 0) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_alloc: bytes=%lld must be > 0", (long long)bytes);
    return tsc_pool_alloc(c, bytes, dev_out);
}

extern "C" TS_API int32_t tsc_free(void *ctx, void *dev) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, "tsc_free", &c);
    if (st) return st;
    if (dev == NULL) return TS_OK;
    return tsc_pool_free(c, dev);
}

extern "C" TS_API int32_t tsc_declare_weights(void *ctx, const void *dev, int32_t weights) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, "tsc_declare_weights", &c);
    if (st) return st;
    struct tsc_chunk *ch;
    int32_t i;
    if (!allocation_at(c, dev, &ch, &i))
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_declare_weights: %p is not an allocation of this context's pool", dev);
    if (weights != 0 && weights != 1) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_declare_weights: weights=%d must be 0 or 1", weights);
    ch->blocks[i].weights = weights;
    return TS_OK;
}

extern "C" TS_API int64_t tsc_pool_used(void *ctx) { return ctx ? ((struct tsc_context *)ctx)->used : 0; }
extern "C" TS_API int64_t tsc_pool_reserved(void *ctx) { return ctx ? ((struct tsc_context *)ctx)->reserved : 0; }

/* ---- copies ------------------------------------------------------------------------------- */

static int32_t check_copy(const char *fn, const void *dst, const void *src, int64_t bytes) {
    if (bytes < 0) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: bytes=%lld < 0", fn, (long long)bytes);
    if (bytes > 0 && (dst == NULL || src == NULL)) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: null pointer", fn);
    return TS_OK;
}

static int32_t copy(void *ctx, const char *fn, void *dst, const void *src, int64_t bytes, cudaMemcpyKind kind, int wait) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, fn, &c);
    if (st) return st;
    st = check_copy(fn, dst, src, bytes);
    if (st || bytes == 0) return st;
    if (wait && c->recording) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "%s: not while recording a graph (it would wait)", fn);
    st = tsc_cuda_status(cudaMemcpyAsync(dst, src, (size_t)bytes, kind, c->stream), fn);
    if (st) return st;
    return wait ? tsc_cuda_status(cudaStreamSynchronize(c->stream), fn) : TS_OK;
}

extern "C" TS_API int32_t tsc_upload(void *ctx, void *dev_dst, const void *host_src, int64_t bytes) {
    return copy(ctx, "tsc_upload", dev_dst, host_src, bytes, cudaMemcpyHostToDevice, 1);
}

extern "C" TS_API int32_t tsc_download(void *ctx, void *host_dst, const void *dev_src, int64_t bytes) {
    return copy(ctx, "tsc_download", host_dst, dev_src, bytes, cudaMemcpyDeviceToHost, 1);
}

extern "C" TS_API int32_t tsc_copy(void *ctx, void *dev_dst, const void *dev_src, int64_t bytes) {
    return copy(ctx, "tsc_copy", dev_dst, dev_src, bytes, cudaMemcpyDeviceToDevice, 0);
}

extern "C" TS_API int32_t tsc_memset(void *ctx, void *dev_dst, int32_t value, int64_t bytes) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, "tsc_memset", &c);
    if (st) return st;
    if (bytes < 0 || (bytes > 0 && dev_dst == NULL)) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_memset: bad arguments");
    if (bytes == 0) return TS_OK;
    return tsc_cuda_status(cudaMemsetAsync(dev_dst, value, (size_t)bytes, c->stream), "tsc_memset");
}

extern "C" TS_API int32_t tsc_synchronize(void *ctx) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, "tsc_synchronize", &c);
    if (st) return st;
    if (c->recording) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_synchronize: not while recording a graph");
    return tsc_cuda_status(cudaStreamSynchronize(c->stream), "tsc_synchronize");
}

/* ---- graphs --------------------------------------------------------------------------------- */

extern "C" TS_API int32_t tsc_graph_begin(void *ctx) {
    struct tsc_context *c = NULL;
    /* The quantized-activation cache stays: what made it is enqueued or in a launched graph,
     * so the first matmul of the next piece of a run may take it. */
    int32_t st = tsc_enter_keep_xq(ctx, "tsc_graph_begin", &c);
    if (st) return st;
    if (c->recording) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_graph_begin: a recording is already open");
    /* Relaxed: the pool may still call cudaMalloc while recording (a first run's chunks). */
    st = tsc_cuda_status(cudaStreamBeginCapture(c->stream, cudaStreamCaptureModeRelaxed), "tsc_graph_begin");
    if (!st) c->recording = 1;
    return st;
}

/* The slot kept under key, else a free one, else the least recently run (emptied). */
static struct tsc_graph_slot *graph_slot(struct tsc_context *c, int64_t key) {
    struct tsc_graph_slot *free_slot = NULL, *oldest = &c->graphs[0];
    for (int32_t i = 0; i < TSC_GRAPH_SLOTS; i++) {
        struct tsc_graph_slot *s = &c->graphs[i];
        if (s->exec && s->key == key) return s;
        if (!s->exec && !free_slot) free_slot = s;
        if (s->last_run < oldest->last_run) oldest = s;
    }
    if (free_slot) return free_slot;
    cudaGraphExecDestroy(oldest->exec);
    oldest->exec = NULL;
    return oldest;
}

extern "C" TS_API int32_t tsc_graph_end(void *ctx, int64_t key, int32_t launch) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter_keep_xq(ctx, "tsc_graph_end", &c); /* kept if the recording runs (below) */
    if (st) return st;
    if (!c->recording) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_graph_end: no recording is open (tsc_graph_begin)");
    c->recording = 0;
    cudaGraph_t g = NULL;
    st = tsc_cuda_status(cudaStreamEndCapture(c->stream, &g), "tsc_graph_end: an op could not be recorded");
    if (st || !launch) {
        (void)cudaGetLastError();
        if (g) cudaGraphDestroy(g);
        tsc_xq_release(c); /* its kernel may have been in what is dropped */
        return st;
    }
    size_t nodes = 0;
    cudaGraphGetNodes(g, NULL, &nodes);
    struct tsc_graph_slot *s = graph_slot(c, key);
    int updated = 0;
    if (s->exec) {
        cudaGraphExecUpdateResultInfo info;
        updated = cudaGraphExecUpdate(s->exec, g, &info) == cudaSuccess;
        if (!updated) { /* other nodes than last time: build it anew */
            (void)cudaGetLastError();
            cudaGraphExecDestroy(s->exec);
            s->exec = NULL;
        }
    }
    if (!s->exec) st = tsc_cuda_status(cudaGraphInstantiate(&s->exec, g, 0), "tsc_graph_end: cudaGraphInstantiate");
    cudaGraphDestroy(g);
    if (st) {
        s->exec = NULL;
        tsc_xq_release(c);
        return st;
    }
    s->key = key;
    s->last_run = ++c->graph_stats[TSC_GRAPH_LAUNCHES];
    c->graph_stats[updated ? TSC_GRAPH_UPDATES : TSC_GRAPH_BUILDS]++;
    c->graph_stats[TSC_GRAPH_NODES] = (int64_t)nodes;
    st = tsc_cuda_status(cudaGraphLaunch(s->exec, c->stream), "tsc_graph_end: cudaGraphLaunch");
    if (st) tsc_xq_release(c);
    return st;
}

extern "C" TS_API int32_t tsc_graph_stats(void *ctx, int64_t *stats, int32_t n) {
    if (ctx == NULL) return tsc_set_error(TS_ERR_NOT_INITIALIZED, "tsc_graph_stats: no context (call tsc_init)");
    if (stats == NULL || n < 0) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_graph_stats: no output array");
    const struct tsc_context *c = (const struct tsc_context *)ctx;
    for (int32_t i = 0; i < n && i < TSC_GRAPH_STATS_COUNT; i++) stats[i] = c->graph_stats[i];
    return TS_OK;
}
