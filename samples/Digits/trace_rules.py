#!/usr/bin/env python3
"""Replays step-choice rules on the output of `samples/Digits ... --validate-every N --trace-steps` (standard library only).

    python3 samples/Digits/trace_rules.py OUTPUT...

Each OUTPUT is one run of the sample; its trainings are grouped into cells by the file's name (one normalisation per file),
the pair and the method. At every scored step the trace holds the network's target and source test accuracy and every
scorer's value on the training's own held-out rows (no target labels), so a rule on those values picks exactly the step
the library would keep: the training does not depend on the rule (validation only records scores and copies weights).
The script checks that claim: the rule before session 12, replayed, must give each training's printed kept accuracy.

Rules (TrainingValidation, WarmUp 0.5, Tolerance 0.1): the kept step is the latest scored step after the warm-up that no
earlier such step beats; an earlier step beats a later one when its score is higher by more than Tolerance * |its score|
and, with SourceAccuracyMargin set (0 by default since session 12), its held-out source accuracy is higher by more than
the margin. Without the margin (the rule before) this is the latest step within the tolerance of the best score so far.
"""
import os
import re
import statistics as st
import sys
from collections import defaultdict

WARM_UP, TOLERANCE = 0.5, 0.1


def parse(paths):
    runs = []
    for path in paths:
        current = None
        for line in open(path, encoding="utf-8"):
            m = re.match(r"run \d+/\d+: (\S+) -> (\S+), (\S+), seed (\d+)", line)
            if m:
                current = dict(file=os.path.basename(path).rsplit(".", 1)[0], pair=f"{m[1]} → {m[2]}", method=m[3], seed=int(m[4]), steps=[])
                runs.append(current)
                continue
            m = re.match(r"\s+trace step (\d+): target ([\d.]+) %, source ([\d.]+) %; held out: (.*)", line)
            if m and current is not None:
                values = {k: float(v) for k, v in (kv.split(" ") for kv in m[4].split(", "))}
                current["steps"].append(dict(step=int(m[1]), target=float(m[2]), source=float(m[3]), **values))
            m = re.match(r"\s+(\S+), seed (\d+): target ([\d.]+) % \(last step ([\d.]+) %\)", line)
            if m and current is not None:
                current["kept"] = float(m[3])
    return [r for r in runs if "kept" in r]  # a training still running (or stopped) has no result line yet


def kept(steps, scorer="TargetEntropy", margin=0.0):
    """The latest step after the warm-up that no earlier one beats (margin None: the score alone)."""
    last = steps[-1]["step"]
    choice, seen = None, []
    for s in steps:
        if s["step"] < WARM_UP * last:
            continue
        beaten = any(e[scorer] > s[scorer] + TOLERANCE * abs(e[scorer])
                     and (margin is None or e["SourceAccuracy"] > s["SourceAccuracy"] + margin) for e in seen)
        if choice is None or not beaten:
            choice = s
        seen.append(s)
    return choice


def sd(values):
    return st.stdev(values) if len(values) > 1 else 0.0


runs = parse(sys.argv[1:])
if not runs:
    sys.exit("no traced training in the given files (run the sample with --validate-every N --trace-steps)")
printed = runs
mismatches = [f"{r['pair']} {r['method']} seed {r['seed']}" for r in printed if abs(kept(r["steps"], margin=None)["target"] - r["kept"]) > 0.051]
print(f"The rule before, replayed, gives the printed kept accuracy in {len(printed) - len(mismatches)} of {len(printed)} trainings"
      + (f"; not in {', '.join(mismatches)}" if mismatches else "") + ".")

cells = defaultdict(list)
for r in runs:
    cells[(r["pair"], r["file"], r["method"])].append(r)

print("\n| pair | file | method | seeds | last step | kept, score alone (before) | kept, score and source accuracy (now) | steps kept now |")
print("|---|---|---|---|---|---|---|---|")
before, now = [], []
for (pair, file, method), rs in sorted(cells.items()):
    last = [r["steps"][-1]["target"] for r in rs]
    old = [kept(r["steps"], margin=None)["target"] for r in rs]
    new = [kept(r["steps"])["target"] for r in rs]
    before.append(st.mean(old) - st.mean(last))
    now.append(st.mean(new) - st.mean(last))
    print(f"| {pair} | {file} | {method} | {len(rs)} | {st.mean(last):.1f} ± {sd(last):.1f} | {st.mean(old):.1f} ± {sd(old):.1f} ({before[-1]:+.1f}) | "
          f"{st.mean(new):.1f} ± {sd(new):.1f} ({now[-1]:+.1f}) | {'/'.join(str(kept(r['steps'])['step']) for r in rs)} |")

# Every scorer under both rules: kept − last per cell, averaged over the cells, the worst cell, cells more than 1 point below.
print(f"\nkept − last (points) over {len(cells)} cells, each scorer under the rule before (score alone) and now (with the source margin):")
print("\n| scorer | before: mean | worst cell | cells below −1 | now: mean | worst cell | cells below −1 |")
print("|---|---|---|---|---|---|---|")
for scorer in ["TargetEntropy", "SND", "DEV", "IWV", "SourceAccuracy"]:
    row = []
    for margin in (None, 0.0):
        d = [st.mean(kept(r["steps"], scorer, margin)["target"] - r["steps"][-1]["target"] for r in rs) for rs in cells.values()]
        row += [f"{st.mean(d):+.2f}", f"{min(d):+.1f}", str(sum(x < -1 for x in d))]
    print(f"| {scorer} | " + " | ".join(row) + " |")
