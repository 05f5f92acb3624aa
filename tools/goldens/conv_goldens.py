#!/usr/bin/python3
"""Goldens for Tessera's conv2d (dev.tessera.ops.Conv2d): torch.nn.functional.conv2d in
float64 on float32 inputs, stored as float32.

One safetensors file per case under java-api/src/test/resources/goldens/conv/: tensors x
(F32 NCHW), w (F32 or F16, [cout, cin/groups, kh, kw]), optional bias (F32 [cout]) and y
(F32, the expected output); metadata stride / padding / dilation as "h,w", groups, and a
description. F16 weights: the expected output uses the F16-rounded weights, so only the
kernel's F32 accumulation differs from it.

Run: /usr/bin/python3 tools/goldens/conv_goldens.py   (deterministic: fixed seed)
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import st_io  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "java-api", "src", "test", "resources", "goldens", "conv")

# name: (n, cin, h, w, cout, kh, kw, stride, padding, dilation, groups, bias, w_f16, description)
CASES = {
    "basic_3x3_batch2": (2, 3, 9, 11, 5, 3, 3, (1, 1), (1, 1), (1, 1), 1, True, False, "3x3 pad 1, batch 2, odd sizes"),
    "stride2": (1, 4, 13, 12, 6, 3, 3, (2, 2), (1, 1), (1, 1), 1, True, False, "3x3 stride 2 pad 1"),
    "dilation2": (1, 4, 12, 13, 6, 3, 3, (1, 1), (2, 2), (2, 2), 1, False, False, "3x3 dilation 2 pad 2, no bias"),
    "groups2_asym": (2, 4, 9, 10, 6, 3, 3, (1, 2), (1, 0), (1, 1), 2, True, False, "groups 2, stride (1,2), pad (1,0)"),
    "depthwise_3x3": (2, 8, 11, 9, 8, 3, 3, (1, 1), (1, 1), (1, 1), 8, True, False, "depthwise 3x3 pad 1"),
    "depthwise_5x5_s2": (1, 6, 15, 14, 6, 5, 5, (2, 2), (2, 2), (1, 1), 6, False, True, "depthwise 5x5 stride 2, F16 weights"),
    "pointwise_1x1": (2, 16, 7, 9, 12, 1, 1, (1, 1), (0, 0), (1, 1), 1, True, False, "1x1 (a GEMM), batch 2"),
    "patchify_14": (1, 3, 28, 30, 24, 14, 14, (14, 14), (0, 0), (1, 1), 1, True, False, "ViT-H/14-like patch embedding, scaled down; width not a multiple of 14"),
    "patchify_32_f16": (2, 3, 64, 64, 16, 32, 32, (32, 32), (0, 0), (1, 1), 1, True, True, "ViT-B/32-like patch embedding, scaled down, F16 weights"),
    "f16_3x3": (1, 5, 10, 7, 7, 3, 3, (1, 1), (1, 1), (1, 1), 1, True, True, "3x3 with F16 weights"),
    "unet_3x3_80ch": (1, 80, 8, 8, 80, 3, 3, (1, 1), (1, 1), (1, 1), 1, True, False, "SD UNet 3x3 320->320 scaled to 80 channels, 8x8"),
    "vae_3x3_128ch_f16": (1, 128, 8, 8, 128, 3, 3, (1, 1), (1, 1), (1, 1), 1, True, True, "SD VAE 3x3 512->512 scaled to 128 channels, 8x8, F16 weights"),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(20261126)
    for name, (n, cin, h, w, cout, kh, kw, stride, padding, dilation, groups, has_bias, w_f16, desc) in CASES.items():
        x = torch.randn(n, cin, h, w, generator=g)
        wt = torch.randn(cout, cin // groups, kh, kw, generator=g) / (cin // groups * kh * kw) ** 0.5
        bias = torch.randn(cout, generator=g) if has_bias else None
        if w_f16:
            wt = wt.half()
        y = F.conv2d(x.double(), wt.double(), bias.double() if bias is not None else None,
                     stride=stride, padding=padding, dilation=dilation, groups=groups).float()
        tensors = {"x": x, "w": wt, "y": y}
        if bias is not None:
            tensors["bias"] = bias
        meta = {"stride": "%d,%d" % stride, "padding": "%d,%d" % padding, "dilation": "%d,%d" % dilation,
                "groups": groups, "description": desc}
        st_io.save(os.path.join(OUT, name + ".safetensors"), tensors, meta)
        print(name, tuple(y.shape))


if __name__ == "__main__":
    main()
