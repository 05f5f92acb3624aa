/*
 * conv_emu.cpp — runs tsc_conv.cu's kernels on the CPU, to check tsc_conv2d's index
 * arithmetic (gather modes, tiles, tails, groups, batch, split K, the direct kernel) on a
 * machine without a GPU. ctest runs it (label cuda; about 5 s); by hand:
 *
 *   cmake --build BUILD --target conv_emu && BUILD/native/cuda/conv_emu
 *
 * 19 fixed geometries x every forced kernel x (F32 or copied weights, F16 weights in place),
 * the automatic choice at 8 SMs, and 120 random geometries through random kernels and
 * weight paths.
 *
 * The kernels are compiled from tsc_conv.cu itself under cuda_emu.h (threads as coroutines,
 * deferred cp.async copies, ldmatrix). mma.m16n8k8 TF32 is emulated here from its PTX
 * definition (A row-major fragments a0 (g, t), a1 (g+8, t), a2 (g, t+4), a3 (g+8, t+4);
 * B b0 (k t, n g), b1 (k t+4, n g); C/D c0,c1 (g, 2t + 0/1), c2,c3 (g+8, ...); g = lane / 4,
 * t = lane % 4). This does not look for races: it checks that every output gets the right
 * value.
 * Inputs are multiples of 1/8 in [-1, 1] (exact in TF32, sums exact in float): the result
 * must equal a double-precision reference exactly.
 */
#include "cuda_emu.h"

#include "ptx_conv.h"

#include "../tsc_device.cuh"
#include "../tsc_conv.cu"

template <int BM, int BN, bool AH> static void run_mma_h(const conv_args &a, int64_t z, int mode) {
    const dim3 grid((unsigned)tsc_cdiv(a.npix, BN), (unsigned)tsc_cdiv(a.cout_g, BM), (unsigned)z);
    const size_t smem = conv_smem<BM, BN>();
    switch (mode) {
    case GATHER_VEC: launch(grid, CONV_THREADS, smem, [&] { k_conv_mma<BM, BN, GATHER_VEC, AH>(a); }); break;
    case GATHER_NOPAD: launch(grid, CONV_THREADS, smem, [&] { k_conv_mma<BM, BN, GATHER_NOPAD, AH>(a); }); break;
    case GATHER_MASK: launch(grid, CONV_THREADS, smem, [&] { k_conv_mma<BM, BN, GATHER_MASK, AH>(a); }); break;
    default: launch(grid, CONV_THREADS, smem, [&] { k_conv_mma<BM, BN, GATHER_BOUNDS, AH>(a); }); break;
    }
}
template <int BM, int BN> static void run_mma(const conv_args &a, int64_t z, int mode) {
    if (a.wh) run_mma_h<BM, BN, true>(a, z, mode);
    else run_mma_h<BM, BN, false>(a, z, mode);
}

struct ccase {
    int64_t n, cin, h, w, cout, kh, kw, sh, sw, ph, pw, dh, dw, groups;
    int bias;
};

static uint64_t rng = 88172645463325252ull;
static float eighth() {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((int)(rng % 17) - 8) / 8.0f;
}

/* As tsc_conv2d after validation, on host memory; returns the number of wrong outputs. */
/* wmode: 0 weights converted into a copy (as F16 ones with odd K), 1 F32 in place, 2 F16 in place */
static int64_t run_case(const ccase &c, const char *force, int64_t sm_count, int verbose, int wmode = 1) {
    const int64_t oh = (c.h + 2 * c.ph - c.dh * (c.kh - 1) - 1) / c.sh + 1, ow = (c.w + 2 * c.pw - c.dw * (c.kw - 1) - 1) / c.sw + 1;
    const int64_t cin_g = c.cin / c.groups, cout_g = c.cout / c.groups, k = cin_g * c.kh * c.kw, ohw = oh * ow, npix = c.n * ohw;
    std::vector<float> x(c.n * c.cin * c.h * c.w + 4), wv(c.cout * k + 4), b(c.cout), y(c.n * c.cout * ohw, NAN), ref(y.size());
    float *xa = (float *)(((uintptr_t)x.data() + 15) & ~(uintptr_t)15);
    float *w = (float *)(((uintptr_t)wv.data() + 15) & ~(uintptr_t)15);
    for (int64_t i = 0; i < c.n * c.cin * c.h * c.w; i++) xa[i] = eighth();
    for (int64_t i = 0; i < c.cout * k; i++) w[i] = eighth();
    for (auto &v : b) v = eighth();
    for (int64_t img = 0; img < c.n; img++)
        for (int64_t co = 0; co < c.cout; co++)
            for (int64_t oy = 0; oy < oh; oy++)
                for (int64_t ox = 0; ox < ow; ox++) {
                    double s = c.bias ? b[co] : 0.0;
                    const int64_t g = co / cout_g;
                    for (int64_t ci = 0; ci < cin_g; ci++)
                        for (int64_t ky = 0; ky < c.kh; ky++)
                            for (int64_t kx = 0; kx < c.kw; kx++) {
                                const int64_t iy = oy * c.sh - c.ph + ky * c.dh, ix = ox * c.sw - c.pw + kx * c.dw;
                                if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
                                s += (double)w[((co * cin_g + ci) * c.kh + ky) * c.kw + kx] *
                                     xa[((img * c.cin + g * cin_g + ci) * c.h + iy) * c.w + ix];
                            }
                    ref[((img * c.cout + co) * oh + oy) * ow + ox] = (float)s;
                }
    const conv_choice ch = conv_choose(force, sm_count, npix, c.cout, cout_g, c.groups, k, c.kh, c.kw, c.sh, c.sw, c.ph, c.pw, ohw, 1,
                                       wmode == 1, 1, wmode == 2);
    std::vector<uint16_t> whv(c.cout * k + 8);
    uint16_t *wh = (uint16_t *)(((uintptr_t)whv.data() + 15) & ~(uintptr_t)15);
    for (int64_t i = 0; i < c.cout * k; i++) {
        const _Float16 hv = (_Float16)w[i];
        memcpy(&wh[i], &hv, 2);
    }
    std::vector<int4> tab(k);
    std::vector<float> wf(c.cout * ch.kp + 4), part(ch.splits > 1 ? ch.splits * c.cout * npix : 1, NAN);
    float *wfa = (float *)(((uintptr_t)wf.data() + 15) & ~(uintptr_t)15);
    launch(dim3((unsigned)tsc_cdiv(k, 256)), 256, 0, [&] {
        k_conv_table(tab.data(), (int32_t)k, (int32_t)c.kh, (int32_t)c.kw, (int32_t)c.h, (int32_t)c.w, (int32_t)c.dh, (int32_t)c.dw);
    });
    if (ch.w_raw || ch.w_half) wfa = w;
    else launch(dim3((unsigned)tsc_cdiv(c.cout * ch.kp, 256)), 256, 0, [&] { k_conv_weights(wfa, w, 0, c.cout, k, ch.kp, !ch.direct); });
    g_ranges = {{(const char *)xa, (const char *)(xa + c.n * c.cin * c.h * c.w)},
                {(const char *)wfa, (const char *)(wfa + c.cout * ch.kp)},
                {(const char *)wh, (const char *)(wh + c.cout * k)}};
    conv_args a;
    a.x = xa, a.w = wfa, a.bias = c.bias ? b.data() : NULL, a.y = y.data(), a.tab = tab.data();
    a.h = (int32_t)c.h, a.iw = (int32_t)c.w, a.ow = (int32_t)ow, a.ohw = (int32_t)ohw;
    a.sh = (int32_t)c.sh, a.sw = (int32_t)c.sw, a.ph = (int32_t)c.ph, a.pw = (int32_t)c.pw;
    a.cin_g = (int32_t)cin_g, a.cout_g = (int32_t)cout_g, a.k = (int32_t)k, a.npix = (int32_t)npix;
    a.kp = (int32_t)ch.kp, a.x_img = c.cin * c.h * c.w, a.y_img = c.cout * ohw;
    a.kh = (int32_t)c.kh, a.kw = (int32_t)c.kw, a.dh = (int32_t)c.dh, a.dw = (int32_t)c.dw;
    a.groups = (int32_t)c.groups, a.kt_split = (int32_t)ch.kt_split, a.part = ch.splits > 1 ? part.data() : NULL;
    a.w_raw = ch.w_raw && !ch.direct;
    a.wh = ch.w_half ? wh : NULL;
    if (ch.direct) {
        const int64_t total = c.n * a.y_img;
        launch(dim3((unsigned)tsc_cdiv(total, 256)), 256, 0, [&] { k_conv_direct(a, total); });
    } else {
        const int64_t z = c.groups * ch.splits;
        if (ch.bn == 256) run_mma<128, 256>(a, z, ch.mode);
        else if (ch.bm == 128) run_mma<128, 128>(a, z, ch.mode);
        else if (ch.bn == 128) run_mma<64, 128>(a, z, ch.mode);
        else run_mma<64, 64>(a, z, ch.mode);
        if (ch.splits > 1)
            launch(dim3((unsigned)tsc_cdiv(c.cout * npix, 256)), 256, 0, [&] {
                k_conv_reduce(y.data(), part.data(), c.bias ? b.data() : NULL, (int32_t)ch.splits, c.cout, npix, ohw);
            });
    }
    int64_t bad = 0, first = -1;
    for (size_t i = 0; i < y.size(); i++)
        if (!(y[i] == ref[i])) {
            if (first < 0) first = (int64_t)i;
            bad++;
        }
    static const char *modes[] = {"bounds", "nopad", "mask", "vec"};
    if (verbose || bad)
        printf("%s n=%lld cin=%lld %lldx%lld cout=%lld k=%lldx%lld s=%lld,%lld p=%lld,%lld d=%lld,%lld g=%lld bias=%d force=%-6s "
               "sms=%lld w %s -> %s tile %dx%d %s splits %lld: %lld bad%s",
               bad ? "FAIL" : "ok  ", (long long)c.n, (long long)c.cin, (long long)c.h, (long long)c.w, (long long)c.cout,
               (long long)c.kh, (long long)c.kw, (long long)c.sh, (long long)c.sw, (long long)c.ph, (long long)c.pw, (long long)c.dh,
               (long long)c.dw, (long long)c.groups, c.bias, force ? force : "auto", (long long)sm_count, ch.w_raw ? "f32 " : ch.w_half ? "f16 " : "copy",
               ch.direct ? "direct" : "mma", ch.bm, ch.bn, modes[ch.mode], (long long)ch.splits, (long long)bad, bad ? "" : "\n");
    if (bad) printf(", first [%lld] got %.9g want %.9g\n", (long long)first, y[first], ref[first]);
    fflush(stdout);
    return bad;
}

int main() {
    static const ccase cases[] = {
        /* n  cin  h   w  cout kh kw sh sw ph pw dh dw g  bias */
        {1, 16, 10, 12, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},  /* 3x3 pad 1: mask */
        {2, 5, 11, 9, 37, 3, 2, 1, 2, 2, 0, 2, 1, 1, 1},    /* odd everything: mask */
        {2, 8, 9, 13, 20, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0},    /* stride 2 */
        {1, 6, 12, 10, 18, 3, 3, 1, 1, 0, 0, 1, 1, 1, 1},   /* no padding: nopad */
        {2, 40, 6, 10, 136, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1},  /* 1x1 vec, cout over a 128 tile */
        {3, 12, 5, 3, 20, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1},    /* 1x1, oh*ow = 15: nopad */
        {1, 3, 28, 42, 24, 14, 14, 14, 14, 0, 0, 1, 1, 1, 1}, /* patchify 14 */
        {1, 3, 9, 11, 16, 7, 7, 2, 2, 3, 3, 1, 1, 1, 1},    /* 49 taps with padding: bounds */
        {2, 32, 5, 7, 64, 3, 3, 1, 1, 1, 1, 1, 1, 4, 1},    /* groups 4, cout_g 16 */
        {1, 8, 9, 9, 16, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1},     /* dilation 2 */
        {1, 70, 4, 4, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},    /* K = 630: 20 k-tiles, splits */
        {2, 6, 4, 5, 12, 3, 3, 1, 1, 1, 1, 1, 1, 3, 1},     /* cout_g 4: direct */
        {1, 7, 6, 6, 300, 2, 2, 1, 1, 1, 0, 1, 1, 1, 0},    /* K = 28 (kp 28), 300 outputs over 128-row tiles */
        {1, 9, 7, 5, 17, 1, 3, 1, 1, 0, 1, 1, 3, 1, 1},     /* 1x3 kernel, dilation 3 on w */
        {2, 9, 17, 19, 150, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},  /* several blocks along both M and N */
        {2, 12, 16, 20, 70, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0},  /* vec over several N blocks */
        {2, 40, 9, 7, 60, 3, 3, 2, 1, 1, 0, 1, 1, 2, 1},    /* groups 2, cout_g 30, asymmetric */
        {2, 24, 13, 11, 150, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, /* K = 216: F16 in place over several blocks */
        {1, 16, 8, 12, 72, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1},   /* 1x1 K = 16, vec gather */
    };
    static const char *forces[] = {NULL, "64", "64x128", "128", "256", "split", "direct"};
    int64_t fails = 0, runs = 0;
    const int nc = (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < nc; i++)
        for (int f = 0; f < 7; f++) {
            fails += run_case(cases[i], forces[f], 132, 1, f % 3) != 0;
            runs++;
            /* F16 weights in place wherever K allows (K % 8 == 0) */
            fails += run_case(cases[i], forces[f], 132, 1, 2) != 0, runs++;
        }
    /* The automatic choice on a small device (8 SMs): other tiles and splits. */
    for (int i = 0; i < nc; i++) fails += run_case(cases[i], NULL, 8, 1) != 0, runs++;
    /* Random geometries, each through a random kernel. */
    const int n_random = 120;
    for (int r = 0; r < n_random;) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        uint64_t q = rng;
        auto pick = [&](int lo, int hi) { const int v = lo + (int)(q % (uint64_t)(hi - lo + 1)); q /= (uint64_t)(hi - lo + 1); return v; };
        ccase c;
        c.groups = pick(1, 3), c.n = pick(1, 3);
        c.cin = c.groups * pick(1, 12), c.cout = c.groups * pick(9, 80);
        c.h = pick(1, 19), c.w = pick(1, 19), c.kh = pick(1, 5), c.kw = pick(1, 5);
        c.sh = pick(1, 3), c.sw = pick(1, 3), c.ph = pick(0, 3), c.pw = pick(0, 3), c.dh = pick(1, 3), c.dw = pick(1, 3);
        c.bias = pick(0, 1);
        if (c.h + 2 * c.ph - c.dh * (c.kh - 1) < 1 || c.w + 2 * c.pw - c.dw * (c.kw - 1) < 1) continue;
        if (pick(0, 3) == 0) c.ph = c.pw = 0, c.dh = c.dw = 1, c.sh = c.kh, c.sw = c.kw; /* patchify-like */
        if (c.h + 2 * c.ph - c.dh * (c.kh - 1) < 1 || c.w + 2 * c.pw - c.dw * (c.kw - 1) < 1) continue;
        const int f = pick(0, 6);
        fails += run_case(c, forces[f], pick(0, 1) ? 132 : 4, 1, pick(0, 2)) != 0, runs++;
        r++;
    }
    printf("%lld of %lld runs wrong\n", (long long)fails, (long long)runs);
    return fails ? 1 : 0;
}
