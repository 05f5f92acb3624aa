"""Minimal GGUF v3 reader for the golden scripts: metadata and F32/F16 tensors as torch tensors.

Only what the goldens need (llama.cpp's gguf-py is not installed here): the header, the
key/value section, tensor infos, and the data of unquantized tensors.
"""
import struct

import numpy as np
import torch

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


class _Cursor:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.data, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        s = self.data[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return s

    def value(self, t):
        if t in _SCALARS:
            return self.take(_SCALARS[t])
        if t == 8:
            return self.string()
        if t == 9:
            et = self.take("<I")
            n = self.take("<Q")
            return [self.value(et) for _ in range(n)]
        raise ValueError(f"unknown GGUF value type {t}")


def read(path):
    """Returns (metadata dict, {name: torch tensor in PyTorch order}) for F32/F16 tensors."""
    data = open(path, "rb").read()
    c = _Cursor(data)
    if c.take("<I") != 0x46554747:
        raise ValueError("not a GGUF file")
    version = c.take("<I")
    if version != 3:
        raise ValueError(f"GGUF version {version}")
    n_tensors = c.take("<Q")
    n_kv = c.take("<Q")
    meta = {}
    for _ in range(n_kv):
        key = c.string()
        meta[key] = c.value(c.take("<I"))
    infos = []
    for _ in range(n_tensors):
        name = c.string()
        nd = c.take("<I")
        ne = [c.take("<Q") for _ in range(nd)]
        typ = c.take("<I")
        off = c.take("<Q")
        infos.append((name, ne, typ, off))
    align = meta.get("general.alignment", 32)
    start = (c.pos + align - 1) // align * align
    tensors = {}
    for name, ne, typ, off in infos:
        n = int(np.prod(ne))
        if typ == 0:
            arr = np.frombuffer(data, dtype="<f4", count=n, offset=start + off)
        elif typ == 1:
            arr = np.frombuffer(data, dtype="<f2", count=n, offset=start + off).astype(np.float32)
        else:
            continue
        tensors[name] = torch.from_numpy(arr.copy()).reshape(list(reversed(ne)))
    return meta, tensors
