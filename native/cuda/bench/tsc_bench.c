/*
 * tsc_bench.c — CUDA kernel benchmarks for ci/gpu-check.sh.
 *
 *   tsc_bench OUT_DIR [--quick]
 *   tsc_bench OUT_DIR --matvec      (for a profiler: each quantized decode matvec run once)
 *   tsc_bench OUT_DIR --mma         (for a profiler: each batched GEMM at 4096x4096x512 run once)
 *
 * Writes OUT_DIR/bench.json and OUT_DIR/bench.md: device facts, device-to-device copy
 * bandwidth (the yardstick for matvec), Q4_0/Q8_0/F16/Q4_K/Q6_K matvec at 4096x14336 and 14336x4096
 * (GB/s of weights streamed, % of the copy bandwidth; the quantized ones again with the
 * register-load kernels, TSC_MATVEC_KERNEL=regs,nopdl, and with resident warps taking several
 * rows, TSC_MATVEC_BLOCKS=4 and 2), a LLaMA-2-7B-shaped weight set of
 * several GiB run as one decode step (32 layers x 7 matrices, so nothing stays in L2; also
 * recorded and run as one CUDA graph per step, and the host's share of each way),
 * batched Q4_0 matmul M=512, the tensor-core matmul (Q4_0/Q8_0/F16/BF16 at M=512/2048, Q4_K/Q6_K/F32 at 512, in TFLOP/s
 * and % of the H100 SXM dense int8/f16 peaks; M around its threshold), attention at the
 * CLIP ViT-L/14 and SD 1.5 (512x512, CFG batch 2) shapes in TFLOP/s (4·heads·lq·lk·d flops),
 * conv2d at SD UNet/VAE and ViT-L/14 patchify shapes in TFLOP/s, group_norm/layer_norm in
 * GB/s (one read + one write). Weights are random bytes with a small
 * fixed scale: speed does not depend on the values. Matvec calls cycle through copies of
 * their matrix (>= 256 MiB in all) so the 50 MB L2 does not serve repeated calls; calls run
 * back to back on one stream, as a decode step does, so launch gaps count. Times are host wall clock around
 * enough iterations to fill ~0.25 s, after one warm-up, with tsc_synchronize at both ends.
 */
#define _POSIX_C_SOURCE 200809L /* setenv, clock_gettime */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tessera_cuda.h"

static void *ctx;
static FILE *js, *md;
static int first_result = 1;
static double copy_gbs = 0;
static int quick = 0;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "tsc_bench: %s: %s\n", what, tsc_last_error());
    exit(1);
}

static void *dalloc(int64_t bytes) {
    void *p;
    if (tsc_alloc(ctx, bytes, &p) != TS_OK) die("alloc");
    return p;
}

/* Device memory for weights, declared so (tsc_declare_weights): a one-row product streams them
 * from its start, as a model's are. */
static void *dweights(int64_t bytes) {
    void *p = dalloc(bytes);
    if (tsc_declare_weights(ctx, p, 1) != TS_OK) die("declare weights");
    return p;
}

/* Fills a device buffer with pseudo-random bytes (uploaded in 64 MiB pieces). */
static void fill_random(void *dev, int64_t bytes, uint64_t seed) {
    const int64_t piece = 64 << 20;
    unsigned char *h = malloc((size_t)(bytes < piece ? bytes : piece));
    for (int64_t off = 0; off < bytes; off += piece) {
        int64_t nb = bytes - off < piece ? bytes - off : piece;
        for (int64_t i = 0; i < nb; i++) {
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            h[i] = (unsigned char)(seed >> 24);
        }
        if (tsc_upload(ctx, (char *)dev + off, h, nb) != TS_OK) die("upload");
    }
    free(h);
}

/* Random floats in [-1, 1) on the device. */
static float *rand_floats(int64_t n, uint64_t seed) {
    float *h = malloc((size_t)n * 4);
    for (int64_t i = 0; i < n; i++) {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        h[i] = (float)((double)(seed >> 11) / 9007199254740992.0 * 2.0 - 1.0);
    }
    float *d = dalloc(n * 4);
    if (tsc_upload(ctx, d, h, n * 4) != TS_OK) die("upload");
    free(h);
    return d;
}

/* Bytes per block (elements per block in *qk) of the weight types benchmarked; 0: plain. */
static int64_t block_bytes(int32_t type, int64_t *qk) {
    *qk = type == TS_TYPE_Q4_K || type == TS_TYPE_Q6_K ? 256 : 32;
    return type == TS_TYPE_Q8_0 ? 34 : type == TS_TYPE_Q4_0 ? 18 : type == TS_TYPE_Q4_K ? 144 : type == TS_TYPE_Q6_K ? 210 : 0;
}

/* Weights of `rows` rows of k: random quants, every half-precision block scale set to 2^-10
 * (half 0x1400) so sums stay finite; F16 of magnitude < 1, BF16 and F32 < 2^-8. */
static void *rand_weights(int32_t type, int64_t rows, int64_t k, uint64_t seed) {
    int64_t qk;
    const int64_t bs = block_bytes(type, &qk);
    const int64_t es = type == TS_TYPE_F32 ? 4 : 2, bytes = bs ? rows * (k / qk) * bs : rows * k * es;
    unsigned char *h = malloc((size_t)bytes);
    for (int64_t i = 0; i < bytes; i++) {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        h[i] = (unsigned char)(seed >> 24);
    }
    /* offsets of the half scales in a block: d (Q8_0, Q4_0, Q4_K), d + dmin (Q4_K), d (Q6_K) */
    const int64_t h0 = type == TS_TYPE_Q6_K ? 208 : 0, h1 = type == TS_TYPE_Q4_K ? 2 : h0;
    if (bs)
        for (int64_t b = 0; b < bytes / bs; b++) {
            h[b * bs + h0] = 0x00, h[b * bs + h0 + 1] = 0x14;
            h[b * bs + h1] = 0x00, h[b * bs + h1 + 1] = 0x14;
        }
    else
        for (int64_t i = 0; i < rows * k; i++) h[es * i + es - 1] &= 0x3b; /* F16 of magnitude < 1, BF16/F32 < 2^-8 */
    void *d = dweights(bytes);
    if (tsc_upload(ctx, d, h, bytes) != TS_OK) die("upload");
    free(h);
    return d;
}

typedef void (*bench_fn)(void *arg);

/* Seconds per call of fn (after a warm-up), iterating to fill ~0.25 s (0.05 s quick). */
static double time_it(bench_fn fn, void *arg) {
    fn(arg);
    if (tsc_synchronize(ctx) != TS_OK) die("warm-up");
    double t0 = now();
    fn(arg);
    if (tsc_synchronize(ctx) != TS_OK) die("run");
    double one = now() - t0;
    const double target = quick ? 0.05 : 0.25;
    int iters = one > 0 ? (int)(target / one) : 1000;
    if (iters < 1) iters = 1;
    if (iters > 2000) iters = 2000;
    t0 = now();
    for (int i = 0; i < iters; i++) fn(arg);
    if (tsc_synchronize(ctx) != TS_OK) die("run");
    return (now() - t0) / iters;
}

static void result(const char *group, const char *name, double sec, double bytes, double flops) {
    const double gbs = bytes > 0 ? bytes / sec / 1e9 : 0, tfs = flops > 0 ? flops / sec / 1e12 : 0;
    const double pct = copy_gbs > 0 && bytes > 0 ? 100.0 * gbs / copy_gbs : 0;
    fprintf(js, "%s    {\"group\": \"%s\", \"name\": \"%s\", \"us\": %.3f, \"bytes\": %.0f, \"gb_s\": %.2f, \"pct_of_copy\": %.1f, "
                "\"flops\": %.0f, \"tflop_s\": %.3f}",
            first_result ? "" : ",\n", group, name, sec * 1e6, bytes, gbs, pct, flops, tfs);
    first_result = 0;
    char bw[64] = "-", fl[32] = "-";
    if (bytes > 0) snprintf(bw, sizeof bw, "%.1f (%.1f%%)", gbs, pct);
    if (flops > 0) snprintf(fl, sizeof fl, "%.2f", tfs);
    fprintf(md, "| %s | %s | %.1f | %s | %s |\n", group, name, sec * 1e6, bw, fl);
    printf("%-10s %-44s %10.1f us", group, name, sec * 1e6);
    if (bytes > 0) printf("  %8.1f GB/s (%5.1f%% of copy)", gbs, pct);
    if (flops > 0) printf("  %7.2f TFLOP/s", tfs);
    printf("\n");
    fflush(stdout);
}

/* ---- cases --------------------------------------------------------------------------------- */

typedef struct {
    void *dst, *src;
    int64_t bytes;
} copy_arg;
static void do_copy(void *a) {
    copy_arg *c = a;
    if (tsc_copy(ctx, c->dst, c->src, c->bytes) != TS_OK) die("copy");
}

typedef struct {
    float *y;
    const void *w;
    int32_t type;
    int64_t ws;
    const float *x;
    int64_t n, k, m;
    const void *wl[8]; /* nw > 0: calls cycle through these copies of w */
    int nw, cur;
} mm_arg;
static void do_mm(void *a) {
    mm_arg *c = a;
    const void *w = c->nw ? c->wl[c->cur++ % c->nw] : c->w;
    if (tsc_matmul(ctx, c->y, c->n * 4, w, c->type, c->ws, c->x, c->k * 4, c->n, c->k, c->m) != TS_OK) die("matmul");
}

static int64_t row_bytes(int32_t type, int64_t k) {
    int64_t qk;
    const int64_t bs = block_bytes(type, &qk);
    return bs ? k / qk * bs : (type == TS_TYPE_F32 ? 4 : 2) * k;
}

static const char *tname(int32_t t) {
    return t == TS_TYPE_Q8_0   ? "q8_0"
           : t == TS_TYPE_Q4_0 ? "q4_0"
           : t == TS_TYPE_Q4_K ? "q4_K"
           : t == TS_TYPE_Q6_K ? "q6_K"
           : t == TS_TYPE_BF16 ? "bf16"
           : t == TS_TYPE_F32  ? "f32"
                               : "f16";
}

/* " [blocks/SM B]" while TSC_MATVEC_BLOCKS is set (resident warps taking several rows). */
static const char *variant_tag(void) {
    static char tag[48];
    const char *b = getenv("TSC_MATVEC_BLOCKS");
    if (b == NULL) return "";
    snprintf(tag, sizeof tag, " [blocks/SM %s]", b);
    return tag;
}

/* pad > 0: rows pad bytes longer than they need (2: rows only 2-byte aligned, as Q6_K rows
 * of 11008 are; random bytes). */
static void bench_matvec_pad(int32_t type, int64_t n, int64_t k, int64_t m, int64_t pad) {
    const int64_t ws = row_bytes(type, k) + pad;
    void *w;
    if (pad) {
        w = dweights(n * ws);
        fill_random(w, n * ws, 7);
    } else
        w = rand_weights(type, n, k, 7);
    mm_arg a = {dalloc(m * n * 4), w, type, ws, rand_floats(m * k, 9), n, k, m, {0}, 0, 0};
    /* m = 1: successive calls read different copies of the weights, >= 256 MiB in all, so
     * none are still in the 50 MB L2 from the call before (a decode step reads each matrix
     * once). */
    if (m == 1) {
        const int64_t bytes = n * ws;
        a.nw = (int)((256ll << 20) / bytes + 1);
        if (a.nw > 8) a.nw = 8;
        a.wl[0] = w;
        for (int i = 1; i < a.nw; i++) {
            void *d = dweights(bytes);
            if (tsc_copy(ctx, d, w, bytes) != TS_OK) die("copy");
            a.wl[i] = d;
        }
    }
    char name[160];
    snprintf(name, sizeof name, "%s n=%lld k=%lld m=%lld%s%s%s", tname(type), (long long)n, (long long)k, (long long)m,
             pad == 2 ? " (2-byte aligned rows)" : "", getenv("TSC_MATVEC_KERNEL") ? " [regs,nopdl]" : "", variant_tag());
    double s = time_it(do_mm, &a);
    result(m == 1 ? "matvec" : "matmul", name, s, m == 1 ? (double)n * row_bytes(type, k) : 0, m > 1 ? 2.0 * n * k * m : 0);
    for (int i = 1; i < a.nw; i++) tsc_free(ctx, (void *)a.wl[i]);
    tsc_free(ctx, a.y), tsc_free(ctx, (void *)a.w), tsc_free(ctx, (void *)a.x);
}

static void bench_matvec(int32_t type, int64_t n, int64_t k, int64_t m) { bench_matvec_pad(type, n, k, m, 0); }

/* LLaMA-2-7B: 32 layers of q,k,v,o [4096x4096], gate,up [11008x4096], down [4096x11008]. */
typedef struct {
    int32_t type;
    int n_mats;
    void *w[32 * 7];
    int64_t n[32 * 7], k[32 * 7];
    float *x, *y;
} set_arg;
static void do_set(void *a) {
    set_arg *s = a;
    for (int i = 0; i < s->n_mats; i++)
        if (tsc_matmul(ctx, s->y, 0, s->w[i], s->type, row_bytes(s->type, s->k[i]), s->x, 0, s->n[i], s->k[i], 1) != TS_OK)
            die("matmul");
}

/* The same step as the CUDA backend hands it over: q/k/v and gate/up one tsc_matmul_parts call
 * each (one kernel), o and down alone. */
static void do_set_parts(void *a) {
    set_arg *s = a;
    for (int i = 0; i < s->n_mats;) {
        const int j = i % 7, parts = j == 0 ? 3 : j == 4 ? 2 : 1;
        float *y[3];
        const void *w[3];
        int64_t ys[3] = {0, 0, 0}, ws[3];
        for (int p = 0; p < parts; p++) y[p] = s->y + p * s->n[i], w[p] = s->w[i + p], ws[p] = row_bytes(s->type, s->k[i + p]);
        if (tsc_matmul_parts(ctx, parts, y, ys, w, ws, &s->n[i], NULL, NULL, s->type, s->x, 0, s->k[i], 1) != TS_OK)
            die("matmul_parts");
        i += parts;
    }
}

/* The same step recorded and run as one CUDA graph (recorded anew each call, as the Java
 * backend does per decode step; the kept graph is updated in place). */
static void do_set_graph(void *a) {
    if (tsc_graph_begin(ctx) != TS_OK) die("graph begin");
    do_set(a);
    if (tsc_graph_end(ctx, 1, 1) != TS_OK) die("graph end");
}

/* Best of 5 host times of fn with the GPU idle at the start: the host's share of a step. */
static double host_time(bench_fn fn, void *arg) {
    double best = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        if (tsc_synchronize(ctx) != TS_OK) die("sync");
        double t0 = now();
        fn(arg);
        double e = now() - t0;
        if (e < best) best = e;
    }
    if (tsc_synchronize(ctx) != TS_OK) die("sync");
    return best;
}

static void bench_weight_set(int32_t type) {
    static const int64_t shp[7][2] = {{4096, 4096}, {4096, 4096}, {4096, 4096}, {4096, 4096},
                                      {11008, 4096}, {11008, 4096}, {4096, 11008}};
    set_arg *s = calloc(1, sizeof *s);
    s->type = type;
    const int layers = quick ? 8 : 32;
    double total = 0;
    /* One layer gets random bytes; the other layers are device copies of it. */
    for (int l = 0; l < layers; l++)
        for (int j = 0; j < 7; j++) {
            int i = l * 7 + j;
            s->n[i] = shp[j][0], s->k[i] = shp[j][1];
            int64_t bytes = s->n[i] * row_bytes(type, s->k[i]);
            if (l == 0) s->w[i] = rand_weights(type, s->n[i], s->k[i], 100 + j);
            else {
                s->w[i] = dweights(bytes);
                if (tsc_copy(ctx, s->w[i], s->w[j], bytes) != TS_OK) die("copy");
            }
            total += (double)bytes;
            s->n_mats++;
        }
    s->x = rand_floats(11008, 5);
    s->y = dalloc(3 * 11008 * 4); /* room for the outputs of one tsc_matmul_parts call */
    char name[128];
    snprintf(name, sizeof name, "%s llama-7b shapes, %d layers, %.2f GiB%s", tname(type), layers, total / (1 << 30), variant_tag());
    double sec = time_it(do_set, s);
    result("weightset", name, sec, total, 0);
    if (!*variant_tag()) { /* once per type: not again in a TSC_MATVEC_BLOCKS run */
        /* Without programmatic dependent launch, and the register kernels without it (the old path). */
        static const char *variants[2] = {"nopdl", "regs,nopdl"};
        for (int v = 0; v < 2; v++) {
            setenv("TSC_MATVEC_KERNEL", variants[v], 1);
            char vname[192];
            snprintf(vname, sizeof vname, "%s [%s]", name, variants[v]);
            result("weightset", vname, time_it(do_set, s), total, 0);
        }
        unsetenv("TSC_MATVEC_KERNEL");
        snprintf(name, sizeof name, "%s llama-7b shapes, %d layers [q/k/v, gate/up as parts]", tname(type), layers);
        result("weightset", name, time_it(do_set_parts, s), total, 0);
        /* The host's share: time to enqueue one step (224 calls) with the GPU idle at the start.
         * Close to the step time above means the step is bound by launch overhead, not memory. */
        snprintf(name, sizeof name, "%s llama-7b shapes: host enqueue only, %d calls", tname(type), s->n_mats);
        result("weightset", name, host_time(do_set, s), total, 0);
        /* As one CUDA graph per step: the launch overhead and the gaps between kernels go. */
        snprintf(name, sizeof name, "%s llama-7b shapes, %d layers [CUDA graph]", tname(type), layers);
        result("weightset", name, time_it(do_set_graph, s), total, 0);
        snprintf(name, sizeof name, "%s llama-7b shapes: host record + submit only [CUDA graph]", tname(type));
        result("weightset", name, host_time(do_set_graph, s), total, 0);
    }
    for (int i = 0; i < s->n_mats; i++) tsc_free(ctx, s->w[i]);
    tsc_free(ctx, s->x), tsc_free(ctx, s->y);
    free(s);
}

typedef struct {
    float *o, *q;
    void *k, *v;
    int64_t heads, kv_heads, lq, lk, d;
    int32_t causal;
} att_arg;
static void do_att(void *a) {
    att_arg *c = a;
    const int64_t d = c->d;
    if (tsc_attention(ctx, c->o, c->lq * d * 4, d * 4, c->q, c->lq * d * 4, d * 4, c->k, c->lk * d * 2, d * 2, c->v, c->lk * d * 2,
                      d * 2, TS_TYPE_F16, NULL, 0, c->heads, c->kv_heads, c->lq, c->lk, d, 0.125f, c->causal,
                      c->causal ? c->lk - c->lq : 0) != TS_OK)
        die("attention");
}

/* F16 K/V, head-major. TFLOP/s counts 4·d flops per (head, query, visible key): all lq·lk
 * keys, or for causal (kv_offset = lk - lq) only those on or below the diagonal. Decode
 * (lq <= 8) also reports GB/s of K and V read (each kv head's K and V once). */
static void bench_attention_kv(const char *what, int64_t heads, int64_t kv_heads, int64_t lq, int64_t lk, int64_t d, int32_t causal) {
    att_arg a = {dalloc(heads * lq * d * 4), rand_floats(heads * lq * d, 3), NULL, NULL, heads, kv_heads, lq, lk, d, causal};
    a.k = rand_weights(TS_TYPE_F16, kv_heads * lk, d, 11);
    a.v = rand_weights(TS_TYPE_F16, kv_heads * lk, d, 13);
    char name[128];
    if (kv_heads == heads)
        snprintf(name, sizeof name, "%s h=%lld lq=%lld lk=%lld d=%lld%s", what, (long long)heads, (long long)lq, (long long)lk,
                 (long long)d, causal ? " causal" : "");
    else
        snprintf(name, sizeof name, "%s h=%lld/%lld lq=%lld lk=%lld d=%lld%s", what, (long long)heads, (long long)kv_heads,
                 (long long)lq, (long long)lk, (long long)d, causal ? " causal" : "");
    double s = time_it(do_att, &a);
    const double keys = causal ? (double)lq * (double)(lk - lq) + (double)lq * (double)(lq + 1) / 2 : (double)lq * (double)lk;
    result("attention", name, s, lq <= 8 ? 2.0 * kv_heads * lk * d * 2 : 0, 4.0 * heads * keys * d);
    tsc_free(ctx, a.o), tsc_free(ctx, a.q), tsc_free(ctx, a.k), tsc_free(ctx, a.v);
}

/* ---- tensor-core batched matmul (tsc_matmul_mma.cu) ------------------------------------ */

/* H100 SXM dense tensor peaks: int8 1979 TOPS, f16 and bf16 989 TFLOP/s (what the % compare with). */
#define MMA_PEAK_INT8 1979.0
#define MMA_PEAK_F16 989.0

static void bench_mma(int32_t type, int64_t n, int64_t k, int64_t m) {
    mm_arg a = {dalloc(m * n * 4), rand_weights(type, n, k, 21), type, row_bytes(type, k), rand_floats(m * k, 23), n, k, m, {0}, 0, 0};
    const double s = time_it(do_mm, &a), flops = 2.0 * n * k * m;
    const int flt = type == TS_TYPE_F16 || type == TS_TYPE_BF16 || type == TS_TYPE_F32; /* F32: on the bf16 mma */
    const double peak = flt ? MMA_PEAK_F16 : MMA_PEAK_INT8;
    char name[128];
    const char *v = getenv("TSC_MMA_QUANT");
    char kern[32] = "";
    const char *fv = getenv("TSC_MMA_F16"), *wv = getenv("TSC_MMA_WARPS");
    const char *w16 = wv && strcmp(wv, "16") == 0 ? ", 16 warps" : "";
    if (m < 16) snprintf(kern, sizeof kern, " [plain]"); /* below tsc_matmul_mma.cu's TSC_MMA_MIN_M */
    else if (!flt) snprintf(kern, sizeof kern, " [%s%s]", v ? v : "default", w16);
    else snprintf(kern, sizeof kern, " [%s%s]", fv ? fv : "wa", fv ? "" : w16); /* X as A: 8 warps always */
    snprintf(name, sizeof name, "%s%s n=%lld k=%lld m=%lld: %.1f%% of %.0f T", tname(type), kern, (long long)n, (long long)k,
             (long long)m, 100.0 * flops / s / 1e12 / peak, peak);
    result("mma", name, s, 0, flops);
    tsc_free(ctx, a.y), tsc_free(ctx, (void *)a.w), tsc_free(ctx, (void *)a.x);
}

static void bench_mma_all(void) {
    static const int32_t types[] = {TS_TYPE_Q4_0, TS_TYPE_Q8_0, TS_TYPE_F16, TS_TYPE_BF16};
    static const int64_t shapes[][3] = {{4096, 4096, 512}, {14336, 4096, 512}, {4096, 14336, 512}, {14336, 4096, 2048},
                                        {4096, 14336, 2048}};
    setenv("TSC_MMA_QUANT", "int8", 1);
    for (int t = 0; t < 4; t++)
        for (int i = 0; i < (quick ? 1 : 5); i++) bench_mma(types[t], shapes[i][0], shapes[i][1], shapes[i][2]);
    /* The other kernels for quantized weights (TSC_MMA_QUANT: f16 mma on the same integers;
     * W unpacked in shared memory, int8 / f16 mma), on three of the shapes. */
    static const char *variants[] = {"f16", "raw", "rawf16"};
    static const int pick[] = {0, 1, 4};
    for (int v = 0; v < 3; v++) {
        setenv("TSC_MMA_QUANT", variants[v], 1);
        for (int t = 0; t < 2; t++)
            for (int i = 0; i < (quick ? 1 : 3); i++) bench_mma(types[t], shapes[pick[i]][0], shapes[pick[i]][1], shapes[pick[i]][2]);
    }
    unsetenv("TSC_MMA_QUANT");
    setenv("TSC_MMA_F16", "xa", 1); /* F16/BF16 with X as the mma's A operand (the other order) */
    for (int t = 2; t < 4; t++)
        for (int i = 0; i < (quick ? 1 : 3); i++) bench_mma(types[t], shapes[pick[i]][0], shapes[pick[i]][1], shapes[pick[i]][2]);
    unsetenv("TSC_MMA_F16");
    /* Around the threshold (m 15: the plain kernels; 16 and up: tensor cores). */
    static const int64_t ms[] = {15, 16, 32, 64, 128};
    for (int t = 0; t < 4; t += 2)
        for (int i = 0; i < 5; i++) bench_mma(types[t], 4096, 4096, ms[i]);
    bench_mma(TS_TYPE_BF16, 4096, 4096, 15);
    bench_mma(TS_TYPE_BF16, 4096, 4096, 16);
    /* F32 weights: W split into three bf16 parts, six mma per piece; m = 15 is the CUDA-core kernel */
    for (int i = 0; i < (quick ? 1 : 3); i++) bench_mma(TS_TYPE_F32, shapes[pick[i]][0], shapes[pick[i]][1], shapes[pick[i]][2]);
    bench_mma(TS_TYPE_F32, 4096, 4096, 15);
    bench_mma(TS_TYPE_F32, 4096, 4096, 16);
    /* K-quants (Q4_K_M files: Q4_K and Q6_K) on the int8 kernel: scale and min per 32 (Q4_K)
     * or scale per 16 (Q6_K, two k16 mma per block); m = 15 is the dp4a kernel they took before. */
    static const int32_t kq[] = {TS_TYPE_Q4_K, TS_TYPE_Q6_K};
    for (int t = 0; t < 2; t++) {
        for (int i = 0; i < (quick ? 1 : 3); i++) bench_mma(kq[t], shapes[pick[i]][0], shapes[pick[i]][1], shapes[pick[i]][2]);
        bench_mma(kq[t], 4096, 4096, 15);
        bench_mma(kq[t], 4096, 4096, 16);
    }
    /* The GEMMs with 16 warps per CTA (TSC_MMA_WARPS=16: 4 per scheduler, warp tiles of 32 x 32)
     * beside the 8 above, on the same shapes. */
    static const int32_t w16[] = {TS_TYPE_Q4_0, TS_TYPE_Q8_0, TS_TYPE_Q4_K, TS_TYPE_Q6_K, TS_TYPE_F16, TS_TYPE_BF16, TS_TYPE_F32};
    setenv("TSC_MMA_WARPS", "16", 1);
    for (int t = 0; t < 7; t++)
        for (int i = 0; i < (quick ? 1 : 3); i++) bench_mma(w16[t], shapes[pick[i]][0], shapes[pick[i]][1], shapes[pick[i]][2]);
    unsetenv("TSC_MMA_WARPS");
}

static void bench_attention(const char *what, int64_t heads, int64_t lq, int64_t lk, int64_t d) {
    bench_attention_kv(what, heads, heads, lq, lk, d, 0);
}

/* ---- convolution and norms (tsc_conv.cu, tsc_ops.cu) ---------------------------------- */
typedef struct {
    float *y, *x, *b;
    void *w;
    int32_t w_type;
    int64_t n, cin, h, w_, cout, k;
    int32_t s, p;
} conv_arg;
static void do_conv(void *a) {
    conv_arg *c = a;
    if (tsc_conv2d(ctx, c->y, c->x, c->w, c->w_type, c->b, c->n, c->cin, c->h, c->w_, c->cout, c->k, c->k, c->s, c->s, c->p, c->p, 1, 1,
                   1) != TS_OK)
        die("conv2d");
}

/* TFLOP/s counts 2 * n * cout * oh * ow * cin * k * k (the useful multiply-adds). */
static void bench_conv(const char *what, int32_t w_type, int64_t n, int64_t cin, int64_t h, int64_t w, int64_t cout, int64_t k, int32_t s,
                       int32_t p) {
    const int64_t oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
    conv_arg a = {dalloc(n * cout * oh * ow * 4), rand_floats(n * cin * h * w, 21), rand_floats(cout, 23), NULL, w_type, n, cin, h, w,
                  cout, k, s, p};
    a.w = w_type == TS_TYPE_F16 ? rand_weights(TS_TYPE_F16, cout, cin * k * k, 25) : (void *)rand_floats(cout * cin * k * k, 25);
    char name[160];
    snprintf(name, sizeof name, "%s %s n=%lld %lld->%lld %lldx%lld k%lld s%d p%d", what, w_type == TS_TYPE_F16 ? "f16" : "f32",
             (long long)n, (long long)cin, (long long)cout, (long long)h, (long long)w, (long long)k, (int)s, (int)p);
    double sec = time_it(do_conv, &a);
    result("conv2d", name, sec, 0, 2.0 * n * cout * oh * ow * cin * k * k);
    tsc_free(ctx, a.y), tsc_free(ctx, a.x), tsc_free(ctx, a.b), tsc_free(ctx, a.w);
}

typedef struct {
    float *y, *x, *w, *b;
    int64_t rows, n, groups, hw;
} norm_arg;
static void do_gn(void *a) {
    norm_arg *c = a;
    if (tsc_group_norm(ctx, c->y, c->n * c->hw * 4, c->x, c->n * c->hw * 4, c->w, c->b, c->rows, c->n, c->hw, (int32_t)c->groups, 1e-5f) !=
        TS_OK)
        die("group_norm");
}
static void do_ln(void *a) {
    norm_arg *c = a;
    if (tsc_layer_norm(ctx, c->y, c->n * 4, c->x, c->n * 4, c->w, c->b, c->rows, c->n, 1e-5f) != TS_OK) die("layer_norm");
}

/* GB/s counts one read of x and one write of y (the minimum traffic). */
static void bench_group_norm(int64_t batch, int64_t ch, int64_t hw, int64_t groups) {
    norm_arg a = {dalloc(batch * ch * hw * 4), rand_floats(batch * ch * hw, 31), rand_floats(ch, 32), rand_floats(ch, 33), batch, ch,
                  groups, hw};
    char name[128];
    snprintf(name, sizeof name, "group_norm n=%lld c=%lld hw=%lld g=%lld", (long long)batch, (long long)ch, (long long)hw,
             (long long)groups);
    result("norm", name, time_it(do_gn, &a), 8.0 * batch * ch * hw, 0);
    tsc_free(ctx, a.y), tsc_free(ctx, a.x), tsc_free(ctx, a.w), tsc_free(ctx, a.b);
}

static void bench_layer_norm(int64_t rows, int64_t n) {
    norm_arg a = {dalloc(rows * n * 4), rand_floats(rows * n, 41), rand_floats(n, 42), rand_floats(n, 43), rows, n, 0, 0};
    char name[128];
    snprintf(name, sizeof name, "layer_norm rows=%lld n=%lld", (long long)rows, (long long)n);
    result("norm", name, time_it(do_ln, &a), 8.0 * rows * n, 0);
    tsc_free(ctx, a.y), tsc_free(ctx, a.x), tsc_free(ctx, a.w), tsc_free(ctx, a.b);
}

/* --matvec: Q4_0, Q8_0, Q4_K and Q6_K 14336x4096 decode matvecs, each launched once with
 * the default grid and once with TSC_MATVEC_BLOCKS=4, for `ncu -k regex:k_matvec`
 * (ci/gpu-profile.sh): eight kernels to profile, nothing timed. */
static void profile_matvecs(void) {
    static const int32_t types[] = {TS_TYPE_Q4_0, TS_TYPE_Q8_0, TS_TYPE_Q4_K, TS_TYPE_Q6_K};
    for (int b = 0; b < 2; b++) {
        if (b == 1) setenv("TSC_MATVEC_BLOCKS", "4", 1);
        for (int t = 0; t < 4; t++) {
            const int64_t n = 14336, k = 4096;
            mm_arg a = {dalloc(n * 4), rand_weights(types[t], n, k, 7), types[t], row_bytes(types[t], k), rand_floats(k, 9), n, k, 1, {0}, 0, 0};
            do_mm(&a);
            if (tsc_synchronize(ctx) != TS_OK) die("matvec");
            printf("ran %s n=%lld k=%lld m=1%s\n", tname(types[t]), (long long)n, (long long)k, variant_tag());
            tsc_free(ctx, a.y), tsc_free(ctx, (void *)a.w), tsc_free(ctx, (void *)a.x);
        }
    }
    unsetenv("TSC_MATVEC_BLOCKS");
}

/* --mma: the batched GEMMs at 4096x4096x512 (Q4_0, Q4_K, Q6_K on the int8 mma, F16, BF16, F32,
 * then Q4_0 and F16 with 16 warps per CTA), each launched once, for `ncu -k regex:k_mma_`
 * (ci/gpu-profile.sh): why they run at a tenth of the tensor rate; nothing timed. */
static void profile_mmas(void) {
    static const int32_t types[] = {TS_TYPE_Q4_0, TS_TYPE_Q4_K, TS_TYPE_Q6_K, TS_TYPE_F16, TS_TYPE_BF16, TS_TYPE_F32, TS_TYPE_Q4_0, TS_TYPE_F16};
    for (int t = 0; t < 8; t++) {
        if (t == 6) setenv("TSC_MMA_WARPS", "16", 1);
        const int64_t n = 4096, k = 4096, m = 512;
        mm_arg a = {dalloc(m * n * 4), rand_weights(types[t], n, k, 21), types[t], row_bytes(types[t], k), rand_floats(m * k, 23),
                    n, k, m, {0}, 0, 0};
        do_mm(&a);
        if (tsc_synchronize(ctx) != TS_OK) die("mma");
        printf("ran %s%s n=%lld k=%lld m=%lld\n", tname(types[t]), t >= 6 ? " (16 warps)" : "", (long long)n, (long long)k, (long long)m);
        tsc_free(ctx, a.y), tsc_free(ctx, (void *)a.w), tsc_free(ctx, (void *)a.x);
    }
    unsetenv("TSC_MMA_WARPS");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: tsc_bench OUT_DIR [--quick | --matvec | --mma]\n");
        return 2;
    }
    quick = argc > 2 && strcmp(argv[2], "--quick") == 0;
    const int matvec_only = argc > 2 && strcmp(argv[2], "--matvec") == 0, mma_only = argc > 2 && strcmp(argv[2], "--mma") == 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/bench.json", argv[1]);
    js = fopen(path, "w");
    snprintf(path, sizeof path, "%s/bench.md", argv[1]);
    md = fopen(path, "w");
    if (!js || !md) {
        fprintf(stderr, "tsc_bench: cannot write into %s\n", argv[1]);
        return 1;
    }
    if (tsc_device_count() == 0) {
        fprintf(js, "{\"device\": null, \"reason\": \"%s\", \"results\": []}\n", tsc_last_error());
        fprintf(md, "No CUDA device: %s\n", tsc_last_error());
        fclose(js), fclose(md);
        fprintf(stderr, "tsc_bench: no CUDA device: %s\n", tsc_last_error());
        return 77;
    }
    char name[256];
    int64_t info[TSC_INFO_COUNT];
    if (tsc_device_name(0, name, sizeof name) || tsc_device_info(0, info, TSC_INFO_COUNT)) die("device");
    if (tsc_init(0, 0, &ctx) != TS_OK) die("tsc_init");
    if (matvec_only || mma_only) {
        if (matvec_only) profile_matvecs();
        else profile_mmas();
        fprintf(js, "{\"device\": \"%s\", \"results\": []}\n", name);
        fprintf(md, "Profiling run (%s): nothing timed.\n", argv[2]);
        fclose(js), fclose(md);
        tsc_shutdown(ctx);
        return 0;
    }
    /* HBM/GDDR transfer twice per clock. */
    const double peak = 2.0 * (double)info[TSC_INFO_MEM_CLOCK_KHZ] * 1e3 * (double)info[TSC_INFO_MEM_BUS_BITS] / 8 / 1e9;
    printf("device: %s, %lld MiB, %lld SMs, sm_%lld%lld, nominal %.0f GB/s\n", name, (long long)(info[0] >> 20),
           (long long)info[TSC_INFO_SM_COUNT], (long long)info[TSC_INFO_CC_MAJOR], (long long)info[TSC_INFO_CC_MINOR], peak);
    fprintf(js, "{\n  \"device\": \"%s\", \"memory_bytes\": %lld, \"sm_count\": %lld, \"cc\": \"%lld.%lld\", \"driver\": %d,\n",
            name, (long long)info[0], (long long)info[TSC_INFO_SM_COUNT], (long long)info[TSC_INFO_CC_MAJOR],
            (long long)info[TSC_INFO_CC_MINOR], tsc_driver_version());
    fprintf(md, "Device: **%s**, %lld MiB, %lld SMs, sm_%lld%lld, driver %d, nominal memory bandwidth %.0f GB/s\n\n", name,
            (long long)(info[0] >> 20), (long long)info[TSC_INFO_SM_COUNT], (long long)info[TSC_INFO_CC_MAJOR],
            (long long)info[TSC_INFO_CC_MINOR], tsc_driver_version(), peak);

    /* Copy bandwidth: 1 GiB device to device, read + write counted. */
    {
        const int64_t bytes = quick ? 256ll << 20 : 1ll << 30;
        copy_arg c = {dalloc(bytes), dalloc(bytes), bytes};
        fill_random(c.src, bytes, 1);
        double s = time_it(do_copy, &c);
        copy_gbs = 2.0 * (double)bytes / s / 1e9;
        tsc_free(ctx, c.dst), tsc_free(ctx, c.src);
    }
    printf("device-to-device copy: %.0f GB/s (read + write)\n", copy_gbs);
    fprintf(js, "  \"nominal_gb_s\": %.1f, \"copy_gb_s\": %.1f,\n  \"results\": [\n", peak, copy_gbs);
    fprintf(md, "Measured device-to-device copy: %.0f GB/s (read + write). %% = share of that.\n\n", copy_gbs);
    fprintf(md, "| group | case | us/call | GB/s (%% of copy) | TFLOP/s |\n|---|---|---:|---:|---:|\n");

    static const int32_t types[] = {TS_TYPE_Q4_0, TS_TYPE_Q8_0, TS_TYPE_F16, TS_TYPE_Q4_K, TS_TYPE_Q6_K};
    for (int t = 0; t < 5; t++) {
        bench_matvec(types[t], 14336, 4096, 1);
        bench_matvec(types[t], 4096, 14336, 1);
    }
    /* Rows that are not 16-byte aligned: Q6_K rows of 11008 (9030 bytes, LLaMA ffn_down in
     * Q4_K_M files), Q4_0 rows padded by 2 bytes. */
    bench_matvec(TS_TYPE_Q6_K, 4096, 11008, 1);
    bench_matvec_pad(TS_TYPE_Q4_0, 4096, 14336, 1, 2);
    /* The same shapes with the register-load kernels and plain launches (TSC_MATVEC_KERNEL). */
    setenv("TSC_MATVEC_KERNEL", "regs,nopdl", 1);
    for (int t = 0; t < 5; t++) {
        if (types[t] == TS_TYPE_Q6_K) continue;
        bench_matvec(types[t], 14336, 4096, 1);
        bench_matvec(types[t], 4096, 14336, 1);
    }
    unsetenv("TSC_MATVEC_KERNEL");
    bench_weight_set(TS_TYPE_Q4_0);
    bench_weight_set(TS_TYPE_Q8_0);
    /* Quantized shapes again with warps that stay resident and take several rows in turn, each
     * keeping several tiles in flight (TSC_MATVEC_BLOCKS: 4 blocks per SM, what their
     * registers allow; 2, which leaves room on every SM for the next matvec's blocks to start
     * streaming while the last rows are decoded): the tuning question for the decode kernels,
     * answered on the GPU. */
    static const char *per_sm[2] = {"4", "2"};
    for (int b = 0; b < 2; b++) {
        setenv("TSC_MATVEC_BLOCKS", per_sm[b], 1);
        for (int t = 0; t < 5; t++) {
            if (types[t] == TS_TYPE_F16) continue; /* F16 takes its own kernel */
            bench_matvec(types[t], 14336, 4096, 1);
            bench_matvec(types[t], 4096, 14336, 1);
        }
        bench_weight_set(TS_TYPE_Q4_0);
    }
    unsetenv("TSC_MATVEC_BLOCKS");
    bench_matvec(TS_TYPE_Q4_0, 4096, 4096, 512);
    bench_matvec(TS_TYPE_Q8_0, 4096, 4096, 512);
    bench_mma_all();
    /* CLIP ViT-L/14 at 224: 16 heads, 257 tokens, d 64. */
    bench_attention("clip vit-l/14", 16, 257, 257, 64);
    /* SD 1.5 UNet at 512x512 with CFG (batch 2): heads x batch = 16. */
    bench_attention("sd1.5 self 64x64", 16, 4096, 4096, 40);
    bench_attention("sd1.5 self 32x32", 16, 1024, 1024, 80);
    bench_attention("sd1.5 self 16x16", 16, 256, 256, 160);
    bench_attention("sd1.5 cross 64x64", 16, 4096, 77, 40);
    bench_attention("sd1.5 cross 16x16", 16, 256, 77, 160);
    /* LLaMA decode step with a 4k cache: 32 heads, d 128. */
    bench_attention("llama decode", 32, 1, 4096, 128);
    /* LLaMA-3-8B shapes: GQA 32/8, a 32k cache (128 MiB of K/V), and a causal 2k prefill. */
    bench_attention_kv("llama-3 decode", 32, 8, 1, 32768, 128, 1);
    bench_attention_kv("llama-3 prefill", 32, 8, 2048, 2048, 128, 1);
    /* Same run, other kernel choices (TSC_ATTENTION_KERNEL): the tensor-core kernel's block
     * height, and the general kernel (all there was before the fast paths) as the baseline. */
    setenv("TSC_ATTENTION_KERNEL", "rows64", 1);
    bench_attention("sd1.5 self 64x64 [64-row blocks]", 16, 4096, 4096, 40);
    bench_attention("sd1.5 cross 64x64 [64-row blocks]", 16, 4096, 77, 40);
    setenv("TSC_ATTENTION_KERNEL", "rows128", 1);
    bench_attention("clip vit-l/14 [128-row blocks]", 16, 257, 257, 64);
    unsetenv("TSC_ATTENTION_KERNEL");
    setenv("TSC_ATTENTION_SPLIT_KEYS", "32", 1);
    bench_attention("llama decode [32-key splits]", 32, 1, 4096, 128);
    setenv("TSC_ATTENTION_SPLIT_KEYS", "128", 1);
    bench_attention("llama decode [128-key splits]", 32, 1, 4096, 128);
    bench_attention_kv("llama-3 decode [128-key splits]", 32, 8, 1, 32768, 128, 1);
    setenv("TSC_ATTENTION_SPLIT_KEYS", "256", 1);
    bench_attention("llama decode [256-key splits]", 32, 1, 4096, 128);
    unsetenv("TSC_ATTENTION_SPLIT_KEYS");
    setenv("TSC_ATTENTION_KERNEL", "general", 1);
    bench_attention("llama decode [general kernel]", 32, 1, 4096, 128);
    bench_attention("sd1.5 self 32x32 [general kernel]", 16, 1024, 1024, 80);
    unsetenv("TSC_ATTENTION_KERNEL");
    /* Convolutions: SD 1.5 UNet 320->320 at 64x64 (batch 1 and CFG batch 2), the VAE
     * decoder's 512->512 at 128x128, a stride-2 downsample, a 1x1, ViT-L/14's patchify. */
    bench_conv("sd unet", TS_TYPE_F16, 1, 320, 64, 64, 320, 3, 1, 1);
    bench_conv("sd unet (weights in place)", TS_TYPE_F32, 1, 320, 64, 64, 320, 3, 1, 1);
    bench_conv("sd unet", TS_TYPE_F16, 2, 320, 64, 64, 320, 3, 1, 1);
    bench_conv("sd vae", TS_TYPE_F16, 1, 512, 128, 128, 512, 3, 1, 1);
    bench_conv("sd down", TS_TYPE_F32, 2, 320, 64, 64, 320, 3, 2, 1);
    bench_conv("sd unet 8x8 (split K)", TS_TYPE_F16, 2, 1280, 8, 8, 1280, 3, 1, 1);
    bench_conv("sd unet 8x8 (split K, weights in place)", TS_TYPE_F32, 2, 1280, 8, 8, 1280, 3, 1, 1);
    bench_conv("sd unet 16x16", TS_TYPE_F16, 2, 1280, 16, 16, 1280, 3, 1, 1);
    bench_conv("1x1", TS_TYPE_F16, 2, 640, 32, 32, 1280, 1, 1, 0);
    bench_conv("vit-l/14 patchify", TS_TYPE_F16, 1, 3, 224, 224, 1024, 14, 14, 0);
    bench_conv("vit-l/14 patchify", TS_TYPE_F16, 16, 3, 224, 224, 1024, 14, 14, 0);
    bench_group_norm(2, 320, 64 * 64, 32);
    bench_group_norm(1, 512, 128 * 128, 32);
    bench_layer_norm(257, 1024);
    bench_layer_norm(2 * 4096, 320);

    fprintf(js, "\n  ]\n}\n");
    fclose(js);
    fclose(md);
    tsc_shutdown(ctx);
    return 0;
}
