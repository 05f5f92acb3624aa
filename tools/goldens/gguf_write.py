"""Minimal GGUF v3 writer for the golden scripts (F32/F16 tensors, scalar/string/array metadata).

Layout as gguf-py writes it: header, key/values, tensor infos, data aligned to 32 bytes.
Tensors are given in PyTorch order; ne is written reversed, as ggml expects.
"""
import struct

import numpy as np
import torch

ALIGN = 32


def _str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _value(v):
    """(type id, bytes) for a Python value."""
    if isinstance(v, bool):
        return 7, struct.pack("<?", v)
    if isinstance(v, int):
        return 4, struct.pack("<I", v)
    if isinstance(v, float):
        return 6, struct.pack("<f", v)
    if isinstance(v, str):
        return 8, _str(v)
    if isinstance(v, (list, tuple)):
        if all(isinstance(x, float) for x in v):
            return 9, struct.pack("<IQ", 6, len(v)) + b"".join(struct.pack("<f", x) for x in v)
        if all(isinstance(x, int) and not isinstance(x, bool) for x in v):
            return 9, struct.pack("<IQ", 5, len(v)) + b"".join(struct.pack("<i", x) for x in v)
        if all(isinstance(x, str) for x in v):
            return 9, struct.pack("<IQ", 8, len(v)) + b"".join(_str(x) for x in v)
    raise ValueError(f"unsupported metadata value {v!r}")


def write(path, metadata, tensors):
    """metadata: {key: value}; tensors: list of (name, torch tensor F32 or F16)."""
    kv = b""
    for k, v in metadata.items():
        t, b = _value(v)
        kv += _str(k) + struct.pack("<I", t) + b
    infos = b""
    blobs = []
    offset = 0
    for name, t in tensors:
        t = t.detach().contiguous()
        if t.dtype == torch.float32:
            typ, data = 0, t.numpy().astype("<f4").tobytes()
        elif t.dtype == torch.float16:
            typ, data = 1, t.numpy().astype("<f2").tobytes()
        else:
            raise ValueError(f"{name}: dtype {t.dtype}")
        ne = list(reversed(t.shape))
        infos += _str(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", d) for d in ne)
        infos += struct.pack("<IQ", typ, offset)
        pad = (-len(data)) % ALIGN
        blobs.append(data + b"\0" * pad)
        offset += len(data) + pad
    head = struct.pack("<IIQQ", 0x46554747, 3, len(tensors), len(metadata)) + kv + infos
    head += b"\0" * ((-len(head)) % ALIGN)
    with open(path, "wb") as f:
        f.write(head)
        for b in blobs:
            f.write(b)
