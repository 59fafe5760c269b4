#!/usr/bin/python3
"""Figures of a trustsim output file (HDF5, layout in docs/output-format.md).

For looking at results: fan charts of trust, faith and confidence over time, stage occupancy,
the mix of acts, a metric across a sweep, Sobol indices (written by `trustsim sensitivity`) and
the final trust matrix. Works on single runs, ensembles and sweeps. Every band is computed from
/series over the runs marked done in /done, so a file with one replicate plots too (its bands
are the line itself). Not for analysis beyond pictures: read the file with h5py or xarray
(scripts/examples/analyse.py) or export it (`trustsim export`).

    scripts/plot.py OUT.h5 --figure trajectories -o fig.png [--point I] [--metric M]

Figures are drawn with matplotlib's Agg backend (no display needed), in colour-blind-safe
colours (Okabe-Ito and Paul Tol's palettes, cividis for heatmaps); the format follows the
extension of -o (png, pdf or svg). Time axes are in years when the horizon exceeds two years,
in months when it exceeds six months, else in the tick unit (root attribute tick_unit).
Exit status: 0 success, 2 bad usage or a file, figure, metric or point that cannot be drawn.
"""

import argparse
import os
import sys
import textwrap
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

try:
    import h5py  # noqa: E402
except ImportError:  # pragma: no cover - told to the user, not tested
    sys.exit("plot.py: needs h5py (Debian: apt-get install python3-h5py)")

FIGURES = ("trajectories", "stages", "acts", "sweep", "sensitivity", "trust-matrix")
FORMATS = (".png", ".pdf", ".svg")

# Okabe and Ito (2008), "Color Universal Design".
OKABE_ITO = {
    "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
    "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "black": "#000000",
}
STAGES = (
    ("stage0_share", "0 arm's length", OKABE_ITO["vermillion"]),
    ("stage1_share", "1 agreement-driven", OKABE_ITO["orange"]),
    ("stage2_share", "2 knowledge-based", OKABE_ITO["sky"]),
    ("stage3_share", "3 collaboration-driven", OKABE_ITO["green"]),
)
# The ten kinds of act in the model's order, coloured with Paul Tol's "muted" scheme; the
# uncooperative ones are also hatched, so the split survives greyscale printing.
ACTS = (
    ("coordinate", "#332288", True), ("share_info", "#88CCEE", True), ("help", "#44AA99", True),
    ("promise", "#117733", True), ("deliver", "#999933", True), ("fail", "#DDCC77", False),
    ("break", "#CC6677", False), ("deceive", "#882255", False), ("compete", "#AA4499", False),
    ("withhold", "#DDDDDD", False),
)
TITLES = {
    "trust_interorg": "Inter-organisational trust", "trust_interpersonal": "Interpersonal trust",
    "trust_group": "Group-image trust", "faith": "Faith in the collaboration",
    "confidence": "Confidence from agreements", "coop_rate": "Cooperation rate",
    "active_orgs": "Organisations still engaged", "collab_value": "Value of the collaboration",
}
TRAJECTORY_METRICS = ("trust_interorg", "trust_interpersonal", "faith", "confidence")
DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12.0, "year": 365.25}


class PlotError(Exception):
    """Something the user can fix: a bad file, figure, metric or point (exit status 2)."""


# ---- reading ---------------------------------------------------------------------------------

def text(value):
    """An HDF5 string (bytes or str) as str."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


class Output:
    """The parts of an output file the figures read, checked once."""

    def __init__(self, path):
        if not os.path.isfile(path):
            raise PlotError(f"{path}: no such file")
        try:
            self.h5 = h5py.File(path, "r")
        except OSError as exc:
            raise PlotError(f"{path}: not an HDF5 file ({exc})") from None
        self.path = path
        f = self.h5
        if text(f.attrs.get("format", "")) != "trustsim" or "series" not in f or "done" not in f:
            raise PlotError(f"{path}: not a trustsim output (no format attribute, /series or /done)")
        self.done = f["done"][()].astype(bool)
        self.n_points, self.n_replicates = self.done.shape
        self.ticks = f["time"][()] if "time" in f else None
        self.tick_unit = text(f.attrs.get("tick_unit", "week"))
        self.metrics = sorted(name for name, d in f["series"].items()
                              if isinstance(d, h5py.Dataset) and d.ndim == 3)
        if self.ticks is None:
            self.ticks = np.arange(f["series"][self.metrics[0]].shape[2])
        self.organisations = [text(o) for o in f["organisation"][()]] if "organisation" in f else []
        self.scenario = text(f.attrs.get("scenario", os.path.basename(path)))

    def check_point(self, point):
        if not 0 <= point < self.n_points:
            raise PlotError(f"{self.path}: point {point} is out of range: the file has "
                            f"{self.n_points} point{'s' if self.n_points != 1 else ''} "
                            f"(0 to {self.n_points - 1})")

    def check_metric(self, metric):
        if metric not in self.metrics:
            raise PlotError(f"{self.path}: no metric '{metric}'; stored: {', '.join(self.metrics)}")

    def series(self, metric, point):
        """[replicate, time] of one point, with runs not done as NaN."""
        self.check_metric(metric)
        values = np.array(self.h5["series"][metric][point, :, :], dtype=float)
        values[~self.done[point], :] = np.nan
        return values

    def at_tick(self, metric, tick):
        """[point, replicate] at one tick (None: the last), runs not done as NaN."""
        self.check_metric(metric)
        index = len(self.ticks) - 1
        if tick is not None:
            hits = np.flatnonzero(self.ticks == tick)
            if hits.size == 0:
                raise PlotError(f"{self.path}: tick {tick} is outside the run "
                                f"(ticks {self.ticks[0]} to {self.ticks[-1]})")
            index = int(hits[0])
        values = np.array(self.h5["series"][metric][:, :, index], dtype=float)
        values[~self.done] = np.nan
        return values, int(self.ticks[index])

    def title(self, metric):
        """A short title: the model's name for the metric, else its stored description."""
        if metric in TITLES:
            return TITLES[metric]
        d = self.h5["series"][metric]
        long_name = text(d.attrs["long_name"]) if "long_name" in d.attrs else ""
        return textwrap.shorten(long_name, 48, placeholder="...") or metric.replace("_", " ")

    def points(self):
        """{parameter path: values [point]} in the order of the file (empty: not a sweep)."""
        if "points" not in self.h5:
            return {}
        group = self.h5["points"]
        return {name: group[name][()] for name in group
                if name != "point" and isinstance(group[name], h5py.Dataset)}


# ---- axes and labels -------------------------------------------------------------------------

def time_axis(out):
    """Tick numbers converted to the unit that reads best, and the axis label."""
    per_tick = DAYS.get(out.tick_unit, 7.0)
    span = float(out.ticks[-1]) * per_tick
    if span > 2 * DAYS["year"]:
        unit = "year"
    elif span > 6 * DAYS["month"] and per_tick < DAYS["month"]:
        unit = "month"
    else:
        unit = out.tick_unit
    return out.ticks * per_tick / DAYS[unit], f"time ({unit}s since start)"


def metric_label(metric, tick_unit):
    """A y-axis label with the metric's unit or scale."""
    if metric.startswith("acts_"):
        return f"{metric[5:].replace('_', ' ')} acts per {tick_unit}"
    if metric.startswith("stage") and metric.endswith("_share"):
        return "share of organisation pairs"
    if metric.startswith("survey_"):
        return f"{metric[7:].replace('_', '-')} survey score (1 to 5)"
    if metric.startswith("perceived_"):
        return f"perceived {metric[10:]} (0 to 1)"
    if metric.startswith("payoff_"):
        return f"payoff per {tick_unit} ({metric[7:]} leaders)"
    special = {
        "active_orgs": "active organisations",
        "coop_rate": "cooperative share of acts (0 to 1)",
        "collab_value": "cumulative collaboration value (model units)",
        "trust_interorg": "inter-organisational trust (0 to 1)",
        "trust_interpersonal": "interpersonal trust (0 to 1)",
        "trust_group": "group-image trust (0 to 1)",
    }
    return special.get(metric, f"{metric.replace('_', ' ')} (0 to 1)")


def quantiles(values, qs, axis=0):
    """np.nanpercentile without the warning for columns that are all NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanpercentile(values, qs, axis=axis)


def nanmean(values, axis=0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=axis)


def runs_note(out, point):
    n = int(out.done[point].sum())
    where = f", point {point}" if out.n_points > 1 else ""
    return f"{out.scenario}{where}: {n} replicate{'s' if n != 1 else ''}"


def fan(ax, x, values, colour, label=None):
    """Median with 50% and 90% bands over the rows of values."""
    q05, q25, q50, q75, q95 = quantiles(values, [5, 25, 50, 75, 95])
    ax.fill_between(x, q05, q95, color=colour, alpha=0.18, linewidth=0, label="90% of runs")
    ax.fill_between(x, q25, q75, color=colour, alpha=0.38, linewidth=0, label="50% of runs")
    ax.plot(x, q50, color=colour, linewidth=1.8, label=label or "median")


# ---- figures ---------------------------------------------------------------------------------

def figure_trajectories(out, fig, args):
    metrics = [args.metric] if args.metric else [m for m in TRAJECTORY_METRICS if m in out.metrics]
    if not metrics:
        raise PlotError(f"{out.path}: none of {', '.join(TRAJECTORY_METRICS)} is stored")
    for m in metrics:
        out.check_metric(m)
    x, xlabel = time_axis(out)
    cols = 1 if len(metrics) == 1 else 2
    rows = (len(metrics) + cols - 1) // cols
    axes = fig.subplots(rows, cols, sharex=True, squeeze=False).ravel()
    for ax, metric in zip(axes, metrics):
        fan(ax, x, out.series(metric, args.point), OKABE_ITO["blue"])
        ax.set_title(out.title(metric), fontsize=10)
        ax.set_ylabel(metric_label(metric, out.tick_unit))
        ax.grid(alpha=0.3)
    for ax in axes[len(metrics):]:
        ax.set_visible(False)
    for ax in axes[-cols:]:
        ax.set_xlabel(xlabel)
    axes[0].legend(loc="best", fontsize=8, frameon=False)
    n = int(out.done[args.point].sum())
    fig.suptitle(f"{'Median and bands over replicates' if n > 1 else 'One run, no bands'} "
                 f"({runs_note(out, args.point)})")


def figure_stages(out, fig, args):
    for metric, _, _ in STAGES:
        out.check_metric(metric)
    x, xlabel = time_axis(out)
    means = [np.nan_to_num(nanmean(out.series(m, args.point))) for m, _, _ in STAGES]
    ax = fig.subplots()
    ax.stackplot(x, means, labels=[label for _, label, _ in STAGES],
                 colors=[colour for _, _, colour in STAGES], alpha=0.9)
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(0, 1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share of organisation pairs (mean over replicates)")
    ax.legend(title="stage", loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    ax.set_title(f"Stage occupancy ({runs_note(out, args.point)})")


def figure_acts(out, fig, args):
    kinds = [(k, c, coop) for k, c, coop in ACTS if f"acts_{k}" in out.metrics]
    if not kinds:
        raise PlotError(f"{out.path}: no acts_<kind> series stored")
    x, xlabel = time_axis(out)
    means = [np.nan_to_num(nanmean(out.series(f"acts_{k}", args.point))) for k, _, _ in kinds]
    ax = fig.subplots()
    polys = ax.stackplot(x, means, labels=[k.replace("_", " ") for k, _, _ in kinds],
                         colors=[c for _, c, _ in kinds], linewidth=0.3, edgecolor="white")
    for poly, (_, _, coop) in zip(polys, kinds):
        if not coop:
            poly.set_hatch("///")
    ax.set_xlim(x[0], x[-1])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"acts per {out.tick_unit} (mean over replicates)")
    ax.legend(title="act (hatched: uncooperative)", loc="upper left", bbox_to_anchor=(1.01, 1),
              frameon=False, fontsize=8, title_fontsize=8)
    ax.set_title(f"Mix of acts ({runs_note(out, args.point)})")


def grid_shape(xs, ys):
    """Levels of two parameters if the points form a full grid, else None."""
    lx, ly = np.unique(xs), np.unique(ys)
    if lx.size * ly.size != xs.size or lx.size < 2 or ly.size < 2:
        return None
    pairs = {(a, b) for a, b in zip(xs, ys)}
    return (lx, ly) if len(pairs) == xs.size else None


def figure_sweep(out, fig, args):
    points = out.points()
    if not points:
        raise PlotError(f"{out.path}: not a sweep (no /points); try --figure trajectories")
    metric = args.metric or "trust_interorg"
    values, tick = out.at_tick(metric, args.at)  # [point, replicate]
    means = nanmean(values, axis=1)
    when = f"after {tick} {out.tick_unit}{'s' if tick != 1 else ''}"
    names = list(points)
    varying = [n for n in names if np.unique(points[n]).size > 1] or names
    shape = grid_shape(points[varying[0]], points[varying[1]]) if len(varying) == 2 else None
    if len(varying) == 1:
        name = varying[0]
        order = np.argsort(points[name], kind="stable")
        ax = fig.subplots()
        fan(ax, points[name][order], values[order].T, OKABE_ITO["blue"])
        ax.plot(points[name][order], means[order], "o", color=OKABE_ITO["vermillion"],
                markersize=4, label="mean")
        ax.set_xlabel(name)
        ax.set_ylabel(metric_label(metric, out.tick_unit))
        ax.legend(loc="best", fontsize=8, frameon=False)
        ax.grid(alpha=0.3)
        ax.set_title(f"{out.title(metric)} {when}, over replicates")
    elif shape is not None:
        (lx, ly), (nx, ny) = shape, varying
        grid = np.full((ly.size, lx.size), np.nan)
        for p in range(out.n_points):
            grid[np.searchsorted(ly, points[ny][p]), np.searchsorted(lx, points[nx][p])] = means[p]
        ax = fig.subplots()
        image = ax.imshow(grid, origin="lower", aspect="auto", cmap="cividis")
        ax.set_xticks(range(lx.size), [f"{v:g}" for v in lx])
        ax.set_yticks(range(ly.size), [f"{v:g}" for v in ly])
        ax.set_xlabel(nx)
        ax.set_ylabel(ny)
        annotate(ax, grid, image)
        fig.colorbar(image, ax=ax, label=f"mean {metric_label(metric, out.tick_unit)}")
        ax.set_title(f"{out.title(metric)} {when}, mean over replicates")
    else:  # sampled designs, or more than two parameters: one panel per parameter
        cols = min(len(varying), 3)
        rows = (len(varying) + cols - 1) // cols
        axes = fig.subplots(rows, cols, sharey=True, squeeze=False).ravel()
        lo, hi = quantiles(values, [5, 95], axis=1)
        for ax, name in zip(axes, varying):
            ax.errorbar(points[name], means, yerr=[means - lo, hi - means], fmt="o",
                        markersize=3, color=OKABE_ITO["blue"], ecolor=OKABE_ITO["sky"],
                        elinewidth=0.8, alpha=0.8)
            ax.set_xlabel(name, fontsize=8)
            ax.grid(alpha=0.3)
        for ax in axes[len(varying):]:
            ax.set_visible(False)
        for ax in axes[::cols]:
            ax.set_ylabel(metric_label(metric, out.tick_unit))
        fig.suptitle(f"{out.title(metric)} {when}: mean and 90% band over replicates")


def annotate(ax, grid, image):
    """Write each cell's value in a colour that reads on it."""
    lo, hi = np.nanmin(grid), np.nanmax(grid)
    if grid.size > 150:
        return
    for (row, col), v in np.ndenumerate(grid):
        if np.isnan(v):
            ax.text(col, row, "n/a", ha="center", va="center", fontsize=8, color="black")
            continue
        light = hi > lo and (v - lo) / (hi - lo) < 0.5
        ax.text(col, row, f"{v:.2f}", ha="center", va="center", fontsize=8,
                color="white" if light else "black")


def figure_sensitivity(out, fig, args):
    group = out.h5.get("sensitivity")
    if group is None or len(group) == 0:
        raise PlotError(f"{out.path}: no /sensitivity: run `trustsim sensitivity {out.path} "
                        f"--metric NAME` on a saltelli sweep first")
    metric = args.metric or ("trust_interorg" if "trust_interorg" in group else sorted(group)[0])
    if metric not in group:
        raise PlotError(f"{out.path}: no /sensitivity/{metric}; analysed: {', '.join(sorted(group))}")
    g = group[metric]
    names = [text(n) for n in g["parameter"][()]]
    y = np.arange(len(names))
    ax = fig.subplots()
    for offset, key, label, colour in ((-0.2, "first", "first order", OKABE_ITO["blue"]),
                                       (0.2, "total", "total effect", OKABE_ITO["orange"])):
        v, lo, hi = g[key][()], g[f"{key}_lo"][()], g[f"{key}_hi"][()]
        err = None if np.all(np.isnan(lo)) else [np.maximum(v - lo, 0), np.maximum(hi - v, 0)]
        ax.barh(y + offset, v, height=0.38, xerr=err, color=colour, label=label,
                error_kw={"ecolor": "black", "capsize": 3, "elinewidth": 1})
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("Sobol index (share of output variance)")
    level = float(g.attrs.get("level", 0.95))
    ax.legend(loc="lower right", fontsize=8, frameon=False,
              title=f"whiskers: {level:.0%} bootstrap interval", title_fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    tick = int(g.attrs.get("tick", out.ticks[-1]))
    ax.set_title(f"Sensitivity of {metric} at tick {tick} "
                 f"(saltelli design, N = {int(g.attrs.get('n_base', 0))})")


def figure_trust_matrix(out, fig, args):
    if "final" not in out.h5 or "trust_interorg" not in out.h5["final"]:
        raise PlotError(f"{out.path}: no /final/trust_interorg")
    trust = np.array(out.h5["final"]["trust_interorg"][args.point], dtype=float)
    trust[~out.done[args.point]] = np.nan
    by_pair = nanmean(trust, axis=0)
    names = out.organisations
    final = out.h5["final"]
    if "pair_organisation" in final:  # format 2: pairs that share a collaboration
        mean = np.full((len(names), len(names)), np.nan)
        mean[final["pair_organisation"][()], final["pair_partner"][()]] = by_pair
    else:  # format 1: [organisation, partner]
        mean = by_pair
    ax = fig.subplots()
    image = ax.imshow(np.ma.masked_invalid(mean), cmap="cividis")
    image.cmap.set_bad("#eeeeee")
    ax.set_xticks(range(len(names)), names, rotation=35, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("partner (trusted)")
    ax.set_ylabel("organisation (trusting)")
    annotate(ax, mean, image)
    fig.colorbar(image, ax=ax, label="final inter-organisational trust (0 to 1)")
    ax.set_title(f"Final trust between organisations, mean over replicates\n"
                 f"({runs_note(out, args.point)}; n/a: itself, or no shared collaboration)",
                 fontsize=10)


DRAW = {
    "trajectories": figure_trajectories, "stages": figure_stages, "acts": figure_acts,
    "sweep": figure_sweep, "sensitivity": figure_sensitivity, "trust-matrix": figure_trust_matrix,
}


# ---- command line ----------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="plot.py", description="Draw a figure of a trustsim output file.",
        epilog="Exit status: 0 success, 2 bad usage or input.")
    p.add_argument("file", help="trustsim output (HDF5)")
    p.add_argument("--figure", "-f", required=True, choices=FIGURES)
    p.add_argument("-o", "--output", required=True, help="figure file: .png, .pdf or .svg")
    p.add_argument("--metric", "-m", help="metric of /series (trajectories: one panel; sweep: "
                   "default trust_interorg; sensitivity: which analysis)")
    p.add_argument("--point", "-p", type=int, default=0, help="sweep point (default 0)")
    p.add_argument("--at", type=int, help="sweep: tick to read (default: the last)")
    p.add_argument("--size", default="8x5.5", help="width x height in inches (default 8x5.5)")
    p.add_argument("--dpi", type=int, default=150, help="PNG resolution (default 150)")
    args = p.parse_args(argv)
    if os.path.splitext(args.output)[1].lower() not in FORMATS:
        p.error(f"-o {args.output}: the name must end in {', '.join(FORMATS)}")
    try:
        args.size = tuple(float(v) for v in args.size.lower().split("x"))
        if len(args.size) != 2 or min(args.size) <= 0:
            raise ValueError
    except ValueError:
        p.error(f"--size expects WIDTHxHEIGHT in inches, e.g. 8x5.5, got '{args.size}'")
    if args.dpi < 10:
        p.error("--dpi must be at least 10")
    return args


def main(argv=None):
    args = parse_args(argv)
    plt.rcParams.update({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False})
    try:
        out = Output(args.file)
        out.check_point(args.point)
        fig = plt.figure(figsize=args.size, dpi=args.dpi, layout="constrained")
        DRAW[args.figure](out, fig, args)
        fig.savefig(args.output, dpi=args.dpi)
    except PlotError as exc:
        print(f"plot.py: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
