#!/usr/bin/env python3
"""PTX instructions of the decode matvec's whole-tile step, per weight type: a proxy for the
kernel's issue cost that needs no GPU (ptxas turns most PTX integer ops into one SASS op each;
the figure ignores scheduling and memory, which only a GPU run measures).

    nvcc -std=c++17 --expt-relaxed-constexpr -arch=sm_90 -ptx -Inative/include \\
        native/cuda/tsc_matmul.cu -o /tmp/mm.ptx
    python3 native/cuda/bench/ptx_tile_count.py /tmp/mm.ptx

For each k_matvec_async<T, MULTI, A4> (MULTI: several rows per warp; A4: rows 4-byte aligned,
block size a multiple of 4, so no word shifting) it prints the
instruction count of the basic block that holds one whole tile's work (4 groups of 32 weights
per lane: activation loads, the wait for the tile, decoding, dp4a): the smallest block with
dp4a in it (the partial last tile has its own, larger block with index clamps).
"""
import re
import sys

TYPES = {2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K"}


def blocks_by_kernel(path):
    """{kernel name: [[instructions, dp4a], ...] per basic block}"""
    out, cur = {}, None
    for line in open(path):
        m = re.match(r"\.visible \.entry (\S+)\(", line)
        if m:
            out[m.group(1)] = cur = [[0, 0]]
            continue
        if cur is None:
            continue
        s = line.strip()
        if s.startswith("$L__BB") and s.endswith(":"):
            cur.append([0, 0])
            continue
        if not s or s.startswith(("//", ".", "{", "}", "(", ")")):
            continue
        cur[-1][0] += 1
        cur[-1][1] += "dp4a" in s
    return out


def main():
    kernels = blocks_by_kernel(sys.argv[1])
    for name, blocks in kernels.items():
        m = re.match(r"_Z\d+k_matvec_asyncILi(\d+)E(?:Lb([01])E)?(?:Lb([01])E)?E", name)
        if not m:
            continue
        steps = [b for b in blocks if b[1] > 0]
        if steps:
            n = min(s[0] for s in steps)
            kind = (" (several rows per warp)" if m.group(2) == "1" else "") + (" (4-byte aligned rows)" if m.group(3) == "1" else "")
            print(f"{TYPES.get(int(m.group(1)), m.group(1)):5s} {n:5d} instructions per whole-tile step ({n / 4:.0f} per group){kind}")


if __name__ == "__main__":
    main()
