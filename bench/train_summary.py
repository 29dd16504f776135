#!/usr/bin/env python3
"""Medians over the runs of one or more bench/train-run logs (its stdout), for BENCHMARKS.md.

Native: per case, the median over runs of Keras's and Flatland's ms/epoch and of the per-run
speed-ups [range]. Browser: per figure, the median of the run medians [range], and the ratios as
the median over all rounds of the same-round ratio (the contenders are interleaved, so a round's
ratio compares times taken within seconds of each other).
Usage: python3 bench/train_summary.py LOG...
"""
import json
import re
import statistics
import sys

med = statistics.median
native, files = {}, []
for log in sys.argv[1:]:
    for line in open(log):
        m = re.match(r"(\S+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+\d+×", line)
        if m:
            k, f = float(m[3]), float(m[4])
            native.setdefault(m[1], []).append((k, f, k / f))
        m = re.match(r"raw results: (\S+)", line)
        if m:
            files.append(m[1])

if native:
    print(f"native, {min(len(v) for v in native.values())}+ runs: case | Keras ms/epoch | Flatland ms/epoch | speed-up [range]")
    for case, v in native.items():
        ks, fs, rs = zip(*v)
        print(f"| {case} | {med(ks):.2f} | {med(fs):.3f} | {med(rs):.1f}× [{min(rs):.1f}–{max(rs):.1f}×] |")

if files:
    runs = [json.load(open(f))["train"] for f in files]
    keys = [k for k in runs[0] if k.endswith(("_cnn", "_mlp")) and "train_step" in k]
    print(f"\nbrowser, {len(runs)} runs ({', '.join(r.get('load', '?') for r in runs)}):")
    for k in keys:
        v = [r[k] for r in runs if k in r]
        print(f"| {k} | {med(v):.3f} ms [{min(v):.3f}–{max(v):.3f}] |")
    for name in ("cnn", "mlp"):
        ours = f"flatland_train_step_{name}"
        for b in ("cpu", "wasm"):
            theirs = f"tfjs_{b}_train_step_{name}"
            if theirs not in runs[0]:
                continue
            per = [t / o for r in runs for o, t in zip(r[f"{ours}_rounds"], r[f"{theirs}_rounds"])]
            run_med = [r[theirs] / r[ours] for r in runs]
            print(f"| TF.js {b} / Flatland, {name} | same-round ratio median {med(per):.2f}× "
                  f"[rounds {min(per):.2f}–{max(per):.2f}×; run medians {min(run_med):.2f}–{max(run_med):.2f}×] |")
