/*
 * test_copy.c — the public ts_convert and ts_copy_strided: every type pair, threaded
 * sizes, argument validation, and strided cases (transpose, broadcast, negative strides,
 * conversion) against a naive element-by-element reference.
 */
#include "tessera.h"
#include "ts_fp16.h"
#include "ts_test.h"

static const int32_t k_types[] = {TS_TYPE_F32, TS_TYPE_F16, TS_TYPE_BF16};

static int32_t type_size(int32_t t) { return t == TS_TYPE_F32 ? 4 : 2; }

static float load_elem(const void *p, int32_t t) {
    if (t == TS_TYPE_F32) {
        float f;
        memcpy(&f, p, 4);
        return f;
    }
    uint16_t h;
    memcpy(&h, p, 2);
    return t == TS_TYPE_F16 ? ts_f16_to_f32(h) : ts_bf16_to_f32(h);
}

static void store_elem(void *p, int32_t t, float f) {
    if (t == TS_TYPE_F32) {
        memcpy(p, &f, 4);
        return;
    }
    uint16_t h = t == TS_TYPE_F16 ? ts_f32_to_f16(f) : ts_f32_to_bf16(f);
    memcpy(p, &h, 2);
}

/* Reference element conversion; same-type copies are bit copies (NaN payloads kept). */
static void ref_elem(void *d, int32_t dt, const void *s, int32_t st) {
    if (dt == st) memcpy(d, s, (size_t)type_size(dt));
    else store_elem(d, dt, load_elem(s, st));
}

static void fill_random(void *buf, size_t bytes, uint64_t seed) {
    unsigned char *b = buf;
    for (size_t i = 0; i < bytes; i++) b[i] = (unsigned char)(ts_test_rand(&seed) >> 56);
}

static void test_convert(void) {
    const int64_t sizes[] = {0, 1, 17, 1000, 40000, 300001};
    const int64_t maxn = 300001;
    unsigned char *src = malloc((size_t)maxn * 4 + 8), *dst = malloc((size_t)maxn * 4 + 8),
                  *ref = malloc((size_t)maxn * 4 + 8);
    fill_random(src, (size_t)maxn * 4 + 8, 7);
    for (size_t a = 0; a < 3; a++) {
        for (size_t b = 0; b < 3; b++) {
            int32_t dt = k_types[a], st = k_types[b];
            for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
                int64_t n = sizes[si];
                memset(dst, 0x5a, (size_t)maxn * 4 + 8);
                memset(ref, 0x5a, (size_t)maxn * 4 + 8);
                const unsigned char *s = src + 2; /* unaligned for f32 vectors */
                CHECK(ts_convert(dst + 2, dt, s, st, n) == TS_OK, "ts_convert %d<-%d n=%lld: %s", dt, st,
                      (long long)n, ts_last_error());
                for (int64_t i = 0; i < n; i++)
                    ref_elem(ref + 2 + i * type_size(dt), dt, s + i * type_size(st), st);
                CHECK(memcmp(dst, ref, (size_t)maxn * 4 + 8) == 0, "ts_convert %d<-%d n=%lld differs", dt, st,
                      (long long)n);
            }
        }
    }
    /* Validation. */
    float f = 1.0f;
    CHECK(ts_convert(&f, 2, &f, TS_TYPE_F32, 1) == TS_ERR_INVALID_ARGUMENT, "bad dst type");
    CHECK(strstr(ts_last_error(), "ts_convert") != NULL, "message names the function: %s", ts_last_error());
    CHECK(ts_convert(&f, TS_TYPE_F32, &f, -1, 1) == TS_ERR_INVALID_ARGUMENT, "bad src type");
    CHECK(ts_convert(&f, TS_TYPE_F32, &f, TS_TYPE_F32, -1) == TS_ERR_INVALID_ARGUMENT, "negative n");
    CHECK(ts_convert(NULL, TS_TYPE_F32, &f, TS_TYPE_F32, 1) == TS_ERR_INVALID_ARGUMENT, "null dst");
    CHECK(strstr(ts_last_error(), "dst") != NULL, "message names dst: %s", ts_last_error());
    CHECK(ts_convert(&f, TS_TYPE_F32, NULL, TS_TYPE_F32, 1) == TS_ERR_INVALID_ARGUMENT, "null src");
    CHECK(ts_convert(NULL, TS_TYPE_F32, NULL, TS_TYPE_F16, 0) == TS_OK, "n = 0 with NULLs is fine");
    free(src);
    free(dst);
    free(ref);
}

/* Naive strided reference: walks every index of shape. */
static void ref_copy(char *dst, int32_t dt, const int64_t *ds, const char *src, int32_t st, const int64_t *ss,
                     const int64_t *shape, int32_t ndim) {
    int64_t idx[TS_MAX_DIMS] = {0};
    int64_t total = 1;
    for (int k = 0; k < ndim; k++) total *= shape[k];
    for (int64_t e = 0; e < total; e++) {
        int64_t r = e, od = 0, os = 0;
        for (int k = ndim - 1; k >= 0; k--) {
            idx[k] = r % shape[k];
            r /= shape[k];
            od += idx[k] * ds[k];
            os += idx[k] * ss[k];
        }
        ref_elem(dst + od, dt, src + os, st);
    }
}

struct copy_case {
    const char *name;
    int32_t ndim;
    int64_t shape[4];
    int64_t ds[4], ss[4];   /* strides in elements */
    int64_t doff, soff;     /* base offsets in elements (for negative strides) */
};

static void run_case(const struct copy_case *c, int32_t dt, int32_t st) {
    const size_t buf = 1 << 21;
    char *src = malloc(buf), *dst = malloc(buf), *ref = malloc(buf);
    fill_random(src, buf, 11);
    memset(dst, 0x33, buf);
    memset(ref, 0x33, buf);
    int64_t ds[4], ss[4];
    for (int k = 0; k < c->ndim; k++) {
        ds[k] = c->ds[k] * type_size(dt);
        ss[k] = c->ss[k] * type_size(st);
    }
    char *d0 = dst + c->doff * type_size(dt), *r0 = ref + c->doff * type_size(dt);
    const char *s0 = src + c->soff * type_size(st);
    int32_t rc = ts_copy_strided(d0, dt, ds, s0, st, ss, c->shape, c->ndim);
    CHECK(rc == TS_OK, "%s %d<-%d: %s", c->name, dt, st, ts_last_error());
    ref_copy(r0, dt, ds, s0, st, ss, c->shape, c->ndim);
    CHECK(memcmp(dst, ref, buf) == 0, "%s %d<-%d differs from reference", c->name, dt, st);
    free(src);
    free(dst);
    free(ref);
}

static void test_copy_strided(void) {
    const struct copy_case cases[] = {
        {"contiguous 1d", 1, {1001}, {1}, {1}, 0, 0},
        {"contiguous 3d (merged)", 3, {4, 5, 33}, {165, 33, 1}, {165, 33, 1}, 0, 0},
        {"transpose 2d", 2, {37, 53}, {1, 37}, {53, 1}, 0, 0},
        {"transpose 3d", 3, {6, 7, 9}, {1, 6, 42}, {63, 9, 1}, 0, 0},
        {"broadcast row (stride 0)", 2, {20, 31}, {31, 1}, {0, 1}, 0, 0},
        {"broadcast scalar", 2, {5, 9}, {9, 1}, {0, 0}, 0, 0},
        {"negative inner stride (reverse)", 1, {513}, {1}, {-1}, 0, 512},
        {"negative outer stride (flip rows)", 2, {8, 40}, {40, 1}, {-40, 1}, 0, 280},
        {"negative dst stride", 2, {8, 40}, {-40, -1}, {40, 1}, 319, 0},
        {"padded rows", 2, {10, 30}, {35, 1}, {64, 1}, 0, 0},
        {"strided inner both", 2, {12, 300}, {600, 2}, {900, 3}, 0, 0},
        {"size-1 dims", 4, {1, 16, 1, 20}, {999, 20, 7, 1}, {5, 20, 3, 1}, 0, 0},
        {"big rows (threaded)", 2, {300, 700}, {700, 1}, {701, 1}, 0, 0},
        {"big transpose (threaded)", 2, {400, 300}, {1, 400}, {300, 1}, 0, 0},
        {"big single row (threaded)", 1, {500000}, {1}, {1}, 0, 0},
        {"zero extent", 3, {4, 0, 5}, {5, 5, 1}, {5, 5, 1}, 0, 0},
        {"scalar (ndim 0)", 0, {0}, {0}, {0}, 3, 5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (size_t a = 0; a < 3; a++)
            for (size_t b = 0; b < 3; b++) run_case(&cases[i], k_types[a], k_types[b]);

    /* Validation. */
    float x[4] = {0};
    int64_t shape[2] = {2, 2}, str[2] = {8, 4}, neg[2] = {2, -1};
    CHECK(ts_copy_strided(x, TS_TYPE_F32, str, x, 5, str, shape, 2) == TS_ERR_INVALID_ARGUMENT, "bad type");
    CHECK(ts_copy_strided(x, TS_TYPE_F32, str, x, TS_TYPE_F32, str, shape, -1) == TS_ERR_INVALID_ARGUMENT,
          "ndim < 0");
    CHECK(ts_copy_strided(x, TS_TYPE_F32, str, x, TS_TYPE_F32, str, shape, TS_MAX_DIMS + 1) ==
              TS_ERR_INVALID_ARGUMENT, "ndim too big");
    CHECK(strstr(ts_last_error(), "ndim") != NULL, "message: %s", ts_last_error());
    CHECK(ts_copy_strided(x, TS_TYPE_F32, str, x, TS_TYPE_F32, str, neg, 2) == TS_ERR_INVALID_ARGUMENT,
          "negative shape");
    CHECK(strstr(ts_last_error(), "shape[1]") != NULL, "message: %s", ts_last_error());
    CHECK(ts_copy_strided(x, TS_TYPE_F32, str, x, TS_TYPE_F32, str, NULL, 2) == TS_ERR_INVALID_ARGUMENT,
          "null shape");
    CHECK(ts_copy_strided(x, TS_TYPE_F32, NULL, x, TS_TYPE_F32, str, shape, 2) == TS_ERR_INVALID_ARGUMENT,
          "null dst strides");
    CHECK(ts_copy_strided(NULL, TS_TYPE_F32, str, x, TS_TYPE_F32, str, shape, 2) == TS_ERR_INVALID_ARGUMENT,
          "null dst");
    int64_t zero[2] = {0, 2};
    CHECK(ts_copy_strided(NULL, TS_TYPE_F32, str, NULL, TS_TYPE_F32, str, zero, 2) == TS_OK, "empty with NULLs");
    int64_t huge[2] = {INT64_MAX / 2, 4};
    CHECK(ts_copy_strided(x, TS_TYPE_F32, str, x, TS_TYPE_F32, str, huge, 2) == TS_ERR_INVALID_ARGUMENT,
          "element count overflow");
}

int main(void) {
    float f = 0;
    CHECK(ts_convert(&f, TS_TYPE_F32, &f, TS_TYPE_F32, 1) == TS_ERR_NOT_INITIALIZED, "before init");
    CHECK(strstr(ts_last_error(), "ts_init") != NULL, "message says what to do: %s", ts_last_error());
    int64_t one = 1, s4 = 4;
    CHECK(ts_copy_strided(&f, TS_TYPE_F32, &s4, &f, TS_TYPE_F32, &s4, &one, 1) == TS_ERR_NOT_INITIALIZED,
          "copy before init");
    /* Every level this CPU runs, with a real pool (3 threads even on 2 cores). */
    const char *levels[] = {"scalar", "avx2", "avx512", "amx", "neon", "dotprod"};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        if (ts_init(3, levels[i]) != TS_OK) continue;
        fprintf(stderr, "level %s\n", levels[i]);
        test_convert();
        test_copy_strided();
        ts_shutdown();
    }
    TS_TEST_EXIT();
}
