"""A tiny random CLIP of the real architecture and its reference forward pass.

No `transformers` package is available here, so the forward pass below is written from the
published architecture (OpenAI CLIP / Hugging Face CLIPModel, FORMATS.md section 5.1), in float64:

  vision: conv patch embedding (no bias) -> [class token, patches] -> + position embedding ->
          pre_layrnorm -> pre-LN encoder blocks -> post_layernorm on the class token ->
          visual_projection (no bias)
  text:   token + position embedding -> pre-LN encoder blocks with a causal mask ->
          final_layer_norm -> hidden state at the end token -> text_projection (no bias)
  block:  x += out_proj(attn(layer_norm1(x))); x += fc2(act(fc1(layer_norm2(x))))

hidden_states[i] follows Hugging Face: index 0 is the encoder input (for vision, after
pre_layrnorm), index i the output of block i-1.

Tiny sizes (all matrix row lengths multiples of 32 so Q8_0 can quantize them):
  vision: 32x32 images, patch 8 (16 patches + class = 17 tokens), width 64, 2 layers, 4 heads,
          MLP 128, quick_gelu
  text:   vocab 1000 (reduced: a 49408-row table would make the goldens ~12 MB), context 77,
          width 64, 2 layers, 4 heads, MLP 128, gelu (exact erf GELU, to cover the other activation)
  projection_dim 32; bos 998, eos 999 (so pooling takes the first eos, as HF does when
  eos_token_id != 2).

Writes java-api/src/test/resources/goldens/clip/tiny/{config.json, model.safetensors} (HF layout,
F32) and .../clip/tiny_reference.safetensors with
  pixels [2,3,32,32], tokens I32 [3,77],
  vision.hidden.{0,1,2} [2,17,64], vision.pooled [2,64], vision.embeds [2,32],
  text.hidden.{0,1,2} [3,77,64], text.last [3,77,64], text.pooled [3,64], text.embeds [3,32],
  logit_scale []
Run from the repository root: /usr/bin/python3 tools/goldens/clip_goldens.py
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import st_io  # noqa: E402

OUT_DIR = "java-api/src/test/resources/goldens/clip/tiny"
OUT_REF = "java-api/src/test/resources/goldens/clip/tiny_reference.safetensors"

V = dict(image_size=32, patch_size=8, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
         intermediate_size=128, hidden_act="quick_gelu", layer_norm_eps=1e-5, num_channels=3)
T = dict(vocab_size=1000, max_position_embeddings=77, hidden_size=64, num_hidden_layers=2,
         num_attention_heads=4, intermediate_size=128, hidden_act="gelu", layer_norm_eps=1e-5,
         bos_token_id=998, eos_token_id=999, pad_token_id=0)
PROJ = 32
LOGIT_SCALE = math.log(1 / 0.07)

g = torch.Generator().manual_seed(1234)


def randn(*shape, std=1.0):
    return torch.randn(*shape, generator=g, dtype=torch.float64) * std


def linear(w, out_dim, in_dim, prefix, bias=True):
    w[prefix + ".weight"] = randn(out_dim, in_dim, std=1 / math.sqrt(in_dim))
    if bias:
        w[prefix + ".bias"] = randn(out_dim, std=0.1)


def norm(w, dim, prefix):
    w[prefix + ".weight"] = 1 + randn(dim, std=0.1)
    w[prefix + ".bias"] = randn(dim, std=0.1)


def encoder(w, prefix, c):
    d, f = c["hidden_size"], c["intermediate_size"]
    for i in range(c["num_hidden_layers"]):
        p = f"{prefix}.encoder.layers.{i}"
        for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
            linear(w, d, d, f"{p}.self_attn.{name}")
        norm(w, d, p + ".layer_norm1")
        norm(w, d, p + ".layer_norm2")
        linear(w, f, d, p + ".mlp.fc1")
        linear(w, d, f, p + ".mlp.fc2")


def make_weights():
    w = {}
    vd, td = V["hidden_size"], T["hidden_size"]
    n_pos = (V["image_size"] // V["patch_size"]) ** 2 + 1
    w["vision_model.embeddings.class_embedding"] = randn(vd, std=0.5)
    w["vision_model.embeddings.patch_embedding.weight"] = randn(vd, 3, V["patch_size"], V["patch_size"],
                                                                std=1 / math.sqrt(3 * V["patch_size"] ** 2))
    w["vision_model.embeddings.position_embedding.weight"] = randn(n_pos, vd, std=0.5)
    norm(w, vd, "vision_model.pre_layrnorm")
    encoder(w, "vision_model", V)
    norm(w, vd, "vision_model.post_layernorm")
    linear(w, PROJ, vd, "visual_projection", bias=False)
    w["text_model.embeddings.token_embedding.weight"] = randn(T["vocab_size"], td, std=0.5)
    w["text_model.embeddings.position_embedding.weight"] = randn(T["max_position_embeddings"], td, std=0.5)
    encoder(w, "text_model", T)
    norm(w, td, "text_model.final_layer_norm")
    linear(w, PROJ, td, "text_projection", bias=False)
    w["logit_scale"] = torch.tensor(LOGIT_SCALE, dtype=torch.float64)
    # The model file holds F32 values; compute the reference from exactly those values.
    return {k: v.float().double() for k, v in w.items()}


def layer_norm(x, w, p, eps):
    return torch.nn.functional.layer_norm(x, x.shape[-1:], w[p + ".weight"], w[p + ".bias"], eps)


def lin(x, w, p, bias=True):
    y = x @ w[p + ".weight"].T
    return y + w[p + ".bias"] if bias else y


def act(x, name):
    if name == "quick_gelu":
        return x * torch.sigmoid(1.702 * x)
    if name == "gelu":
        return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))
    raise ValueError(name)


def encode(x, w, prefix, c, causal):
    n, length, d = x.shape
    h = c["num_attention_heads"]
    hd = d // h
    mask = torch.zeros(length, length, dtype=torch.float64)
    if causal:
        mask = torch.triu(torch.full((length, length), float("-inf"), dtype=torch.float64), 1)
    hidden = [x]
    for i in range(c["num_hidden_layers"]):
        p = f"{prefix}.encoder.layers.{i}"
        y = layer_norm(x, w, p + ".layer_norm1", c["layer_norm_eps"])
        q = lin(y, w, p + ".self_attn.q_proj").view(n, length, h, hd).transpose(1, 2)
        k = lin(y, w, p + ".self_attn.k_proj").view(n, length, h, hd).transpose(1, 2)
        v = lin(y, w, p + ".self_attn.v_proj").view(n, length, h, hd).transpose(1, 2)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(hd) + mask
        o = (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(n, length, d)
        x = x + lin(o, w, p + ".self_attn.out_proj")
        y = layer_norm(x, w, p + ".layer_norm2", c["layer_norm_eps"])
        x = x + lin(act(lin(y, w, p + ".mlp.fc1"), c["hidden_act"]), w, p + ".mlp.fc2")
        hidden.append(x)
    return hidden


def vision_forward(w, pixels):
    p = V["patch_size"]
    patches = torch.nn.functional.conv2d(pixels, w["vision_model.embeddings.patch_embedding.weight"], stride=p)
    patches = patches.flatten(2).transpose(1, 2)  # [n, grid*grid, d], raster order
    cls = w["vision_model.embeddings.class_embedding"].expand(pixels.shape[0], 1, -1)
    x = torch.cat([cls, patches], 1) + w["vision_model.embeddings.position_embedding.weight"]
    x = layer_norm(x, w, "vision_model.pre_layrnorm", V["layer_norm_eps"])
    hidden = encode(x, w, "vision_model", V, causal=False)
    pooled = layer_norm(hidden[-1][:, 0, :], w, "vision_model.post_layernorm", V["layer_norm_eps"])
    return hidden, pooled, lin(pooled, w, "visual_projection", bias=False)


def text_forward(w, tokens):
    x = w["text_model.embeddings.token_embedding.weight"][tokens] + w["text_model.embeddings.position_embedding.weight"]
    hidden = encode(x, w, "text_model", T, causal=True)
    last = layer_norm(hidden[-1], w, "text_model.final_layer_norm", T["layer_norm_eps"])
    eos = (tokens == T["eos_token_id"]).int().argmax(-1)  # first end token
    pooled = last[torch.arange(tokens.shape[0]), eos]
    return hidden, last, pooled, lin(pooled, w, "text_projection", bias=False)


def make_tokens():
    ctx, bos, eos = T["max_position_embeddings"], T["bos_token_id"], T["eos_token_id"]
    rows = []
    # short, zero padded (OpenAI's padding)
    rows.append([bos, 5, 17, 300, 42, eos] + [0] * (ctx - 6))
    # padded with the end token (HF's openai tokenizer): pooling must take the first one
    body = [int(v) for v in torch.randint(1, 990, (20,), generator=g)]
    rows.append([bos] + body + [eos] * (ctx - 21))
    # full context: end token in the last position
    body = [int(v) for v in torch.randint(1, 990, (ctx - 2,), generator=g)]
    rows.append([bos] + body + [eos])
    return torch.tensor(rows, dtype=torch.int64)


def main():
    w = make_weights()
    os.makedirs(OUT_DIR, exist_ok=True)
    config = {
        "architectures": ["CLIPModel"],
        "model_type": "clip",
        "projection_dim": PROJ,
        "logit_scale_init_value": LOGIT_SCALE,
        "text_config": dict(T, projection_dim=PROJ, model_type="clip_text_model"),
        "vision_config": dict(V, projection_dim=PROJ, model_type="clip_vision_model"),
        "torch_dtype": "float32",
    }
    with open(os.path.join(OUT_DIR, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    st_io.save(os.path.join(OUT_DIR, "model.safetensors"), {k: v.float() for k, v in w.items()}, {"format": "pt"})

    pixels = randn(2, 3, V["image_size"], V["image_size"]).float().double()
    tokens = make_tokens()
    with torch.no_grad():
        vh, vpooled, vembeds = vision_forward(w, pixels)
        th, tlast, tpooled, tembeds = text_forward(w, tokens)
    ref = {"pixels": pixels.float(), "tokens": tokens.int(), "logit_scale": w["logit_scale"].float(),
           "vision.pooled": vpooled.float(), "vision.embeds": vembeds.float(),
           "text.last": tlast.float(), "text.pooled": tpooled.float(), "text.embeds": tembeds.float()}
    for i, h in enumerate(vh):
        ref[f"vision.hidden.{i}"] = h.float()
    for i, h in enumerate(th):
        ref[f"text.hidden.{i}"] = h.float()
    st_io.save(OUT_REF, ref, {"source": "tools/goldens/clip_goldens.py"})
    print("wrote", OUT_DIR, OUT_REF)


if __name__ == "__main__":
    main()
