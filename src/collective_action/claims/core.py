"""The claims registry's machinery: claims, how a verdict is decided, and the sensitivity to runs that did not learn.

``results/claims.csv`` (and ``results/claims.md``) has one row per claim. Its verdict is one of

- ``reproduced``: every test of the claim passes on its interval's bound;
- ``not reproduced``: a test fails (its text says whether the interval only includes the threshold, "not shown at
  this n", or lies on the other side of it);
- ``inconclusive``: an interval straddles a band's edge (a claim of "about"), or the verdict depends on runs that
  did not learn their training data (the tables' ``learned``), see :func:`sensitivity`;
- ``cannot be decided``: an interval rests on fewer than two values, or has a value or a bound that is not finite;
- ``measured``: a finding beyond the papers, which make no claim about it (the row states what was measured);
- ``not run``: its panel was not built, or the selection it reads is empty (the row says which).

A check returns a :class:`Result`: its verdict comes from :func:`decide` over :class:`Test` s, each one interval
against one rule (:func:`above`, :func:`below`, :func:`inside`, :func:`not_below`, :func:`not_above`), so that no
verdict is taken from a point estimate, a single seed or a NaN. Intervals are over seeds (:data:`stats.COVERS`).
Claims are computed from the tables alone, never from runs directly.

Comparisons between algorithms are paired: the same seed of two algorithms saw the same collective, so the
per-seed differences over the alphas in the range give one interval (:func:`stats.contrast_over_cells`, which
leaves a missing cell out of its own alpha only).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .. import store
from ..evaluation.stats import COVERS, Interval, contrast_over_cells, linear_trend, trend_weights, welch_interval

REPRODUCED, NOT_REPRODUCED, NOT_RUN, MEASURED = "reproduced", "not reproduced", "not run", "measured"
INCONCLUSIVE, UNDECIDED = "inconclusive", "cannot be decided"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, UNDECIDED, MEASURED, NOT_RUN)
DECIDED = (REPRODUCED, NOT_REPRODUCED)
RUN_KEYS = ["dataset", "algorithm", "alpha", "alpha_val", "seed"]


# ----------------------------------------------------------------------------- effects and tests
@dataclass(frozen=True)
class Effect:
    """A claim's main effect: what the verdict turns on, with its interval."""

    name: str
    interval: Interval

    @property
    def mean(self) -> float:
        return self.interval.mean

    @property
    def low(self) -> float:
        return self.interval.low

    @property
    def high(self) -> float:
        return self.interval.high


@dataclass(frozen=True)
class Test:
    """One interval against one rule.

    kinds: 'above' (passes when the lower bound clears ``lo``), 'below' (the upper bound under ``hi``), 'inside'
    (the interval within [lo, hi] passes, disjoint from it fails, anything else straddles), 'not_below' (a veto:
    fails only when the whole interval lies below ``lo``), 'not_above' (fails only when it lies above ``hi``)."""

    name: str
    interval: Interval
    kind: str
    lo: float = float("nan")
    hi: float = float("nan")

    @property
    def outcome(self) -> str:
        """'pass', 'fail', 'straddle' or 'undecidable'."""
        iv = self.interval
        if self.kind in ("not_below", "not_above"):  # a veto decides on one bound only
            bound = iv.high if self.kind == "not_below" else iv.low
            if iv.n < 2 or iv.nonfinite or np.isnan(bound):
                return "undecidable"
            return "fail" if (bound < self.lo if self.kind == "not_below" else bound > self.hi) else "pass"
        if self.kind == "inside":  # disjoint may be decided on one finite bound (a crossing beyond the grid)
            if iv.n < 2 or iv.nonfinite or np.isnan(iv.low) or np.isnan(iv.high):
                return "undecidable"
            if iv.low >= self.lo and iv.high <= self.hi and np.isfinite(iv.high) and np.isfinite(iv.low):
                return "pass"
            return "fail" if iv.low > self.hi or iv.high < self.lo else "straddle"
        if not iv.decidable:
            return "undecidable"
        return "pass" if (iv.low > self.lo if self.kind == "above" else iv.high < self.hi) else "fail"

    @property
    def margin(self) -> float:
        """How far the deciding bound lies from the threshold it is compared with (>= 0; NaN when undecidable)."""
        iv, out = self.interval, self.outcome
        if out == "undecidable":
            return float("nan")
        if self.kind in ("above", "not_above"):
            return abs(iv.low - (self.lo if self.kind == "above" else self.hi))
        if self.kind in ("below", "not_below"):
            return abs(iv.high - (self.hi if self.kind == "below" else self.lo))
        if out == "pass":
            return float(min(iv.low - self.lo, self.hi - iv.high))
        if out == "fail":
            return float(iv.low - self.hi if iv.low > self.hi else self.lo - iv.high)
        return float(min(abs(iv.low - self.lo), abs(iv.high - self.hi)))

    @property
    def opposite(self) -> bool:
        """A failure with the interval wholly on the other side of its threshold (a band: disjoint from it; a veto:
        beyond it), not merely including it: the claim is contradicted, not only not shown."""
        if self.outcome != "fail":
            return False
        if self.kind == "above":
            return bool(self.interval.high <= self.lo)
        if self.kind == "below":
            return bool(self.interval.low >= self.hi)
        return True

    def rule(self) -> str:
        return {"above": f"lower bound above {self.lo:g}", "below": f"upper bound below {self.hi:g}",
                "inside": f"inside [{self.lo:g}, {self.hi:g}]",
                "not_below": f"not wholly below {self.lo:g}", "not_above": f"not wholly above {self.hi:g}"}[self.kind]

    def describe(self) -> str:
        """'JTT - ERM: +0.469 [+0.436, +0.502], n = 10 (rule: lower bound above 0: passes)'."""
        out = self.outcome
        said = {"pass": "passes", "undecidable": f"cannot be decided: {self.interval.why_not()}",
                "straddle": "straddles an edge"}.get(out)
        if said is None:  # a failure: not shown, or the other side shown
            said = ("fails: the interval lies on the other side" if self.opposite else
                    "fails: the interval includes the threshold (not shown at this n)")
        return f"{self.name}: {self.interval.text()} ({self.rule()}: {said})"


def above(name: str, iv: Interval, threshold: float = 0.0) -> Test:
    return Test(name, iv, "above", lo=threshold)


def below(name: str, iv: Interval, threshold: float = 0.0) -> Test:
    return Test(name, iv, "below", hi=threshold)


def inside(name: str, iv: Interval, lo: float, hi: float) -> Test:
    return Test(name, iv, "inside", lo=lo, hi=hi)


def not_below(name: str, iv: Interval, threshold: float) -> Test:
    return Test(name, iv, "not_below", lo=threshold)


def not_above(name: str, iv: Interval, threshold: float) -> Test:
    return Test(name, iv, "not_above", hi=threshold)


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Result:
    """What a check returns: its verdict, the text of what it measured, its main effect, and its tests."""

    verdict: str
    measured: str
    effect: Effect | None = None
    tests: tuple[Test, ...] = ()
    basis: str = ""  # what the verdict was decided on ('' where nothing was decided)

    @property
    def margin(self) -> float:
        """How far the verdict is from changing: for a verdict that needs every test to pass, the closest test's
        margin; for one that a failing test gives, the failing tests' largest; NaN otherwise."""
        if self.verdict == REPRODUCED and self.tests:
            return float(min(t.margin for t in self.tests))
        failing = [t.margin for t in self.tests if t.outcome == "fail"]
        if self.verdict == NOT_REPRODUCED and failing:
            return float(max(failing))
        return float("nan")

    @property
    def contradicted(self) -> bool:
        """Not reproduced with some test's interval wholly on the other side (not only "not shown at this n")."""
        return self.verdict == NOT_REPRODUCED and any(t.opposite for t in self.tests)

    @property
    def n(self) -> int | None:
        """The fewest values any of its decided intervals rests on."""
        ns = [t.interval.n for t in self.tests] + ([self.effect.interval.n] if self.effect else [])
        return min(ns) if ns else None


def not_run(reason: str) -> Result:
    return Result(NOT_RUN, reason)


def measured(text: str) -> Result:
    return Result(MEASURED, text)


def decide(tests: Sequence[Test], text: str, effect: Effect | None = None,
           basis: str = "interval bounds") -> Result:
    """The verdict of a claim that holds when every test passes: ``cannot be decided`` when any test cannot be,
    ``not reproduced`` when one fails, ``inconclusive`` when none fails but one straddles, else ``reproduced``.
    The text lists every test with its interval, n and outcome."""
    tests = tuple(tests)
    outcomes = [t.outcome for t in tests]
    if not tests:
        return Result(UNDECIDED, text + " (no test)")
    if "undecidable" in outcomes:
        verdict = UNDECIDED
    elif "fail" in outcomes:
        verdict = NOT_REPRODUCED
    elif "straddle" in outcomes:
        verdict = INCONCLUSIVE
    else:
        verdict = REPRODUCED
    listed = "; ".join(t.describe() for t in tests)
    return Result(verdict, f"{text} Tests: {listed}.", effect, tests, basis)


def point_estimate(verdict_holds: bool, text: str, effect: Effect | None = None) -> Result:
    """A verdict that rests on point estimates (means, not intervals): said so in its basis and its text."""
    return Result(REPRODUCED if verdict_holds else NOT_REPRODUCED, f"{text} (decided on point estimates)", effect,
                  (), "point estimates")


# ----------------------------------------------------------------------------- claims
@dataclass(frozen=True)
class Claim:
    id: str
    figure: str
    statement: str
    panels: tuple[str, ...]
    check: Callable[[Mapping[str, pd.DataFrame], Mapping], Result] | None = None
    # the learners whose runs the check reads (None: every run of its panels), and the alphas: None (all),
    # 'small', 'large' or 'both' (claims.small_alpha_max, large_alpha_min; with the prefix 'image_', the image
    # ranges); a run among those that did not learn its training data is checked by :func:`sensitivity`
    learners: tuple[str, ...] | None = None
    alpha_range: str | None = None
    prefix: str = ""
    # the outcome columns the check reads, each in [0, 1]: a run that did not learn is set to 0 or 1 there for
    # its worst case
    outcomes: tuple[str, ...] = ("success",)
    # why the result disagrees with the paper, from the tables (every table of the claim's study) and the result:
    # text the findings render beside the verdict when it is not 'reproduced'
    explain: Callable[[Mapping[str, pd.DataFrame], Mapping, Result], str] | None = None

    @property
    def key(self) -> str:
        """Unique in the registry: the id and the first table it reads (C6@fig4_2d; C6 is also checked on images)."""
        return f"{self.id}@{self.panels[0]}"

    def rows_read(self, table: pd.DataFrame, cfg: Mapping) -> pd.DataFrame:
        """The rows of one of its tables that the check reads: its learners, in its alpha range."""
        if self.learners is not None:
            table = table[table["learner" if "learner" in table else "algorithm"].isin(self.learners)]
        if self.alpha_range is not None:
            ranges = {"small": (True,), "large": (False,), "both": (True, False)}[self.alpha_range]
            table = table[table["alpha"].isin([a for small in ranges for a in _alphas(table, cfg, small, self.prefix)])]
        return table

    def runs_read(self, tables: Mapping[str, pd.DataFrame], cfg: Mapping) -> pd.DataFrame:
        """One row per distinct run the claim reads: dataset, algorithm, alpha, alpha_val, seed, learned (True
        where a table does not say)."""
        frames = [self.rows_read(tables[p], cfg) for p in self.panels]
        frames = [f.assign(learned=f["learned"] if "learned" in f else True)[RUN_KEYS + ["learned"]]
                  for f in frames if set(RUN_KEYS) <= set(f.columns)]
        if not frames:
            return pd.DataFrame(columns=RUN_KEYS + ["learned"])
        return pd.concat(frames).drop_duplicates(RUN_KEYS)


# ----------------------------------------------------------------------------- runs that did not learn
def _cells_text(runs: pd.DataFrame, limit: int = 6) -> str:
    cells = runs.groupby(["algorithm", "alpha", "alpha_val"]).size()
    listed = ", ".join(f"{a} alpha={x:g}" + (f" alpha_val={v:g}" if v else "") + f" ({n})"
                       for (a, x, v), n in list(cells.items())[:limit])
    return listed + (f" and {len(cells) - limit} more cells" if len(cells) > limit else "")


def _owners(table: pd.DataFrame, runs: pd.DataFrame) -> np.ndarray:
    """Per row of ``table``, the position of the run in ``runs`` it belongs to (-1: none); every stopping rule and
    epoch of a run are its rows."""
    if runs.empty or not set(RUN_KEYS) <= set(table.columns):
        return np.full(len(table), -1)
    keyed = runs[RUN_KEYS].astype({"alpha": float, "alpha_val": float}).assign(_pos=np.arange(len(runs)))
    rows = table[RUN_KEYS].astype({"alpha": float, "alpha_val": float}).reset_index(drop=True)
    return rows.merge(keyed, on=RUN_KEYS, how="left")["_pos"].fillna(-1).to_numpy(dtype=int)


def _run_mask(table: pd.DataFrame, runs: pd.DataFrame) -> np.ndarray:
    """Rows of ``table`` that belong to ``runs``."""
    return _owners(table, runs) >= 0


def without_runs(tables: Mapping[str, pd.DataFrame], runs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The tables with the rows of ``runs`` left out, cell by cell (the other runs of each seed stay)."""
    return {p: t[~_run_mask(t, runs)] for p, t in tables.items()}


class Substitution:
    """The tables with chosen runs given chosen values in the outcome columns (their worst case)."""

    def __init__(self, tables: Mapping[str, pd.DataFrame], runs: pd.DataFrame, columns: Sequence[str]):
        self.tables, self.columns = tables, [c for c in columns]
        self.owners = {p: _owners(t, runs) for p, t in tables.items()}

    def __call__(self, values: Sequence[float | None]) -> dict[str, pd.DataFrame]:
        """``values[i]``: run i's value, or None for its own."""
        chosen = np.array([np.nan if v is None else v for v in values] + [np.nan])  # [-1]: rows of no run
        out = {}
        for panel, t in self.tables.items():
            owner = self.owners[panel]
            new = chosen[owner]
            hit = ~np.isnan(new)
            if not hit.any():
                out[panel] = t
                continue
            t = t.copy()
            for column in self.columns:
                if column in t:
                    t[column] = np.where(hit, new, t[column].to_numpy(dtype=float))
            out[panel] = t
        return out


def worst_case(claim: Claim, tables: Mapping[str, pd.DataFrame], cfg: Mapping, runs: pd.DataFrame,
               counted: Result) -> Result:
    """The check with each of ``runs`` given the success (0 or 1) that argues most against the verdict ``counted``:
    run by run in turn, the value that brings the deciding bound closest to its threshold (or changes the
    verdict), two passes (a greedy search: each run's best reply to the others)."""
    substitute = Substitution(tables, runs, claim.outcomes)
    values: list[float | None] = [None] * len(runs)
    current = counted
    for _ in range(2):
        for i in range(len(runs)):
            best = None
            for v in (0.0, 1.0):
                trial = list(values)
                trial[i] = v
                result = claim.check(substitute(trial), cfg)
                score = -np.inf if result.verdict != counted.verdict else result.margin
                if best is None or score < best[0]:
                    best = (score, v, result)
            values[i], current = best[1], best[2]
            if current.verdict != counted.verdict:
                return current
    return current


def sensitivity(claim: Claim, tables: Mapping[str, pd.DataFrame], cfg: Mapping, counted: Result) -> tuple[str, str]:
    """(verdict, sensitivity note) once the runs that did not learn are accounted for. A decided verdict stands
    only if it holds with them counted, with them left out cell by cell, and with each set to its worst case;
    otherwise it is ``inconclusive`` and the note names the runs it depends on."""
    runs = claim.runs_read(tables, cfg)
    bad = runs[~runs["learned"].astype(bool)]
    if bad.empty:
        return counted.verdict, (f"all {len(runs)} runs read here learned their training data" if len(runs) else "")
    who = f"{len(bad)} of the {len(runs)} runs read here that did not learn their training data ({_cells_text(bad)})"
    if counted.verdict not in DECIDED:
        return counted.verdict, f"{who}: counted"
    left_out = claim.check(without_runs(tables, bad), cfg)
    worst = worst_case(claim, tables, cfg, bad, counted)
    if left_out.verdict == worst.verdict == counted.verdict:
        return counted.verdict, f"{counted.verdict}; unchanged when the {who} are left out or set to their worst case"
    return INCONCLUSIVE, (f"inconclusive: depends on the {who}: counted, {counted.verdict}; left out, "
                          f"{left_out.verdict}; each set to its worst case (success 0 or 1), {worst.verdict}")


# ----------------------------------------------------------------------------- what checks read
def _first_rule(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of the table's first stopping rule (the panel's primary one)."""
    return table[table["stopping"] == table["stopping"].iloc[0]] if len(table) else table


def wide(table: pd.DataFrame, value: str, index: str = "alpha", columns: str = "seed") -> pd.DataFrame:
    """``value`` as a cells x seeds table (NaN where a run is missing)."""
    return table.pivot_table(index=index, columns=columns, values=value, dropna=False)


def paired_difference(table: pd.DataFrame, algo: str, baseline: str, alphas: Sequence[float],
                      confidence: float, value: str = "success") -> Interval | None:
    """The mean over ``alphas`` of value(algo) - value(baseline), paired by seed (None if either is absent)."""
    t = _first_rule(table)
    t = t[t["alpha"].isin(list(alphas))]
    if not {algo, baseline} <= set(t["algorithm"]):
        return None
    diff = wide(t[t["algorithm"] == algo], value) - wide(t[t["algorithm"] == baseline], value)
    return contrast_over_cells(diff, None, confidence, "paired Student t, mean over alphas")


def welch_by_alpha(a: pd.DataFrame, b: pd.DataFrame, confidence: float) -> str:
    """'alpha: mean [low, high], n; ...' of a's success minus b's (Welch: different runs) at every alpha both have."""
    return "; ".join(f"{x:g}: {welch_interval(a.loc[a['alpha'] == x, 'success'], b.loc[b['alpha'] == x, 'success'], confidence).text()}"
                     for x in sorted(set(a["alpha"]) & set(b["alpha"])))


def _means_by_alpha(table: pd.DataFrame, algos: Sequence[str], alphas: Sequence[float], value="success") -> str:
    t = _first_rule(table)
    m = t[t["alpha"].isin(list(alphas))].groupby(["alpha", "algorithm"])[value].mean().unstack()
    return "; ".join(f"a={a:g}: " + "/".join(f"{m.loc[a, g]:.2f}" if g in m else "-" for g in algos)
                     for a in sorted(m.index))


def _crossing(table: pd.DataFrame, algo: str, baseline: str = "erm", value: str = "success"):
    """Smallest alpha from which the mean of ``algo`` stays at or below the baseline's (a description)."""
    t = _first_rule(table)
    m = t.groupby(["alpha", "algorithm"])[value].mean().unstack().sort_index()
    if algo not in m or baseline not in m:
        return None
    below_ = (m[algo] <= m[baseline]).values
    for i in range(len(below_)):
        if below_[i:].all():
            return float(m.index[i])
    return None


def _alphas(table: pd.DataFrame, cfg: Mapping, small: bool, prefix: str = "") -> list[float]:
    alphas = sorted(table["alpha"].unique())
    if small:
        return [a for a in alphas if 0 < a <= cfg[f"{prefix}small_alpha_max"]]
    return [a for a in alphas if a >= cfg[f"{prefix}large_alpha_min"]]


def _dro_vs_erm(tables, cfg, small: bool, panel: str = "fig1b", prefix: str = "",
                paper_crossing: float | None = None) -> Result:
    """Fig 1's comparison in one alpha range: JTT and LfF each paired with ERM, mean over the range's alphas; both
    must lie above 0 (small alphas) or below 0 (large). The main effect is JTT's."""
    table = tables[panel]
    alphas = _alphas(table, cfg, small, prefix)
    rng = f"alpha<={cfg[prefix + 'small_alpha_max']:g}" if small else f"alpha>={cfg[prefix + 'large_alpha_min']:g}"
    if not alphas:
        return not_run(f"no alpha of '{panel}' in the range {rng}")
    tests = []
    for algo in ("jtt", "lff"):
        iv = paired_difference(table, algo, "erm", alphas, cfg["confidence"])
        if iv is None:
            return not_run(f"'{panel}' has no {algo.upper()} or no ERM runs")
        rule = above if small else below
        tests.append(rule(f"{algo.upper()} - ERM success, mean over {rng}", iv))
    crossings = ", ".join(f"{a.upper()} {_crossing(table, a)}" for a in ("jtt", "lff"))
    text = (f"{rng}, success paired by seed. Mean success ERM/JTT/LfF by alpha: "
            f"{_means_by_alpha(table, ['erm', 'jtt', 'lff'], alphas)}. Alpha from which the mean stays at or below "
            f"ERM's: {crossings} (paper: about "
            f"{cfg['paper_crossing'] if paper_crossing is None else paper_crossing:g}).")
    return decide(tests, text, Effect(tests[0].name, tests[0].interval))


def _cells_by(table: pd.DataFrame, value: str, alphas: Sequence[float], by: str) -> dict:
    """Per value of ``by``, ``value`` as an alphas x seeds table (NaN where a run is missing)."""
    t = _first_rule(table)
    t = t[t["alpha"].isin(list(alphas))]
    return {k: wide(g, value) for k, g in t.groupby(by)}


def trend(table: pd.DataFrame, value: str, alphas: Sequence[float], cfg: Mapping, by: str = "k",
          direction: int = 1, paired: bool = False) -> tuple[str, list[Test], Effect | None]:
    """Does ``value`` rise (direction 1) or fall (-1) with ``by``? Per value of ``by``, the mean over ``alphas``.

    One test of the monotone trend, the linear contrast over the ordered values (the fitted change from the first
    to the last; groups of different datasets are independent, ``paired`` groups share their seeds), must lie on
    the claimed side of 0; and a step between consecutive values counts against the claim only when its whole
    interval lies beyond the practical margin ``claims.trend_margin`` the other way (a plateau's wiggles do not)."""
    confidence, margin = cfg["confidence"], cfg["trend_margin"]
    cells = _cells_by(table, value, alphas, by)
    ks = sorted(cells)
    if len(ks) < 2:
        return f"fewer than two values of {by}", [], None
    groups = [contrast_over_cells(cells[k], None, confidence) for k in ks]
    if paired:
        stacked = pd.concat({k: cells[k] for k in ks}, names=[by])
        weights = np.repeat(trend_weights(len(ks)), [len(cells[k]) for k in ks]) / np.repeat(
            [len(cells[k]) for k in ks], [len(cells[k]) for k in ks])
        fitted = contrast_over_cells(stacked, weights, confidence, "paired linear trend")
    else:
        fitted = linear_trend(groups, confidence)
    fitted = oriented(fitted, direction)
    first, last = (ks[0], ks[-1])
    word = "rise" if direction > 0 else "fall"
    name = f"fitted {word} of {value} from {by}={first:g} to {by}={last:g} (linear trend over {len(ks)} values)"
    tests = [above(name, fitted)]
    for a, b in zip(ks, ks[1:]):
        step = _step(groups[ks.index(a)], groups[ks.index(b)], cells[a], cells[b], confidence, paired)
        step = oriented(step, direction)
        tests.append(not_below(f"{word} from {by}={a:g} to {b:g}", step, -margin))
    means = ", ".join(f"{by}={k:g}: {g.mean:.3f}" for k, g in zip(ks, groups))
    text = (f"mean {value} over alpha in {{{', '.join(f'{a:g}' for a in alphas)}}}: {means}. A step against the "
            f"trend counts only beyond the practical margin {margin:g}.")
    return text, tests, Effect(name, fitted)


def oriented(iv: Interval, direction: int) -> Interval:
    """The interval of ``direction`` x the quantity (-1 turns a fall into a rise)."""
    if direction > 0:
        return iv
    return replace(iv, mean=-iv.mean, low=-iv.high, high=-iv.low)


def _step(ga: Interval, gb: Interval, wa: pd.DataFrame, wb: pd.DataFrame, confidence: float, paired: bool) -> Interval:
    """b minus a: paired by seed (the same seeds' runs) or independent groups (Welch on their standard errors)."""
    if paired:
        both = pd.concat({0: wa, 1: wb})
        return contrast_over_cells(both, np.r_[np.full(len(wa), -1 / len(wa)), np.full(len(wb), 1 / len(wb))],
                                   confidence, "paired Student t")
    from ..evaluation.stats import difference

    return difference(gb, ga, confidence)


def _ceilings(table: pd.DataFrame) -> str:
    c = table.groupby("k")["ceiling"].first()
    return ", ".join(f"k={k:g}: {v:.2f}" for k, v in c.items())


def _baseline(table: pd.DataFrame) -> str:
    t = _first_rule(table)
    base = t[t["alpha"] == 0].groupby("k")["success"].mean()
    return ", ".join(f"k={k:g}: {v:.2f}" for k, v in base.items()) if len(base) else "not run"


def oscillation(epochs: pd.DataFrame) -> pd.DataFrame:
    """Per run, the spread of test success over the second half of training: the mean
    absolute change from one epoch to the next, the standard deviation and the range."""
    rows = []
    for (algo, alpha, seed), g in epochs.groupby(["algorithm", "alpha", "seed"]):
        s = g.sort_values("epoch")["success"].values
        s = s[len(s) // 2:]
        rows.append(dict(algorithm=algo, alpha=alpha, seed=seed, mean_abs_change=float(np.abs(np.diff(s)).mean())
                         if len(s) > 1 else np.nan, std=float(s.std()), range=float(s.max() - s.min())))
    return pd.DataFrame(rows, columns=["algorithm", "alpha", "seed", "mean_abs_change", "std", "range"])


def _endpoint_change(t: pd.DataFrame) -> pd.Series:
    """Per seed: success at the largest alpha_val minus success at the smallest."""
    lo, hi = t["alpha_val"].min(), t["alpha_val"].max()
    w = t.pivot_table(index="seed", columns="alpha_val", values="success", dropna=False)
    return w[hi] - w[lo]


def _on(check, panel):
    """A check bound to one panel (the same claim is checked on 2D and on image data)."""
    return lambda tables, cfg: check(tables, cfg, panel)


def nonfinite_outcomes(claim: Claim, tables: Mapping[str, pd.DataFrame], cfg: Mapping) -> str:
    """'' when every outcome the claim reads is finite; else how many values are not, and in which runs (a value
    that is not finite is counted and named, never dropped)."""
    bad = []
    for panel in claim.panels:
        t = claim.rows_read(tables[panel], cfg)
        for column in claim.outcomes:
            if column in t:
                rows = t[~np.isfinite(t[column].astype(float))]
                bad += [f"{panel}.{column} {r['algorithm']} alpha={r['alpha']:g} seed={r['seed']}"
                        for _, r in rows.iterrows()]
    if not bad:
        return ""
    return f"{len(bad)} value(s) not finite: " + ", ".join(bad[:6]) + (", ..." if len(bad) > 6 else "")


# ----------------------------------------------------------------------------- for explanations
def means(table: pd.DataFrame, value: str = "success", by: str = "alpha") -> str:
    """'0.01: 0.00, 0.1: 0.63' of the mean of ``value`` by ``by`` (the table's first stopping rule)."""
    t = _first_rule(table)
    return ", ".join(f"{k:g}: {v:.2f}" for k, v in t.groupby(by)[value].mean().items())


def bayes_threshold(table: pd.DataFrame) -> float:
    """The alpha above which Theorem 1's bound (eps = 0) is positive, from the table's xi and Delta: a collective
    smaller than it is out-voted by the clean points of its codomain."""
    xi, delta = float(table["xi"].dropna().iloc[0]), float(table["delta"].dropna().iloc[0])
    return xi * delta / (1 + xi * delta)


# ----------------------------------------------------------------------------- the claims table
COLUMNS = ["claim", "figure", "statement", "measured", "verdict", "contradicted", "sensitivity", "basis", "n", "margin",
           "effect", "effect_mean", "effect_low", "effect_high", "explanation", "key"]
DISAGREE = (NOT_REPRODUCED, INCONCLUSIVE)  # what an explanation is given for


def evaluate(claim: Claim, tables: Mapping[str, pd.DataFrame], cfg: Mapping) -> dict:
    """One row of the claims table. A check that fails raises: a bug in a check is an error, never verdict text."""
    missing = [p for p in claim.panels if p not in tables]
    result, note = None, ""
    if claim.check is None:
        result = not_run("not implemented in this version of the workflow")
    elif missing:
        result = not_run(f"table(s) {', '.join(missing)} not built (not among the study's panels)")
    else:
        empty = [p for p in claim.panels if tables[p].empty]
        unusable = nonfinite_outcomes(claim, tables, cfg)
        if empty:
            result = not_run(f"table(s) {', '.join(empty)} have no rows")
        elif unusable:
            result = Result(UNDECIDED, f"cannot be decided: {unusable}")
        else:
            result = claim.check(tables, cfg)
        if result.verdict != NOT_RUN:
            sources = sorted({str(s) for p in claim.panels for s in tables[p].get("data_source", [])} - {"synthetic"})
            if sources and not result.measured.startswith("["):
                result = replace(result, measured=f"[{'; '.join(sources)}] {result.measured}")
            verdict, note = sensitivity(claim, tables, cfg, result)
            result = replace(result, verdict=verdict)
    if result.tests or result.effect:
        result = replace(result, measured=f"{result.measured} Intervals: {cfg['confidence']:.0%}, {COVERS}.")
    effect = result.effect
    explanation = claim.explain(tables, cfg, result) if claim.explain and result.verdict in DISAGREE else ""
    return {"claim": claim.id, "figure": claim.figure, "statement": claim.statement, "measured": result.measured,
            "verdict": result.verdict, "contradicted": result.contradicted, "sensitivity": note, "basis": result.basis,
            "n": result.n if result.n is not None else np.nan, "margin": result.margin,
            "effect": effect.name if effect else "", "effect_mean": effect.mean if effect else np.nan,
            "effect_low": effect.low if effect else np.nan, "effect_high": effect.high if effect else np.nan,
            "explanation": explanation, "key": claim.key}


def evaluate_claims(tables: Mapping[str, pd.DataFrame], cfg: Mapping, claims=None) -> pd.DataFrame:
    from . import all_claims

    claims = all_claims() if claims is None else claims
    return pd.DataFrame([evaluate(claim, tables, cfg) for claim in claims], columns=COLUMNS)


def to_markdown(claims: pd.DataFrame, title: str = "Claims") -> str:
    """A study's claims.md: each claim, its verdict, what was measured and how it holds up to the runs that did
    not learn."""
    lines = [f"# {title}: claims against this run of the workflow", "",
             "Computed from the panel tables under results/tables/ by `collective_action.claims`. Every interval is "
             f"{COVERS}; how each verdict is decided: docs/verdicts.md.", ""]
    for _, row in claims.iterrows():
        lines += [f"## {row['claim']} ({row['figure']}): {row['verdict']}", "", f"*{row['statement']}*", "",
                  str(row["measured"]), ""]
        if isinstance(row["sensitivity"], str) and row["sensitivity"]:
            lines += [f"Runs that did not learn: {row['sensitivity']}.", ""]
        if isinstance(row["explanation"], str) and row["explanation"]:
            lines += [f"Why: {row['explanation']}", ""]
    return "\n".join(lines)


def build(*, table_paths: Mapping[str, str], spec: Mapping, output_csv: str, output_md: str) -> None:
    """A study's claims (results/claims/<study>.csv and .md) from its tables."""
    from . import of_study

    tables = {panel: store.read_table(path) for panel, path in table_paths.items()}
    claims = evaluate_claims(tables, spec["settings"], of_study(spec["panels"], spec.get("reads", ())))
    prov = store.provenance(step="claims", config=dict(spec), inputs=dict(table_paths))
    store.write_table(claims, output_csv, prov)
    store.write_text_atomic(output_md, to_markdown(claims, spec.get("title", spec["study"])))
    store.write_sidecar(output_md, prov)


def as_config_names(table: pd.DataFrame) -> pd.DataFrame:
    """A variant's table with its derived datasets and algorithms under the config's names (``jtt__1a2b3c4d`` ->
    ``jtt``), which the checks name."""
    from ..planning.paths import DERIVED_SUFFIX

    return table.assign(**{c: table[c].astype(str).str.replace(f"{DERIVED_SUFFIX}$", "", regex=True)
                           for c in ("dataset", "algorithm") if c in table})


def build_variant(*, table_paths: Mapping[str, str], spec: Mapping, output_csv: str) -> None:
    """The atlas's claims under one variant (``spec``: its claim keys and claims settings), from its tables."""
    from . import by_key

    tables = {panel: as_config_names(store.read_table(path)) for panel, path in table_paths.items()}
    claims = evaluate_claims(tables, spec["settings"], by_key(spec["claims"]))
    store.write_table(claims, output_csv, store.provenance(step="atlas_claims", config=dict(spec),
                                                           inputs=dict(table_paths)))

