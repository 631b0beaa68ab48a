"""Findings beyond the paper: learners whose effect on a collective the paper names as open
(differential privacy, adversarial robustness), and effective sizes of the reweighting
learners, all on the 2D data of Fig 1b ('learners' panel). The paper makes no claim here,
so the verdict is ``measured``: each row states what was measured."""
from __future__ import annotations

from ..evaluation.stats import contrast_over_cells
from .core import Claim, _alphas, _first_rule, measured, not_run, paired_difference, wide

ORDER = 10
PANEL = "learners"


def _versus_erm(tables, cfg, learner: str):
    table = _first_rule(tables[PANEL])
    algorithms = sorted(set(table.loc[table["learner"] == learner, "algorithm"]))
    if not algorithms or "erm" not in set(table["algorithm"]):
        return not_run(f"no {learner} or no ERM runs in the '{PANEL}' panel")
    parts = []
    for algo in algorithms:
        rows = table[table["algorithm"] == algo]
        text = [f"{algo}"]
        if "epsilon" in rows and rows["epsilon"].notna().any():
            text.append(f"epsilon {rows['epsilon'].mean():.2f} at delta {rows['delta'].mean():.0e}"
                        if "delta" in rows else f"epsilon {rows['epsilon'].mean():.2f}")
        text.append(f"clean accuracy {rows['accuracy'].mean():.3f} (ERM {table.loc[table['algorithm'] == 'erm', 'accuracy'].mean():.3f})")
        for small in (True, False):
            alphas = _alphas(table, cfg, small)
            iv = paired_difference(table, algo, "erm", alphas, cfg["confidence"])
            where = f"alpha<={cfg['small_alpha_max']:g}" if small else f"alpha>={cfg['large_alpha_min']:g}"
            text.append(f"success minus ERM's at {where} (paired by seed): {iv.text()}")
        means = rows.groupby("alpha")["success"].mean()
        text.append("mean success by alpha: " + ", ".join(f"{a:g}: {v:.2f}" for a, v in means.items()))
        parts.append("; ".join(text))
    return measured(" || ".join(parts))


def check_dp_sgd(tables, cfg):
    return _versus_erm(tables, cfg, "dp_sgd")


def check_adversarial(tables, cfg):
    return _versus_erm(tables, cfg, "adversarial")


def check_effective_sizes(tables, cfg):
    table = _first_rule(tables[PANEL])
    parts = []
    for algo in ("jtt", "lff", "cvar_dro"):
        rows = table[(table["algorithm"] == algo) & (table["alpha"] > 0)]
        if rows.empty or rows["alpha_eff_weights"].isna().all():
            continue
        text = [algo]
        for small in (True, False):
            alphas = _alphas(rows, cfg, small)
            excess = rows[rows["alpha"].isin(alphas)].assign(x=lambda r: r["alpha_eff_weights"] - r["alpha_realized"])
            iv = contrast_over_cells(wide(excess, "x"), None, cfg["confidence"], "Student t, mean over alphas")
            where = f"alpha<={cfg['small_alpha_max']:g}" if small else f"alpha>={cfg['large_alpha_min']:g}"
            text.append(f"alpha_eff - alpha at {where}: {iv.text()}")
        parts.append("; ".join(text))
    if not parts:
        return not_run(f"no reweighting learner in the '{PANEL}' panel")
    return measured(" || ".join(parts) + " (effective size from each learner's weights, Definition 1)")


CLAIMS = (
    Claim("L1", "learners", "Differential privacy (DP-SGD) and the collective: success against DP-SGD at each privacy "
                            "level, paired with ERM's on the same collectives (not in the paper).", (PANEL,),
          check_dp_sgd, ("dp_sgd", "erm"), "both"),
    Claim("L2", "learners", "Adversarial robustness (PGD adversarial training) and the collective: success at each "
                            "radius, paired with ERM's on the same collectives (not in the paper).", (PANEL,),
          check_adversarial, ("adversarial", "erm"), "both"),
    Claim("L3", "learners", "Effective collective size under the learners that reweight (JTT, LfF, CVaR-DRO), measured "
                            "from their weights (Definition 1), against alpha.", (PANEL,), check_effective_sizes,
          ("jtt", "lff", "cvar_dro"), "both"),
)
