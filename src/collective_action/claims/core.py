"""The claims registry's machinery: claims, verdicts and the statistics they use.

``results/claims.csv`` (and ``results/claims.md``) has one row per claim with
``claim, figure, statement, measured, verdict``; verdict is ``reproduced``,
``not reproduced``, ``measured`` (a finding beyond the paper, which makes no claim
about it: the row states what was measured), ``not run`` (its panel was not built
in this run of the workflow) or ``inconclusive`` (some run it reads did not learn
its training data, the tables' ``learned`` column: it counts neither as reproduced nor
as not reproduced, and its row says which runs). Claims are computed from the tables
alone, never from runs directly.

Comparisons between algorithms are paired: the same seed of two algorithms saw the
same collective, so the per-seed difference is averaged over the alphas in the
range and a Student-t interval over seeds decides the verdict.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import store
from ..stats import t_interval, welch_interval

REPRODUCED, NOT_REPRODUCED, NOT_RUN, MEASURED = "reproduced", "not reproduced", "not run", "measured"
INCONCLUSIVE = "inconclusive"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, MEASURED, NOT_RUN)


@dataclass(frozen=True)
class Effect:
    """A claim's main effect: what the verdict turns on, with its interval (the confidence of the claims)."""

    name: str
    mean: float
    low: float
    high: float

    @classmethod
    def of(cls, name: str, ci) -> Effect:
        return cls(name, *(float(v) for v in ci))


@dataclass(frozen=True)
class Claim:
    id: str
    figure: str
    statement: str
    panels: tuple[str, ...]
    # (measured, verdict) or (measured, verdict, Effect) from the tables and the claims settings
    check: Callable[[Mapping[str, pd.DataFrame], Mapping], tuple] | None = None
    # the learners whose runs the check reads (None: every run of its panels), and the alphas: None (all),
    # 'small', 'large' or 'both' (claims.small_alpha_max, large_alpha_min; with the prefix 'cifar_', the image
    # ranges); a run among those that did not learn its training data makes the verdict 'inconclusive'
    learners: tuple[str, ...] | None = None
    alpha_range: str | None = None
    prefix: str = ""

    @property
    def key(self) -> str:
        """Unique in the registry: the id and the first table it reads (C6@fig4_2d; C6 is also checked on images)."""
        return f"{self.id}@{self.panels[0]}"

    def runs_read(self, tables: Mapping[str, pd.DataFrame], cfg: Mapping) -> pd.DataFrame:
        """One row per distinct run the claim reads: dataset, algorithm, alpha, alpha_val, seed, learned."""
        keys = ["dataset", "algorithm", "alpha", "alpha_val", "seed"]
        frames = []
        for panel in self.panels:
            t = tables[panel]
            if "learned" not in t:
                continue
            if self.learners is not None:
                t = t[t["learner" if "learner" in t else "algorithm"].isin(self.learners)]
            if self.alpha_range is not None:
                ranges = {"small": (True,), "large": (False,), "both": (True, False)}[self.alpha_range]
                t = t[t["alpha"].isin([a for small in ranges for a in _alphas(t, cfg, small, self.prefix)])]
            frames.append(t[keys + ["learned"]])
        if not frames:
            return pd.DataFrame(columns=keys + ["learned"])
        return pd.concat(frames).drop_duplicates(keys)


def unlearned_note(runs: pd.DataFrame) -> str:
    """'' when every run learned its training data; otherwise which runs did not, in a few words."""
    bad = runs[~runs["learned"].astype(bool)]
    if bad.empty:
        return ""
    cells = bad.groupby(["algorithm", "alpha", "alpha_val"]).size()
    listed = ", ".join(f"{a} alpha={x:g}" + (f" alpha_val={v:g}" if v else "") + f" ({n})"
                       for (a, x, v), n in list(cells.items())[:6])
    more = f" and {len(cells) - 6} more cells" if len(cells) > 6 else ""
    return (f"[{len(bad)} of {len(runs)} runs read here did not learn their training data (balanced accuracy there "
            f"not clearly above chance, the tables' 'learned'): {listed}{more}] ")


def _without_unlearned(claim: Claim, tables: Mapping[str, pd.DataFrame], cfg: Mapping) -> str:
    """The check's verdict with the runs that did not learn left out (a biased selection, shown for what it says)."""
    kept = {p: (t[t["learned"].astype(bool)] if "learned" in t else t) for p, t in tables.items()}
    try:
        return claim.check(kept, cfg)[1]
    except Exception as exc:  # too few runs left for the check
        return f"cannot be checked ({type(exc).__name__})"


def _first_rule(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of the table's first stopping rule (the panel's primary one)."""
    return table[table["stopping"] == table["stopping"].iloc[0]]


def paired_difference(table: pd.DataFrame, algo: str, baseline: str, alphas: Sequence[float],
                      confidence: float, value: str = "success"):
    """Per seed, the mean over ``alphas`` of value(algo) - value(baseline); returns (mean, low, high), n."""
    t = _first_rule(table)
    t = t[t["alpha"].isin(list(alphas))]
    wide = t.pivot_table(index=["alpha", "seed"], columns="algorithm", values=value)
    if algo not in wide or baseline not in wide:
        return (np.nan, np.nan, np.nan), 0
    per_seed = (wide[algo] - wide[baseline]).groupby(level="seed").mean()
    return t_interval(per_seed.values, confidence), len(per_seed)


def _fmt_ci(ci) -> str:
    mean, low, high = ci
    return f"{mean:+.3f} [{low:+.3f}, {high:+.3f}]"


def welch_by_alpha(a: pd.DataFrame, b: pd.DataFrame, confidence: float) -> str:
    """'alpha: mean [low, high]; ...' of a's success minus b's (Welch: different runs) at every alpha both have."""
    return "; ".join(f"{x:g}: {_fmt_ci(welch_interval(a.loc[a['alpha'] == x, 'success'], b.loc[b['alpha'] == x, 'success'], confidence))}"
                     for x in sorted(set(a["alpha"]) & set(b["alpha"])))


def _means_by_alpha(table: pd.DataFrame, algos: Sequence[str], alphas: Sequence[float], value="success") -> str:
    t = _first_rule(table)
    m = t[t["alpha"].isin(list(alphas))].groupby(["alpha", "algorithm"])[value].mean().unstack()
    parts = []
    for a in sorted(m.index):
        parts.append(f"a={a:g}: " + "/".join(f"{m.loc[a, g]:.2f}" if g in m else "-" for g in algos))
    return "; ".join(parts)


def _crossing(table: pd.DataFrame, algo: str, baseline: str = "erm", value: str = "success"):
    """Smallest alpha from which the mean of ``algo`` stays at or below the baseline's."""
    t = _first_rule(table)
    m = t.groupby(["alpha", "algorithm"])[value].mean().unstack().sort_index()
    if algo not in m or baseline not in m:
        return None
    below = (m[algo] <= m[baseline]).values
    for i in range(len(below)):
        if below[i:].all():
            return float(m.index[i])
    return None


def _alphas(table: pd.DataFrame, cfg: Mapping, small: bool, prefix: str = "") -> list[float]:
    alphas = sorted(table["alpha"].unique())
    if small:
        return [a for a in alphas if 0 < a <= cfg[f"{prefix}small_alpha_max"]]
    return [a for a in alphas if a >= cfg[f"{prefix}large_alpha_min"]]


def _dro_vs_erm(tables, cfg, small: bool, panel: str = "fig1b", prefix: str = "", paper_crossing: float | None = None):
    """Fig 1's comparison in one alpha range; the main effect is JTT's paired difference from ERM (LfF's is in the
    text; the verdict needs both)."""
    table = tables[panel]
    alphas = _alphas(table, cfg, small, prefix)
    if not alphas:
        return ("no alpha in the range", NOT_RUN)
    results, ok, effect = [], True, None
    for algo in ("jtt", "lff"):
        ci, n = paired_difference(table, algo, "erm", alphas, cfg["confidence"])
        results.append(f"{algo.upper()}-ERM {_fmt_ci(ci)}")
        ok &= bool(ci[1] > 0) if small else bool(ci[2] < 0)
        effect = effect or Effect.of(f"JTT - ERM success, mean over alpha {'<=' if small else '>='} "
                                     f"{cfg[prefix + ('small_alpha_max' if small else 'large_alpha_min')]:g}", ci)
    crossings = ", ".join(f"{a.upper()} {_crossing(table, a)}" for a in ("jtt", "lff"))
    rng = f"alpha<={cfg[prefix + 'small_alpha_max']:g}" if small else f"alpha>={cfg[prefix + 'large_alpha_min']:g}"
    measured = (f"{rng}, paired success difference over seeds (mean [{cfg['confidence']:.0%} CI]): "
                f"{'; '.join(results)}. Mean success ERM/JTT/LfF by alpha: {_means_by_alpha(table, ['erm', 'jtt', 'lff'], alphas)}. "
                f"Alpha from which the mean stays at or below ERM's: {crossings} (paper: about "
                f"{cfg['paper_crossing'] if paper_crossing is None else paper_crossing:g})")
    return measured, REPRODUCED if ok else NOT_REPRODUCED, effect


def _per_seed_by(table: pd.DataFrame, value: str, alphas: Sequence[float], by: str) -> dict:
    t = _first_rule(table)
    t = t[t["alpha"].isin(list(alphas))]
    return {k: g.groupby("seed")[value].mean().values for k, g in t.groupby(by)}


def trend_effect(table: pd.DataFrame, value: str, alphas: Sequence[float], confidence: float, by: str = "k",
                 direction: int = 1) -> Effect | None:
    """The end that should be larger minus the other (Welch), as :func:`trend_over_k` judges it."""
    per_seed = _per_seed_by(table, value, alphas, by)
    ks = sorted(per_seed)
    if len(ks) < 2:
        return None
    hi, lo = (ks[-1], ks[0]) if direction > 0 else (ks[0], ks[-1])
    return Effect.of(f"{value} at {by}={hi:g} minus {by}={lo:g}", welch_interval(per_seed[hi], per_seed[lo], confidence))


def trend_over_k(table: pd.DataFrame, value: str, alphas: Sequence[float], confidence: float, by: str = "k",
                 direction: int = 1) -> tuple[str, bool]:
    """Does ``value`` rise (direction 1) or fall (-1) with ``by``? Per value of ``by``, the
    per-seed mean of ``value`` over ``alphas``.

    Rises = the largest ``by`` is significantly above the smallest (Welch interval above 0)
    and no step from one value to the next is a significant move the other way."""
    per_seed = _per_seed_by(table, value, alphas, by)
    ks = sorted(per_seed)
    if len(ks) < 2:
        return (f"fewer than two values of {by}", False)
    means = ", ".join(f"{by}={k:g}: {t_interval(per_seed[k], confidence)[0]:.3f}" for k in ks)
    # (difference, low, high) for the end that should be larger minus the other
    end = (welch_interval(per_seed[ks[-1]], per_seed[ks[0]], confidence) if direction > 0
           else welch_interval(per_seed[ks[0]], per_seed[ks[-1]], confidence))
    against = [(a, b) for a, b in zip(ks, ks[1:])
               if (welch_interval(per_seed[b], per_seed[a], confidence)[2] < 0 if direction > 0
                   else welch_interval(per_seed[b], per_seed[a], confidence)[1] > 0)]
    first, last = (ks[-1], ks[0]) if direction > 0 else (ks[0], ks[-1])
    text = (f"mean {value} over alpha in {{{', '.join(f'{a:g}' for a in alphas)}}}: {means}; "
            f"{by}={first:g} minus {by}={last:g}: {_fmt_ci(end)}; significant "
            f"{'drops' if direction > 0 else 'rises'} between consecutive {by}: "
            f"{', '.join(f'{a:g}->{b:g}' for a, b in against) or 'none'}")
    return text, bool(end[1] > 0 and not against)


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
        rows.append(dict(algorithm=algo, alpha=alpha, seed=seed, mean_abs_change=float(np.abs(np.diff(s)).mean()),
                         std=float(s.std()), range=float(s.max() - s.min())))
    return pd.DataFrame(rows)


def _endpoint_change(t: pd.DataFrame) -> pd.Series:
    """Per seed: success at the largest alpha_val minus success at the smallest."""
    lo, hi = t["alpha_val"].min(), t["alpha_val"].max()
    w = t.pivot_table(index="seed", columns="alpha_val", values="success")
    return w[hi] - w[lo]


def _on(check, panel):
    """A check bound to one panel (the same claim is checked on 2D and on image data)."""
    return lambda tables, cfg: check(tables, cfg, panel)


COLUMNS = ["claim", "figure", "statement", "measured", "verdict", "effect", "effect_mean", "effect_low", "effect_high",
           "key"]


def evaluate_claims(tables: Mapping[str, pd.DataFrame], cfg: Mapping, claims=None) -> pd.DataFrame:
    from . import all_claims

    claims = all_claims() if claims is None else claims
    rows = []
    for claim in claims:
        missing = [p for p in claim.panels if p not in tables]
        effect = None
        if claim.check is None:
            measured, verdict = "not implemented in this version of the workflow", NOT_RUN
        elif missing:
            measured, verdict = f"table(s) {', '.join(missing)} not built (not listed in claims.panels)", NOT_RUN
        else:
            measured, verdict, *rest = claim.check(tables, cfg)
            effect = rest[0] if rest else None
            sources = sorted({str(s) for p in claim.panels for s in tables[p].get("data_source", [])} - {"synthetic"})
            if sources and not measured.startswith("["):
                measured = f"[{'; '.join(sources)}] {measured}"
            note = unlearned_note(claim.runs_read(tables, cfg)) if verdict != NOT_RUN else ""
            if note and verdict in (REPRODUCED, NOT_REPRODUCED):
                measured, verdict = (f"{note}(counting them anyway the check says {verdict}; leaving them out, "
                                     f"{_without_unlearned(claim, tables, cfg)}) {measured}", INCONCLUSIVE)
            elif note:
                measured = note + measured
        rows.append({"claim": claim.id, "figure": claim.figure, "statement": claim.statement,
                     "measured": measured, "verdict": verdict,
                     "effect": effect.name if effect else "", "effect_mean": effect.mean if effect else np.nan,
                     "effect_low": effect.low if effect else np.nan, "effect_high": effect.high if effect else np.nan,
                     "key": claim.key})
    return pd.DataFrame(rows, columns=COLUMNS)


def to_markdown(claims: pd.DataFrame, robustness: pd.DataFrame | None = None) -> str:
    """claims.md; with the atlas's rows, each claim also says in how many variants it holds."""
    from .robustness import holds_line

    lines = ["# Claims of Ben-Dov et al. (ICML 2024) against this run of the workflow", "",
             "Computed from the panel tables under results/tables/ by `collective_action.claims`.", ""]
    for _, row in claims.iterrows():
        lines += [f"## {row['claim']} ({row['figure']}): {row['verdict']}", "", f"*{row['statement']}*", "",
                  str(row["measured"]), ""]
        if robustness is not None:
            line = holds_line(robustness, row["key"])
            lines += [line, ""] if line else []
    return "\n".join(lines)


def build(*, table_paths: Mapping[str, str], spec: Mapping, output_csv: str, output_md: str,
          robustness_path: str | None = None) -> None:
    """results/claims.csv and claims.md from the tables (and the atlas's summary, results/robustness.csv, where
    claims.md carries each claim's "holds in k of n")."""
    tables = {panel: store.read_table(path) for panel, path in table_paths.items()}
    robustness = store.read_table(robustness_path) if robustness_path else None
    claims = evaluate_claims(tables, spec)
    inputs = {**table_paths, **({"robustness": robustness_path} if robustness_path else {})}
    prov = store.provenance(step="claims", config=dict(spec), inputs=inputs)
    store.write_table(claims, output_csv, prov)
    store.write_text_atomic(output_md, to_markdown(claims, robustness))
    store.write_sidecar(output_md, prov)


def as_config_names(table: pd.DataFrame) -> pd.DataFrame:
    """A variant's table with its derived datasets and algorithms under the config's names (``jtt__1a2b3c4d`` ->
    ``jtt``), which the checks name."""
    from ..paths import DERIVED_SUFFIX

    return table.assign(**{c: table[c].astype(str).str.replace(f"{DERIVED_SUFFIX}$", "", regex=True)
                           for c in ("dataset", "algorithm") if c in table})


def build_variant(*, table_paths: Mapping[str, str], spec: Mapping, output_csv: str) -> None:
    """The atlas's claims under one variant (``spec``: its claim keys and claims settings), from its tables."""
    from . import by_key

    tables = {panel: as_config_names(store.read_table(path)) for panel, path in table_paths.items()}
    claims = evaluate_claims(tables, spec["settings"], by_key(spec["claims"]))
    store.write_table(claims, output_csv, store.provenance(step="robustness_claims", config=dict(spec),
                                                           inputs=dict(table_paths)))
