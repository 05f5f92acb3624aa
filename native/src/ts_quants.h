/*
 * ts_quants.h — ggml/GGUF quantized block formats: layouts, scalar reference
 * quantizers, dequantizers and dot products, and a per-type traits table.
 *
 * Internal header (not part of the public ABI). The layouts are the ones GGUF files
 * store (docs FORMATS.md §2): packed, no padding, blocks concatenated along ne[0].
 * Half-precision fields are raw IEEE binary16 bits (uint16_t), converted with the RNE
 * helpers of ts_fp16.h (same results as ggml).
 *
 * Everything here is the *reference* layer: plain C, one block at a time, used to
 * create files, to check SIMD kernels against, and as the fallback kernel level.
 *  - The legacy quantizers (Q4_0 … Q8_1) produce bytes identical to ggml's
 *    quantize_row_*_ref, so files we write equal the ones llama-quantize writes.
 *  - The K-quant quantizers make blocks llama.cpp reads, with error no worse than ggml's
 *    reference quantizers (checked against ggml's own output in tests/test_quants.c).
 *  - Dot products pair a weight type with the activation type of FORMATS.md §2.4
 *    (Q8_0, Q8_1 or Q8_K) and return float.
 */
#ifndef TS_QUANTS_H
#define TS_QUANTS_H

#include <stddef.h>
#include <stdint.h>
#include "tessera.h"

/* Element types are ggml_type ids, the TS_TYPE_* of tessera.h. */
/* One past the largest ggml id this table knows about (ids up to GGML_TYPE_COUNT exist). */
#define TS_QTYPE_TABLE_SIZE 31

/* Elements per block. */
#define TS_QK4_0 32
#define TS_QK4_1 32
#define TS_QK5_0 32
#define TS_QK5_1 32
#define TS_QK8_0 32
#define TS_QK8_1 32
#define TS_QK_K 256
#define TS_K_SCALE_SIZE 12 /* packed 6-bit scales/mins of Q4_K and Q5_K */

/* ---- Block layouts (every field is a byte array or a naturally aligned 2/4-byte
 * field at an aligned offset, so the structs have no padding; the asserts prove it). */

typedef struct {
    uint16_t d;            /* half: scale */
    uint8_t qs[16];        /* byte j: element j (low nibble), element j+16 (high) */
} ts_block_q4_0;

typedef struct {
    uint16_t d;            /* half: scale */
    uint16_t m;            /* half: min (added) */
    uint8_t qs[16];
} ts_block_q4_1;

typedef struct {
    uint16_t d;
    uint8_t qh[4];         /* LE u32, bit i = 5th bit of element i */
    uint8_t qs[16];
} ts_block_q5_0;

typedef struct {
    uint16_t d;
    uint16_t m;
    uint8_t qh[4];
    uint8_t qs[16];
} ts_block_q5_1;

typedef struct {
    uint16_t d;
    int8_t qs[32];
} ts_block_q8_0;

typedef struct {
    uint16_t d;
    uint16_t s;            /* half(d * sum(qs)), used by Q4_1/Q5_1 dot products */
    int8_t qs[32];
} ts_block_q8_1;

typedef struct {
    uint8_t scales[16];    /* low nibble: scale code, high nibble: min code */
    uint8_t qs[64];        /* 2-bit quants */
    uint16_t d;            /* half: super-scale of the scales */
    uint16_t dmin;         /* half: super-scale of the mins */
} ts_block_q2_K;

typedef struct {
    uint8_t hmask[32];     /* high (3rd) bit of each quant */
    uint8_t qs[64];        /* low 2 bits */
    uint8_t scales[12];    /* 16 signed 6-bit scales, packed */
    uint16_t d;
} ts_block_q3_K;

typedef struct {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[TS_K_SCALE_SIZE]; /* 8 x (6-bit scale, 6-bit min), packed */
    uint8_t qs[128];
} ts_block_q4_K;

typedef struct {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[TS_K_SCALE_SIZE];
    uint8_t qh[32];        /* 5th bits */
    uint8_t qs[128];       /* low 4 bits */
} ts_block_q5_K;

typedef struct {
    uint8_t ql[128];       /* low 4 bits */
    uint8_t qh[64];        /* high 2 bits */
    int8_t scales[16];
    uint16_t d;
} ts_block_q6_K;

typedef struct {
    float d;               /* f32 (not half): activation scale, may be negative */
    int8_t qs[256];
    int16_t bsums[16];     /* sum of qs over each group of 16 */
} ts_block_q8_K;

_Static_assert(sizeof(ts_block_q4_0) == 18, "q4_0 block is 18 bytes");
_Static_assert(sizeof(ts_block_q4_1) == 20, "q4_1 block is 20 bytes");
_Static_assert(sizeof(ts_block_q5_0) == 22, "q5_0 block is 22 bytes");
_Static_assert(sizeof(ts_block_q5_1) == 24, "q5_1 block is 24 bytes");
_Static_assert(sizeof(ts_block_q8_0) == 34, "q8_0 block is 34 bytes");
_Static_assert(sizeof(ts_block_q8_1) == 36, "q8_1 block is 36 bytes");
_Static_assert(sizeof(ts_block_q2_K) == 84, "q2_K block is 84 bytes");
_Static_assert(sizeof(ts_block_q3_K) == 110, "q3_K block is 110 bytes");
_Static_assert(sizeof(ts_block_q4_K) == 144, "q4_K block is 144 bytes");
_Static_assert(sizeof(ts_block_q5_K) == 176, "q5_K block is 176 bytes");
_Static_assert(sizeof(ts_block_q6_K) == 210, "q6_K block is 210 bytes");
_Static_assert(sizeof(ts_block_q8_K) == 292, "q8_K block is 292 bytes");

/* ---- Scale codes of the K-quants, shared by the reference and the SIMD dequantizers. ---- */

/* 6-bit signed scale code of Q3_K sub-block s (0..15), minus 32. */
static inline int ts_q3k_scale(const uint8_t *sc, int s) {
    int lo = s < 8 ? (sc[s] & 15) : (sc[s - 8] >> 4);
    int hi = (sc[8 + (s & 3)] >> (2 * (s >> 2))) & 3;
    return (lo | (hi << 4)) - 32;
}

/* Scale and min of sub-block j from the Q4_K/Q5_K 12-byte packing of eight 6-bit pairs
 * (FORMATS.md §2.3). */
static inline void ts_k4_get(const uint8_t *q, int j, int *sc, int *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 15) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

/* ---- Row functions. k = number of elements, a multiple of the type's block size. ---- */

void ts_quantize_row_q4_0_ref(const float *x, void *y, int64_t k);
void ts_quantize_row_q4_1_ref(const float *x, void *y, int64_t k);
void ts_quantize_row_q5_0_ref(const float *x, void *y, int64_t k);
void ts_quantize_row_q5_1_ref(const float *x, void *y, int64_t k);
void ts_quantize_row_q8_0_ref(const float *x, void *y, int64_t k); /* also the activation quantizer */
void ts_quantize_row_q8_1_ref(const float *x, void *y, int64_t k); /* also the activation quantizer */
void ts_quantize_row_q2_K_ref(const float *x, void *y, int64_t k);
void ts_quantize_row_q3_K_ref(const float *x, void *y, int64_t k);
void ts_quantize_row_q4_K_ref(const float *x, void *y, int64_t k);
void ts_quantize_row_q5_K_ref(const float *x, void *y, int64_t k);
void ts_quantize_row_q6_K_ref(const float *x, void *y, int64_t k);
void ts_quantize_row_q8_K_ref(const float *x, void *y, int64_t k); /* activation quantizer */

void ts_dequantize_row_q4_0(const void *x, float *y, int64_t k);
void ts_dequantize_row_q4_1(const void *x, float *y, int64_t k);
void ts_dequantize_row_q5_0(const void *x, float *y, int64_t k);
void ts_dequantize_row_q5_1(const void *x, float *y, int64_t k);
void ts_dequantize_row_q8_0(const void *x, float *y, int64_t k);
void ts_dequantize_row_q8_1(const void *x, float *y, int64_t k);
void ts_dequantize_row_q2_K(const void *x, float *y, int64_t k);
void ts_dequantize_row_q3_K(const void *x, float *y, int64_t k);
void ts_dequantize_row_q4_K(const void *x, float *y, int64_t k);
void ts_dequantize_row_q5_K(const void *x, float *y, int64_t k);
void ts_dequantize_row_q6_K(const void *x, float *y, int64_t k);
void ts_dequantize_row_q8_K(const void *x, float *y, int64_t k);

/* Plain element rows (block size 1), so F32/F16/BF16 fit the same traits. */
void ts_quantize_row_f32_ref(const float *x, void *y, int64_t k);  /* copy */
void ts_quantize_row_f16_ref(const float *x, void *y, int64_t k);  /* RNE */
void ts_quantize_row_bf16_ref(const float *x, void *y, int64_t k); /* RNE */
void ts_dequantize_row_f32(const void *x, float *y, int64_t k);
void ts_dequantize_row_f16(const void *x, float *y, int64_t k);
void ts_dequantize_row_bf16(const void *x, float *y, int64_t k);

/* ---- Reference dot products: sum over k elements of w[i]*a[i], w in the weight type,
 * a in the paired activation type (FORMATS.md §2.4). Integer sums inside a block (or a
 * sub-block for K-quants), the block's scales applied in float, a float running sum
 * across blocks, blocks visited in order. */
float ts_vec_dot_q4_0_q8_0_ref(int64_t k, const void *w, const void *a);
float ts_vec_dot_q4_1_q8_1_ref(int64_t k, const void *w, const void *a);
float ts_vec_dot_q5_0_q8_0_ref(int64_t k, const void *w, const void *a);
float ts_vec_dot_q5_1_q8_1_ref(int64_t k, const void *w, const void *a);
float ts_vec_dot_q8_0_q8_0_ref(int64_t k, const void *w, const void *a);
float ts_vec_dot_q2_K_q8_K_ref(int64_t k, const void *w, const void *a);
float ts_vec_dot_q3_K_q8_K_ref(int64_t k, const void *w, const void *a);
float ts_vec_dot_q4_K_q8_K_ref(int64_t k, const void *w, const void *a);
float ts_vec_dot_q5_K_q8_K_ref(int64_t k, const void *w, const void *a);
float ts_vec_dot_q6_K_q8_K_ref(int64_t k, const void *w, const void *a);
/* Plain types: products and running sum in float, in index order. */
float ts_vec_dot_f32_f32_ref(int64_t k, const void *w, const void *a);
float ts_vec_dot_f16_f16_ref(int64_t k, const void *w, const void *a);
float ts_vec_dot_bf16_bf16_ref(int64_t k, const void *w, const void *a);

/* ---- Traits ---------------------------------------------------------------------- */

typedef void (*ts_quantize_row_fn)(const float *x, void *y, int64_t k);
typedef void (*ts_dequantize_row_fn)(const void *x, float *y, int64_t k);
typedef float (*ts_vec_dot_fn)(int64_t k, const void *w, const void *a);

typedef struct {
    const char *name;              /* ggml's name: "q4_0", "q4_K", "f16", ... */
    int32_t type;                  /* ggml_type id == TS_TYPE_* */
    int32_t blck_size;             /* elements per block (1 for plain types) */
    int32_t type_size;             /* bytes per block */
    int32_t is_quantized;
    ts_quantize_row_fn quantize;   /* reference quantizer (f32 row -> blocks); for Q8_0,
                                      Q8_1, Q8_K it is also the activation quantizer */
    ts_dequantize_row_fn dequantize;
    ts_vec_dot_fn vec_dot;         /* reference dot with activations of vec_dot_type; NULL
                                      for activation-only types (Q8_1, Q8_K) */
    int32_t vec_dot_type;          /* activation type the dot expects */
} ts_type_traits;

/* Traits of a ggml type id, or NULL if unsupported (IQ/TQ/MXFP4 ... are not). */
const ts_type_traits *ts_get_type_traits(int32_t ggml_type);

/* Older spelling of the same table, kept so either name links. */
typedef ts_type_traits ts_qtype_traits;
const ts_type_traits *ts_qtype_traits_get(int32_t type);

/* Bytes of a row of n elements (n a multiple of blck_size); 0 for an unknown type. */
size_t ts_qtype_row_size(int32_t type, int64_t n);

#endif /* TS_QUANTS_H */
