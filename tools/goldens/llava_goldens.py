"""A tiny LLaVA of the real layout and its PyTorch reference, for the LLaVA tests.

- mmproj GGUF in llama.cpp's legacy LLaVA-1.5 layout (FORMATS.md §4.1-4.2): a random CLIP vision
  tower (image 28, patch 14 -> 4 patches + CLS, width 32, 2 blocks, 4 heads, QuickGELU) and the
  `mlp` projector mm.0 -> GELU -> mm.2 whose output width is stories260K's n_embd (64). As in the
  files in circulation, fc1 is stored as ffn_down and fc2 as ffn_up (the loader must detect it by
  shape), 4-D and 2-D weights are F16, the rest F32.
- the reference (float64) of the LLaVA-1.5 forward (FORMATS.md §4.3): all stored blocks run
  (hidden_states[-2] of the original tower), no post-LN, CLS dropped, projector with exact (erf)
  GELU; then stories260K's logits for BOS + "USER:" + image embeddings + text, through the same
  LLaMA forward as llama_goldens.py.

Writes java-api/src/test/resources/goldens/llava/{tiny-mmproj.gguf, tiny-llava.safetensors}.
Run from the repository root: /usr/bin/python3 tools/goldens/llava_goldens.py
"""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import gguf_read  # noqa: E402
import gguf_write  # noqa: E402
import llama_goldens  # noqa: E402
import st_io  # noqa: E402

OUT = "java-api/src/test/resources/goldens/llava"
IMAGE, PATCH, WIDTH, FFN, HEADS, BLOCKS, HIDDEN, N_EMBD = 28, 14, 32, 64, 4, 2, 96, 64
MEAN = [0.48145466, 0.4578275, 0.40821073]
STD = [0.26862954, 0.26130258, 0.27577711]


def rnd(*shape, scale=0.2):
    return torch.randn(*shape, dtype=torch.float64) * scale


def f16(t):
    """The values the F16 file holds, back in float64 for the reference."""
    return t.half().double()


def vision_weights():
    g = {}
    g["v.class_embd"] = rnd(WIDTH)
    g["v.patch_embd.weight"] = f16(rnd(WIDTH, 3, PATCH, PATCH, scale=0.05))
    n_pos = (IMAGE // PATCH) ** 2 + 1
    g["v.position_embd.weight"] = f16(rnd(n_pos, WIDTH))
    g["v.pre_ln.weight"] = 1 + rnd(WIDTH, scale=0.1)
    g["v.pre_ln.bias"] = rnd(WIDTH, scale=0.1)
    for i in range(BLOCKS):
        b = f"v.blk.{i}."
        for n in ("attn_q", "attn_k", "attn_v", "attn_out"):
            g[b + n + ".weight"] = f16(rnd(WIDTH, WIDTH))
            g[b + n + ".bias"] = rnd(WIDTH, scale=0.05)
        for n in ("ln1", "ln2"):
            g[b + n + ".weight"] = 1 + rnd(WIDTH, scale=0.1)
            g[b + n + ".bias"] = rnd(WIDTH, scale=0.1)
        # Legacy naming: fc1 (WIDTH -> FFN) under ffn_down, fc2 (FFN -> WIDTH) under ffn_up.
        g[b + "ffn_down.weight"] = f16(rnd(FFN, WIDTH))
        g[b + "ffn_down.bias"] = rnd(FFN, scale=0.05)
        g[b + "ffn_up.weight"] = f16(rnd(WIDTH, FFN))
        g[b + "ffn_up.bias"] = rnd(WIDTH, scale=0.05)
    g["mm.0.weight"] = f16(rnd(HIDDEN, WIDTH))
    g["mm.0.bias"] = rnd(HIDDEN, scale=0.05)
    g["mm.2.weight"] = f16(rnd(N_EMBD, HIDDEN))
    g["mm.2.bias"] = rnd(N_EMBD, scale=0.05)
    return g


def layer_norm(x, w, b, eps=1e-5):
    m = x.mean(-1, keepdim=True)
    v = ((x - m) ** 2).mean(-1, keepdim=True)
    return (x - m) / torch.sqrt(v + eps) * w + b


def encode_image(g, pixels):
    """pixels: [3, IMAGE, IMAGE] normalised -> [patches, N_EMBD] image embeddings."""
    patches = torch.nn.functional.conv2d(pixels[None], g["v.patch_embd.weight"], stride=PATCH)[0]  # [W, 2, 2]
    x = patches.flatten(1).T  # raster order, y outer
    x = torch.cat([g["v.class_embd"][None], x]) + g["v.position_embd.weight"]
    x = layer_norm(x, g["v.pre_ln.weight"], g["v.pre_ln.bias"])
    n, hd = x.shape[0], WIDTH // HEADS
    for i in range(BLOCKS):
        b = f"v.blk.{i}."
        h = layer_norm(x, g[b + "ln1.weight"], g[b + "ln1.bias"])
        q, k, v = (h @ g[b + n_ + ".weight"].T + g[b + n_ + ".bias"] for n_ in ("attn_q", "attn_k", "attn_v"))
        q, k, v = (t.reshape(n, HEADS, hd).transpose(0, 1) for t in (q, k, v))
        a = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(hd), -1) @ v
        x = x + a.transpose(0, 1).reshape(n, WIDTH) @ g[b + "attn_out.weight"].T + g[b + "attn_out.bias"]
        h = layer_norm(x, g[b + "ln2.weight"], g[b + "ln2.bias"])
        h = h @ g[b + "ffn_down.weight"].T + g[b + "ffn_down.bias"]  # fc1
        h = h * torch.sigmoid(1.702 * h)  # quick_gelu
        x = x + h @ g[b + "ffn_up.weight"].T + g[b + "ffn_up.bias"]  # fc2
    f = x[1:]  # drop CLS
    h = torch.nn.functional.gelu(f @ g["mm.0.weight"].T + g["mm.0.bias"])
    return h @ g["mm.2.weight"].T + g["mm.2.bias"]


def llama_forward_embeddings(meta, t, embeddings):
    """llama_goldens.forward from input embeddings [n, d]: they are appended to the token table
    under new ids, which the forward then looks up; the LM head stays the file's."""
    table = t["token_embd.weight"]
    t = dict(t)
    t.setdefault("output.weight", table)
    t["token_embd.weight"] = torch.cat([table.double(), embeddings])
    return llama_goldens.forward(meta, t, list(range(table.shape[0], table.shape[0] + embeddings.shape[0])))


def main():
    torch.manual_seed(1234)
    g = vision_weights()
    os.makedirs(OUT, exist_ok=True)
    meta = {
        "general.architecture": "clip",
        "general.name": "tiny-llava-mmproj",
        "general.description": "random LLaVA-1.5-layout image encoder for Tessera's tests",
        "general.file_type": 1,
        "clip.has_text_encoder": False,
        "clip.has_vision_encoder": True,
        "clip.has_llava_projector": True,
        "clip.projector_type": "mlp",
        "clip.vision.image_size": IMAGE,
        "clip.vision.patch_size": PATCH,
        "clip.vision.embedding_length": WIDTH,
        "clip.vision.feed_forward_length": FFN,
        "clip.vision.projection_dim": WIDTH,
        "clip.vision.attention.head_count": HEADS,
        "clip.vision.attention.layer_norm_epsilon": 1e-5,
        "clip.vision.block_count": BLOCKS,
        "clip.vision.image_mean": MEAN,
        "clip.vision.image_std": STD,
        "clip.use_gelu": False,
    }
    tensors = []
    for name, t in g.items():
        half = t.dim() >= 2 and not name.endswith(".bias") and name != "v.class_embd"
        tensors.append((name, t.half() if half else t.float()))
    gguf_write.write(os.path.join(OUT, "tiny-mmproj.gguf"), meta, tensors)

    pixels = torch.rand(3, IMAGE, IMAGE, dtype=torch.float64) * 2 - 1
    emb = encode_image(g, pixels)
    lmeta, lt = gguf_read.read(llama_goldens.MODEL)
    vocab = lmeta["tokenizer.ggml.tokens"]
    index = {p: i for i, p in enumerate(vocab)}
    def pieces(words):
        ids = []
        for w in words:
            ids.extend([index[w]] if w in index else [index[c] for c in w if c in index])
        return ids
    before = [1] + pieces(["▁U", "S", "E", "R", ":"])
    after = pieces(["▁What", "▁is", "▁it", "?"])
    table = lt["token_embd.weight"].double()
    seq = torch.cat([table[before], emb, table[after]])
    logits = llama_forward_embeddings(lmeta, lt, seq)
    st_io.save(os.path.join(OUT, "tiny-llava.safetensors"), {
        "pixels": pixels.float(),
        "image_embeddings": emb.float(),
        "tokens_before": torch.tensor(before, dtype=torch.int32),
        "tokens_after": torch.tensor(after, dtype=torch.int32),
        "logits": logits.float(),
    }, {"generator": "tools/goldens/llava_goldens.py (PyTorch float64)", "language_model": llama_goldens.MODEL})
    print(f"image embeddings {tuple(emb.shape)}, sequence {seq.shape[0]}, logits {tuple(logits.shape)}, "
          f"before {before}, after {after}")


if __name__ == "__main__":
    main()
