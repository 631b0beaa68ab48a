"""How a verdict is decided (claims/core.py, stats.py), on synthetic tables whose answer is known: too few values,
values that are not finite, empty selections, runs that did not learn (that do and do not matter), non-inferiority,
a band, a plateau with wiggles, a radius fixed before the test, a null interaction; and each interval's coverage
in simulation at 5 and 10 seeds."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from collective_action.claims import core, followups, paper
from collective_action.evaluation import stats

CFG = {"small_alpha_max": 0.1, "large_alpha_min": 0.4, "confidence": 0.95, "paper_crossing": 0.2,
       "crossing_tolerance": 0.05, "trend_margin": 0.05, "equivalence_margin": 0.05, "near_zero": 0.1,
       "near_full": 0.9}
ALPHAS = (0.05, 0.1, 0.2, 0.4, 0.5)


def fig1b(success, seeds=6, noise=0.02, alphas=ALPHAS, seed=0):
    """A fig1b-like table: success(algorithm, alpha) plus noise, every run learned."""
    r = np.random.default_rng(seed)
    return pd.DataFrame([dict(panel="fig1b", dataset="2d", algorithm=a, learner=a, alpha=x, alpha_val=0.0, seed=s,
                              stopping="last", success=float(np.clip(success(a, x) + r.normal(0, noise), 0, 1)),
                              success_all=0.9, accuracy=0.9, alpha_realized=x, alpha_eff=x, alpha_eff_weights=x,
                              xi=0.5, delta=1.0, theorem1_bound=-1.0, learned=True)
                         for a in ("erm", "jtt", "lff") for x in alphas for s in range(seeds)])


def dro_like(algo, alpha):
    return (0.0 if alpha < 0.3 else 1.0) if algo == "erm" else (0.8 if alpha < 0.3 else 0.2)


def row(out, key):
    return out.set_index("key").loc[key]


def evaluate(tables, keys=None):
    return core.evaluate_claims(tables, CFG)


# ----------------------------------------------------------------------------- too little to decide
def test_one_seed_cannot_be_decided_and_says_n():
    out = evaluate({"fig1b": fig1b(dro_like, seeds=1)})
    for key in ("C1@fig1b", "C2@fig1b", "C12@fig1b", "C14@fig1b"):
        r = row(out, key)
        assert r["verdict"] == core.UNDECIDED, (key, r["measured"])
        assert "n = 1" in r["measured"]


def test_two_seeds_decide():
    assert row(evaluate({"fig1b": fig1b(dro_like, seeds=2)}), "C1@fig1b")["verdict"] == core.REPRODUCED


def test_a_value_that_is_not_finite_is_counted_and_named_never_dropped():
    table = fig1b(dro_like)
    table.loc[(table["algorithm"] == "jtt") & (table["alpha"] == 0.05) & (table["seed"] == 3), "success"] = np.nan
    r = row(evaluate({"fig1b": table}), "C1@fig1b")
    assert r["verdict"] == core.UNDECIDED
    assert "1 value(s) not finite" in r["measured"] and "jtt alpha=0.05 seed=3" in r["measured"]


def test_intervals_count_their_values():
    iv = stats.t_interval(pd.Series([0.1, np.nan, 0.3, np.inf], index=[10, 11, 12, 13]))
    assert iv.n == 2 and iv.nonfinite == (11, 13) and not iv.decidable
    assert "2 value(s) not finite (11, 13)" in iv.why_not()
    one = stats.t_interval([0.4])
    assert one.n == 1 and np.isnan(one.low) and not one.decidable  # never the value itself as its interval
    assert not stats.welch_interval([0.1], [0.2, 0.3]).decidable


def test_an_empty_selection_is_not_run_with_its_reason():
    table = fig1b(dro_like, alphas=(0.2, 0.5))  # no alpha <= 0.1
    r = row(evaluate({"fig1b": table}), "C1@fig1b")
    assert r["verdict"] == core.NOT_RUN and "no alpha of 'fig1b' in the range alpha<=0.1" in r["measured"]
    r = row(evaluate({"fig1b": fig1b(dro_like).iloc[0:0]}), "C1@fig1b")
    assert r["verdict"] == core.NOT_RUN and "no rows" in r["measured"]


def test_every_decided_claim_gives_n_and_what_its_interval_covers():
    out = evaluate({"fig1b": fig1b(dro_like)})
    for _, r in out[out["verdict"].isin(core.DECIDED)].iterrows():
        assert "n = 6" in r["measured"] and stats.COVERS in r["measured"], r["key"]
        assert r["n"] == 6


# ----------------------------------------------------------------------------- runs that did not learn
def flag(table, algorithm, alpha, seeds):
    table = table.copy()
    table.loc[(table["algorithm"] == algorithm) & (table["alpha"] == alpha) & table["seed"].isin(seeds), "learned"] = False
    return table


def test_runs_that_do_not_matter_leave_the_verdict_with_a_sensitivity_note():
    table = flag(fig1b(dro_like), "lff", 0.05, [1])
    r = row(evaluate({"fig1b": table}), "C1@fig1b")
    assert r["verdict"] == core.REPRODUCED
    assert r["sensitivity"].startswith("reproduced; unchanged when the 1 of the 36 runs read here")
    assert "lff alpha=0.05 (1)" in r["sensitivity"] and "left out or set to their worst case" in r["sensitivity"]


def test_runs_that_matter_make_the_claim_inconclusive_naming_them():
    """JTT's two flagged runs (seed 0 at alpha 0.05 and 0.1) carry an outlier: counted, they widen the interval over
    0; left out, the gain is clear: the verdict depends on them."""
    table = fig1b(lambda a, x: 0.0 if a == "erm" else (0.15 if x <= 0.1 else 0.5), noise=0.01)
    table.loc[(table["algorithm"] == "jtt") & (table["alpha"] <= 0.1) & (table["seed"] == 0), "success"] = 1.0
    table = flag(table, "jtt", 0.05, [0])
    table = flag(table, "jtt", 0.1, [0])
    r = row(evaluate({"fig1b": table}), "C1@fig1b")
    assert r["verdict"] == core.INCONCLUSIVE, r["sensitivity"]
    assert r["sensitivity"].startswith("inconclusive: depends on the 2 of the 36 runs")
    assert "jtt alpha=0.05 (1), jtt alpha=0.1 (1)" in r["sensitivity"]
    assert "counted, not reproduced; left out, reproduced; each set to its worst case" in r["sensitivity"]


def test_a_flagged_run_outside_the_claims_range_is_ignored():
    table = flag(fig1b(dro_like), "jtt", 0.5, [2])
    out = evaluate({"fig1b": table})
    assert row(out, "C1@fig1b")["sensitivity"].startswith("all 36 runs")  # C1 reads alpha <= 0.1 only
    assert "1 of the 36 runs" in row(out, "C2@fig1b")["sensitivity"]  # alpha 0.4 and 0.5, three learners


def test_leaving_runs_out_is_cell_by_cell():
    """A left-out run leaves its own cell only: the seed's other alphas stay, and its mean is never taken over the
    alphas it has left (which would weigh the large ones more)."""
    wide = pd.DataFrame([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], index=[0.05, 0.4], columns=[0, 1, 2])
    wide.loc[0.05, 0] = np.nan
    iv = stats.mean_over_cells(wide)
    assert iv.mean == pytest.approx(0.5) and iv.n == 2 and "1 cell(s) left out" in iv.note
    # with nothing missing, it is exactly the t interval of the per-seed means
    full = pd.DataFrame(np.random.default_rng(0).normal(size=(4, 7)), index=[1, 2, 3, 4])
    a, b = stats.mean_over_cells(full), stats.t_interval(full.mean(axis=0))
    assert (a.mean, a.low, a.high) == pytest.approx((b.mean, b.low, b.high))


def test_the_crossing_keeps_every_seed_when_one_cell_is_left_out():
    table = fig1b(dro_like, alphas=(0.05, 0.1, 0.2, 0.25, 0.3, 0.4), noise=0.05)
    kept = core.without_runs({"fig1b": table}, pd.DataFrame([dict(dataset="2d", algorithm="lff", alpha=0.1,
                                                                  alpha_val=0.0, seed=4)]))["fig1b"]
    t = kept[kept["stopping"] == "last"]
    diff = core.wide(t[t["algorithm"] == "lff"], "success") - core.wide(t[t["algorithm"] == "erm"], "success")
    assert diff.shape[1] == 6 and diff.isna().sum().sum() == 1  # seed 4 stays at every other alpha
    iv = paper.bootstrap_crossing(diff, 0.95, 500)
    assert iv.n == 5 and iv.decidable


# ----------------------------------------------------------------------------- rules noise cannot pass
def _two(beside, alone, seeds=6, noise=0.02):
    r = np.random.default_rng(3)
    alphas = (0.1, 0.2, 0.3)

    def rows(mean_fn, algo="erm"):
        return [dict(panel="p", dataset="d", algorithm=algo, learner="erm", alpha=a, alpha_val=0.0, seed=s,
                     stopping="last", success=float(mean_fn(a) + r.normal(0, noise)),
                     success_2=float(mean_fn(a) + r.normal(0, noise)), learned=True)
                for a in alphas for s in range(seeds)]
    return {"two": pd.DataFrame(rows(beside)), "alone_1": pd.DataFrame(rows(alone)),
            "alone_2": pd.DataFrame(rows(alone))}


def test_no_loss_is_non_inferiority_which_fewer_seeds_cannot_pass():
    same = _two(lambda a: 0.6, lambda a: 0.6)
    assert followups.check_k2(same, CFG, "two", "alone_1", "alone_2").verdict == core.REPRODUCED
    gain = _two(lambda a: 0.8, lambda a: 0.6)  # a gain is no loss
    assert followups.check_k2(gain, CFG, "two", "alone_1", "alone_2").verdict == core.REPRODUCED
    loss = _two(lambda a: 0.45, lambda a: 0.6)
    assert followups.check_k2(loss, CFG, "two", "alone_1", "alone_2").verdict == core.NOT_REPRODUCED
    # no loss in truth, but noisy and few seeds: the interval reaches below -0.05, so it is not shown
    noisy = _two(lambda a: 0.6, lambda a: 0.6, seeds=3, noise=0.3)
    result = followups.check_k2(noisy, CFG, "two", "alone_1", "alone_2")
    assert result.verdict == core.NOT_REPRODUCED and "not shown at this n" in result.measured


def _crossing_table(cross_at, noise, seeds=8):
    """JTT and LfF at 0.5, ERM's success rising through 0.5 at ``cross_at``: their curves fall to ERM's there."""
    alphas = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
    return fig1b(lambda a, x: 0.5 if a != "erm" else 0.5 + 2.5 * (x - cross_at), seeds=seeds, noise=noise,
                 alphas=alphas)


def test_a_band_is_inside_disjoint_or_straddled():
    inside = row(evaluate({"fig1b": _crossing_table(0.2, 0.01)}), "C14@fig1b")
    assert inside["verdict"] == core.REPRODUCED, inside["measured"]
    outside = row(evaluate({"fig1b": _crossing_table(0.37, 0.01)}), "C14@fig1b")
    assert outside["verdict"] == core.NOT_REPRODUCED, outside["measured"]
    # at the band's edge with noise: the interval overlaps it without lying inside: inconclusive, not reproduced
    edge = row(evaluate({"fig1b": _crossing_table(0.25, 0.25)}), "C14@fig1b")
    assert edge["verdict"] == core.INCONCLUSIVE, edge["measured"]
    assert edge["effect_low"] < 0.25 < edge["effect_high"]


def k_table(success_of_k, seeds=10, noise=0.03, ks=(2, 4, 6, 8), alphas=(0.01, 0.05, 0.1)):
    r = np.random.default_rng(5)
    return pd.DataFrame([dict(panel="p", dataset=f"lms_k{k}", algorithm="erm", learner="erm", alpha=a, alpha_val=0.0,
                              seed=s, stopping="last", success=float(success_of_k(k) + r.normal(0, noise)),
                              agreement_x1=0.5, k=k, ceiling=1.0, learned=True)
                         for k in ks for a in alphas for s in range(seeds)])


def test_a_plateau_with_wiggles_keeps_its_trend_at_any_number_of_seeds():
    plateau = {2: 0.05, 4: 0.45, 6: 0.50, 8: 0.47}
    for seeds in (5, 10, 40):
        text, tests, effect = core.trend(k_table(plateau.get, seeds=seeds, noise=0.02), "success",
                                         [0.01, 0.05, 0.1], CFG)
        assert core.decide(tests, text).verdict == core.REPRODUCED, (seeds, text)
    # a real drop, beyond the practical margin, counts against the trend
    drop = {2: 0.05, 4: 0.6, 6: 0.3, 8: 0.65}
    text, tests, _ = core.trend(k_table(drop.get), "success", [0.01, 0.05, 0.1], CFG)
    result = core.decide(tests, text)
    assert result.verdict == core.NOT_REPRODUCED and "rise from k=4 to 6" in result.measured


def test_no_trend_is_not_reproduced_and_a_fall_is_read_as_one():
    flat = k_table(lambda k: 0.3, noise=0.05)
    text, tests, _ = core.trend(flat, "success", [0.01, 0.05, 0.1], CFG)
    assert core.decide(tests, text).verdict == core.NOT_REPRODUCED
    falling = k_table(lambda k: 1 - k / 10)
    text, tests, effect = core.trend(falling, "success", [0.01, 0.05, 0.1], CFG, direction=-1)
    assert core.decide(tests, text).verdict == core.REPRODUCED
    assert effect.mean == pytest.approx(0.6, abs=0.03) and effect.low <= effect.mean <= effect.high


def _adversarial(success_of_radius, size=2.0, seeds=8):
    r = np.random.default_rng(7)
    rows = []
    for radius in (0.0, 0.5, 1.0, 2.0, 4.0, 8.0):
        learner = "erm" if radius == 0 else "adversarial"
        rows += [dict(panel="p", dataset="2d", algorithm=f"adv_{radius:g}" if radius else "erm", learner=learner,
                      alpha=a, alpha_val=0.0, seed=s, stopping="last", accuracy=0.9, learned=True,
                      success=float(success_of_radius(radius) + r.normal(0, 0.02)),
                      radius=radius if radius else np.nan, signal_linf=size, signal_linf_max=size)
                 for a in (0.1, 0.3) for s in range(seeds)]
    return pd.DataFrame(rows)


def test_w1s_radius_is_fixed_before_the_test_from_the_signals_size():
    """The radius tested is the largest at or below the signal's size (2 here), whatever the outcomes: a peak at a
    smaller radius (0.5) is not picked by looking at the means."""
    peak_early = _adversarial(lambda r: {0.0: 0.3, 0.5: 0.7, 1.0: 0.35, 2.0: 0.3, 4.0: 0.1, 8.0: 0.0}[r])
    result = followups.check_w1({"adv": peak_early}, CFG, "adv")
    assert "success at radius 2 (the largest at or below the signal's size" in result.measured
    assert result.verdict == core.NOT_REPRODUCED
    rises = _adversarial(lambda r: {0.0: 0.3, 0.5: 0.4, 1.0: 0.5, 2.0: 0.6, 4.0: 0.1, 8.0: 0.0}[r])
    assert followups.check_w1({"adv": rises}, CFG, "adv").verdict == core.REPRODUCED


def _k3_tables(rng, seeds, sd_mlp, sd_lin, gap_mlp=0.0, gap_lin=0.0):
    alphas = (0.1, 0.2, 0.3)

    def rows(mean, sd, two=False):
        out = []
        for a in alphas:
            for s in range(seeds):
                row_ = dict(panel="p", dataset="d", algorithm="erm", learner="erm", alpha=a, alpha_val=0.0, seed=s,
                            stopping="last", success=float(mean + rng.normal(0, sd)), learned=True)
                if two:
                    row_["success_2"] = float(mean + rng.normal(0, sd))
                out.append(row_)
        return pd.DataFrame(out)
    tables = {}
    for suffix, sd, gap in (("", sd_mlp, gap_mlp), ("_lin", sd_lin, gap_lin)):
        tables[f"two{suffix}"] = rows(0.5 - gap, sd, two=True)
        tables[f"alone_1{suffix}"] = rows(0.5, sd)
        tables[f"alone_2{suffix}"] = rows(0.5, sd)
    return tables


K3_DESIGN = [(("two", "alone_1", "alone_2"), ("two_lin", "alone_1_lin", "alone_2_lin"))]


def test_a_null_interaction_is_not_read_as_one_when_one_model_is_noisier():
    """No interaction at all, but the MLP's runs are four times as noisy: |mean beside - mean alone| is larger for
    the noisier model on noise alone, the debiased square is not."""
    rng = np.random.default_rng(11)
    verdicts, biased = [], []
    for _ in range(10):
        tables = _k3_tables(rng, 10, 0.2, 0.05)
        verdicts.append(followups.check_k3(tables, CFG, K3_DESIGN).verdict)
        b = [(tables[t].groupby("alpha")[v].mean() - tables[a].groupby("alpha")["success"].mean()).abs().mean()
             for t, v, a in (("two", "success", "alone_1"), ("two_lin", "success", "alone_1_lin"))]
        biased.append(b[0] > b[1])
    assert verdicts.count(core.REPRODUCED) <= 1, verdicts
    assert sum(biased) >= 8  # what the old statistic would have read as an interaction


def test_a_real_interaction_is_found():
    tables = _k3_tables(np.random.default_rng(2), 10, 0.05, 0.05, gap_mlp=0.3, gap_lin=0.05)
    result = followups.check_k3(tables, CFG, K3_DESIGN)
    assert result.verdict == core.REPRODUCED and result.effect.mean == pytest.approx(0.3 ** 2 - 0.05 ** 2, abs=0.02)


def test_threshold_claims_decide_on_the_interval_not_the_mean():
    """C5 (near 0) and C7 (near full) used to compare means with their thresholds; the bound decides now."""
    rows = [dict(panel="f", dataset="2d", algorithm="cvar_dro", learner="cvar_dro", alpha=a, alpha_val=0.0, seed=s,
                 stopping="max_val_accuracy", success=float(v), learned=True)
            for a in (0.1, 0.3) for s, v in enumerate([0.0, 0.0, 0.0, 0.0, 0.3, 0.25])]  # mean 0.09 <= 0.1
    result = paper.check_c5({"f": pd.DataFrame(rows)}, CFG, "f")
    assert result.verdict == core.NOT_REPRODUCED and "not shown at this n" in result.measured


# ----------------------------------------------------------------------------- coverage
TOLERANCE_T = 0.02  # 2000 simulations: Monte Carlo standard error 0.0049
TOLERANCE_BOOT = 0.04  # 300 simulations: standard error 0.013, plus the bootstrap's small-sample bias


def _coverage(make, truth, sims, rng):
    return float(np.mean([(iv := make(rng)).low <= truth <= iv.high for _ in range(sims)]))


@pytest.mark.parametrize("n", [5, 10])
def test_student_welch_and_cell_intervals_cover_95_percent(n):
    rng = np.random.default_rng(n)
    assert abs(_coverage(lambda r: stats.t_interval(r.normal(1.0, 2.0, n)), 1.0, 2000, rng) - 0.95) < TOLERANCE_T
    welch = _coverage(lambda r: stats.welch_interval(r.normal(1, 1, n), r.normal(0, 3, n + 3)), 1.0, 2000, rng)
    assert abs(welch - 0.95) < TOLERANCE_T

    def cells(r):  # four alphas sharing their seeds (correlated), one cell in five left out at random
        shared = r.normal(0, 1, n)
        x = np.array([0.1 * i + shared + r.normal(0, 0.5, n) for i in range(4)])
        x[r.random(x.shape) < 0.2] = np.nan
        x[:, :2] = np.where(np.isnan(x[:, :2]), 0.1 * np.arange(4)[:, None] + shared[:2], x[:, :2])
        return stats.mean_over_cells(pd.DataFrame(x))
    assert abs(_coverage(cells, 0.15, 2000, rng) - 0.95) < TOLERANCE_T + 0.01

    def trend(r):
        groups = [stats.t_interval(r.normal(0.1 * k, 0.3 + 0.1 * k, n)) for k in range(4)]
        return stats.linear_trend(groups)
    assert abs(_coverage(trend, 0.3, 2000, rng) - 0.95) < TOLERANCE_T


@pytest.mark.parametrize("n", [5, 10])
def test_the_crossing_bootstrap_covers_95_percent(n):
    alphas = np.array([0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4])
    true = 0.6 - 2.2 * alphas
    truth = paper.crossing_point(alphas, true)

    def draw(r):
        x = pd.DataFrame(true[:, None] + r.normal(0, 0.2, size=(len(alphas), n)), index=alphas)
        return paper.bootstrap_crossing(x, 0.95, 500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert abs(_coverage(draw, truth, 300, np.random.default_rng(n)) - 0.95) < TOLERANCE_BOOT


@pytest.mark.parametrize("n", [5, 10])
def test_the_interaction_bootstrap_covers_95_percent(n):
    rng = np.random.default_rng(100 + n)

    def draw(r):
        def arrays(gap, sd):
            return [np.stack([0.5 - gap + r.normal(0, sd, (3, n)) for _ in range(2)]),
                    0.5 + r.normal(0, sd, (3, n)), 0.5 + r.normal(0, sd, (3, n))]
        samples = arrays(0.3, 0.15) + arrays(0.1, 0.07)
        return stats.bca_bootstrap(lambda a: followups.interaction(a[:3]) - followups.interaction(a[3:]), samples,
                                   0.95, 400)
    assert abs(_coverage(draw, 0.3 ** 2 - 0.1 ** 2, 200, rng) - 0.95) < TOLERANCE_BOOT + 0.01
