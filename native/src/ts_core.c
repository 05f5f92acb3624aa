/*
 * ts_core.c — version, per-thread errors and the init/shutdown lifecycle.
 *
 * All process state (chosen level, kernel table, thread pool) is created by ts_init and
 * dropped by ts_shutdown, so a caller can always return the library to a clean state.
 * init/shutdown/set_threads are serialised by one mutex. They must not race with kernel
 * calls made by other threads: a kernel that does so still sees a valid (scalar) table
 * and a pool that degrades to running on the caller, but may fail with
 * TS_ERR_NOT_INITIALIZED.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "tessera.h"
#include "ts_core.h"
#include "ts_cpu.h"
#include "ts_dispatch.h"
#include "ts_threadpool.h"

#ifndef TS_VERSION_STRING
#define TS_VERSION_STRING "0.0.0-dev"
#endif

#define TS_ERROR_CAPACITY 1024

static _Thread_local char t_last_error[TS_ERROR_CAPACITY];

static pthread_mutex_t g_lifecycle = PTHREAD_MUTEX_INITIALIZER;
static atomic_int g_initialized;

TS_API TS_CRITICAL uint32_t ts_abi_version(void) { return TS_ABI_VERSION; }

TS_API TS_CRITICAL const char *ts_version(void) { return TS_VERSION_STRING; }

TS_API TS_CRITICAL const char *ts_last_error(void) { return t_last_error; }

int32_t ts_set_error(int32_t status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t_last_error, sizeof t_last_error, fmt, ap);
    va_end(ap);
    return status;
}

int32_t ts_require_init(const char *fn) {
    if (atomic_load_explicit(&g_initialized, memory_order_acquire)) return TS_OK;
    return ts_set_error(TS_ERR_NOT_INITIALIZED, "%s: library not initialised; call ts_init first", fn);
}

static void shutdown_locked(void) {
    atomic_store_explicit(&g_initialized, 0, memory_order_release);
    ts_pool_stop();
    ts_kernels_reset();
}

/* Resolves the requested level name (or TESSERA_ISA, or the best) to a TS_ISA_* value. */
static int32_t resolve_level(const char *isa, int32_t *out) {
    const char *source = "ts_init";
    if (isa == NULL || isa[0] == '\0') {
        const char *env = getenv("TESSERA_ISA");
        if (env == NULL || env[0] == '\0') {
            *out = ts_isa_best();
            return TS_OK;
        }
        isa = env;
        source = "TESSERA_ISA";
    }
    uint64_t f = ts_cpu_detect();
    char have[512];
    ts_cpu_describe(f, have, (int32_t)sizeof have);
    int32_t level = ts_isa_from_name(isa);
    if (level < 0)
        return ts_set_error(TS_ERR_UNSUPPORTED,
                            "%s: unknown kernel level '%.64s' (known: scalar, avx2, avx512, amx, neon, dotprod); "
                            "this CPU's best is '%s' (features: %s)",
                            source, isa, ts_isa_name(ts_cpu_best_level(f)), have);
    if (!ts_cpu_level_ok(level, f))
        return ts_set_error(TS_ERR_UNSUPPORTED,
                            "%s: kernel level '%s' is not supported by this CPU; its best is '%s' (features: %s)",
                            source, isa, ts_isa_name(ts_cpu_best_level(f)), have);
    *out = level;
    return TS_OK;
}

TS_API int32_t ts_init(int32_t n_threads, const char *isa) {
    pthread_mutex_lock(&g_lifecycle);
    if (atomic_load(&g_initialized)) shutdown_locked();
    int32_t level = TS_ISA_SCALAR;
    int32_t st = resolve_level(isa, &level);
    if (st == TS_OK) {
        ts_kernels_select(level, ts_cpu_detect());
        st = ts_pool_start(n_threads);
        if (st == TS_OK)
            atomic_store_explicit(&g_initialized, 1, memory_order_release);
        else
            ts_kernels_reset();
    }
    pthread_mutex_unlock(&g_lifecycle);
    return st;
}

TS_API int32_t ts_shutdown(void) {
    pthread_mutex_lock(&g_lifecycle);
    shutdown_locked();
    pthread_mutex_unlock(&g_lifecycle);
    return TS_OK;
}

TS_API TS_CRITICAL int32_t ts_is_initialized(void) { return atomic_load_explicit(&g_initialized, memory_order_acquire); }

TS_API TS_CRITICAL int32_t ts_isa(void) {
    return atomic_load_explicit(&g_initialized, memory_order_acquire) ? ts_kernels_active()->isa : -1;
}

TS_API TS_CRITICAL int32_t ts_n_threads(void) {
    return atomic_load_explicit(&g_initialized, memory_order_acquire) ? ts_pool_size() : 0;
}

TS_API int32_t ts_set_threads(int32_t n_threads) {
    pthread_mutex_lock(&g_lifecycle);
    int32_t st = ts_require_init("ts_set_threads");
    if (st == TS_OK) {
        ts_pool_stop();
        st = ts_pool_start(n_threads);
        if (st != TS_OK) { /* keep the library usable: fall back to the caller thread only */
            int32_t st1 = ts_pool_start(1);
            (void)st1;
        }
    }
    pthread_mutex_unlock(&g_lifecycle);
    return st;
}

TS_API TS_CRITICAL void ts_noop(void) {}

TS_API TS_CRITICAL int64_t ts_noop_args(const void *a, int64_t n) { return (int64_t)(intptr_t)a + n; }
