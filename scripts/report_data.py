"""The numbers of scripts/report.py: reading trustsim output files and computing what the report
shows, with the same arithmetic as the command-line tools.

For: everything the report reads from an output file (layout in docs/output-format.md) and every
statistic it prints or draws: the headline means and 90% bands of `trustsim info`, the Welch
comparison of `trustsim compare` (at one tick or at every tick), fan-chart quantiles, sweep
responses, the final trust network, and the Sobol indices of `trustsim sensitivity`. Not for:
charts, HTML or wording (scripts/report.py), nor analysis beyond what the report shows.

Kept in one module so that a change of the output layout (a sparse `pair` dimension for the final
state, series per organisation and pair) or of `compare` (paired intervals, comparisons over
time) is made here and nowhere else: the report only calls the functions below.

The command-line tools compute with GSL, whose mean and variance are running sums in C's long
double (80-bit on x86-64); `gsl_mean`, `gsl_variance_m` and `gsl_quantile_sorted` repeat them
operation for operation with numpy's longdouble (over whole arrays at once), and the t quantile
and log-gamma function are GSL's own, called in the library the engine links, so that the
report's numbers are the very doubles the tools print.
"""

import ctypes
import ctypes.util
import math
import os
import shutil
import subprocess
import tempfile
import warnings

import numpy as np

try:
    import h5py
except ImportError:  # pragma: no cover - told to the user, not tested
    raise SystemExit("report.py: needs h5py (Debian: apt-get install python3-h5py)")
try:
    import yaml
except ImportError:  # pragma: no cover
    raise SystemExit("report.py: needs PyYAML (Debian: apt-get install python3-yaml)")


class DataError(Exception):
    """Something the user can fix: a file, point, metric or tick that is not there (exit 2)."""


# ---- statistics as trustsim computes them ----------------------------------------------------

def _load_gsl():
    """GSL's shared library, with the two functions the report calls from it."""
    name = ctypes.util.find_library("gsl")
    if name is None:  # pragma: no cover - told to the user, not tested
        raise SystemExit("report.py: needs GSL's library (Debian: apt-get install libgsl27)")
    lib = ctypes.CDLL(name)
    lib.gsl_set_error_handler_off()  # a domain error returns NaN instead of aborting
    for fn, args in (("gsl_cdf_tdist_Pinv", 2), ("gsl_sf_lngamma", 1)):
        getattr(lib, fn).restype = ctypes.c_double
        getattr(lib, fn).argtypes = [ctypes.c_double] * args
    return lib


GSL = _load_gsl()


def t_quantile(p, df):
    """gsl_cdf_tdist_Pinv: the p quantile of Student's t with df degrees of freedom."""
    return GSL.gsl_cdf_tdist_Pinv(float(p), float(df))


LD = np.longdouble


def as_columns(x):
    """A 1-D sample as one column [value, 1]; a 2-D array as it is."""
    return x[:, np.newaxis] if x.ndim == 1 else x


def gsl_mean(values):
    """gsl_stats_mean of a 1-D array, or of each column of a 2-D one [value, column] whose NaNs
    are left out (each column's running mean counts only its finite values, in row order)."""
    x = np.asarray(values, dtype=float)
    column = x.ndim == 1
    x = as_columns(x)
    mean = np.zeros(x.shape[1], dtype=LD)
    count = np.zeros(x.shape[1], dtype=LD)
    for row in x:
        use = np.isfinite(row)
        count[use] += 1
        mean[use] += (row[use].astype(LD) - mean[use]) / count[use]
    out = mean.astype(float)
    out[count == 0] = np.nan
    return out[0] if column else out


def gsl_variance_m(values, mean):
    """gsl_stats_variance_m: the sample variance (divisor n - 1) about a given mean, per column
    as gsl_mean; NaN with fewer than 2 values."""
    x = np.asarray(values, dtype=float)
    column = x.ndim == 1
    x = as_columns(x)
    mean = np.broadcast_to(np.asarray(mean, dtype=float), (x.shape[1],))
    var = np.zeros(x.shape[1], dtype=LD)
    count = np.zeros(x.shape[1], dtype=LD)
    for row in x:
        use = np.isfinite(row)
        count[use] += 1
        delta = (row[use] - mean[use]).astype(LD)  # a double subtraction, then widened
        var[use] += (delta * delta - var[use]) / count[use]
    n = count.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = var.astype(float) * (n / (n - 1.0))
    out[n < 2] = np.nan
    return out[0] if column else out


def gsl_quantile_sorted(sorted_values, f):
    """gsl_stats_quantile_from_sorted_data: linear interpolation between order statistics
    (numpy's default, R's type 7) of values sorted in increasing order."""
    s = np.asarray(sorted_values, dtype=float)
    n = s.size
    if n == 0:
        return math.nan
    index = f * (n - 1)
    lhs = int(index)
    delta = index - lhs
    if lhs == n - 1:
        return float(s[lhs])
    return float((1 - delta) * s[lhs] + delta * s[lhs + 1])


def quantiles_over_time(values, fs):
    """The quantiles fs of each column of values [replicate, time] over its finite values, as
    gsl_quantile_sorted computes them: an array [len(fs), time] (NaN where a column is empty)."""
    x = np.asarray(values, dtype=float)
    s = np.sort(np.where(np.isfinite(x), x, np.nan), axis=0)  # NaNs last
    n = np.isfinite(s).sum(axis=0)
    out = np.full((len(fs), x.shape[1]), np.nan)
    for t in range(x.shape[1]):
        column = s[: n[t], t]
        for k, f in enumerate(fs):
            out[k, t] = gsl_quantile_sorted(column, f)
    return out


def headline(values):
    """What `trustsim info` prints for a metric: (mean, q05, q95, n) of the finite values,
    the mean taken over the values sorted (as info sorts them before averaging)."""
    v = np.sort(np.asarray(values, dtype=float)[np.isfinite(values)])
    if v.size == 0:
        return math.nan, math.nan, math.nan, 0
    return (float(gsl_mean(v)), gsl_quantile_sorted(v, 0.05), gsl_quantile_sorted(v, 0.95),
            int(v.size))


def format_headline(stat):
    """A headline cell exactly as `trustsim info` prints it: '0.645 [0.593, 0.684]'."""
    mean, lo, hi, n = stat
    if n == 0:
        return "no finite value"
    return f"{mean:.3f} [{lo:.3f}, {hi:.3f}]"


def hedges_correction(m):
    """Hedges' exact small-sample correction J(m) (ts_compare_hedges_correction)."""
    if not m > 1.0:
        return math.nan
    lngamma = GSL.gsl_sf_lngamma
    return math.exp(lngamma(m / 2.0) - 0.5 * math.log(m / 2.0) - lngamma((m - 1.0) / 2.0))


def welch(a, b, level=0.95):
    """ts_compare_welch over the columns of a [replicate, time] and b [replicate, time] (or two
    1-D samples), B minus A, counting each column's finite values. A dict of arrays [time] (or of
    numbers): n_a, n_b, mean_a, mean_b, sd_a, sd_b, diff, se, df, t_crit, ci_low, ci_high,
    cohens_d, hedges_g; NaN where a side has fewer than 2 values (compare refuses those)."""
    scalar = np.ndim(a) == 1
    a, b = as_columns(np.asarray(a, dtype=float)), as_columns(np.asarray(b, dtype=float))
    na = np.isfinite(a).sum(axis=0).astype(float)
    nb = np.isfinite(b).sum(axis=0).astype(float)
    ma, mb = gsl_mean(a), gsl_mean(b)
    va, vb = gsl_variance_m(a, ma), gsl_variance_m(b, mb)
    with np.errstate(divide="ignore", invalid="ignore"):
        qa, qb = va / na, vb / nb
        se = np.sqrt(qa + qb)
        diff = mb - ma
        spread = se > 0.0
        df = np.where(spread, (qa + qb) * (qa + qb) / (qa * qa / (na - 1.0) + qb * qb / (nb - 1.0)),
                      np.nan)
        t_crit = np.full(df.shape, np.nan)
        t_crit[spread] = [t_quantile(0.5 + level / 2.0, d) for d in df[spread]]
        low = np.where(spread, diff - t_crit * se, diff)
        high = np.where(spread, diff + t_crit * se, diff)
        m = na + nb - 2.0
        sp = np.sqrt(((na - 1.0) * va + (nb - 1.0) * vb) / m)
        d = np.where(sp > 0.0, diff / sp, np.nan)
        g = np.array([hedges_correction(x) for x in m]) * d
    out = {"n_a": na, "n_b": nb, "mean_a": ma, "mean_b": mb, "sd_a": np.sqrt(va),
           "sd_b": np.sqrt(vb), "diff": diff, "se": se, "df": df, "t_crit": t_crit,
           "ci_low": low, "ci_high": high, "cohens_d": d, "hedges_g": g, "level": level}
    few = (na < 2) | (nb < 2)
    for key in out:
        if key not in ("n_a", "n_b", "level"):
            out[key] = np.where(few, np.nan, out[key])
    if scalar:
        return {k: (v if k == "level" else float(v[0])) for k, v in out.items()}
    return out


# ---- reading an output file ------------------------------------------------------------------

def text(value):
    """An HDF5 string (bytes or str) as str."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


# Days in one tick, for converting the time axis.
DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12.0, "year": 365.25}
# Ticks in one year, for the headline ticks (a year of weekly ticks is 52, as the tutorial's
# `compare --at 52`).
TICKS_PER_YEAR = {"day": 365, "week": 52, "month": 12}


class Output:
    """One trustsim output file, opened read-only; every read keeps only runs marked done."""

    def __init__(self, path):
        if not os.path.isfile(path):
            raise DataError(f"{path}: no such file")
        try:
            self.h5 = h5py.File(path, "r")
        except OSError as exc:
            raise DataError(f"{path}: not an HDF5 file ({exc})") from None
        f = self.h5
        if text(f.attrs.get("format", "")) != "trustsim" or "series" not in f or "done" not in f:
            raise DataError(f"{path}: not a trustsim output (no format attribute, /series or "
                            f"/done)")
        self.path = path
        self.done = f["done"][()].astype(bool)  # [point, replicate]
        self.n_points, self.n_replicates = self.done.shape
        self.metrics = [name for name, d in f["series"].items()
                        if isinstance(d, h5py.Dataset) and d.ndim == 3]
        n_times = f["series"][self.metrics[0]].shape[2] if self.metrics else 0
        self.ticks = f["time"][()].astype(int) if "time" in f else np.arange(n_times)
        self.tick_unit = text(f.attrs.get("tick_unit", "week"))
        self.scenario = text(f.attrs.get("scenario", os.path.basename(path)))
        self.version = text(f.attrs.get("trustsim_version", "?"))
        self.created = text(f.attrs.get("created", "?"))
        self.master_seed = int(f.attrs.get("master_seed", 0))
        self.rng_type = text(f.attrs.get("rng_type", "?"))
        self.format_version = int(f.attrs.get("format_version", 0))
        self.organisations = ([text(o) for o in f["organisation"][()]]
                              if "organisation" in f else [])
        self.scenario_text = self._string("scenario/text")
        self.resolved_text = self._string("scenario/resolved")
        try:
            self.resolved = yaml.safe_load(self.resolved_text) or {}
        except yaml.YAMLError:
            self.resolved = {}
        sweep = self.resolved.get("sweep") or {}
        self.design = sweep.get("design", "none") if self.n_points > 1 or sweep else "none"
        self.sweep_n = sweep.get("n")
        # swept parameters in the order of the sweep block, then any other stored ones
        stored = self.points()
        order = list((sweep.get("parameters") or {}).keys())
        self.parameters = [p for p in order if p in stored] + [p for p in stored if p not in order]
        self.description = " ".join(str(self.resolved.get("description", "")).split())

    def _string(self, name):
        return self.h5[name].asstr()[()] if name in self.h5 else ""

    def close(self):
        self.h5.close()

    # -- axes

    def check_point(self, point):
        if not 0 <= point < self.n_points:
            raise DataError(f"{self.path}: point {point} is out of range: the file has "
                            f"{self.n_points} point{'s' if self.n_points != 1 else ''} "
                            f"(0 to {self.n_points - 1})")

    def tick_index(self, tick):
        """The time index of a tick number (None: the last)."""
        if tick is None:
            return len(self.ticks) - 1
        hits = np.flatnonzero(self.ticks == tick)
        if hits.size == 0:
            raise DataError(f"{self.path}: tick {tick} is outside the run (ticks "
                            f"{self.ticks[0]} to {self.ticks[-1]})")
        return int(hits[0])

    def runs_done(self, point):
        return int(self.done[point].sum())

    def long_name(self, metric):
        d = self.h5["series"].get(metric)
        return text(d.attrs["long_name"]) if d is not None and "long_name" in d.attrs else ""

    # -- series

    def has(self, metric):
        return metric in self.metrics

    def series(self, metric, point):
        """[replicate, time] of one point: the done runs only (in replicate order)."""
        if not self.has(metric):
            raise DataError(f"{self.path}: no metric '{metric}'")
        values = np.array(self.h5["series"][metric][point, :, :], dtype=float)
        return values[self.done[point]]

    def at_tick(self, metric, tick=None):
        """[point, replicate] at one tick (None: the last), runs not done as NaN."""
        index = self.tick_index(tick)
        values = np.array(self.h5["series"][metric][:, :, index], dtype=float)
        values[~self.done] = np.nan
        return values

    # -- sweeps

    def points(self):
        """{parameter path: values [point]} (empty: not a sweep)."""
        if "points" not in self.h5:
            return {}
        group = self.h5["points"]
        return {name: np.asarray(group[name][()], dtype=float) for name in group
                if name != "point" and isinstance(group[name], h5py.Dataset)}

    def point_label(self, point):
        """The swept values of a point as `trustsim compare` prints them: 'path=value, ...'."""
        points = self.points()
        return ", ".join(f"{name}={c_g(points[name][point])}" for name in sorted(points))

    # -- final state

    def final_network(self, point):
        """The final trust between organisations of one point, over its done runs: a dict with
        organisations, pairs [(i, j)] (ordered pairs that share a collaboration), trust [run,
        pair] (organisation i's trust in j), stage [run, pair] (-1 none, 0..3), faith [run,
        organisation] and active [run, organisation]. Only the pairs the output holds a value for
        in some run are listed, so that a sparse layout maps onto the same structure."""
        f = self.h5
        if "final" not in f or "trust_interorg" not in f["final"]:
            return None
        done = self.done[point]
        trust = np.array(f["final/trust_interorg"][point], dtype=float)[done]
        stage = np.array(f["final/stage"][point], dtype=np.int8)[done]
        faith = np.array(f["final/faith"][point], dtype=float)[done]
        active = np.array(f["final/active"][point], dtype=np.uint8)[done]
        n = faith.shape[1]
        names = self.organisations or [str(i) for i in range(n)]
        if "pair_organisation" in f["final"]:  # format 2: the pairs are the file's own
            rows = np.asarray(f["final/pair_organisation"][()], dtype=int)
            cols = np.asarray(f["final/pair_partner"][()], dtype=int)
            return {"organisations": names, "pairs": list(zip(rows.tolist(), cols.tolist())),
                    "trust": trust, "stage": stage, "faith": faith, "active": active}
        # format 1: [organisation, partner], NaN where two organisations share nothing
        pairs = [(i, j) for i in range(n) for j in range(n)
                 if i != j and np.isfinite(trust[:, i, j]).any()]
        rows = np.array([p[0] for p in pairs], dtype=int)
        cols = np.array([p[1] for p in pairs], dtype=int)
        return {"organisations": names, "pairs": pairs, "trust": trust[:, rows, cols],
                "stage": stage[:, rows, cols], "faith": faith, "active": active}

    # -- sensitivity

    def stored_sensitivity(self):
        """{metric: indices} of every /sensitivity/<metric> group (see sobol_indices)."""
        group = self.h5.get("sensitivity")
        if group is None:
            return {}
        return {metric: read_sensitivity_group(g) for metric, g in group.items()
                if isinstance(g, h5py.Group)}


def read_sensitivity_group(g):
    names = [text(n) for n in g["parameter"][()]]
    out = {"parameters": names, "tick": int(g.attrs.get("tick", -1)),
           "n_base": int(g.attrs.get("n_base", 0)), "n_used": int(g.attrs.get("n_used", 0)),
           "bootstrap": int(g.attrs.get("bootstrap", 0)),
           "level": float(g.attrs.get("level", 0.95))}
    for key in ("first", "first_lo", "first_hi", "total", "total_lo", "total_hi"):
        out[key] = np.asarray(g[key][()], dtype=float)
    return out


def flatten_scenario(tree, prefix=""):
    """A resolved scenario as {path: value}: keys joined by dots, list elements named by their
    `id`, else by their `type` (events: `events.turnover`, a second one `events.turnover#2`) or
    the pair they relate (`relations.pairs.acute+community`), else by their index, so that an
    event added in front does not make every later one look changed; lists of plain values are
    kept whole."""
    flat = {}
    if isinstance(tree, dict):
        for key, value in tree.items():
            flat.update(flatten_scenario(value, f"{prefix}{key}."))
    elif isinstance(tree, list) and any(isinstance(v, (dict, list)) for v in tree):
        seen = {}
        for index, value in enumerate(tree):
            name = index
            if isinstance(value, dict):
                if "id" in value:
                    name = value["id"]
                elif "type" in value:
                    name = str(value["type"])
                elif isinstance(value.get("between"), list):
                    name = "+".join(str(v) for v in value["between"])
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                name = f"{name}#{seen[name]}"
            flat.update(flatten_scenario(value, f"{prefix}{name}."))
    else:
        flat[prefix[:-1]] = tree
    return flat


def scenario_differences(a, b):
    """The settings in which the scenario as run of b differs from a's: [(path, value in a,
    value in b)], None standing for a setting one of them does not have. The name,
    description, seed and replicates are left out (shown elsewhere)."""
    fa, fb = flatten_scenario(a.resolved), flatten_scenario(b.resolved)
    skip = {"name", "description"}
    return [(k, fa.get(k), fb.get(k)) for k in list(dict.fromkeys([*fa, *fb]))
            if k not in skip and fa.get(k) != fb.get(k)]


def c_g(x):
    """printf's %g of a number."""
    return "%g" % x


# ---- what the report shows ------------------------------------------------------------------

class Input:
    """One side of a report: an output file and one of its points, with a label."""

    def __init__(self, output, point, label):
        output.check_point(point)
        self.out, self.point, self.label = output, point, label

    @property
    def n_runs(self):
        return self.out.runs_done(self.point)

    def series(self, metric):
        return self.out.series(metric, self.point)

    def values(self, metric, tick):
        """The values `trustsim compare` counts at a tick: done runs, in replicate order (NaN
        included; the statistics above skip them)."""
        return self.series(metric)[:, self.out.tick_index(tick)]


class Tick:
    """A tick of the headline table: its number, when it is in words ('one year', '5.0 years',
    'week 30') and whether it is the last."""

    def __init__(self, out, tick):
        self.tick = int(tick)
        self.unit = out.tick_unit or "tick"
        self.end = self.tick == int(out.ticks[-1])
        per_year = TICKS_PER_YEAR.get(out.tick_unit)
        y = years(out, self.tick)
        if per_year and self.tick == per_year:
            self.when = "one year"
        elif per_year and self.tick == 2 * per_year:
            self.when = "two years"
        elif per_year and self.end and y >= 1.5:
            self.when = f"{y:.1f} years"
        else:
            self.when = f"{self.unit} {self.tick}"

    @property
    def heading(self):
        """'one year (week 52)', 'end: 5.0 years (week 260)'."""
        where = f" ({self.unit} {self.tick})" if not self.when.startswith(self.unit) else ""
        return f"{'end: ' if self.end else ''}{self.when}{where}"

    @property
    def by(self):
        """'by one year', 'by the end (5.0 years)'."""
        if self.end:
            return f"by the end ({self.when})"
        return f"by {self.when}"


def headline_ticks(out, requested=None):
    """The ticks of the headline table: the requested ones (which must exist), else one year,
    two years (when the run lasts longer) and the last tick."""
    if requested:
        for t in requested:
            out.tick_index(t)
        return [Tick(out, t) for t in requested]
    last = int(out.ticks[-1])
    per_year = TICKS_PER_YEAR.get(out.tick_unit)
    ticks = []
    if per_year:
        stored = set(out.ticks.tolist())
        ticks = [t for t in (per_year, 2 * per_year) if t < last and t in stored]
    return [Tick(out, t) for t in ticks + [last]]


def years(out, tick):
    return tick * DAYS.get(out.tick_unit, 7.0) / DAYS["year"]


def headline_table(inp, metrics, ticks):
    """{metric: {tick: (mean, q05, q95, n)}} as `trustsim info` computes them."""
    table = {}
    for metric in metrics:
        if not inp.out.has(metric):
            continue
        series = inp.series(metric)
        table[metric] = {t.tick: headline(series[:, inp.out.tick_index(t.tick)]) for t in ticks}
    return table


FAN = (0.05, 0.25, 0.5, 0.75, 0.95)


def fan(inp, metric):
    """Quantiles 5%, 25%, 50%, 75% and 95% over the done runs at every tick: [5, time]."""
    return quantiles_over_time(inp.series(metric), FAN)


def mean_over_runs(inp, metric):
    """The mean over done runs at every tick (NaN where no run has a finite value)."""
    series = inp.series(metric)
    if series.shape[0] == 0:
        return np.full(series.shape[1], np.nan)
    return gsl_mean(series)


def common_ticks(a, b):
    """Tick numbers both outputs hold, with their time indices in each."""
    ta, tb = a.out.ticks, b.out.ticks
    both = np.intersect1d(ta, tb)
    ia = np.searchsorted(ta, both)
    ib = np.searchsorted(tb, both)
    return both, ia, ib


def compare_over_time(a, b, metric, level=0.95):
    """`trustsim compare A B --metric M --at T` at every tick both inputs hold, B minus A:
    (ticks, welch dict of arrays). Unpaired Welch, as compare computes today."""
    ticks, ia, ib = common_ticks(a, b)
    return ticks, welch(a.series(metric)[:, ia], b.series(metric)[:, ib], level)


def compare_at(a, b, metric, tick, level=0.95):
    """`trustsim compare` at one tick: the welch dict of numbers."""
    return welch(a.values(metric, tick), b.values(metric, tick), level)


def response(out, metric, tick):
    """A sweep's response at one tick: per point, (mean, q05, q95, n) over its done runs."""
    values = out.at_tick(metric, tick)
    return [headline(values[p]) for p in range(out.n_points)]


def grid_levels(xs, ys):
    """The levels of two parameters if the points form a full grid, else None."""
    lx, ly = np.unique(xs), np.unique(ys)
    if lx.size < 2 or ly.size < 2 or lx.size * ly.size != len(xs):
        return None
    if len(set(zip(xs.tolist(), ys.tolist()))) != len(xs):
        return None
    return lx, ly


def network_summary(net):
    """Per ordered pair: mean trust over runs, the most common stage and the share of runs in
    each stage; per organisation: mean final faith and the share of runs still engaged."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        trust = np.nanmean(net["trust"], axis=0) if net["trust"].shape[0] else \
            np.full(len(net["pairs"]), np.nan)
        faith = np.nanmean(net["faith"], axis=0) if net["faith"].shape[0] else \
            np.full(len(net["organisations"]), np.nan)
    runs = max(net["stage"].shape[0], 1)
    shares = np.stack([(net["stage"] == s).sum(axis=0) / runs for s in range(4)], axis=0)
    modal = np.where(shares.sum(axis=0) > 0, np.argmax(shares, axis=0), -1)
    engaged = net["active"].mean(axis=0) if net["active"].shape[0] else \
        np.full(len(net["organisations"]), np.nan)
    return {"trust": trust, "stage": modal, "stage_shares": shares, "faith": faith,
            "engaged": engaged}


def trust_matrix(net, summary):
    """Mean final trust as a dense [organisation, partner] matrix (NaN: itself or no pair)."""
    n = len(net["organisations"])
    m = np.full((n, n), np.nan)
    for (i, j), v in zip(net["pairs"], summary["trust"]):
        m[i, j] = v
    return m


# ---- Sobol indices through `trustsim sensitivity` ------------------------------------------

def find_trustsim(explicit=None):
    """The trustsim command: the given path, else build/release/trustsim beside this script's
    repository, else `trustsim` on the PATH; None when there is none."""
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    here = os.path.dirname(os.path.abspath(__file__))
    built = os.path.join(os.path.dirname(here), "build", "release", "trustsim")
    if os.access(built, os.X_OK):
        return built
    return shutil.which("trustsim")


def sobol_indices(out, metric, tick, trustsim):
    """The Sobol indices of a saltelli sweep as `trustsim sensitivity` computes them: the group
    /sensitivity/<metric> when the file holds one for that tick; else the command is run on a
    copy of the file (so the input file is left as it is) and its group read back.
    Returns (indices, source, command): indices as read_sensitivity_group gives them, or None;
    source is "stored", "computed", "no command" or the command's error message; command is
    the `trustsim sensitivity` command line that gives these numbers."""
    command = f"trustsim sensitivity {os.path.basename(out.path)} --metric {metric} --at {tick}"
    stored = out.stored_sensitivity().get(metric)
    if stored is not None and stored["tick"] == tick:
        return stored, "stored", command
    if trustsim is None:
        return None, "no command", command
    with tempfile.TemporaryDirectory(prefix="report-sobol-") as tmp:
        copy = os.path.join(tmp, "inputs.h5")
        shutil.copyfile(out.path, copy)
        run = subprocess.run([trustsim, "sensitivity", copy, "--metric", metric, "--at",
                              str(tick)], capture_output=True, text=True, check=False)
        if run.returncode != 0:
            why = " ".join(run.stderr.replace(copy, os.path.basename(out.path)).split())
            return None, why or f"exit status {run.returncode}", command
        with h5py.File(copy, "r") as f:
            result = read_sensitivity_group(f["sensitivity"][metric])
    return result, "computed", command
