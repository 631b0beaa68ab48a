"""Intervals over seeds: what a claim's verdict is decided on (appendix C's mean and Student-t interval, and the
intervals that follow from it where cells are missing, groups are compared, or a statistic has no formula).

Every interval says how many values it rests on (``n``) and counts the values that are not finite, by label:
none is dropped without a word. An interval on fewer than two values, or with a value that is not finite,
cannot decide anything (``decidable`` is False) and has NaN bounds; figures draw no band for it.

What an interval over seeds covers (:data:`COVERS`): each seed of a cell is a fresh draw of the training's
randomness (initialisation, minibatches) and of who joins the collective, on one draw of the dataset and one
test set, both fixed by the dataset's own seed. So an interval says how a result varies over training runs and
collectives, not over datasets.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats as _st

COVERS = ("over seeds: the training's randomness and who joins the collective, for one draw of the dataset and "
          "one test set")


@dataclass(frozen=True)
class Interval:
    """A mean (or a difference, a contrast, a statistic) with its interval at ``confidence``."""

    mean: float
    low: float
    high: float
    n: int  # the values it rests on (for two groups, the smaller group)
    confidence: float = 0.95
    method: str = "Student t"
    se: float = float("nan")  # standard error (NaN for a bootstrap)
    df: float = float("nan")  # degrees of freedom of its t quantile
    nonfinite: tuple = ()  # labels of the values that were not finite
    note: str = ""  # what else a reader must know (a bootstrap's resamples without a value, ...)

    @property
    def decidable(self) -> bool:
        """Whether a verdict may rest on it: two values or more, all finite, finite bounds."""
        return self.n >= 2 and not self.nonfinite and bool(np.isfinite(self.low) and np.isfinite(self.high))

    def why_not(self) -> str:
        """Why it cannot decide ('' when it can)."""
        if self.nonfinite:
            return (f"{len(self.nonfinite)} value(s) not finite ({', '.join(map(str, self.nonfinite[:6]))}"
                    f"{', ...' if len(self.nonfinite) > 6 else ''})")
        if self.n < 2:
            return f"n = {self.n}: an interval needs two values or more"
        if not (np.isfinite(self.low) and np.isfinite(self.high)):
            return "a bound is not finite"
        return ""

    def text(self, fmt: str = "+.3f") -> str:
        """'+0.469 [+0.436, +0.502], n = 10' (and what else it must say)."""
        body = f"{self.mean:{fmt}} [{self.low:{fmt}}, {self.high:{fmt}}]" if self.decidable else \
            f"{self.mean:{fmt}} (no interval: {self.why_not()})"
        return body + f", n = {self.n}" + (f"; {self.note}" if self.note else "")

    def as_tuple(self) -> tuple[float, float, float]:
        return self.mean, self.low, self.high


def _quantile(confidence: float, df: float) -> float:
    return float(_st.t.ppf(0.5 + confidence / 2, df=df))


def _finite(values, labels=None) -> tuple[np.ndarray, tuple]:
    """The finite values, and the labels (or positions) of the others."""
    if isinstance(values, pd.Series):
        labels = list(values.index) if labels is None else list(labels)
    v = np.asarray(values, dtype=float).ravel()
    labels = list(range(len(v))) if labels is None else list(labels)
    bad = ~np.isfinite(v)
    return v[~bad], tuple(_plain(labels[i]) for i in np.flatnonzero(bad))


def _plain(label):
    return label.item() if isinstance(label, np.generic) else label


def from_estimate(mean: float, se: float, df: float, n: int, confidence: float, method: str,
                  nonfinite: tuple = ()) -> Interval:
    """The t interval mean +- t(df) se; NaN bounds where it cannot decide."""
    if n < 2 or nonfinite or not np.isfinite(se) or not np.isfinite(df) or df <= 0:
        return Interval(mean, np.nan, np.nan, n, confidence, method, se, df, nonfinite)
    half = _quantile(confidence, df) * se
    return Interval(mean, mean - half, mean + half, n, confidence, method, se, df, nonfinite)


def t_interval(values, confidence: float = 0.95, labels=None) -> Interval:
    """The Student-t interval of the mean of ``values`` (a Series names its non-finite values by index)."""
    v, bad = _finite(values, labels)
    n = len(v)
    mean = float(v.mean()) if n else float("nan")
    se = float(v.std(ddof=1) / np.sqrt(n)) if n >= 2 else float("nan")
    return from_estimate(mean, se, n - 1, n, confidence, "Student t", bad)


def welch_interval(a, b, confidence: float = 0.95) -> Interval:
    """Welch's interval for mean(a) - mean(b): two groups of different runs, variances not assumed equal."""
    va, bad_a = _finite(a)
    vb, bad_b = _finite(b)
    bad = tuple(f"a:{x}" for x in bad_a) + tuple(f"b:{x}" for x in bad_b)
    n = min(len(va), len(vb))
    mean = float(va.mean() - vb.mean()) if len(va) and len(vb) else float("nan")
    if n < 2:
        return Interval(mean, np.nan, np.nan, n, confidence, "Welch", nonfinite=bad)
    sa, sb = va.var(ddof=1) / len(va), vb.var(ddof=1) / len(vb)
    se = float(np.sqrt(sa + sb))
    if se == 0:  # identical constant groups: no spread to build a t quantile on, the difference is exact
        return Interval(mean, mean, mean, n, confidence, "Welch", 0.0, np.inf, bad)
    df = (sa + sb) ** 2 / (sa ** 2 / (len(va) - 1) + sb ** 2 / (len(vb) - 1))
    return from_estimate(mean, se, df, n, confidence, "Welch", bad)


def contrast_over_cells(wide: pd.DataFrame, weights=None, confidence: float = 0.95,
                        method: str = "Student t, mean over cells") -> Interval:
    """A weighted sum over the rows (cells: alphas, say) of each row's mean over its seeds (the columns), with its
    interval; the weights default to the mean over rows.

    A missing cell (NaN: a run left out) is left out of its own row only: the estimate stays the weighted sum of
    the row means, so a seed is never re-averaged over the other rows. Its variance is the available-case one: row
    means covary through the seeds they share, so Var = sum over pairs of rows of w_a w_b cov(shared seeds)
    |shared| / (|row a| |row b|); degrees of freedom are the smallest row's seeds minus one. With no cell missing
    this is exactly the t interval of the per-seed weighted sums (the paired design)."""
    x = wide.to_numpy(dtype=float)
    w = np.full(len(x), 1.0 / max(len(x), 1)) if weights is None else np.asarray(weights, dtype=float)
    bad = tuple((_plain(wide.index[i]), _plain(wide.columns[j])) for i, j in zip(*np.nonzero(np.isinf(x))))
    x = np.where(np.isinf(x), np.nan, x)
    present = ~np.isnan(x)
    counts = present.sum(axis=1)
    if not len(counts) or (counts == 0).any():
        empty = [str(_plain(wide.index[i])) for i in np.flatnonzero(counts == 0)] if len(counts) else []
        return Interval(float("nan"), np.nan, np.nan, 0, confidence, method, nonfinite=bad,
                        note=f"no value at {', '.join(empty)}" if empty else "no cell")
    means = np.array([r[p].mean() for r, p in zip(x, present)])
    mean, n = float(w @ means), int(counts.min())
    missing = int((~present).sum())
    note = f"{missing} cell(s) left out" if missing else ""
    if n < 2:
        return Interval(mean, np.nan, np.nan, n, confidence, method, nonfinite=bad, note=note)
    # available-case covariances of every pair of rows, over the seeds both have, as matrix products
    x0, p = np.where(present, x, 0.0), present.astype(float)
    shared = p @ p.T
    sums = x0 @ p.T  # [i, j]: the sum of row i over the seeds row j also has
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (x0 @ x0.T - sums * sums.T / shared) / (shared - 1)
    usable = (shared >= 2) & (w[:, None] != 0) & (w[None, :] != 0)
    terms = np.where(usable, np.outer(w, w) * cov * shared / np.outer(counts, counts), 0.0)
    var = float(terms.sum())
    se = float(np.sqrt(max(var, 0.0)))
    if se == 0:
        return Interval(mean, mean, mean, n, confidence, method, 0.0, np.inf, bad, note)
    return replace(from_estimate(mean, se, n - 1, n, confidence, method, bad), note=note)


def mean_over_cells(wide: pd.DataFrame, confidence: float = 0.95) -> Interval:
    """The mean over the rows of each row's mean over its seeds: :func:`contrast_over_cells` with equal weights."""
    return contrast_over_cells(wide, None, confidence)


def trend_weights(k: int) -> np.ndarray:
    """Weights of the linear trend contrast over k ordered groups: the centred ranks, scaled so that the contrast
    reads as the fitted change from the first group to the last (a straight line through the group means)."""
    ranks = np.arange(k, dtype=float) - (k - 1) / 2
    return ranks / np.sum(ranks ** 2) * (ranks[-1] - ranks[0]) if k > 1 else np.zeros(k)


def linear_trend(groups: Sequence[Interval], confidence: float = 0.95) -> Interval:
    """One test of a monotone trend over independent, ordered groups (a value of k each, different runs): the
    linear contrast of the group means (:func:`trend_weights`). Its variance is the sum of the weighted group
    variances; degrees of freedom by Welch and Satterthwaite."""
    n = min((g.n for g in groups), default=0)
    if len(groups) < 2:
        return Interval(float("nan"), np.nan, np.nan, n, confidence, "linear trend")
    c = trend_weights(len(groups))
    mean = float(c @ np.array([g.mean for g in groups]))
    bad = tuple(x for g in groups for x in g.nonfinite)
    parts = np.array([ci ** 2 * g.se ** 2 for ci, g in zip(c, groups)])
    var = float(parts.sum())
    if not np.isfinite(var) or n < 2:
        return Interval(mean, np.nan, np.nan, n, confidence, "linear trend", nonfinite=bad)
    if var == 0:
        return Interval(mean, mean, mean, n, confidence, "linear trend", 0.0, np.inf, bad)
    dfs = np.array([g.df for g in groups])
    df = var ** 2 / float(np.sum(np.where(parts > 0, parts ** 2 / dfs, 0.0)))
    return from_estimate(mean, float(np.sqrt(var)), df, n, confidence, "linear trend", bad)


def difference(a: Interval, b: Interval, confidence: float = 0.95) -> Interval:
    """a - b for two independent estimates (Welch and Satterthwaite on their standard errors)."""
    n, bad = min(a.n, b.n), a.nonfinite + b.nonfinite
    mean = a.mean - b.mean
    var = a.se ** 2 + b.se ** 2
    if n < 2 or not np.isfinite(var):
        return Interval(mean, np.nan, np.nan, n, confidence, "Welch", nonfinite=bad)
    if var == 0:
        return Interval(mean, mean, mean, n, confidence, "Welch", 0.0, np.inf, bad)
    df = var ** 2 / sum(p ** 2 / d for p, d in ((a.se ** 2, a.df), (b.se ** 2, b.df)) if p > 0)
    return from_estimate(mean, float(np.sqrt(var)), df, n, confidence, "Welch", bad)


def bca_bootstrap(statistic: Callable[[Sequence[np.ndarray]], np.ndarray], samples: Sequence[np.ndarray],
                  confidence: float = 0.95, n_boot: int = 2000, seed: int = 20240502,
                  what_missing: str = "no value") -> Interval:
    """The bias-corrected and accelerated (BCa) bootstrap interval of a statistic of independent samples, with the
    small-sample expansion of its levels (Hesterberg 2015, "What teachers should know about the bootstrap").

    ``samples``: arrays whose last axis is the seed (resampled with replacement, each sample on its own; several
    arrays of one sample share their seeds: pass them stacked). ``statistic`` takes the samples with a leading
    resample axis ``[B, ..., seeds]`` and returns ``[B]`` values; NaN where it has none (a curve that never
    crosses). A missing value ranks above every other (beyond the grid): such resamples are counted and named in
    the interval's note, never dropped. The acceleration comes from the jackknife over each sample's seeds. A
    fixed stream: the same tables give the same interval."""
    rng = np.random.default_rng(seed)
    samples = [np.asarray(s, dtype=float) for s in samples]
    n = min(int(np.min(np.sum(~np.isnan(s), axis=-1))) for s in samples)  # the fewest seeds of any cell
    point = float(statistic([s[None] for s in samples])[0])
    if n < 2:
        return Interval(point, np.nan, np.nan, n, confidence, "expanded BCa bootstrap")
    draws = [s[..., rng.integers(0, s.shape[-1], size=(n_boot, s.shape[-1]))] for s in samples]
    # draws[i]: [..., B, seeds] -> [B, ..., seeds]
    boots = statistic([np.moveaxis(d, -2, 0) for d in draws])
    missing = int(np.isnan(boots).sum())
    ranked = np.where(np.isnan(boots), np.inf, boots)
    rank_point = np.inf if np.isnan(point) else point
    below = (np.sum(ranked < rank_point) + 0.5 * np.sum(ranked == rank_point)) / n_boot
    z0 = _st.norm.ppf(np.clip(below, 1 / (2 * n_boot), 1 - 1 / (2 * n_boot)))
    jack = []  # leave one seed of one sample out, every seed of a sample in one call
    for i, s in enumerate(samples):
        seeds = s.shape[-1]
        keep = ~np.eye(seeds, dtype=bool)
        left = np.stack([s[..., keep[j]] for j in range(seeds)])
        batch = [left if k == i else np.broadcast_to(t[None], (seeds, *t.shape)) for k, t in enumerate(samples)]
        jack.append(np.asarray(statistic(batch), dtype=float))
    jack = np.concatenate(jack)
    accel = 0.0
    if np.all(np.isfinite(jack)):
        d = jack.mean() - jack
        denom = 6 * np.sum(d ** 2) ** 1.5
        accel = float(np.sum(d ** 3) / denom) if denom > 0 else 0.0
    tail = (1 - confidence) / 2
    # Hesterberg's small-sample expansion: a bootstrap over n seeds spreads too little (by sqrt((n-1)/n)) and normal
    # quantiles ignore that the spread is estimated; sqrt(n/(n-1)) t(n-1) quantiles restore the coverage at 5 to 10
    # seeds (tests/test_decisions.py measures it)
    z = np.array([-1.0, 1.0]) * np.sqrt(n / (n - 1)) * _st.t.ppf(1 - tail, n - 1)
    levels = _st.norm.cdf(z0 + (z0 + z) / (1 - accel * (z0 + z)))
    low, high = np.quantile(ranked, levels, method="inverted_cdf")
    note = f"{missing} of {n_boot} resamples had {what_missing}" if missing else ""
    low = float(low) if np.isfinite(low) else (np.inf if low > 0 else -np.inf)
    high = float(high) if np.isfinite(high) else np.inf
    return Interval(point, low, high, n, confidence, "expanded BCa bootstrap", note=note)


def summarise(table: pd.DataFrame, by: list[str], value: str, confidence: float = 0.95) -> pd.DataFrame:
    """Mean and t-interval of ``value`` over the rows of each group (one row per seed); NaN bounds where a group
    has fewer than two finite values (a figure draws no band there)."""
    out = []
    for key, group in table.groupby(by, sort=True):
        iv = t_interval(group[value], confidence)
        row = dict(zip(by, key if isinstance(key, tuple) else (key,)))
        row.update(mean=iv.mean, low=iv.low, high=iv.high, n=iv.n)
        out.append(row)
    return pd.DataFrame(out, columns=[*by, "mean", "low", "high", "n"])
