#!/usr/bin/env python3
"""Where each GPU atomic's latency goes in an embedded-cluster run record (docs/RESULTS.md, 2026-12-06 clusim3).

Reads a run record's trace.json (`hmm-emu demo --link --out DIR`) and, for every GPU atomic ('access done' on a
device track; issued at ts - latencyMicros), walks its critical path backwards over the message flows: from the
'access done' on the GPU node to the last receipt on that node before it, over that message's hop to its send on
the other node, to the last receipt on that node before the send, and so on until the walk is back at the issue.
Each step of the walk is either a hop (flow start at the send to flow end at the receipt: link delay + transport
+ the receiver's mailbox) or node time (a receipt to the next send or to 'access done' on the same node: the
actor's turn of the step, or a wait the model prescribes, e.g. a thinking CPU thread or a held folio lock).
A node-time piece longer than --wait (default 1000 model µs) is counted as a wait, not as service.

Prints, per arm (a run record may hold the same arm twice, e.g. `--arms kernel,kernel`: run 1, run 2), one line per
GPU atomic (issue time, latency, hops, hop time, service time, waits) and the arm's sums. The simulator's trace has
no message flows; there a GPU atomic on this workload is hops x one-way + its host-side cost (docs/LATENCY.md).
Usage: python3 docs/critical_path.py DIR/trace.json [--wait=MICROS] [--quiet] [--json]
"""
import bisect
import json
import sys


def load(path):
    d = json.load(open(path))
    ev = d['traceEvents']
    pn = {e['pid']: e['args']['name'] for e in ev if e.get('ph') == 'M' and e['name'] == 'process_name'}
    runs = {}
    starts = {}
    for e in ev:
        if e.get('ph') == 'M' or e['pid'] not in pn:
            continue
        run = e['pid'] // 1000
        r = runs.setdefault(run, {'name': pn[e['pid']].split(': ')[0], 'recv': {}, 'done': []})
        if e.get('cat') == 'message' and e['ph'] == 's':
            starts[(e['id'], e['name'], run)] = e
        elif e.get('cat') == 'message' and e['ph'] == 'f':
            s = starts.get((e['id'], e['name'], run))
            if s is not None:
                r['recv'].setdefault(e['pid'], []).append((e['ts'], s['ts'], s['pid'], e['name']))
        elif e.get('name') == 'access done':
            r['done'].append((e['ts'], e['args']['latencyMicros'], e['pid']))
    for r in runs.values():
        for pid in r['recv']:
            r['recv'][pid].sort()
        r['keys'] = {pid: [x[0] for x in xs] for pid, xs in r['recv'].items()}
        r['done'].sort()
    return runs


def walk(r, pid, t, issue, wait):
    """Splits (issue, t] on node pid into hops, service and waits, walking the flows backwards."""
    hops = hop_time = service = waits = 0
    while t > issue:
        keys = r['keys'].get(pid, [])
        i = bisect.bisect_right(keys, t) - 1
        if i < 0 or keys[i] <= issue:
            piece = t - issue
            if piece > wait:
                waits += piece
            else:
                service += piece
            break
        recv_ts, send_ts, send_pid, _ = r['recv'][pid][i]
        piece = t - recv_ts
        if piece > wait:
            waits += piece
        else:
            service += piece
        hops += 1
        hop_time += recv_ts - max(send_ts, issue)
        t, pid = send_ts, send_pid
    return hops, hop_time, service, waits


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    wait = next((float(a.split('=')[1]) for a in sys.argv if a.startswith('--wait=')), 1000.0)
    quiet = '--quiet' in sys.argv
    out = []
    for path in args:
        for run, r in sorted(load(path).items()):
            rows = []
            for ts, lat, pid in r['done']:
                hops, hop_time, service, waits = walk(r, pid, ts, ts - lat, wait)
                rows.append({'issue': ts - lat, 'latency': lat, 'hops': hops, 'hopTime': hop_time,
                             'service': service, 'waits': waits})
            lats = sorted(x['latency'] for x in rows)
            summary = {'path': path, 'run': run + 1, 'arm': r['name'], 'atomics': len(rows),
                       'p50': lats[(len(lats) - 1) // 2] if lats else None,
                       'hops': sum(x['hops'] for x in rows), 'hopTime': sum(x['hopTime'] for x in rows),
                       'service': sum(x['service'] for x in rows), 'waits': sum(x['waits'] for x in rows),
                       'firstService': min(rows, key=lambda x: x['issue'])['service'] if rows else None,
                       'rows': rows}
            out.append(summary)
    if '--json' in sys.argv:
        print(json.dumps(out))
        return
    for s in out:
        print('%s run %d %s: %d GPU atomics, p50 %s µs; on the critical paths: %d hops, %d µs in hops (%.0f per hop),'
              ' %d µs node service (%s on the first-issued atomic), %d µs waits'
              % (s['path'], s['run'], s['arm'], s['atomics'], s['p50'], s['hops'], s['hopTime'],
                 s['hopTime'] / max(1, s['hops']), s['service'], s['firstService'], s['waits']))
        if not quiet:
            for x in s['rows']:
                print('  issued %8d  latency %8d  hops %3d  hop time %7d  service %6d  waits %8d'
                      % (x['issue'], x['latency'], x['hops'], x['hopTime'], x['service'], x['waits']))


if __name__ == '__main__':
    main()
