"""The text claims of Hardt et al. (ICML 2023, section 5), checked on the text panels (by default on the
offline STAND-IN, WordNet definitions; every row says which data it rests on): H1 a tiny feature-label
collective controls the prediction, H2 feature-only needs a larger collective, H3 success improves with
training; and, beyond the paper (verdict ``measured``), H4 the spacing k of the token and H5 every learner
on text. Text panels need data, so they are not in the default claims.panels: see config.text.yaml."""
from __future__ import annotations

import numpy as np

from ..stats import t_interval
from .core import MEASURED, NOT_REPRODUCED, NOT_RUN, REPRODUCED, Claim, _first_rule, _fmt_ci, welch_by_alpha

ORDER = 5
FEATURE_LABEL, FEATURE_ONLY, SPACING, LEARNERS = "text_alpha", "text_alpha_feature_only", "text_spacing", "text_learners"
H1_ALPHA, H1_SUCCESS = 0.002, 0.9  # Hardt et al.: collectives of about 0.2% control the prediction
LEVELS = (0.5, 0.9)  # success levels at which H2 compares the alpha each strategy needs


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
        return f"no run at alpha = {H1_ALPHA:g} in '{FEATURE_LABEL}'", NOT_RUN
    xi = float(rows["xi"].iloc[0]) if "xi" in rows and rows["xi"].notna().any() else float("nan")
    if not xi == 0.0:
        return f"the planted token occurs in clean training data (xi = {xi:.4g}); H1 is about a token absent from it", \
            NOT_RUN
    mean, low, high = t_interval(rows["success"], cfg["confidence"])
    n_docs = rows["alpha_realized"].iloc[0]
    measured = (f"feature-label, token absent from clean data (xi = 0), k = {rows['k'].iloc[0]:g}, alpha = {H1_ALPHA:g} "
                f"(realized {n_docs:.4g}): mean success {mean:.3f} [{low:.3f}, {high:.3f}] over {len(rows)} seeds "
                f"(claim: at least {H1_SUCCESS:g}); clean accuracy {rows['accuracy'].mean():.3f}. By alpha: "
                + ", ".join(f"{a:g}: {v:.2f}" for a, v in t.groupby("alpha")["success"].mean().items()))
    return measured, REPRODUCED if mean >= H1_SUCCESS else NOT_REPRODUCED


def check_h2(tables, cfg):
    fl, fo = _erm(tables[FEATURE_LABEL]), _erm(tables[FEATURE_ONLY])
    parts, ok = [], True
    for level in LEVELS:
        a_fl, a_fo = needed_alpha(fl, level), needed_alpha(fo, level)
        parts.append(f"success {level:g} first reached at alpha {a_fl:g} (feature-label) vs {a_fo:g} (feature-only)")
        # larger: feature-only reaches the level later, or never where feature-label does
        if np.isfinite(a_fl):
            ok &= bool(not np.isfinite(a_fo) or a_fo > a_fl)
    measured = ("; ".join(parts) + ". Feature-label minus feature-only success (Welch) by alpha: "
                + welch_by_alpha(fl, fo, cfg["confidence"]))
    if not any(np.isfinite(needed_alpha(fl, level)) for level in LEVELS):
        return measured + ". Feature-label reaches none of the levels", NOT_REPRODUCED
    return measured, REPRODUCED if ok else NOT_REPRODUCED


def check_h3(tables, cfg):
    key = f"{FEATURE_LABEL}_epochs"
    epochs = tables[key]
    epochs = epochs[epochs["algorithm"] == "erm"] if "erm" in set(epochs["algorithm"]) else epochs
    if epochs.empty:
        return f"no per-epoch rows in '{key}'", NOT_RUN
    alpha = float(epochs["alpha"].min())
    e = epochs[np.isclose(epochs["alpha"], alpha)]
    wide = e.pivot_table(index="seed", columns="epoch", values="success")
    first, last = wide.columns.min(), wide.columns.max()
    ci = t_interval((wide[last] - wide[first]).values, cfg["confidence"])
    means = wide.mean()
    measured = (f"feature-label at alpha = {alpha:g}: mean success by epoch "
                + ", ".join(f"{int(ep)}: {v:.2f}" for ep, v in means.items())
                + f"; last minus first epoch (paired by seed): {_fmt_ci(ci)}")
    return measured, REPRODUCED if ci[1] > 0 else NOT_REPRODUCED


def check_h4(tables, cfg):
    t = _erm(tables[SPACING])
    parts = []
    for alpha, g in t.groupby("alpha"):
        means = g.groupby("k")["success"].mean()
        best = means.idxmax()
        parts.append(f"alpha = {alpha:g}: mean success by k " + ", ".join(f"{k:g}: {v:.2f}" for k, v in means.items())
                     + f" (best k = {best:g})")
    return "; ".join(parts) + " (feature-label; one token every k words)", MEASURED


def check_h5(tables, cfg):
    t = _first_rule(tables[LEARNERS])
    if "erm" not in set(t["algorithm"]):
        return f"no ERM runs in '{LEARNERS}'", NOT_RUN
    parts = []
    for algo, g in t.groupby("algorithm", sort=False):
        means = g.groupby("alpha")["success"].mean()
        parts.append(f"{algo}: " + ", ".join(f"{a:g}: {v:.2f}" for a, v in means.items())
                     + f" (accuracy {g['accuracy'].mean():.3f})")
    return "mean success by alpha: " + "; ".join(parts), MEASURED


CLAIMS = (
    Claim("H1", "text_alpha", f"Hardt et al.: collectives as small as about 0.2% control the prediction; at alpha = "
                              f"{H1_ALPHA:g} a feature-label collective with a token absent from clean data reaches "
                              f"success of at least {H1_SUCCESS:g}.", (FEATURE_LABEL,), check_h1, ("erm",)),
    Claim("H2", "text_alpha", "Hardt et al.: the feature-only strategy works too, but needs a larger alpha than "
                              "feature-label for the same success.", (FEATURE_LABEL, FEATURE_ONLY), check_h2, ("erm",)),
    Claim("H3", "text_alpha", "Hardt et al.: success improves with model training (epochs) at a fixed small alpha.",
          (f"{FEATURE_LABEL}_epochs",), check_h3, ("erm",)),
    Claim("H4", "text_spacing", "Beyond the paper (Hardt et al.'s open question): success by the spacing k of the "
                                "planted token at fixed small alphas.", (SPACING,), check_h4, ("erm",)),
    Claim("H5", "text_learners", "Beyond both papers: the feature-label collective against every learner that runs "
                                 "on text.", (LEARNERS,), check_h5),
)
