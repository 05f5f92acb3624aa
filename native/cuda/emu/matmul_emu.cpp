/*
 * matmul_emu.cpp — runs tsc_matmul.cu's kernels on the CPU (cuda_emu.h), for every weight
 * type tsc_matmul takes: the Q8_0 activation quantizer, the m = 1 decode kernels (cp.async
 * ring and register loads) and the m > 1 kernel, at row alignments of 2, 4 and 16 bytes,
 * with row counts that leave blocks partly empty and k that ends in a partial tile.
 * ctest runs it (label cuda; about 2 s); by hand:
 *
 *   cmake --build BUILD --target matmul_emu && BUILD/native/cuda/matmul_emu
 *
 * Checks, each against something the kernels do not share:
 *  - the dequantizer's floats equal the CPU's ts_dequantize bit for bit;
 *  - the quantizer's int8 quants and half-rounded scales equal the CPU's ts_quantize Q8_0
 *    bytes (edge blocks included: zeros, tiny values, a huge one, exact halves);
 *  - every kernel's y equals a double-precision Σ w·x̃ over the CPU-dequantized weights and
 *    x̃ = the CPU's Q8_0 round trip of x, within test_cuda_matmul's bound
 *    2e-5 · Σ (|w| + B)·|x̃| + 1e-6 (B: largest |w| of the element's group of 32); F16, BF16
 *    and F32 weights against the exact x within 1e-5 · Σ|w·x| + 1e-6;
 *  - the m = 1 kernels (the cp.async one also with one block, each warp then taking several
 *    rows in turn) and the m > 1 kernel take each lane's groups
 *    in the same order, so their results must be equal bit for bit (host float arithmetic
 *    has no contraction);
 *  - y's padding stays untouched.
 */
#include "cuda_emu.h"

#include "ptx_matmul.h"

#include "../tsc_device.cuh"
#include "../tsc_matmul.cu"

#include "emu_check.h"


static int64_t failures;

#define EXPECT(cond, ...)                                                                                                      \
    do {                                                                                                                       \
        if (!(cond)) {                                                                                                         \
            printf("FAIL ");                                                                                                   \
            printf(__VA_ARGS__);                                                                                               \
            printf("\n");                                                                                                      \
            failures++;                                                                                                        \
        }                                                                                                                      \
    } while (0)


/* The activation quantizer, as tsc_matmul launches it: m rows of k into xq / xs. */
static void quantize_split(int8_t *xq, tsc_xs *xs, const float *x, int64_t xs_f, int64_t m, int64_t k) {
    const int64_t nb = k / 32;
    launch(dim3((unsigned)tsc_cdiv(m * nb, TSC_Q8_WARPS)), dim3(32 * TSC_Q8_WARPS), 0,
           [&] { k_quantize_q8_0_split(xq, xs, x, xs_f, m, nb); });
}

static void check_quantizer() {
    const int64_t m = 3, k = 1024, nb = k / 32;
    std::vector<float> x(m * k);
    for (auto &v : x) v = 2.0f * randn();
    for (int j = 0; j < 32; j++) x[j] = 0.0f;
    for (int j = 0; j < 32; j++) x[32 + j] = 1e-38f * (float)(j - 16);
    x[64] = 3e38f;
    for (int j = 0; j < 32; j++) x[96 + j] = (float)(j - 16) * 0.5f;
    std::vector<int8_t> xq(m * k);
    std::vector<tsc_xs> xs(m * nb);
    quantize_split(xq.data(), xs.data(), x.data(), k, m, k);
    std::vector<unsigned char> want(m * nb * 34);
    EXPECT(ts_quantize(want.data(), TS_TYPE_Q8_0, x.data(), m, k) == TS_OK, "cpu quantize");
    int64_t bad = 0;
    for (int64_t i = 0; i < m * nb; i++) {
        const unsigned char *b = &want[i * 34];
        uint16_t d;
        memcpy(&d, b, 2);
        int s0 = 0, s1 = 0;
        for (int j = 0; j < 16; j++) s0 += (int8_t)b[2 + j], s1 += (int8_t)b[18 + j];
        bad += memcmp(&xq[i * 32], b + 2, 32) != 0 || xs[i].d != tsc_emu_h2f(d) || (int16_t)xs[i].sums != s0 || xs[i].sums >> 16 != s1;
    }
    EXPECT(bad == 0, "quantizer: %lld of %lld blocks differ from the CPU's Q8_0", (long long)bad, (long long)(m * nb));
    printf("%s quantizer %lld blocks (quants, scales, half sums)\n", bad ? "FAIL" : "ok  ", (long long)(m * nb));
}

/* One type and shape through every kernel that takes it; wpad: 16 = rows 16-byte aligned,
 * otherwise rows are row bytes + wpad apart. */
template <int T>
static void check_block_type(int64_t n, int64_t k, int64_t wpad) {
    const ts_type_traits *tt = ts_get_type_traits(T);
    const int64_t row = (int64_t)ts_qtype_row_size(T, k), ws = wpad == 16 ? (row + 15) / 16 * 16 + 16 : row + wpad;
    const int64_t ms[] = {1, 3, 9};
    std::vector<char> wbuf, xbuf;
    char *w = align16<char>(wbuf, (size_t)(n * ws + 64));
    std::vector<float> wf(k), wd(n * k);
    for (int64_t r = 0; r < n; r++) {
        for (auto &v : wf) v = 0.5f * randn();
        tt->quantize(wf.data(), w + r * ws, k);
        ts_dequantize(wd.data() + r * k, w + r * ws, T, 1, k);
    }
    /* tsc_dequantize's kernel: the CPU's values bit for bit. */
    std::vector<float> dq(n * k, NAN);
    launch(dim3((unsigned)tsc_cdiv(n * (k / 32), 128)), dim3(128), 0,
           [&] { k_dequantize_q<T>(dq.data(), k, (const uint8_t *)w, ws, n, k / 32); });
    const bool dq_same = memcmp(dq.data(), wd.data(), (size_t)(n * k) * 4) == 0;
    EXPECT(dq_same, "%s dequantize n=%lld k=%lld ws=%lld: values differ from ts_dequantize", tt->name, (long long)n, (long long)k,
           (long long)ws);
    if (dq_same) printf("ok   %-5s %-14s n=%lld k=%lld ws=%lld (bit for bit)\n", tt->name, "dequantize", (long long)n, (long long)k, (long long)ws);
    const int64_t mmax = 9, nb = k / 32;
    float *x = align16<float>(xbuf, (size_t)(mmax * k * 4));
    for (int64_t i = 0; i < mmax * k; i++) x[i] = randn();
    /* x̃: the CPU's Q8_0 round trip. */
    std::vector<float> xt(mmax * k);
    std::vector<unsigned char> q8(nb * 34);
    for (int64_t j = 0; j < mmax; j++) {
        ts_quantize(q8.data(), TS_TYPE_Q8_0, x + j * k, 1, k);
        ts_dequantize(xt.data() + j * k, q8.data(), TS_TYPE_Q8_0, 1, k);
    }
    std::vector<int8_t> xq(mmax * k);
    std::vector<tsc_xs> xs(mmax * nb);
    quantize_split(xq.data(), xs.data(), x, k, mmax, k);
    /* Every kernel reads weights only through these bytes (cp.async range checks). */
    const std::pair<const char *, const char *> wr{w - ((uintptr_t)w & 15), w + n * ws + 16};
    std::vector<float> m1; /* the first m = 1 result: the others must equal it bit for bit */
    /* As launch_q picks: spans never need shifting when every row is 4-byte aligned. */
    const bool a4 = qtype<T>::bs % 4 == 0 && (((uintptr_t)w | (uintptr_t)ws) & 3) == 0;
    for (int path = 0; path < 4; path++) {
        for (int64_t m : ms) {
            if ((path < 3) != (m == 1)) continue;
            const int64_t ys = n + 3;
            std::vector<float> y(m * ys, 1234.5f);
            g_ranges = {wr};
            const char *name;
            if (path == 0) {
                name = "matvec_async";
                launch(dim3((unsigned)tsc_cdiv(n, TSC_MM_WARPS)), dim3(32, TSC_MM_WARPS), mv_smem_bytes<T>(), [&] {
                    if constexpr (qtype<T>::bs % 4 == 0)
                        if (a4) return k_matvec_async<T, false, true>(mv_parts_one(y.data(), w, ws, n), xq.data(), xs.data(), n, k);
                    k_matvec_async<T, false, false>(mv_parts_one(y.data(), w, ws, n), xq.data(), xs.data(), n, k);
                });
            } else if (path == 1) { /* one block: each warp takes rows w, w + 4, ... (TSC_MATVEC_BLOCKS) */
                name = "matvec_async 1";
                launch(dim3(1), dim3(32, TSC_MM_WARPS), mv_smem_bytes<T, true>(), [&] {
                    if constexpr (qtype<T>::bs % 4 == 0)
                        if (a4) return k_matvec_async<T, true, true>(mv_parts_one(y.data(), w, ws, n), xq.data(), xs.data(), n, k);
                    k_matvec_async<T, true, false>(mv_parts_one(y.data(), w, ws, n), xq.data(), xs.data(), n, k);
                });
            } else if (path == 2) {
                name = "matmul_q regs";
                launch(dim3((unsigned)tsc_cdiv(n, TSC_MM_WARPS)), dim3(32, TSC_MM_WARPS), 0, [&] {
                    k_matmul_q<T, 1, TSC_MV_UNROLL>(y.data(), ys, (const uint8_t *)w, ws, xq.data(), xs.data(), n, k, m);
                });
            } else {
                name = "matmul_q m>1";
                launch(dim3((unsigned)tsc_cdiv(n, TSC_MM_WARPS), (unsigned)tsc_cdiv(m, 8)), dim3(32, TSC_MM_WARPS), 0,
                       [&] { k_matmul_q<T, 8, 1>(y.data(), ys, (const uint8_t *)w, ws, xq.data(), xs.data(), n, k, m); });
            }
            int64_t bad = 0, untouched = 0, differ = 0;
            double worst = 0;
            for (int64_t j = 0; j < m; j++) {
                for (int64_t r = 0; r < n; r++) {
                    const float *wrow = &wd[r * k], *xr = &xt[j * k];
                    double ref = 0, mag2 = 0;
                    for (int64_t g = 0; g < k; g += 32) {
                        double B = 0;
                        for (int64_t i = g; i < g + 32; i++) B = std::max(B, (double)fabsf(wrow[i]));
                        for (int64_t i = g; i < g + 32; i++) {
                            ref += (double)wrow[i] * xr[i];
                            mag2 += (fabs(wrow[i]) + B) * fabs(xr[i]);
                        }
                    }
                    const double tol = 2e-5 * mag2 + 1e-6, err = fabs(y[j * ys + r] - ref);
                    worst = std::max(worst, err / tol);
                    bad += !(err <= tol);
                    if (m == 1 && path == 0) m1.push_back(y[r]);
                    else if (m == 1 || j == 0) differ += memcmp(&y[j * ys + r], &m1[r], 4) != 0;
                }
                for (int64_t r = n; r < ys; r++) untouched += y[j * ys + r] != 1234.5f;
            }
            EXPECT(bad == 0 && untouched == 0 && differ == 0, "%s %s n=%lld k=%lld m=%lld ws=%lld: %lld wrong, %lld differ from m = 1, %lld padding written",
                   tt->name, name, (long long)n, (long long)k, (long long)m, (long long)ws, (long long)bad, (long long)differ,
                   (long long)untouched);
            if (bad == 0 && untouched == 0 && differ == 0)
                printf("ok   %-5s %-14s n=%lld k=%lld m=%lld ws=%lld (worst error %.3f of the bound; y bits %08x)\n", tt->name, name,
                       (long long)n, (long long)k, (long long)m, (long long)ws, worst, fnv1a(y.data(), y.size() * 4));
        }
    }
}

template <int WT>
static void check_float_type(int64_t n, int64_t k, bool aligned_rows) {
    const int64_t es = WT == TS_TYPE_F32 ? 4 : 2, ws = aligned_rows ? (k * es + 15) / 16 * 16 : k * es + es;
    std::vector<char> wbuf, xbuf;
    char *w = align16<char>(wbuf, (size_t)(n * ws + 64));
    std::vector<float> wd(n * k);
    for (int64_t r = 0; r < n; r++)
        for (int64_t i = 0; i < k; i++) {
            const float v = 0.5f * randn();
            if (WT == TS_TYPE_F32) memcpy(w + r * ws + 4 * i, &v, 4), wd[r * k + i] = v;
            else if (WT == TS_TYPE_F16) {
                const uint16_t h = tsc_emu_f2h(v);
                memcpy(w + r * ws + 2 * i, &h, 2), wd[r * k + i] = tsc_emu_h2f(h);
            } else {
                const uint16_t h = (uint16_t)(__float_as_uint(v) >> 16);
                memcpy(w + r * ws + 2 * i, &h, 2), wd[r * k + i] = __uint_as_float((uint32_t)h << 16);
            }
        }
    const int64_t m = 1;
    float *x = align16<float>(xbuf, (size_t)(k * 4));
    for (int64_t i = 0; i < k; i++) x[i] = randn();
    const char *names[] = {"matvec_async_f", "matmul_f vec", "matmul_f"};
    std::vector<float> first;
    for (int path = 0; path < 3; path++) {
        if (!aligned_rows && path < 2) continue; /* the vector kernels need 16-byte rows */
        std::vector<float> y(n + 3, 1234.5f);
        g_ranges = {{w, w + n * ws}};
        const dim3 grid((unsigned)tsc_cdiv(n, TSC_MM_WARPS)), block(32, TSC_MM_WARPS);
        if (path == 0) {
            const int64_t S = 2, tb = 32 * TSC_MV_UNROLL * 16;
            launch(grid, block, (size_t)(S * tb * TSC_MM_WARPS),
                   [&] { k_matvec_async_f<WT>(mv_parts_one(y.data(), w, ws, n), x, n, k, (int)S); });
        } else if (path == 1) {
            launch(grid, block, 0, [&] { k_matmul_f<WT, 1, 4, 1>(y.data(), n, w, ws, x, k, n, k, m); });
        } else {
            launch(grid, block, 0, [&] { k_matmul_f<WT, 1, 1, 0>(y.data(), n, w, ws, x, k, n, k, m); });
        }
        int64_t bad = 0, untouched = 0;
        double worst = 0;
        for (int64_t r = 0; r < n; r++) {
            double ref = 0, mag = 0;
            for (int64_t i = 0; i < k; i++) ref += (double)wd[r * k + i] * x[i], mag += fabs((double)wd[r * k + i] * x[i]);
            const double tol = 1e-5 * mag + 1e-6, err = fabs(y[r] - ref);
            worst = std::max(worst, err / tol);
            bad += !(err <= tol);
        }
        for (int64_t r = n; r < n + 3; r++) untouched += y[r] != 1234.5f;
        EXPECT(bad == 0 && untouched == 0, "%s %s n=%lld k=%lld ws=%lld: %lld wrong, %lld padding written", ts_get_type_traits(WT)->name,
               names[path], (long long)n, (long long)k, (long long)ws, (long long)bad, (long long)untouched);
        if (bad == 0 && untouched == 0)
            printf("ok   %-5s %-14s n=%lld k=%lld ws=%lld (worst error %.3f of the bound; y bits %08x)\n", ts_get_type_traits(WT)->name,
                   names[path], (long long)n, (long long)k, (long long)ws, worst, fnv1a(y.data(), y.size() * 4));
    }
}

template <int T> static void block_cases() {
    /* k: under one tile, or two tiles and a partial one (groups of 32: 128 per tile;
     * K-quants: 16 super-blocks), so the ring of two slots is refilled; n = 9 leaves the
     * third block of 4 rows with one row. */
    const int64_t big = qtype<T>::qk == 32 ? 32 * 272 : 256 * 34;
    const int64_t ks[] = {qtype<T>::qk == 32 ? 96 : 256, big};
    const int64_t pads[] = {16, 0, 2};
    for (int64_t k : ks)
        for (int64_t pad : pads) check_block_type<T>(9, k, pad);
}

int main() {
    emu_seed(0x9E3779B97F4A7C15ull);
    if (ts_init(1, "scalar") != TS_OK) { /* the CPU's reference kernels */
        fprintf(stderr, "ts_init failed: %s\n", ts_last_error());
        return 1;
    }
    check_quantizer();
    block_cases<TS_TYPE_Q4_0>();
    block_cases<TS_TYPE_Q4_1>();
    block_cases<TS_TYPE_Q5_0>();
    block_cases<TS_TYPE_Q5_1>();
    block_cases<TS_TYPE_Q8_0>();
    block_cases<TS_TYPE_Q2_K>();
    block_cases<TS_TYPE_Q3_K>();
    block_cases<TS_TYPE_Q4_K>();
    block_cases<TS_TYPE_Q5_K>();
    block_cases<TS_TYPE_Q6_K>();
    for (bool al : {true, false}) {
        check_float_type<TS_TYPE_F16>(9, 1040, al);
        check_float_type<TS_TYPE_BF16>(9, 1040, al);
        check_float_type<TS_TYPE_F32>(9, 1040, al);
    }
    printf("%lld failures\n", (long long)failures);
    return failures ? 1 : 0;
}
