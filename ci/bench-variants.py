#!/usr/bin/env python3
"""The tuning variants of a GPU check beside their defaults, so the next defaults can be read
off one table: every tsc_bench case run with a variant tag ([blocks/SM 4], [default, 16 warps],
[xa], [64-row blocks], ...) against the same case without it (bench.json; speed = default time /
variant time), and every bench-model variant against "launched" on the same model
(bench-model.variants + bench-model.jsonl, line by line; tokens/s of prompt and generation).

    ci/bench-variants.py OUT_DIR         (a ci/gpu-check.sh output folder; markdown on stdout)
"""
import json
import os
import re
import sys

# Tags that name the default kernel of a case (tsc_bench spells the int8 GEMM "int8" when it
# sets TSC_MMA_QUANT itself, "default" otherwise; the float GEMM's default order is "wa").
DEFAULT_TAGS = {'', 'int8', 'default', 'wa'}
TAG = re.compile(r'\s*\[([^\]]*)\]')


def case_key(name):
    """(key, tag): the name without its bracketed tag, the per-run '% of ... T' suffix and the
    weight set's size; tag = what the brackets said ('' when none)."""
    tags = TAG.findall(name)
    key = TAG.sub('', name)
    key = re.sub(r': [\d.]+% of \d+ T$', '', key)
    key = re.sub(r', [\d.]+ GiB', '', key)
    return ' '.join(key.split()), ', '.join(tags)


def bench_rows(results):
    cases = {}
    for r in results:
        key, tag = case_key(r['name'])
        cases.setdefault((r['group'], key), []).append((tag, r['us']))
    rows = []
    for (group, key), runs in cases.items():
        base = [us for tag, us in runs if tag in DEFAULT_TAGS]
        if len(base) != 1:
            continue  # no default to compare with (or two: not a tuning pair)
        for tag, us in runs:
            if tag not in DEFAULT_TAGS and us > 0:
                rows.append((group, key, tag, base[0], us, base[0] / us))
    return rows


def model_rows(variants, lines):
    runs = {}
    for label, line in zip(variants, lines):
        model, _, variant = label.partition(': ')
        try:
            r = json.loads(line)
        except ValueError:
            r = {}
        runs.setdefault(model, []).append((variant, r))
    rows = []
    for model, vs in runs.items():
        base = dict(vs).get('launched', {})
        for variant, r in vs:
            if variant == 'launched':
                continue
            cells = []
            for field in ('prompt_tokens_per_second', 'generated_tokens_per_second'):
                b, v = base.get(field), r.get(field)
                cells.append((b, v, v / b if b and v else None))
            rows.append((model, variant, cells))
    return rows


def fmt_ratio(x):
    return '-' if x is None else f'{x:.2f} ({100 * (x - 1):+.0f}%)'


def fmt_num(x):
    return '-' if x is None else f'{x:.1f}'


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    out = argv[1]
    printed = False
    path = os.path.join(out, 'bench.json')
    if os.path.exists(path):
        with open(path, encoding='utf-8') as f:
            rows = bench_rows(json.load(f).get('results', []))
        if rows:
            print('| group | case | variant | default µs | variant µs | speed vs default |')
            print('| --- | --- | --- | ---: | ---: | ---: |')
            for group, key, tag, base, us, speed in rows:
                print(f'| {group} | {key} | {tag} | {base:.1f} | {us:.1f} | {fmt_ratio(speed)} |')
            printed = True
    vpath, jpath = os.path.join(out, 'bench-model.variants'), os.path.join(out, 'bench-model.jsonl')
    if os.path.exists(vpath) and os.path.exists(jpath):
        with open(vpath, encoding='utf-8') as f:
            variants = [l.rstrip('\n') for l in f if l.strip()]
        with open(jpath, encoding='utf-8') as f:
            lines = [l for l in f if l.strip()]
        if len(variants) != len(lines):
            print(f'\nbench-model: {len(variants)} variants but {len(lines)} result lines: not paired', file=sys.stderr)
        else:
            rows = model_rows(variants, lines)
            if rows:
                if printed:
                    print()
                print('| model | variant | prompt tokens/s (default → variant) | speed | generated tokens/s (default → variant) | speed |')
                print('| --- | --- | ---: | ---: | ---: | ---: |')
                for model, variant, cells in rows:
                    (pb, pv, pr), (gb, gv, gr) = cells
                    print(f'| {model} | {variant} | {fmt_num(pb)} → {fmt_num(pv)} | {fmt_ratio(pr)} '
                          f'| {fmt_num(gb)} → {fmt_num(gv)} | {fmt_ratio(gr)} |')
                printed = True
    if not printed:
        print('No tuning variants with a default to compare with.')


if __name__ == '__main__':
    main(sys.argv)
