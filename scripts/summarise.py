#!/usr/bin/python3
"""Summary table of a trustsim output: trust, faith and stage shares at chosen horizons.

Reads the /summary group (replicate means and 5%/95% quantiles) of point 0 (or --point) and
prints a Markdown table with one row per metric and one column per horizon, each cell
"mean [q05, q95]": the 90% band over replicates. Horizons are given in years and converted to
ticks with the file's tick unit. For tables, not figures (scripts/plot.py draws those).
"""
import argparse
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:  # Debian's python3-h5py and python3-numpy
    sys.exit(f"summarise.py: {e}: run it with /usr/bin/python3 after scripts/setup.sh")

TICKS_PER_YEAR = {"week": 52, "month": 12, "day": 365}
METRICS = [
    ("trust_interorg", "inter-organisational trust"),
    ("trust_interpersonal", "interpersonal trust"),
    ("faith", "faith in the collaboration"),
    ("stage0_share", "pairs at arm's length (stage 0)"),
    ("stage1_share", "agreement-driven trust (stage 1)"),
    ("stage2_share", "knowledge-based trust (stage 2)"),
    ("stage3_share", "collaboration-driven trust (stage 3)"),
    ("active_orgs", "organisations still engaged"),
]


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("output", help="trustsim HDF5 output")
    ap.add_argument("--years", type=float, nargs="+", default=[1, 2, 5])
    ap.add_argument("--point", type=int, default=0)
    args = ap.parse_args()
    try:
        f = h5py.File(args.output, "r")
    except OSError as e:
        print(f"summarise.py: {args.output}: {e}", file=sys.stderr)
        return 2
    with f:
        unit = text(f.attrs.get("tick_unit", "week"))
        per_year = TICKS_PER_YEAR.get(unit, 52)
        n_times = f["time"].shape[0]
        reps = int(f.attrs["n_replicates"])
        cols = []
        for y in args.years:
            tick = int(round(y * per_year))
            if tick < n_times:
                cols.append((y, tick))
        if not cols:
            print(f"summarise.py: the run is shorter than {args.years[0]} years", file=sys.stderr)
            return 2
        print(f"Scenario `{text(f.attrs['scenario'])}`, {reps} replicates, seed "
              f"{int(f.attrs['master_seed'])}: mean over replicates and [5%, 95%] band.\n")
        head = " | ".join(f"{y:g} year{'s' if y != 1 else ''} (tick {t})" for y, t in cols)
        print(f"| metric | {head} |")
        print("| --- |" + " --- |" * len(cols))
        for name, label in METRICS:
            if f"summary/{name}" not in f:
                continue
            g = f[f"summary/{name}"]
            cells = []
            for _, t in cols:
                m = g["mean"][args.point, t]
                lo, hi = g["q05"][args.point, t], g["q95"][args.point, t]
                cells.append("n/a" if np.isnan(m) else f"{m:.3f} [{lo:.3f}, {hi:.3f}]")
            print(f"| {label} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
