#!/usr/bin/env python3
"""Sums an Nsight Compute per-kernel summary (`ncu --metrics gpu__time_duration.sum
--print-summary per-kernel`, as ci/gpu-profile.sh writes ncu-decode.txt) into one line per
kernel and launch shape: invocations, min / mean / max µs, total µs and share of the total,
then the total per invocation of a reference kernel (--per NAME, default k_att_split: one per
LLaMA layer, so the figure is the GPU time of a layer).

    ci/ncu-summary.py ncu-decode.txt [--per k_att_split]
"""
import re
import sys

ENTRY = re.compile(
    r'^  (?:void )?(?P<name>[A-Za-z_]\w*)(?P<targs><[^>]*>)?\(.*?\) \((?P<grid>\d+, \d+, \d+)\)x\((?P<block>\d+, \d+, \d+)\)'
    r'.*?Invocations (?P<inv>\d+)\s*$'
    r'.*?gpu__time_duration\.sum\s+\S+\s+(?P<min>[\d.,]+)\s+(?P<max>[\d.,]+)\s+(?P<avg>[\d.,]+)',
    re.M | re.S)


def number(s):
    return float(s.replace(',', ''))


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    per = argv[argv.index('--per') + 1] if '--per' in argv else 'k_att_split'
    text = open(argv[1], encoding='utf-8', errors='replace').read()
    rows = []
    for m in ENTRY.finditer(text):
        inv = int(m['inv'])
        rows.append((m['name'] + (m['targs'] or ''), m['grid'], m['block'], inv, number(m['min']), number(m['avg']),
                     number(m['max']), inv * number(m['avg'])))
    if not rows:
        sys.exit(f'{argv[1]}: no per-kernel gpu__time_duration.sum summary found')
    total = sum(r[7] for r in rows)
    print(f"{'kernel':40s} {'grid':>16s} {'block':>12s} {'calls':>6s} {'min':>7s} {'mean':>7s} {'max':>7s} {'total us':>10s}  share")
    for name, grid, block, inv, lo, avg, hi, tot in sorted(rows, key=lambda r: -r[7]):
        print(f'{name[:40]:40s} {grid:>16s} {block:>12s} {inv:6d} {lo:7.2f} {avg:7.2f} {hi:7.2f} {tot:10.1f}  {100 * tot / total:4.1f}%')
    print(f'total {total:.1f} us of GPU time')
    ref = sum(r[3] for r in rows if r[0].startswith(per))
    if ref:
        print(f'per {per} call ({ref} calls): {total / ref:.1f} us')


if __name__ == '__main__':
    main(sys.argv)
