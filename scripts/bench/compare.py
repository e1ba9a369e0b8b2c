#!/usr/bin/env python3
"""Runs two sedx-bench builds interleaved (old, new, old, new, ...) and compares each scenario's
median time per iteration (over every repetition of every run). Interleaving spreads a machine's drift over both builds alike.

  scripts/bench/compare.py OLD_BIN NEW_BIN [--runs 5] [--filter REGEX] [--out DIR]

Prints a Markdown table (scenario, old median, new median, new/old) and exits non-zero when a
scenario of the filter is slower by more than --tolerance (default 5 %). Each run's JSON is kept
in --out (default build/bench-compare)."""
import argparse
import json
import os
import statistics
import subprocess
import sys


def run(binary, out, flt):
    cmd = [binary, f"--out={out}"]
    if flt:
        cmd.append(f"--benchmark_filter={flt}")
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        data = json.load(f)
    times = {}  # every repetition's time per iteration, in the run's time unit
    for b in data.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration" or b.get("error_occurred"):
            continue
        times.setdefault(b["name"], []).append(b["real_time"])
        times[b["name"] + "@unit"] = b.get("time_unit", "ns")
    return times


def main():
    p = argparse.ArgumentParser()
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--filter", default="")
    p.add_argument("--tolerance", type=float, default=0.05)
    p.add_argument("--out", default="build/bench-compare")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    samples = {"old": {}, "new": {}}
    units = {}
    for i in range(a.runs):
        for which, binary in (("old", a.old), ("new", a.new)):
            times = run(binary, os.path.join(a.out, f"{which}-{i}.json"), a.filter)
            for name, t in times.items():
                if name.endswith("@unit"):
                    units[name[:-5]] = t
                else:
                    samples[which].setdefault(name, []).extend(t)
            print(f"run {i + 1}/{a.runs} {which}: {len(times) // 2} scenarios", file=sys.stderr)
    print(f"| scenario | old median | new median | new/old |")
    print("|---|---:|---:|---:|")
    worse = []
    for name in samples["old"]:
        if name not in samples["new"]:
            continue
        o = statistics.median(samples["old"][name])
        n = statistics.median(samples["new"][name])
        ratio = n / o if o else float("nan")
        unit = units.get(name, "ns")
        print(f"| {name} | {o:.4g} {unit} | {n:.4g} {unit} | {ratio:.3f} |")
        if ratio > 1 + a.tolerance:
            worse.append((name, ratio))
    for name, ratio in worse:
        print(f"slower by more than {a.tolerance:.0%}: {name} ({ratio:.3f})", file=sys.stderr)
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main())
