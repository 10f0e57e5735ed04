#!/usr/bin/env python3
"""Compares embedded-cluster demo runs with the simulator's per-seed runs (docs/RESULTS.md, 2026-12-06 clusim).

Usage: python3 docs/clusim_compare.py SIM.jsonl CLUSTER_GLOB [CLUSTER_GLOB...] [--markdown --label=TEXT] [--pooled]
--pooled: also the cluster's pooled GPU p50 over its atomics (from DIR/trace.json next to each DIR.json), with a
95 % bootstrap interval over seeds, to set beside `sweep --sim`'s GPU p50 column.
SIM.jsonl: lines of docs/SimPerSeed.java (one hop). CLUSTER_GLOB: files holding `hmm-emu demo --link --json`
output (last line), one seed each; the seed is read from the file name (...-sN.json).
Per arm: cancels per GPU atomic issued and seeds with a cancel (95 % Wilson intervals of both hosts; agree = they
overlap), CPU faults, GPU p50 and driver timeouts per seed (the cluster's median over its k seeds against the 95 %
range of the median of k seeds drawn with replacement from the simulator's seeds; agree = inside), and the
simulator's figures on the cluster's seeds.
"""
import glob
import json
import math
import random
import re
import sys


def wilson(k, n, z=1.959964):
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (min(max(0.0, c - h), p), max(min(1.0, c + h), p))


def median(xs):
    if not xs:
        return float('nan')
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def fmt_p(k, n):
    lo, hi = wilson(k, n)
    return '%d/%d = %.4f [%.4f, %.4f]' % (k, n, k / n if n else 0, lo, hi)


def overlap(a, b):
    return a[0] <= b[1] and b[0] <= a[1]


def pooled_p50(runs, rng, b=1000):
    """Nearest-rank p50 of the pooled per-atomic latencies (one list per seed) and its 95 % bootstrap interval
    (seeds resampled with replacement), as `hmm-emu sweep --sim` computes its GPU p50 interval."""
    def p50(xs):
        xs = sorted(xs)
        return xs[max(0, math.ceil(0.5 * len(xs)) - 1)] if xs else float('nan')
    if not runs:
        return float('nan'), (float('nan'), float('nan'))
    est = sorted(p50([x for _ in runs for x in runs[rng.randrange(len(runs))]]) for _ in range(b))
    return p50([x for r in runs for x in r]), (est[int(0.025 * (b - 1))], est[int(math.ceil(0.975 * (b - 1)))])


def trace_latencies(path):
    """Per arm name, the latencyMicros of every completed GPU atomic ('access done') in a run record's trace."""
    d = json.load(open(path))
    pn = {e['pid']: e['args']['name'] for e in d['traceEvents'] if e.get('ph') == 'M' and e['name'] == 'process_name'}
    out = {}
    for e in d['traceEvents']:
        if e.get('cat') == 'device' and e['name'] == 'access done':
            out.setdefault(pn[e['pid']].split(': ')[0], []).append(e['args']['latencyMicros'])
    return out


ARMS = {'kernel': 'folio-lock (kernel)', 'early-unlock': 'early-unlock (ablation)'}


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    flags = [a for a in sys.argv[1:] if a.startswith('--')]
    label = next((f.split('=', 1)[1] for f in flags if f.startswith('--label=')), '')
    sim = [json.loads(l) for l in open(args[0]) if l.strip()]
    clu = {}
    for g in args[1:]:
        for f in sorted(glob.glob(g)):
            seed = int(re.search(r'-s(\d+)\.json$', f).group(1))
            lines = [l for l in open(f).read().splitlines() if l.startswith('{')]
            if not lines:
                continue  # a run still going (or one that printed no result)
            last = lines[-1]
            lat = {}
            tr = f[:-len('.json')] + '/trace.json'
            if '--pooled' in flags:
                try:
                    lat = trace_latencies(tr)
                except OSError:
                    pass
            for r in json.loads(last)['runs']:
                r['_lat'] = lat.get(r['name'])
                clu.setdefault(r['name'], {})[seed] = r
    rng = random.Random(1)
    out = []
    for arm, name in ARMS.items():
        srows = [r for r in sim if r['arm'] == arm]
        crows = clu.get(name, {})
        seeds = sorted(crows)
        same = {r['seed']: r for r in srows if r['seed'] in crows}
        row = {'arm': arm, 'seeds': seeds}
        # cluster
        cc = sum(r['gpuCancelled'] for r in crows.values())
        cn = sum(r['gpuCancelled'] + r['gpuAtomics'] for r in crows.values())
        cs = sum(1 for r in crows.values() if r['gpuCancelled'] > 0)
        sc = sum(r['gpuCancelled'] for r in srows)
        sn = sum(r['gpuCancelled'] + r['gpuAtomics'] for r in srows)
        ss = sum(1 for r in srows if r['gpuCancelled'] > 0)
        row['cluster_cancel'] = fmt_p(cc, cn)
        row['sim_cancel'] = fmt_p(sc, sn)
        row['cancel_agree'] = overlap(wilson(cc, cn), wilson(sc, sn))
        row['cluster_seeds_cancel'] = fmt_p(cs, len(crows))
        row['sim_seeds_cancel'] = fmt_p(ss, len(srows))
        row['seeds_cancel_agree'] = overlap(wilson(cs, len(crows)), wilson(ss, len(srows)))
        for key, ck, unit in (('cpuFaults', 'cpuFaults', 1), ('gpuP50', 'gpuAtomicLatencyP50Micros', 1000.0),
                              ('driverTimeouts', 'driverTimeouts', 1)):
            cv = [crows[s][ck] / unit for s in seeds]
            sv = [r[key] / unit for r in srows]
            # The cluster's median over its k seeds against the 95 % range of the median of k seeds drawn from the
            # simulator's seeds (with replacement): does the cluster's figure look like k simulator seeds?
            k = len(cv)
            rng_med = sorted(median([sv[rng.randrange(len(sv))] for _ in range(k)]) for _ in range(4000)) if k else []
            lo, hi = (rng_med[int(0.025 * 3999)], rng_med[int(math.ceil(0.975 * 3999))]) if k else (0, 0)
            row['cluster_' + key] = '%g' % median(cv)
            row['sim_' + key] = '%g [%g, %g]' % (median(sv), lo, hi)
            row[key + '_agree'] = bool(k) and lo <= median(cv) <= hi
            row['cluster_' + key + '_per_seed'] = ', '.join('%g' % v for v in cv)
            row['sim_same_' + key + '_per_seed'] = ', '.join('%g' % (same[s][key] / unit) for s in seeds if s in same)
        lats = [crows[s]['_lat'] for s in seeds if crows[s].get('_lat')]
        if lats:
            v, (lo, hi) = pooled_p50(lats, rng)
            row['cluster_pooled_p50'] = '%d [%d, %d] (%d seeds)' % (v, lo, hi, len(lats))
        row['cluster_cancels_per_seed'] = ', '.join(str(crows[s]['gpuCancelled']) for s in seeds)
        row['sim_same_cancels_per_seed'] = ', '.join(str(same[s]['gpuCancelled']) for s in seeds if s in same)
        row['cluster_ok'] = all(r['violations'] == 0 and r['finalValue'] == r['expectedValue'] for r in crows.values())
        row['sim_ok'] = all(r['violations'] == 0 and r['lost'] == 0 and r['finished'] for r in srows)
        row['sim_seeds'] = len(srows)
        out.append(row)
    if '--markdown' in flags:
        yn = lambda b: 'yes' if b else '**no**'
        for r in out:
            print('| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |' % (
                label, r['arm'], len(r['seeds']), r['cluster_cancel'], r['sim_cancel'], yn(r['cancel_agree']),
                r['cluster_seeds_cancel'], r['sim_seeds_cancel'], yn(r['seeds_cancel_agree']),
                r['cluster_cpuFaults'], r['sim_cpuFaults'], yn(r['cpuFaults_agree']),
                r['cluster_gpuP50'] + ' / ' + r['sim_gpuP50'], yn(r['gpuP50_agree'])))
        for r in out:
            print('| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |' % (
                label, r['arm'], ', '.join(map(str, r['seeds'])), r['cluster_cancels_per_seed'],
                r['sim_same_cancels_per_seed'], r['cluster_cpuFaults_per_seed'], r['sim_same_cpuFaults_per_seed'],
                r['cluster_gpuP50_per_seed'], r['sim_same_gpuP50_per_seed'],
                r['cluster_driverTimeouts_per_seed'] + ' / ' + r['sim_same_driverTimeouts_per_seed']))
        if '--pooled' in flags:
            for r in out:
                print('pooled GPU p50 µs (cluster, from the traces):', label, r['arm'], r.get('cluster_pooled_p50'))
    else:
        for r in out:
            print(json.dumps(r, ensure_ascii=False))


if __name__ == '__main__':
    main()
