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
 * once per call to the activation type W pairs with (Q8_0/Q8_1/Q8_K, or F16/BF16/F32). */
TS_API int32_t ts_matmul(float *y, int64_t y_stride, const void *w, int32_t w_type, int64_t w_stride, const float *x, int64_t x_stride, int64_t n, int64_t k, int64_t m);

/* ---- Element-wise ops, norms, activations, RoPE, embeddings ------------------------- */

/* ---- Attention ----------------------------------------------------------------------- */

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
