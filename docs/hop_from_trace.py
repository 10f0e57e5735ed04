#!/usr/bin/env python3
"""Realized one-way hop of an embedded-cluster run record, in model µs (docs/RESULTS.md, 2026-12-06 clusim).

Reads a run record's trace.json (`hmm-emu demo --link --out DIR`) and pairs each message's flow start ('s', at
its send) with its flow end ('f', at its receipt) by flow id, per arm and direction. Prints n, median, mean, p99, max
of recv - send per arm and direction. Usage: python3 docs/hop_from_trace.py DIR/trace.json [--json], or several trace.json files to pool them per arm
"""
import json
import sys


def pct(xs, p):
    """Nearest-rank percentile of a sorted list."""
    if not xs:
        return float('nan')
    k = max(0, min(len(xs) - 1, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[k]


def hops(path):
    d = json.load(open(path))
    ev = d['traceEvents']
    pn = {e['pid']: e['args']['name'] for e in ev if e.get('ph') == 'M' and e['name'] == 'process_name'}
    starts, out = {}, {}
    for e in ev:
        if e.get('cat') != 'message' or e.get('ph') not in ('s', 'f'):
            continue
        key = (e['id'], e['name'])
        if e['ph'] == 's':
            starts[key] = e
        elif key in starts:
            s = starts.pop(key)
            arm, src = pn[s['pid']].split(': ', 1)
            dst = pn[e['pid']].split(': ', 1)[1]
            out.setdefault((arm, src + ' -> ' + dst), []).append(e['ts'] - s['ts'])
    return out


if __name__ == '__main__':
    paths = [a for a in sys.argv[1:] if not a.startswith('--')]
    if len(paths) > 1:
        # Several run records (one row's seeds): pool both directions per arm, and give each record's median.
        pooled, medians = {}, {}
        for p in paths:
            for (arm, _), xs in hops(p).items():
                pooled.setdefault(arm, []).extend(xs)
            for arm in {a for a, _ in hops(p)}:
                ys = sorted(x for (a, _), xs in hops(p).items() if a == arm for x in xs)
                medians.setdefault(arm, []).append(pct(ys, 50))
        for arm, xs in sorted(pooled.items()):
            xs.sort()
            print('%-26s %d records, n=%6d median %7d mean %8.0f p99 %8d max %9d; per-record medians %d-%d (model µs)'
                  % (arm, len(paths), len(xs), pct(xs, 50), sum(xs) / len(xs), pct(xs, 99), xs[-1],
                     min(medians[arm]), max(medians[arm])))
        sys.exit(0)
    res = hops(paths[0])
    rows = []
    for (arm, direction), xs in sorted(res.items()):
        xs.sort()
        rows.append({'arm': arm, 'direction': direction, 'n': len(xs), 'median': pct(xs, 50),
                     'p99': pct(xs, 99), 'max': xs[-1], 'mean': sum(xs) / len(xs)})
    if '--json' in sys.argv:
        print(json.dumps(rows))
    else:
        for r in rows:
            print('%-26s %-28s n=%5d median %7d mean %8.0f p99 %8d max %9d (model µs)'
                  % (r['arm'], r['direction'], r['n'], r['median'], r['mean'], r['p99'], r['max']))
