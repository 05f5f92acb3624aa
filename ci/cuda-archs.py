#!/usr/bin/env python3
"""Lists the GPU code embedded in a CUDA host binary (the .nv_fatbin ELF section), like
`cuobjdump --list-elf --list-ptx` where the toolkit lacks cuobjdump.

    ci/cuda-archs.py libtessera_cuda.so [--require 80,90]

Prints one line per embedded image ("elf sm_80", "ptx sm_90") with its count; with
--require, exits 1 unless machine code (elf) for every listed architecture is present.
Fatbin layout: 16-byte container headers (magic 0xBA55ED50, u16 version, u16 header size,
u64 payload size) followed by entries (u16 kind 1=ptx 2=elf, u16, u32 header size,
u64 payload size, ..., u32 arch at offset 28).
"""
import struct
import sys
from collections import Counter


def section(path, wanted):
    data = open(path, 'rb').read()
    if data[:4] != b'\x7fELF' or data[4] != 2:
        sys.exit(f'{path}: not a 64-bit ELF file')
    shoff, = struct.unpack_from('<Q', data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from('<HHH', data, 0x3A)
    def sh(i):
        return struct.unpack_from('<IIQQQQIIQQ', data, shoff + i * shentsize)
    stroff = sh(shstrndx)[4]
    for i in range(shnum):
        name_off, _, _, _, off, size = sh(i)[:6]
        name = data[stroff + name_off:data.index(b'\0', stroff + name_off)].decode()
        if name == wanted:
            return data[off:off + size]
    return b''


def images(fatbin):
    pos = 0
    while pos + 16 <= len(fatbin):
        magic, _, hsize, fsize = struct.unpack_from('<IHHQ', fatbin, pos)
        if magic != 0xBA55ED50:
            pos += 8  # containers are 8-byte aligned; skip padding
            continue
        e, end = pos + hsize, pos + hsize + fsize
        while e + 32 <= end:
            kind, _, ehsize, esize = struct.unpack_from('<HHIQ', fatbin, e)
            arch, = struct.unpack_from('<I', fatbin, e + 28)
            yield ('ptx' if kind == 1 else 'elf' if kind == 2 else f'kind{kind}'), arch
            e += ehsize + esize
        pos = end


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    found = Counter(images(section(sys.argv[1], '.nv_fatbin')))
    for (kind, arch), n in sorted(found.items()):
        print(f'{kind} sm_{arch}  x{n}')
    if '--require' in sys.argv:
        need = sys.argv[sys.argv.index('--require') + 1].split(',')
        missing = [a for a in need if ('elf', int(a)) not in found]
        if missing:
            print('missing machine code for: ' + ', '.join('sm_' + a for a in missing))
            sys.exit(1)


if __name__ == '__main__':
    main()
