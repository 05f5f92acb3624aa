#!/usr/bin/python3
"""Golden inputs and PyTorch outputs for dev.tessera.ops.Nn (NnGoldenTest).

Run from the repository root with Debian's python3 + python3-torch:
    /usr/bin/python3 tools/goldens/ops_goldens.py
Writes java-api/src/test/resources/goldens/ops/*.safetensors. Shapes follow CLIP-L/14 (hidden
1024, MLP 4096), LLaMA-7B (hidden 4096, head_dim 128, FFN 11008, RMSNorm eps 1e-5/1e-6) and
SD1.5 UNet blocks (GroupNorm 32 on 320/640/1280 channels), with token counts and spatial sizes
scaled down so the files stay small. Odd sizes and batch > 1 on purpose; non-contiguous inputs
are made on the Java side from these tensors (row-padded copies, slices, transposes).

Every reference below is written out with plain torch ops (no model code), in float32 as the
models run, except RoPE whose angles are computed in float64 (see rope_ref).
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402

OUT = os.path.join("java-api", "src", "test", "resources", "goldens", "ops")
G = torch.Generator().manual_seed(20261126)


def randn(*shape, scale=1.0):
    return torch.randn(*shape, generator=G, dtype=torch.float32) * scale


def norms():
    t = {}
    # CLIP-L/14 text encoder LayerNorm: hidden 1024, eps 1e-5; batch 2, 7 tokens.
    x = randn(2, 7, 1024, scale=3.0) + 0.5
    w, b = randn(1024) * 0.1 + 1.0, randn(1024) * 0.1
    t["ln_x"], t["ln_w"], t["ln_b"] = x, w, b
    t["ln_y"] = F.layer_norm(x, (1024,), w, b, eps=1e-5)
    t["ln_plain_y"] = F.layer_norm(x, (1024,), None, None, eps=1e-5)
    # LLaMA-7B RMSNorm: hidden 4096, 3 tokens, eps 1e-5 (LLaMA-2 GGUF) and 1e-6 (LLaMA-1).
    x = randn(3, 4096)
    w = randn(4096) * 0.1 + 1.0
    t["rms_x"], t["rms_w"] = x, w
    for name, eps in (("rms_y_eps5", 1e-5), ("rms_y_eps6", 1e-6)):
        t[name] = w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))
    t["rms_plain_y"] = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)
    # Odd row length, rows of 77 (CLIP context) x 33.
    x = randn(77, 33, scale=2.0)
    t["rms_odd_x"] = x
    t["rms_odd_y"] = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5)
    # SD1.5 UNet GroupNorm(32, C, eps=1e-5) on 320/640/1280 channels (spatial scaled down),
    # and the VAE's eps 1e-6.
    for c, shape, eps in ((320, (2, 320, 8, 8), 1e-5), (640, (1, 640, 4, 4), 1e-5), (1280, (1, 1280, 2, 3), 1e-6)):
        x = randn(*shape, scale=2.0) + 1.0
        w, b = randn(c) * 0.1 + 1.0, randn(c) * 0.1
        t[f"gn{c}_x"], t[f"gn{c}_w"], t[f"gn{c}_b"] = x, w, b
        t[f"gn{c}_y"] = F.group_norm(x, 32, w, b, eps=eps)
    return t


def activations():
    t = {}
    x = randn(5, 333, scale=4.0)  # odd length, values out to the saturated ends
    t["x"] = x
    t["gelu"] = F.gelu(x)
    t["gelu_tanh"] = F.gelu(x, approximate="tanh")
    t["quick_gelu"] = x * torch.sigmoid(1.702 * x)
    t["silu"] = F.silu(x)
    # F16 in/out: computed in float32 and rounded once, as Tessera does.
    xh = x.half()
    t["x_f16"] = xh
    t["gelu_f16"] = F.gelu(xh.float()).half()
    t["silu_f16"] = F.silu(xh.float()).half()
    # CLIP-L MLP: quick_gelu on the 4096-wide intermediate, 3 tokens.
    x = randn(3, 4096, scale=2.0)
    t["clip_x"], t["clip_quick_gelu"] = x, x * torch.sigmoid(1.702 * x)
    # LLaMA-7B FFN: silu(gate_proj x) * up_proj x, FFN width 11008, 2 tokens.
    g, u = randn(2, 11008, scale=2.0), randn(2, 11008)
    t["swiglu_gate"], t["swiglu_up"] = g, u
    t["swiglu_y"] = F.silu(g) * u
    # diffusers GEGLU (SD1.5 transformer FF, inner 1280 scaled to 320): proj output [.., 2n],
    # hidden_states, gate = proj.chunk(2, dim=-1); hidden_states * gelu(gate).
    proj = randn(2, 5, 640, scale=2.0)
    hidden, gate = proj.chunk(2, dim=-1)
    t["geglu_proj"], t["geglu_y"] = proj, hidden * F.gelu(gate)
    # F16 GLU.
    gh, uh = g[:, :1000].half(), u[:, :1000].half()
    t["swiglu_gate_f16"], t["swiglu_up_f16"] = gh, uh
    t["swiglu_y_f16"] = (F.silu(gh.float()) * uh.float()).half()
    return t


def softmax():
    t = {}
    # Attention scores [heads 4, q 7, k 9] of a decode with 2 cached tokens: causal mask with
    # -inf where key > query + 2; scale 1/sqrt(64).
    s = randn(4, 7, 9, scale=3.0)
    mask = torch.zeros(7, 9)
    for q in range(7):
        mask[q, q + 3:] = float("-inf")
    t["scores"], t["mask"] = s, mask
    t["y_masked"] = torch.softmax(s * 0.125 + mask, dim=-1)
    # Large logits (stability) with no mask, odd length, and an additive finite mask [9].
    big = randn(3, 1001, scale=40.0)
    t["big"], t["y_big"] = big, torch.softmax(big, dim=-1)
    addm = randn(9)
    t["addmask"], t["y_addmask"] = addm, torch.softmax(s * 2.0 + addm, dim=-1)
    return t


def rope_ref(x, pos, n_dims, base, neox):
    """x [tokens, heads, head_dim]; pair i of the first n_dims rotated by pos * base^(-2i/n_dims).
    NORMAL (llama.cpp mode 0, GGUF LLaMA): pairs (x[2i], x[2i+1]). NEOX: (x[i], x[i + n_dims/2])."""
    half = n_dims // 2
    i = torch.arange(half, dtype=torch.float64)
    theta = pos.double()[:, None] * base ** (-2.0 * i / n_dims)  # [tokens, half]
    cos, sin = torch.cos(theta)[:, None, :], torch.sin(theta)[:, None, :]
    xd = x.double()
    y = xd.clone()
    if neox:
        a, b = xd[..., :half], xd[..., half:n_dims]
        y[..., :half] = a * cos - b * sin
        y[..., half:n_dims] = a * sin + b * cos
    else:
        a, b = xd[..., 0:n_dims:2], xd[..., 1:n_dims:2]
        y[..., 0:n_dims:2] = a * cos - b * sin
        y[..., 1:n_dims:2] = a * sin + b * cos
    return y.float()


def rope():
    t = {}
    # LLaMA-7B: 32 heads of 128 (scaled to 3 heads), 5 tokens at KV positions 7..11, base 10000.
    x = randn(5, 3, 128)
    pos = torch.tensor([7, 8, 9, 10, 11], dtype=torch.int32)
    t["x"], t["pos"] = x, pos
    t["norm"] = rope_ref(x, pos, 128, 10000.0, False)
    t["neox"] = rope_ref(x, pos, 128, 10000.0, True)
    # Partial rotary (n_dims 32 of head_dim 64), large positions, base 500000 (LLaMA-3).
    x = randn(4, 2, 64)
    pos = torch.tensor([0, 1, 4095, 100000], dtype=torch.int32)
    t["px"], t["ppos"] = x, pos
    t["pnorm"] = rope_ref(x, pos, 32, 500000.0, False)
    t["pneox"] = rope_ref(x, pos, 32, 500000.0, True)
    return t


def get_timestep_embedding(timesteps, embedding_dim, flip_sin_to_cos, downscale_freq_shift, scale=1.0, max_period=10000):
    """diffusers.models.embeddings.get_timestep_embedding semantics, float32."""
    half = embedding_dim // 2
    exponent = -math.log(max_period) * torch.arange(0, half, dtype=torch.float32)
    exponent = exponent / (half - downscale_freq_shift)
    emb = timesteps[:, None].float() * torch.exp(exponent)[None, :]
    emb = scale * emb
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
    if flip_sin_to_cos:
        emb = torch.cat([emb[:, half:], emb[:, :half]], dim=-1)
    if embedding_dim % 2 == 1:
        emb = F.pad(emb, (0, 1, 0, 0))
    return emb


def misc():
    t = {}
    # Nearest 2x upsampling (SD1.5 Upsample2D before its conv).
    x = randn(2, 3, 5, 7)
    t["up_x"], t["up_y"] = x, F.interpolate(x, scale_factor=2.0, mode="nearest")
    # Broadcasting add/mul.
    a, b = randn(2, 3, 4, 5), randn(3, 1, 5)
    t["add_a"], t["add_b"], t["add_y"] = a, b, a + b
    a2t, b2 = randn(5, 4), randn(5)  # a2t is stored transposed: Java passes a2t.T, a strided view
    t["add2_at"], t["add2_b"], t["add2_y"] = a2t, b2, a2t.t() + b2
    m1, m2 = randn(2, 1, 4, 1), randn(3, 1, 6)
    t["mul_a"], t["mul_b"], t["mul_y"] = m1, m2, m1 * m2
    # Scale: SD's VAE latent scaling and a 2x - 1 image rescale.
    x = randn(4, 33)
    t["scale_x"], t["scale_vae"], t["scale_img"] = x, x * 0.18215, x * 2.0 + -1.0
    # Concat along channels (UNet skip connections) and a head permute.
    c1, c2 = randn(2, 3, 4), randn(2, 5, 4)
    t["cat_a"], t["cat_b"], t["cat_y"] = c1, c2, torch.cat([c1, c2], dim=1)
    p = randn(2, 3, 4, 5)
    t["perm_x"], t["perm_y"] = p, p.permute(0, 2, 1, 3).contiguous()
    # Embedding lookup from F32/F16/BF16 tables (CLIP token embedding scaled down: 50 x 64).
    table = randn(50, 64)
    ids = torch.tensor([[0, 49, 7, 7, 13, 2, 31], [5, 5, 0, 48, 1, 2, 3]], dtype=torch.int32)
    t["emb_table"], t["emb_ids"] = table, ids
    t["emb_y"] = F.embedding(ids.long(), table)
    t["emb_table_f16"], t["emb_y_f16"] = table.half(), F.embedding(ids.long(), table.half()).float()
    t["emb_table_bf16"], t["emb_y_bf16"] = table.bfloat16(), F.embedding(ids.long(), table.bfloat16()).float()
    # Timesteps: SD1.5 (dim 320, flip_sin_to_cos=True, downscale_freq_shift=0) and diffusers'
    # defaults (flip False, shift 1) on an odd dim.
    ts = torch.tensor([0.0, 1.0, 500.0, 999.0, 981.5])
    t["ts"] = ts
    t["ts_sd15"] = get_timestep_embedding(ts, 320, True, 0)
    t["ts_odd"] = get_timestep_embedding(ts, 7, False, 1)
    return t


def main():
    os.makedirs(OUT, exist_ok=True)
    meta = {"generator": "tools/goldens/ops_goldens.py", "torch": torch.__version__}
    for name, fn in (("norms", norms), ("activations", activations), ("softmax", softmax), ("rope", rope), ("misc", misc)):
        path = os.path.join(OUT, name + ".safetensors")
        st_io.save(path, fn(), meta)
        print(path, os.path.getsize(path))


if __name__ == "__main__":
    main()
