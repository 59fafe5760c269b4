#!/usr/bin/python3
"""Example analysis of a sweep output in Python: a metric at the last tick (or --at TICK)
against a swept parameter, with the mean, median and a 90% band over the runs at each value,
read with xarray.

For researchers starting their own analysis: it shows how the file's groups open as xarray
datasets (/series, /points and /done, with their named dimensions point, replicate and time),
how to keep only the runs marked done, and how to reduce over replicates. It is the Python
twin of analyse.R and draws the same figure. Not a general plotting tool: see scripts/plot.py.

    scripts/examples/analyse.py SWEEP.h5 -o trust_vs_formalisation.png \
        [--metric trust_interorg] [--param NAME] [--at TICK]

Needs Debian's python3-xarray, python3-h5netcdf, python3-h5py and python3-matplotlib.
"""

import argparse
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import xarray as xr  # noqa: E402


def load(path, metric, param, at):
    """The metric at one tick per (point, replicate), the swept values, and what was chosen."""
    root = xr.open_dataset(path, engine="h5netcdf")            # /done, attributes
    series = xr.open_dataset(path, group="series", engine="h5netcdf")
    points = xr.open_dataset(path, group="points", engine="h5netcdf")
    if metric not in series:
        sys.exit(f"analyse.py: {path}: no metric '{metric}'")
    names = [n for n in points.data_vars]
    param = param or names[0]
    if param not in points:
        sys.exit(f"analyse.py: {path}: no swept parameter '{param}'; swept: {', '.join(names)}")
    y = series[metric]
    y = y.isel(time=-1) if at is None else y.sel(time=at)
    y = y.where(root["done"] == 1)                             # runs not done hold no values
    return y, points[param], param, int(y["time"]), root.attrs["tick_unit"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("file")
    p.add_argument("-o", "--output", required=True, help="PNG file")
    p.add_argument("--metric", default="trust_interorg")
    p.add_argument("--param", help="swept parameter for the x axis (default: the first)")
    p.add_argument("--at", type=int, help="tick (default: the last)")
    args = p.parse_args()

    y, x, param, tick, unit = load(args.file, args.metric, args.param, args.at)
    # Pool the replicates of points that share the x value (other swept parameters vary
    # among them in a grid): the band is then over every run at that value.
    runs = y.assign_coords(x=x).stack(run=("point", "replicate")).dropna("run")
    by_x = runs.groupby("x")
    summary = xr.Dataset({
        "mean": by_x.mean(),
        "median": by_x.median(),
        "q05": by_x.quantile(0.05).drop_vars("quantile"),
        "q95": by_x.quantile(0.95).drop_vars("quantile"),
        "runs": by_x.count(),
    })
    print(summary.to_dataframe()[["runs", "mean", "q05", "q95"]].to_string())

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=150, layout="constrained")
    ax.fill_between(summary["x"], summary["q05"], summary["q95"], color="#56B4E9", alpha=0.35,
                    linewidth=0, label="90% of runs")
    ax.plot(summary["x"], summary["median"], color="#0072B2", label="median")
    ax.plot(summary["x"], summary["mean"], "o", color="#D55E00", markersize=4, label="mean")
    ax.set_xlabel(param)
    ax.set_ylabel(f"{args.metric} after {tick} {unit}s")
    ax.set_title(f"{args.metric} against {param}")
    ax.legend(frameon=False)
    fig.savefig(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
