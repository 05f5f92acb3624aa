/*
 * ts_core.h — internal helpers shared by every kernel file: errors and init checks.
 */
#ifndef TS_CORE_H
#define TS_CORE_H

#include <stdint.h>

#include "tessera.h"

/* Formats a message into the calling thread's error buffer (truncated to 1023 bytes) and
 * returns status, so kernels can write `return ts_set_error(TS_ERR_..., "...", ...);`. */
int32_t ts_set_error(int32_t status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* TS_OK when ts_init has run, else sets TS_ERR_NOT_INITIALIZED naming `fn` and returns it.
 * Every public kernel starts with: int32_t st = ts_require_init("ts_foo"); if (st) return st; */
int32_t ts_require_init(const char *fn);

#endif /* TS_CORE_H */
