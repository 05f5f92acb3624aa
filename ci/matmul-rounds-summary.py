#!/usr/bin/env python3
"""Summary of ci/bench-matmul-rounds.sh's output folder: per weight type and M, Tessera's
GFLOP/s (1 and 2 threads) and llama.cpp's (2 threads), median and best over the rounds
that completed on both sides, and the median/median and best/best ratios, as markdown."""
import glob
import json
import os
import re
import statistics
import sys


def rounds(folder):
    for path in sorted(glob.glob(os.path.join(folder, "t*.json"))):
        n = re.search(r"t(\d+)\.json$", path).group(1)
        log = os.path.join(folder, f"l{n}.txt")
        if not os.path.exists(log):
            continue
        text = open(log).read()
        if "type_a=q6_K,type_b=f32,m=4096,n=512" not in text:  # llama.cpp's last case: round complete
            continue
        yield json.load(open(path)), text


def main(folder):
    ours = {}    # (type, m, threads) -> [GFLOP/s]
    theirs = {}  # (type, m) -> [GFLOP/s]
    count = 0
    for result, log in rounds(folder):
        count += 1
        for r in result["results"]:
            if r["group"] == "matmul":
                m = 1 if "M=1" in r["note"] else 512
                ours.setdefault((r["name"].split()[1].upper(), m, r["threads"]), []).append(r["gflops"])
        for hit in re.finditer(r"type_a=(\w+),type_b=f32,m=4096,n=(\d+),.*?([\d.]+) GFLOPS", log):
            theirs.setdefault((hit.group(1).upper(), int(hit.group(2))), []).append(float(hit.group(3)))
    print(f"{count} rounds\n")
    print("| weights | M | Tessera 1 thr median / best | Tessera 2 thr median / best | llama.cpp 2 thr median / best | median / median | best / best |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for (name, m) in sorted(theirs, key=lambda k: (k[1], k[0])):
        one, two, ll = ours.get((name, m, 1)), ours.get((name, m, 2)), theirs[(name, m)]
        if not one or not two:
            continue
        med = statistics.median
        print(f"| {name} | {m} | {med(one):.1f} / {max(one):.1f} | {med(two):.1f} / {max(two):.1f} | "
              f"{med(ll):.1f} / {max(ll):.1f} | {med(two) / med(ll):.2f}× | {max(two) / max(ll):.2f}× |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
