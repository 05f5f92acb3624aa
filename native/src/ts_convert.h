/*
 * ts_convert.h — reference conversion row kernels and helpers shared by ts_convert.c and
 * ts_copy.c (internal).
 */
#ifndef TS_CONVERT_H
#define TS_CONVERT_H

#include <stdint.h>

/* Scalar references (ts_fp16.h semantics); also the tail loops of the SIMD versions. */
void ts_f32_to_f16_ref(uint16_t *dst, const float *src, int64_t n);
void ts_f16_to_f32_ref(float *dst, const uint16_t *src, int64_t n);
void ts_f32_to_bf16_ref(uint16_t *dst, const float *src, int64_t n);
void ts_bf16_to_f32_ref(float *dst, const uint16_t *src, int64_t n);

/* Bytes per element of F32/F16/BF16, 0 for any other type. */
int32_t ts_convert_type_size(int32_t type);

/* Converts n contiguous elements src_type -> dst_type on the calling thread with the active
 * kernels (same type: memcpy). Types must be valid. */
void ts_convert_row(void *dst, int32_t dst_type, const void *src, int32_t src_type, int64_t n);

#endif /* TS_CONVERT_H */
