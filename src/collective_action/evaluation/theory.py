"""The paper's theoretical quantities, computed from data and runs.

- Theorem 1 (Hardt et al. 2023): S >= 1 - (1 - alpha)/alpha * Delta * xi - eps/(1 - eps).
- The uniqueness xi = P0(X*) and the sub-optimality gap
  Delta = max_{x in X*} max_y P0(y|x) - P0(y*|x) of a signal (section 2.1).
- Definition 1 (effective collective size from weights) and Prop 3.2 (JTT's
  alpha_eff from its error rates).
"""
from __future__ import annotations

import numpy as np


def theorem1_bound(alpha, delta: float, xi: float, eps: float = 0.0):
    """Theorem 1's lower bound on success; -inf at alpha = 0 (vacuous)."""
    alpha = np.asarray(alpha, dtype=float)
    if not 0.0 <= eps < 1.0:
        raise ValueError(f"eps must lie in [0, 1), got {eps}")
    with np.errstate(divide="ignore"):
        ratio = np.where(alpha > 0, (1.0 - alpha) / np.where(alpha > 0, alpha, 1.0), np.inf)
    return 1.0 - ratio * delta * xi - eps / (1.0 - eps)


def signal_uniqueness_and_gap(generator, signal) -> tuple[float, float]:
    """(xi, Delta) of ``signal`` under the generator's base distribution P0.

    xi is the P0-mass of the codomain, estimated on the generator's reference
    points (a regular grid for the uniform 2D data, where it is exact), and Delta
    the largest gap max_y P0(y|x) - P0(y*|x) over reference points in the codomain.
    """
    points = generator.reference_points()
    inside = signal.in_codomain(points)
    xi = float(inside.mean())
    if not inside.any():
        return xi, 0.0
    post = generator.posterior(points[inside])
    delta = float(np.nanmax(post.max(axis=1) - post[:, signal.target_label]))
    return xi, delta


def reachable_success(generator, signal) -> float:
    """The success a collective can reach without contradicting clean data.

    Among P0's points whose label is not y*, the fraction whose image g(x) lies where
    no label other than y* has positive density: there the collective's points are
    the only evidence, so a model that fits its training data predicts y*. Elsewhere
    the collective competes with clean points of another label (success then needs a
    large enough alpha, as Theorem 1 says, or a model that ignores that clean signal).
    """
    points = generator.reference_points()
    labels = np.nanargmax(np.nan_to_num(generator.posterior(points), nan=-1.0), axis=1)
    non_target = points[labels != signal.target_label]
    if len(non_target) == 0:
        return float("nan")
    others = np.delete(generator.label_support(signal.apply(non_target)), signal.target_label, axis=1)
    return float((~others.any(axis=1)).mean())


def effective_size(weights: np.ndarray, member: np.ndarray) -> np.ndarray:
    """Definition 1 on a finite training set: sum of the collective's weights over all weights.

    weights, member: [M, n] (or [n]); returns one value per run."""
    weights = np.asarray(weights, dtype=np.float64)
    member = np.asarray(member, dtype=bool)
    return (weights * member).sum(axis=-1) / weights.sum(axis=-1)


def jtt_alpha_eff(alpha, p_error, p_error_given_collective, lam):
    """Prop 3.2: alpha * (lam P_E|C + 1 - P_E|C) / (lam P_E + 1 - P_E)."""
    alpha = np.asarray(alpha, dtype=np.float64)
    pc = np.asarray(p_error_given_collective, dtype=np.float64)
    pe = np.asarray(p_error, dtype=np.float64)
    return alpha * (lam * pc + 1 - pc) / (lam * pe + 1 - pe)


def jtt_effective_size(errors: np.ndarray, member: np.ndarray, lam: float) -> dict[str, np.ndarray]:
    """JTT's error rates and effective size for each run, both ways.

    errors, member: [M, n] booleans (stage-one mistakes, collective membership).
    With no collective (alpha = 0) P_E|C is undefined (NaN) and alpha_eff is 0.
    """
    errors = np.asarray(errors, dtype=bool)
    member = np.asarray(member, dtype=bool)
    alpha = member.mean(axis=1)
    p_e = errors.mean(axis=1)
    n_member = member.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_e_c = np.where(n_member > 0, (errors & member).sum(axis=1) / np.maximum(n_member, 1), np.nan)
    weights = np.where(errors, lam, 1.0)
    by_prop = np.where(n_member > 0, jtt_alpha_eff(alpha, p_e, np.nan_to_num(p_e_c), lam), 0.0)
    return {
        "alpha_realized": alpha,
        "p_error": p_e,
        "p_error_given_collective": p_e_c,
        "alpha_eff": by_prop,
        "alpha_eff_weights": effective_size(weights, member),
    }


# ----------------------------------------------------------------------------- Theorem 2 (section 4.1)
def theorem2_bound(alpha: float, omega: float, surrogate_mass: float, surrogate_gap: float) -> float:
    """Theorem 2 for one surrogate Q0: 1 - omega/(1 - omega) - (1 - alpha)/alpha * Q0(X*) * Delta_Q0."""
    return 1.0 - omega / (1.0 - omega) - (1.0 - alpha) / alpha * surrogate_mass * surrogate_gap


def _codomain_stats(joint: np.ndarray, codomain: np.ndarray, target: int) -> tuple[float, float]:
    """(mass, gap) of a codomain under a discrete joint P(x1, x2, y): P(X*) and
    max over x in X* with P(x) > 0 of max_y P(y|x) - P(y*|x)."""
    px = joint.sum(axis=-1)
    mass = float(px[codomain].sum())
    inside = codomain & (px > 0)
    cond = joint[inside] / px[inside][:, None]
    return mass, float((cond.max(axis=1) - cond[:, target]).max())
