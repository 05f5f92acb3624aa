/*
 * ts_cpu.h — CPU feature detection and kernel-level rules (internal).
 */
#ifndef TS_CPU_H
#define TS_CPU_H

#include <stdint.h>

/* Internal feature bits, kept above the public TS_CPU_* range and masked out of
 * ts_cpu_features(). AVX-512DQ has no public bit but our AVX-512 files are compiled
 * with -mavx512dq, so the avx512 level checks it. */
#define TS_CPU_X_AVX512DQ (1ull << 32)
#define TS_CPU_PUBLIC_MASK 0xffffffffull

/* Detected once per process (thread-safe); includes the internal bits. On x86 the first
 * call also asks Linux for AMX tile-data permission. */
uint64_t ts_cpu_detect(void);

/* 1 if a CPU with these features can run kernel level isa (TS_ISA_*), else 0. */
int ts_cpu_level_ok(int32_t isa, uint64_t features);

/* Best level for these features. */
int32_t ts_cpu_best_level(uint64_t features);

/* TS_ISA_* for a level name, or -1 if unknown. */
int32_t ts_isa_from_name(const char *name);

/* Writes a space-separated list of feature names into buf (always terminated). */
void ts_cpu_describe(uint64_t features, char *buf, int32_t size);

#endif /* TS_CPU_H */
