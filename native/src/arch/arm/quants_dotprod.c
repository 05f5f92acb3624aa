/*
 * quants_dotprod.c — quantized-format dot products for the dotprod level (ARMv8.2 SDOT).
 *
 * The same kernels as the neon level (quants_arm_dots.h) with SDOT as the int8 primitive:
 * one instruction sums 4 products into each int32 lane, instead of SMULL + SADALP pairs.
 * Activation quantizers and the plain-type dots are inherited from the neon level.
 */
#include <arm_neon.h>

#include "ts_dispatch.h"

#define TS_ARM_DOT_I8 vdotq_s32
#include "quants_arm_dots.h"

void ts_register_quants_dotprod(struct ts_kernels *k, uint64_t cpu) {
    (void)cpu;
    arm_register_int_dots(k);
}
