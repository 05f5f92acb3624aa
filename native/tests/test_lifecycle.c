/*
 * test_lifecycle.c — version/ABI, errors, init/shutdown/re-init cycles, forced levels by
 * name and by TESSERA_ISA, and the messages for levels the CPU lacks or does not know.
 */
#include <pthread.h>

#include "tessera.h"
#include "ts_test.h"

static void *other_thread_error(void *p) {
    (void)p;
    /* Thread-local: a fresh thread has no message. */
    return (void *)(intptr_t)(ts_last_error()[0] == '\0');
}

int main(void) {
    CHECK(ts_abi_version() == TS_ABI_VERSION, "abi");
    CHECK(ts_version() != NULL && strlen(ts_version()) > 0, "version");
    CHECK(strcmp(ts_last_error(), "") == 0, "no error at start");
    CHECK(ts_is_initialized() == 0, "not initialised at start");
    CHECK(ts_isa() == -1, "isa before init");
    ts_noop();
    int x;
    CHECK(ts_noop_args(&x, 5) == (int64_t)(intptr_t)&x + 5, "noop_args");

    uint64_t f = ts_cpu_features();
    int32_t best = ts_isa_best();
    fprintf(stderr, "cpu features %#llx, best level %s\n", (unsigned long long)f, ts_isa_name(best));
    CHECK(strcmp(ts_isa_name(TS_ISA_SCALAR), "scalar") == 0 && strcmp(ts_isa_name(TS_ISA_AVX512), "avx512") == 0 &&
              strcmp(ts_isa_name(TS_ISA_DOTPROD), "dotprod") == 0 && strcmp(ts_isa_name(99), "unknown") == 0,
          "isa names");
#if defined(__x86_64__)
    CHECK((f & (TS_CPU_NEON | TS_CPU_DOTPROD)) == 0, "no ARM bits on x86");
    if (__builtin_cpu_supports("avx2")) CHECK(f & TS_CPU_AVX2, "avx2 missed");
    if (__builtin_cpu_supports("avx512f")) CHECK(f & TS_CPU_AVX512F, "avx512f missed");
    CHECK(!(f & TS_CPU_AVX512F) || (f & TS_CPU_AVX2), "avx512 without avx2?");
    CHECK(!(f & TS_CPU_AMX_PERMITTED) || (f & TS_CPU_AMX_TILE), "AMX permitted without tiles");
    if (best == TS_ISA_AMX) CHECK(f & TS_CPU_AMX_PERMITTED, "amx level needs the permission");
#elif defined(__aarch64__)
    CHECK(f & TS_CPU_NEON, "aarch64 always has NEON");
    CHECK(best == TS_ISA_NEON || best == TS_ISA_DOTPROD, "best on aarch64");
#endif

    /* Init / shutdown / re-init cycles. */
    for (int i = 0; i < 20; i++) {
        CHECK(ts_init(i % 3 + 1, NULL) == TS_OK, "init %d: %s", i, ts_last_error());
        CHECK(ts_is_initialized() == 1 && ts_n_threads() == i % 3 + 1, "state after init");
        float a = 1.5f;
        uint16_t h = 0;
        CHECK(ts_convert(&h, TS_TYPE_F16, &a, TS_TYPE_F32, 1) == TS_OK && h == 0x3e00, "convert works");
        if (i % 2) {
            CHECK(ts_init(2, "scalar") == TS_OK, "re-init without shutdown");
            CHECK(ts_isa() == TS_ISA_SCALAR, "re-init picked scalar");
        }
        CHECK(ts_shutdown() == TS_OK, "shutdown");
        CHECK(ts_is_initialized() == 0 && ts_isa() == -1 && ts_n_threads() == 0, "state after shutdown");
        CHECK(ts_convert(&h, TS_TYPE_F16, &a, TS_TYPE_F32, 1) == TS_ERR_NOT_INITIALIZED, "kernel after shutdown");
    }
    CHECK(ts_shutdown() == TS_OK, "double shutdown is harmless");

    /* Default = best; every supported level by name. */
    unsetenv("TESSERA_ISA");
    CHECK(ts_init(0, NULL) == TS_OK && ts_isa() == best, "NULL = best");
    CHECK(ts_init(0, "") == TS_OK && ts_isa() == best, "\"\" = best");
    const char *names[] = {"scalar", "avx2", "avx512", "amx", "neon", "dotprod"};
    const int32_t ids[] = {TS_ISA_SCALAR, TS_ISA_AVX2, TS_ISA_AVX512, TS_ISA_AMX, TS_ISA_NEON, TS_ISA_DOTPROD};
    int32_t supported = 0;
    for (int i = 0; i < 6; i++) {
        int32_t rc = ts_init(1, names[i]);
        if (rc == TS_OK) {
            supported++;
            CHECK(ts_isa() == ids[i], "forced %s", names[i]);
        } else {
            CHECK(rc == TS_ERR_UNSUPPORTED, "unsupported level %s: rc %d", names[i], rc);
            CHECK(ts_is_initialized() == 0, "failed init leaves the library uninitialised");
            CHECK(strstr(ts_last_error(), names[i]) != NULL, "message names the level: %s", ts_last_error());
            CHECK(strstr(ts_last_error(), ts_isa_name(best)) != NULL, "message names the best level: %s",
                  ts_last_error());
            fprintf(stderr, "  %s -> %s\n", names[i], ts_last_error());
        }
    }
    CHECK(supported >= 2 || best == TS_ISA_SCALAR, "at least scalar and best");
    CHECK(ts_init(1, "avx9000") == TS_ERR_UNSUPPORTED, "unknown name");
    CHECK(strstr(ts_last_error(), "avx9000") != NULL && strstr(ts_last_error(), "unknown") != NULL,
          "unknown-name message: %s", ts_last_error());
    CHECK(ts_init(1, "SCALAR") == TS_ERR_UNSUPPORTED, "names are lower case");

    /* TESSERA_ISA applies only when the argument is NULL/"". */
    setenv("TESSERA_ISA", "scalar", 1);
    CHECK(ts_init(1, NULL) == TS_OK && ts_isa() == TS_ISA_SCALAR, "env scalar");
    CHECK(ts_init(1, "") == TS_OK && ts_isa() == TS_ISA_SCALAR, "env scalar with \"\"");
    CHECK(ts_init(1, ts_isa_name(best)) == TS_OK && ts_isa() == best, "argument beats env");
    setenv("TESSERA_ISA", "bogus", 1);
    CHECK(ts_init(1, NULL) == TS_ERR_UNSUPPORTED, "bad env level fails");
    CHECK(strstr(ts_last_error(), "TESSERA_ISA") != NULL && strstr(ts_last_error(), "bogus") != NULL,
          "env message: %s", ts_last_error());
    setenv("TESSERA_ISA", "", 1);
    CHECK(ts_init(1, NULL) == TS_OK && ts_isa() == best, "empty env = best");
#if defined(__x86_64__)
    setenv("TESSERA_ISA", "neon", 1);
    CHECK(ts_init(1, NULL) == TS_ERR_UNSUPPORTED, "neon on x86 fails");
#endif
    unsetenv("TESSERA_ISA");

    /* Errors are per thread. */
    CHECK(ts_last_error()[0] != '\0', "this thread has a message");
    pthread_t t;
    void *clean = NULL;
    pthread_create(&t, NULL, other_thread_error, NULL);
    pthread_join(t, &clean);
    CHECK(clean == (void *)1, "another thread sees no message");
    /* Long messages are cut at 1023 bytes. */
    char longname[3000];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    CHECK(ts_init(1, longname) == TS_ERR_UNSUPPORTED && strlen(ts_last_error()) < 1024, "long message cut");

    ts_shutdown();
    TS_TEST_EXIT();
}
