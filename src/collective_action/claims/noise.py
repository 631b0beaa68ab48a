"""Coordination noise: Karan, Kalle, Vincent, Sundaram, "Sync or Sink: Bounds on Algorithmic Collective Action with
Noise and Multiple Groups" (arXiv 2510.18933), checked on the studies 'noise' (2D) and 'noise_text'.

Only the paper's abstract could be read (arxiv.org/html/2510.18933v2). Its two statements with numbers:

- N1: "We find that sufficiently high levels of noise can reduce the success of collective action. In certain
  scenarios, large noise can sink a collective success rate from 100% to just under 60%."
- N2: "We identify potential trade-offs between collective size and coordination noise; for example, a collective
  that is twice as big but with four times more noise experiencing worse outcomes than the smaller, more
  coordinated one."

Their noise model, data, alphas and noise levels are not known to us. Ours: on 2D each member plants g(x) plus its
own Gaussian error of standard deviation ``noise`` (signals/noisy_reflect.py); on text each member's token insertion
goes wrong with probability ``noise``, a wrong token or a wrong position (signals/noisy_token.py). No number here is
theirs. Each noise level is a dataset of its own (the same draw of the data), one panel each, and the tables carry
the level (``noise``, from the signal's diagnostics), so the checks read the levels from the runs.

Every panel of one claim has the same seeds but its own collectives (a collective's random stream is its dataset's),
so levels are compared as independent groups (Welch), as K1 compares two datasets. N3 (ours, measured) is the
exception: it pairs by seed, as said where it does.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..evaluation.stats import contrast_over_cells, welch_interval
from .core import Claim, Effect, _first_rule, bayes_threshold, below, decide, measured, not_run, trend, wide

ORDER = 35
SYNC = "Karan, Kalle, Vincent, Sundaram 2025 ('Sync or Sink', arXiv 2510.18933, abstract)"
N1_QUOTE = ("\"sufficiently high levels of noise can reduce the success of collective action. In certain scenarios, "
            "large noise can sink a collective success rate from 100% to just under 60%\"")
N2_QUOTE = ("\"a collective that is twice as big but with four times more noise experiencing worse outcomes than the "
            "smaller, more coordinated one\"")
SIZE, NOISE = 2.0, 4.0  # N2's comparison: twice the size, four times the noise


def levels(tables, panels) -> pd.DataFrame | None:
    """The ERM rows (first stopping rule) of the panels, one per noise level; None when a table has no ``noise``
    column (a signal without noise)."""
    frames = []
    for panel in panels:
        t = _first_rule(tables[panel])
        if "noise" not in t or t["noise"].isna().all():
            return None
        frames.append(t[t["learner"] == "erm"] if "learner" in t else t)
    return pd.concat(frames, ignore_index=True)


def _fmt_levels(values) -> str:
    return ", ".join(f"{v:g}" for v in values)


def _by(t: pd.DataFrame, rows: str = "alpha", value: str = "success") -> pd.DataFrame:
    return t.groupby([rows, "noise"])[value].mean().unstack()


def _grid(t: pd.DataFrame, alphas=None) -> str:
    """'alpha 0.4: 0.85 / 0.81 / 0.22' per alpha, the noise levels in order."""
    m = _by(t)
    if alphas is not None:
        m = m.loc[[a for a in m.index if a in set(alphas)]]
    return "; ".join(f"alpha {a:g}: " + " / ".join(f"{v:.2f}" for v in row.values) for a, row in m.iterrows())


def _kind(t: pd.DataFrame) -> str:
    """How the members err, from the data (the signal's kind is not in the tables)."""
    if "data_source" in t and (t["data_source"] == "synthetic").all():
        return "each member's Gaussian error of standard deviation 'noise'"
    return "the probability 'noise' that a member's insertion goes wrong"


# ----------------------------------------------------------------------------- N1: more noise, less success
def check_n1(tables, cfg, panels):
    """At the alphas where the designed signal wins in the population (above Theorem 1's threshold
    xi Delta / (1 + xi Delta): 1/3 on 2D, 0 for a token absent from clean text), success falls as the noise rises:
    the linear trend over the ordered levels of the mean success over those alphas, levels as independent groups;
    a step against the trend counts only beyond claims.trend_margin (``core.trend``)."""
    t = levels(tables, panels)
    if t is None:
        return not_run(f"the tables of {', '.join(panels)} have no 'noise' column (a signal without noise)")
    if t["noise"].nunique() < 2:
        return not_run(f"needs two noise levels or more in {', '.join(panels)}")
    threshold = bayes_threshold(t) if t["xi"].notna().any() and t["delta"].notna().any() else 0.0
    alphas = sorted(a for a in t["alpha"].unique() if a > max(threshold, 0.0))
    if not alphas:
        return not_run(f"no alpha above the designed signal's threshold ({threshold:.3g})")
    text, tests, effect = trend(t, "success", alphas, cfg, by="noise", direction=-1, paired=False)
    sink = _by(t[t["alpha"].isin(alphas)])
    low, top = sink.columns[0], sink.columns[-1]
    drops = ", ".join(f"{a:g}: {row[low]:.2f} -> {row[top]:.2f}" for a, row in sink.iterrows())
    return decide(tests, f"{SYNC}: {N1_QUOTE}. Ours: {_kind(t)}, levels {_fmt_levels(sink.columns)}; alphas above the "
                         f"designed signal's threshold {threshold:.3g}. {text} Mean success at noise {low:g} -> "
                         f"{top:g} by alpha: {drops}.", effect)


# ----------------------------------------------------------------------------- N2: twice the size, four times the noise
def pairs(t: pd.DataFrame) -> list[tuple[float, float, float, float]]:
    """(alpha, noise, 2 alpha, 4 noise) for every alpha > 0 and noise > 0 of the tables whose doubles are there too."""
    alphas, noises = sorted(a for a in t["alpha"].unique() if a > 0), sorted(t["noise"].unique())

    def match(value, grid):
        hit = [g for g in grid if np.isclose(g, value, rtol=1e-9, atol=0)]
        return hit[0] if hit else None

    return [(a, s, match(SIZE * a, alphas), match(NOISE * s, noises)) for a in alphas for s in noises
            if s > 0 and match(SIZE * a, alphas) is not None and match(NOISE * s, noises) is not None]


def _cell(t: pd.DataFrame, alpha: float, noise: float) -> pd.Series:
    rows = t[np.isclose(t["alpha"], alpha, rtol=1e-9, atol=0) & np.isclose(t["noise"], noise, rtol=1e-9, atol=0)]
    return rows.set_index("seed")["success"]


def comparisons(t: pd.DataFrame, confidence: float) -> tuple[list, float]:
    """Per pair, success(2 alpha, 4 noise) minus success(alpha, noise) (Welch: different runs), each interval at the
    Bonferroni level 1 - (1 - confidence) / m over the m pairs, so that the family holds at ``confidence``."""
    found = pairs(t)
    level = 1 - (1 - confidence) / max(len(found), 1)
    return [(p, welch_interval(_cell(t, p[2], p[3]), _cell(t, p[0], p[1]), level)) for p in found], level


def check_n2(tables, cfg, panels):
    """An existence claim ("for example"): at some pair of the grid, the collective twice as big with four times the
    noise does worse. Decided on the pair whose Bonferroni-corrected interval has the lowest upper bound (the
    choice is corrected for): its upper bound must lie below 0."""
    t = levels(tables, panels)
    if t is None:
        return not_run(f"the tables of {', '.join(panels)} have no 'noise' column (a signal without noise)")
    found, level = comparisons(t, cfg["confidence"])
    if not found:
        return not_run("needs alpha and 2 alpha, and a noise level above 0 and four times it, in the grid")
    best = min(found, key=lambda x: x[1].high if np.isfinite(x[1].high) else np.inf)
    (a, s, a2, s4), iv = best
    test = below(f"success at (alpha {a2:g}, noise {s4:g}) minus at (alpha {a:g}, noise {s:g}), the lowest upper bound "
                 f"of {len(found)} pairs (each at {level:.2%}, Bonferroni)", iv)
    listed = "; ".join(f"({p[0]:g}, {p[1]:g}) -> ({p[2]:g}, {p[3]:g}): {_cell(t, p[0], p[1]).mean():.2f} -> "
                       f"{_cell(t, p[2], p[3]).mean():.2f}, difference {d.text()}" for p, d in found)
    return decide([test], f"{SYNC}: {N2_QUOTE}. Ours: {_kind(t)}. Every pair of the grid, (alpha, noise) -> (2 alpha, 4 "
                          f"noise): mean success and the difference (Welch, each interval at {level:.2%}): {listed}. "
                          f"At the deciding pair the smaller collective's mean success is {_cell(t, a, s).mean():.2f}, "
                          f"the bigger one's {_cell(t, a2, s4).mean():.2f}.", Effect(test.name, iv))


# ----------------------------------------------------------------------------- N3 (ours): where noise helps
def check_n3(tables, cfg, panels):
    """Measured: against logistic regression, each noise level's success minus no noise's, paired by seed (a seed's
    runs share their initialisation and minibatch order at every level; the linear model's success depends on them
    more than on who joins): the mean over the panel's alphas, and per alpha with the Bonferroni correction over the
    levels and alphas that says where noise raises or lowers success. Beside it, how many runs learned their
    training data (``quality.fit_margin``) and the success of those that did: a model that gives up on the data and
    predicts y* broadly also makes the collective successful."""
    t = levels(tables, panels)
    if t is None or 0.0 not in set(t["noise"]) or t["noise"].nunique() < 2:
        return not_run(f"needs noise 0 and another level in {', '.join(panels)}")
    conf, base = cfg["confidence"], t[t["noise"] == 0.0]
    alphas, noises = sorted(a for a in t["alpha"].unique() if a > 0), sorted(t["noise"].unique())
    cell_level = 1 - (1 - conf) / max(len(alphas) * (len(noises) - 1), 1)
    parts, helps, hurts = [], [], []
    for s in noises[1:]:
        g = t[t["noise"] == s]
        diff = wide(g[g["alpha"].isin(alphas)], "success") - wide(base[base["alpha"].isin(alphas)], "success")
        iv = contrast_over_cells(diff, None, conf, "paired Student t, mean over alphas")
        by_alpha = {a: contrast_over_cells(diff.loc[[a]], None, cell_level, "paired") for a in alphas}
        helps += [f"{a:g} (noise {s:g})" for a, x in by_alpha.items() if x.decidable and x.low > 0]
        hurts += [f"{a:g} (noise {s:g})" for a, x in by_alpha.items() if x.decidable and x.high < 0]
        parts.append(f"noise {s:g}: {iv.text()} (by alpha, each at {cell_level:.2%}: "
                     + ", ".join(f"{a:g}: {x.text('+.2f')}" for a, x in by_alpha.items()) + ")")
    where = (f"Noise raises the collective's success at alpha {', '.join(helps)}" if helps else
             "No alpha where noise raises the collective's success is shown") + \
        (f"; it lowers it at alpha {', '.join(hurts)}." if hurts else "; none where it lowers it.")
    learned = t.assign(learned=t["learned"].astype(bool)) if "learned" in t else t.assign(learned=True)
    share = learned.groupby(["alpha", "noise"])["learned"].mean().unstack()
    fit = "; ".join(f"alpha {a:g}: " + " / ".join(f"{v:.0%}" for v in row.values) for a, row in share.iterrows())
    among = _grid(learned[learned["learned"]])
    accuracy = t.groupby("noise")["accuracy"].mean()
    return measured(f"Beyond the paper (2D data, logistic regression, ERM; panels {', '.join(panels)}). {where} "
                    f"Success minus success without noise, mean over alpha in {{{_fmt_levels(alphas)}}}, paired by "
                    "seed: " + "; ".join(parts) + f". Mean success by alpha and noise ({_fmt_levels(noises)}): "
                    f"{_grid(t)}. The runs that learned their training data, by alpha and noise: {fit}; the mean success "
                    f"of those runs alone: {among}. Clean test accuracy by noise: "
                    + ", ".join(f"{s:g}: {v:.3f}" for s, v in accuracy.items()) + ".")


# ----------------------------------------------------------------------------- why a result disagrees
def _tokens(t: pd.DataFrame) -> str:
    """On text, per noise level: the share of the members' documents that hold the token, and its copies per
    document as planted and as designed ('' on other data)."""
    if not {"token_share", "planted_tokens", "designed_tokens"} <= set(t.columns):
        return ""
    m = t[t["alpha"] > 0].groupby("noise")[["token_share", "planted_tokens", "designed_tokens"]].mean()
    return "; ".join(f"noise {s:g}: {r.token_share:.0%} of the documents hold it, {r.planted_tokens:.2f} copies per "
                     f"document (designed {r.designed_tokens:.2f})" for s, r in m.iterrows())


def explain_n1(tables, cfg, result, panels) -> str:
    t = levels(tables, panels)
    if t is None:
        return f"The tables of {', '.join(panels)} have no 'noise' column: their signal plants without noise."
    text = f"Mean success by alpha at noise {_fmt_levels(sorted(t['noise'].unique()))}: {_grid(t)}."
    tokens = _tokens(t)
    if tokens:
        text += f" What the members planted: {tokens}."
        if t.loc[t["alpha"] > 0, "token_share"].min() > 0.999:
            text += (" Every member's document still holds the token, with fewer copies: for the bag model (the mean "
                     "of the words' embeddings, no positions) the number of copies is all a wrong position changes. A "
                     "document with fewer copies moves less with the token's embedding, so fitting the members' "
                     "documents takes a larger one, and the test's documents, which carry the designed number of "
                     "copies, then tip more easily: noise of this kind helps the collective.")
    elif (t["data_source"] == "synthetic").all():
        text += (" A zero-mean error leaves the members' points as dense inside the lower-left quadrant as before, "
                 "except within about one standard deviation of its edges, where they leak out (to x2 > 0 and off the "
                 "square); only errors comparable to the quadrant's size move the threshold.")
    return text


def explain_n2(tables, cfg, result, panels, linear=()) -> str:
    t = levels(tables, panels)
    if t is None:
        return f"The tables of {', '.join(panels)} have no 'noise' column: their signal plants without noise."
    found, level = comparisons(t, cfg["confidence"])
    behind = [f"({p[0]:g}, {p[1]:g})" for p, d in found if d.mean < 0]
    shown = [f"({p[0]:g}, {p[1]:g})" for p, d in found if d.decidable and d.high < 0]
    n = min((d.n for _, d in found), default=0)
    text = (f"Doubling the collective outweighs quadrupling the noise at {len(found) - len(behind)} of the {len(found)} "
            f"pairs of the grid (in the mean). The bigger, noisier collective does worse in the mean at "
            f"{', '.join(behind) or 'none'}, and shown so (each interval at {level:.2%}, n = {n} per cell) at "
            f"{', '.join(shown) or 'none'}. Mean success by alpha at noise "
            f"{_fmt_levels(sorted(t['noise'].unique()))}: {_grid(t)}.")
    if (t["data_source"] == "synthetic").all():
        threshold = bayes_threshold(t)
        text += (f" On 2D the designed signal needs alpha above {threshold:.3g} (Theorem 1's threshold), so a "
                 "collective below it has little to lose and its double crosses the threshold unless the noise spreads "
                 "the members' points over a region as large as the data's (standard deviation near the square's "
                 "half-width).")
        lin = levels(tables, linear) if linear and all(p in tables for p in linear) else None
        if lin is not None:
            m = lin.groupby("noise")["success"].mean()
            fit = lin.assign(learned=lin["learned"].astype(bool)).groupby("noise")["learned"].mean()
            text += (f" Against logistic regression (claim N3, panels {', '.join(linear)}) the mean success over its "
                     "alphas by noise is " + ", ".join(f"{s:g}: {v:.3f}" for s, v in m.items()) + ", while the share "
                     "of its runs that learned their training data is " + ", ".join(f"{s:g}: {v:.0%}" for s, v in
                                                                                   fit.items())
                     + ": where noise raises success there, it does so by making the model give up on the data.")
    elif _tokens(t):
        text += f" What the members planted: {_tokens(t)}."
    return text


# ----------------------------------------------------------------------------- the registry
N_2D = ("noise_2d_0", "noise_2d_01", "noise_2d_02", "noise_2d_04", "noise_2d_08", "noise_2d_16")
N_2D_LINEAR = ("noise_2d_linear_0", "noise_2d_linear_04", "noise_2d_linear_08", "noise_2d_linear_16")
N_TEXT = ("noise_text_0", "noise_text_01", "noise_text_02", "noise_text_04", "noise_text_08")
N_TEXT_POSITION = ("noise_text_position02", "noise_text_0", "noise_text_position08")  # the first names the claim

N1_TEXT = f"{SYNC}: {N1_QUOTE}. At a fixed alpha, success falls as the members' noise rises"
N2_TEXT = (f"{SYNC}: {N2_QUOTE}. At some alpha and noise of the grid, a collective twice as big with four times the noise "
           "is less successful")


def _n1(panels, data, figure):
    return Claim("N1", figure, f"{N1_TEXT}; {data}.", panels, lambda tables, cfg: check_n1(tables, cfg, panels),
                 ("erm",), explain=lambda tables, cfg, result: explain_n1(tables, cfg, result, panels))


def _n2(panels, data, figure, linear=()):
    return Claim("N2", figure, f"{N2_TEXT}; {data}.", panels, lambda tables, cfg: check_n2(tables, cfg, panels),
                 ("erm",), explain=lambda tables, cfg, result: explain_n2(tables, cfg, result, panels, linear))


CLAIMS = (
    _n1(N_2D, "2D data, MLP, each member's Gaussian error (our model)", "noise"),
    _n2(N_2D, "2D data, MLP, each member's Gaussian error (our model)", "noise", N_2D_LINEAR),
    Claim("N3", "noise", "Beyond the paper: against a linear model (logistic regression) on 2D, how the members' "
                         "Gaussian noise moves the collective's success (measured).", N_2D_LINEAR,
          lambda tables, cfg: check_n3(tables, cfg, N_2D_LINEAR), ("erm",)),
    _n1(N_TEXT, "text (STAND-IN unless sources.resumes is the corpus), a wrong token with probability 'noise'",
        "noise_text"),
    _n2(N_TEXT, "text, a wrong token with probability 'noise'", "noise_text"),
    _n1(N_TEXT_POSITION, "text, a wrong first position with probability 'noise'", "noise_text"),
    _n2(N_TEXT_POSITION, "text, a wrong first position with probability 'noise'", "noise_text"),
)
