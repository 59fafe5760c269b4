#!/usr/bin/python3
"""One self-contained HTML report of trustsim results: a run, a policy comparison or a sweep.

    scripts/report.py A.h5 [B.h5 ...] -o report.html [--labels A,B] [--at 52,104,260]

- One file, no sweep point given: a run report (header, scenario, headline table, fan charts of
  trust, confidence, faith, cooperation, value and the survey-scale metrics, stage occupancy,
  the act mix, organisations engaged, the final trust network and matrix).
- Two or more (FILE, or FILE:POINT for a point of a sweep): the first is the reference (the
  counterfactual), each other is compared with it: the same charts overlaid, a difference panel
  with Welch 95% intervals at every tick and one sentence per headline metric, with the numbers
  `trustsim compare` prints.
- One sweep file: response curves against each swept parameter, a heat map for two-parameter
  grids, the Sobol indices of `trustsim sensitivity` for saltelli designs.

The file opens offline in any browser: plotly.js (Debian's python3-plotly) and the style are
inline, and a content security policy keeps the page from loading anything. Colours are the
Okabe-Ito and Paul Tol colour-blind-safe palettes and cividis. Every number comes from
scripts/report_data.py, which computes as the command-line tools do. Exit status: 0 success,
2 bad usage or an input that cannot be reported.
"""

import argparse
import base64
import datetime
import hashlib
import html
import json
import os
import shlex
import sys

import numpy as np

import report_data as rd

try:
    import plotly
    import plotly.graph_objects as go
    import plotly.io as pio
    import plotly.offline
except ImportError:  # pragma: no cover - told to the user, not tested
    sys.exit("report.py: needs plotly (Debian: apt-get install python3-plotly)")

pio.templates.default = "none"

# ---- vocabulary ------------------------------------------------------------------------------

# Okabe and Ito (2008): one colour per input, in this order (the reference first).
INPUT_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
INPUT_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot", "solid")
STAGES = (
    ("stage0_share", "0 arm's length", "#D55E00"),
    ("stage1_share", "1 agreement-driven", "#E69F00"),
    ("stage2_share", "2 knowledge-based", "#56B4E9"),
    ("stage3_share", "3 collaboration-driven", "#009E73"),
)
STAGE_LINES = {0: ("dot", 1.5), 1: ("dash", 2.0), 2: ("solid", 2.2), 3: ("solid", 5.0)}
# The ten kinds of act in the model's order, in Paul Tol's "muted" scheme; cooperative ones are
# stacked above zero and uncooperative ones below, so the split survives greyscale printing.
ACTS = (
    ("coordinate", "#332288", True), ("share_info", "#88CCEE", True), ("help", "#44AA99", True),
    ("promise", "#117733", True), ("deliver", "#999933", True), ("fail", "#DDCC77", False),
    ("break", "#CC6677", False), ("deceive", "#882255", False), ("compete", "#AA4499", False),
    ("withhold", "#BBBBBB", False),
)
CIVIDIS = [[0.0, "#00224E"], [0.25, "#35456C"], [0.5, "#666970"], [0.75, "#A59C74"],
           [1.0, "#E8D35C"]]  # cividis up to 0.9 of its range: the last yellow is too pale
PUOR = [[0.0, "#2D004B"], [0.25, "#8073AC"], [0.5, "#F7F7F7"], [0.75, "#E08214"],
        [1.0, "#7F3B08"]]

TITLES = {
    "trust_interorg": "Inter-organisational trust",
    "trust_interpersonal": "Interpersonal trust",
    "trust_group": "Group-image trust",
    "confidence": "Confidence from agreements",
    "faith": "Faith in the collaboration",
    "coop_rate": "Cooperation rate",
    "collab_value": "Value of the collaboration",
    "active_orgs": "Organisations still engaged",
    "stage0_share": "Pairs at arm's length (stage 0)",
    "stage1_share": "Pairs in agreement-driven trust (stage 1)",
    "stage2_share": "Pairs in knowledge-based trust (stage 2)",
    "stage3_share": "Pairs in collaboration-driven trust (stage 3)",
    "survey_interorg": "Survey: trust between organisations",
    "survey_interindividual": "Survey: trust between people",
    "survey_ability": "Survey: ability",
    "survey_benevolence": "Survey: benevolence",
    "survey_integrity": "Survey: integrity",
    "survey_predictability": "Survey: predictability",
}
# In the sentences: "raises inter-organisational trust by ..."
NOUNS = {
    "trust_interorg": "inter-organisational trust", "trust_interpersonal": "interpersonal trust",
    "trust_group": "group-image trust", "confidence": "confidence from agreements",
    "faith": "faith in the collaboration", "coop_rate": "the cooperation rate",
    "collab_value": "the value of the collaboration",
    "active_orgs": "the number of organisations still engaged",
    "stage0_share": "the share of pairs at arm's length",
    "stage1_share": "the share of pairs in agreement-driven trust",
    "stage2_share": "the share of pairs in knowledge-based trust",
    "stage3_share": "the share of pairs in collaboration-driven trust",
}
# The headline table: the metrics of `trustsim info` (trust_interorg, faith, stage shares,
# active_orgs) with interpersonal trust, confidence and cooperation beside them.
HEADLINE = ("trust_interorg", "trust_interpersonal", "faith", "confidence", "coop_rate",
            "stage0_share", "stage1_share", "stage2_share", "stage3_share", "active_orgs")
FANS = ("trust_interorg", "trust_interpersonal", "trust_group", "confidence", "faith",
        "coop_rate", "collab_value", "active_orgs")
SURVEYS = ("survey_interorg", "survey_interindividual", "survey_ability", "survey_benevolence",
           "survey_integrity", "survey_predictability")
DIFFERENCES = ("trust_interorg", "trust_interpersonal", "trust_group", "faith", "confidence",
               "coop_rate", "collab_value", "stage3_share")
SWEEP_METRICS = ("trust_interorg", "trust_interpersonal", "faith", "confidence", "coop_rate",
                 "collab_value")
SOBOL_METRICS = ("trust_interorg", "faith", "coop_rate")
MAX_NETWORK = 30  # organisations: above this the network is not drawn
MAX_MATRIX = 40
MAX_TRAJECTORY_POINTS = 12


def title(metric, out=None):
    if metric in TITLES:
        return TITLES[metric]
    if metric.startswith("acts_"):
        return f"Acts: {metric[5:].replace('_', ' ')}"
    if metric.startswith("perceived_"):
        return f"Perceived {metric[10:]}"
    if metric.startswith("payoff_"):
        return f"Payoff of {metric[7:]} leaders"
    long_name = out.long_name(metric) if out is not None else ""
    return long_name[:1].upper() + long_name[1:] if long_name else metric.replace("_", " ")


def axis_label(metric, tick_unit, n_orgs=None):
    """A y-axis label with the metric's unit or scale."""
    if metric.startswith("acts_"):
        return f"acts per {tick_unit}"
    if metric.startswith("stage") and metric.endswith("_share"):
        return "share of organisation pairs (0 to 1)"
    if metric.startswith("survey_"):
        return "survey score (1 to 5)"
    if metric.startswith("payoff_"):
        return f"payoff per {tick_unit}"
    special = {
        "active_orgs": f"organisations engaged{f' (of {n_orgs})' if n_orgs else ''}",
        "coop_rate": "cooperative share of acts (0 to 1)",
        "collab_value": "cumulative value (model units)",
    }
    return special.get(metric, f"{title(metric).lower()} (0 to 1)"
                       if metric in TITLES else f"{metric.replace('_', ' ')} (0 to 1)")


def esc(text_):
    """Text for a chart's title, name or hover label (plotly reads them as HTML)."""
    return html.escape(str(text_), quote=False)


def plural(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"


# ---- numbers into JSON -----------------------------------------------------------------------

def clean(values, digits=6):
    """A list for a chart: numbers to `digits` significant digits, NaN as a gap (None)."""
    out = []
    for v in np.asarray(values, dtype=float).ravel():
        out.append(float(f"{v:.{digits}g}") if np.isfinite(v) else None)
    return out


def g6(x):
    """A number as `trustsim compare` prints it (%.6g)."""
    return "%.6g" % x


def g4(x):
    return "%.4g" % x


# ---- time ------------------------------------------------------------------------------------

class TimeAxis:
    """Tick numbers in the calendar unit that reads best (the rule of scripts/plot.py and
    `trustsim info`): years beyond two years, months beyond six, else the tick unit."""

    def __init__(self, out):
        self.tick_unit = out.tick_unit
        per_tick = rd.DAYS.get(out.tick_unit, 7.0)
        span = float(out.ticks[-1]) * per_tick
        if span > 2 * rd.DAYS["year"]:
            self.unit = "year"
        elif span > 6 * rd.DAYS["month"] and per_tick < rd.DAYS["month"]:
            self.unit = "month"
        else:
            self.unit = out.tick_unit
        self.factor = per_tick / rd.DAYS[self.unit]
        self.title = f"time ({self.unit}s since start)"

    def x(self, ticks):
        return clean(np.asarray(ticks, dtype=float) * self.factor, 8)

    def hover(self):
        return f"{self.tick_unit} %{{customdata}}"


# ---- figures ---------------------------------------------------------------------------------

def legend_below(n_entries, per_row=2, height=360, top=48):
    """Layout settings that put a horizontal legend of n entries under the x-axis title,
    growing the bottom margin by one line per row of entries."""
    rows = -(-n_entries // per_row)
    bottom = 70 + 20 * rows
    plot = height - top - bottom
    return dict(margin=dict(l=64, r=18, t=top, b=bottom),
                legend=dict(orientation="h", x=0, y=-52 / plot, yanchor="top"))


def layout(title_text, xtitle, ytitle, height=360, **extra):
    base = dict(
        title=dict(text=title_text, x=0.01, xanchor="left", font=dict(size=15)),
        height=height, margin=dict(l=64, r=18, t=48, b=52),
        font=dict(family="system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, "
                         "sans-serif", size=12, color="#222"),
        paper_bgcolor="white", plot_bgcolor="white",
        xaxis=dict(title=dict(text=xtitle), showline=True, linecolor="#888", ticks="outside",
                   gridcolor="#e8e8e8", zeroline=False, automargin=True),
        yaxis=dict(title=dict(text=ytitle), showline=True, linecolor="#888", ticks="outside",
                   gridcolor="#e8e8e8", zeroline=False, automargin=True),
        hoverlabel=dict(namelength=-1), showlegend=False,
        legend=dict(orientation="h", x=0, y=-0.22, yanchor="top"),
    )
    base.update(extra)
    return base


def rgba(hex_colour, alpha):
    h = hex_colour.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def band(x, lo, hi, colour, alpha, name, legendgroup=None, showlegend=False):
    """A filled band between lo and hi (a closed polygon, gaps left out)."""
    x, lo, hi = np.asarray(x, dtype=float), np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    ok = np.isfinite(x) & np.isfinite(lo) & np.isfinite(hi)
    xs = np.concatenate([x[ok], x[ok][::-1]])
    ys = np.concatenate([hi[ok], lo[ok][::-1]])
    return go.Scatter(x=clean(xs, 8), y=clean(ys), fill="toself", mode="lines",
                      line=dict(width=0), fillcolor=rgba(colour, alpha), hoverinfo="skip",
                      name=name, legendgroup=legendgroup, showlegend=showlegend)


class Report:
    """Collects the sections and charts of one report, then writes the HTML."""

    def __init__(self, inputs, args):
        self.inputs = inputs
        self.args = args
        self.figures = []  # (id, plotly JSON)
        self.sections = []  # (anchor, heading, html)
        self.ref = inputs[0]
        self.time = TimeAxis(self.ref.out)

    # -- charts

    def chart(self, fig, css="chart", note=None):
        """A chart's placeholder; the figure is drawn from the JSON at the end of the page."""
        fid = f"chart-{len(self.figures) + 1}"
        self.figures.append((fid, fig.to_plotly_json()))
        caption = f'<div class="note">{note}</div>' if note else ""
        return f'<figure class="{css}"><div id="{fid}" class="plot"></div>{caption}</figure>'

    def fan_chart(self, metric):
        inputs = self.inputs
        traces = []
        many = len(inputs) > 1
        for k, inp in enumerate(inputs):
            if not inp.out.has(metric):
                continue
            q = rd.fan(inp, metric)
            ticks = inp.out.ticks
            x = np.asarray(ticks, dtype=float) * self.time.factor
            colour = INPUT_COLOURS[k % len(INPUT_COLOURS)]
            group = f"in{k}"
            traces.append(band(x, q[0], q[4], colour, 0.14 if many else 0.18,
                               f"{esc(inp.label)}: 90% of runs" if many else "90% of runs",
                               group))
            if not many:
                traces.append(band(x, q[1], q[3], colour, 0.35, "50% of runs", group))
            custom = np.stack([ticks, q[0], q[4]], axis=1)
            traces.append(go.Scatter(
                x=self.time.x(ticks), y=clean(q[2]), mode="lines",
                name=esc(inp.label) if many else "median",
                line=dict(color=colour, width=2, dash=INPUT_DASHES[k % len(INPUT_DASHES)]),
                customdata=[[int(c[0]), *clean(c[1:], 4)] for c in custom],
                hovertemplate=(f"{esc(inp.label) + ': ' if many else ''}median "
                               "%{y:.4g}, 90% of runs %{customdata[1]}..%{customdata[2]}"
                               f"<br>{self.time.tick_unit} %{{customdata[0]}}<extra></extra>"),
                legendgroup=group))
        if not traces:
            return ""
        n_orgs = len(self.ref.out.organisations)
        extra = legend_below(len(inputs)) if many else {}
        fig = go.Figure(traces, layout(title(metric, self.ref.out), self.time.title,
                                       axis_label(metric, self.ref.out.tick_unit, n_orgs),
                                       showlegend=many, hovermode="x unified" if many else
                                       "closest", **extra))
        flat_axis(fig, metric, [i.series(metric) for i in inputs if i.out.has(metric)], n_orgs)
        return self.chart(fig)

    def stage_chart(self, inp):
        traces = []
        ticks = inp.out.ticks
        for metric, name, colour in STAGES:
            if not inp.out.has(metric):
                return ""
            mean = rd.mean_over_runs(inp, metric)
            traces.append(go.Scatter(
                x=self.time.x(ticks), y=clean(np.nan_to_num(mean)), mode="lines", name=name,
                stackgroup="stages", line=dict(width=0.5, color=colour), fillcolor=colour,
                customdata=ticks.tolist(),
                hovertemplate=f"{name}: %{{y:.3f}}<br>{self.time.hover()}<extra></extra>"))
        fig = go.Figure(traces, layout(
            f"Stage occupancy{': ' + esc(inp.label) if len(self.inputs) > 1 else ''}",
            self.time.title, "share of organisation pairs", showlegend=True, height=460,
            **legend_below(4, height=460)))
        fig.update_yaxes(range=[0, 1.0001])
        return self.chart(fig)

    def acts_chart(self, inp, y_range):
        traces = []
        ticks = inp.out.ticks
        for kind, colour, coop in ACTS:
            metric = f"acts_{kind}"
            if not inp.out.has(metric):
                continue
            mean = np.nan_to_num(rd.mean_over_runs(inp, metric))
            label = kind.replace("_", " ") + ("" if coop else " (uncooperative)")
            traces.append(go.Scatter(
                x=self.time.x(ticks), y=clean(mean if coop else -mean), mode="lines",
                name=label, stackgroup="coop" if coop else "uncoop",
                line=dict(width=0.4, color=colour), fillcolor=colour,
                customdata=[[int(t), v] for t, v in zip(ticks, clean(mean, 4))],
                hovertemplate=(f"{label}: %{{customdata[1]}} per {inp.out.tick_unit}"
                               f"<br>{inp.out.tick_unit} %{{customdata[0]}}<extra></extra>")))
        if not traces:
            return ""
        # the legend in the order of the stacks from top to bottom (the traces stay in the
        # order they stack in: cooperative up from 0, uncooperative down from 0)
        coop = [t for t in traces if t.stackgroup == "coop"]
        for rank, t in enumerate(coop[::-1] + [t for t in traces if t.stackgroup != "coop"]):
            t.legendrank = rank
        fig = go.Figure(traces, layout(
            f"Act mix{': ' + esc(inp.label) if len(self.inputs) > 1 else ''}", self.time.title,
            f"acts per {inp.out.tick_unit} (mean over runs)", height=460, showlegend=True,
            **legend_below(len(traces), per_row=2, height=460)))
        fig.update_layout(legend_traceorder="normal")
        if y_range:
            fig.update_yaxes(range=y_range)
        return self.chart(fig)

    def network_chart(self, inp, net, summary, scale):
        names = net["organisations"]
        n = len(names)
        angle = np.pi / 2 - 2 * np.pi * np.arange(n) / n
        px, py = np.cos(angle), np.sin(angle)
        traces = []
        mids_x, mids_y, mids_c, mids_text = [], [], [], []
        for (i, j), trust, stage, shares in zip(net["pairs"], summary["trust"], summary["stage"],
                                                summary["stage_shares"].T):
            if not np.isfinite(trust):
                continue
            # the half of the line at i's end is i's trust in j
            mx, my = (px[i] + px[j]) / 2, (py[i] + py[j]) / 2
            dash, width = STAGE_LINES.get(int(stage), ("dot", 1.0))
            colour = cividis_colour((trust - scale[0]) / (scale[1] - scale[0]))
            traces.append(go.Scatter(x=clean([px[i], mx]), y=clean([py[i], my]), mode="lines",
                                     line=dict(color=colour, width=width, dash=dash),
                                     hoverinfo="skip", showlegend=False))
            hx, hy = px[i] + (mx - px[i]) * 0.55, py[i] + (my - py[i]) * 0.55
            mids_x.append(hx)
            mids_y.append(hy)
            mids_c.append(trust)
            share_text = ", ".join(f"{STAGES[s][1]} {shares[s]:.0%}" for s in range(4)
                                   if shares[s] > 0)
            mids_text.append(f"{names[i]} trusts {names[j]}: {trust:.3f}<br>stage: "
                             f"{share_text} of runs")
        traces.append(go.Scatter(
            x=clean(mids_x), y=clean(mids_y), mode="markers", showlegend=False,
            marker=dict(size=7, color=clean(mids_c), colorscale=CIVIDIS, cmin=scale[0],
                        cmax=scale[1],
                        line=dict(width=0.5, color="white"),
                        colorbar=dict(title=dict(text="trust", side="right"), thickness=12,
                                      len=0.8)),
            text=mids_text, hovertemplate="%{text}<extra></extra>"))
        node_text = [f"{names[i]}<br>mean final faith {summary['faith'][i]:.3f}<br>engaged at "
                     f"the end in {summary['engaged'][i]:.0%} of runs" for i in range(n)]
        traces.append(go.Scatter(
            x=clean(px), y=clean(py), mode="markers+text", text=names,
            textposition=[("middle right" if x > 0.3 else "middle left" if x < -0.3 else
                           "top center" if y >= 0 else "bottom center") for x, y in zip(px, py)],
            marker=dict(size=16, color="white", line=dict(width=2, color="#333")),
            hovertext=node_text, hovertemplate="%{hovertext}<extra></extra>", showlegend=False,
            cliponaxis=False))
        for stage in range(4):
            dash, width = STAGE_LINES[stage]
            traces.append(go.Scatter(x=[None], y=[None], mode="lines", name=STAGES[stage][1],
                                     line=dict(color="#555", width=width, dash=dash)))
        axis = dict(visible=False, range=[-1.6, 1.6], fixedrange=False)
        fig = go.Figure(traces, layout(
            f"Final trust network{': ' + esc(inp.label) if len(self.inputs) > 1 else ''}", "", "",
            height=520, showlegend=True, xaxis=axis, yaxis=dict(axis, scaleanchor="x"),
            legend=dict(orientation="h", x=0, y=-0.02, yanchor="top",
                        title=dict(text="most common stage"))))
        return self.chart(fig, note=(f"Mean over {plural(inp.n_runs, 'run')} at "
                                     f"{self.ref.out.tick_unit} {inp.out.ticks[-1]}. Each line "
                                     "joins two organisations; the half at an organisation's end "
                                     "is coloured by that organisation's trust in the other. "
                                     "Line style: the stage the pair ends in most often."))

    def matrix_chart(self, inp, matrix, names, scale=(0.0, 1.0), diff=False, label=None):
        n = len(names)
        text = [[("" if i == j else "n/a") if not np.isfinite(matrix[i, j]) else
                 f"{matrix[i, j]:+.3f}" if diff else f"{matrix[i, j]:.2f}" for j in range(n)]
                for i in range(n)]
        span = np.nanmax(np.abs(matrix)) if diff and np.isfinite(matrix).any() else 1.0
        span = span if span > 0 else 1.0
        heat = go.Heatmap(
            z=[clean(row) for row in matrix], x=names, y=names,
            colorscale=PUOR if diff else CIVIDIS, zmin=-span if diff else scale[0],
            zmax=span if diff else scale[1], text=text,
            hovertemplate="%{y} in %{x}: %{text}<extra></extra>",
            colorbar=dict(title=dict(text="difference" if diff else "trust", side="right"),
                          thickness=12))
        annotations = []
        if n <= 12:
            for i in range(n):
                for j in range(n):
                    v = matrix[i, j]
                    dark = (not diff and np.isfinite(v) and
                            (v - scale[0]) / (scale[1] - scale[0]) < 0.55) or \
                        (diff and np.isfinite(v) and abs(v) > 0.6 * span)
                    annotations.append(dict(x=names[j], y=names[i], text=text[i][j],
                                            showarrow=False, font=dict(
                                                size=11, color="white" if dark else "#222")))
        heading = ("Final trust, difference of the means" if diff else
                   f"Final trust matrix{': ' + esc(inp.label) if len(self.inputs) > 1 else ''}")
        fig = go.Figure([heat], layout(
            heading, "partner (trusted)", "organisation (trusting)", height=120 + 34 * n + 80,
            annotations=annotations,
            yaxis=dict(title=dict(text="organisation (trusting)"), autorange="reversed",
                       showgrid=False, ticks="", automargin=True),
            xaxis=dict(title=dict(text="partner (trusted)"), showgrid=False, ticks="",
                       tickangle=-30, automargin=True)))
        return self.chart(fig, note=f"{html.escape(label)}, mean final trust of each "
                          "organisation (row) in each partner (column)." if diff else None)

    def difference_chart(self, metric):
        a = self.ref
        traces = []
        for k, b in enumerate(self.inputs[1:], start=1):
            if not (a.out.has(metric) and b.out.has(metric)):
                continue
            if flat_value([a.series(metric), b.series(metric)]) is not None:
                continue  # one value in every run of both: nothing to draw
            ticks, w = rd.compare_over_time(a, b, metric)
            x = np.asarray(ticks, dtype=float) * self.time.factor
            colour = INPUT_COLOURS[k % len(INPUT_COLOURS)]
            traces.append(band(x, w["ci_low"], w["ci_high"], colour, 0.22,
                               f"{esc(b.label)}: 95% CI", f"d{k}"))
            custom = [[int(t), *clean([lo, hi], 4)] for t, lo, hi in
                      zip(ticks, w["ci_low"], w["ci_high"])]
            traces.append(go.Scatter(
                x=self.time.x(ticks), y=clean(w["diff"]), mode="lines",
                name=f"{esc(b.label)} \u2212 {esc(a.label)}",
                line=dict(color=colour, width=2, dash=INPUT_DASHES[k % len(INPUT_DASHES)]
                          if len(self.inputs) > 2 else "solid"),
                customdata=custom, legendgroup=f"d{k}",
                hovertemplate=(f"{esc(b.label)} \u2212 {esc(a.label)}: "
                               "%{y:.4g} [%{customdata[1]}, %{customdata[2]}]<br>"
                               f"{self.time.tick_unit} %{{customdata[0]}}<extra></extra>")))
        if not traces:
            return ""
        fig = go.Figure(traces, layout(
            f"Difference in {NOUNS.get(metric, title(metric).lower())}", self.time.title,
            f"difference ({axis_label(metric, a.out.tick_unit).split(' (')[0]})",
            showlegend=len(self.inputs) > 2,
            shapes=[dict(type="line", xref="paper", x0=0, x1=1, yref="y", y0=0, y1=0,
                         line=dict(color="#444", width=1))]))
        return self.chart(fig)

    # -- sections

    def add(self, anchor, heading, body):
        if body:
            self.sections.append((anchor, heading, body))

    def about(self):
        rows = [
            ("scenario", lambda i: f"<b>{html.escape(i.out.scenario)}</b>"),
            ("description", lambda i: html.escape(i.out.description) or "&mdash;"),
            ("file", lambda i: f"<code>{html.escape(os.path.basename(i.out.path))}</code>" +
             (f", point {i.point} ({html.escape(i.out.point_label(i.point))})"
              if i.out.n_points > 1 and len(self.inputs) > 1 else "")),
            ("trustsim version", lambda i: html.escape(i.out.version)),
            ("master seed", lambda i: f"{i.out.master_seed} ({html.escape(i.out.rng_type)})"),
            ("replicates", lambda i: f"{i.out.n_replicates} per point; {i.n_runs} done"
             if len(self.inputs) > 1 else
             f"{i.out.n_replicates} per point; {int(i.out.done.sum())} of "
             f"{i.out.done.size} runs done"),
            ("points", lambda i: design_text(i.out)),
            ("horizon", lambda i: horizon_text(i.out)),
            ("organisations", lambda i: f"{len(i.out.organisations)}: " +
             html.escape(", ".join(i.out.organisations))),
            ("created", lambda i: html.escape(i.out.created)),
        ]
        many = len(self.inputs) > 1
        if many:
            rows.insert(2, ("differs from the first", lambda i: differences_text(self.ref, i)))
        head = "".join(f"<th>{html.escape(i.label)}</th>" for i in self.inputs) if many else ""
        body = []
        for name, cell in rows:
            cells = [cell(i) for i in self.inputs]
            if many and name == "differs from the first":
                cells[0] = "(the reference)"
            if len(set(cells)) == 1:  # the same for every input: said once
                body.append(f'<tr><th>{name}</th><td colspan="{len(cells)}">{cells[0]}</td></tr>')
            else:
                body.append(f"<tr><th>{name}</th>" + "".join(f"<td>{c}</td>" for c in cells) +
                            "</tr>")
        table = (f'<div class="scroll"><table class="about">'
                 f'{"<thead><tr><th></th>" + head + "</tr></thead>" if head else ""}'
                 f"<tbody>{''.join(body)}</tbody></table></div>")
        scen = []
        seen = set()
        for inp in self.inputs:
            if inp.out.path in seen:
                continue
            seen.add(inp.out.path)
            name = os.path.basename(inp.out.path)
            stem = os.path.splitext(name)[0]
            scen.append(
                f"<details><summary>Scenario of <code>{html.escape(name)}</code> as written"
                f"</summary><pre>{html.escape(inp.out.scenario_text)}</pre></details>"
                f"<details><summary>Scenario of <code>{html.escape(name)}</code> as run (every "
                f"default filled in, every <code>--set</code> applied)</summary>"
                f"<p>{download_link(inp.out.resolved_text, stem + '.resolved.yaml')}</p>"
                f"<pre>{html.escape(inp.out.resolved_text)}</pre></details>")
        self.add("about", "What was run", table + "".join(scen))

    def headline_section(self, ticks):
        tables = [rd.headline_table(inp, HEADLINE, ticks) for inp in self.inputs]
        many = len(self.inputs) > 1
        if many:
            head = ("<tr><th rowspan=\"2\">metric</th>" +
                    "".join(f'<th colspan="{len(self.inputs)}">{html.escape(t.heading)}</th>'
                            for t in ticks) + "</tr><tr>" +
                    "".join(f"<th>{html.escape(i.label)}</th>" for _ in ticks
                            for i in self.inputs) + "</tr>")
        else:
            head = ("<tr><th>metric</th>" +
                    "".join(f"<th>{html.escape(t.heading)}</th>" for t in ticks) + "</tr>")
        body = []
        for metric in HEADLINE:
            if metric not in tables[0]:
                continue
            tds = "".join(
                f'<td data-input="{k}" data-metric="{metric}" data-tick="{t.tick}">'
                f"{rd.format_headline(tables[k][metric][t.tick]) if metric in tables[k] else ''}"
                f"</td>" for t in ticks for k in range(len(self.inputs)))
            body.append(f"<tr><th>{html.escape(title(metric))} <code>{metric}</code></th>"
                        f"{tds}</tr>")
        runs = ", ".join(f"{html.escape(i.label)} {plural(i.n_runs, 'run')}" for i in self.inputs) \
            if many else plural(self.ref.n_runs, "run")
        table = (f'<div class="scroll"><table class="numbers headline"><caption>replicate mean '
                 f"and 90% band (5% to 95% quantiles over {runs})</caption><thead>{head}</thead>"
                 f"<tbody>{''.join(body)}</tbody></table></div>")
        note = ("<p>The same numbers as <code>trustsim info</code> prints for the last tick, at "
                "each tick shown. Shares are of the pairs of organisations that share a "
                "collaboration.</p>")
        self.add("headline", "Headline numbers", note + table)

    def comparison_section(self, ticks):
        a = self.ref
        sentences, tables = [], []
        for k, b in enumerate(self.inputs[1:], start=1):
            items, rows = [], []
            for metric in HEADLINE:
                if not (a.out.has(metric) and b.out.has(metric)):
                    continue
                results = [(t, rd.compare_at(a, b, metric, t.tick)) for t in ticks]
                items.append(f"<li>{sentence(metric, a, b, results)}</li>")
                for t, w in results:
                    rows.append(comparison_row(metric, t.tick, w, k))
            sentences.append((f"<h3>{html.escape(b.label)} against {html.escape(a.label)}</h3>"
                              if len(self.inputs) > 2 else "") +
                             f"<ul class=\"sentences\">{''.join(items)}</ul>")
            tables.append(
                '<details class="numbers print-open"><summary>Every number of this '
                f"comparison, as <code>trustsim compare {html.escape(compare_args(a))} "
                f"{html.escape(compare_args(b))} --metric M --at T</code> prints it</summary>"
                f'<div class="scroll"><table class="numbers compare" data-input="{k}"><thead><tr>'
                f"<th>metric</th><th>tick</th><th>mean A (sd, n)</th><th>mean B (sd, n)</th>"
                f"<th>difference B \u2212 A</th><th>95% CI, Welch t</th><th>Hedges' g</th>"
                f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div></details>")
        which = html.escape(self.inputs[1].label) if len(self.inputs) == 2 else "each input"
        note = (f"<p>Differences are {which} minus {html.escape(a.label)} in the replicate "
                "means, with Welch 95% confidence "
                "intervals: the numbers <code>trustsim compare</code> gives. An interval that "
                "holds 0 shows no clear difference at that tick.</p>")
        charts = "".join(self.difference_chart(m) for m in DIFFERENCES)
        self.add("comparison", "What changes",
                 note + "".join(s + t for s, t in zip(sentences, tables)) +
                 "<h3>Differences over time</h3>"
                 "<p>Difference of the replicate means at every tick (line) with its Welch 95% "
                 "confidence interval (band).</p>" + f'<div class="grid">{charts}</div>')

    def trajectories_section(self):
        many = len(self.inputs) > 1
        key = ("<p>Median over runs (line) with the band holding 90% of runs"
               + ("" if many else " and, darker, the middle 50%") +
               ". Hover for values; drag to zoom, double-click to zoom out.</p>")
        charts = "".join(self.fan_chart(m) for m in FANS)
        self.add("trajectories", "Over time", key + f'<div class="grid">{charts}</div>')
        surveys = "".join(self.fan_chart(m) for m in SURVEYS)
        self.add("surveys", "On the survey scale",
                 "<p>The model's beliefs on the 1-to-5 scale of a staff survey (1 + 4 x the "
                 "belief), for setting against survey results.</p>"
                 f'<div class="grid">{surveys}</div>')

    def stages_section(self):
        charts = "".join(self.stage_chart(inp) for inp in self.inputs)
        y_range = acts_range(self.inputs)
        acts = "".join(self.acts_chart(inp, y_range) for inp in self.inputs)
        self.add("stages", "Stages of trust and what leaders do",
                 "<p>The share of organisation pairs in each Pomponi stage, and the acts of "
                 f"each kind per {self.ref.out.tick_unit} (cooperative ones above zero, "
                 "uncooperative ones below), mean over runs.</p>"
                 f'<div class="grid">{charts}{acts}</div>')

    def network_section(self):
        parts = []
        matrices = []
        nets = []
        for inp in self.inputs:
            if len(inp.out.organisations) > MAX_MATRIX:
                continue  # not drawn, so not read: the final state grows with pairs
            net = inp.out.final_network(inp.point)
            if net is not None and inp.n_runs > 0:
                nets.append((inp, net, rd.network_summary(net)))
        scale = trust_scale([summary["trust"] for _, _, summary in nets])
        for inp, net, summary in nets:
            n = len(net["organisations"])
            if n <= MAX_NETWORK:
                parts.append(self.network_chart(inp, net, summary, scale))
            if n <= MAX_MATRIX:
                matrices.append((inp, rd.trust_matrix(net, summary), net["organisations"]))
        charts = [self.matrix_chart(inp, m, names, scale) for inp, m, names in matrices]
        a = matrices[0] if matrices else None
        for inp, m, names in matrices[1:]:
            if a and names == a[2]:
                charts.append(self.matrix_chart(inp, m - a[1], names, diff=True,
                                                label=f"{inp.label} \u2212 {a[0].label}"))
        if not parts and not charts:
            n = len(self.ref.out.organisations)
            if n:
                self.add("network", "Trust between organisations at the end",
                         f"<p>{n} organisations: too many to draw here. The final trust of "
                         "each pair is in <code>/final/trust_interorg</code>.</p>")
            return
        self.add("network", "Trust between organisations at the end",
                 "<p>Final inter-organisational trust, mean over runs: each organisation "
                 "(row) in each partner (column); n/a: no shared collaboration. The colours "
                 f"run from {scale[0]:.2f} to {scale[1]:.2f}, the range of these trusts, so "
                 "that differences between pairs show.</p>"
                 f'<div class="grid">{"".join(parts)}{"".join(charts)}</div>')

    def explore_section(self):
        """Every stored metric, one at a time, chosen from a menu."""
        stored = [m for m in self.ref.out.metrics if all(i.out.has(m) for i in self.inputs)]
        first = [m for m in FANS + HEADLINE + SURVEYS if m in stored]
        metrics = list(dict.fromkeys(first + sorted(stored)))
        if not metrics:
            return
        n_orgs = len(self.ref.out.organisations)
        traces, owner = [], []
        many = len(self.inputs) > 1
        for m in metrics:
            for k, inp in enumerate(self.inputs):
                q = rd.fan(inp, m)
                x = np.asarray(inp.out.ticks, dtype=float) * self.time.factor
                colour = INPUT_COLOURS[k % len(INPUT_COLOURS)]
                visible = m == metrics[0]
                b = band(x, q[0], q[4], colour, 0.16, "90% of runs")
                b.visible = visible
                traces.append(b)
                traces.append(go.Scatter(
                    x=self.time.x(inp.out.ticks), y=clean(q[2]), mode="lines",
                    name=esc(inp.label) if many else "median", visible=visible,
                    line=dict(color=colour, width=2, dash=INPUT_DASHES[k % len(INPUT_DASHES)]),
                    customdata=inp.out.ticks.tolist(),
                    hovertemplate=(f"{esc(inp.label) + ': ' if many else ''}"
                                   f"median %{{y:.4g}}<br>{self.time.hover()}<extra></extra>")))
                owner += [m, m]
        def y_axis(m):  # a metric that never changes is shown on its natural scale
            value = flat_value([i.series(m) for i in self.inputs])
            if value is None:
                return {"yaxis.autorange": True}
            return {"yaxis.autorange": False, "yaxis.range": flat_range(m, value, n_orgs)}

        def heading(m):
            flat = flat_value([i.series(m) for i in self.inputs])
            return title(m, self.ref.out) + ("" if flat is None else
                                             f" ({flat:g} in every run at every tick)")

        buttons = [dict(label=f"{m}", method="update",
                        args=[{"visible": [o == m for o in owner]},
                              {"title.text": heading(m),
                               "yaxis.title.text": axis_label(m, self.ref.out.tick_unit,
                                                              n_orgs), **y_axis(m)}])
                   for m in metrics]
        extra = legend_below(len(self.inputs), per_row=4, height=440, top=60) if many else \
            dict(margin=dict(l=64, r=18, t=60, b=52))
        fig = go.Figure(traces, layout(
            heading(metrics[0]), self.time.title,
            axis_label(metrics[0], self.ref.out.tick_unit, n_orgs), height=440,
            showlegend=many, updatemenus=[dict(buttons=buttons, direction="down", x=1.0,
                                               xanchor="right", y=1.0, yanchor="bottom",
                                               pad=dict(b=8), showactive=True)], **extra))
        fig.update_yaxes({k.split(".")[1]: v for k, v in y_axis(metrics[0]).items()})
        self.add("explore", "Any metric",
                 "<p>Every metric the file holds: choose one from the menu. Median over runs "
                 "and the band holding 90% of them.</p>" + self.chart(fig, css="chart wide"))

    # -- sweeps

    def sweep_sections(self):
        out = self.ref.out
        points = out.points()
        params = out.parameters
        varying = [p for p in params if np.unique(points[p]).size > 1] or params
        ticks = rd.headline_ticks(out, self.args.at)
        last = int(out.ticks[-1])
        metrics = [m for m in SWEEP_METRICS if out.has(m)]
        grid = rd.grid_levels(points[varying[0]], points[varying[1]]) \
            if len(varying) == 2 else None
        sampled = out.design in ("lhs", "sobol", "saltelli") or (len(varying) > 2) or \
            (len(varying) == 2 and grid is None)
        parts = []
        if len(varying) == 1 and not sampled:
            for m in metrics:
                parts.append(self.response_chart(m, varying[0], ticks))
            note = ("<p>Mean over each point's runs (line and dots) and the band holding 90% of "
                    "them, at each tick shown, against the swept parameter.</p>")
        elif grid is not None and not sampled:
            for p, other in ((varying[0], varying[1]), (varying[1], varying[0])):
                parts.append(self.scatter_chart(p, metrics, last, varying, by=other))
            note = (f"<p>Each dot is a sweep point: the mean over its runs at "
                    f"{out.tick_unit} {last}, with a bar holding 90% of them, against one swept "
                    "parameter, one line for each value of the other. Choose the metric from "
                    "the menu.</p>")
        else:
            for p in varying:
                parts.append(self.scatter_chart(p, metrics, last, varying))
            note = (f"<p>Each dot is a sweep point: the mean over its runs at "
                    f"{out.tick_unit} {last}, with a bar holding 90% of them, against one swept "
                    "parameter. " + ("The other parameters vary too, so the spread at one "
                                     "value is partly theirs. " if len(varying) > 1 else "") +
                    "Choose the metric from the menu.</p>")
        self.add("response", "Response to the swept parameters",
                 note + f'<div class="grid">{"".join(parts)}</div>')
        if grid is not None and not sampled:
            heat = "".join(self.heat_chart(m, varying, grid, last) for m in metrics)
            self.add("heatmap", "Two parameters together",
                     f"<p>Mean over each point's runs at {out.tick_unit} {last}.</p>"
                     f'<div class="grid">{heat}</div>')
        if out.design == "saltelli":
            self.sobol_section(last)
        if out.n_points <= MAX_TRAJECTORY_POINTS:
            charts = "".join(self.point_trajectories(m) for m in metrics)
            self.add("by-point", "Over time, point by point",
                     "<p>Median over each point's runs at every tick, one line per point.</p>"
                     f'<div class="grid">{charts}</div>')
        self.point_table(metrics, last)

    def response_chart(self, metric, param, ticks):
        out = self.ref.out
        xs = out.points()[param]
        order = np.argsort(xs, kind="stable")
        traces = []
        colours = ("#56B4E9", "#0072B2", "#000000", "#009E73", "#E69F00")
        for k, tk in enumerate(ticks):
            t, label = tk.tick, tk.heading
            stats = rd.response(out, metric, t)
            mean = np.array([s[0] for s in stats])[order]
            lo = np.array([s[1] for s in stats])[order]
            hi = np.array([s[2] for s in stats])[order]
            colour = colours[k % len(colours)]
            traces.append(band(xs[order], lo, hi, colour, 0.15, f"{label}: 90% of runs",
                               f"t{k}"))
            traces.append(go.Scatter(
                x=clean(xs[order]), y=clean(mean), mode="lines+markers", name=label,
                line=dict(color=colour, width=2, dash=INPUT_DASHES[k % len(INPUT_DASHES)]),
                customdata=[clean([a, b], 4) for a, b in zip(lo, hi)], legendgroup=f"t{k}",
                hovertemplate=(f"{label}: mean %{{y:.4g}}, 90% of runs "
                               "%{customdata[0]}..%{customdata[1]}<br>"
                               f"{param} = %{{x}}<extra></extra>")))
        fig = go.Figure(traces, layout(title(metric, out), param_label(param),
                                       axis_label(metric, out.tick_unit), showlegend=True))
        return self.chart(fig)

    def scatter_chart(self, param, metrics, tick, varying, by=None):
        """The point means against one parameter, a menu choosing the metric. With `by` (the
        other parameter of a two-parameter grid) one line per level of it, else one dot per
        point."""
        out = self.ref.out
        points = out.points()
        xs = points[param]
        labels = [out.point_label(p) for p in range(out.n_points)]
        groups = [(None, np.arange(out.n_points))]
        if by is not None:
            levels = np.unique(points[by])
            groups = [(v, np.flatnonzero(points[by] == v)) for v in levels]
        traces, owner = [], []
        for m in metrics:
            stats = rd.response(out, m, tick)
            mean = np.array([s[0] for s in stats])
            lo = np.array([s[1] for s in stats])
            hi = np.array([s[2] for s in stats])
            for g, (level, idx) in enumerate(groups):
                idx = idx[np.argsort(xs[idx], kind="stable")]
                colour = INPUT_COLOURS[0] if level is None else \
                    CIVIDIS_SAMPLES[round(g * (len(CIVIDIS_SAMPLES) - 1) / max(len(groups) - 1, 1))]
                traces.append(go.Scatter(
                    x=clean(xs[idx]), y=clean(mean[idx]), visible=m == metrics[0],
                    mode="markers" if level is None else "lines+markers",
                    marker=dict(size=6, color=colour, opacity=0.8),
                    line=dict(color=colour, width=1.5),
                    error_y=dict(type="data", symmetric=False, array=clean(hi[idx] - mean[idx]),
                                 arrayminus=clean(mean[idx] - lo[idx]),
                                 color=rgba(colour, 0.45), thickness=1, width=0),
                    text=[f"point {p}: {esc(labels[p])}" for p in idx],
                    hovertemplate="%{text}<br>mean %{y:.4g}<extra></extra>",
                    name=m if level is None else f"{param_label(by)} = {rd.c_g(level)}",
                    showlegend=level is not None and m == metrics[0]))
                owner.append(m)
        buttons = [dict(label=m, method="update",
                        args=[{"visible": [o == m for o in owner]},
                              {"yaxis.title.text": axis_label(m, out.tick_unit)}])
                   for m in metrics]
        extra = legend_below(len(groups), height=420, top=84) if by is not None else \
            dict(margin=dict(l=64, r=18, t=84, b=52))
        fig = go.Figure(traces, layout(
            f"Against {param_label(param)}", param_label(param),
            axis_label(metrics[0], out.tick_unit), height=420 if by is not None else 400,
            showlegend=by is not None,
            updatemenus=[dict(buttons=buttons, direction="down", x=1.0, xanchor="right",
                              y=1.0, yanchor="bottom", pad=dict(b=8))], **extra))
        return self.chart(fig)

    def heat_chart(self, metric, varying, grid, tick):
        out = self.ref.out
        points = out.points()
        (lx, ly), (nx, ny) = grid, varying
        stats = rd.response(out, metric, tick)
        z = np.full((ly.size, lx.size), np.nan)
        for p, s in enumerate(stats):
            z[np.searchsorted(ly, points[ny][p]), np.searchsorted(lx, points[nx][p])] = s[0]
        annotations = []
        if z.size <= 80:
            lo, hi = np.nanmin(z), np.nanmax(z)
            for (r, c), v in np.ndenumerate(z):
                dark = np.isfinite(v) and hi > lo and (v - lo) / (hi - lo) < 0.55
                annotations.append(dict(x=c, y=r, text="n/a" if not np.isfinite(v) else
                                        f"{v:.3g}", showarrow=False,
                                        font=dict(size=11, color="white" if dark else "#222")))
        fig = go.Figure([go.Heatmap(
            z=[clean(row) for row in z], colorscale=CIVIDIS,
            x=list(range(lx.size)), y=list(range(ly.size)),
            customdata=[[[rd.c_g(lx[c]), rd.c_g(ly[r])] for c in range(lx.size)]
                        for r in range(ly.size)],
            hovertemplate=(f"{nx} = %{{customdata[0]}}<br>{ny} = %{{customdata[1]}}<br>"
                           "mean %{z:.4g}<extra></extra>"),
            colorbar=dict(title=dict(text="mean", side="right"), thickness=12))],
            layout(title(metric, out), param_label(nx), param_label(ny), height=380,
                   annotations=annotations,
                   xaxis=dict(title=dict(text=param_label(nx)), tickmode="array",
                              tickvals=list(range(lx.size)), ticktext=[rd.c_g(v) for v in lx],
                              showgrid=False),
                   yaxis=dict(title=dict(text=param_label(ny)), tickmode="array",
                              tickvals=list(range(ly.size)), ticktext=[rd.c_g(v) for v in ly],
                              showgrid=False)))
        return self.chart(fig)

    def sobol_section(self, tick):
        out = self.ref.out
        trustsim = rd.find_trustsim(self.args.trustsim)
        charts, notes = [], []
        metrics = [m for m in SOBOL_METRICS if out.has(m)]
        stored = out.stored_sensitivity()
        metrics += [m for m in stored if m not in metrics]
        for m in metrics:
            at = stored[m]["tick"] if m in stored and m not in SOBOL_METRICS else tick
            result, source, command = rd.sobol_indices(out, m, at, trustsim)
            cmd = f"<code>{html.escape(command)}</code>"
            if result is None:
                why = ("not stored in the file, and no trustsim command to compute them "
                       "(give report.py --trustsim)" if source == "no command" else
                       f"the command failed: {html.escape(source)}")
                notes.append(f"<li><code>{m}</code>: {why}; {cmd} adds them to the file</li>")
                continue
            charts.append(self.sobol_chart(m, result, (
                f"stored in the file by {cmd}" if source == "stored" else
                f"computed by {cmd} on a copy of the file")))
        body = ("<p>First-order index: the share of the variance of the outcome (the mean over "
                "a point's runs) that a parameter explains on its own; total index: with its "
                "interactions. Whiskers: 95% percentile bootstrap intervals over the base "
                "samples. The numbers of <code>trustsim sensitivity</code>.</p>"
                f'<div class="grid">{"".join(charts)}</div>')
        if notes:
            body += f"<ul>{''.join(notes)}</ul>"
        self.add("sobol", "Which parameter matters", body)

    def sobol_chart(self, metric, s, source):
        names = [param_label(p) for p in s["parameters"]]
        traces = []
        for key, label, colour in (("first", "first order", "#0072B2"),
                                   ("total", "total effect", "#E69F00")):
            v, lo, hi = s[key], s[f"{key}_lo"], s[f"{key}_hi"]
            err = None if np.all(np.isnan(lo)) else dict(
                type="data", symmetric=False, array=clean(np.maximum(hi - v, 0)),
                arrayminus=clean(np.maximum(v - lo, 0)), color="#222", thickness=1.2, width=4)
            traces.append(go.Bar(
                y=names, x=clean(v), orientation="h", name=label, marker_color=colour,
                error_x=err, customdata=[clean([a, b], 3) for a, b in zip(lo, hi)],
                hovertemplate=(f"{label}: %{{x:.3f}} [%{{customdata[0]}}, %{{customdata[1]}}]"
                               "<extra>%{y}</extra>")))
        fig = go.Figure(traces, layout(
            f"{title(metric)} at {self.ref.out.tick_unit} {s['tick']}",
            "Sobol index (share of output variance)", "", height=140 + 70 * len(names),
            showlegend=True, barmode="group",
            yaxis=dict(autorange="reversed", automargin=True, showline=True, linecolor="#888"),
            margin=dict(l=10, r=18, t=48, b=52)))
        rows = "".join(
            f"<tr><th>{html.escape(p)}</th>"
            + "".join(f'<td data-metric="{metric}" data-parameter="{html.escape(p)}" '
                      f'data-field="{key}">{s[key][i]:.3f}</td>'
                      f'<td data-metric="{metric}" data-parameter="{html.escape(p)}" '
                      f'data-field="{key}_interval">{sobol_interval(s, key, i)}</td>'
                      for key in ("first", "total"))
            + "</tr>" for i, p in enumerate(s["parameters"]))
        table = (f'<div class="scroll"><table class="numbers sobol"><thead><tr><th>parameter'
                 "</th><th>first</th><th>interval</th><th>total</th><th>interval</th></tr>"
                 f"</thead><tbody>{rows}</tbody></table></div>")
        return self.chart(fig, note=(f"N = {s['n_base']} base samples ({s['n_used']} used), "
                                     f"{s['bootstrap']} bootstrap resamples; {source}."
                                     f"{table}"))

    def point_trajectories(self, metric):
        out = self.ref.out
        traces = []
        n = out.n_points
        for p in range(n):
            inp = rd.Input(out, p, out.point_label(p))
            q = rd.fan(inp, metric)
            colour = CIVIDIS_SAMPLES[int(round(p * (len(CIVIDIS_SAMPLES) - 1) / max(n - 1, 1)))]
            traces.append(go.Scatter(
                x=self.time.x(out.ticks), y=clean(q[2]), mode="lines",
                name=short_point_label(out, p), line=dict(color=colour, width=1.8),
                customdata=out.ticks.tolist(),
                hovertemplate=(f"{html.escape(short_point_label(out, p))}: median %{{y:.4g}}"
                               f"<br>{self.time.hover()}<extra></extra>")))
        fig = go.Figure(traces, layout(title(metric, out), self.time.title,
                                       axis_label(metric, out.tick_unit), showlegend=True,
                                       height=400))
        return self.chart(fig)

    def point_table(self, metrics, tick):
        out = self.ref.out
        params = out.parameters
        points = out.points()
        stats = {m: rd.response(out, m, tick) for m in metrics}
        head = "".join(f"<th>{html.escape(param_label(p))}</th>" for p in params) + \
            "".join(f"<th>{html.escape(title(m))}</th>" for m in metrics)
        rows = []
        for p in range(out.n_points):
            cells = "".join(f"<td>{rd.c_g(points[q][p])}</td>" for q in params) + \
                "".join(f'<td data-metric="{m}" data-point="{p}">'
                        f"{rd.format_headline(stats[m][p])}</td>" for m in metrics)
            rows.append(f"<tr><th>{p}</th>{cells}</tr>")
        table = (f'<div class="scroll"><table class="numbers points"><thead><tr><th>point</th>'
                 f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")
        wrap = (f"<details class=\"print-open\"{' open' if out.n_points <= 20 else ''}>"
                f"<summary>Every point at "
                f"{out.tick_unit} {tick}: replicate mean and 90% band</summary>{table}"
                "</details>")
        self.add("points", "Point by point", wrap)

    # -- the page

    def build(self):
        kind = self.kind()
        self.about()
        if kind == "sweep":
            self.sweep_sections()
        else:
            ticks = rd.headline_ticks(self.ref.out, self.args.at)
            if kind == "comparison":
                self.comparison_section(ticks)
            self.headline_section(ticks)
            self.trajectories_section()
            self.stages_section()
            self.network_section()
            self.explore_section()
        return self.page(kind)

    def kind(self):
        if len(self.inputs) > 1:
            return "comparison"
        return "sweep" if self.ref.out.n_points > 1 and not self.args.point_given else "run"

    def heading(self, kind):
        if self.args.title:
            return self.args.title
        if kind == "comparison":
            return " vs ".join(i.label for i in self.inputs)
        if kind == "sweep":
            return f"{self.ref.out.scenario}: a sweep of {plural(self.ref.out.n_points, 'point')}"
        return self.ref.label

    def page(self, kind):
        heading = self.heading(kind)
        subtitle = {
            "run": "A trustsim run",
            "comparison": f"A comparison of {len(self.inputs)} trustsim results against "
                          f"{self.ref.label}",
            "sweep": f"A trustsim sweep ({self.ref.out.design} design)",
        }[kind]
        nav = "".join(f'<a href="#{a}">{html.escape(h)}</a>' for a, h, _ in self.sections)
        body = "".join(f'<section id="{a}"><h2>{html.escape(h)}</h2>{b}</section>'
                       for a, h, b in self.sections)
        figures = json.dumps({fid: fig for fid, fig in self.figures},
                             cls=plotly.utils.PlotlyJSONEncoder, separators=(",", ":"))
        figures = figures.replace("</", "<\\/")
        return TEMPLATE.format(
            title=html.escape(heading), subtitle=html.escape(subtitle), nav=nav, body=body,
            footer=self.footer(kind), figures=figures, n_charts=len(self.figures),
            kind=kind, style=STYLE, plotly_js=plotly_js(), script=SCRIPT,
            csp=CSP, generator=f"trustsim report.py (plotly.js {plotly_js_version()})")

    def footer(self, kind):
        argv = " ".join(shlex.quote(a) for a in self.args.argv)
        files = []
        seen = set()
        for inp in self.inputs:
            if inp.out.path in seen:
                continue
            seen.add(inp.out.path)
            size = os.path.getsize(inp.out.path)
            files.append(f"<li><code>{html.escape(os.path.basename(inp.out.path))}</code>: "
                         f"{size:,} bytes, SHA-256 <code>{sha256(inp.out.path)}</code>; written "
                         f"by trustsim {html.escape(inp.out.version)} at "
                         f"{html.escape(inp.out.created)}</li>")
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return (
            "<h2>How to make this report again</h2>"
            f"<p>Made at {now} by <code>scripts/report.py {html.escape(argv)}</code> from "
            f"the trustsim repository, from these files:</p><ul>{''.join(files)}</ul>"
            "<p>Each result file holds the scenario it was run from. To make a file again, save "
            "its scenario as run (under <em>What was run</em>, or <code>h5dump -d "
            "/scenario/resolved</code>) as <code>scenario.yaml</code> and run <code>trustsim "
            "run scenario.yaml -o again.h5</code>: the same scenario and seed give the same "
            "numbers on any machine and any number of threads. Then run the command above on "
            "the new files.</p>"
            "<p>Statistics: means and 90% bands as <code>trustsim info</code> computes them "
            "(5% and 95% quantiles by linear interpolation between order statistics); "
            "differences and 95% intervals as <code>trustsim compare</code> (Welch's t, "
            "unpaired); Sobol indices as <code>trustsim sensitivity</code>. Only runs marked "
            "done count, and at each tick only their finite values.</p>")


# ---- small helpers ---------------------------------------------------------------------------

def trust_scale(trusts):
    """The colour range of the trust network and matrices: the range of the mean trusts shown,
    widened to multiples of 0.05 and to at least 0.1, within [0, 1]."""
    values = np.concatenate([np.asarray(t, dtype=float).ravel() for t in trusts] or [[]])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (0.0, 1.0)
    low = np.floor(values.min() * 20) / 20
    high = np.ceil(values.max() * 20) / 20
    if high - low < 0.1:
        mid = (high + low) / 2
        low, high = mid - 0.05, mid + 0.05
    low, high = max(low, 0.0), min(high, 1.0)
    return (float(low), float(high))


def acts_range(inputs):
    """One y range for the act mix of every input, so that their charts can be set side by
    side: the largest stacks of cooperative (up) and uncooperative (down) acts."""
    top, bottom = 0.0, 0.0
    for inp in inputs:
        up = sum(np.nan_to_num(rd.mean_over_runs(inp, f"acts_{k}")) for k, _, c in ACTS
                 if c and inp.out.has(f"acts_{k}"))
        down = sum(np.nan_to_num(rd.mean_over_runs(inp, f"acts_{k}")) for k, _, c in ACTS
                   if not c and inp.out.has(f"acts_{k}"))
        top = max(top, float(np.max(up)) if np.ndim(up) else 0.0)
        bottom = max(bottom, float(np.max(down)) if np.ndim(down) else 0.0)
    if top == 0 and bottom == 0:
        return None
    return [-1.05 * bottom, 1.05 * top]


def bounds(metric, n_orgs=None):
    """The range a metric can take, where the model bounds it: (low, high) or None."""
    if metric.startswith("survey_"):
        return (1.0, 5.0)
    if metric == "active_orgs":
        return (0.0, float(n_orgs)) if n_orgs else None
    if metric.startswith(("acts_", "payoff_")) or metric == "collab_value":
        return None
    return (0.0, 1.0)


def flat_value(arrays):
    """The one value every finite entry of the arrays holds, or None if they differ."""
    values = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays])
    values = values[np.isfinite(values)]
    if values.size == 0 or values.min() != values.max():
        return None
    return float(values[0])


def flat_range(metric, value, n_orgs=None):
    """A y range for a metric that never changes: its whole scale where the model bounds it,
    else a small span around the value that stays on the metric's side of zero."""
    b = bounds(metric, n_orgs)
    if b is not None and b[0] <= value <= b[1]:
        return [b[0], b[1] + 0.02 * (b[1] - b[0])]
    span = max(abs(value) * 0.1, 1.0)
    low = value - span
    if value >= 0 and low < 0:
        low = 0.0
    return [low, value + span]


def flat_axis(fig, metric, arrays, n_orgs=None):
    """When a chart's metric holds one value in every run at every tick, say so and show it on
    its natural scale instead of a span of rounding noise."""
    value = flat_value(arrays)
    if value is None:
        return
    fig.update_yaxes(range=flat_range(metric, value, n_orgs), autorange=False)
    fig.add_annotation(text=f"{value:g} in every run at every tick", xref="paper", yref="paper",
                       x=0.98, y=0.96, xanchor="right", showarrow=False,
                       font=dict(color="#444"), bgcolor="rgba(255,255,255,0.8)")


def _cividis_samples():
    stops = [(s, tuple(int(c.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))) for s, c in CIVIDIS]
    return stops


def cividis_colour(v):
    """The colour of v in [0, 1] on the CIVIDIS scale (for lines, which take no colour scale)."""
    stops = _cividis_samples()
    v = min(max(float(v), 0.0), 1.0)
    for (s0, c0), (s1, c1) in zip(stops, stops[1:]):
        if v <= s1:
            f = (v - s0) / (s1 - s0)
            r, g, b = (round(c0[i] + f * (c1[i] - c0[i])) for i in range(3))
            return f"#{r:02x}{g:02x}{b:02x}"
    return CIVIDIS[-1][1]


# Colours of an ordered set of lines (sweep points): cividis short of its palest end.
CIVIDIS_SAMPLES = [cividis_colour(v) for v in np.linspace(0, 0.85, 11)]


def param_label(path):
    """A swept parameter's path, shortened for an axis: its last two keys."""
    parts = path.split(".")
    return ".".join(parts[-2:]) if len(parts) > 2 else path


def short_point_label(out, p):
    points = out.points()
    return ", ".join(f"{param_label(n)}={rd.c_g(points[n][p])}" for n in out.parameters) or \
        f"point {p}"


def sobol_interval(s, key, i):
    """An index's interval as `trustsim sensitivity` prints it: '[0.108, 0.468]'."""
    lo, hi = s[f"{key}_lo"][i], s[f"{key}_hi"][i]
    if np.isnan(lo) and np.isnan(hi):
        return ""
    return f"[{lo:.3f}, {hi:.3f}]"


def differences_text(ref, inp):
    """The settings of the scenario as run in which an input differs from the reference."""
    if inp.out.path == ref.out.path:
        return "another point of the same file" if inp.point != ref.point else "nothing"
    diffs = rd.scenario_differences(ref.out, inp.out)
    if not diffs:
        return "nothing in the scenario as run"

    def show(v):
        return "(not set)" if v is None else html.escape(str(v))
    items = [f"<code>{html.escape(k)}</code>: {show(a)} &rarr; {show(b)}" for k, a, b in diffs[:12]]
    more = f"<br>and {len(diffs) - 12} more (see the scenarios below)" if len(diffs) > 12 else ""
    return "<br>".join(items) + more


def design_text(out):
    if out.n_points <= 1 and out.design == "none":
        return "1 (no sweep)"
    points = out.points()
    specs = (out.resolved.get("sweep") or {}).get("parameters") or {}

    def values(p):  # the range the sweep block asked for, else the values the points hold
        spec = specs.get(p) if isinstance(specs.get(p), dict) else {}
        if "min" in spec and "max" in spec:
            steps = f"{spec['n']} values " if "n" in spec else ""
            return f"{steps}from {rd.c_g(float(spec['min']))} to {rd.c_g(float(spec['max']))}"
        levels = np.unique(points[p])
        if levels.size <= 8:
            return ", ".join(rd.c_g(v) for v in levels)
        return f"{levels.size} values from {rd.c_g(levels[0])} to {rd.c_g(levels[-1])}"
    params = "; ".join(f"<code>{html.escape(p)}</code> {values(p)}" for p in out.parameters)
    n = f", n = {out.sweep_n}" if out.sweep_n else ""
    return f"{out.n_points} ({html.escape(str(out.design))} design{n}): {params}"


def horizon_text(out):
    last = int(out.ticks[-1])
    y = rd.years(out, last)
    extra = f" ({y:.1f} years)" if y > 2 else ""
    return f"{last} ticks of one {html.escape(out.tick_unit)}{extra}"


def download_link(textvalue, filename):
    data = base64.b64encode(textvalue.encode("utf-8")).decode("ascii")
    return (f'<a download="{html.escape(filename)}" href="data:text/yaml;charset=utf-8;base64,'
            f'{data}">Save as {html.escape(filename)}</a>')


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_PLOTLY_JS = []


def plotly_js():
    """plotly.js as Debian's python3-plotly ships it for offline use (read once)."""
    if not _PLOTLY_JS:
        _PLOTLY_JS.append(plotly.offline.get_plotlyjs())
    return _PLOTLY_JS[0]


def plotly_js_version():
    head = plotly_js()[:200]
    marker = "plotly.js v"
    at = head.find(marker)
    return head[at + len(marker):].split()[0] if at >= 0 else "?"


def compare_args(inp):
    name = os.path.basename(inp.out.path)
    return name if inp.out.n_points == 1 else f"{name} (point {inp.point})"


def rounded(x, decimals):
    return f"{x:.{decimals}f}"


def decimals_for(values, halfwidth):
    """Decimals that show an interval's half-width to one significant digit or more, with as
    many more as it takes for no non-zero value among values to round to 0."""
    d = 3 if not halfwidth > 0 else int(min(max(-np.floor(np.log10(halfwidth)), 0), 6))
    while d < 6 and any(v != 0 and round(abs(v), d) == 0 for v in values):
        d += 1
    return d


def verdict(w):
    """What a comparison at one tick says: (kind, numbers) with kind 'raises', 'lowers',
    'unclear' (the interval holds 0), 'same' (one value in every run of both) or 'none' (too
    few runs), and the numbers rounded to the interval's precision."""
    diff, low, high = w["diff"], w["ci_low"], w["ci_high"]
    if not np.isfinite(diff):
        return "none", ""
    if not w["se"] > 0:
        if diff == 0:
            return "same", f"{w['mean_a']:.6g}"
        return ("raises" if diff > 0 else "lowers"), f"exactly {abs(diff):.6g}"
    d = decimals_for((diff, low, high), (high - low) / 2)
    if low > 0:
        return "raises", f"{rounded(diff, d)} [{rounded(low, d)}, {rounded(high, d)}]"
    if high < 0:
        return "lowers", f"{rounded(-diff, d)} [{rounded(-high, d)}, {rounded(-low, d)}]"
    return "unclear", (f"{'+' if diff >= 0 else ''}{rounded(diff, d)} "
                       f"[{rounded(low, d)}, {rounded(high, d)}]")


def sentence(metric, a, b, results):
    """One sentence per headline metric: what B does to it against A at each tick shown, e.g.
    'By one year, agreement raises faith in the collaboration by 0.045 [0.037, 0.052]; by two
    years, by 0.046 [0.037, 0.055]'. Intervals of decreases are given as decreases."""
    noun = NOUNS.get(metric, title(metric).lower())
    who = b.label
    clauses, previous, intervals = [], None, False
    for t, w in results:
        kind, numbers = verdict(w)
        intervals = intervals or "[" in numbers
        first = previous is None
        if kind in ("raises", "lowers"):
            clauses.append(f"{t.by}, by {numbers}" if kind == previous else
                           f"{t.by}, {who} {kind} {noun if first else 'it'} by {numbers}")
        elif kind == "unclear":
            clauses.append(f"{t.by}, {who} makes no clear difference to {noun} ({numbers})"
                           if first else f"{t.by}, no clear difference ({numbers})")
        elif kind == "same":
            clauses.append(f"{t.by}, {noun} is {numbers} in every run of both" if first else
                           f"{t.by}, {numbers} in every run of both")
        else:
            clauses.append(f"{t.by}, too few runs with a value to compare")
        previous = kind
    text_ = "; ".join(clauses)
    return (f"<b>{html.escape(title(metric))}.</b> "
            f"{html.escape(text_[0].upper() + text_[1:])}{' (95% CI)' if intervals else ''}.")


def comparison_row(metric, tick, w, k):
    def cell(field, value):
        return (f'<td data-input="{k}" data-metric="{metric}" data-tick="{tick}" '
                f'data-field="{field}">{value}</td>')
    if not np.isfinite(w["diff"]):
        return (f"<tr><th>{metric}</th><td>{tick}</td>"
                f'<td colspan="5">fewer than 2 runs with a value on a side</td></tr>')
    ci = (f"[{g6(w['ci_low'])}, {g6(w['ci_high'])}]")
    g = g4(w["hedges_g"]) if np.isfinite(w["hedges_g"]) else "undefined"
    return (f"<tr><th>{metric}</th><td>{tick}</td>"
            + cell("a", f"{g6(w['mean_a'])} ({g6(w['sd_a'])}, {int(w['n_a'])})")
            + cell("b", f"{g6(w['mean_b'])} ({g6(w['sd_b'])}, {int(w['n_b'])})")
            + cell("difference", g6(w["diff"])) + cell("ci", ci) + cell("g", g) + "</tr>")


# ---- the page's fixed parts ------------------------------------------------------------------

# No request leaves the page: nothing may be loaded, fetched or framed; inline script and style
# only, images only from data: or blob: URLs (plotly's image export).
CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
       "img-src data: blob:; font-src data:; connect-src 'none'; base-uri 'none'; "
       "form-action 'none'")

STYLE = """
:root { --ink: #222; --muted: #5a5a5a; --rule: #d8d8d8; --accent: #0072B2; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial,
  sans-serif; color: var(--ink); background: #fafafa; }
header, main, footer { max-width: 1280px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 24px; }
h1 { font-size: 26px; margin: 0 0 2px; }
h2 { font-size: 21px; margin: 34px 0 8px; border-bottom: 2px solid var(--rule);
  padding-bottom: 4px; }
h3 { font-size: 17px; margin: 22px 0 6px; }
.subtitle { color: var(--muted); margin: 0 0 10px; }
nav { position: sticky; top: 0; z-index: 5; background: #fafafae8;
  border-bottom: 1px solid var(--rule); padding: 6px 24px; display: flex; flex-wrap: wrap;
  gap: 4px 16px; font-size: 14px; }
nav a { color: var(--accent); text-decoration: none; }
nav a:hover { text-decoration: underline; }
code { font: 13px/1.4 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
pre { background: #fff; border: 1px solid var(--rule); padding: 10px; overflow: auto;
  max-height: 480px; font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
table { border-collapse: collapse; background: #fff; margin: 8px 0 14px; font-size: 14px; }
th, td { border: 1px solid var(--rule); padding: 4px 9px; text-align: left; vertical-align: top; }
thead th { background: #f0f0f0; }
table.numbers td { font-variant-numeric: tabular-nums; white-space: nowrap; }
table.headline th code, table.compare th { font-weight: normal; color: var(--muted); }
caption { text-align: left; color: var(--muted); padding: 2px 0 4px; caption-side: top; }
table.about { width: 100%; }
table.about th { width: 170px; }
details { margin: 6px 0; }
summary { cursor: pointer; color: var(--accent); }
.note { color: var(--muted); font-size: 13px; margin: 2px 8px 4px; }
.note table { color: var(--ink); font-size: 13px; }
ul.sentences li { margin: 4px 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 14px; }
figure { margin: 0; background: #fff; border: 1px solid var(--rule); padding: 4px; min-width: 0; }
figure.wide { grid-column: 1 / -1; }
.plot { width: 100%; }
.scroll { overflow-x: auto; max-width: 100%; }
.plot-error { color: #a00; padding: 20px; }
footer { color: var(--muted); font-size: 14px; padding-bottom: 40px; }
#report-errors { display: none; background: #fee; border: 1px solid #c00; color: #900;
  padding: 8px; }
@media (max-width: 640px) { .grid { grid-template-columns: 1fr; } }
@media print {
  body { background: #fff; font-size: 11pt; }
  nav, .modebar-container { display: none !important; }
  header, main, footer { max-width: none; padding: 0; }
  .grid { display: block; }
  figure { break-inside: avoid; page-break-inside: avoid; border: none; margin: 0 0 8px; }
  h2 { break-after: avoid; page-break-after: avoid; }
  pre { max-height: none; white-space: pre-wrap; }
  a { color: inherit; text-decoration: none; }
}
"""

# Draws the charts from their JSON with Plotly.newPlot and records, for the reader and for
# tests, what was drawn and any error (the page's only script besides plotly.js).
SCRIPT = """
(function () {
  var status = window.reportStatus;
  status.started = Math.round(performance.now());
  var figures = JSON.parse(document.getElementById('report-figures').textContent);
  var ids = Object.keys(figures);
  var config = {responsive: true, displaylogo: false, scrollZoom: false,
                toImageButtonOptions: {format: 'svg'},
                modeBarButtonsToRemove: ['select2d', 'lasso2d', 'autoScale2d',
                  'toggleSpikelines', 'hoverClosestCartesian', 'hoverCompareCartesian']};
  var pending = ids.map(function (id) {
    var el = document.getElementById(id), f = figures[id];
    try {
      return Plotly.newPlot(el, f.data, f.layout, config).then(function () {
        el.setAttribute('data-drawn', '1');
        status.drawn += 1;
      }, function (e) { fail(el, e); });
    } catch (e) { fail(el, e); return Promise.resolve(); }
  });
  function fail(el, e) {
    status.errors.push(el.id + ': ' + (e && e.message || e));
    el.innerHTML = '<p class="plot-error">This chart could not be drawn: ' +
      String(e && e.message || e).replace(/</g, '&lt;') + '</p>';
    showErrors();
  }
  Promise.all(pending).then(function () { status.done = true;
    status.finished = Math.round(performance.now());
    document.body.setAttribute('data-report-done', status.errors.length ? 'errors' : 'ok'); });
  function resizeAll() { ids.forEach(function (id) {
    var el = document.getElementById(id); if (el.data) { Plotly.Plots.resize(el); } }); }
  window.addEventListener('beforeprint', function () {
    document.querySelectorAll('details.print-open').forEach(function (d) {
      if (!d.open) { d.setAttribute('data-closed', '1'); d.open = true; } });
    resizeAll(); });
  window.addEventListener('afterprint', function () {
    document.querySelectorAll('details[data-closed]').forEach(function (d) {
      d.open = false; d.removeAttribute('data-closed'); });
    resizeAll(); });
})();
"""

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{generator}">
<title>{title}</title>
<style>{style}</style>
<script>
window.reportStatus = {{charts: {n_charts}, drawn: 0, errors: [], done: false, kind: "{kind}"}};
function showErrors() {{
  var box = document.getElementById('report-errors');
  if (box) {{ box.style.display = 'block'; box.textContent = 'Errors while drawing this report: ' +
    window.reportStatus.errors.join('; '); }}
}}
window.addEventListener('error', function (e) {{
  window.reportStatus.errors.push(String(e.message || e)); showErrors(); }});
window.addEventListener('unhandledrejection', function (e) {{
  window.reportStatus.errors.push(String(e.reason && e.reason.message || e.reason));
  showErrors(); }});
document.addEventListener('securitypolicyviolation', function (e) {{
  window.reportStatus.errors.push('blocked ' + e.violatedDirective + ': ' + e.blockedURI);
  showErrors(); }});
</script>
<script>{plotly_js}</script>
</head>
<body data-report-kind="{kind}">
<header><h1>{title}</h1><p class="subtitle">{subtitle}</p></header>
<nav>{nav}</nav>
<main>
<div id="report-errors"></div>
{body}
</main>
<footer>{footer}</footer>
<script type="application/json" id="report-figures">{figures}</script>
<script>{script}</script>
</body>
</html>
"""


# ---- command line ----------------------------------------------------------------------------

def parse_input(spec):
    """FILE or FILE:POINT."""
    path, point = spec, None
    head, sep, tail = spec.rpartition(":")
    if sep and tail.isdigit() and not os.path.isfile(spec):
        path, point = head, int(tail)
    return path, point


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="report.py",
        description="Write one self-contained HTML report of trustsim results: a run, a "
                    "comparison of two or more results (the first is the reference), or a sweep.",
        epilog="Exit status: 0 success, 2 bad usage or input.")
    p.add_argument("inputs", nargs="+", metavar="FILE[:POINT]",
                   help="trustsim output files; FILE:POINT takes one point of a sweep")
    p.add_argument("-o", "--output", required=True, help="the report (.html)")
    p.add_argument("--labels", help="comma-separated names for the inputs, in order "
                   "(default: the scenario names)")
    p.add_argument("--at", help="comma-separated ticks of the headline table and comparisons "
                   "(default: one year, two years and the last tick)")
    p.add_argument("--title", help="the report's heading")
    p.add_argument("--trustsim", help="the trustsim command, for Sobol indices not stored in "
                   "a saltelli sweep (default: build/release/trustsim, else trustsim on PATH)")
    args = p.parse_args(argv)
    if not args.output.lower().endswith((".html", ".htm")):
        p.error(f"-o {args.output}: the name must end in .html")
    if args.at:
        try:
            args.at = [int(t) for t in args.at.split(",")]
            if min(args.at) < 0:
                raise ValueError
        except ValueError:
            p.error(f"--at expects comma-separated ticks, e.g. 52,104,260; got '{args.at}'")
    if args.labels is not None:
        args.labels = [s.strip() for s in args.labels.split(",")]
        if len(args.labels) != len(args.inputs) or not all(args.labels):
            p.error(f"--labels needs {len(args.inputs)} non-empty names, one per input")
    args.argv = list(argv)
    return args


def default_labels(specs, outputs):
    labels = []
    for (path, point), out in zip(specs, outputs):
        label = out.scenario
        if point is not None and out.n_points > 1:
            label += f" ({short_point_label(out, point)})"
        labels.append(label)
    if len(set(labels)) < len(labels):  # the same scenario twice: tell them apart by file
        labels = [f"{lab} ({os.path.splitext(os.path.basename(path))[0]}"
                  f"{'' if point is None else ':' + str(point)})"
                  for lab, (path, point) in zip(labels, specs)]
    return labels


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    try:
        specs = [parse_input(s) for s in args.inputs]
        cache = {}
        outputs = []
        for path, point in specs:
            if path not in cache:
                cache[path] = rd.Output(path)
            cache[path].check_point(point or 0)
            outputs.append(cache[path])
        labels = args.labels or default_labels(specs, outputs)
        inputs = [rd.Input(out, point or 0, label)
                  for (path, point), out, label in zip(specs, outputs, labels)]
        args.point_given = specs[0][1] is not None
        units = {i.out.tick_unit for i in inputs}
        if len(units) > 1:
            raise rd.DataError(f"the inputs count time in different units "
                               f"({', '.join(sorted(units))}): compare results of the same "
                               "tick unit")
        for inp in inputs:
            if inp.n_runs == 0:
                raise rd.DataError(f"{inp.out.path}: point {inp.point} has no run done")
        page = Report(inputs, args).build()
    except rd.DataError as exc:
        print(f"report.py: error: {exc}", file=sys.stderr)
        return 2
    tmp = args.output + ".part"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(page)
    os.replace(tmp, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
