"""The text claims of Hardt et al. (ICML 2023, section 5), checked on the text panels (by default on the
offline STAND-IN, WordNet definitions; every row says which data it rests on): H1 a tiny feature-label
collective controls the prediction, H2 feature-only needs a larger collective, H3 success improves with
training; and, beyond the paper (verdict ``measured``), H4 the spacing k of the token and H5 every learner
on text. Text panels need data: the study 'text' (studies/text.yaml)."""
from __future__ import annotations

import numpy as np

from ..evaluation.stats import contrast_over_cells, t_interval, welch_interval
from .core import Claim, Effect, _first_rule, above, decide, means, measured, not_below, not_run, welch_by_alpha, wide

ORDER = 5
FEATURE_LABEL, FEATURE_ONLY, SPACING, LEARNERS = "text_alpha", "text_alpha_feature_only", "text_spacing", "text_learners"
H1_ALPHA, H1_SUCCESS = 0.002, 0.9  # Hardt et al.: collectives of about 0.2% control the prediction
LEVELS = (0.5, 0.9)  # success levels at which H2 reports the alpha each strategy needs


def _at(table, alpha: float):
    return table[np.isclose(table["alpha"], alpha, rtol=0, atol=1e-12)]


def _erm(table):
    t = _first_rule(table)
    return t[t["algorithm"] == ("erm" if "erm" in set(t["algorithm"]) else t["algorithm"].iloc[0])]


def needed_alpha(table, level: float) -> float:
    """The smallest alpha of the grid whose mean success reaches ``level`` (NaN if none does)."""
    means = table.groupby("alpha")["success"].mean().sort_index()
    hit = means.index[means.values >= level]
    return float(hit.min()) if len(hit) else float("nan")


def check_h1(tables, cfg):
    t = _erm(tables[FEATURE_LABEL])
    rows = _at(t, H1_ALPHA)
    if rows.empty:
        return not_run(f"no run at alpha = {H1_ALPHA:g} in '{FEATURE_LABEL}'")
    xi = float(rows["xi"].iloc[0]) if "xi" in rows and rows["xi"].notna().any() else float("nan")
    if not xi == 0.0:
        return not_run(f"the planted token occurs in clean training data (xi = {xi:.4g}); H1 is about a token absent "
                       "from it")
    iv = t_interval(rows.set_index("seed")["success"], cfg["confidence"])
    test = above(f"success at alpha = {H1_ALPHA:g}", iv, H1_SUCCESS)
    text = (f"feature-label, token absent from clean data (xi = 0), k = {rows['k'].iloc[0]:g}, alpha = {H1_ALPHA:g} "
            f"(realized {rows['alpha_realized'].iloc[0]:.4g}); clean accuracy {rows['accuracy'].mean():.3f}. Mean "
            "success by alpha: " + ", ".join(f"{a:g}: {v:.2f}" for a, v in t.groupby("alpha")["success"].mean().items())
            + ".")
    return decide([test], text, Effect(test.name, iv))


def check_h2(tables, cfg):
    """Feature-only needs a larger alpha for the same success: feature-label's success lies above feature-only's at
    some alpha (the alpha whose Bonferroni-corrected Welch interval has the largest lower bound: the choice is
    corrected for), and below it at none by more than the practical margin claims.trend_margin."""
    fl, fo = _erm(tables[FEATURE_LABEL]), _erm(tables[FEATURE_ONLY])
    alphas = sorted(set(fl["alpha"]) & set(fo["alpha"]))
    if not alphas:
        return not_run(f"'{FEATURE_LABEL}' and '{FEATURE_ONLY}' share no alpha")
    conf = cfg["confidence"]
    corrected = 1 - (1 - conf) / len(alphas)
    diffs = {a: welch_interval(_at(fl, a).set_index("seed")["success"], _at(fo, a).set_index("seed")["success"],
                               corrected) for a in alphas}
    best = max(alphas, key=lambda a: diffs[a].low if np.isfinite(diffs[a].low) else -np.inf)
    tests = [above(f"feature-label minus feature-only success at alpha={best:g} (the largest lower bound of "
                   f"{len(alphas)}, Bonferroni-corrected to {corrected:.2%})", diffs[best])]
    tests += [not_below(f"feature-label minus feature-only at alpha={a:g} ({corrected:.2%})", diffs[a],
                        -cfg["trend_margin"]) for a in alphas]
    levels = "; ".join(f"success {level:g} first reached (mean) at alpha {needed_alpha(fl, level):g} (feature-label) "
                       f"vs {needed_alpha(fo, level):g} (feature-only)" for level in LEVELS)
    text = (f"{levels}. Feature-label minus feature-only success (Welch, {conf:.0%}) by alpha: "
            + welch_by_alpha(fl, fo, conf) + ".")
    return decide(tests, text, Effect(tests[0].name, diffs[best]))


def check_h3(tables, cfg):
    key = f"{FEATURE_LABEL}_epochs"
    epochs = tables[key]
    epochs = epochs[epochs["algorithm"] == "erm"] if "erm" in set(epochs["algorithm"]) else epochs
    if epochs.empty:
        return not_run(f"no per-epoch rows in '{key}'")
    alpha = float(epochs["alpha"].min())
    by_epoch = wide(epochs[np.isclose(epochs["alpha"], alpha)], "success", index="epoch")
    first, last = by_epoch.index.min(), by_epoch.index.max()
    iv = contrast_over_cells(by_epoch.loc[[first, last]], [-1.0, 1.0], cfg["confidence"], "paired Student t")
    test = above(f"success after the last epoch minus after the first (paired by seed), alpha = {alpha:g}", iv)
    text = (f"feature-label at alpha = {alpha:g}: mean success by epoch "
            + ", ".join(f"{int(ep)}: {v:.2f}" for ep, v in by_epoch.mean(axis=1).items()) + ".")
    return decide([test], text, Effect(test.name, iv))


def check_h4(tables, cfg):
    t = _erm(tables[SPACING])
    parts = []
    for alpha, g in t.groupby("alpha"):
        means = g.groupby("k")["success"].mean()
        best = means.idxmax()
        parts.append(f"alpha = {alpha:g}: mean success by k " + ", ".join(f"{k:g}: {v:.2f}" for k, v in means.items())
                     + f" (best k = {best:g}, n = {g.groupby('k')['seed'].nunique().min()} seeds per k)")
    return measured("; ".join(parts) + " (feature-label; one token every k words)")


def check_h5(tables, cfg):
    t = _first_rule(tables[LEARNERS])
    if "erm" not in set(t["algorithm"]):
        return not_run(f"no ERM runs in '{LEARNERS}'")
    parts = []
    for algo, g in t.groupby("algorithm", sort=False):
        means = g.groupby("alpha")["success"].mean()
        parts.append(f"{algo}: " + ", ".join(f"{a:g}: {v:.2f}" for a, v in means.items())
                     + f" (accuracy {g['accuracy'].mean():.3f}, n = {g.groupby('alpha')['seed'].nunique().min()})")
    return measured("mean success by alpha: " + "; ".join(parts))


def explain_h1(tables, cfg, result) -> str:
    """H1 at k = 5 on the STAND-IN: the token is a fifth of a short definition, and a bag of embeddings averages it."""
    t = _erm(tables[FEATURE_LABEL])
    text = (f"The data are {t['data_source'].iloc[0]}; feature-label success by alpha: {means(t)}. A token every "
            f"{t['k'].iloc[0]:g}th word is diluted by the bag's mean over the document's other words; Hardt et al.'s "
            "DistilBERT attends over 512-token resumes.")
    if SPACING in tables:
        spacing = _at(_erm(tables[SPACING]), H1_ALPHA)
        if len(spacing):
            text += f" At alpha = {H1_ALPHA:g} a denser token does more (H4, success by k: {means(spacing, by='k')})."
    return text


CLAIMS = (
    Claim("H1", "text_alpha", f"Hardt et al.: collectives as small as about 0.2% control the prediction; at alpha = "
                              f"{H1_ALPHA:g} a feature-label collective with a token absent from clean data reaches "
                              f"success of at least {H1_SUCCESS:g}.", (FEATURE_LABEL,), check_h1, ("erm",),
          explain=explain_h1),
    Claim("H2", "text_alpha", "Hardt et al.: the feature-only strategy works too, but needs a larger alpha than "
                              "feature-label for the same success.", (FEATURE_LABEL, FEATURE_ONLY), check_h2, ("erm",)),
    Claim("H3", "text_alpha", "Hardt et al.: success improves with model training (epochs) at a fixed small alpha.",
          (f"{FEATURE_LABEL}_epochs",), check_h3, ("erm",)),
    Claim("H4", "text_spacing", "Beyond the paper (Hardt et al.'s open question): success by the spacing k of the "
                                "planted token at fixed small alphas.", (SPACING,), check_h4, ("erm",)),
    Claim("H5", "text_learners", "Beyond both papers: the feature-label collective against every learner that runs "
                                 "on text.", (LEARNERS,), check_h5),
)
