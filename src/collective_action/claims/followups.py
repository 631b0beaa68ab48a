"""The follow-up literature's claims, checked on our panels (on request: config.followups.yaml lists them).

- S1, S2: Solanki, Bhange, Aivodji, Creager, "Crowding Out The Noise: Algorithmic Collective Action Under
  Differential Privacy" (arXiv 2505.05707). Abstract: "while differential privacy contributes to the protection
  of individual data, it introduces challenges for effective algorithmic collective action" (v1); their section
  4.3 (as quoted in secondary notes; we could not read the body): "As the privacy loss decreases (corresponding
  to higher privacy), the critical mass required for the success increases". Their bound's noise term is
  linear in sigma C, and the clipping norm C enters twice (section 3: "determined by the interplay between
  these competing influences"), so S2 is measured, not judged.
- W1: Weng, Lee, Wu, "On the Trade-off between Adversarial and Backdoor Robustness" (NeurIPS 2020): "by
  increasing the robustness of a network to adversarial examples, the network becomes more vulnerable to
  backdoor attacks" (abstract), all with budgets far below their triggers' size; and the follow-up finding
  (anonymous ICLR 2022 submission, "Does Adversarial Robustness Really Imply Backdoor Vulnerability?"): "an
  adversarially trained model is capable of achieving backdoor robustness as long as the perturbation budget
  surpasses the trigger magnitude". Together: success rises for radii below the signal's size, falls above it.
- K1-K3: Karan, Vincent, Karahalios, Sundaram, "Algorithmic Collective Action with Two Collectives" (FAccT 2025,
  arXiv 2505.00195), section 5.1: "in direct confrontation (using the same strategy but targeting different
  classes) ... collectives both lose some efficacy" (K1); "In the case where they both target the same class
  but employ different strategies, there is not a noticeable loss in performance" (K2); section 5.3 and
  appendix A: "a collective in the linear case had a relatively smooth, muted impact" and "The interaction
  effect (solid lines) is more muted than in the nonlinear cases" (K3; their linear case is logistic
  regression on Adult with label flips, a different design from ours). Their collectives have equal sizes
  (figure 3), as ours do (``collective_2.alpha_ratio: 1``).

Verdicts are per dataset (2D, text, images), each row naming its data.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..stats import t_interval, welch_interval
from .collectives import crossing
from .core import (
    MEASURED,
    NOT_REPRODUCED,
    NOT_RUN,
    REPRODUCED,
    Claim,
    Effect,
    _first_rule,
    _fmt_ci,
    trend_effect,
    trend_over_k,
)

ORDER = 30
CROSSING_SLACK = 0.02  # "rises as epsilon falls": no level reaches 0.5 earlier than a weaker one by more than this
SOLANKI = "Solanki et al. 2025 (arXiv 2505.05707)"
WENG = "Weng et al. 2020 (NeurIPS) and its follow-up (ICLR 2022 submission)"
KARAN = "Karan et al. 2025 (FAccT, arXiv 2505.00195)"


def _by_alpha(rows: pd.DataFrame, value: str = "success") -> str:
    return ", ".join(f"{a:g}: {v:.2f}" for a, v in rows.groupby("alpha")[value].mean().items())


# ----------------------------------------------------------------------------- S1, S2: differential privacy
def _privacy_levels(t: pd.DataFrame) -> pd.DataFrame:
    """ERM and DP-SGD rows with their noise multiplier sigma (ERM: 0) and epsilon (ERM: infinite)."""
    rows = t[t["learner"].isin(["erm", "dp_sgd"])].copy()
    dp = rows["learner"] == "dp_sgd"
    rows["sigma"] = np.where(dp, rows.get("noise_multiplier", np.nan), 0.0)
    rows["epsilon"] = np.where(dp, rows.get("epsilon", np.nan), np.inf)
    return rows


def check_s1(tables, cfg, panel):
    t = _privacy_levels(_first_rule(tables[panel]))
    if not {"erm", "dp_sgd"} <= set(t["learner"]) or t.loc[t["learner"] == "dp_sgd", "algorithm"].nunique() < 2:
        return f"needs ERM and DP-SGD at two privacy levels or more in '{panel}'", NOT_RUN
    alphas = sorted(a for a in t["alpha"].unique() if a > 0)
    trend, falls = trend_over_k(t, "success", alphas, cfg["confidence"], by="sigma", direction=-1)
    levels = t.groupby("algorithm").agg(sigma=("sigma", "mean"), epsilon=("epsilon", "mean"),
                                        accuracy=("accuracy", "mean")).sort_values("sigma")
    needed = {a: crossing(t[t["algorithm"] == a].groupby("alpha")["success"].mean().sort_index()) for a in levels.index}
    ordered = [np.inf if not np.isfinite(needed[a]) else needed[a] for a in levels.index]  # never: infinitely late
    rises = all(b >= a - CROSSING_SLACK for a, b in zip(ordered, ordered[1:]))
    parts = [f"{a}: epsilon {r['epsilon']:.2g}, sigma {r['sigma']:.3g}, clean accuracy {r['accuracy']:.3f}, "
             f"success reaches 0.5 at alpha={needed[a]:.3g}, mean success by alpha {_by_alpha(t[t['algorithm'] == a])}"
             for a, r in levels.iterrows()]
    verdict = REPRODUCED if falls and rises else NOT_REPRODUCED
    measured = (f"{SOLANKI}. Success against the noise multiplier sigma (ERM: sigma 0), mean over alpha: {trend}. "
                f"The alpha at which mean success first reaches 0.5 (interpolated) "
                f"{'never falls' if rises else 'falls somewhere'} as epsilon falls (by more than {CROSSING_SLACK:g})"
                f". || " + " || ".join(parts))
    return measured, verdict, trend_effect(t, "success", alphas, cfg["confidence"], by="sigma", direction=-1)


def check_s2(tables, cfg, panel):
    t = _privacy_levels(_first_rule(tables[panel]))
    dp = t[t["learner"] == "dp_sgd"]
    if dp.empty or "clip_norm" not in dp:
        return f"no DP-SGD runs in '{panel}'", NOT_RUN
    erm = t[t["learner"] == "erm"]
    parts = []
    for algo, g in dp.groupby("algorithm"):
        per_seed = g.groupby("seed")["success"].mean()
        vs_erm = welch_interval(per_seed, erm.groupby("seed")["success"].mean(), cfg["confidence"]) if len(erm) else None
        parts.append(f"{algo} (C = {g['clip_norm'].mean():g}, sigma {g['sigma'].mean():.3g}, epsilon "
                     f"{g['epsilon'].mean():.2g}): clean accuracy {g['accuracy'].mean():.3f}, mean success by alpha "
                     f"{_by_alpha(g)}" + (f"; minus ERM's, mean over alpha: {_fmt_ci(vs_erm)}" if vs_erm else ""))
    return (f"{SOLANKI} find C's effect ambiguous (it helps their bound's first term and scales its noise term). "
            + " || ".join(parts), MEASURED)


# ----------------------------------------------------------------------------- W1: adversarial training
def check_w1(tables, cfg, panel):
    t = _first_rule(tables[panel])
    rows = t[t["learner"].isin(["erm", "adversarial"])].copy()
    if "radius" not in rows or rows.loc[rows["learner"] == "adversarial", "radius"].nunique() < 2 or \
            "erm" not in set(rows["learner"]):
        return f"needs ERM and adversarial training at two radii or more in '{panel}'", NOT_RUN
    rows["radius"] = np.where(rows["learner"] == "erm", 0.0, rows["radius"])
    size = float(rows.loc[rows["alpha"] > 0, "signal_linf"].mean())
    top = float(rows.loc[rows["alpha"] > 0, "signal_linf_max"].max())
    per_seed = rows.groupby(["radius", "seed"])["success"].mean().unstack("radius")  # seed x radius, mean over alpha
    radii = sorted(per_seed.columns)
    below = [r for r in radii if 0 < r <= size * (1 + 1e-9)]
    above = [r for r in radii if r > size * (1 + 1e-9)]
    if not below or not above:
        return (f"needs radii on both sides of the signal's size ({size:.3g}; radii {radii})", NOT_RUN)
    best = max(below, key=lambda r: per_seed[r].mean())
    rise = t_interval((per_seed[best] - per_seed[0.0]).dropna(), cfg["confidence"])
    fall = t_interval((per_seed[radii[-1]] - per_seed[best]).dropna(), cfg["confidence"])
    accuracy = rows.groupby("radius")["accuracy"].mean()
    means = ", ".join(f"{r:g} ({r / size:.2g}x): {per_seed[r].mean():.3f} (accuracy {accuracy[r]:.3f})" for r in radii)
    measured = (f"{WENG}. The signal moves a collective member by {size:.3g} on average in l-infinity (at most "
                f"{top:.3g}) on the stored scale. Mean success over alpha ({_alphas_text(rows)}) by radius (radius / "
                f"that mean size): {means}. Below the size, the best radius ({best:g}) minus ERM (paired by seed): "
                f"{_fmt_ci(rise)}; the largest radius ({radii[-1]:g}) minus it: {_fmt_ci(fall)}")
    ok = rise[1] > 0 and fall[2] < 0
    return measured, REPRODUCED if ok else NOT_REPRODUCED, Effect.of(
        f"success at radius {best:g} (below the signal's size) minus ERM's", rise)


def _alphas_text(rows) -> str:
    return ", ".join(f"{a:g}" for a in sorted(rows["alpha"].unique()))


# ----------------------------------------------------------------------------- K1-K3: two collectives
def _beside_vs_alone(tables, cfg, two: str, alone_1: str, alone_2: str):
    """Each collective's success beside the other (equal sizes) minus alone at the same size: per collective,
    the Welch interval of the per-seed mean over the alphas both panels have (alpha > 0), and the means."""
    t = _first_rule(tables[two])
    t = t[t["learner"] == "erm"]
    out = []
    for value, alone in (("success", alone_1), ("success_2", alone_2)):
        a = _first_rule(tables[alone])
        a = a[a["learner"] == "erm"]
        alphas = sorted(set(t["alpha"]) & set(a["alpha"]) - {0.0})
        beside = t[t["alpha"].isin(alphas)]
        alone_rows = a[a["alpha"].isin(alphas)]
        ci = welch_interval(beside.groupby("seed")[value].mean(), alone_rows.groupby("seed")["success"].mean(),
                            cfg["confidence"])
        out.append({"value": value, "ci": ci, "alphas": alphas,
                    "beside": beside.groupby("alpha")[value].mean(), "alone": alone_rows.groupby("alpha")["success"].mean()})
    return out


def _describe(parts, names=("collective 1", "collective 2")) -> str:
    return " || ".join(f"{name}: beside minus alone, mean over alpha in {{{', '.join(f'{a:g}' for a in p['alphas'])}}}: "
                       f"{_fmt_ci(p['ci'])}; beside " + ", ".join(f"{a:g}: {v:.2f}" for a, v in p["beside"].items())
                       + "; alone " + ", ".join(f"{a:g}: {v:.2f}" for a, v in p["alone"].items())
                       for name, p in zip(names, parts))


def check_k1(tables, cfg, two, alone_1, alone_2):
    parts = _beside_vs_alone(tables, cfg, two, alone_1, alone_2)
    ok = all(p["ci"][2] < 0 for p in parts)
    worst = max(parts, key=lambda p: p["ci"][0])
    return (f"{KARAN}: the same signal, different targets, equal sizes. " + _describe(parts),
            REPRODUCED if ok else NOT_REPRODUCED, Effect.of("success beside the other minus alone, the collective that "
                                                            "loses least", worst["ci"]))


def check_k2(tables, cfg, two, alone_1, alone_2):
    parts = _beside_vs_alone(tables, cfg, two, alone_1, alone_2)
    ok = not any(p["ci"][2] < 0 for p in parts)  # "lose nothing": no significant loss for either
    worst = min(parts, key=lambda p: p["ci"][0])
    return (f"{KARAN}: different signals, the same target, equal sizes. " + _describe(parts),
            REPRODUCED if ok else NOT_REPRODUCED, Effect.of("success beside the other minus alone, the collective that "
                                                            "fares worst", worst["ci"]))


def _interaction_arrays(tables, two, alone_1, alone_2) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per collective, (beside, alone) success as alpha x seed arrays over the alphas both panels have (alpha > 0)."""
    t = _first_rule(tables[two])
    out = []
    for value, alone in (("success", alone_1), ("success_2", alone_2)):
        beside = t.pivot_table(index="alpha", columns="seed", values=value)
        alone_w = _first_rule(tables[alone]).pivot_table(index="alpha", columns="seed", values="success")
        alphas = sorted(set(beside.index) & set(alone_w.index) - {0.0})
        out.append((beside.loc[alphas].to_numpy(), alone_w.loc[alphas].to_numpy()))
    return out


def _interaction(arrays, draws=None) -> float:
    """Mean over both collectives and the common alphas of |mean success beside - mean success alone|; with
    ``draws`` (a generator), each table's seeds resampled with replacement first."""
    total, n = 0.0, 0
    for b, s in arrays:
        if draws is not None:
            b = b[:, draws.integers(0, b.shape[1], b.shape[1])]
            s = s[:, draws.integers(0, s.shape[1], s.shape[1])]
        total += float(np.abs(np.nanmean(b, axis=1) - np.nanmean(s, axis=1)).sum())
        n += len(b)
    return total / max(n, 1)


def check_k3(tables, cfg, designs):
    """``designs``: ((two, alone_1, alone_2) with the MLP, the same with the linear model), one per design."""
    draws = np.random.default_rng(20250501)
    point, boots, parts = 0.0, np.zeros(2000), []
    for mlp, linear in designs:
        a_mlp, a_lin = _interaction_arrays(tables, *mlp), _interaction_arrays(tables, *linear)
        i_mlp, i_lin = _interaction(a_mlp), _interaction(a_lin)
        parts.append(f"{mlp[0]}: MLP {i_mlp:.3f}, linear {i_lin:.3f}")
        point += i_mlp - i_lin
        boots += np.array([_interaction(a_mlp, draws) - _interaction(a_lin, draws) for _ in range(len(boots))])
    tail = (1 - cfg["confidence"]) / 2 * 100
    ci = (point, float(np.percentile(boots, tail)), float(np.percentile(boots, 100 - tail)))
    return (f"{KARAN}: interaction = mean over both collectives and alpha of |success beside the other - success "
            f"alone|; " + "; ".join(parts) + f". MLP minus linear, summed over the designs, with a {cfg['confidence']:.0%} "
            f"bootstrap interval over seeds: {_fmt_ci(ci)}. (Their linear case is logistic regression on Adult with "
            "label flips; ours is the same planted signals with a model without hidden layer.)",
            REPRODUCED if ci[1] > 0 else NOT_REPRODUCED, Effect.of("interaction, MLP minus linear", ci))


# ----------------------------------------------------------------------------- the registry
def _s1(panel, data):
    return Claim("S1", f"followup_privacy{'' if data == '2D data' else '_text'}",
                 f"{SOLANKI}: stronger privacy makes collective action harder: at a fixed alpha success falls as "
                 f"DP-SGD's noise multiplier rises, and the alpha at which success first reaches 0.5 rises as epsilon "
                 f"falls; {data}.", (panel,), lambda tables, cfg: check_s1(tables, cfg, panel), ("erm", "dp_sgd"))


def _s2(panel, data):
    return Claim("S2", f"followup_privacy{'' if data == '2D data' else '_text'}",
                 f"{SOLANKI}: the clipping norm C's effect on success at epsilon 1 (they find it ambiguous; measured); "
                 f"{data}.", (panel,), lambda tables, cfg: check_s2(tables, cfg, panel), ("erm", "dp_sgd"))


def _w1(panel, data, figure="followup_adversarial"):
    return Claim("W1", figure, f"{WENG}: against PGD adversarial training, success rises for radii below the signal's "
                               f"own size (the l-infinity norm of g(x) - x) and falls above it; {data}.", (panel,),
                 lambda tables, cfg: check_w1(tables, cfg, panel), ("erm", "adversarial"))


def _k(cid, check, text, panels, data, figure="followup_collectives"):
    return Claim(cid, figure, f"{KARAN}: {text}; {data}.", panels, lambda tables, cfg: check(tables, cfg, *panels),
                 ("erm",))


K1_TEXT = "two collectives of equal size with the same signal and different targets both lose success against each alone"
K2_TEXT = "two collectives of equal size with different signals and the same target lose nothing against each alone"
K_2D = {"same": ("collectives_same", "alone", "alone_same_2"), "diff": ("collectives_diff", "alone", "alone_diff_2")}
K_LINEAR = {"same": ("collectives_same_linear", "alone_linear", "alone_same_2_linear"),
            "diff": ("collectives_diff_linear", "alone_linear", "alone_diff_2_linear")}
K_TEXT = {"same": ("collectives_same_text", "text_alpha", "alone_same_2_text"),
          "diff": ("collectives_diff_text", "text_alpha", "alone_diff_2_text")}

CLAIMS = (
    _s1("privacy", "2D data"),
    _s1("privacy_text", "text (STAND-IN unless sources.resumes is the corpus)"),
    _s2("privacy_clip", "2D data"),
    _s2("privacy_clip_text", "text"),
    _w1("adversarial_radius", "2D data"),
    _w1("adversarial_fashion", "Fashion-MNIST (not the paper's dataset), the +2 pixel grid", "followup_adversarial_images"),
    _w1("adversarial_cifar", "CIFAR-10, the +2 pixel grid", "followup_adversarial_images"),
    _k("K1", check_k1, K1_TEXT, K_2D["same"], "2D data, MLP"),
    _k("K2", check_k2, K2_TEXT, K_2D["diff"], "2D data, MLP"),
    _k("K1", check_k1, K1_TEXT, K_TEXT["same"], "text", "followup_collectives_text"),
    _k("K2", check_k2, K2_TEXT, K_TEXT["diff"], "text", "followup_collectives_text"),
    Claim("K3", "followup_collectives", f"{KARAN}: the interaction of two collectives is muted for a linear model "
                                        f"(logistic regression: no hidden layer) compared with a nonlinear one (the MLP); "
                                        f"2D data, both designs of K1 and K2.",
          tuple(dict.fromkeys(p for d in ("same", "diff") for p in (*K_2D[d], *K_LINEAR[d]))),
          lambda tables, cfg: check_k3(tables, cfg, [(K_2D[d], K_LINEAR[d]) for d in ("same", "diff")]), ("erm",)),
)
