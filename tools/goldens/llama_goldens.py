"""Reference logits of the LLaMA forward pass for models/stories260K.gguf, computed in float64 by
PyTorch from the file's own F32 weights, following the math of FORMATS.md §3.2-3.3 (llama.cpp's
"normal" RoPE on adjacent pairs, grouped causal attention, SwiGLU).

Writes java-api/src/test/resources/goldens/llama/stories260K.safetensors with
  tokens  I32 [n]       the input token ids (BOS + a TinyStories-like prompt, ids from the file's vocab)
  logits  F32 [n, vocab] the logits at every position
Run from the repository root: /usr/bin/python3 tools/goldens/llama_goldens.py
"""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import gguf_read  # noqa: E402
import st_io  # noqa: E402

MODEL = "models/stories260K.gguf"
OUT = "java-api/src/test/resources/goldens/llama/stories260K.safetensors"


def rope(x, pos, n_rot, base):
    # x [n, heads, hd]; rotate pairs (2i, 2i+1) of the first n_rot dims by pos * base^(-2i/n_rot).
    x = x.clone()
    i = torch.arange(n_rot // 2, dtype=torch.float64)
    theta = pos[:, None].double() * base ** (-2 * i / n_rot)  # [n, n_rot/2]
    cos, sin = torch.cos(theta)[:, None, :], torch.sin(theta)[:, None, :]
    x0 = x[..., 0:n_rot:2].clone()
    x1 = x[..., 1:n_rot:2].clone()
    x[..., 0:n_rot:2] = x0 * cos - x1 * sin
    x[..., 1:n_rot:2] = x0 * sin + x1 * cos
    return x


def rms(x, w, eps):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * w


def forward(meta, t, tokens):
    p = "llama."
    d = meta[p + "embedding_length"]
    n_layer = meta[p + "block_count"]
    nh = meta[p + "attention.head_count"]
    nkv = meta.get(p + "attention.head_count_kv", nh)
    hd = d // nh
    n_rot = meta.get(p + "rope.dimension_count", hd)
    base = meta.get(p + "rope.freq_base", 10000.0)
    eps = meta[p + "attention.layer_norm_rms_epsilon"]
    W = {k: v.double() for k, v in t.items()}
    n = len(tokens)
    pos = torch.arange(n)
    x = W["token_embd.weight"][torch.tensor(tokens)]
    mask = torch.full((n, n), float("-inf"), dtype=torch.float64).triu(1)
    for l in range(n_layer):
        b = f"blk.{l}."
        h = rms(x, W[b + "attn_norm.weight"], eps)
        q = (h @ W[b + "attn_q.weight"].T).reshape(n, nh, hd)
        k = (h @ W[b + "attn_k.weight"].T).reshape(n, nkv, hd)
        v = (h @ W[b + "attn_v.weight"].T).reshape(n, nkv, hd)
        q, k = rope(q, pos, n_rot, base), rope(k, pos, n_rot, base)
        rep = nh // nkv
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        s = torch.einsum("qhd,khd->hqk", q, k) / math.sqrt(hd) + mask
        o = torch.einsum("hqk,khd->qhd", torch.softmax(s, -1), v).reshape(n, nh * hd)
        x = x + o @ W[b + "attn_output.weight"].T
        m = rms(x, W[b + "ffn_norm.weight"], eps)
        g = m @ W[b + "ffn_gate.weight"].T
        u = m @ W[b + "ffn_up.weight"].T
        x = x + (torch.nn.functional.silu(g) * u) @ W[b + "ffn_down.weight"].T
    x = rms(x, W["output_norm.weight"], eps)
    out = W.get("output.weight", W["token_embd.weight"])
    return x @ out.T


def main():
    meta, t = gguf_read.read(MODEL)
    vocab = meta["tokenizer.ggml.tokens"]
    index = {piece: i for i, piece in enumerate(vocab)}
    # BOS, then pieces of "Once upon a time, there was a little girl" that exist in this 512-token vocab.
    tokens = [meta.get("tokenizer.ggml.bos_token_id", 1)]
    for word in "▁Once ▁upon ▁a ▁time , ▁there ▁was ▁a ▁little ▁girl".split():
        if word in index:
            tokens.append(index[word])
        else:  # fall back to single characters, which a byte-fallback vocab always has
            tokens.extend(index[ch] for ch in word if ch in index)
    logits = forward(meta, t, tokens)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    st_io.save(OUT, {"tokens": torch.tensor(tokens, dtype=torch.int32), "logits": logits.float()},
               {"source": MODEL, "generator": "tools/goldens/llama_goldens.py (PyTorch float64)"})
    print(f"{OUT}: {len(tokens)} tokens {tokens}, logits {tuple(logits.shape)}, greedy next {int(logits[-1].argmax())}")


if __name__ == "__main__":
    main()
