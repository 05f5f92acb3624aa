/*
 * ts_dispatch.c — builds the kernel table for a level from per-level registration lists.
 */
#include "ts_dispatch.h"

#include <string.h>

#include "tessera.h"

#define TS_LIST_END ((ts_register_fn)0)

/* One list per level: the families that level implements. Scalar must cover every field.
 * One registration per line, so families added side by side merge cleanly. */
static const ts_register_fn k_reg_scalar[] = {
    ts_register_convert_scalar,
    ts_register_quants_scalar,
    ts_register_probe_scalar,
    ts_register_ops_scalar,
    ts_register_attention_scalar,
    ts_register_sgemm_scalar,
    ts_register_conv_scalar,
    ts_register_gemm_scalar,
    TS_LIST_END,
};
#if defined(__x86_64__) || defined(__i386__)
static const ts_register_fn k_reg_avx2[] = {
    ts_register_convert_avx2,
    ts_register_quants_avx2,
    ts_register_quants_k_avx2,
    ts_register_dequant_avx2,
    ts_register_probe_avx2,
    ts_register_ops_avx2,
    ts_register_attention_avx2,
    ts_register_sgemm_avx2,
    ts_register_conv_avx2,
    ts_register_gemm_avx2,
    TS_LIST_END,
};
static const ts_register_fn k_reg_avx512[] = {
    ts_register_convert_avx512,
    ts_register_quants_avx512,
    ts_register_gemm_avx512,
    TS_LIST_END,
};
static const ts_register_fn k_reg_amx[] = {TS_LIST_END};
#elif defined(__aarch64__)
static const ts_register_fn k_reg_neon[] = {
    ts_register_convert_neon,
    ts_register_quants_neon,
    TS_LIST_END,
};
static const ts_register_fn k_reg_dotprod[] = {
    ts_register_quants_dotprod,
    TS_LIST_END,
};
#endif

/* Chains, lowest level first; a level gets its prefix of its architecture's chain. */
static const struct { int32_t isa; const ts_register_fn *list; } k_chain[] = {
    {TS_ISA_SCALAR, k_reg_scalar},
#if defined(__x86_64__) || defined(__i386__)
    {TS_ISA_AVX2, k_reg_avx2},
    {TS_ISA_AVX512, k_reg_avx512},
    {TS_ISA_AMX, k_reg_amx},
#elif defined(__aarch64__)
    {TS_ISA_NEON, k_reg_neon},
    {TS_ISA_DOTPROD, k_reg_dotprod},
#endif
};

void ts_kernels_fill(struct ts_kernels *k, int32_t isa, uint64_t cpu) {
    memset(k, 0, sizeof *k);
    k->isa = isa;
    for (size_t c = 0; c < sizeof k_chain / sizeof k_chain[0]; c++) {
        for (const ts_register_fn *r = k_chain[c].list; *r; r++) (*r)(k, cpu);
        if (k_chain[c].isa == isa) break;
    }
}

static struct ts_kernels g_active;
/* Written only under the lifecycle mutex (ts_core.c). */

const struct ts_kernels *ts_kernels_active(void) { return &g_active; }

void ts_kernels_select(int32_t isa, uint64_t cpu) {
    struct ts_kernels k;
    ts_kernels_fill(&k, isa, cpu);
    g_active = k;
}

void ts_kernels_reset(void) {
    struct ts_kernels k;
    ts_kernels_fill(&k, TS_ISA_SCALAR, 0);
    k.isa = -1;
    g_active = k;
}

/* Before the first ts_init the table is zero; kernels refuse to run then (ts_require_init),
 * and ts_init fills it before publishing the initialised flag. */
