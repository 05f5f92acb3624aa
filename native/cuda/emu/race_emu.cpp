/*
 * race_emu.cpp — the race check's own test (ci/emu-racecheck.sh): kernels with a race of each
 * kind a GPU run could show and the emulator's schedule hides, each beside a twin that orders
 * its memory as a GPU needs. Built with -fsanitize=thread, `race_emu CASE racy` must draw a
 * ThreadSanitizer report and `race_emu CASE ordered` none (CMake registers both per case);
 * a check that stopped seeing races would fail here rather than pass every kernel.
 */
#include "cuda_emu.h"

#include <string>

enum { N = 64 }; /* threads per block in every case: two warps */
/* On the heap, as device memory is (GCC leaves accesses to static arrays whose address is
 * never taken out of the race check). */
static float *g_in, *g_out, *g_part;
static unsigned *g_ticket;

/* Shared memory written by one thread and read by another: needs __syncthreads between. */
static void k_shared(bool ordered) {
    __shared__ float s[N];
    const int t = threadIdx.x;
    s[t] = (float)t;
    if (ordered) __syncthreads();
    g_out[blockIdx.x * N + t] = s[(t + 1) % N];
}

/* Two blocks storing the same elements (a grid that overlaps its output). */
static void k_overlap(bool ordered) {
    const int t = threadIdx.x;
    g_out[blockIdx.x * (ordered ? N : N / 2) + t] = (float)t;
}

/* The last block to finish sums the others' results (the ticket pattern of tsc_ticket_last):
 * without __threadfence before the ticket and before the reads, they need not be visible. */
static void k_ticket(bool ordered) {
    __shared__ int last;
    const int t = threadIdx.x;
    g_part[blockIdx.x * N + t] = (float)t;
    __syncthreads();
    if (t == 0) {
        if (ordered) __threadfence();
        last = atomicAdd(g_ticket, 1u) == gridDim.x - 1;
        if (last) atomicExch(g_ticket, 0u);
    }
    __syncthreads();
    if (!last) return;
    if (ordered) __threadfence();
    float sum = 0;
    for (unsigned b = 0; b < gridDim.x; b++) sum += g_part[b * N + t];
    g_out[t] = sum;
}

/* A tile read by other threads than the one that copied it: after its cp.async wait and a
 * barrier, not before. */
static void k_cp_wait(bool ordered) {
    const float *s = (const float *)tsc_emu_smem();
    const int t = threadIdx.x;
    emu_cp_async(16 * t, g_in + 4 * t, 16, 16);
    emu_cp_commit();
    if (ordered) emu_cp_wait(0), __syncthreads();
    g_out[blockIdx.x * N + t] = s[4 * ((t + 1) % N)];
    emu_cp_wait(0);
}

/* A ring of two slots refilled while another thread may still read the slot: needs a barrier
 * between the last read of a slot and the copy into it. */
static void k_ring(bool ordered) {
    const float *s = (const float *)tsc_emu_smem();
    const int t = threadIdx.x;
    float sum = 0;
    for (int i = 0; i < 2; i++) emu_cp_async(16 * (i * N + t), g_in + 4 * t, 16, 16), emu_cp_commit();
    for (int i = 0; i < 4; i++) {
        emu_cp_wait(1);
        __syncthreads();
        sum += s[4 * ((i % 2) * N + (t + 1) % N)];
        if (ordered) __syncthreads();
        emu_cp_async(16 * ((i % 2) * N + t), g_in + 4 * t, 16, 16);
        emu_cp_commit();
    }
    emu_cp_wait(0);
    g_out[blockIdx.x * N + t] = sum;
}

/* Lane 0 writes shared memory and the warp exchanges a register: a shuffle orders no memory,
 * __syncwarp does. */
static void k_warp(bool ordered) {
    __shared__ float s[N / 32];
    const int t = threadIdx.x, w = t / 32;
    if (t % 32 == 0) s[w] = (float)w;
    const int lane0 = __shfl_sync(0xffffffffu, t, 0);
    if (ordered) __syncwarp();
    g_out[blockIdx.x * N + t] = s[w] + (float)lane0;
}

/* A programmatic dependent launch reading what the kernel before it wrote: only after its
 * pdl_wait(), as the GPU may run it beside that kernel until then (pdl), or before it when
 * that kernel never let it start early (pdl_trigger: no pdl_trigger() there). */
static void k_pdl_before(bool trigger) {
    if (trigger) tsc_emu_pdl_trigger();
    g_part[blockIdx.x * N + threadIdx.x] = (float)threadIdx.x;
}
static void k_pdl(bool ordered) {
    const int t = threadIdx.x;
    const float *other = g_part + (blockIdx.x ^ 1) * N; /* the other set's block wrote it */
    float v = ordered ? 0.0f : other[t];
    tsc_emu_pdl_wait();
    if (ordered) v = other[t];
    g_out[blockIdx.x * N + t] = v;
}

/* A kernel that lets the next start at once and touches nothing (tsc_pdl_enter's pattern): a
 * chain through it reaches back to the kernel before it, unless a stream operation other
 * than a kernel came between (pdl_chain). */
static void k_pdl_enter() {
    tsc_emu_pdl_trigger();
    tsc_emu_pdl_wait();
}

int main(int argc, char **argv) {
    const std::string c = argc == 3 ? argv[1] : "", how = argc == 3 ? argv[2] : "";
    if (how != "racy" && how != "ordered") {
        fprintf(stderr, "usage: race_emu shared|overlap|ticket|cp_wait|ring|warp|pdl|pdl_trigger|pdl_chain racy|ordered\n");
        return 2;
    }
    const bool ordered = how == "ordered";
    std::vector<float> in(4 * N, 1.0f), out(4 * N), part(4 * N);
    unsigned ticket = 0;
    g_in = in.data(), g_out = out.data(), g_part = part.data(), g_ticket = &ticket;
    g_ranges.push_back({(const char *)g_in, (const char *)(g_in + 4 * N)});
    const size_t smem = 2 * N * 16;
    if (c == "shared") launch(dim3(2), dim3(N), 0, [&] { k_shared(ordered); });
    else if (c == "overlap") launch(dim3(2), dim3(N), 0, [&] { k_overlap(ordered); });
    else if (c == "ticket") launch(dim3(3), dim3(N), 0, [&] { k_ticket(ordered); });
    else if (c == "cp_wait") launch(dim3(2), dim3(N), smem, [&] { k_cp_wait(ordered); });
    else if (c == "ring") launch(dim3(2), dim3(N), smem, [&] { k_ring(ordered); });
    else if (c == "warp") launch(dim3(2), dim3(N), 0, [&] { k_warp(ordered); });
    else if (c == "pdl") {
        launch(dim3(2), dim3(N), 0, [&] { k_pdl_before(true); });
        launch(dim3(2), dim3(N), 0, [&] { k_pdl(ordered); }, true);
    } else if (c == "pdl_trigger") {
        launch(dim3(2), dim3(N), 0, [&] { k_pdl_before(!ordered); });
        launch(dim3(2), dim3(N), 0, [&] { k_pdl(false); }, true);
    } else if (c == "pdl_chain") {
        launch(dim3(2), dim3(N), 0, [&] { k_pdl_before(true); });
        if (ordered) emu_stream_op(); /* a copy, say: the next kernel starts after this one ended */
        launch(dim3(2), dim3(N), 0, [&] { k_pdl_enter(); }, true);
        launch(dim3(2), dim3(N), 0, [&] { k_pdl(false); }, true);
    } else return fprintf(stderr, "race_emu: no case %s\n", c.c_str()), 2;
    printf("race_emu %s %s: ran\n", c.c_str(), how.c_str());
    return 0;
}
