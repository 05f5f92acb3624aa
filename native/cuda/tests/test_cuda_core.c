/*
 * test_cuda_core.c — devices, contexts, the pool and copies. The argument checks that need
 * no device run everywhere; the rest skips (exit 77) without a GPU.
 */
#include "tsc_test.h"

int main(void) {
    /* Without a context every op refuses cleanly, device or not. */
    void *p = NULL;
    CHECK(tsc_abi_version() == TSC_ABI_VERSION, "abi version");
    CHECK(tsc_alloc(NULL, 16, &p) == TS_ERR_NOT_INITIALIZED && p == NULL, "alloc without a context");
    CHECK(strstr(tsc_last_error(), "tsc_init") != NULL, "message names tsc_init: %s", tsc_last_error());
    CHECK(tsc_rms_norm(NULL, NULL, 0, NULL, 0, NULL, 1, 1, 1e-5f) == TS_ERR_NOT_INITIALIZED, "op without a context");
    CHECK(tsc_shutdown(NULL) == TS_OK, "shutdown(NULL) is a no-op");
    int32_t n = tsc_device_count();
    if (n == 0) {
        /* The reason must be stated, and the calls that need a device must fail, not crash. */
        CHECK(strlen(tsc_last_error()) > 0, "no device but no reason");
        void *ctx = (void *)1;
        CHECK(tsc_init(0, 0, &ctx) == TSC_ERR_NO_DEVICE && ctx == NULL, "tsc_init without a device");
        char name[64];
        CHECK(tsc_device_name(0, name, sizeof name) == TSC_ERR_NO_DEVICE, "device name without a device");
        if (ts_test_failures) TS_TEST_EXIT();
        (void)tsc_device_count(); /* the reason, not the last refusal's message */
        /* No driver at all reads as that, not as the runtime's "driver version is insufficient". */
        if (tsc_driver_version() == 0)
            CHECK(strstr(tsc_last_error(), "no NVIDIA driver is installed") != NULL, "reason without a driver: %s", tsc_last_error());
        if (ts_test_failures) TS_TEST_EXIT();
        printf("no CUDA device: skipped (%s)\n", tsc_last_error());
        return TSC_SKIP;
    }
    void *ctx = tsc_test_open();
    int64_t info[TSC_INFO_COUNT];
    CHECK(tsc_device_info(0, info, TSC_INFO_COUNT) == TS_OK, "%s", tsc_last_error());
    printf("memory %lld MiB, %lld SMs, sm_%lld%lld, L2 %lld KiB\n", (long long)(info[TSC_INFO_TOTAL_MEMORY] >> 20),
           (long long)info[TSC_INFO_SM_COUNT], (long long)info[TSC_INFO_CC_MAJOR], (long long)info[TSC_INFO_CC_MINOR],
           (long long)(info[TSC_INFO_L2_BYTES] >> 10));
    CHECK(info[TSC_INFO_TOTAL_MEMORY] > 0 && info[TSC_INFO_SM_COUNT] > 0 && info[TSC_INFO_CC_MAJOR] >= 8, "device info");
    CHECK(tsc_device_name(n, (char[8]){0}, 8) == TS_ERR_INVALID_ARGUMENT, "device index out of range");

    /* Pool: blocks are 256-aligned, freed ones merge and are reused; chunks stay reserved. */
    void *a, *b, *c, *d;
    CHECK(tsc_alloc(ctx, 1000, &a) == TS_OK && ((uintptr_t)a & 255) == 0, "alloc a");
    CHECK(tsc_alloc(ctx, 3000, &b) == TS_OK && ((uintptr_t)b & 255) == 0, "alloc b");
    CHECK(tsc_alloc(ctx, 5000, &c) == TS_OK && ((uintptr_t)c & 255) == 0, "alloc c");
    CHECK(tsc_pool_used(ctx) == 1024 + 3072 + 5120, "used %lld", (long long)tsc_pool_used(ctx));
    int64_t reserved = tsc_pool_reserved(ctx);
    CHECK(reserved >= tsc_pool_used(ctx), "reserved");
    CHECK(tsc_free(ctx, b) == TS_OK, "free b");
    CHECK(tsc_free(ctx, b) == TS_ERR_INVALID_ARGUMENT, "double free is refused");
    CHECK(tsc_free(ctx, (char *)a + 256) == TS_ERR_INVALID_ARGUMENT, "interior pointer refused");
    CHECK(tsc_alloc(ctx, 2000, &d) == TS_OK && d == b, "first fit reuses b's block");
    CHECK(tsc_free(ctx, a) == TS_OK && tsc_free(ctx, d) == TS_OK && tsc_free(ctx, c) == TS_OK, "free all");
    CHECK(tsc_pool_used(ctx) == 0, "pool empty");
    CHECK(tsc_alloc(ctx, 9000, &a) == TS_OK && tsc_pool_reserved(ctx) == reserved, "merged blocks serve a larger request");
    CHECK(tsc_free(ctx, a) == TS_OK, "free");
    CHECK(tsc_alloc(ctx, 0, &a) == TS_ERR_INVALID_ARGUMENT, "zero bytes refused");

    /* A pool limit is honoured. */
    void *small = NULL;
    CHECK(tsc_init(0, 1 << 20, &small) == TS_OK, "%s", tsc_last_error());
    CHECK(tsc_alloc(small, 900 << 10, &a) == TS_OK, "within the limit: %s", tsc_last_error());
    CHECK(tsc_alloc(small, 200 << 10, &b) == TS_ERR_OUT_OF_MEMORY, "beyond the limit");
    CHECK(tsc_shutdown(small) == TS_OK, "shutdown");

    /* Copies: up, device to device, memset, down. */
    const int64_t nb = 3 << 20;
    unsigned char *h = malloc(nb), *back = malloc(nb);
    uint64_t seed = 42;
    for (int64_t i = 0; i < nb; i++) h[i] = (unsigned char)ts_test_rand(&seed);
    void *x = tsc_test_up(ctx, h, nb), *y;
    CHECK(tsc_alloc(ctx, nb, &y) == TS_OK, "alloc y");
    CHECK(tsc_copy(ctx, y, x, nb) == TS_OK, "copy");
    tsc_test_down(ctx, back, y, nb);
    CHECK(memcmp(h, back, nb) == 0, "round trip");
    CHECK(tsc_memset(ctx, (char *)y + 100, 0xAB, 1000) == TS_OK, "memset");
    tsc_test_down(ctx, back, y, nb);
    int ok = 1;
    for (int64_t i = 0; i < nb; i++) ok &= back[i] == (i >= 100 && i < 1100 ? 0xAB : h[i]);
    CHECK(ok, "memset wrote exactly its range");
    CHECK(tsc_synchronize(ctx) == TS_OK, "synchronize");

    /* Strided copies with conversion: bit-identical to ts_copy_strided (same rounding), for a
     * permuted F32 -> F16 view (the KV-cache append), F16 -> F32, F32 -> BF16, a broadcast
     * source (stride 0) and a dense same-type copy; NaN and infinities included. */
    {
        const int64_t shape[3] = {5, 7, 9}; /* copied in [b][c][a] order of a [a=9][b=5][c=7] source */
        const int64_t count = 5 * 7 * 9;
        float *src = tsc_test_randn(&seed, count, 3.0f);
        src[3] = NAN, src[10] = INFINITY, src[11] = -INFINITY, src[12] = 1e-8f, src[13] = 70000.0f;
        const int64_t src_strides[3] = {7 * 4, 4, 5 * 7 * 4};
        const int types[3] = {TS_TYPE_F16, TS_TYPE_BF16, TS_TYPE_F32};
        for (int t = 0; t < 3; t++) {
            const int64_t es = types[t] == TS_TYPE_F32 ? 4 : 2;
            const int64_t dst_strides[3] = {7 * 9 * es, 9 * es, es};
            unsigned char *want = calloc(count, 4), *got = calloc(count, 4);
            CHECK(ts_copy_strided(want, types[t], dst_strides, src, TS_TYPE_F32, src_strides, shape, 3) == TS_OK, "%s", ts_last_error());
            void *ds = tsc_test_up(ctx, src, count * 4), *dd;
            CHECK(tsc_alloc(ctx, count * es, &dd) == TS_OK, "alloc");
            CHECK(tsc_copy_strided(ctx, dd, types[t], dst_strides, ds, TS_TYPE_F32, src_strides, shape, 3) == TS_OK, "%s",
                  tsc_last_error());
            tsc_test_down(ctx, got, dd, count * es);
            for (int64_t i = 0; i < count * es; i++)
                if (want[i] != got[i]) {
                    CHECK(0, "copy_strided F32 -> type %d differs from the CPU at byte %lld (%02x vs %02x)", types[t], (long long)i, got[i], want[i]);
                    break;
                }
            /* back to F32 from the converted buffer, dense */
            const int64_t dense_es[3] = {7 * 9 * 4, 9 * 4, 4};
            void *df;
            CHECK(tsc_alloc(ctx, count * 4, &df) == TS_OK, "alloc");
            CHECK(tsc_copy_strided(ctx, df, TS_TYPE_F32, dense_es, dd, types[t], dst_strides, shape, 3) == TS_OK, "%s", tsc_last_error());
            CHECK(ts_copy_strided(want, TS_TYPE_F32, dense_es, got, types[t], dst_strides, shape, 3) == TS_OK, "%s", ts_last_error());
            tsc_test_down(ctx, got, df, count * 4);
            for (int64_t i = 0; i < count * 4; i++)
                if (want[i] != got[i]) {
                    CHECK(0, "copy_strided type %d -> F32 differs from the CPU at byte %lld (%02x vs %02x)", types[t], (long long)i, got[i], want[i]);
                    break;
                }
            tsc_free(ctx, ds), tsc_free(ctx, dd), tsc_free(ctx, df);
            free(want), free(got);
        }
        /* broadcast: a [9] row repeated over 5 rows (stride 0) */
        const int64_t bshape[2] = {5, 9}, bsrc[2] = {0, 4}, bdst[2] = {9 * 4, 4};
        float want[45], got[45];
        void *ds = tsc_test_up(ctx, src, 9 * 4), *dd;
        CHECK(tsc_alloc(ctx, 45 * 4, &dd) == TS_OK, "alloc");
        CHECK(tsc_copy_strided(ctx, dd, TS_TYPE_F32, bdst, ds, TS_TYPE_F32, bsrc, bshape, 2) == TS_OK, "%s", tsc_last_error());
        CHECK(ts_copy_strided(want, TS_TYPE_F32, bdst, src, TS_TYPE_F32, bsrc, bshape, 2) == TS_OK, "%s", ts_last_error());
        tsc_test_down(ctx, got, dd, 45 * 4);
        CHECK(memcmp(want, got, sizeof want) == 0, "broadcast copy");
        /* refusals: quantized types, misaligned strides, too many dims */
        CHECK(tsc_copy_strided(ctx, dd, TS_TYPE_Q8_0, bdst, ds, TS_TYPE_F32, bsrc, bshape, 2) == TS_ERR_UNSUPPORTED, "q8_0 refused");
        const int64_t odd[2] = {9 * 4, 2};
        CHECK(tsc_copy_strided(ctx, dd, TS_TYPE_F32, odd, ds, TS_TYPE_F32, bsrc, bshape, 2) == TS_ERR_INVALID_ARGUMENT, "odd stride refused");
        CHECK(tsc_copy_strided(ctx, dd, TS_TYPE_F32, bdst, ds, TS_TYPE_F32, bsrc, bshape, TS_MAX_DIMS + 1) == TS_ERR_INVALID_ARGUMENT,
              "ndim refused");
        tsc_free(ctx, ds), tsc_free(ctx, dd);
        free(src);
    }
    free(h);
    free(back);
    CHECK(tsc_shutdown(ctx) == TS_OK, "shutdown");
    TS_TEST_EXIT();
}
