#!/usr/bin/python3
"""Unit tests of scripts/report_data.py, the numbers of the HTML report.

Each test builds a small output file with h5py in the layout of docs/output-format.md, with
values chosen so that the expected numbers are known independently: by hand, with Python's
exactly rounded sums (math.fsum), with numpy's percentile and variance, with SciPy's Welch test
and gamma function, or with a 40-digit t quantile from mpmath. The command-line tools themselves
are compared with the report in check_report.py.

    /usr/bin/python3 tests/scripts/test_report_data.py [-v]
"""

import math
import os
import sys
import tempfile
import unittest

import h5py
import mpmath
import numpy as np
from scipy import special, stats

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import report_data as rd  # noqa: E402


def make_output(path, series, done=None, ticks=None, tick_unit="week", points=None,
                final=None, resolved=None):
    """An output file: series {metric: [point, replicate, time]}; done [point, replicate]
    (default all 1); final {name: array} for /final; points {path: [point]}."""
    first = next(iter(series.values()))
    n_points, n_reps, n_times = first.shape
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "trustsim"
        f.attrs["format_version"] = np.int32(1)
        f.attrs["trustsim_version"] = "0.1.0"
        f.attrs["scenario"] = "unit"
        f.attrs["master_seed"] = np.uint64(5)
        f.attrs["rng_type"] = "mt19937"
        f.attrs["created"] = "2026-01-01T00:00:00Z"
        f.attrs["tick_unit"] = tick_unit
        f.attrs["n_points"] = np.uint64(n_points)
        f.attrs["n_replicates"] = np.uint64(n_reps)
        f["time"] = np.arange(n_times) if ticks is None else np.asarray(ticks)
        f["done"] = np.ones((n_points, n_reps), np.uint8) if done is None else \
            np.asarray(done, np.uint8)
        f["organisation"] = np.array([b"a", b"b", b"c"], dtype=h5py.string_dtype())
        f.create_dataset("scenario/text", data="name: unit\n", dtype=h5py.string_dtype())
        f.create_dataset("scenario/resolved", data=resolved or "name: unit\ndescription: d\n",
                         dtype=h5py.string_dtype())
        for name, values in series.items():
            f[f"series/{name}"] = np.asarray(values, dtype=float)
        for name, values in (points or {}).items():
            f[f"points/{name}"] = np.asarray(values, dtype=float)
        for name, values in (final or {}).items():
            f[f"final/{name}"] = values


def t_quantile_exact(p, df):
    """The p quantile (p > 1/2) of Student's t, to 40 digits, from the regularised incomplete
    beta function: P(T > x) = I_{df/(df+x^2)}(df/2, 1/2) / 2."""
    with mpmath.workdps(40):
        nu = mpmath.mpf(df)
        tail = mpmath.mpf(1) - mpmath.mpf(p)
        x = mpmath.findroot(lambda x: mpmath.betainc(nu / 2, mpmath.mpf(1) / 2, 0,
                                                     nu / (nu + x * x), regularized=True) / 2
                            - tail, 2.0)
        return float(x)


class Files(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="test_report_data.")
        self.n = 0

    def tearDown(self):
        self.tmp.cleanup()

    def output(self, series, **kw):
        self.n += 1
        path = os.path.join(self.tmp.name, f"o{self.n}.h5")
        make_output(path, series, **kw)
        return rd.Output(path)


class RunningStatistics(unittest.TestCase):
    def test_mean_within_an_ulp_of_the_exactly_rounded_mean(self):
        rng = np.random.default_rng(1)
        for n in (2, 3, 17, 200, 1000):
            x = rng.uniform(0.3, 0.9, n)
            exact = math.fsum(x) / n
            self.assertLessEqual(abs(rd.gsl_mean(x) - exact), 2 * np.spacing(exact), n)

    def test_mean_of_equal_values_is_that_value(self):
        for v in (0.1, 0.7, 6.0, 1e-300):
            self.assertEqual(rd.gsl_mean(np.full(150, v)), v)

    def test_column_means_skip_non_finite_values(self):
        x = np.array([[1.0, np.nan], [2.0, 4.0], [np.inf, 8.0], [3.0, np.nan]])
        np.testing.assert_allclose(rd.gsl_mean(x), [2.0, 6.0], rtol=0, atol=1e-15)
        self.assertTrue(np.isnan(rd.gsl_mean(np.array([[np.nan], [np.nan]]))[0]))

    def test_variance_matches_numpy_with_divisor_n_minus_1(self):
        rng = np.random.default_rng(2)
        x = rng.normal(0.5, 0.1, 40)
        self.assertAlmostEqual(rd.gsl_variance_m(x, rd.gsl_mean(x)), np.var(x, ddof=1),
                               delta=1e-15)
        self.assertTrue(np.isnan(rd.gsl_variance_m(np.array([0.3]), 0.3)))

    def test_quantiles_are_type_7(self):
        x = np.sort(np.array([0.7, 0.1, 0.4, 0.9, 0.2, 0.3]))
        for f in (0.0, 0.05, 0.25, 0.5, 0.95, 1.0):
            self.assertAlmostEqual(rd.gsl_quantile_sorted(x, f), np.percentile(x, 100 * f),
                                   delta=1e-15)
        self.assertEqual(rd.gsl_quantile_sorted(np.array([3.0]), 0.95), 3.0)
        self.assertTrue(math.isnan(rd.gsl_quantile_sorted(np.array([]), 0.5)))

    def test_quantiles_over_time_ignore_nan(self):
        x = np.array([[0.1, np.nan], [0.5, 0.2], [0.3, 0.6], [0.9, 0.4]])
        q = rd.quantiles_over_time(x, (0.05, 0.5, 0.95))
        np.testing.assert_allclose(q[:, 0], np.percentile([0.1, 0.5, 0.3, 0.9], [5, 50, 95]),
                                   atol=1e-15)
        np.testing.assert_allclose(q[:, 1], np.percentile([0.2, 0.6, 0.4], [5, 50, 95]),
                                   atol=1e-15)

    def test_headline_of_known_values(self):
        # 0.1 .. 1.0 in shuffled order: mean 0.55, q05 = 0.1 + 0.45 * 0.1, q95 = 1.0 - 0.045
        x = np.array([0.4, 1.0, 0.1, 0.7, 0.3, 0.9, 0.5, 0.2, 0.8, 0.6, np.nan])
        mean, lo, hi, n = rd.headline(x)
        self.assertEqual(n, 10)
        self.assertAlmostEqual(mean, 0.55, delta=1e-15)
        self.assertAlmostEqual(lo, 0.145, delta=1e-15)
        self.assertAlmostEqual(hi, 0.955, delta=1e-15)
        self.assertEqual(rd.format_headline((mean, lo, hi, n)), "0.550 [0.145, 0.955]")
        self.assertEqual(rd.format_headline(rd.headline(np.array([np.nan]))), "no finite value")


class Welch(unittest.TestCase):
    def test_against_scipy_welch_test(self):
        rng = np.random.default_rng(3)
        a, b = rng.normal(0.50, 0.03, 40), rng.normal(0.52, 0.05, 25)
        w = rd.welch(a, b)
        se = math.sqrt(np.var(a, ddof=1) / 40 + np.var(b, ddof=1) / 25)
        self.assertAlmostEqual(w["diff"], b.mean() - a.mean(), delta=1e-15)
        self.assertAlmostEqual(w["se"], se, delta=1e-15)
        t = stats.ttest_ind(b, a, equal_var=False)
        self.assertAlmostEqual(w["diff"] / w["se"], t.statistic, delta=1e-10)
        # the interval just holds 0 at the test's own level: p-value 1 - level
        level = 1 - t.pvalue
        w_p = rd.welch(a, b, level)
        self.assertAlmostEqual(w_p["ci_low"] if w["diff"] > 0 else w_p["ci_high"], 0.0,
                               delta=1e-9)
        va, vb = np.var(a, ddof=1) / 40, np.var(b, ddof=1) / 25
        df = (va + vb) ** 2 / (va ** 2 / 39 + vb ** 2 / 24)
        self.assertAlmostEqual(w["df"], df, delta=1e-9)
        tq = t_quantile_exact(0.975, w["df"])
        self.assertAlmostEqual(w["t_crit"], tq, delta=1e-14)
        self.assertAlmostEqual(w["ci_low"], w["diff"] - tq * se, delta=1e-15)
        self.assertAlmostEqual(w["ci_high"], w["diff"] + tq * se, delta=1e-15)

    def test_t_quantile(self):
        # SciPy 1.10's t.ppf is off by up to about 1e-9 for fractional degrees of freedom, as
        # Welch's are; the report's (GSL's) agrees with a 40-digit root of the t distribution
        for df in (3.0, 10.0, 45.8825, 60.3, 300.0):
            for p in (0.95, 0.975, 0.995):
                self.assertAlmostEqual(rd.t_quantile(p, df) / t_quantile_exact(p, df), 1.0,
                                       delta=1e-14, msg=(p, df))

    def test_hedges_g(self):
        a = np.array([0.1, 0.3, 0.2, 0.4, 0.35, 0.25])
        b = np.array([0.3, 0.5, 0.45, 0.4, 0.6])
        w = rd.welch(a, b)
        m = 9.0
        sp = math.sqrt((5 * np.var(a, ddof=1) + 4 * np.var(b, ddof=1)) / m)
        j = special.gamma(m / 2) / (math.sqrt(m / 2) * special.gamma((m - 1) / 2))
        self.assertAlmostEqual(w["cohens_d"], (b.mean() - a.mean()) / sp, delta=1e-12)
        self.assertAlmostEqual(w["hedges_g"], j * (b.mean() - a.mean()) / sp, delta=1e-12)
        self.assertAlmostEqual(j, 1 - 3 / (4 * m - 1), delta=2e-3)

    def test_no_spread_gives_the_difference_exactly(self):
        w = rd.welch(np.full(5, 0.25), np.full(4, 0.5))
        self.assertEqual((w["diff"], w["ci_low"], w["ci_high"], w["se"]), (0.25, 0.25, 0.25, 0))
        self.assertTrue(math.isnan(w["df"]) and math.isnan(w["hedges_g"]))

    def test_fewer_than_two_values_give_nothing(self):
        w = rd.welch(np.array([0.1, np.nan]), np.array([0.2, 0.3, 0.4]))
        self.assertTrue(math.isnan(w["diff"]) and math.isnan(w["ci_low"]))
        self.assertEqual((w["n_a"], w["n_b"]), (1.0, 3.0))

    def test_over_time_equals_each_tick_alone(self):
        rng = np.random.default_rng(4)
        a = rng.normal(0.5, 0.05, (30, 6))
        b = rng.normal(0.51, 0.04, (20, 6))
        a[3, 2] = np.nan
        b[:, 0] = np.nan
        w = rd.welch(a, b)
        for t in range(6):
            one = rd.welch(a[np.isfinite(a[:, t]), t], b[np.isfinite(b[:, t]), t])
            for key in ("diff", "se", "df", "ci_low", "ci_high", "hedges_g"):
                self.assertTrue(w[key][t] == one[key] or
                                (math.isnan(w[key][t]) and math.isnan(one[key])), (t, key))
        self.assertTrue(math.isnan(w["diff"][0]))


class Reading(Files):
    def test_runs_not_done_are_left_out(self):
        x = np.array([[[0.1, 0.2], [0.3, 0.4], [9.0, 9.0], [0.5, np.nan]]])  # [1, 4, 2]
        out = self.output({"faith": x}, done=[[1, 1, 0, 1]])
        inp = rd.Input(out, 0, "x")
        self.assertEqual(inp.n_runs, 3)
        np.testing.assert_array_equal(inp.values("faith", 1)[:2], [0.2, 0.4])
        table = rd.headline_table(inp, ["faith", "absent"], rd.headline_ticks(out, [0, 1]))
        self.assertEqual(set(table), {"faith"})
        self.assertEqual(rd.format_headline(table["faith"][0]), "0.300 [0.120, 0.480]")
        self.assertEqual(table["faith"][1][3], 2)  # NaN at tick 1 not counted

    def test_points_and_labels(self):
        x = np.zeros((3, 2, 4))
        out = self.output({"faith": x}, points={"b.q": [0.5, 1e-05, 2],
                                                "a.formalisation": [0, 0.25, 1]},
                          resolved="name: s\nsweep:\n  design: list\n  parameters:\n"
                                   "    b.q: {values: [0.5, 1e-05, 2]}\n"
                                   "    a.formalisation: {values: [0, 0.25, 1]}\n")
        self.assertEqual(out.parameters, ["b.q", "a.formalisation"])  # the sweep block's order
        self.assertEqual(out.design, "list")
        # as `trustsim compare` labels a point: by name, %g
        self.assertEqual(out.point_label(1), "a.formalisation=0.25, b.q=1e-05")
        with self.assertRaises(rd.DataError):
            rd.Input(out, 3, "x")

    def test_headline_ticks(self):
        def ticks(n, unit, requested=None):
            out = self.output({"faith": np.zeros((1, 2, n + 1))}, tick_unit=unit)
            return [(t.tick, t.when, t.end) for t in rd.headline_ticks(out, requested)]
        self.assertEqual(ticks(260, "week"), [(52, "one year", False), (104, "two years", False),
                                              (260, "5.0 years", True)])
        self.assertEqual(ticks(60, "week"), [(52, "one year", False), (60, "week 60", True)])
        self.assertEqual(ticks(30, "month"), [(12, "one year", False),
                                              (24, "two years", False),
                                              (30, "2.5 years", True)])
        self.assertEqual(ticks(100, "day"), [(100, "day 100", True)])
        self.assertEqual(ticks(104, "week", [0, 104]), [(0, "week 0", False),
                                                        (104, "two years", True)])
        with self.assertRaises(rd.DataError):
            ticks(10, "week", [11])
        out = self.output({"faith": np.zeros((1, 2, 261))})
        self.assertEqual([t.by for t in rd.headline_ticks(out)],
                         ["by one year", "by two years", "by the end (5.0 years)"])

    def test_comparison_over_common_ticks(self):
        rng = np.random.default_rng(5)
        xa = rng.normal(0.5, 0.05, (1, 10, 5))
        xb = rng.normal(0.6, 0.05, (1, 8, 3))
        a = rd.Input(self.output({"m": xa}, ticks=[0, 1, 2, 3, 4]), 0, "a")
        b = rd.Input(self.output({"m": xb}, ticks=[2, 3, 4]), 0, "b")
        ticks, w = rd.compare_over_time(a, b, "m")
        np.testing.assert_array_equal(ticks, [2, 3, 4])
        for k, t in enumerate(ticks):
            one = rd.compare_at(a, b, "m", int(t))
            self.assertEqual(w["diff"][k], one["diff"])
            self.assertAlmostEqual(one["diff"], xb[0, :, k].mean() - xa[0, :, t].mean(),
                                   delta=1e-15)

    def test_final_network_format_1(self):
        n = 3
        trust = np.full((1, 2, n, n), np.nan)
        stage = np.full((1, 2, n, n), -1, np.int8)
        # a-b share a collaboration, c shares none
        trust[0, 0, 0, 1], trust[0, 0, 1, 0] = 0.6, 0.4
        trust[0, 1, 0, 1], trust[0, 1, 1, 0] = 0.8, 0.5
        stage[0, 0, 0, 1] = stage[0, 0, 1, 0] = 2
        stage[0, 1, 0, 1] = stage[0, 1, 1, 0] = 3
        final = {"trust_interorg": trust, "stage": stage,
                 "faith": np.array([[[0.5, 0.6, 0.7], [0.7, 0.8, 0.9]]]),
                 "active": np.array([[[1, 1, 0], [1, 0, 0]]], np.uint8)}
        out = self.output({"faith": np.zeros((1, 2, 3))}, final=final)
        net = out.final_network(0)
        self.assertEqual(net["pairs"], [(0, 1), (1, 0)])
        s = rd.network_summary(net)
        np.testing.assert_allclose(s["trust"], [0.7, 0.45], atol=1e-15)
        np.testing.assert_allclose(s["stage_shares"][2:], [[0.5, 0.5], [0.5, 0.5]])
        np.testing.assert_allclose(s["engaged"], [1.0, 0.5, 0.0])
        np.testing.assert_allclose(s["faith"], [0.6, 0.7, 0.8], atol=1e-15)
        m = rd.trust_matrix(net, s)
        self.assertAlmostEqual(m[0, 1], 0.7, delta=1e-15)
        self.assertTrue(np.isnan(m[0, 2]) and np.isnan(m[2, 2]))

    def test_final_network_by_pair(self):
        # format 2: only the pairs that share a collaboration, a-b both ways; c has none
        final = {"trust_interorg": np.array([[[0.6, 0.4], [0.8, 0.5]]]),
                 "stage": np.array([[[2, 2], [3, 3]]], np.int8),
                 "pair_organisation": np.array([0, 1], np.int32),
                 "pair_partner": np.array([1, 0], np.int32),
                 "faith": np.array([[[0.5, 0.6, 0.7], [0.7, 0.8, 0.9]]]),
                 "active": np.array([[[1, 1, 0], [1, 0, 0]]], np.uint8)}
        out = self.output({"faith": np.zeros((1, 2, 3))}, final=final)
        net = out.final_network(0)
        self.assertEqual(net["pairs"], [(0, 1), (1, 0)])
        s = rd.network_summary(net)
        np.testing.assert_allclose(s["trust"], [0.7, 0.45], atol=1e-15)
        np.testing.assert_allclose(s["stage_shares"][2:], [[0.5, 0.5], [0.5, 0.5]])
        m = rd.trust_matrix(net, s)
        self.assertAlmostEqual(m[1, 0], 0.45, delta=1e-15)
        self.assertTrue(np.isnan(m[0, 2]) and np.isnan(m[1, 1]))

    def test_not_a_trustsim_output(self):
        path = os.path.join(self.tmp.name, "other.h5")
        with h5py.File(path, "w") as f:
            f["x"] = [1]
        with self.assertRaises(rd.DataError):
            rd.Output(path)
        with self.assertRaises(rd.DataError):
            rd.Output(os.path.join(self.tmp.name, "missing.h5"))


class Helpers(unittest.TestCase):
    def test_grid_levels(self):
        xs, ys = np.array([1, 2, 1, 2, 1, 2.0]), np.array([5, 5, 6, 6, 7, 7.0])
        lx, ly = rd.grid_levels(xs, ys)
        np.testing.assert_array_equal(lx, [1, 2])
        np.testing.assert_array_equal(ly, [5, 6, 7])
        self.assertIsNone(rd.grid_levels(xs[:5], ys[:5]))
        self.assertIsNone(rd.grid_levels(np.array([1, 1, 2, 2.0]), np.array([5, 5, 6, 6.0])))

    def test_scenario_differences(self):
        class Side:
            def __init__(self, resolved):
                self.resolved = resolved
        a = Side({"name": "a", "ticks": 10, "events": [{"type": "turnover", "rate": 0.1}],
                  "organisations": [{"id": "x", "size": 1}]})
        b = Side({"name": "b", "ticks": 10,
                  "events": [{"type": "conflict_resolution", "probability": 0.5},
                             {"type": "turnover", "rate": 0.2}],
                  "organisations": [{"id": "x", "size": 2}]})
        self.assertEqual(rd.scenario_differences(a, b), [
            ("events.turnover.rate", 0.1, 0.2), ("organisations.x.size", 1, 2),
            ("events.conflict_resolution.type", None, "conflict_resolution"),
            ("events.conflict_resolution.probability", None, 0.5)])


if __name__ == "__main__":
    unittest.main()
