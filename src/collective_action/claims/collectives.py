"""Findings beyond both papers: two collectives in one training set (Hardt et al.'s open question), on
the 2D data (panels 'two_collectives' and 'two_collectives_swap', datasets two_2d and two_2d_swap) and
on text (panels 'two_collectives_text' and 'two_collectives_text_swap', which need data: see
the study 'text'). Neither paper makes a claim here, so the verdict is ``measured``: each row states
what was measured, on 2D beside the success of the Bayes classifier of the poisoned distribution (the
tables' bayes_success columns), which says what an optimal firm would do."""
from __future__ import annotations

import numpy as np

from ..evaluation.stats import contrast_over_cells
from .core import Claim, _first_rule, measured, not_run, welch_by_alpha, wide

ORDER = 20
PANELS = ("two_collectives", "two_collectives_swap")
TEXT_PANELS = ("two_collectives_text", "two_collectives_text_swap")
HALF = 0.5  # the success level whose crossing is reported


def _rows(table, algorithm: str | None = None):
    t = _first_rule(table)
    algorithm = algorithm or t["algorithm"].iloc[0]
    return t[t["algorithm"] == algorithm], algorithm


def crossing(means) -> float:
    """The alpha at which a curve of means (indexed by alpha, sorted) first reaches HALF, linearly
    interpolated between grid points; NaN if it never does, the first alpha if it starts there."""
    a, v = np.asarray(means.index, dtype=float), np.asarray(means.values, dtype=float)
    above = np.flatnonzero(v >= HALF)
    if not len(above):
        return float("nan")
    i = int(above[0])
    if i == 0:
        return float(a[0])
    return float(a[i - 1] + (HALF - v[i - 1]) * (a[i] - a[i - 1]) / (v[i] - v[i - 1]))


def reaches(means) -> str:
    """Where a curve of means reaches HALF, in words."""
    a = crossing(means)
    if means.iloc[0] >= HALF:
        return f"is at {HALF:g} or above from the grid's first alpha ({a:g})"
    return f"reaches {HALF:g} at alpha={a:.3g}" if np.isfinite(a) else f"never reaches {HALF:g}"


def _bayes_threshold(t, column: str) -> float:
    """The smallest alpha of the grid at which the Bayes classifier gives the collective success 1."""
    b = t.groupby("alpha")[column].first()
    hit = b.index[b.values >= 1.0 - 1e-9]
    return float(hit.min()) if len(hit) else float("nan")


def _names(t) -> tuple[str, str]:
    return (f"growing collective (size alpha; dataset {t['dataset'].iloc[0]})",
            f"fixed collective (alpha_2 = {t['alpha_2'].iloc[0]:g})")


def check_fixed_collective(tables, cfg, panel: str):
    """The fixed collective's success as the other grows: by alpha, and the paired change from the
    smallest to the largest alpha of the grid."""
    t, algo = _rows(tables[panel])
    if "success_2" not in t:
        return not_run(f"the '{panel}' table has no second collective (its dataset lacks collective_2)")
    means = t.groupby("alpha")["success_2"].mean()
    lo, hi = means.index.min(), means.index.max()
    change = contrast_over_cells(wide(t, "success_2").loc[[lo, hi]], [-1.0, 1.0], cfg["confidence"], "paired Student t")
    own = t.groupby("alpha")["success"].mean()
    first, second = _names(t)
    bayes = t["bayes_success"].notna().any() if "bayes_success" in t else False  # synthetic data only
    text = (f"{algo}, {second}: mean success_2 by the other's alpha: "
                + ", ".join(f"{a:g}: {v:.2f}" for a, v in means.items())
                + f"; change from alpha={lo:g} to {hi:g} (paired by seed): {change.text()}; {reaches(means)}"
                + (f" (Bayes classifier: success 1 from alpha={_bayes_threshold(t, 'bayes_success_2'):g} of the grid)"
                   if bayes else "")
                + f". The {first}: mean success by alpha "
                + ", ".join(f"{a:g}: {v:.2f}" for a, v in own.items())
                + f"; {reaches(own)}"
                + (f" (Bayes: from alpha={_bayes_threshold(t, 'bayes_success'):g} of the grid)" if bayes else ""))
    return measured(text)


def check_against_alone(tables, cfg):
    """A collective's own success beside a second collective of 20% against the same signal alone (fig1b's
    ERM; for the mirrored collective of the swapped panel, by the data's symmetry x -> -x, y -> 1 - y,
    its success alone is the same curve): Welch intervals per alpha, and where each reaches HALF."""
    alone, _ = _rows(tables["fig1b"], "erm")
    if alone.empty:
        return not_run("no ERM runs in fig1b")
    alone_means = alone.groupby("alpha")["success"].mean()
    parts = []
    for panel in PANELS:
        t, algo = _rows(tables[panel])
        if "success_2" not in t:
            return not_run(f"the '{panel}' table has no second collective")
        means = t.groupby("alpha")["success"].mean()
        parts.append(f"{panel} ({t['dataset'].iloc[0]}, other collective alpha_2 = {t['alpha_2'].iloc[0]:g}): "
                     f"own success minus alone (Welch) by alpha: {welch_by_alpha(t, alone, cfg['confidence'])}; "
                     f"reaches {HALF:g} at "
                     f"alpha={crossing(means):.3f} beside the other vs {crossing(alone_means):.3f} alone")
    return measured(" || ".join(parts) + ". Bayes classifier: threshold (1 - alpha_2)/3 = "
                    f"{(1 - float(tables[PANELS[0]]['alpha_2'].iloc[0])) / 3:.3f} beside the other vs 1/3 alone "
                    "(the other collective takes clean points out of this collective's quadrant)")


def check_text_against_alone(tables, cfg):
    """On text: the growing collective's own success beside the other (0.2%) against the same collective alone
    (text_alpha, ERM: the same token, spacing and target), Welch intervals per alpha of both grids."""
    panel, alone_panel = TEXT_PANELS[0], "text_alpha"
    t, algo = _rows(tables[panel])
    alone, _ = _rows(tables[alone_panel], "erm")
    if "success_2" not in t or alone.empty:
        return not_run(f"needs a second collective in '{panel}' and ERM runs in '{alone_panel}'")
    means, alone_means = t.groupby("alpha")["success"].mean(), alone.groupby("alpha")["success"].mean()
    return measured(f"{algo}, {panel} ({t['dataset'].iloc[0]}, other collective alpha_2 = {t['alpha_2'].iloc[0]:g}): "
                    f"own success minus alone ({alone_panel}, ERM; the same token, k and target) (Welch) by alpha: "
                    f"{welch_by_alpha(t, alone, cfg['confidence'])}; beside the other it {reaches(means)}, "
                    f"alone it {reaches(alone_means)}")


def _fixed(claim_id: str, figure: str, panel: str, text: str) -> Claim:
    return Claim(claim_id, figure, text, (panel,), lambda tables, cfg: check_fixed_collective(tables, cfg, panel))


CLAIMS = (
    _fixed("T1", "two_collectives", PANELS[0], "Two collectives (beyond both papers): the success of a collective of "
           "fixed size (20%; g2(x) = (x1, |x2|), y* = 0) as a second, disjoint collective (g1(x) = (x1, -|x2|), "
           "y* = 1) grows, on 2D."),
    _fixed("T2", "two_collectives", PANELS[1], "Two collectives: the same with the roles swapped (g1's collective "
           "fixed at 20%, g2's grows)."),
    Claim("T3", "two_collectives", "Two collectives: a collective's own success beside the other (20%) against the "
                                   "same collective alone (fig1b, ERM).", (*PANELS, "fig1b"), check_against_alone,
          ("erm",)),
    _fixed("T4", "two_collectives_text", TEXT_PANELS[0], "Two collectives on text: the success of a collective of "
           "fixed size (0.2%; token 'vqz', y* = classes[1]) as a second, disjoint collective (token 'zqx', y* = "
           "classes[0]) grows."),
    _fixed("T5", "two_collectives_text", TEXT_PANELS[1], "Two collectives on text: the same with the roles swapped "
           "('zqx' fixed at 0.2%, 'vqz' grows)."),
    Claim("T6", "two_collectives_text", "Two collectives on text: a collective's own success beside the other (0.2%) "
                                        "against the same collective alone (text_alpha, ERM).",
          (TEXT_PANELS[0], "text_alpha"), check_text_against_alone, ("erm",)),
)
