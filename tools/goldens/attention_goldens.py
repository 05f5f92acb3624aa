"""Goldens for dev.tessera.ops.Attention: small inputs and PyTorch outputs.

Reference: explicit softmax(Q·Kᵀ·scale + mask)·V in float64 (from the exact F32/F16 input
values), stored as float32. Causal: query i sits at position kv_offset + i and sees keys
j <= kv_offset + i. A row that sees no key is defined as zeros (what Tessera returns).

Each file holds q [H, Lq, d] F32, k and v [Hkv, Lk, d] (F32 or F16), optionally mask
[Lq, Lk] F32, and out [H, Lq, d] F32; metadata: scale, causal, kv_offset, layout. With
layout "lhd" q/k/v/out are stored as [L, heads, d] (as models keep them) and the test
passes transposed views. Run: /usr/bin/python3 tools/goldens/attention_goldens.py
"""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import st_io  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "java-api", "src", "test", "resources", "goldens", "attention")


def reference(q, k, v, scale, causal, kv_offset, mask):
    h, lq, d = q.shape
    hkv, lk, _ = k.shape
    q64, k64, v64 = q.double(), k.double(), v.double()
    rep = h // hkv
    k64 = k64.repeat_interleave(rep, dim=0)
    v64 = v64.repeat_interleave(rep, dim=0)
    s = torch.matmul(q64, k64.transpose(1, 2)) * float(torch.tensor(scale, dtype=torch.float32))
    if mask is not None:
        s = s + mask.double()
    if causal:
        i = torch.arange(lq).unsqueeze(1)
        j = torch.arange(lk).unsqueeze(0)
        s = s.masked_fill(j > kv_offset + i, float("-inf"))
    if lk == 0:
        return torch.zeros(h, lq, d, dtype=torch.float32)
    m = s.max(dim=-1, keepdim=True).values
    seen = torch.isfinite(m)
    p = torch.exp(s - torch.where(seen, m, torch.zeros_like(m)))
    p = torch.where(seen, p, torch.zeros_like(p))
    denom = p.sum(dim=-1, keepdim=True)
    o = torch.matmul(p, v64) / torch.where(denom > 0, denom, torch.ones_like(denom))
    return o.float()


def case(name, gen, h, hkv, lq, lk, d, kv_dtype=torch.float32, causal=False, kv_offset=0, mask=None, layout="hld",
         hidden_rows=()):
    q = torch.randn(h, lq, d, generator=gen)
    k = torch.randn(hkv, lk, d, generator=gen).to(kv_dtype)
    v = torch.randn(hkv, lk, d, generator=gen).to(kv_dtype)
    m = None
    if mask == "random":
        m = torch.randn(lq, lk, generator=gen)
        hide = torch.rand(lq, lk, generator=gen) < 0.2
        m = m.masked_fill(hide, float("-inf"))
        for r in hidden_rows:
            m[r, :] = float("-inf")
    elif mask == "padding":  # key padding: the last quarter of the keys hidden for every query
        m = torch.zeros(lq, lk)
        m[:, lk - lk // 4:] = float("-inf")
    scale = 1.0 / math.sqrt(d)
    out = reference(q, k.float(), v.float(), scale, causal, kv_offset, m)
    tensors = {"q": q, "k": k, "v": v, "out": out}
    if layout == "lhd":
        tensors = {n: t.transpose(0, 1).contiguous() for n, t in tensors.items()}
    if m is not None:
        tensors["mask"] = m
    st_io.save(os.path.join(OUT, name + ".safetensors"), tensors,
               {"scale": repr(float(torch.tensor(scale, dtype=torch.float32))), "causal": int(causal),
                "kv_offset": kv_offset, "layout": layout})


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(1234)
    case("odd_7x13_d32", g, 2, 2, 7, 13, 32)
    case("decode_1x33_d64_causal", g, 4, 4, 1, 33, 64, causal=True, kv_offset=32)
    case("gqa_8h_2kv_d64", g, 8, 2, 9, 20, 64)
    case("mqa_4h_1kv_d40", g, 4, 1, 5, 17, 40)
    case("causal_offset_d80", g, 2, 2, 6, 10, 80, causal=True, kv_offset=4)
    case("causal_prefill_50_d96", g, 2, 2, 50, 50, 96, causal=True, kv_offset=0)
    case("causal_negative_offset_d32", g, 2, 2, 6, 9, 32, causal=True, kv_offset=-3)
    case("mask_hidden_row_d128", g, 2, 2, 8, 11, 128, mask="random", hidden_rows=(3,))
    case("f16_kv_d160", g, 2, 2, 4, 70, 160, kv_dtype=torch.float16)
    case("f16_kv_gqa_mask_d64", g, 4, 2, 13, 81, 64, kv_dtype=torch.float16, mask="random", hidden_rows=(0, 12))
    case("scalar_only_d20", g, 2, 1, 5, 9, 20, causal=True, kv_offset=3)
    case("max_d256", g, 2, 2, 3, 7, 256, mask="random")
    case("empty_keys_d32", g, 2, 2, 3, 0, 32)
    case("layout_lhd_d64", g, 4, 2, 11, 11, 64, layout="lhd", causal=True, kv_offset=0)
    # The benchmark shapes, scaled down: CLIP ViT self-attention, SD self and cross
    # attention (cross: 77 text tokens, padding-masked), LLaMA decode over an F16 cache.
    case("clip_small_65_h4_d64", g, 4, 4, 65, 65, 64, layout="lhd")
    case("sd_self_small_100_h2_d40", g, 2, 2, 100, 100, 40)
    case("sd_cross_small_100x77_h2_d40", g, 2, 2, 100, 77, 40, mask="padding")
    case("llama_decode_small_1x130_h8_d128_f16", g, 8, 8, 1, 130, 128, kv_dtype=torch.float16, causal=True, kv_offset=129)
    case("llama_prefill_chunk_5x130_h8_kv2_d128_f16", g, 8, 2, 5, 130, 128, kv_dtype=torch.float16, causal=True, kv_offset=125)


if __name__ == "__main__":
    main()
