#!/usr/bin/env python3
"""Tests of ci/bench-variants.py on case names as tsc_bench and gpu-check.sh write them.

    python3 ci/bench_variants_test.py
"""
import importlib.util
import json
import os
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location('bench_variants', os.path.join(HERE, 'bench-variants.py'))
bv = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bv)


def result(group, name, us):
    return {'group': group, 'name': name, 'us': us}


class CaseKeyTest(unittest.TestCase):
    def test_tag_suffix_and_size_are_not_part_of_the_case(self):
        self.assertEqual(bv.case_key('q4_0 [default, 16 warps] n=4096 k=4096 m=512: 9.1% of 1979 T'),
                         ('q4_0 n=4096 k=4096 m=512', 'default, 16 warps'))
        self.assertEqual(bv.case_key('q4_0 llama-7b shapes, 32 layers, 3.39 GiB [blocks/SM 4]'),
                         ('q4_0 llama-7b shapes, 32 layers', 'blocks/SM 4'))
        self.assertEqual(bv.case_key('llama decode [32-key splits] h=32 lq=1 lk=4096 d=128'),
                         ('llama decode h=32 lq=1 lk=4096 d=128', '32-key splits'))
        self.assertEqual(bv.case_key('q6_K n=4096 k=11008 m=1 (2-byte aligned rows)'),
                         ('q6_K n=4096 k=11008 m=1 (2-byte aligned rows)', ''))


class BenchRowsTest(unittest.TestCase):
    def test_each_variant_is_set_against_its_own_default(self):
        rows = bv.bench_rows([
            result('matvec', 'q4_0 n=14336 k=4096 m=1', 20.0),
            result('matvec', 'q4_0 n=4096 k=14336 m=1', 30.0),
            result('matvec', 'q4_0 n=14336 k=4096 m=1 [blocks/SM 4]', 16.0),
            result('matvec', 'q4_0 n=4096 k=14336 m=1 [regs,nopdl]', 60.0),
            result('mma', 'q4_0 [int8] n=4096 k=4096 m=512: 9.1% of 1979 T', 90.0),
            result('mma', 'q4_0 [default, 16 warps] n=4096 k=4096 m=512: 12.0% of 1979 T', 60.0),
            result('mma', 'f16 [wa] n=4096 k=4096 m=512: 33.0% of 989 T', 50.0),
            result('mma', 'f16 [xa] n=4096 k=4096 m=512: 31.0% of 989 T', 55.0),
            result('weightset', 'q4_0 llama-7b shapes: host enqueue only, 224 calls', 1300.0),
        ])
        got = {(g, k, t): round(s, 3) for g, k, t, _, _, s in rows}
        self.assertEqual(got, {
            ('matvec', 'q4_0 n=14336 k=4096 m=1', 'blocks/SM 4'): 1.25,
            ('matvec', 'q4_0 n=4096 k=14336 m=1', 'regs,nopdl'): 0.5,
            ('mma', 'q4_0 n=4096 k=4096 m=512', 'default, 16 warps'): 1.5,
            ('mma', 'f16 n=4096 k=4096 m=512', 'xa'): 0.909,
        })

    def test_a_case_without_a_default_gives_no_row(self):
        self.assertEqual(bv.bench_rows([result('weightset', 'q4_0 llama-7b shapes: host record + submit only [CUDA graph]', 900.0)]), [])


class ModelRowsTest(unittest.TestCase):
    def test_variants_against_launched_and_missing_results_shown_as_missing(self):
        variants = ['stories: launched', 'stories: launched, TSC_PDL=0', '7b: launched', '7b: --cuda-graphs', '7b q4_K: launched']
        lines = [json.dumps({'prompt_tokens_per_second': 100.0, 'generated_tokens_per_second': 50.0}),
                 json.dumps({'prompt_tokens_per_second': 80.0, 'generated_tokens_per_second': 40.0}),
                 json.dumps({'prompt_tokens_per_second': 1000.0, 'generated_tokens_per_second': 300.0}),
                 '{}',
                 json.dumps({'prompt_tokens_per_second': 900.0, 'generated_tokens_per_second': 200.0})]
        rows = bv.model_rows(variants, lines)
        self.assertEqual([(m, v) for m, v, _ in rows], [('stories', 'launched, TSC_PDL=0'), ('7b', '--cuda-graphs')])
        self.assertEqual(rows[0][2], [(100.0, 80.0, 0.8), (50.0, 40.0, 0.8)])
        self.assertEqual(rows[1][2], [(1000.0, None, None), (300.0, None, None)])


class MainTest(unittest.TestCase):
    def test_report_of_a_check_folder(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, 'bench.json'), 'w') as f:
                json.dump({'device': 'x', 'results': [result('matvec', 'q8_0 n=14336 k=4096 m=1', 10.0),
                                                      result('matvec', 'q8_0 n=14336 k=4096 m=1 [blocks/SM 2]', 12.5)]}, f)
            with open(os.path.join(d, 'bench-model.variants'), 'w') as f:
                f.write('7b: launched\n7b: launched, TSC_MATVEC_BLOCKS=4\n')
            with open(os.path.join(d, 'bench-model.jsonl'), 'w') as f:
                f.write('{"prompt_tokens_per_second":1000.0,"generated_tokens_per_second":350.0}\n')
                f.write('{"prompt_tokens_per_second":1000.0,"generated_tokens_per_second":385.0}\n')
            import contextlib
            import io
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                bv.main(['bench-variants.py', d])
            text = buf.getvalue()
            self.assertIn('| matvec | q8_0 n=14336 k=4096 m=1 | blocks/SM 2 | 10.0 | 12.5 | 0.80 (-20%) |', text)
            self.assertIn('| 7b | launched, TSC_MATVEC_BLOCKS=4 | 1000.0 → 1000.0 | 1.00 (+0%) | 350.0 → 385.0 | 1.10 (+10%) |', text)


if __name__ == '__main__':
    unittest.main()
