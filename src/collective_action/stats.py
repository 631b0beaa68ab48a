"""Means and Student-t confidence intervals over seeds (appendix C)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as _st


def t_interval(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high) of the Student-t interval; with one value the interval is that value."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return (np.nan, np.nan, np.nan)
    mean = float(v.mean())
    if len(v) == 1:
        return (mean, mean, mean)
    half = float(_st.t.ppf(0.5 + confidence / 2, df=len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return (mean, mean - half, mean + half)


def summarise(table: pd.DataFrame, by: list[str], value: str, confidence: float = 0.95) -> pd.DataFrame:
    """Mean and t-interval of ``value`` over the rows of each group (one row per seed)."""
    out = []
    for key, group in table.groupby(by, sort=True):
        mean, low, high = t_interval(group[value], confidence)
        row = dict(zip(by, key if isinstance(key, tuple) else (key,)))
        row.update(mean=mean, low=low, high=high, n=int(group[value].notna().sum()))
        out.append(row)
    return pd.DataFrame(out, columns=[*by, "mean", "low", "high", "n"])


def welch_interval(a, b, confidence: float = 0.95) -> tuple[float, float, float]:
    """(difference of means, low, high): Welch's t interval for mean(a) - mean(b)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    diff = float(a.mean() - b.mean())
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = np.sqrt(va + vb)
    if se == 0:
        return (diff, diff, diff)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    half = float(_st.t.ppf(0.5 + confidence / 2, df=df) * se)
    return (diff, diff - half, diff + half)
