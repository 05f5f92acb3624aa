/*
 * tessera.h — the whole C ABI of the Tessera native library.
 *
 * Conventions (the Java binding generator relies on them):
 *  - Every exported function is declared on one line, starts with TS_API and uses only
 *    the fixed-width integer types, float, double, void and pointers.
 *  - Functions that return int32_t return a ts_status code; on failure the calling
 *    thread's message is available from ts_last_error() until its next failing call.
 *  - TS_CRITICAL marks short, non-blocking functions that never call back into Java;
 *    the bindings link them with Linker.Option.critical.
 *  - Integer constants are plain #defines with integer literals.
 *  - Memory is owned by the caller: kernels take pointers, element counts and byte
 *    strides, and allocate nothing they do not free before returning.
 */
#ifndef TESSERA_H
#define TESSERA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define TS_API __declspec(dllexport)
#else
#define TS_API __attribute__((visibility("default")))
#endif
#define TS_CRITICAL

/* Bumped whenever a signature or a constant below changes meaning. */
#define TS_ABI_VERSION 1

/* Status codes. */
#define TS_OK 0
#define TS_ERR_INVALID_ARGUMENT 1
#define TS_ERR_UNSUPPORTED 2
#define TS_ERR_OUT_OF_MEMORY 3
#define TS_ERR_NOT_INITIALIZED 4
#define TS_ERR_INTERNAL 5

/* Element types, numbered as ggml_type ids so GGUF tensors need no translation. */
#define TS_TYPE_F32 0
#define TS_TYPE_F16 1
#define TS_TYPE_Q4_0 2
#define TS_TYPE_Q4_1 3
#define TS_TYPE_Q5_0 6
#define TS_TYPE_Q5_1 7
#define TS_TYPE_Q8_0 8
#define TS_TYPE_Q8_1 9
#define TS_TYPE_Q2_K 10
#define TS_TYPE_Q3_K 11
#define TS_TYPE_Q4_K 12
#define TS_TYPE_Q5_K 13
#define TS_TYPE_Q6_K 14
#define TS_TYPE_Q8_K 15
#define TS_TYPE_BF16 30

/* CPU feature bits reported by ts_cpu_features(). */
#define TS_CPU_SSE3 1
#define TS_CPU_AVX 2
#define TS_CPU_AVX2 4
#define TS_CPU_F16C 8
#define TS_CPU_FMA 16
#define TS_CPU_AVX512F 32
#define TS_CPU_AVX512BW 64
#define TS_CPU_AVX512VL 128
#define TS_CPU_AVX512VNNI 256
#define TS_CPU_AVX512BF16 512
#define TS_CPU_AVX512FP16 1024
#define TS_CPU_AVXVNNI 2048
#define TS_CPU_AMX_TILE 4096
#define TS_CPU_AMX_INT8 8192
#define TS_CPU_AMX_BF16 16384
#define TS_CPU_AMX_PERMITTED 32768
#define TS_CPU_NEON 65536
#define TS_CPU_DOTPROD 131072
#define TS_CPU_FP16_ARITH 262144

/* Kernel levels. A level uses every kernel written for it and below it. */
#define TS_ISA_SCALAR 0
#define TS_ISA_AVX2 1
#define TS_ISA_AVX512 2
#define TS_ISA_AMX 3
#define TS_ISA_NEON 11
#define TS_ISA_DOTPROD 12

/* Most dimensions ts_copy_strided accepts. */
#define TS_MAX_DIMS 8

/* ---- Version and errors -------------------------------------------------------------- */
TS_API TS_CRITICAL uint32_t ts_abi_version(void);
/* Library version string, static storage. */
TS_API TS_CRITICAL const char *ts_version(void);
/* Message of the calling thread's last failure ("" if none); thread-local storage of at
 * most 1024 bytes including the terminator, valid until the thread's next failing call. */
TS_API TS_CRITICAL const char *ts_last_error(void);

/* ---- Lifecycle ----------------------------------------------------------------------- */
/* Detects the CPU, picks the kernel level and starts the thread pool.
 * n_threads <= 0: one per online core. isa: a level name ("scalar", "avx2", "avx512",
 * "amx", "neon", "dotprod"), or NULL/"" for the best this CPU has, unless the environment
 * variable TESSERA_ISA names one. Asking for a level the CPU lacks fails.
 * Calling it again re-initialises (after an implicit ts_shutdown). */
TS_API int32_t ts_init(int32_t n_threads, const char *isa);
/* Stops the pool and forgets the kernel choice; ts_init may be called again. */
TS_API int32_t ts_shutdown(void);
TS_API TS_CRITICAL int32_t ts_is_initialized(void);

/* ---- Machine ------------------------------------------------------------------------- */
/* TS_CPU_* bits of what the CPU (and OS) support, whatever level is active. */
TS_API TS_CRITICAL uint64_t ts_cpu_features(void);
/* Active kernel level (TS_ISA_*), -1 before ts_init. */
TS_API TS_CRITICAL int32_t ts_isa(void);
/* Name of a TS_ISA_* level, or "unknown". */
TS_API TS_CRITICAL const char *ts_isa_name(int32_t isa);
/* Best level this CPU supports. */
TS_API TS_CRITICAL int32_t ts_isa_best(void);
TS_API TS_CRITICAL int32_t ts_n_threads(void);
/* Resizes the pool; n <= 0 means one per core. */
TS_API int32_t ts_set_threads(int32_t n_threads);

/* ---- Conversions and copies ---------------------------------------------------------- */
/* Converts n contiguous elements between F32, F16 and BF16 (any pair, same type = copy).
 * Float to half/bfloat rounds to nearest even; NaN stays NaN. Pointers need no alignment. */
TS_API int32_t ts_convert(void *dst, int32_t dst_type, const void *src, int32_t src_type, int64_t n);
/* Copies an ndim-dimensional view into another, converting between F32/F16/BF16.
 * shape[ndim]; strides in bytes, may be zero (broadcast source) or negative. Destination
 * elements must not overlap each other nor the source. */
TS_API int32_t ts_copy_strided(void *dst, int32_t dst_type, const int64_t *dst_strides, const void *src, int32_t src_type, const int64_t *src_strides, const int64_t *shape, int32_t ndim);

/* ---- Quantized formats and matmul ----------------------------------------------------- */
/* Quantizes rows x n_per_row floats into ggml blocks of `type` with the reference
 * quantizer (byte-identical to ggml's quantize_row_*_ref for the legacy types).
 * n_per_row must be a multiple of the type's block size; rows are packed. */
TS_API int32_t ts_quantize(void *dst, int32_t type, const float *src, int64_t rows, int64_t n_per_row);
/* Dequantizes rows x n_per_row elements of `type` (any supported type) into floats. */
TS_API int32_t ts_dequantize(float *dst, const void *src, int32_t type, int64_t rows, int64_t n_per_row);
/* y[m][n] = sum_k w[n][k] * x[m][k]: W [n x k] of w_type (row stride w_stride bytes), X [m x k]
 * F32 (row stride x_stride bytes), Y [m x n] F32 (row stride y_stride bytes). X is converted
 * once per call to the activation type W pairs with (Q8_0/Q8_1/Q8_K, or F16/BF16/F32); from a
 * number of columns the kernel level sets per weight type (float weights: 8; quantized ones on
 * avx2: 12 to 64), W is instead widened to F32 inside an F32 GEMM and X is used unrounded. */
TS_API int32_t ts_matmul(float *y, int64_t y_stride, const void *w, int32_t w_type, int64_t w_stride, const float *x, int64_t x_stride, int64_t n, int64_t k, int64_t m);

/* ---- Element-wise ops, norms, activations, RoPE, embeddings ------------------------- */
/* Common rules: "rows x n" operands have n contiguous elements per row and a row stride in
 * BYTES (>= the row's size for outputs); y may be the same memory as x (in place) but must
 * not partially overlap an input. Results are the same whatever the thread count: every
 * row (or group) is computed by one thread in a fixed order. Reductions run in double in
 * the scalar kernels and in float vectors in the SIMD ones (tests bound the difference). */

/* Activations for ts_activation / ts_glu. GELU is the exact erf form 0.5x(1+erf(x/sqrt2)),
 * GELU_TANH PyTorch's approximate='tanh', QUICK_GELU x*sigmoid(1.702x) (CLIP), SILU x*sigmoid(x). */
#define TS_ACT_GELU 0
#define TS_ACT_GELU_TANH 1
#define TS_ACT_QUICK_GELU 2
#define TS_ACT_SILU 3
/* Element-wise ops of ts_binary. */
#define TS_BINARY_ADD 0
#define TS_BINARY_MUL 1
/* RoPE layouts (llama.cpp mode numbers): NORM rotates adjacent pairs (x[2i], x[2i+1]) as
 * GGUF LLaMA models expect; NEOX rotates (x[i], x[i + n_dims/2]). */
#define TS_ROPE_NORM 0
#define TS_ROPE_NEOX 2

/* LayerNorm of each row: (x - mean) / sqrt(var + eps) * weight + bias, var the biased
 * variance; weight and/or bias may be NULL (1 and 0). F32. */
TS_API int32_t ts_layer_norm(float *y, int64_t y_stride, const float *x, int64_t x_stride, const float *weight, const float *bias, int64_t rows, int64_t n, float eps);
/* RMSNorm of each row: x / sqrt(mean(x^2) + eps) * weight; weight may be NULL. F32. */
TS_API int32_t ts_rms_norm(float *y, int64_t y_stride, const float *x, int64_t x_stride, const float *weight, int64_t rows, int64_t n, float eps);
/* GroupNorm of NCHW data: batch items of channels x hw contiguous floats, batch stride in
 * bytes; channels split into `groups` equal groups normalised together (biased variance),
 * then per channel * weight[c] + bias[c] (either may be NULL). */
TS_API int32_t ts_group_norm(float *y, int64_t y_stride, const float *x, int64_t x_stride, const float *weight, const float *bias, int64_t batch, int64_t channels, int64_t hw, int32_t groups, float eps);
/* y = act(x) per element of rows x n; type F32 or F16 (both sides the same type; F16 is
 * computed in float and rounded once). */
TS_API int32_t ts_activation(void *y, int64_t y_stride, const void *x, int64_t x_stride, int32_t type, int32_t act, int64_t rows, int64_t n);
/* y = act(gate) * up per element. SwiGLU (LLaMA): gate = gate_proj(x), up = up_proj(x),
 * act SILU. GEGLU (diffusers `hidden, gate = proj(x).chunk(2, dim=-1)`;
 * hidden * gelu(gate)): gate = the SECOND half of each row, up = the FIRST half, act GELU.
 * The halves of one [rows x 2n] tensor are strided views (row stride 2n elements). */
TS_API int32_t ts_glu(void *y, int64_t y_stride, const void *gate, int64_t gate_stride, const void *up, int64_t up_stride, int32_t type, int32_t act, int64_t rows, int64_t n);
/* Softmax of each row of x * scale + mask: mask (NULL: none) has mask_rows rows of n
 * floats (stride mask_stride bytes) and row r uses mask row r % mask_rows, so a [q x k]
 * mask serves [heads*q x k] scores. -inf entries are allowed; a row whose every entry is
 * -inf becomes all zeros. Numerically stable (the row maximum is subtracted). */
TS_API int32_t ts_softmax(float *y, int64_t y_stride, const float *x, int64_t x_stride, const float *mask, int64_t mask_stride, int64_t mask_rows, int64_t rows, int64_t n, float scale);
/* Rotary embedding of x [tokens x heads x head_dim] (head_dim contiguous; token and head
 * strides in bytes) into y (same layout rules). Token t has position pos[t]; pair i
 * (0 <= i < n_dims/2) is rotated by theta = pos * freq_base^(-2i/n_dims); elements from
 * n_dims to head_dim are copied. n_dims even, <= head_dim. mode TS_ROPE_NORM or NEOX.
 * Angles are computed in double. */
TS_API int32_t ts_rope(float *y, int64_t y_token_stride, int64_t y_head_stride, const float *x, int64_t x_token_stride, int64_t x_head_stride, const int32_t *pos, int64_t tokens, int64_t heads, int64_t head_dim, int32_t n_dims, int32_t mode, float freq_base);
/* Nearest-neighbour 2x upsampling of `planes` (N*C) contiguous h x w F32 planes into
 * planes of 2h x 2w. */
TS_API int32_t ts_upsample_nearest2x(float *y, const float *x, int64_t planes, int64_t h, int64_t w);
/* y = a op b element-wise over an ndim-dimensional shape (ndim <= 4) with byte strides per
 * operand; a stride of 0 broadcasts (numpy rules are applied by the caller). F32. */
TS_API int32_t ts_binary(float *y, const int64_t *y_strides, const float *a, const int64_t *a_strides, const float *b, const int64_t *b_strides, const int64_t *shape, int32_t ndim, int32_t op);
/* y = x * s + b per element of rows x n (F32). */
TS_API int32_t ts_scale(float *y, int64_t y_stride, const float *x, int64_t x_stride, int64_t rows, int64_t n, float s, float b);
/* Embedding lookup: y row r = row ids[r] of a table of n_table rows of n elements of `type`
 * (F32, F16, BF16 or any type ts_dequantize supports; row stride table_stride bytes),
 * dequantized to F32. Every id must be in [0, n_table): otherwise nothing is written and
 * the call fails with TS_ERR_INVALID_ARGUMENT. */
TS_API int32_t ts_get_rows(float *y, int64_t y_stride, const void *table, int32_t type, int64_t table_stride, int64_t n_table, int64_t n, const int32_t *ids, int64_t n_ids);
/* Sinusoidal timestep embedding as diffusers get_timestep_embedding: half = dim/2,
 * freq[i] = exp(-ln(max_period) * i / (half - downscale_freq_shift)), arg = scale * t * freq
 * (float32 like PyTorch), row = [sin(arg), cos(arg)] or [cos, sin] with flip_sin_to_cos,
 * a zero appended when dim is odd. SD1.5: flip_sin_to_cos=1, shift 0, scale 1,
 * max_period 10000. y is n x dim contiguous. */
TS_API int32_t ts_timestep_embedding(float *y, const float *timesteps, int64_t n, int32_t dim, int32_t flip_sin_to_cos, float downscale_freq_shift, float scale, float max_period);

/* ---- Attention ----------------------------------------------------------------------- */
/* Fused attention, O = softmax(scale·Q·Kᵀ + mask)·V, computed tile by tile with an online
 * softmax (running max and sum): the Lq x Lk score matrix is never stored.
 *  Q [n_heads x lq x d] F32, O [n_heads x lq x d] F32,
 *  K, V [n_kv_heads x lk x d] of kv_type (TS_TYPE_F32 or TS_TYPE_F16, both the same);
 *  every *_head_stride / *_row_stride is in bytes (any value, e.g. an [L x heads x d] layout
 *  passes row stride heads·d·size and head stride d·size); the d elements of a row are
 *  contiguous. No alignment is required.
 *  GQA/MQA: n_heads % n_kv_heads == 0; query head h reads kv head h / (n_heads / n_kv_heads).
 *  d in [1, 256] (the SIMD levels cover multiples of 8; other d run the scalar kernel).
 *  causal != 0: query i sits at position kv_offset + i and sees keys j <= kv_offset + i
 *  (decode with a cache of lk keys: lq = 1, kv_offset = lk - 1). kv_offset is ignored
 *  when causal == 0.
 *  mask: NULL or F32 [lq x lk] (row stride mask_row_stride bytes), added to the scaled
 *  scores of every head; -INFINITY hides a key.
 *  A query row that sees no key (all masked, or causal with kv_offset + i < 0) gets O = 0.
 *  O must not overlap the inputs. Scratch: ts_attention_scratch_bytes per call. */
TS_API int32_t ts_attention(float *o, int64_t o_head_stride, int64_t o_row_stride, const float *q, int64_t q_head_stride, int64_t q_row_stride, const void *k, int64_t k_head_stride, int64_t k_row_stride, const void *v, int64_t v_head_stride, int64_t v_row_stride, int32_t kv_type, const float *mask, int64_t mask_row_stride, int64_t n_heads, int64_t n_kv_heads, int64_t lq, int64_t lk, int64_t d, float scale, int32_t causal, int64_t kv_offset);
/* Bytes of scratch ts_attention allocates (and frees) for these sizes with the active
 * level and thread count: one block of tiles per thread, independent of lk. */
TS_API TS_CRITICAL int64_t ts_attention_scratch_bytes(int64_t n_heads, int64_t lq, int64_t lk, int64_t d);

/* ---- Convolution --------------------------------------------------------------------- */
/* 2-D convolution, NCHW, contiguous tensors:
 *   y[n][cout][oh][ow] = bias[co] + sum over ci in co's group, ky, kx of
 *       w[co][ci][ky][kx] * x[n][g*cin/groups + ci][oy*stride_h - pad_h + ky*dil_h][ox*stride_w - pad_w + kx*dil_w]
 * (zero outside the image), oh = (h + 2*pad_h - dil_h*(kh-1) - 1) / stride_h + 1, likewise ow.
 * x: F32 [n][cin][h][width]; w: w_type TS_TYPE_F32 or TS_TYPE_F16, [cout][cin/groups][kh][kw];
 * bias: F32 [cout] or NULL; y: F32 [n][cout][oh][ow], must not overlap x, w or bias.
 * cin and cout must be multiples of groups; stride, dilation >= 1; padding >= 0; oh, ow >= 1.
 * Scratch per call (ts_conv2d_scratch_bytes tells): never a whole im2col matrix. General
 * kernels: the weights packed once (4 bytes per weight) plus about 1 MiB per thread (one
 * 256-deep slice of a <= 1024-pixel im2col panel); patchify: at most about 32 MiB; 1x1:
 * about 2 MiB per thread; depthwise: none. F16 weights add 4 bytes per weight (converted
 * once per call). */
TS_API int32_t ts_conv2d(float *y, const float *x, const void *w, int32_t w_type, const float *bias, int64_t n, int64_t cin, int64_t h, int64_t width, int64_t cout, int64_t kh, int64_t kw, int32_t stride_h, int32_t stride_w, int32_t pad_h, int32_t pad_w, int32_t dil_h, int32_t dil_w, int32_t groups);
/* Bytes of scratch ts_conv2d would allocate for these arguments on the current pool
 * (benchmarks report it); -1 if they are invalid (the thread's error says why). */
TS_API int64_t ts_conv2d_scratch_bytes(int32_t w_type, int64_t n, int64_t cin, int64_t h, int64_t width, int64_t cout, int64_t kh, int64_t kw, int32_t stride_h, int32_t stride_w, int32_t pad_h, int32_t pad_w, int32_t dil_h, int32_t dil_w, int32_t groups);

/* ---- Diagnostics --------------------------------------------------------------------- */
/* Does nothing: measures the cost of a downcall. */
TS_API TS_CRITICAL void ts_noop(void);
/* Returns a + n: measures a downcall that passes arguments. */
TS_API TS_CRITICAL int64_t ts_noop_args(const void *a, int64_t n);
/* Reads n_bytes at p (split over the pool) and returns a checksum: the machine's read
 * bandwidth when p is far larger than the caches. */
TS_API int64_t ts_bench_read(const void *p, int64_t n_bytes);
/* Runs iters rounds of independent FMA chains on every pool thread with the active level's
 * widest float vectors; returns the floating-point operations done (an FMA counts 2 per lane). */
TS_API int64_t ts_bench_fma(int64_t iters);

#ifdef __cplusplus
}
#endif
#endif /* TESSERA_H */
