/*
 * tsc_copy.cu — strided copies between F32, F16 and BF16 views (the KV-cache append, concat,
 * permuted copies): the CUDA twin of ts_copy_strided.
 */
#include "tsc_internal.cuh"

struct copy_args {
    int64_t shape[TS_MAX_DIMS];
    int64_t ds[TS_MAX_DIMS], ss[TS_MAX_DIMS]; /* byte strides */
    int32_t ndim;
};

/* Conversions bit-identical to the CPU's (ts_fp16.h): round to nearest even through the
 * intrinsics, and NaN quieted with its top payload bits kept (the intrinsics would return a
 * canonical NaN instead); the store is tsc_store_as (tsc_device.cuh). */
static __device__ __forceinline__ float load_as_float(const char *p, int32_t type) {
    if (type == TS_TYPE_F16) {
        const uint16_t h = *(const uint16_t *)p;
        if ((h & 0x7c00u) == 0x7c00u && (h & 0x3ffu))
            return __uint_as_float(((uint32_t)(h & 0x8000u) << 16) | 0x7fc00000u | ((uint32_t)(h & 0x3ffu) << 13));
        return __half2float(__ushort_as_half(h));
    }
    if (type == TS_TYPE_BF16) return __uint_as_float((uint32_t)(*(const uint16_t *)p) << 16);
    return *(const float *)p;
}

/* One element per thread (grid-stride); the innermost dimension varies fastest, so neighbouring
 * threads touch neighbouring elements of both views when their last stride is small. */
__global__ void k_copy_strided(char *dst, int32_t dt, const char *src, int32_t st, struct copy_args a, int64_t total) {
    tsc_pdl_enter();
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t rest = i, doff = 0, soff = 0;
        for (int d = a.ndim - 1; d >= 0; d--) {
            const int64_t idx = rest % a.shape[d];
            rest /= a.shape[d];
            doff += idx * a.ds[d];
            soff += idx * a.ss[d];
        }
        if (dt == st && dt == TS_TYPE_F32) *(float *)(dst + doff) = *(const float *)(src + soff);
        else if (dt == st) *(uint16_t *)(dst + doff) = *(const uint16_t *)(src + soff); /* F16/BF16: bits as they are */
        else tsc_store_as(dst + doff, dt, load_as_float(src + soff, st));
    }
}

static int64_t type_size(int32_t t) {
    return t == TS_TYPE_F32 ? 4 : (t == TS_TYPE_F16 || t == TS_TYPE_BF16) ? 2 : 0;
}

extern "C" TS_API int32_t tsc_copy_strided(void *ctx, void *dst, int32_t dst_type, const int64_t *dst_strides, const void *src,
                                           int32_t src_type, const int64_t *src_strides, const int64_t *shape, int32_t ndim) {
    struct tsc_context *c = NULL;
    int32_t st = tsc_enter(ctx, "tsc_copy_strided", &c);
    if (st) return st;
    const int64_t dsz = type_size(dst_type), ssz = type_size(src_type);
    if (dsz == 0 || ssz == 0)
        return tsc_set_error(TS_ERR_UNSUPPORTED, "tsc_copy_strided: types %d -> %d: only F32, F16 and BF16 are copied", (int)src_type,
                             (int)dst_type);
    if (ndim < 0 || ndim > TS_MAX_DIMS)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_copy_strided: ndim=%d not in [0, %d]", (int)ndim, TS_MAX_DIMS);
    if (ndim > 0 && (shape == NULL || dst_strides == NULL || src_strides == NULL))
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_copy_strided: shape or strides NULL");
    struct copy_args a;
    a.ndim = ndim;
    int64_t total = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_copy_strided: shape[%d]=%lld is negative", d, (long long)shape[d]);
        if (dst_strides[d] % dsz || src_strides[d] % ssz)
            return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_copy_strided: stride %d is not a multiple of its element size", d);
        a.shape[d] = shape[d];
        a.ds[d] = dst_strides[d];
        a.ss[d] = src_strides[d];
        total *= shape[d];
    }
    if (total == 0) return TS_OK;
    if (dst == NULL || src == NULL) return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_copy_strided: null pointer");
    if ((uintptr_t)dst % (uintptr_t)dsz || (uintptr_t)src % (uintptr_t)ssz)
        return tsc_set_error(TS_ERR_INVALID_ARGUMENT, "tsc_copy_strided: pointers must be aligned to their element size");
    /* A dense same-type copy (both views packed in the same order) is one memcpy. */
    if (dst_type == src_type) {
        int dense = 1;
        int64_t expect = dsz;
        for (int d = ndim - 1; d >= 0; d--) {
            if (shape[d] == 1) continue;
            if (dst_strides[d] != expect || src_strides[d] != expect) { dense = 0; break; }
            expect *= shape[d];
        }
        if (dense)
            return tsc_cuda_status(cudaMemcpyAsync(dst, src, (size_t)(total * dsz), cudaMemcpyDeviceToDevice, c->stream),
                                   "tsc_copy_strided");
    }
    const int64_t blocks = tsc_cdiv(total, 256) < 65536 ? tsc_cdiv(total, 256) : 65536;
    tsc_launch_pdl(c, k_copy_strided, (unsigned)blocks, 256, 0, (char *)dst, dst_type, (const char *)src, src_type, a, total);
    return tsc_launch_status("tsc_copy_strided");
}
