/* The machine probes compute what they claim: the read checksum is the sum of the 64-bit
 * words read, and the FMA probe reports its flop count on every level. */
#include "tessera.h"
#include "ts_cpu.h"
#include "ts_dispatch.h"
#include "ts_test.h"

int main(void) {
    CHECK(ts_init(2, NULL) == TS_OK, "%s", ts_last_error());
    enum { N = 1 << 16 };
    static uint64_t words[N];
    uint64_t want = 0;
    for (int i = 0; i < N; i++) {
        words[i] = (uint64_t)i * 2654435761u;
        want += words[i];
    }
    CHECK((uint64_t)ts_bench_read(words, (int64_t)sizeof words) == want, "read checksum");
    CHECK(ts_bench_read(NULL, 100) == 0, "null pointer reads nothing");
    int64_t flops = ts_bench_fma(1000);
    CHECK(flops >= 1000 * 16 && flops % 1000 == 0, "flops %lld", (long long)flops);
    uint64_t cpu = ts_cpu_detect();
    struct ts_kernels k;
    ts_kernels_fill(&k, TS_ISA_SCALAR, cpu);
    float sink = 0;
    CHECK(k.fma_probe(10, &sink) == 10 * 8 * 2 && sink > 0, "scalar probe");
    ts_shutdown();
    TS_TEST_EXIT();
}
