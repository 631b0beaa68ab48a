
import numpy as np
import pandas as pd
import pytest

from collective_action.claims import core as claims

CFG = {"panels": ["fig1b"], "small_alpha_max": 0.1, "large_alpha_min": 0.4, "confidence": 0.95, "paper_crossing": 0.2,
       "crossing_tolerance": 0.05, "trend_margin": 0.05, "equivalence_margin": 0.05}


def _table(success_fn, alpha_eff_fn=lambda a: a, seeds=5, noise=0.02):
    r = np.random.default_rng(0)
    rows = []
    for algo in ("erm", "jtt", "lff"):
        for alpha in (0.05, 0.1, 0.2, 0.4, 0.5):
            for seed in range(seeds):
                s = float(np.clip(success_fn(algo, alpha) + r.normal(0, noise), 0, 1))
                rows.append(dict(panel="fig1b", dataset="2d", algorithm=algo, alpha=alpha, alpha_val=0.0, seed=seed,
                                 stopping="last", epoch=10, success=s, success_all=0.5 + s / 2, accuracy=0.9,
                                 alpha_realized=alpha,
                                 alpha_eff=alpha_eff_fn(alpha) if algo == "jtt" else np.nan,
                                 alpha_eff_weights=alpha_eff_fn(alpha) if algo == "jtt" else alpha,
                                 xi=0.5, delta=1.0, theorem1_bound=1 - (1 - alpha) / alpha * 0.5))
    return pd.DataFrame(rows)


def paper_like(algo, alpha):
    erm = 0.0 if alpha < 0.3 else 1.0
    return erm if algo == "erm" else (0.8 if alpha < 0.3 else 0.2)


def verdicts(table):
    out = claims.evaluate_claims({"fig1b": table}, CFG)
    return dict(zip(out["claim"], out["verdict"]))


def test_paper_like_results_are_reproduced():
    v = verdicts(_table(paper_like, alpha_eff_fn=lambda a: 0.3 if a < 0.3 else a / 2))
    assert v["C1"] == v["C2"] == v["C12"] == v["C13"] == claims.REPRODUCED
    assert v["C3"] == claims.NOT_RUN


def test_no_dro_advantage_is_not_reproduced():
    v = verdicts(_table(lambda algo, alpha: 0.0 if alpha < 0.3 else 1.0))
    assert v["C1"] == claims.NOT_REPRODUCED and v["C2"] == claims.NOT_REPRODUCED
    assert v["C12"] == claims.NOT_REPRODUCED  # alpha_eff = alpha everywhere


def test_success_below_theorem1_bound_is_flagged():
    table = _table(paper_like)
    low = (table["algorithm"] == "erm") & (table["alpha"] == 0.5)
    table.loc[low, "success_all"] = 0.3  # Theorem 1 gives 0.5 at alpha = 0.5
    v = verdicts(table)
    assert v["C13"] == claims.NOT_REPRODUCED


def test_missing_panel_is_not_run():
    out = claims.evaluate_claims({}, CFG)
    assert set(out["verdict"]) == {claims.NOT_RUN}
    assert list(out.columns) == ["claim", "figure", "statement", "measured", "verdict", "contradicted", "sensitivity", "basis", "n",
                                 "margin", "effect", "effect_mean", "effect_low", "effect_high", "explanation", "key"]
    assert out["key"].is_unique


def test_crossing_point():
    table = _table(paper_like)
    assert claims._crossing(table, "jtt") == pytest.approx(0.4)


def _k_table(success_of_k, seeds=6, alphas=(0.0, 0.05, 0.1, 0.2), noise=0.02):
    r = np.random.default_rng(1)
    rows = []
    for k in (2, 4, 6, 8):
        for alpha in alphas:
            for seed in range(seeds):
                s = float(np.clip(success_of_k(k) + r.normal(0, noise), 0, 1))
                rows.append(dict(panel="p", dataset=f"lms_k{k}", algorithm="erm", alpha=alpha, alpha_val=0.0, seed=seed,
                                 stopping="last", success=s, agreement_x1=s, k=k, ceiling=0.5))
    return pd.DataFrame(rows)


def _trend(table, direction=1):
    text, tests, effect = claims.trend(table, "success", [0.05, 0.1], CFG, direction=direction)
    return claims.decide(tests, text, effect)


def test_trend_reproduced_when_rising():
    result = _trend(_k_table(lambda k: k / 10))
    assert result.verdict == claims.REPRODUCED and "from k=2 to k=8" in result.effect.name


def test_trend_not_reproduced_with_a_drop_beyond_the_margin():
    result = _trend(_k_table(lambda k: {2: 0.0, 4: 0.5, 6: 0.3, 8: 0.3}[k]))
    assert result.verdict == claims.NOT_REPRODUCED and "rise from k=4 to 6" in result.measured


def test_trend_falling_reports_the_difference_inside_its_interval():
    result = _trend(_k_table(lambda k: 1 - k / 10), direction=-1)
    assert result.verdict == claims.REPRODUCED
    e = result.effect
    assert e.low <= e.mean <= e.high and e.mean == pytest.approx(0.6, abs=0.03)


def test_trend_falling_not_reproduced_when_the_interval_spans_zero():
    # a small fall buried in noise: the interval covers 0, so no claim of a fall
    result = _trend(_k_table(lambda k: 0.5 - k / 400, noise=0.2), direction=-1)
    assert result.effect.low < 0 < result.effect.high and result.verdict == claims.NOT_REPRODUCED


def test_simplicity_claims_read_their_panels():
    rising = _k_table(lambda k: k / 10)
    out = claims.evaluate_claims({"fig5b": rising, "fig7b": rising, "fig8": rising}, CFG)
    v = dict(zip(out["claim"], out["verdict"]))
    assert v["C8"] == v["C10"] == v["C11"] == claims.REPRODUCED


def test_prop33_columns_pair_each_run_with_erm():
    from collective_action.evaluation.tables import add_prop33

    t = pd.DataFrame([
        dict(dataset="d", algorithm="erm", alpha=0.1, alpha_val=0.5, seed=0, stopping="last", success=0.2,
             val_accuracy=0.7, alpha_realized=0.1, alpha_val_realized=0.5),
        dict(dataset="d", algorithm="cvar_dro", alpha=0.1, alpha_val=0.5, seed=0, stopping="last", success=0.6,
             val_accuracy=0.9, alpha_realized=0.1, alpha_val_realized=0.5),
    ])
    out = add_prop33(t)
    cvar = out[out.algorithm == "cvar_dro"].iloc[0]
    assert cvar.prop33_lhs == pytest.approx(0.4) and cvar.prop33_rhs == pytest.approx(0.2 / 0.4)
    assert np.isnan(out[out.algorithm == "erm"].iloc[0].prop33_rhs)


def test_oscillation_measures_epoch_to_epoch_change():
    rows = []
    for algo, values in (("cvar_dro", [0, 1, 0, 1, 0, 1, 0, 1]), ("erm", [0, 0.1, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2])):
        rows += [dict(algorithm=algo, alpha=0.3, seed=0, epoch=e + 1, success=v) for e, v in enumerate(values)]
    osc = claims.oscillation(pd.DataFrame(rows)).set_index("algorithm")
    assert osc.loc["cvar_dro", "mean_abs_change"] == 1.0 and osc.loc["erm", "mean_abs_change"] == 0.0


def test_a_claim_read_from_runs_that_did_not_learn_says_whether_they_matter():
    """A run flagged in the table ('learned' False) among those a claim reads: the claim keeps its verdict only if
    it holds with the run counted, left out and set to its worst case, and says so; a flagged run the claim does
    not read changes nothing."""
    table = _table(paper_like, alpha_eff_fn=lambda a: 0.3 if a < 0.3 else a / 2).assign(learned=True)
    table.loc[(table["algorithm"] == "jtt") & (table["alpha"] == 0.5) & (table["seed"] == 2), "learned"] = False
    out = claims.evaluate_claims({"fig1b": table}, CFG).set_index("claim")
    assert out.loc["C1", "verdict"] == claims.REPRODUCED  # reads alpha <= 0.1 only
    assert out.loc["C1", "sensitivity"].startswith("all 30 runs")
    assert out.loc["C2", "verdict"] == claims.REPRODUCED  # one run of five cannot undo a gap of 0.8
    assert out.loc["C2", "sensitivity"] == ("reproduced; unchanged when the 1 of the 30 runs read here that did not "
                                            "learn their training data (jtt alpha=0.5 (1)) are left out or set to "
                                            "their worst case")
    assert out.loc["C13", "verdict"] == claims.REPRODUCED


def test_claims_carry_their_main_effect():
    out = claims.evaluate_claims({"fig1b": _table(paper_like)}, CFG).set_index("claim")
    c1 = out.loc["C1"]
    assert c1["effect"].startswith("JTT - ERM") and c1["effect_low"] <= c1["effect_mean"] <= c1["effect_high"]
    assert c1["effect_mean"] == pytest.approx(0.8, abs=0.02)


def test_the_crossing_is_interpolated_with_a_bootstrap_interval():
    from collective_action.claims.paper import crossing_point

    assert crossing_point([0.1, 0.2, 0.3, 0.4], [0.4, 0.2, -0.2, -0.4]) == pytest.approx(0.25)
    assert crossing_point([0.1, 0.2, 0.3], [-0.1, -0.2, -0.3]) == pytest.approx(0.1)
    assert np.isnan(crossing_point([0.1, 0.2, 0.3], [0.1, -0.2, 0.3]))  # ends above: no crossing in the grid
    assert crossing_point([0.1, 0.2, 0.3], [0.1, -0.2, -0.3]) == pytest.approx(0.1 + 0.1 / 3)
    out = claims.evaluate_claims({"fig1b": _table(paper_like)}, CFG).set_index("claim")
    # paper_like crosses between 0.2 (+0.8) and 0.4 (-0.8): at 0.3, disjoint from 0.2 +- 0.05
    assert out.loc["C14", "effect_mean"] == pytest.approx(0.3, abs=0.02) and out.loc["C14", "verdict"] == claims.NOT_REPRODUCED
    near = _table(lambda algo, alpha: (0.0 if alpha < 0.2 else 1.0) if algo == "erm" else (0.8 if alpha < 0.2 else 0.2))
    assert claims.evaluate_claims({"fig1b": near}, {**CFG, "crossing_tolerance": 0.1}).set_index("claim").loc[
        "C14", "verdict"] == claims.REPRODUCED


def test_the_papers_crossing_is_read_from_the_claims_settings():
    """claims.paper_crossing is the one place of the paper's Fig 1b crossing: C1's text, C14's verdict and the
    atlas's specification curve read it."""
    from types import SimpleNamespace

    from collective_action.figures.catalog.atlas import atlas_figures

    table = _table(paper_like)
    moved = claims.evaluate_claims({"fig1b": table}, {**CFG, "paper_crossing": 0.3}).set_index("claim")
    assert "(paper: about 0.3)" in moved.loc["C1", "measured"] and moved.loc["C14", "verdict"] == claims.REPRODUCED
    curve = [p for p in atlas_figures("synthetic", ["C1@fig1b", "C14@fig1b"])["atlas_synthetic_curve"].panels
             if p.claim == "C14@fig1b"][0]
    assert curve.params(SimpleNamespace(config={"claims": {"paper_crossing": 0.3}})) == {"reference": 0.3}
