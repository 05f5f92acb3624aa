/*
 * tsc_internal.cuh — what the CUDA sources share on the host side: the context, the pool and
 * the error helpers (internal); the device-side helpers are in tsc_device.cuh.
 */
#ifndef TSC_INTERNAL_CUH
#define TSC_INTERNAL_CUH

#include <stdint.h>

#ifndef TSC_EMU
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#endif

#include "tessera_cuda.h"
#include "tsc_device.cuh"

/* kernel<<<grid, block, smem, stream>>>, the kernel last so that its template arguments may
 * hold commas: TSC_LAUNCH(grid, block, smem, stream, kernel)(args...), with every template
 * argument spelled out (the emulated library, emu/cuda_runtime_emu.h, takes the kernel's
 * address before it sees the arguments, so nothing is deduced from them). */
#ifndef TSC_EMU
#define TSC_LAUNCH(grid, block, smem, stream, ...) __VA_ARGS__<<<grid, block, smem, stream>>>
#endif

/* One cudaMalloc'd chunk of the pool, cut into blocks kept in address order. */
struct tsc_block {
    int64_t off, size;
    int32_t used;
    int32_t weights; /* declared weights (tsc_declare_weights) until freed */
};

struct tsc_chunk {
    char *base;
    int64_t size;
    struct tsc_block *blocks;
    int32_t n_blocks, cap_blocks;
};

/* The split Q8_0 copy of the activations x (int8 quants and per-block scales in the pool block
 * buf) that the last quantized tsc_matmul made, or that a one-row RMSNorm or GLU or a decode
 * attention wrote beside its output x: kept while only tsc_matmul / tsc_matmul_parts calls follow (and the start or
 * launch of a graph recording, between the pieces of a run), so a matmul of the same x right
 * after (Q, K and V of one input; gate and up) uses it instead of quantizing again. Every other
 * entry point (tsc_enter), and a dropped recording, releases it: nothing else can have changed x
 * before. */
struct tsc_xq_cache {
    const float *x;
    int64_t x_stride, k, m;
    void *buf;
};

/* A recorded graph kept for the next recording under the same key (tsc_graph_end). */
struct tsc_graph_slot {
    int64_t key, last_run;
    cudaGraphExec_t exec; /* NULL: free slot */
};

#define TSC_ATT_TICKETS 65536 /* tsc_attention takes at most 65535 heads */
#define TSC_GLU_TICKETS 65536 /* tsc_matmul_glu fuses GLUs of at most 65536 blocks of 32 */

struct tsc_context {
    int32_t device;
    cudaStream_t stream;
    int64_t pool_limit, reserved, used;
    struct tsc_chunk *chunks;
    int32_t n_chunks, cap_chunks;
    int32_t max_smem_optin; /* bytes of shared memory a block may opt into */
    int32_t sm_count;
    int32_t pdl; /* launches through tsc_launch_pdl are programmatic dependent launches */
    int32_t fuse_q8; /* one-row norms and GLUs (tsc_ops.cu offer_q8) and decode attention write their Q8_0 copy */
    /* Split-KV attention's tickets (tsc_attention.cu): one counter per block column, zero
     * between calls; TSC_ATT_TICKETS of them, allocated beside the pool at tsc_init, and after
     * them the fused GLU's (tsc_matmul.cu), one per block of 32 outputs. */
    uint32_t *att_tickets, *glu_tickets;
    struct tsc_xq_cache xq;
    /* RoPE's inverse frequencies for the last (freq_base, n_dims), computed on the host. */
    double *rope_inv_freq;
    float rope_freq_base;
    int32_t rope_n_dims;
    int32_t recording; /* between tsc_graph_begin and tsc_graph_end */
    struct tsc_graph_slot graphs[TSC_GRAPH_SLOTS];
    int64_t graph_stats[TSC_GRAPH_STATS_COUNT];
};

/* Records the calling thread's message; returns code. */
int32_t tsc_set_error(int32_t code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* TS_OK, or TSC_ERR_CUDA with "<what>: <CUDA error name>: <string>". */
int32_t tsc_cuda_status(cudaError_t e, const char *what);
/* Checks ctx and makes its device current; releases the quantized-activation cache. */
int32_t tsc_enter(void *ctx, const char *fn, struct tsc_context **out);
/* As tsc_enter, keeping that cache (tsc_matmul, which decides about it). */
int32_t tsc_enter_keep_xq(void *ctx, const char *fn, struct tsc_context **out);
/* Returns the cache's block to the pool (stream-ordered, as every free). */
void tsc_xq_release(struct tsc_context *c);
/* Whether the cache holds x's copy (m rows of k, rows x_stride bytes apart); its quants and
 * scales then in *xq, *xs. */
int tsc_xq_find(const struct tsc_context *c, const float *x, int64_t x_stride, int64_t k, int64_t m, int8_t **xq, struct tsc_xs **xs);
/* Makes the cache x's: new scratch for the copy, which the caller then writes, taken before the
 * old copy's block is returned (stream-ordered), so the next kernel may read the old copy while it
 * writes the new one (tsc_matmul_glu). On failure the cache is left as it was. */
int32_t tsc_xq_make(struct tsc_context *c, const float *x, int64_t x_stride, int64_t k, int64_t m, int8_t **xq, struct tsc_xs **xs);
/* TS_OK, or an error naming fn, for an activation id that is not a TS_ACT_* (tsc_ops.cu). */
int32_t tsc_check_act(const char *fn, int32_t act);
/* Status of the last launch (configuration errors surface here, execution errors later). */
int32_t tsc_launch_status(const char *fn);
/* Pool scratch for one op (freed with tsc_free after enqueueing: later work is stream-ordered). */
int32_t tsc_scratch(struct tsc_context *c, int64_t bytes, void **out);
int32_t tsc_pool_alloc(struct tsc_context *c, int64_t bytes, void **out);
int32_t tsc_pool_free(struct tsc_context *c, void *p);
/* Whether [p, p + bytes) lies in one allocation declared weights: no kernel writes it, so a
 * kernel may read it before the kernel ahead of it on the stream has ended. */
bool tsc_pool_weights(const struct tsc_context *c, const void *p, int64_t bytes);

/* Launches kernel on the context's stream as a programmatic dependent launch where the device
 * has them (c->pdl), else plainly. The kernel must call pdl_wait() before it touches memory an
 * earlier kernel wrote or reads (tsc_pdl_enter() first thing does). Decode steps are chains of
 * hundreds of small kernels, each otherwise waiting out the launch of the next. */
template <typename... KArgs, typename... Args>
static void tsc_launch_pdl(struct tsc_context *c, void (*kernel)(KArgs...), dim3 grid, dim3 block, size_t smem, Args... args) {
    if (!c->pdl) {
        TSC_LAUNCH(grid, block, smem, c->stream, kernel)(args...);
        return;
    }
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = grid, cfg.blockDim = block, cfg.dynamicSmemBytes = smem, cfg.stream = c->stream;
    cudaLaunchAttribute at[1];
    at[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    at[0].val.programmaticStreamSerializationAllowed = 1;
    cfg.attrs = at, cfg.numAttrs = 1;
    if (cudaLaunchKernelEx(&cfg, kernel, (KArgs)args...) != cudaSuccess) {
        /* A driver that refuses the attribute: clear the error, launch plainly from now on
         * (a genuine configuration error fails again and surfaces in tsc_launch_status). */
        (void)cudaGetLastError();
        c->pdl = 0;
        TSC_LAUNCH(grid, block, smem, c->stream, kernel)(args...);
    }
}

/* Bytes [lo, hi) that rows x row_bytes at stride cover (rows >= 1), and whether two such meet:
 * the overlap checks of ops whose kernels must not read what they write. */
struct tsc_span {
    uintptr_t lo, hi;
};
static inline tsc_span tsc_span_of(const void *p, int64_t rows, int64_t stride, int64_t row_bytes) {
    const uintptr_t lo = (uintptr_t)p;
    return {lo, lo + (uintptr_t)((rows - 1) * stride + row_bytes)};
}
static inline bool tsc_spans_meet(tsc_span a, tsc_span b) { return a.lo < b.hi && b.lo < a.hi; }

/* y[r][i] = y[r][i] + a[r][i] over rows x n (row strides in bytes, 4-byte aligned) with
 * tsc_binary's kernel, enqueued unchecked: the addends of tsc_matmul_parts where the product's
 * kernel does not add them (tsc_ops.cu). */
void tsc_add_rows(struct tsc_context *c, float *y, int64_t y_stride, const float *a, int64_t a_stride, int64_t rows, int64_t n);

/* The batched (tensor-core) matmul, tsc_matmul_mma.cu. tsc_matmul calls it after validating
 * its arguments, for every m > 1: it returns TS_OK or an error once it enqueued (or failed to
 * enqueue) the product, or TSC_NOT_HANDLED for a type/shape it leaves to the plain kernels. */
#define TSC_NOT_HANDLED (-1)
int32_t tsc_matmul_mma(struct tsc_context *c, float *y, int64_t y_stride, const void *w, int32_t w_type, int64_t w_stride,
                       const float *x, int64_t x_stride, int64_t n, int64_t k, int64_t m);

#endif /* TSC_INTERNAL_CUH */
