/*
 * mma_emu.cpp — runs tsc_matmul_mma.cu's kernels (the tensor-core batched matmul) on the CPU
 * (cuda_emu.h): Q8_0 and Q4_0 weights through each of the four quantized kernels (int8 and
 * f16 mma, W unpacked by a pass or in shared memory), every block type through the int8 one
 * with 8 and with 16 warps per CTA, and F16, BF16 and F32 weights through the
 * float GEMM (W or X as the mma's A; in place, padded or split; bf16 with 3 stages and with the
 * 2 of GPUs with less shared memory; W as A with 16 warps too), whole and split over k, with m, n and
 * k that leave every tile partial. ctest runs it (label cuda; about 9 s); by hand:
 *
 *   cmake --build BUILD --target mma_emu && BUILD/native/cuda/mma_emu
 *
 * The mma instructions are emulated in cuda_emu.h from their PTX fragment layouts (the
 * integer mma exactly; the f16 one adds its exact products in double and rounds once, where
 * hardware may round differently in the last bit: the F16 checks allow for it).
 *
 * Checks:
 *  - quantized weights: against Σ w·x̂ in double over the CPU-dequantized W and the CPU's Q8_0
 *    round trip of X, within test_cuda_mma's bound (nb + 2)·2^-23·Σ|w·x̂|; and the four
 *    kernels must give the same bits (the same integer block sums added in the same order),
 *    split runs within the bound; 16 warps the 8 warps' bits, whole and split;
 *  - F16/BF16/F32 weights: against Σ w·x in double over the exact x, within 1e-5·Σ|w·x| + 1e-30,
 *    16 warps the 8 warps' bits;
 *    one-hot rows of W (BF16, F32) or of X (F32) give the other side's elements bit for bit;
 *  - Y's padding stays untouched. Each case prints a fingerprint of its output bits.
 */
#include "cuda_emu.h"

#include "ptx_matmul_mma.h"

#include "../tsc_device.cuh"
#include "../tsc_matmul_mma.cu"

#include "emu_check.h"

static int64_t failures;

enum { V_INT8, V_F16, V_RAW8, V_RAW16, V_INT8_W16 };
static const char *vname[] = {"int8", "f16", "raw", "rawf16", "int8w16"};

/* k tiles split into `splits` (as plan_split would on a larger GPU); returns the split count. */
static int split_plan(int64_t ktiles, int splits, int *kps) {
    *kps = (int)tsc_cdiv(ktiles, splits);
    return (int)tsc_cdiv(ktiles, *kps);
}

/* tsc_matmul_mma's quantized path after validation (mma_quant), on host memory; stages: the
 * int8 GEMM's (4, or 3 for the formats that have a 3-stage kernel); V_INT8_W16: the int8 GEMM
 * with 16 warps (TSC_MMA_WARPS=16). */
template <int WT>
static void run_quant(int v, int stages, float *y, int64_t ys, const uint8_t *w, int64_t ws, const float *x, int64_t xs, int64_t n,
                      int64_t k, int64_t m, int want_splits) {
    constexpr int H = qtype<WT>::halves, MN = qtype<WT>::has_min, SX = mmq_fmt<H, MN>::SX, SW = mmq_fmt<H, MN>::SW;
    constexpr bool basic = WT == TS_TYPE_Q8_0 || WT == TS_TYPE_Q4_0;
    const bool h = v == V_F16 || v == V_RAW16, raw = v == V_RAW8 || v == V_RAW16;
    const int64_t m_pad = tsc_cdiv(m, MMA_BM) * MMA_BM, n_pad = tsc_cdiv(n, MMA_BN) * MMA_BN;
    const int64_t k_pad = tsc_cdiv(k, MMA_ROWB) * MMA_ROWB, nb = k / 32, nb_pad = k_pad / 32, qb = h ? 2 : 1;
    const int sx = h ? 1 : SX, sw = h ? 1 : SW;
    int kps;
    const int splits = split_plan(k_pad / (h ? 64 : 128), want_splits, &kps);
    std::vector<char> bxq, bxd, bwq, bwd, bpart;
    void *xq = align16<char>(bxq, m_pad * k_pad * qb);
    float *xd = align16<float>(bxd, m_pad * nb_pad * sx * 4);
    void *wq = raw ? NULL : align16<char>(bwq, n_pad * k_pad * qb);
    float *wd = raw ? NULL : align16<float>(bwd, n_pad * nb_pad * sw * 4);
    float *part = splits > 1 ? align16<float>(bpart, splits * m * n * 4) : NULL;
    g_ranges = {{(const char *)xq, (const char *)xq + m_pad * k_pad * qb}, {(const char *)xd, (const char *)(xd + m_pad * nb_pad * sx)},
                {(const char *)w - ((uintptr_t)w & 15), (const char *)w + n * ws + 16}};
    if (wq) g_ranges.push_back({(const char *)wq, (const char *)wq + n_pad * k_pad * qb});
    if (wd) g_ranges.push_back({(const char *)wd, (const char *)(wd + n_pad * nb_pad * sw)});
    const dim3 gx((unsigned)tsc_cdiv(m_pad * nb_pad * 8, 256)), gw((unsigned)tsc_cdiv(n_pad * nb_pad, 256));
    const dim3 grid((unsigned)(n_pad / MMA_BN), (unsigned)(m_pad / MMA_BM), (unsigned)splits);
    const mmq_args a = {xq, wq, xd, wd, y, ys / 4, m, n, k_pad, part, kps};
    if constexpr (basic) {
        if (h) {
            launch(gx, dim3(256), 0, [&] { k_mma_quantize_x<__half, 1>((__half *)xq, xd, x, xs / 4, m, nb, m_pad, nb_pad); });
            if (raw) {
                const mmqr_args ar = {xq, xd, w, ws, y, ys / 4, m, n, nb, k_pad, part, kps};
                launch(grid, dim3(MMA_THREADS), mmqr_cfg<__half, WT>::SMEM, [&] { k_mma_qr<__half, WT>(ar); });
            } else {
                launch(gw, dim3(256), 0, [&] { k_mma_unpack_w<WT>((__half *)wq, wd, w, ws, n, nb, n_pad, nb_pad); });
                launch(grid, dim3(MMA_THREADS), (size_t)MMA_QSTAGES * mmq_cfg<__half, 0, 0>::STAGE,
                       [&] { k_mma_q<__half, 0, 0, MMA_QSTAGES, 4>(a); });
            }
        }
    }
    if (!h) {
        launch(gx, dim3(256), 0, [&] { k_mma_quantize_x<int8_t, SX>((int8_t *)xq, xd, x, xs / 4, m, nb, m_pad, nb_pad); });
        if (raw) {
            if constexpr (basic) {
                const mmqr_args ar = {xq, xd, w, ws, y, ys / 4, m, n, nb, k_pad, part, kps};
                launch(grid, dim3(MMA_THREADS), mmqr_cfg<int8_t, WT>::SMEM, [&] { k_mma_qr<int8_t, WT>(ar); });
            }
        } else {
            launch(gw, dim3(256), 0, [&] { k_mma_unpack_w<WT>((int8_t *)wq, wd, w, ws, n, nb, n_pad, nb_pad); });
            const size_t smem = (size_t)stages * mmq_cfg<int8_t, H, MN>::STAGE;
            const bool w16 = v == V_INT8_W16;
            const dim3 threads(mma_threads(w16 ? 2 : 4));
            if (stages == MMA_QSTAGES) {
                if (w16) launch(grid, threads, smem, [&] { k_mma_q<int8_t, H, MN, MMA_QSTAGES, 2>(a); });
                else launch(grid, threads, smem, [&] { k_mma_q<int8_t, H, MN, MMA_QSTAGES, 4>(a); });
            } else if constexpr (H && MN) {
                if (w16) launch(grid, threads, smem, [&] { k_mma_q<int8_t, H, MN, 3, 2>(a); });
                else launch(grid, threads, smem, [&] { k_mma_q<int8_t, H, MN, 3, 4>(a); });
            }
        }
    }
    if (splits > 1) launch(dim3((unsigned)tsc_cdiv(m * n, 256)), dim3(256), 0, [&] { k_mma_reduce(y, ys / 4, part, splits, m, n); });
}

/* Every kernel for the type (Q8_0/Q4_0: the four; others: the int8 one, and Q2_K's 3-stage
 * one too), whole and split over k. Bound, against Σ w·x̂ in double over the CPU-dequantized
 * W and the CPU's Q8_0 round trip of X: (nb + 2)·2^-23·Σ|w·x̂| for Q8_0/Q4_0 (test_cuda_mma's,
 * for 2 roundings per block); for the others each block adds up to 4 scaled terms whose
 * roundings scale with the half's magnitude, not the element's (scale and min terms can
 * cancel), so 4·(nb + 2)·2^-23·Σ (|w| + B_h)·|x̂| with B_h the largest |w| of the half. */
template <int WT>
static void check_quant(int64_t n, int64_t k, int64_t m, int64_t wpad) {
    constexpr bool basic = WT == TS_TYPE_Q8_0 || WT == TS_TYPE_Q4_0;
    const ts_type_traits *tt = ts_get_type_traits(WT);
    const int64_t row = (int64_t)ts_qtype_row_size(WT, k), ws = row + wpad, xs = 4 * k + 16, ys = 4 * n + 32, nb = k / 32;
    std::vector<char> wbuf, xbuf;
    uint8_t *w = align16<uint8_t>(wbuf, n * ws + 64);
    std::vector<float> wf(k), wdq(n * k), bmax(n * k / 16), xt(m * k);
    for (int64_t r = 0; r < n; r++) {
        for (auto &e : wf) e = 0.5f * randn();
        tt->quantize(wf.data(), w + r * ws, k);
        ts_dequantize(wdq.data() + r * k, w + r * ws, WT, 1, k);
    }
    for (int64_t i = 0; i < n * k; i++) bmax[i / 16] = std::max(bmax[i / 16], std::fabs(wdq[i]));
    float *x = align16<float>(xbuf, m * xs);
    for (int64_t i = 0; i < m * xs / 4; i++) x[i] = randn();
    for (int64_t i = 0; i < k; i++) x[2 * xs / 4 + i] = 0.0f; /* an all-zero row */
    std::vector<unsigned char> q8(nb * 34);
    for (int64_t j = 0; j < m; j++) {
        ts_quantize(q8.data(), TS_TYPE_Q8_0, x + j * xs / 4, 1, k);
        ts_dequantize(xt.data() + j * k, q8.data(), TS_TYPE_Q8_0, 1, k);
    }
    std::vector<float> first;
    for (int splits : {1, 3}) {
        std::vector<float> int8_y[2]; /* the int8 kernel's output at 4 and 3 stages: 16 warps must give its bits */
        for (int v : basic ? std::vector<int>{V_INT8, V_F16, V_RAW8, V_RAW16, V_INT8_W16} : std::vector<int>{V_INT8, V_INT8_W16}) {
            for (int stages : {4, 3}) {
                if (stages == 3 && !(qtype<WT>::halves && qtype<WT>::has_min)) continue;
                std::vector<float> y(m * ys / 4, 1234.5f);
                run_quant<WT>(v, stages, y.data(), ys, w, ws, x, xs, n, k, m, splits);
                int64_t bad = 0, untouched = 0, differ = 0;
                double worst = 0;
                for (int64_t j = 0; j < m; j++) {
                    for (int64_t r = 0; r < n; r++) {
                        double ref = 0, mag = 0;
                        for (int64_t i = 0; i < k; i++) {
                            const double wv = wdq[r * k + i], xv = xt[j * k + i];
                            ref += wv * xv;
                            mag += basic ? fabs(wv * xv) : 4 * (fabs(wv) + bmax[(r * k + i) / 16]) * fabs(xv);
                        }
                        const double tol = (nb + 2) * ldexp(1.0, -23) * mag + 1e-30, err = fabs(y[j * ys / 4 + r] - ref);
                        worst = std::max(worst, err / tol);
                        bad += !(err <= tol);
                    }
                    for (int64_t r = n; r < ys / 4; r++) untouched += y[j * ys / 4 + r] != 1234.5f;
                }
                if (splits == 1) {
                    if (first.empty()) first = y;
                    else differ = memcmp(first.data(), y.data(), y.size() * 4) != 0;
                }
                if (v == V_INT8) int8_y[stages == 3] = y;
                if (v == V_INT8_W16) differ |= memcmp(int8_y[stages == 3].data(), y.data(), y.size() * 4) != 0;
                const bool ok = bad == 0 && untouched == 0 && differ == 0;
                failures += !ok;
                printf("%s %-5s %-6s n=%lld k=%lld m=%lld ws=%lld splits %d stages %d: %lld wrong, %lld padding written%s (worst %.3f of the "
                       "bound; y bits %08x)\n",
                       ok ? "ok  " : "FAIL", tt->name, vname[v], (long long)n, (long long)k, (long long)m, (long long)ws, splits, stages,
                       (long long)bad, (long long)untouched, differ ? ", bits differ from the int8 kernel's" : "", worst,
                       fnv1a(y.data(), y.size() * 4));
            }
        }
    }
}

/* tsc_matmul_mma's float path after validation (mma_float), on host memory: wt F16, BF16 or
 * F32; xa: X as the mma's A; stages: 3, or 2 (bf16 on a GPU with less shared memory; F32). */
static void run_fx(int32_t wt, bool xa, int stages, float *y, int64_t ys, const uint8_t *w, int64_t ws, const float *x, int64_t xs,
                   int64_t n, int64_t k, int64_t m, int want_splits, bool w16 = false) {
    const bool bf = wt != TS_TYPE_F16;
    const int nw = wt == TS_TYPE_F32 ? 3 : 1, np = fparts(bf);
    const int64_t m_pad = tsc_cdiv(m, MMA_BM) * MMA_BM, n_pad = tsc_cdiv(n, MMA_BN) * MMA_BN, k_pad = tsc_cdiv(k, 64) * 64;
    const bool direct = nw == 1 && (uintptr_t)w % 16 == 0 && ws % 16 == 0 && k % 8 == 0;
    int kps;
    const int splits = split_plan(k_pad / 64, want_splits, &kps);
    std::vector<char> bxp, binv, bwp, bpart;
    uint16_t *xp = align16<uint16_t>(bxp, np * m_pad * k_pad * 2);
    float *inv = align16<float>(binv, m_pad * 4);
    float *part = splits > 1 ? align16<float>(bpart, splits * m * n * 4) : NULL;
    if (bf) launch(dim3((unsigned)m_pad), dim3(256), 0, [&] { k_mma_split_x<true>(xp, m_pad * k_pad, inv, x, xs / 4, m, k, k_pad); });
    else launch(dim3((unsigned)m_pad), dim3(256), 0, [&] { k_mma_split_x<false>(xp, m_pad * k_pad, inv, x, xs / 4, m, k, k_pad); });
    mmf_args a = {xp, m_pad * k_pad, inv, (const uint16_t *)w, ws / 2, 0, y, ys / 4, m, n, k, k_pad, part, kps};
    g_ranges = {{(const char *)xp, (const char *)(xp + np * m_pad * k_pad)}, {(const char *)w, (const char *)w + n * ws}};
    if (!direct) {
        uint16_t *wp = align16<uint16_t>(bwp, nw * n_pad * k_pad * 2);
        const dim3 gw((unsigned)tsc_cdiv(n_pad * k_pad, 256));
        if (nw == 3) launch(gw, dim3(256), 0, [&] { k_mma_split_w(wp, n_pad * k_pad, w, ws, n, k, n_pad, k_pad); });
        else launch(gw, dim3(256), 0, [&] { k_mma_pad_w(wp, w, ws, n, k, n_pad, k_pad); });
        a.w = wp, a.w_stride_e = k_pad, a.wpart_e = n_pad * k_pad, a.k = k_pad;
        g_ranges.push_back({(const char *)wp, (const char *)(wp + nw * n_pad * k_pad)});
    }
    const dim3 grid((unsigned)(n_pad / MMA_BN), (unsigned)(m_pad / MMA_BM), (unsigned)splits);
    const size_t smem = (size_t)stages * fstage(bf, nw);
#define RUN_FX(BF, NW, ST)                                                                              \
    do {                                                                                                \
        if (xa) launch(grid, dim3(mma_threads(4)), smem, [&] { k_mma_fx<true, BF, NW, ST, 4>(a); });    \
        else if (w16) launch(grid, dim3(mma_threads(2)), smem, [&] { k_mma_fx<false, BF, NW, ST, 2>(a); }); \
        else launch(grid, dim3(mma_threads(4)), smem, [&] { k_mma_fx<false, BF, NW, ST, 4>(a); });      \
    } while (0)
    if (!bf) RUN_FX(false, 1, 3);
    else if (nw == 3) RUN_FX(true, 3, 2);
    else if (stages == 3) RUN_FX(true, 1, 3);
    else RUN_FX(true, 1, 2);
#undef RUN_FX
    if (splits > 1) launch(dim3((unsigned)tsc_cdiv(m * n, 256)), dim3(256), 0, [&] { k_mma_reduce(y, ys / 4, part, splits, m, n); });
}

/* F16, BF16 or F32 weights: both operand orders and every stage count the type has, whole and
 * split over k, against Σ w·x in double. */
static void check_fx(int32_t wt, int64_t n, int64_t k, int64_t m, int64_t wpad) {
    const int64_t es = wt == TS_TYPE_F32 ? 4 : 2, ws = es * k + wpad, xs = 4 * k + 16, ys = 4 * n + 32;
    const char *tn = wt == TS_TYPE_F16 ? "f16" : wt == TS_TYPE_BF16 ? "bf16" : "f32";
    std::vector<char> wbuf, xbuf;
    uint8_t *w = align16<uint8_t>(wbuf, n * ws + 64);
    std::vector<float> wdq(n * k);
    for (int64_t r = 0; r < n; r++)
        for (int64_t i = 0; i < k; i++) {
            const float v = 0.5f * randn();
            if (wt == TS_TYPE_F32) {
                memcpy(w + r * ws + 4 * i, &v, 4);
                wdq[r * k + i] = v;
                continue;
            }
            const uint16_t hb = wt == TS_TYPE_BF16 ? __bfloat16_as_ushort(__float2bfloat16_rn(v)) : tsc_emu_f2h(v);
            memcpy(w + r * ws + 2 * i, &hb, 2);
            wdq[r * k + i] = wt == TS_TYPE_BF16 ? __uint_as_float((uint32_t)hb << 16) : tsc_emu_h2f(hb);
        }
    float *x = align16<float>(xbuf, m * xs);
    static const float sc[4] = {1e-12f, 3e5f, 1.0f, 7e-3f}; /* rows far apart: the per-row scaling must follow */
    for (int64_t j = 0; j < m; j++)
        for (int64_t i = 0; i < xs / 4; i++) x[j * xs / 4 + i] = randn() * sc[j % 4];
    for (int splits : {1, 2})
        for (int stages : {3, 2}) {
            if ((wt == TS_TYPE_F16 && stages == 2) || (wt == TS_TYPE_F32 && stages == 3)) continue; /* kernels the type has */
            std::vector<float> wa8; /* W as A with 8 warps: 16 warps must give its bits */
            for (int order = 0; order < 3; order++) { /* W as A, X as A, W as A with 16 warps */
                const bool xa = order == 1, w16 = order == 2;
                std::vector<float> y(m * ys / 4, 1234.5f);
                run_fx(wt, xa, stages, y.data(), ys, w, ws, x, xs, n, k, m, splits, w16);
                if (order == 0) wa8 = y;
                const bool differ = w16 && memcmp(wa8.data(), y.data(), y.size() * 4) != 0;
                int64_t bad = 0, untouched = 0;
                double worst = 0;
                for (int64_t j = 0; j < m; j++) {
                    for (int64_t r = 0; r < n; r++) {
                        double ref = 0, mag = 0;
                        for (int64_t i = 0; i < k; i++) {
                            const double p = (double)wdq[r * k + i] * x[j * xs / 4 + i];
                            ref += p, mag += fabs(p);
                        }
                        const double tol = 1e-5 * mag + 1e-30, err = fabs(y[j * ys / 4 + r] - ref);
                        worst = std::max(worst, err / tol);
                        bad += !(err <= tol);
                    }
                    for (int64_t r = n; r < ys / 4; r++) untouched += y[j * ys / 4 + r] != 1234.5f;
                }
                const bool ok = bad == 0 && untouched == 0 && !differ;
                failures += !ok;
                printf("%s %-5s %-6s n=%lld k=%lld m=%lld ws=%lld splits %d stages %d: %lld wrong, %lld padding written%s (worst %.3f of "
                       "the bound; y bits %08x)\n",
                       ok ? "ok  " : "FAIL", tn, xa ? "xa" : w16 ? "wa w16" : "wa", (long long)n, (long long)k, (long long)m, (long long)ws,
                       splits, stages, (long long)bad, (long long)untouched, differ ? ", bits differ from 8 warps'" : "", worst,
                       fnv1a(y.data(), y.size() * 4));
            }
        }
}

/* Exactness of the parts: BF16 or F32 W rows of one 1.0 each (row r picks x column (3r + 1) % k)
 * must give x's 24-bit elements bit for bit (its three bf16 parts sum to x exactly; two keep 16
 * bits and fail); F32 W against X rows of one 1.0 each (row j picks W column (5j + 2) % k) must
 * give W's elements bit for bit (W's three parts, times X's first). */
static void check_exact(int32_t wt, int64_t n, int64_t k, int64_t m) {
    const int64_t es = wt == TS_TYPE_F32 ? 4 : 2, ws = es * k, xs = 4 * k, ys = 4 * n;
    std::vector<char> wbuf, xbuf;
    uint8_t *w = align16<uint8_t>(wbuf, n * ws + 64);
    float *x = align16<float>(xbuf, m * xs);
    int64_t bad = 0;
    for (int side = 0; side < (wt == TS_TYPE_F32 ? 2 : 1); side++) {
        memset(w, 0, (size_t)(n * ws));
        for (int64_t r = 0; r < n; r++)
            for (int64_t i = 0; i < k; i++) {
                const float v = side == 0 ? (i == (3 * r + 1) % k ? 1.0f : 0.0f) : randn() * (i % 3 ? 1.0f : 1e-20f);
                if (wt == TS_TYPE_F32) memcpy(w + r * ws + 4 * i, &v, 4);
                else if (v != 0.0f) memcpy(w + r * ws + 2 * i, "\x80\x3f", 2); /* bf16 1.0 */
            }
        for (int64_t j = 0; j < m; j++)
            for (int64_t i = 0; i < k; i++)
                x[j * k + i] = side == 0 ? randn() * (i % 3 ? 1.0f : 1e-20f) : (i == (5 * j + 2) % k ? 1.0f : 0.0f);
        for (bool xa : {false, true}) {
            std::vector<float> y(m * n);
            run_fx(wt, xa, wt == TS_TYPE_F32 ? 2 : 3, y.data(), ys, w, ws, x, xs, n, k, m, 1);
            for (int64_t j = 0; j < m; j++)
                for (int64_t r = 0; r < n; r++) {
                    const float want = side == 0 ? x[j * k + (3 * r + 1) % k] : ((const float *)(w + r * ws))[(5 * j + 2) % k];
                    bad += memcmp(&y[j * n + r], &want, 4) != 0;
                }
        }
    }
    failures += bad != 0;
    printf("%s %-5s one-hot rows n=%lld k=%lld m=%lld: %lld outputs not the other side's bits\n", bad ? "FAIL" : "ok  ",
           wt == TS_TYPE_F32 ? "f32" : "bf16", (long long)n, (long long)k, (long long)m, (long long)bad);
}

int main() {
    emu_seed(0x2545F4914F6CDD1Dull);
    if (ts_init(1, "scalar") != TS_OK) {
        fprintf(stderr, "ts_init failed: %s\n", ts_last_error());
        return 1;
    }
    /* n, m past one 128 tile; k = 320: 10 blocks, a partial last k tile (3 int8 tiles of 4
     * blocks, 5 f16 tiles of 2); row paddings put the GGUF blocks at other 2-byte offsets. */
    check_quant<TS_TYPE_Q8_0>(136, 320, 130, 2);
    check_quant<TS_TYPE_Q4_0>(136, 320, 130, 6);
    check_quant<TS_TYPE_Q8_0>(40, 512, 17, 0);
    check_quant<TS_TYPE_Q4_0>(40, 512, 17, 4);
    /* the other block types on the int8 kernel: k = 512 (2 super-blocks; 16 groups, 4 k tiles) */
    check_quant<TS_TYPE_Q4_1>(136, 512, 130, 2);
    check_quant<TS_TYPE_Q5_0>(40, 512, 17, 6);
    check_quant<TS_TYPE_Q5_1>(40, 512, 17, 0);
    check_quant<TS_TYPE_Q2_K>(136, 512, 130, 2);
    check_quant<TS_TYPE_Q3_K>(40, 512, 17, 6);
    check_quant<TS_TYPE_Q4_K>(136, 512, 130, 4);
    check_quant<TS_TYPE_Q5_K>(40, 512, 17, 2);
    check_quant<TS_TYPE_Q6_K>(136, 512, 130, 0);
    for (int32_t wt : {TS_TYPE_F16, TS_TYPE_BF16, TS_TYPE_F32}) {
        check_fx(wt, 136, 200, 130, 0); /* k % 8 == 0, rows 400 bytes: padded copy (not 16-byte rows) */
        check_fx(wt, 130, 256, 20, 0);  /* 16-byte rows: W in place */
        check_fx(wt, 40, 84, 17, wt == TS_TYPE_F32 ? 4 : 2);
    }
    check_exact(TS_TYPE_BF16, 130, 192, 20);
    check_exact(TS_TYPE_F32, 130, 192, 20);
    printf("%lld failures\n", (long long)failures);
    return failures ? 1 : 0;
}
