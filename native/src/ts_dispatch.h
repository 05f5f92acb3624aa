/*
 * ts_dispatch.h — the kernel table: one function pointer per kernel, filled by ts_init
 * for the chosen level (internal).
 *
 * How the table is filled (ts_kernels_fill): first every reference (scalar) kernel, then
 * each level of the chosen level's chain in ascending order overwrites the entries it
 * implements: x86 scalar -> avx2 -> avx512 -> amx, arm scalar -> neon -> dotprod. So a
 * level without its own version of a kernel inherits the best lower one.
 *
 * Adding a kernel family (e.g. quantized dot products):
 *  1. add typed pointer fields to struct ts_kernels below;
 *  2. write `void ts_register_<family>_<level>(struct ts_kernels *k, uint64_t cpu)` in
 *     src/ts_<family>.c (scalar) and src/arch/<arch>/<family>_<level>.c, setting only the
 *     fields that level implements (cpu = ts_cpu_detect() bits, for optional extras such
 *     as AVX512-BF16 within the avx512 level; such extras must use per-function
 *     __attribute__((target(...))) and be chosen here only when the bit is present);
 *  3. add the function to the matching k_reg_<level>[] list in ts_dispatch.c.
 */
#ifndef TS_DISPATCH_H
#define TS_DISPATCH_H

#include <stdint.h>

/* Size of the per-type kernel arrays: one past the largest ggml id we compute (BF16 = 30). */
#define TS_KERNEL_TYPES 31
/* Number of TS_ACT_* activations (tessera.h). */
#define TS_ACT_KINDS 4

struct ts_kernels;
struct ts_conv_geom;
typedef void (*ts_register_fn)(struct ts_kernels *k, uint64_t cpu);

/* Arguments of one ts_attention call, checked by the driver (ts_attention.c); strides in
 * bytes, as in tessera.h. */
typedef struct {
    float *o;
    int64_t o_hs, o_rs;
    const float *q;
    int64_t q_hs, q_rs;
    const char *k;
    int64_t k_hs, k_rs;
    const char *v;
    int64_t v_hs, v_rs;
    int32_t kv_type; /* TS_TYPE_F32 or TS_TYPE_F16 */
    const float *mask; /* NULL or [lq x lk] */
    int64_t mask_rs;
    int64_t n_heads, n_kv_heads, lq, lk, d;
    float scale;
    int32_t causal;
    int64_t kv_offset;
} ts_attn_args;

struct ts_kernels {
    int32_t isa; /* TS_ISA_* this table was filled for */

    /* Row conversions of n contiguous elements; n >= 0; no overlap. Pointers may have ANY
     * alignment, even odd addresses (use loadu/storeu or memcpy, never a typed deref).
     * Bit-exact with ts_fp16.h (RNE, NaN quieted, subnormals kept). */
    void (*f32_to_f16)(uint16_t *dst, const float *src, int64_t n);
    void (*f16_to_f32)(float *dst, const uint16_t *src, int64_t n);
    void (*f32_to_bf16)(uint16_t *dst, const float *src, int64_t n);
    void (*bf16_to_f32)(float *dst, const uint16_t *src, int64_t n);

    /* Quantized formats, indexed by ggml type id (TS_TYPE_*; NULL where unsupported).
     * vec_dot[w]: dot of one weight row of type w with one activation row of the type w
     * pairs with (ts_type_traits.vec_dot_type); k elements, any alignment.
     * quantize_row[a]: F32 row -> type a; for the activation types Q8_0/Q8_1/Q8_K a SIMD
     * version must produce the same bytes as the reference (tests check it). */
    float (*vec_dot[TS_KERNEL_TYPES])(int64_t k, const void *w, const void *a);
    void (*quantize_row[TS_KERNEL_TYPES])(const float *x, void *y, int64_t k);
    /* dequantize_row[w]: k elements of type w -> F32, bit-identical to the reference. */
    void (*dequantize_row[TS_KERNEL_TYPES])(const void *x, float *y, int64_t k);
    /* sgemm_min_m[w] (0: never): from this many activation columns on, ts_matmul widens W
     * to F32 block by block into the SGEMM's packed panels (dequantize_row[w], or the
     * F16/BF16 conversions) and multiplies X as it is, instead of quantizing X for the int8
     * dots/tiles: set by a level whose FP32 FMA path beats its int8 arithmetic at that M
     * (measured per level). */
    int64_t sgemm_min_m[TS_KERNEL_TYPES];

    /* Quantized matmul tiles, indexed by weight type w (NULL: ts_matmul runs vec_dot[w]
     * per (row, column) pair). gemm[w](k, w, w_stride, a, a_stride, y, y_stride, nr, nc)
     * computes, for every r < nr and c < nc,
     *     ((float *)((char *)y + c * y_stride))[r] = dot(W row r, A row c)
     * with W row r at (const char *)w + r * w_stride (type w, k elements) and A row c at
     * (const char *)a + c * a_stride (w's vec_dot_type). Strides are in bytes; W and A
     * rows may have any alignment (y and y_stride are float-aligned); nr, nc >= 1 of any size (the kernel handles partial
     * register tiles itself); k a multiple of the block size. Each output equals
     * vec_dot[w] of the same pair up to float summation order (same integer block sums).
     * Runs on the calling thread: ts_matmul does the threading and the cache blocking
     * (it passes row slices x column blocks). The scalar level's entries loop over the
     * reference dot, so a level that installs a SIMD vec_dot[w] for a type that has a
     * scalar gemm[w] must install its own gemm[w] too, or matmul at M > 1 runs the
     * reference. */
    void (*gemm[TS_KERNEL_TYPES])(int64_t k, const void *w, int64_t w_stride, const void *a, int64_t a_stride,
                                  float *y, int64_t y_stride, int64_t nr, int64_t nc);

    /* Peak-throughput probe: iters rounds of independent FMA chains on this thread;
     * returns the flops done and writes a result to *sink so nothing is optimised away. */
    int64_t (*fma_probe)(int64_t iters, float *sink);
    /* Read-bandwidth probe: the sum of the 64-bit words of [p, p + n_bytes) (any alignment,
     * n_bytes a multiple of 64), read as fast as this level can stream memory. */
    uint64_t (*read_probe)(const void *p, int64_t n_bytes);

    /* Row kernels of the ops family (ts_ops.c): n contiguous floats, any alignment, y may
     * be the same pointer as x (never a partial overlap). w/b/mask may be NULL.
     * act_row/glu_row are indexed by TS_ACT_*. */
    void (*rms_norm_row)(float *y, const float *x, const float *w, int64_t n, float eps);
    void (*layer_norm_row)(float *y, const float *x, const float *w, const float *b, int64_t n, float eps);
    void (*softmax_row)(float *y, const float *x, const float *mask, int64_t n, float scale);
    void (*act_row[TS_ACT_KINDS])(float *y, const float *x, int64_t n);
    void (*glu_row[TS_ACT_KINDS])(float *y, const float *gate, const float *up, int64_t n);
    /* Attention: attn_tile computes O rows [q0, q0 + nq) of head h (nq <= attn_tile_q)
     * using scratch of attn_scratch_floats(d) floats (64-byte aligned, private to the
     * calling thread). A level may hand shapes it does not cover to the scalar tile. */
    void (*attn_tile)(const ts_attn_args *a, int64_t h, int64_t q0, int64_t nq, float *scratch);
    int64_t attn_tile_q;
    int64_t (*attn_scratch_floats)(int64_t d);
    /* F32 GEMM block on the calling thread (ts_sgemm.h: arguments, scratch size). */
    void (*sgemm_block)(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb,
                        int32_t b_trans, float *c, int64_t ldc, int32_t accumulate, float *scratch);
    /* One NR-wide packed B micro-panel from rows of a row-major block (ts_sgemm_pack_bt_fn,
     * ts_sgemm.h). */
    void (*sgemm_pack_bt_panel)(int64_t kc, const float *src, int64_t lds, int64_t nr, float *pb);
    /* C (+)= packed A block · packed B block (layouts in ts_sgemm.h). */
    void (*sgemm_macro)(int64_t m, int64_t n, int64_t kc, const float *pa, const float *pb, float *c, int64_t ldc,
                        int32_t accumulate);
    /* Depthwise convolution of one plane (ts_conv.h); y gets bias + taps. */
    void (*conv_dw_plane)(float *y, const float *x, const float *w, float bias, const struct ts_conv_geom *g);
};

/* The table kernels call through. Always valid: scalar after ts_shutdown (so a kernel
 * racing with shutdown never jumps through NULL), the chosen level after ts_init. */
const struct ts_kernels *ts_kernels_active(void);

/* Fills *k for level isa (TS_ISA_*), without checking that this CPU can run it (tests use
 * this to build a table per level they have verified with ts_cpu_level_ok). */
void ts_kernels_fill(struct ts_kernels *k, int32_t isa, uint64_t cpu);

/* Lifecycle (ts_core.c): select a level / go back to the scalar table with isa = -1. */
void ts_kernels_select(int32_t isa, uint64_t cpu);
void ts_kernels_reset(void);

/* Per-level registration functions of the conversion family. */
void ts_register_convert_scalar(struct ts_kernels *k, uint64_t cpu);
void ts_register_convert_avx2(struct ts_kernels *k, uint64_t cpu);
void ts_register_convert_avx512(struct ts_kernels *k, uint64_t cpu);
void ts_register_convert_neon(struct ts_kernels *k, uint64_t cpu);

/* Per-level registration functions of the quantized-format family. */
void ts_register_quants_scalar(struct ts_kernels *k, uint64_t cpu);
void ts_register_quants_avx2(struct ts_kernels *k, uint64_t cpu);
void ts_register_quants_neon(struct ts_kernels *k, uint64_t cpu);
void ts_register_quants_dotprod(struct ts_kernels *k, uint64_t cpu);
void ts_register_quants_k_avx2(struct ts_kernels *k, uint64_t cpu);
void ts_register_dequant_avx2(struct ts_kernels *k, uint64_t cpu);
void ts_register_quants_avx512(struct ts_kernels *k, uint64_t cpu);

/* Per-level registration functions of the quantized matmul tiles (ts_gemm.c, gemm_<level>.c). */
void ts_register_gemm_scalar(struct ts_kernels *k, uint64_t cpu);
void ts_register_gemm_avx2(struct ts_kernels *k, uint64_t cpu);
void ts_register_gemm_avx512(struct ts_kernels *k, uint64_t cpu);

/* Per-level registration functions of the machine probes. */
void ts_register_probe_scalar(struct ts_kernels *k, uint64_t cpu);
void ts_register_probe_avx2(struct ts_kernels *k, uint64_t cpu);

/* Per-level registration functions of the ops family (norms, softmax, activations). */
void ts_register_ops_scalar(struct ts_kernels *k, uint64_t cpu);
void ts_register_ops_avx2(struct ts_kernels *k, uint64_t cpu);
/* Per-level registration functions of attention, and the scalar tile (SIMD levels fall
 * back to it for shapes they do not cover). */
void ts_register_attention_scalar(struct ts_kernels *k, uint64_t cpu);
void ts_register_attention_avx2(struct ts_kernels *k, uint64_t cpu);
void ts_attn_tile_scalar(const ts_attn_args *a, int64_t h, int64_t q0, int64_t nq, float *scratch);
int64_t ts_attn_scratch_floats_scalar(int64_t d);
/* Per-level registration functions of the F32 GEMM and convolution family. */
void ts_register_sgemm_scalar(struct ts_kernels *k, uint64_t cpu);
void ts_register_sgemm_avx2(struct ts_kernels *k, uint64_t cpu);
void ts_register_conv_scalar(struct ts_kernels *k, uint64_t cpu);
void ts_register_conv_avx2(struct ts_kernels *k, uint64_t cpu);

#endif /* TS_DISPATCH_H */
