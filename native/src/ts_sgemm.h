/*
 * ts_sgemm.h — F32 GEMM used by the convolution kernels (internal, not part of the ABI).
 *
 *   C[m x n] = (accumulate ? C : 0) + A[m x k] · B
 *
 * A is row-major with row stride lda (elements). B is [k x n] with row stride ldb, or, with
 * b_trans, [n x k] with row stride ldb (B(p, j) = b[j * ldb + p]). C has row stride ldc.
 * Strides are in elements, not bytes. m, n, k >= 0; k == 0 sets C to 0 unless accumulating.
 *
 * The kernel table's sgemm_block runs one block on the calling thread with a caller-owned
 * scratch of ts_sgemm_scratch_floats(m, n, k) floats (32-byte aligned); ts_sgemm splits C
 * over the pool and allocates each thread's scratch itself.
 */
#ifndef TS_SGEMM_H
#define TS_SGEMM_H

#include <stdint.h>

/* Register tile of the AVX2 microkernel (rows of A x columns of B) and cache blocking:
 * a KC x NR panel of B (16 KiB) stays in L1, an MC x KC block of A (120 KiB) in L2, a
 * KC x NC panel of B (2 MiB) in L3. */
#define TS_SGEMM_MR 6
#define TS_SGEMM_NR 16
#define TS_SGEMM_KC 256
#define TS_SGEMM_MC 120
#define TS_SGEMM_NC 2048

typedef void (*ts_sgemm_block_fn)(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b,
                                  int64_t ldb, int32_t b_trans, float *c, int64_t ldc, int32_t accumulate,
                                  float *scratch);

/* Packed layouts shared by every level (generic C in ts_sgemm.c):
 *  - A block (mc x kc): MR-row panels one after another; panel i holds, for each p in
 *    [0, kc), the MR values A(i*MR + r, p) (rows past mc zero). Size round_up(mc, MR) * kc.
 *  - whole A (m x k), for reuse across many products: the A blocks of each KC-deep slice
 *    [pc, pc + kc) one after another; slice pc starts at pc * round_up(m, MR), and its rows
 *    from ic (a multiple of MR) at pc * round_up(m, MR) + ic * kc.
 *  - B block (kc x nc): NR-column panels; panel j holds, for each p, the NR values
 *    B(p, j*NR + t) (columns past nc zero). Size round_up(nc, NR) * kc. */
void ts_sgemm_pack_a_block(int64_t mc, int64_t kc, const float *a, int64_t lda, float *pa);
int64_t ts_sgemm_packed_a_floats(int64_t m, int64_t k);
void ts_sgemm_pack_a(int64_t m, int64_t k, const float *a, int64_t lda, float *pa);
/* One NR-wide packed B micro-panel from nr <= NR rows of a row-major [nr x kc] block (row
 * stride lds): pb[p * NR + t] = src[t * lds + p], zero for t >= nr. The kernel table's
 * sgemm_pack_bt_panel has this contract; this is the generic version. */
typedef void (*ts_sgemm_pack_bt_fn)(int64_t kc, const float *src, int64_t lds, int64_t nr, float *pb);
void ts_sgemm_pack_bt_panel_ref(int64_t kc, const float *src, int64_t lds, int64_t nr, float *pb);
/* B block; with b_trans its panels come from `panel` (the level's sgemm_pack_bt_panel). */
void ts_sgemm_pack_b(int64_t kc, int64_t nc, const float *b, int64_t ldb, int32_t b_trans, ts_sgemm_pack_bt_fn panel,
                     float *pb);

/* The kernel table's sgemm_macro: C[m x n] (+)= packed A block (m x kc) · packed B block
 * (kc x n), on the calling thread; m, n may be any size (edge tiles handled). pb must be
 * 32-byte aligned. */
typedef void (*ts_sgemm_macro_fn)(int64_t m, int64_t n, int64_t kc, const float *pa, const float *pb, float *c,
                                  int64_t ldc, int32_t accumulate);

/* Floats of scratch sgemm_block needs for an m x n x k block (packed A and B panels);
 * bounded by (MC + NC) * KC plus rounding whatever the sizes. */
int64_t ts_sgemm_scratch_floats(int64_t m, int64_t n, int64_t k);

/* Threaded GEMM on the active kernel table. Returns TS_OK or TS_ERR_OUT_OF_MEMORY (with the
 * thread's error set). */
int32_t ts_sgemm(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb,
                 int32_t b_trans, float *c, int64_t ldc, int32_t accumulate);

/* Bytes of scratch ts_sgemm allocates for these sizes on the current pool. */
int64_t ts_sgemm_scratch_bytes(int64_t m, int64_t n, int64_t k);

/* The scalar reference block (what every level is tested against). */
void ts_sgemm_block_ref(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb,
                        int32_t b_trans, float *c, int64_t ldc, int32_t accumulate, float *scratch);

#endif /* TS_SGEMM_H */
