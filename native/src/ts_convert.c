/*
 * ts_convert.c — scalar reference conversions and ts_convert (contiguous, threaded).
 */
#include "ts_convert.h"

#include <string.h>

#include "tessera.h"
#include "ts_core.h"
#include "ts_dispatch.h"
#include "ts_fp16.h"
#include "ts_threadpool.h"

/* Below this many elements a conversion runs on the caller only: waking workers costs
 * a few microseconds, about what converting 32K elements takes. */
#define TS_CONVERT_PAR_MIN 32768
/* F16 <-> BF16 goes through f32 in stack chunks of this many elements. */
#define TS_CONVERT_CHUNK 512

/* Element access goes through memcpy: the C ABI does not require aligned pointers (a
 * Java heap segment may start anywhere), and memcpy of 2/4 bytes compiles to one move. */
static inline float load_f32(const float *p) {
    float f;
    memcpy(&f, p, sizeof f);
    return f;
}

static inline uint16_t load_u16(const uint16_t *p) {
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

void ts_f32_to_f16_ref(uint16_t *dst, const float *src, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint16_t h = ts_f32_to_f16(load_f32(src + i));
        memcpy(dst + i, &h, sizeof h);
    }
}

void ts_f16_to_f32_ref(float *dst, const uint16_t *src, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float f = ts_f16_to_f32(load_u16(src + i));
        memcpy(dst + i, &f, sizeof f);
    }
}

void ts_f32_to_bf16_ref(uint16_t *dst, const float *src, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint16_t h = ts_f32_to_bf16(load_f32(src + i));
        memcpy(dst + i, &h, sizeof h);
    }
}

void ts_bf16_to_f32_ref(float *dst, const uint16_t *src, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float f = ts_bf16_to_f32(load_u16(src + i));
        memcpy(dst + i, &f, sizeof f);
    }
}

void ts_register_convert_scalar(struct ts_kernels *k, uint64_t cpu) {
    (void)cpu;
    k->f32_to_f16 = ts_f32_to_f16_ref;
    k->f16_to_f32 = ts_f16_to_f32_ref;
    k->f32_to_bf16 = ts_f32_to_bf16_ref;
    k->bf16_to_f32 = ts_bf16_to_f32_ref;
}

int32_t ts_convert_type_size(int32_t type) {
    switch (type) {
    case TS_TYPE_F32: return 4;
    case TS_TYPE_F16: return 2;
    case TS_TYPE_BF16: return 2;
    default: return 0;
    }
}

void ts_convert_row(void *dst, int32_t dst_type, const void *src, int32_t src_type, int64_t n) {
    const struct ts_kernels *k = ts_kernels_active();
    if (n <= 0) return;
    if (dst_type == src_type) {
        memcpy(dst, src, (size_t)n * (size_t)ts_convert_type_size(dst_type));
        return;
    }
    if (src_type == TS_TYPE_F32) {
        if (dst_type == TS_TYPE_F16) k->f32_to_f16(dst, src, n);
        else k->f32_to_bf16(dst, src, n);
        return;
    }
    if (dst_type == TS_TYPE_F32) {
        if (src_type == TS_TYPE_F16) k->f16_to_f32(dst, src, n);
        else k->bf16_to_f32(dst, src, n);
        return;
    }
    /* F16 <-> BF16: widening to f32 is exact, so rounding happens once, in the narrowing. */
    float tmp[TS_CONVERT_CHUNK];
    const uint16_t *s = src;
    uint16_t *d = dst;
    for (int64_t i = 0; i < n; i += TS_CONVERT_CHUNK) {
        int64_t m = n - i < TS_CONVERT_CHUNK ? n - i : TS_CONVERT_CHUNK;
        if (src_type == TS_TYPE_F16) {
            k->f16_to_f32(tmp, s + i, m);
            k->f32_to_bf16(d + i, tmp, m);
        } else {
            k->bf16_to_f32(tmp, s + i, m);
            k->f32_to_f16(d + i, tmp, m);
        }
    }
}

struct convert_job {
    void *dst;
    const void *src;
    int32_t dst_type, src_type;
    int64_t n;
};

static void convert_task(void *ctx, int32_t ith, int32_t nth) {
    const struct convert_job *j = ctx;
    int64_t b, e;
    ts_split_range(j->n, 64, ith, nth, &b, &e); /* 64 elements: whole cache lines */
    if (b >= e) return;
    ts_convert_row((char *)j->dst + b * ts_convert_type_size(j->dst_type), j->dst_type,
                   (const char *)j->src + b * ts_convert_type_size(j->src_type), j->src_type, e - b);
}

TS_API int32_t ts_convert(void *dst, int32_t dst_type, const void *src, int32_t src_type, int64_t n) {
    int32_t st = ts_require_init("ts_convert");
    if (st) return st;
    if (ts_convert_type_size(dst_type) == 0 || ts_convert_type_size(src_type) == 0)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT,
                            "ts_convert: unsupported type pair dst_type=%d src_type=%d (F32=0, F16=1, BF16=30)",
                            (int)dst_type, (int)src_type);
    if (n < 0) return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_convert: negative element count %lld", (long long)n);
    if (n == 0) return TS_OK;
    if (dst == NULL || src == NULL)
        return ts_set_error(TS_ERR_INVALID_ARGUMENT, "ts_convert: %s is NULL with n=%lld",
                            dst == NULL ? "dst" : "src", (long long)n);
    struct convert_job job = {dst, src, dst_type, src_type, n};
    /* Each thread gets at least half the threshold so small extra threads are not woken. */
    int32_t nth = n >= TS_CONVERT_PAR_MIN ? ts_threads_for(n, TS_CONVERT_PAR_MIN / 2) : 1;
    ts_parallel(convert_task, &job, nth);
    return TS_OK;
}
