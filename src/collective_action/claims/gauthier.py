"""Gauthier, Bach and Jordan's claims (ICML 2025, arXiv 2502.04879, "Statistical Collusion by Collectives on
Learning Platforms"), checked on the study 'gauthier' (studies/gauthier.yaml): planting Poor and unplanting
Excellent on their synthetic car data, against the plug-in Bayes platform, at their sizes.

Quotes (section 4 and the comparative analysis):

- G1, Fig 1: "We fit sigmoid functions to interpolate the obtained values. The lower bounds are indeed lower than the
  success, and the gap between the two is not excessively large."
- G2: "Interestingly, in the case of a discrete signal set, as used in our experiments, our lower bounds take on a
  staircase shape rather than a smooth sigmoid."
- G3, unplanting: "The lower bound suggests that the collective would need to represent around 10% of the agents
  interacting with the platform to have a significant impact, while in practice, only about 3% was sufficient."; on
  planting Excellent: "This stems from statistical uncertainties, which our framework highlights, causing the
  collective to consistently overestimate the number of agents needed for a given success."

Their unplanting numbers are for their adaptive strategy (n_e = 2,000); ours is the naive one (plant Good, whose
planting bound bounds the unplanting success), since the adaptive one is not built (signals/set_features.py).
Success is theirs: the share of all test points x with f(g(x)) = y* (planting; the tables' ``success_all``) or !=
y* (unplanting). Each run's ``bound`` is what its own members compute (Theorem 3.3, evaluation/collusion.py).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as _st

from ..evaluation.stats import Interval, contrast_over_cells, t_interval, trend_weights
from .core import Claim, Effect, _first_rule, above, below, decide, not_above, not_below, not_run, wide

ORDER = 40
GAUTHIER = "Gauthier, Bach and Jordan 2025 (ICML, arXiv 2502.04879)"
PLANTING, UNPLANTING = "gauthier_planting", "gauthier_unplanting"
SUCCESS = "success_all"  # theirs: over all test points
LEVEL = 0.5  # our choice: "a significant impact" (G3), half the test points


def _runs(tables, panel) -> pd.DataFrame:
    """The ERM runs of the panel's first stopping rule with a collective (alpha > 0), and their gap success - bound."""
    t = _first_rule(tables[panel])
    t = t[(t["learner"] == "erm") & (t["alpha"] > 0)]
    if "bound" not in t:
        return t.iloc[0:0]
    return t.assign(gap=t[SUCCESS] - t["bound"])


def _what(panel) -> str:
    return "planting Poor" if panel == PLANTING else "unplanting Excellent (naive strategy: plant Good)"


def _by_alpha(t: pd.DataFrame, value: str, fmt: str = ".2f") -> str:
    return ", ".join(f"{a:g}: {v:{fmt}}" for a, v in t.groupby("alpha")[value].mean().items())


def clopper_pearson(hits: int, n: int, confidence: float) -> Interval:
    """The exact binomial interval of a rate: ``hits`` of ``n``."""
    tail = (1 - confidence) / 2
    low = float(_st.beta.ppf(tail, hits, n - hits + 1)) if hits > 0 else 0.0
    high = float(_st.beta.ppf(1 - tail, hits + 1, n - hits)) if hits < n else 1.0
    return Interval(hits / n if n else float("nan"), low, high, n, confidence, "Clopper-Pearson")


# ----------------------------------------------------------------------------- G1: the bound lies below success
def check_g1(tables, cfg, panel):
    """Decided on two tests: the gap success - bound, mean over the n/N grid and paired by run (the same seed's
    collectives are nested across n), lies above 0; and the share of runs whose bound exceeds their success is not
    wholly above delta (a veto: the theorem lets each run's bound fail with probability delta; Clopper-Pearson over
    every run of the panel)."""
    t = _runs(tables, panel)
    if t.empty or not t["bound"].notna().any():
        return not_run(f"no run with a collective and a bound in '{panel}'")
    conf, delta = cfg["confidence"], float(t["bound_delta"].max())
    gap = contrast_over_cells(wide(t, "gap"), None, conf, "paired Student t, mean over n/N")
    violations = t[t["gap"] < 0]
    rate = clopper_pearson(len(violations), len(t), conf)
    tests = [above("success minus bound, mean over n/N", gap),
             not_above(f"share of runs whose bound exceeds their success ({len(violations)} of {len(t)})", rate, delta)]
    listed = ", ".join(f"n/N={r.alpha:g} seed {r.seed}: success {r[SUCCESS]:.4f} < bound {r.bound:.4f}"
                       for r in violations.itertuples()) or "none"
    text = (f"{GAUTHIER}, {_what(panel)}, N = {t['bound_n_train'].max():,.0f}: runs whose bound exceeds their success: {listed}. "
            f"Mean success by n/N: {_by_alpha(t, SUCCESS)}; mean bound: {_by_alpha(t, 'bound')} (delta = {delta:g}).")
    return decide(tests, text, Effect(tests[0].name, gap))


# ----------------------------------------------------------------------------- G2: a staircase toward success
def _staircase(t: pd.DataFrame, threshold: float = 0.1) -> str:
    """Where the mean bound jumps by more than ``threshold`` between consecutive n/N, and how many signal values
    pass there."""
    m = t.groupby("alpha").agg(bound=("bound", "mean"), passing=("bound_passing", "mean")).sort_index()
    jumps = m["bound"].diff()
    steps = [f"{a:g} (+{j:.2f}, {m.loc[a, 'passing']:.1f} signal values pass)" for a, j in jumps.items() if j > threshold]
    return ", ".join(steps) or "none"


def check_g2(tables, cfg, panel):
    """Decided on three tests: the bound rises with n/N (the linear trend over the grid's ordered values, paired by
    seed) above 0; its largest fall between consecutive n/N (the step whose interval reaches lowest: the test picks
    the step that argues most against the claim) not wholly beyond the practical margin claims.trend_margin; and at
    the largest n/N the bound has reached the success, their gap below that margin. The staircase itself (where the
    mean bound jumps) is reported beside them."""
    t = _runs(tables, panel)
    if t.empty or t["alpha"].nunique() < 2:
        return not_run(f"fewer than two n/N with a collective in '{panel}'")
    conf, margin = cfg["confidence"], cfg["trend_margin"]
    bound = wide(t, "bound")
    fitted = contrast_over_cells(bound, trend_weights(len(bound)), conf, "paired linear trend")
    steps = {(a, b): contrast_over_cells(bound.loc[[a, b]], [-1.0, 1.0], conf, "paired Student t")
             for a, b in zip(bound.index, bound.index[1:])}
    (a, b), worst = min(steps.items(), key=lambda kv: kv[1].high if np.isfinite(kv[1].high) else -np.inf)
    last = t[t["alpha"] == t["alpha"].max()].set_index("seed")["gap"]
    tests = [above(f"fitted rise of the bound from n/N={bound.index[0]:g} to {bound.index[-1]:g} (linear trend over "
                   f"{len(bound)} values)", fitted),
             not_below(f"the bound's largest fall between consecutive n/N ({a:g} to {b:g})", worst, -margin),
             below(f"success minus bound at the largest n/N ({t['alpha'].max():g})", t_interval(last, conf), margin)]
    text = (f"{GAUTHIER}, {_what(panel)}: mean bound by n/N: {_by_alpha(t, 'bound')}; mean number of signal values "
            f"that pass: {_by_alpha(t, 'bound_passing', '.1f')}; mean success: {_by_alpha(t, SUCCESS)}. The mean bound "
            f"jumps by more than 0.1 at n/N = {_staircase(t)}.")
    return decide(tests, text, Effect(tests[0].name, fitted))


# ----------------------------------------------------------------------------- G3: the size the bound asks for
def first_alpha(t: pd.DataFrame, value: str, level: float) -> pd.Series:
    """Per seed, the smallest n/N of the grid at which ``value`` reaches ``level``; the largest n/N where it never
    does (censored: the size asked for is at least that)."""
    top = float(t["alpha"].max())
    return t.groupby("seed").apply(
        lambda g: float(g.loc[g[value] >= level, "alpha"].min()) if (g[value] >= level).any() else top,
        include_groups=False)


def check_g3(tables, cfg, panel):
    """Per seed (one nested path of collectives), the smallest n/N at which the bound reaches LEVEL minus the
    smallest at which the success does (each censored at the grid's largest n/N where it never does, which can only
    shrink the difference); its interval over seeds must lie above 0."""
    t = _runs(tables, panel)
    if t.empty:
        return not_run(f"no run with a collective in '{panel}'")
    asked, enough = first_alpha(t, "bound", LEVEL), first_alpha(t, SUCCESS, LEVEL)
    diff = t_interval(asked - enough, cfg["confidence"])
    never = int((t.groupby("seed")["bound"].max() < LEVEL).sum())
    test = above(f"n/N at which the bound first reaches {LEVEL:g} minus n/N at which the success does (paired by seed)",
                 diff)
    text = (f"{GAUTHIER}, {_what(panel)}: per seed, the bound first reaches {LEVEL:g} at n/N = "
            f"{asked.mean():.4f} on average (seeds: {', '.join(f'{v:g}' for v in asked)}), the success at "
            f"{enough.mean():.4f} (seeds: {', '.join(f'{v:g}' for v in enough)}): the bound asks for "
            f"{asked.mean() / enough.mean():.1f} times the size that suffices"
            + (f"; in {never} seed(s) the bound never reaches it (counted at the largest n/N)" if never else "") + ".")
    return decide([test], text, Effect(test.name, diff))


# ----------------------------------------------------------------------------- why a result disagrees
def explain_g1(tables, cfg, result, panel) -> str:
    t = _runs(tables, panel)
    bad = t[t["gap"] < 0]
    if bad.empty:
        return (f"No run's bound exceeds its success; the mean gap by n/N is {_by_alpha(t, 'gap', '+.3f')}, which "
                "the test cannot separate from 0 at these seeds.")
    return (f"{len(bad)} of {len(t)} runs have a bound above their success, at n/N = "
            f"{', '.join(f'{a:g}' for a in sorted(set(bad['alpha'])))}: there the bound's signal values pass "
            f"({_by_alpha(bad, 'bound_passing', '.1f')} on average) while the platform's counts still favour another "
            f"label for some of them; the theorem allows this with probability {t['bound_delta'].max():g} per run.")


def explain_g2(tables, cfg, result, panel) -> str:
    t = _runs(tables, panel)
    means = t.groupby("alpha")["bound"].mean().sort_index()
    falls = means.diff()
    worst = falls.idxmin() if len(falls.dropna()) else None
    last = t[t["alpha"] == t["alpha"].max()]
    return (f"The mean bound falls most ({falls.min():+.3f}) at n/N = {worst:g}; at the largest n/N the success is "
            f"{last[SUCCESS].mean():.3f} and the bound {last['bound'].mean():.3f}, of which the Hoeffding terms R(n) + "
            f"R(N_test) take {(last['bound_share'] - last['bound']).mean():.3f} and the signal values that do not "
            f"pass {(1 - last['bound_share']).mean():.3f}.")


def explain_g3(tables, cfg, result, panel) -> str:
    t = _runs(tables, panel)
    asked, enough = first_alpha(t, "bound", LEVEL), first_alpha(t, SUCCESS, LEVEL)
    return (f"The bound reaches {LEVEL:g} at n/N = {asked.mean():.4f} and the success at {enough.mean():.4f} on "
            f"average: mean success by n/N {_by_alpha(t, SUCCESS)}; mean bound {_by_alpha(t, 'bound')}.")


# ----------------------------------------------------------------------------- the registry
G1_TEXT = ("\"The lower bounds are indeed lower than the success, and the gap between the two is not excessively "
           "large\" (Fig 1): the bound each run's members compute from their own data (Theorem 3.3) lies below the "
           "success they measure")
G2_TEXT = ("\"in the case of a discrete signal set, as used in our experiments, our lower bounds take on a staircase "
           "shape rather than a smooth sigmoid\": the bound rises with n/N in steps, one per signal value that "
           "cracks, up to the measured success")
G3_TEXT = ("\"The lower bound suggests that the collective would need to represent around 10% of the agents "
           "interacting with the platform to have a significant impact, while in practice, only about 3% was "
           "sufficient\" (unplanting; theirs with the adaptive strategy): the n/N at which the bound first reaches "
           f"{LEVEL:g} is larger than the n/N at which the success does")


def _claim(cid, text, check, explain, panel):
    return Claim(cid, "gauthier", f"{GAUTHIER}: {text}; {_what(panel)}.", (panel,),
                 lambda tables, cfg: check(tables, cfg, panel), ("erm",), outcomes=(SUCCESS,),
                 explain=lambda tables, cfg, result: explain(tables, cfg, result, panel))


CLAIMS = tuple(_claim(cid, text, check, explain, panel)
               for cid, text, check, explain in (("G1", G1_TEXT, check_g1, explain_g1),
                                                 ("G2", G2_TEXT, check_g2, explain_g2),
                                                 ("G3", G3_TEXT, check_g3, explain_g3))
               for panel in (PLANTING, UNPLANTING))
