#!/usr/bin/python3
"""Fingerprint the datasets of every shipped scenario, to show that a change of the engine or
the writer keeps results bit-identical (or to say exactly which datasets moved).

    scripts/fingerprint.py build/release/trustsim -o before.json        # before the change
    scripts/fingerprint.py build/release/trustsim --against before.json # after: lists changes

Runs every scenario in scenarios/ (plus the donation-game reduction and the two other
assessment norms on the baseline) with a few replicates and hashes the values of every
dataset under /series, /summary, /final, /points and /done. Attributes such as the creation
time are left out: they differ between any two runs. Exit status 1 when --against finds a
difference.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# (label, scenario, extra arguments): the shipped scenarios, and variants that reach the
# engine's other branches (the donation game, the other assessment norms, flat observation).
VARIANTS = [
    ("donation_game", "scenarios/example.yaml",
     ["--set", "mode=donation_game", "--set", "ticks=60"]),
    ("baseline_standing", "scenarios/baseline.yaml", ["--set", "reciprocity.norm=standing"]),
    ("baseline_stern", "scenarios/baseline.yaml",
     ["--set", "reciprocity.norm=stern_judging", "--set", "reciprocity.observation=flat"]),
]


def cases():
    for name in sorted(os.listdir(os.path.join(ROOT, "scenarios"))):
        if name.endswith(".yaml"):
            yield name[:-5], os.path.join("scenarios", name), []
    yield from VARIANTS


def digest(path):
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if not isinstance(obj, h5py.Dataset):
                return
            if not name.split("/")[0] in ("series", "summary", "final", "points", "done", "pairs",
                                          "organisations"):
                return
            data = obj[()]
            if isinstance(data, np.ndarray) and data.dtype.kind in "fiub":
                blob = np.ascontiguousarray(data).tobytes()
            else:
                blob = repr(data).encode()
            out[name] = hashlib.sha256(blob).hexdigest()[:16]
        f.visititems(visit)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("trustsim", help="path to the trustsim command")
    ap.add_argument("-o", "--output", help="write the fingerprints to this JSON file")
    ap.add_argument("--against", help="compare with fingerprints written before")
    ap.add_argument("--replicates", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    prints = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, scenario, extra in cases():
            out = os.path.join(tmp, label + ".h5")
            cmd = [args.trustsim, "run", os.path.join(ROOT, scenario), "-o", out, "--force",
                   "--replicates", str(args.replicates), "-j", str(args.threads), *extra]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit(f"fingerprint: {' '.join(cmd)} failed:\n{r.stderr}")
            prints[label] = digest(out)
    if args.output:
        with open(args.output, "w") as f:
            json.dump(prints, f, indent=1, sort_keys=True)
    if not args.against:
        return 0
    with open(args.against) as f:
        before = json.load(f)
    changed = 0
    for label in sorted(set(before) | set(prints)):
        a, b = before.get(label, {}), prints.get(label, {})
        for name in sorted(set(a) | set(b)):
            if a.get(name) != b.get(name):
                what = "new" if name not in a else "gone" if name not in b else "differs"
                print(f"{label}: {name} {what}")
                changed += 1
    total = sum(len(v) for v in prints.values())
    print(f"fingerprint: {changed} of {total} datasets differ over {len(prints)} runs")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
