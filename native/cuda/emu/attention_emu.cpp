/*
 * attention_emu.cpp — runs tsc_attention.cu's kernels on the CPU (cuda_emu.h) against the
 * CPU's ts_attention: split-KV decode (F16/F32 K/V, GQA blocks that take all query heads of a
 * kv head or not, several chunks merged by the last block of each column, causal windows that
 * hide every key),
 * the tensor-core flash kernel (every padded head size 32..160, 64- and 128-row blocks,
 * causal, masks, F32 K/V rounded to f16, interleaved layouts) and the general kernel (head
 * sizes the others do not take, unaligned rows, a fully masked row). ctest runs it (label
 * cuda; under a second); by hand:
 *
 *   cmake --build BUILD --target attention_emu && BUILD/native/cuda/attention_emu
 *
 * Tolerances are test_cuda_attention.c's (which explains them): split and general kernels
 * 3e-5 + 3e-5·|cpu|, tensor cores 3e-3 + 3e-3·|cpu|. ex2.approx is emulated by exp2f (the
 * hardware's is within 2 ulp of it). Each case prints a fingerprint of its output bits.
 */
#include "cuda_emu.h"

#include "ptx_attention.h"

#include "../tsc_device.cuh"
#include "../tsc_attention.cu"

#include "emu_check.h"

static int64_t failures;

struct acase {
    int64_t heads, kv_heads, lq, lk, d;
    int32_t causal;
    int64_t kv_offset;
    int32_t kv_type, masked, interleaved;
    int64_t pad;          /* extra elements per Q/K/V/O row */
    const char *force;    /* TSC_ATTENTION_KERNEL's values, or NULL */
    int64_t split_keys;   /* TSC_ATTENTION_SPLIT_KEYS, or 0 */
};

static const char *path_name[] = {"split-kv", "flash", "general"};

/* tsc_attention after validation, on host memory, with its planning functions (132 SMs).
 * Returns the path taken. */
template <typename T>
static int run_kernels(const acase &c, struct att_args a) {
    const int64_t n_heads = c.heads;
    const int32_t force = c.force == NULL ? 0
                          : strcmp(c.force, "general") == 0 ? TSC_ATT_FORCE_GENERAL
                          : strcmp(c.force, "rows64") == 0  ? TSC_ATT_FORCE_ROWS64
                          : strcmp(c.force, "rows128") == 0 ? TSC_ATT_FORCE_ROWS128
                                                            : 0;
    const int path = att_path(a, sizeof(T), force);
    if (path == ATT_SPLIT) {
        const int64_t nbx = dec_plan(&a, sizeof(T), n_heads, c.split_keys);
        std::vector<float> part;
        if (a.n_split > 1) {
            part.assign(n_heads * a.lq * a.n_split * (a.d + 2), NAN);
            a.part = part.data(), a.part_ml = a.part + n_heads * a.lq * a.n_split * a.d;
        }
        std::vector<uint32_t> tickets((size_t)nbx, 0);
        a.tickets = tickets.data();
        launch(dim3((unsigned)nbx, (unsigned)a.n_split), dim3(TSC_DEC_THREADS), dec_smem_bytes(a.chunk, a.srb, a.rows, a.d),
               [&] { k_att_split<T>(a); });
        for (uint32_t t : tickets)
            if (t != 0) {
                printf("FAIL split-kv: a ticket left at %u (the last block resets it)\n", t);
                failures++;
                break;
            }
        return ATT_SPLIT;
    }
    if (path == ATT_FLASH) {
        flash_dispatch(a, n_heads, force, 132, [&](auto dp, auto mt) {
            constexpr int DP = decltype(dp)::value, MT = decltype(mt)::value;
            launch(dim3((unsigned)tsc_cdiv(a.lq, 64 * MT), (unsigned)n_heads), dim3(TSC_FA_THREADS), fa_smem_bytes(DP, MT),
                   [&] { k_flash<DP, MT, T>(a); });
        });
        return ATT_FLASH;
    }
    launch(dim3((unsigned)tsc_cdiv(a.lq, TSC_ATT_ROWS), (unsigned)n_heads), dim3(32 * TSC_ATT_ROWS), att_smem_bytes(a.d),
           [&] { k_attention<T>(a); });
    return ATT_GENERAL;
}

static void run_case(const acase &c) {
    const int64_t esz = c.kv_type == TS_TYPE_F16 ? 2 : 4, row = c.d + c.pad;
    const int64_t q_hs = c.interleaved ? row : c.lq * row, q_rs = c.interleaved ? c.heads * row : row; /* elements */
    const int64_t k_hs = c.interleaved ? row : c.lk * row, k_rs = c.interleaved ? c.kv_heads * row : row;
    const int64_t nq = c.heads * c.lq * row, nkv = c.kv_heads * c.lk * row + 1;
    std::vector<char> qb, kb, vb, ob, wb, mb;
    float *q = align16<float>(qb, nq * 4), *o = align16<float>(ob, nq * 4), *want = align16<float>(wb, nq * 4);
    char *k = align16<char>(kb, nkv * esz), *v = align16<char>(vb, nkv * esz);
    for (int64_t i = 0; i < nq; i++) q[i] = randn(), o[i] = NAN, want[i] = NAN;
    for (int64_t i = 0; i < nkv; i++) {
        const float kf = randn(), vf = randn();
        if (esz == 2) {
            const uint16_t kh = tsc_emu_f2h(kf), vh = tsc_emu_f2h(vf);
            memcpy(k + 2 * i, &kh, 2), memcpy(v + 2 * i, &vh, 2);
        } else {
            memcpy(k + 4 * i, &kf, 4), memcpy(v + 4 * i, &vf, 4);
        }
    }
    const int64_t mrs = c.lk + 3;
    float *mask = NULL;
    if (c.masked) {
        mask = align16<float>(mb, (c.lq * mrs + 1) * 4);
        for (int64_t i = 0; i < c.lq * mrs; i++) mask[i] = randn();
        if (c.lq > 1)
            for (int64_t j = 0; j < c.lk; j++) mask[mrs + j] = -INFINITY; /* row 1 sees no key */
    }
    const float scale = 1.0f / sqrtf((float)c.d);
    const int32_t st = ts_attention(want, q_hs * 4, q_rs * 4, q, q_hs * 4, q_rs * 4, k, k_hs * esz, k_rs * esz, v, k_hs * esz, k_rs * esz,
                                    c.kv_type, mask, mrs * 4, c.heads, c.kv_heads, c.lq, c.lk, c.d, scale, c.causal, c.kv_offset);
    if (st != TS_OK) {
        printf("FAIL cpu ts_attention: %s\n", ts_last_error());
        failures++;
        return;
    }
    g_ranges = {{k, k + nkv * esz}, {v, v + nkv * esz}};
    const struct att_args a = att_make(o, q_hs * 4, q_rs * 4, q, q_hs * 4, q_rs * 4, k, k_hs * esz, k_rs * esz, v, k_hs * esz,
                                       k_rs * esz, mask, mrs * 4, c.heads, c.kv_heads, c.lq, c.lk, c.d, scale, c.causal, c.kv_offset);
    const int p = esz == 2 ? run_kernels<__half>(c, a) : run_kernels<float>(c, a);
    const double abs_tol = p == ATT_FLASH ? 3e-3 : 3e-5, rel_tol = abs_tol;
    int64_t bad = 0, written = 0;
    double worst = 0;
    for (int64_t i = 0; i < nq; i++) {
        if (std::isnan(want[i])) { /* pad: the CPU does not write it, nor may the kernel */
            written += !std::isnan(o[i]);
            continue;
        }
        const double e = fabs((double)o[i] - want[i]), tol = abs_tol + rel_tol * fabs(want[i]);
        worst = std::max(worst, std::isnan(e) ? INFINITY : e / tol);
        bad += !(e <= tol);
    }
    const bool ok = bad == 0 && written == 0;
    failures += !ok;
    printf("%s %-8s heads %lld/%lld lq %lld lk %lld d %lld %s%s%s%s pad %lld%s%s: %lld wrong, %lld pad written (worst %.3f of the "
           "bound; o bits %08x)\n",
           ok ? "ok  " : "FAIL", path_name[p], (long long)c.heads, (long long)c.kv_heads, (long long)c.lq, (long long)c.lk, (long long)c.d,
           esz == 2 ? "f16" : "f32", c.causal ? " causal" : "", c.masked ? " masked" : "", c.interleaved ? " interleaved" : "",
           (long long)c.pad, c.force ? " force " : "", c.force ? c.force : "", (long long)bad, (long long)written, worst,
           fnv1a(o, nq * 4));
}

int main() { /* every case, under a second */
    emu_seed(0x5DEECE66Dull);
    if (ts_init(1, "scalar") != TS_OK) {
        fprintf(stderr, "ts_init failed: %s\n", ts_last_error());
        return 1;
    }
    const int F16 = TS_TYPE_F16, F32 = TS_TYPE_F32;
    /* heads kvh lq lk d causal kv_off type masked inter pad force keys */
    static const acase cases[] = {
        {8, 2, 1, 100, 64, 1, 99, F16, 0, 0, 0, NULL, 16},  /* decode, GQA blocks, 7 chunks */
        {4, 4, 3, 50, 40, 0, 0, F32, 1, 0, 0, NULL, 32},    /* decode, mask with a hidden row */
        {4, 1, 3, 23, 80, 1, 20, F16, 0, 1, 0, NULL, 16},   /* group·lq > 8: per-head blocks */
        {2, 1, 2, 30, 64, 1, -5, F16, 0, 0, 0, NULL, 0},    /* causal window before every key */
        {2, 2, 5, 300, 256, 0, 0, F32, 0, 0, 0, NULL, 0},   /* d 256 */
        {4, 2, 4, 140, 128, 0, 0, F32, 1, 1, 0, NULL, 32},  /* GQA blocks of 8 rows, mask, 5 chunks */
        {2, 1, 70, 90, 64, 1, 20, F16, 0, 0, 0, NULL, 0},   /* flash, causal */
        {2, 2, 40, 200, 64, 1, 160, F32, 1, 0, 0, NULL, 0}, /* flash, causal edge and mask over 4 key tiles */
        {2, 2, 20, 75, 40, 0, 0, F32, 1, 0, 0, NULL, 0},    /* flash d 48, F32 K/V, mask */
        {1, 1, 130, 70, 32, 0, 0, F16, 0, 0, 0, "rows128", 0}, /* 128-row blocks */
        {2, 1, 17, 65, 160, 0, 0, F16, 0, 1, 0, NULL, 0},   /* d 160, interleaved */
        {1, 1, 12, 33, 104, 1, 0, F32, 0, 0, 4, NULL, 0},   /* d 104 -> 128, padded rows */
        {2, 2, 9, 40, 20, 1, 3, F16, 0, 0, 0, NULL, 0},     /* general: 40-byte rows */
        {2, 1, 12, 45, 64, 0, 0, F32, 1, 0, 0, "general", 0}, /* general forced, hidden row */
        {1, 1, 10, 37, 24, 0, 0, F32, 0, 0, 1, NULL, 0},    /* general: unaligned rows */
    };
    for (const acase &c : cases) run_case(c);
    printf("%lld failures\n", (long long)failures);
    return failures ? 1 : 0;
}
