/*
 * tsc_quant.cuh — decoding GGUF weight blocks on the device (internal), one group of 32
 * weights at a time, for every block type the CPU reads: the dp4a matvec/matmul kernels
 * (tsc_matmul.cu) decode from global or shared memory with it, and the tensor-core GEMM's
 * unpacking (tsc_matmul_mma.cu) turns its groups into int8 rows and float scales.
 */
#ifndef TSC_QUANT_CUH
#define TSC_QUANT_CUH

#include <stdint.h>

#include "tsc_device.cuh"

/* ---- weight decoding ------------------------------------------------------------------- */

/* A weight byte's address as a 4-byte aligned base and a 32-bit offset from it: the decoders'
 * offsets and alignment tests are then 32-bit integer operations, not 64-bit address
 * arithmetic. Plain loads: the same decoders read weights from global memory (k_matmul_q)
 * and from the shared-memory tiles of k_matvec_async; the compiler picks the space after
 * inlining. over: up to 4 bytes past a span may be read (the shared-memory tiles' slack),
 * which spares choosing the last word of a span. a4: every span the decoders load starts
 * 4-byte aligned (block sizes that are multiples of 4 in a 4-byte aligned row), so the words
 * need no shifting; a compile-time constant where it is used. */
struct wptr {
    const uint8_t *b4;
    uint32_t off;
    bool over, a4;
    __device__ __forceinline__ wptr operator+(uint32_t d) const { return wptr{b4, off + d, over, a4}; }
};
/* p: a 2-byte aligned row in global memory. */
static __device__ __forceinline__ wptr wptr_of(const uint8_t *p) {
    const uint32_t a = (uint32_t)(uintptr_t)p & 3u;
    return wptr{p - a, a, false, false};
}
static __device__ __forceinline__ uint32_t ld8(wptr p) { return p.b4[p.off]; }
static __device__ __forceinline__ uint32_t ld16(wptr p) { return *(const unsigned short *)(p.b4 + p.off); }
static __device__ __forceinline__ float h2f(uint32_t h) { return tsc_h2f((uint16_t)h); }

/* N little-endian words at a 2-byte aligned address come from N + 1 aligned 4-byte loads
 * (raw_words) funnel-shifted into place (align_words). Without over, every word loaded holds
 * a byte that is asked for, so nothing outside the caller's bytes' 4-byte words is touched:
 * branch-free, when sh = 0 the extra load repeats the last word. */
template <int N>
static __device__ __forceinline__ void raw_words(wptr p, uint32_t *w, uint32_t &sh) {
    const unsigned *b = (const unsigned *)(p.b4 + (p.off & ~3u));
    sh = p.a4 ? 0u : (p.off & 2u) * 8;
#pragma unroll
    for (int i = 0; i < N; i++) w[i] = b[i];
    w[N] = p.a4 ? w[N - 1] : p.over ? b[N] : b[N - (sh ? 0 : 1)]; /* a4: not read (shift 0) */
}
/* extra (0..7): a further right shift of every word, folded into the funnel shift, so the top
 * extra bits come from the next word (a4: they are zeros). Callers never see them: they keep
 * bits b of each byte with b + extra <= 7, which all lie within the source word. */
template <int N>
static __device__ __forceinline__ void align_words(const uint32_t *w, uint32_t sh, bool a4, uint32_t *out, uint32_t extra = 0) {
#pragma unroll
    for (int i = 0; i < N; i++) out[i] = a4 ? w[i] >> extra : __funnelshift_r(w[i], w[i + 1], sh + extra); /* a4: compile-time */
}

/* Bit b (0..3) of the 4-bit value v moved to bit 4 of byte b (the 5th bit of a Q5 level): the
 * product's four shifted copies of v (by 4, 11, 18, 25) do not overlap, so it is their OR,
 * and the mask keeps bit b of copy b. */
static __device__ __forceinline__ uint32_t spread4(uint32_t v) { return (v * 0x02040810u) & 0x10101010u; }

/* What one group of 32 weights needs from memory, loaded before any of it is used (so the
 * loads of several groups are in flight together): up to two spans of words (a, b), with
 * their shifts, small fields e[] (halves, scale bytes), and j = the group's index in its
 * super-block. Types leave unused members alone and the compiler drops them. */
struct qraw {
    uint32_t a[9], b[9], sha, shb, e[5];
    int j;
    bool a4; /* the spans were 4-byte aligned (wptr::a4): a, b need no shifting */
};

/* One group decoded: quants q (element 4i+j in byte j of word i; int8 for Q8_0, otherwise the
 * unsigned levels 0..63 before the type's offset is taken off), integer scales of the halves
 * (elements 0-15, 16-31), integer min factors, and the float factors D, M. */
struct qgroup {
    uint32_t q[8];
    int scl0, scl1, mi0, mi1;
    float D, M;
};

template <int T>
struct qtype;
/* bs: block bytes; qk: elements per block; halves: the two halves have their own scales;
 * has_min: a min term M · mi · Σa; off: the level offset (weight = scale · (q − off)), which
 * the dots apply once per half as off · Σa instead of to every byte. */
template <> struct qtype<TS_TYPE_Q4_0> { static constexpr int bs = 18, qk = 32, halves = 0, has_min = 0, off = 8; };
template <> struct qtype<TS_TYPE_Q4_1> { static constexpr int bs = 20, qk = 32, halves = 0, has_min = 1, off = 0; };
template <> struct qtype<TS_TYPE_Q5_0> { static constexpr int bs = 22, qk = 32, halves = 0, has_min = 0, off = 16; };
template <> struct qtype<TS_TYPE_Q5_1> { static constexpr int bs = 24, qk = 32, halves = 0, has_min = 1, off = 0; };
template <> struct qtype<TS_TYPE_Q8_0> { static constexpr int bs = 34, qk = 32, halves = 0, has_min = 0, off = 0; };
template <> struct qtype<TS_TYPE_Q2_K> { static constexpr int bs = 84, qk = 256, halves = 1, has_min = 1, off = 0; };
template <> struct qtype<TS_TYPE_Q3_K> { static constexpr int bs = 110, qk = 256, halves = 1, has_min = 0, off = 4; };
template <> struct qtype<TS_TYPE_Q4_K> { static constexpr int bs = 144, qk = 256, halves = 0, has_min = 1, off = 0; };
template <> struct qtype<TS_TYPE_Q5_K> { static constexpr int bs = 176, qk = 256, halves = 0, has_min = 1, off = 0; };
template <> struct qtype<TS_TYPE_Q6_K> { static constexpr int bs = 210, qk = 256, halves = 1, has_min = 0, off = 32; };

/* qload<T>: the loads of group g (32 elements) of the weight row at wr; qfinish<T>: the decoding. */
template <int T>
static __device__ __forceinline__ void qload(wptr wr, uint32_t g, qraw &r);
template <int T>
static __device__ __forceinline__ void qfinish(const qraw &r, qgroup &o);

/* The blocks of 32 with nibbles: d, then m (MIN: Q4_1, Q5_1; w = q·d + m), then qh (FIFTH:
 * Q5_0, Q5_1; bit i = 5th bit of element i), then 16 bytes, byte j holding element j (low
 * nibble) and j + 16 (high). Q4_0 (offset 8), Q4_1, Q5_0 (offset 16), Q5_1. */
template <bool MIN, bool FIFTH>
static __device__ __forceinline__ void qload_legacy(wptr wr, uint32_t g, qraw &r) {
    constexpr uint32_t qh = MIN ? 4 : 2, qs = qh + (FIFTH ? 4 : 0), bs = qs + 16;
    r.a4 = wr.a4;
    const wptr p = wr + g * bs;
    raw_words<4>(p + qs, r.a, r.sha);
    if (FIFTH) raw_words<1>(p + qh, r.b, r.shb);
    r.e[0] = ld16(p);
    if (MIN) r.e[1] = ld16(p + 2);
}
template <bool MIN, bool FIFTH>
static __device__ __forceinline__ void qfinish_legacy(const qraw &r, qgroup &o) {
    uint32_t v[4], h[1] = {0};
    align_words<4>(r.a, r.sha, r.a4, v);
    if (FIFTH) align_words<1>(r.b, r.shb, r.a4, h);
#pragma unroll
    for (int i = 0; i < 4; i++) {
        o.q[i] = v[i] & 0x0F0F0F0Fu;
        o.q[i + 4] = (v[i] >> 4) & 0x0F0F0F0Fu;
        if (FIFTH) o.q[i] |= spread4((h[0] >> (4 * i)) & 15u), o.q[i + 4] |= spread4((h[0] >> (16 + 4 * i)) & 15u);
    }
    o.scl0 = o.scl1 = 1, o.mi0 = o.mi1 = MIN ? 1 : 0;
    o.D = h2f(r.e[0]), o.M = MIN ? h2f(r.e[1]) : 0.0f;
}
template <> __device__ __forceinline__ void qload<TS_TYPE_Q4_0>(wptr wr, uint32_t g, qraw &r) { qload_legacy<false, false>(wr, g, r); }
template <> __device__ __forceinline__ void qfinish<TS_TYPE_Q4_0>(const qraw &r, qgroup &o) { qfinish_legacy<false, false>(r, o); }
template <> __device__ __forceinline__ void qload<TS_TYPE_Q4_1>(wptr wr, uint32_t g, qraw &r) { qload_legacy<true, false>(wr, g, r); }
template <> __device__ __forceinline__ void qfinish<TS_TYPE_Q4_1>(const qraw &r, qgroup &o) { qfinish_legacy<true, false>(r, o); }
template <> __device__ __forceinline__ void qload<TS_TYPE_Q5_0>(wptr wr, uint32_t g, qraw &r) { qload_legacy<false, true>(wr, g, r); }
template <> __device__ __forceinline__ void qfinish<TS_TYPE_Q5_0>(const qraw &r, qgroup &o) { qfinish_legacy<false, true>(r, o); }
template <> __device__ __forceinline__ void qload<TS_TYPE_Q5_1>(wptr wr, uint32_t g, qraw &r) { qload_legacy<true, true>(wr, g, r); }
template <> __device__ __forceinline__ void qfinish<TS_TYPE_Q5_1>(const qraw &r, qgroup &o) { qfinish_legacy<true, true>(r, o); }

/* Q8_0: d, 32 int8. */
template <>
__device__ __forceinline__ void qload<TS_TYPE_Q8_0>(wptr wr, uint32_t g, qraw &r) {
    r.a4 = wr.a4;
    const wptr p = wr + g * 34;
    raw_words<8>(p + 2, r.a, r.sha);
    r.e[0] = ld16(p);
}
template <>
__device__ __forceinline__ void qfinish<TS_TYPE_Q8_0>(const qraw &r, qgroup &o) {
    align_words<8>(r.a, r.sha, r.a4, o.q);
    o.scl0 = o.scl1 = 1, o.mi0 = o.mi1 = 0;
    o.D = h2f(r.e[0]), o.M = 0.0f;
}

/* Q2_K: group j of a super-block is bits 2(j&3) of qs[32(j>>2) ..]; the byte scales[s] of
 * each 16 holds the scale (low nibble) and the min (high nibble): w = d·sc·q − dmin·m. */
template <>
__device__ __forceinline__ void qload<TS_TYPE_Q2_K>(wptr wr, uint32_t g, qraw &r) {
    r.a4 = wr.a4;
    const wptr p = wr + (g >> 3) * 84;
    const int j = (int)(g & 7);
    raw_words<8>(p + 16 + 32 * (j >> 2), r.a, r.sha);
    r.e[0] = ld8(p + 2 * j), r.e[1] = ld8(p + 2 * j + 1), r.e[2] = ld16(p + 80), r.e[3] = ld16(p + 82);
    r.j = j;
}
template <>
__device__ __forceinline__ void qfinish<TS_TYPE_Q2_K>(const qraw &r, qgroup &o) {
    uint32_t v[8];
    align_words<8>(r.a, r.sha, r.a4, v, 2 * (r.j & 3));
#pragma unroll
    for (int i = 0; i < 8; i++) o.q[i] = v[i] & 0x03030303u;
    o.scl0 = (int)(r.e[0] & 15), o.scl1 = (int)(r.e[1] & 15);
    o.mi0 = (int)(r.e[0] >> 4), o.mi1 = (int)(r.e[1] >> 4);
    o.D = h2f(r.e[2]), o.M = -h2f(r.e[3]);
}

/* Q3_K: low 2 bits as Q2_K (qs at 32), hmask[l] bit j the third bit; level low + 4·hb, offset 4;
 * signed 6-bit scale of each 16 (the CPU's ts_q3k_scale) from the 12 bytes at 96. */
template <>
__device__ __forceinline__ void qload<TS_TYPE_Q3_K>(wptr wr, uint32_t g, qraw &r) {
    r.a4 = wr.a4;
    const wptr p = wr + (g >> 3) * 110;
    const int j = (int)(g & 7), s0 = 2 * j, s1 = 2 * j + 1;
    raw_words<8>(p + 32 + 32 * (j >> 2), r.a, r.sha);
    raw_words<8>(p, r.b, r.shb);
    r.e[0] = ld8(p + 96 + (s0 & 7)), r.e[1] = ld8(p + 96 + 8 + (s0 & 3));
    r.e[2] = ld8(p + 96 + (s1 & 7)), r.e[3] = ld8(p + 96 + 8 + (s1 & 3));
    r.e[4] = ld16(p + 108);
    r.j = j;
}
static __device__ __forceinline__ int q3k_scale(uint32_t lo_byte, uint32_t hi_byte, int s) {
    const int lo = s < 8 ? (int)(lo_byte & 15) : (int)(lo_byte >> 4);
    const int hi = (int)((hi_byte >> (2 * (s >> 2))) & 3);
    return (lo | (hi << 4)) - 32;
}
template <>
__device__ __forceinline__ void qfinish<TS_TYPE_Q3_K>(const qraw &r, qgroup &o) {
    uint32_t v[8], h[8];
    const int j = r.j;
    align_words<8>(r.a, r.sha, r.a4, v, 2 * (j & 3));
    align_words<8>(r.b, r.shb, r.a4, h, j);
#pragma unroll
    for (int i = 0; i < 8; i++) o.q[i] = (v[i] & 0x03030303u) | ((h[i] & 0x01010101u) << 2);
    o.scl0 = q3k_scale(r.e[0], r.e[1], 2 * j), o.scl1 = q3k_scale(r.e[2], r.e[3], 2 * j + 1);
    o.mi0 = o.mi1 = 0;
    o.D = h2f(r.e[4]), o.M = 0.0f;
}

/* Q4_K/Q5_K: the bytes of (scale, min) pair j in the 12 packed bytes at 4 (the CPU's ts_k4_get). */
static __device__ __forceinline__ void k4_load(wptr q, int j, qraw &r) {
    r.e[0] = ld8(q + j), r.e[1] = ld8(q + j + 4), r.e[2] = ld8(q + (j >= 4 ? j - 4 : j));
}
static __device__ __forceinline__ void k4_get(const qraw &r, int j, int *sc, int *m) {
    const uint32_t bj = r.e[0], bj4 = r.e[1], bjm4 = r.e[2];
    *sc = j < 4 ? (int)(bj & 63) : (int)((bj4 & 15) | ((bjm4 >> 6) << 4));
    *m = j < 4 ? (int)(bj4 & 63) : (int)((bj4 >> 4) | ((bj >> 6) << 4));
}

/* Q4_K: group j is nibble (j&1) of qs[32(j>>1) ..] (qs at 16); w = d·sc_j·q − dmin·m_j.
 * Q5_K (FIFTH): the same with qs at 48, plus the 5th bit, bit j of qh[l] (qh at 16). */
template <bool FIFTH>
static __device__ __forceinline__ void qload_k45(wptr wr, uint32_t g, qraw &r) {
    r.a4 = wr.a4;
    const wptr p = wr + (g >> 3) * (FIFTH ? 176 : 144);
    const int j = (int)(g & 7);
    raw_words<8>(p + (FIFTH ? 48 : 16) + 32 * (j >> 1), r.a, r.sha);
    if (FIFTH) raw_words<8>(p + 16, r.b, r.shb);
    k4_load(p + 4, j, r);
    r.e[3] = ld16(p), r.e[4] = ld16(p + 2);
    r.j = j;
}
template <bool FIFTH>
static __device__ __forceinline__ void qfinish_k45(const qraw &r, qgroup &o) {
    uint32_t v[8], h[8];
    const int j = r.j;
    align_words<8>(r.a, r.sha, r.a4, v, 4 * (j & 1));
    if (FIFTH) align_words<8>(r.b, r.shb, r.a4, h, j);
#pragma unroll
    for (int i = 0; i < 8; i++) o.q[i] = (v[i] & 0x0F0F0F0Fu) | (FIFTH ? (h[i] & 0x01010101u) << 4 : 0u);
    int sc, m;
    k4_get(r, j, &sc, &m);
    o.scl0 = o.scl1 = sc, o.mi0 = o.mi1 = m;
    o.D = h2f(r.e[3]), o.M = -h2f(r.e[4]);
}
template <> __device__ __forceinline__ void qload<TS_TYPE_Q4_K>(wptr wr, uint32_t g, qraw &r) { qload_k45<false>(wr, g, r); }
template <> __device__ __forceinline__ void qfinish<TS_TYPE_Q4_K>(const qraw &r, qgroup &o) { qfinish_k45<false>(r, o); }
template <> __device__ __forceinline__ void qload<TS_TYPE_Q5_K>(wptr wr, uint32_t g, qraw &r) { qload_k45<true>(wr, g, r); }
template <> __device__ __forceinline__ void qfinish<TS_TYPE_Q5_K>(const qraw &r, qgroup &o) { qfinish_k45<true>(r, o); }

/* Q6_K: group j = (half n = j>>2, part = j&3): nibble (part&2 ? high : low) of
 * ql[64n + 32(part&1) + l], bits 2·part of qh[32n + l] (qh at 128); offset 32; int8 scale
 * of each 16 at 192 + 8n + 2·part + (l >> 4); d at 208. */
template <>
__device__ __forceinline__ void qload<TS_TYPE_Q6_K>(wptr wr, uint32_t g, qraw &r) {
    r.a4 = wr.a4;
    const wptr p = wr + (g >> 3) * 210;
    const int j = (int)(g & 7), n = j >> 2, part = j & 3;
    raw_words<8>(p + 64 * n + 32 * (part & 1), r.a, r.sha);
    raw_words<8>(p + 128 + 32 * n, r.b, r.shb);
    const int s = 192 + 8 * n + 2 * part;
    r.e[0] = ld8(p + s), r.e[1] = ld8(p + s + 1), r.e[2] = ld16(p + 208);
    r.j = j;
}
template <>
__device__ __forceinline__ void qfinish<TS_TYPE_Q6_K>(const qraw &r, qgroup &o) {
    uint32_t v[8], h[8];
    const int part = r.j & 3;
    align_words<8>(r.a, r.sha, r.a4, v, (part & 2) ? 4 : 0);
    align_words<8>(r.b, r.shb, r.a4, h, 2 * part);
#pragma unroll
    for (int i = 0; i < 8; i++) o.q[i] = (v[i] & 0x0F0F0F0Fu) | ((h[i] & 0x03030303u) << 4);
    o.scl0 = (int)(int8_t)r.e[0], o.scl1 = (int)(int8_t)r.e[1];
    o.mi0 = o.mi1 = 0;
    o.D = h2f(r.e[2]), o.M = 0.0f;
}

#endif /* TSC_QUANT_CUH */
