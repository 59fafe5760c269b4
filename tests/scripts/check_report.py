#!/usr/bin/python3
"""End-to-end check of scripts/report.py: each kind of report from real outputs of the command,
rendered in headless Chromium.

Runs trustsim on shipped scenarios (a run of the baseline, the conflict-resolution policy against
its counterfactual, the formalisation sweep, a two-parameter grid and a small saltelli design,
all shortened), writes a report of each, and checks
  - the file: one HTML file under 20 MB, with a content security policy, no external src or
    href, the scenario text and a note on how to make it again;
  - the numbers: every headline cell at the last tick equals `trustsim info`; the comparison
    cells (difference, Welch interval, Hedges' g, means, sds and counts) of every headline
    metric at the end, of two at one and two years and of two points of one sweep equal
    `trustsim compare` to the digits it prints; the Sobol tables equal `trustsim sensitivity`;
  - the page in Chromium: no script error, no request but the file itself and data: URLs, every
    chart drawn (an SVG with traces, a height), the metric menu switching without error, and
    a PDF print; and saves a screenshot of every report (and the PDF of the comparison) in the
    output directory for a person to look at;
  - what a user can get wrong: exit status 2 with a message.

    tests/scripts/check_report.py path/to/trustsim [--out DIR]

Needs Debian's chromium, python3-plotly, python3-h5py, python3-numpy and python3-yaml
(scripts/setup.sh installs them). Prints 'check_report: N passed, M failed'.
"""

import argparse
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
REPORT = os.path.join(ROOT, "scripts", "report.py")
PYTHON = "/usr/bin/python3"
MAX_BYTES = 20 * 1024 * 1024

sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import browser  # noqa: E402
import report_data as rd  # noqa: E402


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, condition, what):
        if condition:
            self.passed += 1
        else:
            self.failed += 1
            print(f"check_report: FAIL: {what}", file=sys.stderr)
        return condition

    def equal(self, got, want, what):
        return self.ok(got == want, f"{what}: got {got!r}, want {want!r}")


# ---- reading a report ----------------------------------------------------------------------

class Page(html.parser.HTMLParser):
    """What the checks read from a report: links, the CSP, cells with data-* attributes and
    the text of each."""

    def __init__(self, text):
        super().__init__()
        self.links = []  # (tag, attribute, value)
        self.csp = None
        self.cells = []  # (attrs dict, text)
        self.open_cell = None
        self.plots = 0
        self.text = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href", "action", "formaction", "poster", "data"):
            if key in a:
                self.links.append((tag, key, a[key] or ""))
        if tag == "link":
            self.links.append((tag, "link", a.get("href", "")))
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp = a.get("content")
        if tag == "td" and any(k.startswith("data-") for k in a):
            self.open_cell = (a, [])
        if tag == "div" and "plot" in (a.get("class") or "").split():
            self.plots += 1

    def handle_endtag(self, tag):
        if tag == "td" and self.open_cell is not None:
            self.cells.append((self.open_cell[0], "".join(self.open_cell[1]).strip()))
            self.open_cell = None

    def handle_data(self, data):
        if self.open_cell is not None:
            self.open_cell[1].append(data)
        self.text.append(data)

    def cell(self, **want):
        found = [text for attrs, text in self.cells
                 if all(attrs.get(f"data-{k}") == str(v) for k, v in want.items())]
        return found[0] if len(found) == 1 else None


def check_file(c, path, expect_text):
    size = os.path.getsize(path)
    c.ok(size < MAX_BYTES, f"{path}: {size} bytes, not under 20 MB")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    page = Page(text)
    for tag, attribute, value in page.links:
        c.ok(value.startswith(("#", "data:")),
             f"{path}: <{tag} {attribute}={value[:60]!r}> points outside the file")
    c.ok(page.csp and "default-src 'none'" in page.csp and "connect-src 'none'" in page.csp,
         f"{path}: no content security policy that blocks requests")
    c.ok("Plotly.newPlot" in text and "plotly.js v" in text[:2_000_000],
         f"{path}: plotly.js is not inline")
    body = " ".join(page.text)
    for phrase in expect_text:
        c.ok(phrase in body, f"{path}: does not say {phrase!r}")
    return page, size


# ---- the command-line tools ----------------------------------------------------------------

def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)


def info_headlines(trustsim, path):
    """{metric: 'mean [lo, hi]'} from the headline lines of `trustsim info`."""
    out = run([trustsim, "info", path]).stdout
    lines = {}
    for m in re.finditer(r"^  (\w+)\s+(-?[\d.]+)\s+(\[[^\]]+\])$", out, re.M):
        lines[m.group(1)] = f"{m.group(2)} {m.group(3)}"
    return lines


def compare_text(trustsim, a, b, metric, tick, points=None):
    """The numbers `trustsim compare` prints: {difference, ci, g, a, b}."""
    cmd = [trustsim, "compare", a, b, "--metric", metric, "--at", str(tick)]
    if points:
        cmd = [trustsim, "compare", a, "--point-a", str(points[0]), "--point-b", str(points[1]),
               "--metric", metric, "--at", str(tick)]
    out = run(cmd)
    if out.returncode != 0:
        return None
    text = out.stdout
    got = {}
    got["difference"] = re.search(r"^difference, B - A\s+(\S+)$", text, re.M).group(1)
    ci = re.search(r"^95% CI, Welch t\s+(\[[^\]]+\])", text, re.M).group(1)
    got["ci"] = ci
    g = re.search(r"^Hedges' g\s+(\S+)", text, re.M).group(1)
    got["g"] = "undefined" if g == "undefined:" else g
    sides = re.findall(r"mean (\S+), sd (\S+), n (\d+)", text)
    got["a"] = f"{sides[0][0]} ({sides[0][1]}, {sides[0][2]})"
    got["b"] = f"{sides[1][0]} ({sides[1][1]}, {sides[1][2]})"
    return got


def sensitivity_table(trustsim, path, metric, tick):
    """{(parameter, field): text} of the table `trustsim sensitivity` prints (on a copy)."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "s.h5")
        shutil.copy(path, copy)
        out = run([trustsim, "sensitivity", copy, "--metric", metric, "--at", str(tick)]).stdout
    table = {}
    for m in re.finditer(r"^(\S+)\s+(-?[\d.]+)\s+(\[[^\]]+\])\s+(-?[\d.]+)\s+(\[[^\]]+\])$",
                         out, re.M):
        p = m.group(1)
        table[(p, "first")], table[(p, "first_interval")] = m.group(2), m.group(3)
        table[(p, "total")], table[(p, "total_interval")] = m.group(4), m.group(5)
    return table


# ---- the browser ---------------------------------------------------------------------------

CHARTS_JS = """(() => Array.from(document.querySelectorAll('div.plot')).map(el => {
  const box = el.getBoundingClientRect();
  const traces = el.querySelectorAll(
    '.scatterlayer .trace, .barlayer .trace, .heatmaplayer .hm, .imagelayer image').length;
  return {id: el.id, drawn: el.getAttribute('data-drawn') === '1',
          svg: el.querySelectorAll('svg.main-svg').length, traces: traces,
          data: el._fullData ? el._fullData.length : 0, height: Math.round(box.height),
          width: Math.round(box.width)};
}))()"""

# Choose metrics from every menu (the metric menus) as a reader would: six spread over each
# menu, the last included, and back to the first. Every button must show some traces; the
# buttons not pressed are checked without drawing (one visible flag per trace, some true).
MENUS_JS = """(async () => {
  const done = [];
  for (const el of document.querySelectorAll('div.plot')) {
    const menus = (el.layout && el.layout.updatemenus) || [];
    for (const menu of menus) {
      const n = menu.buttons.length, press = new Set();
      for (let k = 0; k < 6; k++) { press.add(Math.round(k * (n - 1) / 5)); }
      for (let i = 0; i < n; i++) {
        const b = menu.buttons[i], visible = b.args[0].visible;
        if (!press.has(i)) {
          done.push(visible.length === el.data.length ? visible.filter(v => v).length : 0);
          continue;
        }
        await Plotly.update(el, b.args[0], b.args[1]);
        done.push(el._fullData.filter(t => t.visible === true).length);
      }
      await Plotly.update(el, menu.buttons[0].args[0], menu.buttons[0].args[1]);
    }
  }
  return done;
})()"""


def check_in_browser(c, b, path, shots, name, pdf=False):
    url = b.open(path)
    status = b.evaluate("JSON.stringify(window.reportStatus)")
    status = json.loads(status)
    c.equal(status["errors"], [], f"{name}: errors recorded by the page")
    c.equal(b.errors(), [], f"{name}: script or console errors")
    outside = [u for u in b.requests() if u != url and not u.startswith("data:")]
    c.equal(outside, [], f"{name}: requests leaving the file")
    charts = b.evaluate(CHARTS_JS)
    c.equal(len(charts), status["charts"], f"{name}: charts on the page")
    c.ok(status["drawn"] == status["charts"] and status["charts"] > 0,
         f"{name}: {status['drawn']} of {status['charts']} charts drawn")
    for ch in charts:
        c.ok(ch["drawn"] and ch["svg"] >= 1 and ch["data"] >= 1 and ch["traces"] >= 1 and
             ch["height"] >= 200 and ch["width"] >= 300, f"{name}: {ch['id']} not drawn: {ch}")
    switched = b.evaluate(MENUS_JS)
    c.ok(all(n >= 1 for n in switched), f"{name}: a metric menu left a chart empty: {switched}")
    c.equal(b.errors(), [], f"{name}: errors after using the metric menus")
    b.screenshot(os.path.join(shots, f"{name}.png"))
    b.screenshot(os.path.join(shots, f"{name}-top.png"), full_page=False)
    if pdf:
        out = os.path.join(shots, f"{name}.pdf")
        b.print_pdf(out)
        with open(out, "rb") as f:
            data = f.read()
        pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
        c.ok(data.startswith(b"%PDF") and pages >= 3, f"{name}: print gave {pages} pages")
    return charts


# ---- the checks ----------------------------------------------------------------------------

SALTELLI = """name: saltelli_report
description: Two levers of a three-partner collaboration, for the report's test.
seed: 3
ticks: 20
replicates: 2
organisations:
  - {id: acute, kind: acute_trust}
  - {id: council, kind: council}
  - {id: gp, kind: gp_federation}
collaborations:
  - {id: place, members: [acute, council, gp]}
sweep:
  design: saltelli
  n: 16
  parameters:
    reciprocity.q0: {min: 0.05, max: 0.5}
    faith.initial: {min: 0.2, max: 0.9}
"""

HEADLINE = ("trust_interorg", "trust_interpersonal", "faith", "confidence", "coop_rate",
            "stage0_share", "stage1_share", "stage2_share", "stage3_share", "active_orgs")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("trustsim", nargs="?", default=os.path.join(ROOT, "build/release/trustsim"))
    p.add_argument("--out", help="where to keep the reports and screenshots "
                   "(default: a temporary directory, removed)")
    args = p.parse_args()
    trustsim = os.path.abspath(args.trustsim)
    missing = [m for m in ("plotly", "h5py", "numpy", "yaml")
               if run([PYTHON, "-c", f"import {m}"]).returncode != 0]
    if browser.find_chromium() is None:
        missing.append("chromium")
    if missing or not os.access(trustsim, os.X_OK):
        print(f"check_report: missing: {' '.join(missing) or trustsim} "
              "(scripts/setup.sh installs the Debian packages)", file=sys.stderr)
        return 1
    work = args.out or tempfile.mkdtemp(prefix="check_report.")
    os.makedirs(work, exist_ok=True)
    shots = os.path.join(work, "screenshots")
    os.makedirs(shots, exist_ok=True)
    c = Checks()
    start = time.monotonic()

    def sim(scenario, out, *extra):
        r = run([trustsim, "run", scenario, "-o", os.path.join(work, out), "-q", "--force",
                 "-j", "2", *extra])
        c.ok(r.returncode == 0, f"trustsim run {scenario}: {r.stderr.strip()}")
        return os.path.join(work, out)

    def reports_of(jobs, workers=2):
        """Write the reports {name: inputs}, two at a time; {name: path}."""
        paths, running, queue = {}, [], list(jobs.items())
        while queue or running:
            while queue and len(running) < workers:
                name, inputs = queue.pop(0)
                paths[name] = os.path.join(work, f"{name}.html")
                proc = subprocess.Popen([PYTHON, REPORT, *inputs, "-o", paths[name],
                                         "--trustsim", trustsim], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
                running.append((name, proc))
            name, proc = running.pop(0)
            _, err = proc.communicate()
            c.equal(proc.returncode, 0, f"report {name}: exit status ({err.strip()})")
        return paths

    sc = os.path.join(ROOT, "scenarios")
    base = sim(f"{sc}/baseline.yaml", "baseline.h5", "-r", "24", "--set", "ticks=120")
    policy = sim(f"{sc}/conflict_resolution.yaml", "policy.h5", "-r", "24", "--set", "ticks=110")
    counter = sim(f"{sc}/conflict_resolution_counterfactual.yaml", "counterfactual.h5", "-r",
                  "24", "--set", "ticks=110")
    sweep = sim(f"{sc}/formalisation_sweep.yaml", "sweep.h5", "-r", "6", "--set", "ticks=60")
    grid = sim(os.path.join(ROOT, "tests/data/sweep_grid.yaml"), "grid.h5", "-r", "3",
               "--set", "ticks=24")
    with open(os.path.join(work, "saltelli.yaml"), "w") as f:
        f.write(SALTELLI)
    saltelli = sim(os.path.join(work, "saltelli.yaml"), "saltelli.h5")
    # one analysis stored in the file, as `trustsim sensitivity` leaves it; the others the report
    # computes itself
    r = run([trustsim, "sensitivity", saltelli, "--metric", "faith"])
    c.ok(r.returncode == 0, f"trustsim sensitivity: {r.stderr}")
    before = os.path.getmtime(saltelli)
    print(f"check_report: outputs made in {time.monotonic() - start:.1f} s")

    reports = reports_of({
        "run": [base],
        "comparison": [counter, policy],
        "points": [f"{sweep}:0", f"{sweep}:4"],
        "sweep": [sweep],
        "grid": [grid],
        "saltelli": [saltelli],
    })
    c.equal(os.path.getmtime(saltelli), before, "report changed its input file")
    print(f"check_report: reports written in {time.monotonic() - start:.1f} s")

    # -- the files and their numbers
    pages = {}
    sizes = {}
    for name, path in reports.items():
        expect = ["How to make this report again", "What was run"]
        if name in ("run", "comparison", "points"):
            expect.append("Headline numbers")
        if name in ("comparison", "points"):
            expect.append("What changes")
        if name == "saltelli":
            expect.append("Which parameter matters")
        if name == "grid":
            expect.append("Two parameters together")
        pages[name], sizes[name] = check_file(c, path, expect)

    last = {"run": 120, "comparison": 110, "points": 60}
    for name, source in (("run", base), ("comparison", counter), ("points", sweep)):
        want = info_headlines(trustsim, source)
        c.ok(len(want) >= 7, f"trustsim info {source}: headline lines not found")
        for metric, text in want.items():
            c.equal(pages[name].cell(input=0, metric=metric, tick=last[name]), text,
                    f"{name}: headline {metric} at tick {last[name]} against trustsim info")

    # every headline metric at the end, two of them at one and two years, and a few for two
    # points of one sweep (`compare --point-a --point-b`): each is a run of the command
    n_compared = 0
    cases = [("comparison", counter, policy, None, m, 110) for m in HEADLINE]
    cases += [("comparison", counter, policy, None, m, t) for m in ("trust_interorg", "faith")
              for t in (52, 104)]
    cases += [("points", sweep, sweep, (0, 4), m, 60) for m in ("trust_interorg", "coop_rate",
                                                                  "stage3_share")]
    for name, a, b, points, metric, tick in cases:
        want = compare_text(trustsim, a, b, metric, tick, points)
        cells = {f: pages[name].cell(input=1, metric=metric, tick=tick, field=f)
                 for f in ("difference", "ci", "g", "a", "b")}
        if want is None:  # compare refuses: the report says so too
            c.ok(cells["difference"] is None,
                 f"{name}: {metric} at {tick} has a difference where trustsim compare refuses")
            continue
        for field, text in want.items():
            c.equal(cells[field], text,
                    f"{name}: {metric} at tick {tick}, {field} against trustsim compare")
        n_compared += 1
    c.ok(n_compared >= 15, f"only {n_compared} comparisons checked")

    # beyond the digits printed: the report's arithmetic is GSL's, so every number is the very
    # double of `compare --json`
    a_in = rd.Input(rd.Output(counter), 0, "A")
    b_in = rd.Input(rd.Output(policy), 0, "B")
    for metric in ("trust_interorg", "faith", "coop_rate"):
        j = json.loads(run([trustsim, "compare", counter, policy, "--metric", metric, "--at",
                            "110", "--json"]).stdout)
        w = rd.compare_at(a_in, b_in, metric, 110)
        exact = {"mean_a": j["a"]["mean"], "sd_a": j["a"]["sd"], "mean_b": j["b"]["mean"],
                 "sd_b": j["b"]["sd"], "diff": j["difference"], "se": j["se"], "df": j["df"],
                 "ci_low": j["welch_ci"][0], "ci_high": j["welch_ci"][1],
                 "cohens_d": j["cohens_d"], "hedges_g": j["hedges_g"]}
        for key, want in exact.items():
            c.equal(w[key], want, f"{metric}: {key} against compare --json")

    for metric in ("trust_interorg", "faith", "coop_rate"):
        want = sensitivity_table(trustsim, saltelli, metric, 20)
        c.ok(len(want) == 8, f"trustsim sensitivity {metric}: table not found")
        for (param, field), text in want.items():
            c.equal(pages["saltelli"].cell(metric=metric, parameter=param, field=field), text,
                    f"saltelli: {metric} {param} {field} against trustsim sensitivity")
    print(f"check_report: numbers checked in {time.monotonic() - start:.1f} s")

    # -- in the browser
    try:
        with browser.Browser(width=1280, height=900, timeout=120) as b:
            for name, path in reports.items():
                if name == "points":  # drawn by the same code as "comparison"
                    continue
                t0 = time.monotonic()
                charts = check_in_browser(c, b, path, shots, name, pdf=name == "comparison")
                print(f"check_report: {name}: {len(charts)} charts drawn, "
                      f"{sizes[name] / 1e6:.1f} MB, {time.monotonic() - t0:.1f} s in chromium")
    except browser.BrowserError as exc:
        c.ok(False, f"chromium: {exc}")

    # -- what a user can get wrong
    bad = os.path.join(work, "saltelli.yaml")
    for args_, what in (([os.path.join(work, "missing.h5")], "a missing file"),
                        ([bad], "a file that is not HDF5"),
                        ([f"{sweep}:9"], "a point out of range"),
                        ([base, "--at", "999"], "a tick past the end")):
        r = run([PYTHON, REPORT, *args_, "-o", os.path.join(work, "x.html")])
        c.ok(r.returncode == 2 and "report.py: error:" in r.stderr,
             f"{what}: exit {r.returncode}, {r.stderr.strip()[:200]}")
    r = run([PYTHON, REPORT, base, "-o", os.path.join(work, "x.png")])
    c.equal(r.returncode, 2, "-o not .html: exit status")
    r = run([PYTHON, REPORT, base, policy, "--labels", "one", "-o", os.path.join(work, "x.html")])
    c.equal(r.returncode, 2, "--labels of the wrong length: exit status")
    c.ok(not os.path.exists(os.path.join(work, "x.html")), "a failed report left a file")

    print(f"check_report: reports and screenshots in {work}" if args.out else
          f"check_report: took {time.monotonic() - start:.1f} s")
    if not args.out:
        shutil.rmtree(work, ignore_errors=True)
    print(f"check_report: {c.passed} passed, {c.failed} failed")
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
