/*
 * tessera_cuda.h — the C ABI of libtessera_cuda, the CUDA kernels (NVIDIA GPUs, sm_80 and
 * sm_90 code, PTX for later cards). A separate library so the CPU library never needs a
 * CUDA runtime; it links the CUDA runtime statically and reaches the driver (libcuda.so.1)
 * only through it, so it loads on machines without a driver and says so.
 *
 * Conventions: those of tessera.h (one declaration per line, fixed-width types and
 * pointers only, TS_* status codes, TS_TYPE_* / TS_ACT_* / TS_ROPE_* / TS_BINARY_* ids), plus:
 *  - Every function that returns int32_t returns a status; tsc_last_error() gives the
 *    calling thread's message of its last failure.
 *  - A context (void *ctx, from tsc_init) owns one device, one stream and one memory pool.
 *    A context must be used by one thread at a time.
 *  - "dev" pointers are device memory from tsc_alloc on the same context; pointers said to
 *    be "host" are ordinary memory. Ops are enqueued on the context's stream and return
 *    before the GPU finishes; tsc_download and tsc_synchronize wait for it. Errors the GPU
 *    raises while running an op surface at the next call that waits.
 *  - Shapes and byte strides follow the CPU op of the same name in tessera.h; F32 rows and
 *    strides must be 4-byte aligned and F16 ones 2-byte aligned (the CPU accepts any).
 */
#ifndef TESSERA_CUDA_H
#define TESSERA_CUDA_H

#include <stdint.h>

#include "tessera.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a signature or a constant below changes meaning. */
#define TSC_ABI_VERSION 3

/* Status codes beyond tessera.h's: no usable driver/device, and a CUDA runtime failure
 * (the message carries CUDA's error name). */
#define TSC_ERR_NO_DEVICE 100
#define TSC_ERR_CUDA 101

/* Fields of tsc_device_info. */
#define TSC_INFO_TOTAL_MEMORY 0 /* bytes */
#define TSC_INFO_SM_COUNT 1
#define TSC_INFO_CC_MAJOR 2
#define TSC_INFO_CC_MINOR 3
#define TSC_INFO_MEM_CLOCK_KHZ 4
#define TSC_INFO_MEM_BUS_BITS 5
#define TSC_INFO_L2_BYTES 6
#define TSC_INFO_COUNT 7

/* Fields of tsc_graph_stats. */
#define TSC_GRAPH_LAUNCHES 0 /* graphs run */
#define TSC_GRAPH_UPDATES 1 /* of those, kept ones updated in place */
#define TSC_GRAPH_BUILDS 2 /* of those, instantiated anew */
#define TSC_GRAPH_NODES 3 /* nodes (kernels, copies, memsets) of the last one run */
#define TSC_GRAPH_STATS_COUNT 4
/* Keys of recorded graphs a context keeps (the least recently run goes first). */
#define TSC_GRAPH_SLOTS 64

/* ---- Version, errors, devices ---------------------------------------------------------- */
TS_API TS_CRITICAL uint32_t tsc_abi_version(void);
/* Message of the calling thread's last failure ("" if none); thread-local, at most 1024 bytes. */
TS_API TS_CRITICAL const char *tsc_last_error(void);
/* Number of CUDA devices this process can use. 0 when there is no driver, no device or the
 * driver is too old: tsc_last_error() then says which. Never fails otherwise. */
TS_API int32_t tsc_device_count(void);
/* Writes the device's name (NUL-terminated, truncated to buf_len - 1 bytes) into buf (host). */
TS_API int32_t tsc_device_name(int32_t device, char *buf, int64_t buf_len);
/* Writes min(n, TSC_INFO_COUNT) TSC_INFO_* fields of the device into info (host). */
TS_API int32_t tsc_device_info(int32_t device, int64_t *info, int32_t n);
/* Version of the installed driver (e.g. 13000 for 13.0), 0 if none. */
TS_API int32_t tsc_driver_version(void);

/* ---- Context, memory, copies ----------------------------------------------------------- */
/* Opens a context on `device`: a stream and a pool that grows in cudaMalloc chunks up to
 * pool_limit bytes in all (0: no limit but the device's memory). *ctx_out gets the context. */
TS_API int32_t tsc_init(int32_t device, int64_t pool_limit, void **ctx_out);
/* Waits for the stream, frees every chunk of the pool and the context. NULL is a no-op. */
TS_API int32_t tsc_shutdown(void *ctx);
/* *dev_out = bytes of device memory from the pool, 256-byte aligned (bytes > 0). */
TS_API int32_t tsc_alloc(void *ctx, int64_t bytes, void **dev_out);
/* Returns an allocation to the pool (stream-ordered: work already enqueued may still use
 * it, later work reuses it safely). NULL is a no-op; any other pointer not from tsc_alloc fails. */
TS_API int32_t tsc_free(void *ctx, void *dev);
/* weights = 1 declares the allocation at dev (tsc_alloc's pointer) weights: memory no kernel
 * writes until it is freed or the declaration withdrawn (weights = 0), such as a model's
 * matrices uploaded once. On sm_90 a one-row product (tsc_matmul, _parts, _glu at m = 1) may
 * start before the kernel ahead of it on the stream has ended; it streams declared weights from
 * then on, and reads others (an earlier kernel's output, say) only once that kernel has ended,
 * so the product is right either way. The choice is made when the product is enqueued. */
TS_API int32_t tsc_declare_weights(void *ctx, const void *dev, int32_t weights);
/* Bytes of the pool handed out now / reserved from the device now (chunks). */
TS_API TS_CRITICAL int64_t tsc_pool_used(void *ctx);
TS_API TS_CRITICAL int64_t tsc_pool_reserved(void *ctx);
/* Host -> device; returns once host memory may be reused. */
TS_API int32_t tsc_upload(void *ctx, void *dev_dst, const void *host_src, int64_t bytes);
/* Device -> host; waits for every op enqueued before it. */
TS_API int32_t tsc_download(void *ctx, void *host_dst, const void *dev_src, int64_t bytes);
/* Device -> device on the stream. */
TS_API int32_t tsc_copy(void *ctx, void *dev_dst, const void *dev_src, int64_t bytes);
/* Sets bytes of device memory to the byte value. */
TS_API int32_t tsc_memset(void *ctx, void *dev_dst, int32_t value, int64_t bytes);
/* Waits for the stream; reports an error any op raised on the GPU. */
TS_API int32_t tsc_synchronize(void *ctx);

/* ---- Graphs: a run's ops submitted at once --------------------------------------------- */
/* From now on the ops called on ctx are recorded (CUDA stream capture), not run, until
 * tsc_graph_end: a run of many small ops then costs one submission instead of a launch per
 * kernel. Arguments are checked and host arrays read at each call as without recording.
 * While recording, tsc_upload, tsc_download and tsc_synchronize fail (they would wait). */
TS_API int32_t tsc_graph_begin(void *ctx);
/* Ends the recording. launch != 0 runs it as a CUDA graph kept under key (the caller's name
 * for its sequence of ops): when the previous graph under key has the same nodes it is
 * updated in place, cheaper than instantiating anew. launch == 0 drops the recording (after
 * an op failed) and runs nothing. Fails, running nothing, when no recording is open or an
 * op could not be recorded. */
TS_API int32_t tsc_graph_end(void *ctx, int64_t key, int32_t launch);
/* Writes min(n, TSC_GRAPH_STATS_COUNT) TSC_GRAPH_* counters of ctx into stats (host). */
TS_API int32_t tsc_graph_stats(void *ctx, int64_t *stats, int32_t n);

/* As ts_copy_strided (dev pointers; shape and strides HOST arrays of ndim <= TS_MAX_DIMS
 * entries, strides in bytes): copies one view into another, converting between F32, F16
 * and BF16 with round-to-nearest-even; pointers and strides aligned to their element size. */
TS_API int32_t tsc_copy_strided(void *ctx, void *dst, int32_t dst_type, const int64_t *dst_strides, const void *src, int32_t src_type, const int64_t *src_strides, const int64_t *shape, int32_t ndim);

/* ---- Quantized formats and matmul ------------------------------------------------------ */
/* dev Q8_0 blocks of rows x k dev floats (k a multiple of 32), byte-identical to the CPU's
 * ts_quantize(.., TS_TYPE_Q8_0, ..) (rows packed; x row stride x_stride bytes). */
TS_API int32_t tsc_quantize_q8_0(void *ctx, void *dst, const float *x, int64_t x_stride, int64_t rows, int64_t k);
/* y[m][n] = sum_k w[n][k] * x[m][k] as ts_matmul, all dev pointers. w_type one of the GGUF
 * block types Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (k a multiple of 32), Q2_K, Q3_K, Q4_K, Q5_K,
 * Q6_K (k a multiple of 256): x is quantized to Q8_0 on the device with the CPU's rounding
 * and the integer sums are exact, so Q4_0/Q5_0/Q8_0 equal the CPU's dots up to the float
 * sums' order, while Q4_1/Q5_1 (CPU: Q8_1) and the K-quants (CPU: Q8_K, one scale per 256)
 * differ from the CPU by the activations' rounding only. Or TS_TYPE_F16, TS_TYPE_BF16,
 * TS_TYPE_F32: float products of the weights with x as given (no rounding of x). w and
 * w_stride 2-byte aligned (F32: 4); 16-byte aligned rows are read fastest. Scratch from the pool. */
TS_API int32_t tsc_matmul(void *ctx, float *y, int64_t y_stride, const void *w, int32_t w_type, int64_t w_stride, const float *x, int64_t x_stride, int64_t n, int64_t k, int64_t m);
/* Most parts of one tsc_matmul_parts call. */
#define TSC_MATMUL_PARTS 4
/* Several products of one x at once, for i < parts (1..TSC_MATMUL_PARTS):
 *   y[i] [m x n[i]] = x · w[i]ᵀ, plus add[i] [m x n[i]] element-wise where add[i] is not NULL
 * (row strides y_stride[i], w_stride[i], add_stride[i] bytes), every w[i] of type w_type with
 * rows of k: Q, K and V of one input, or a projection and the residual it is added to. Each
 * part's values are those of tsc_matmul followed by a float add (y = product + add), bit for
 * bit; for m = 1 one kernel computes every part's rows and adds the addends as it stores
 * them (TSC_MATVEC_KERNEL=apart: a kernel per part and per addend, to compare). y, w, n,
 * y_stride, w_stride, add and add_stride are HOST arrays of `parts` entries holding dev
 * pointers; add may be NULL (no addends; add_stride is then not read). The checks are
 * tsc_matmul's per part; besides, no output may overlap x, an addend or another output. */
TS_API int32_t tsc_matmul_parts(void *ctx, int32_t parts, float *const *y, const int64_t *y_stride, const void *const *w, const int64_t *w_stride, const int64_t *n, const float *const *add, const int64_t *add_stride, int32_t w_type, const float *x, int64_t x_stride, int64_t k, int64_t m);
/* y[m][n] = act(x · w_gateᵀ) ⊙ (x · w_upᵀ) (TS_ACT_*; SwiGLU: TS_ACT_SILU): the products land
 * in gate[m][n] and up[m][n] as tsc_matmul_parts of w_gate and w_up writes them, and y is what
 * tsc_glu then makes of them: the same bits, including the Q8_0 copy a one-row GLU leaves for
 * the next tsc_matmul of y. At m = 1 with a block weight type and n a multiple of 32 that is one
 * kernel: the last warp to finish a block of 32 outputs applies the GLU to it. The checks are
 * tsc_matmul_parts' with y as a third output (no output overlaps x or another). */
TS_API int32_t tsc_matmul_glu(void *ctx, float *y, int64_t y_stride, float *gate, int64_t gate_stride, float *up, int64_t up_stride, const void *w_gate, int64_t w_gate_stride, const void *w_up, int64_t w_up_stride, int32_t w_type, int32_t act, const float *x, int64_t x_stride, int64_t n, int64_t k, int64_t m);
/* y[rows][n] (dev F32, row stride y_stride bytes) = rows of x (dev, any tsc_matmul weight
 * type, row stride x_stride bytes; n a multiple of the block size), the values of the CPU's
 * ts_dequantize bit for bit. */
TS_API int32_t tsc_dequantize(void *ctx, float *y, int64_t y_stride, const void *x, int32_t type, int64_t x_stride, int64_t rows, int64_t n);

/* ---- Element-wise ops, norms, activations, RoPE, embeddings (F32, dev pointers) -------- */
TS_API int32_t tsc_rms_norm(void *ctx, float *y, int64_t y_stride, const float *x, int64_t x_stride, const float *weight, int64_t rows, int64_t n, float eps);
TS_API int32_t tsc_softmax(void *ctx, float *y, int64_t y_stride, const float *x, int64_t x_stride, const float *mask, int64_t mask_stride, int64_t mask_rows, int64_t rows, int64_t n, float scale);
/* pos: HOST array of `tokens` positions (checked and copied before the call returns). */
TS_API int32_t tsc_rope(void *ctx, float *y, int64_t y_token_stride, int64_t y_head_stride, const float *x, int64_t x_token_stride, int64_t x_head_stride, const int32_t *pos, int64_t tokens, int64_t heads, int64_t head_dim, int32_t n_dims, int32_t mode, float freq_base);
/* Most parts of one tsc_rope_parts call. */
#define TSC_ROPE_PARTS 4
/* tsc_rope of up to TSC_ROPE_PARTS tensors at the same positions with the same head_dim,
 * n_dims, mode and base (Q and K of a layer), in one kernel per chunk of tokens: part j is
 * y[j] / x[j] with heads[j] heads and its own strides (HOST arrays of `parts` entries; y and x
 * dev pointers). The values of tsc_rope per part; each part's y must not overlap another's.
 * Besides, part j's y may be F16 (y_type[j] TS_TYPE_F16, strides multiples of 2 bytes; the
 * values rounded as tsc_copy_strided rounds them: a KV cache's rows) and part j may be copied
 * without rotating (rotate[j] == 0: a V cache store), so a layer's RoPE of Q, RoPE of K into
 * its cache and the store of V are one kernel. y_type NULL: every part F32; rotate NULL:
 * every part rotated. */
TS_API int32_t tsc_rope_parts(void *ctx, int32_t parts, void *const *y, const int32_t *y_type, const int64_t *y_token_stride, const int64_t *y_head_stride, const float *const *x, const int64_t *x_token_stride, const int64_t *x_head_stride, const int64_t *heads, const int32_t *rotate, const int32_t *pos, int64_t tokens, int64_t head_dim, int32_t n_dims, int32_t mode, float freq_base);
TS_API int32_t tsc_activation(void *ctx, float *y, int64_t y_stride, const float *x, int64_t x_stride, int32_t act, int64_t rows, int64_t n);
TS_API int32_t tsc_glu(void *ctx, float *y, int64_t y_stride, const float *gate, int64_t gate_stride, const float *up, int64_t up_stride, int32_t act, int64_t rows, int64_t n);
/* shape/strides: HOST arrays of ndim <= 4 entries (byte strides, 0 broadcasts). */
TS_API int32_t tsc_binary(void *ctx, float *y, const int64_t *y_strides, const float *a, const int64_t *a_strides, const float *b, const int64_t *b_strides, const int64_t *shape, int32_t ndim, int32_t op);
/* table of type F32, F16, BF16, Q8_0, Q4_0, Q4_K or Q6_K (dev; the CPU's dequantization, bit
 * for bit); ids: HOST array, every id checked to be in
 * [0, n_table) before anything is enqueued (as the CPU op: nothing written otherwise). */
TS_API int32_t tsc_get_rows(void *ctx, float *y, int64_t y_stride, const void *table, int32_t type, int64_t table_stride, int64_t n_table, int64_t n, const int32_t *ids, int64_t n_ids);

/* ---- LayerNorm, GroupNorm, scale, upsampling, timestep embedding (tsc_ops.cu; F32, dev) -- */
/* As the CPU ops: weight/bias may be NULL; reductions in double, two-pass. */
TS_API int32_t tsc_layer_norm(void *ctx, float *y, int64_t y_stride, const float *x, int64_t x_stride, const float *weight, const float *bias, int64_t rows, int64_t n, float eps);
/* batch * groups <= 65535; a group (channels/groups * hw floats) < 2^31 - 1024. */
TS_API int32_t tsc_group_norm(void *ctx, float *y, int64_t y_stride, const float *x, int64_t x_stride, const float *weight, const float *bias, int64_t batch, int64_t channels, int64_t hw, int32_t groups, float eps);
TS_API int32_t tsc_scale(void *ctx, float *y, int64_t y_stride, const float *x, int64_t x_stride, int64_t rows, int64_t n, float s, float b);
/* y 8-byte aligned. */
TS_API int32_t tsc_upsample_nearest2x(void *ctx, float *y, const float *x, int64_t planes, int64_t h, int64_t w);
/* timesteps: dev array of n floats; y: dev, n x dim contiguous. */
TS_API int32_t tsc_timestep_embedding(void *ctx, float *y, const float *timesteps, int64_t n, int32_t dim, int32_t flip_sin_to_cos, float downscale_freq_shift, float scale, float max_period);

/* ---- Convolution (tsc_conv.cu) ---------------------------------------------------------- */
/* As ts_conv2d (contiguous NCHW, dev pointers): w_type TS_TYPE_F32 or TS_TYPE_F16, same
 * checks and messages. An implicit GEMM on tensor cores: TF32
 * products (both operands rounded to 10-bit mantissas) with F32 accumulation, so each
 * output is within about 1e-3 * sum |w*x| of the exact sum; groups of <= 8 output channels
 * (depthwise) use a direct F32 kernel; few-pixel deep convolutions split K (partial sums
 * added in a fixed order: results never depend on timing). The environment variable
 * TSC_CONV_TILE (64, 64x128, 128, 256, split, direct) forces a kernel (tests, tuning).
 * One image's input and output must each hold < 2^31 elements. Scratch: 16 bytes per tap,
 * the weights as F32 (4 bytes each) unless w is 16-byte aligned and they are F32 with
 * K % 4 == 0 or F16 with K % 8 == 0 and n*oh*ow <= 1024 (read in place; K =
 * cin/groups*kh*kw), and with split K
 * splits x cout x n*oh*ow floats. */
TS_API int32_t tsc_conv2d(void *ctx, float *y, const float *x, const void *w, int32_t w_type, const float *bias, int64_t n, int64_t cin, int64_t h, int64_t width, int64_t cout, int64_t kh, int64_t kw, int32_t stride_h, int32_t stride_w, int32_t pad_h, int32_t pad_w, int32_t dil_h, int32_t dil_w, int32_t groups);

/* ---- Attention ------------------------------------------------------------------------- */
/* As ts_attention (dev pointers): O = softmax(scale·Q·Kᵀ + mask)·V with an online softmax,
 * causal/kv_offset, GQA, mask [lq x lk] or NULL, kv_type TS_TYPE_F16 or TS_TYPE_F32,
 * d in [1, 256]. A query row that sees no key gets zeros.
 * Precision: lq <= 8 (split-KV decode) and the general kernel compute in F32. lq > 8 with d a
 * multiple of 8 up to 160 and K/V rows 16-byte aligned runs on tensor cores: Q·scale, P and
 * F32 K/V are rounded to f16 (values must stay within +-65504), products summed in F32;
 * outputs differ from F32 by ~1e-3 for unit-scale data (tests hold 3e-3 + 3e-3·|o|). */
TS_API int32_t tsc_attention(void *ctx, float *o, int64_t o_head_stride, int64_t o_row_stride, const float *q, int64_t q_head_stride, int64_t q_row_stride, const void *k, int64_t k_head_stride, int64_t k_row_stride, const void *v, int64_t v_head_stride, int64_t v_row_stride, int32_t kv_type, const float *mask, int64_t mask_row_stride, int64_t n_heads, int64_t n_kv_heads, int64_t lq, int64_t lk, int64_t d, float scale, int32_t causal, int64_t kv_offset);

#ifdef __cplusplus
}
#endif
#endif /* TESSERA_CUDA_H */
