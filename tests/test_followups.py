"""The follow-up literature's claims (S1, S2, W1, K1-K3) on synthetic tables whose answer is known."""
from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
import pytest

from collective_action.claims import core, followups

CFG = {"confidence": 0.95, "trend_margin": 0.05, "equivalence_margin": 0.05}
ALPHAS = (0.05, 0.1, 0.2, 0.3, 0.4)


def _rows(algorithm, learner, success, seeds=6, noise=0.02, **extra):
    r = np.random.default_rng(zlib.crc32(f"{algorithm}/{learner}".encode()))
    return [dict(panel="p", dataset="2d", algorithm=algorithm, learner=learner, alpha=a, alpha_val=0.0, seed=s,
                 stopping="last", success=float(np.clip(success(a) + r.normal(0, noise), 0, 1)), accuracy=0.9,
                 learned=True, **extra) for a in ALPHAS for s in range(seeds)]


def _privacy(success_of_sigma):
    rows = _rows("erm", "erm", lambda a: success_of_sigma(0.0, a))
    for eps, sigma in ((8.0, 0.6), (1.0, 1.5), (0.5, 2.5)):
        rows += _rows(f"dp_{eps:g}", "dp_sgd", lambda a, s=sigma: success_of_sigma(s, a), epsilon=eps,
                      noise_multiplier=sigma, clip_norm=1.0)
    return pd.DataFrame(rows)


def test_s1_reproduced_when_noise_delays_the_collective():
    table = _privacy(lambda sigma, a: float(a > 0.1 + 0.1 * sigma))  # the needed alpha grows with sigma
    r = followups.check_s1({"privacy": table}, CFG, "privacy")
    assert r.verdict == core.REPRODUCED and r.effect.low > 0, r.measured


def test_s1_not_reproduced_when_noise_helps_the_collective():
    table = _privacy(lambda sigma, a: float(a > 0.35 - 0.1 * sigma))  # our 2D finding: more success with noise
    r = followups.check_s1({"privacy": table}, CFG, "privacy")
    assert r.verdict == core.NOT_REPRODUCED and "the interval lies on the other side" in r.measured


def test_s2_is_measured_per_clipping_norm():
    table = _privacy(lambda sigma, a: 0.5)
    r = followups.check_s2({"privacy_clip": table}, CFG, "privacy_clip")
    assert r.verdict == core.MEASURED and "C = 1" in r.measured


def _adversarial(success_of_radius, size=2.0):
    rows = _rows("erm", "erm", lambda a: success_of_radius(0.0), signal_linf=size, signal_linf_max=size)
    for radius in (1.0, 2.0, 4.0, 8.0):
        rows += _rows(f"adv_{radius:g}", "adversarial", lambda a, r=radius: success_of_radius(r), radius=radius,
                      signal_linf=size, signal_linf_max=size)
    return pd.DataFrame(rows)


def test_w1_reproduced_when_success_rises_below_the_signal_and_falls_above():
    table = _adversarial(lambda r: {0.0: 0.3, 1.0: 0.5, 2.0: 0.6, 4.0: 0.1, 8.0: 0.0}[r])
    r = followups.check_w1({"adv": table}, CFG, "adv")
    assert r.verdict == core.REPRODUCED and r.effect.mean == pytest.approx(0.3, abs=0.03), r.measured
    assert "by 2 on average" in r.measured


def test_w1_not_reproduced_when_adversarial_training_only_removes_the_signal():
    table = _adversarial(lambda r: {0.0: 0.6, 1.0: 0.4, 2.0: 0.3, 4.0: 0.1, 8.0: 0.0}[r])
    assert followups.check_w1({"adv": table}, CFG, "adv").verdict == core.NOT_REPRODUCED


def _two(beside_1, beside_2, alone_1, alone_2):
    two = pd.DataFrame(_rows("erm", "erm", beside_1))
    two["success_2"] = pd.DataFrame(_rows("erm2", "erm", beside_2))["success"].values
    return {"two": two, "alone_1": pd.DataFrame(_rows("erm", "erm", alone_1)),
            "alone_2": pd.DataFrame(_rows("erm", "erm", alone_2))}


def test_k1_needs_both_collectives_to_lose():
    tables = _two(lambda a: 0.1, lambda a: 0.1, lambda a: 0.6, lambda a: 0.6)
    assert followups.check_k1(tables, CFG, "two", "alone_1", "alone_2").verdict == core.REPRODUCED
    tables = _two(lambda a: 0.1, lambda a: 0.6, lambda a: 0.6, lambda a: 0.6)
    assert followups.check_k1(tables, CFG, "two", "alone_1", "alone_2").verdict == core.NOT_REPRODUCED


def test_k2_holds_when_neither_loses_and_fails_when_one_does():
    tables = _two(lambda a: 0.7, lambda a: 0.6, lambda a: 0.6, lambda a: 0.6)  # a gain loses nothing
    assert followups.check_k2(tables, CFG, "two", "alone_1", "alone_2").verdict == core.REPRODUCED
    tables = _two(lambda a: 0.3, lambda a: 0.6, lambda a: 0.6, lambda a: 0.6)
    assert followups.check_k2(tables, CFG, "two", "alone_1", "alone_2").verdict == core.NOT_REPRODUCED


def test_k3_compares_the_interaction_of_the_two_models():
    strong = _two(lambda a: 0.1, lambda a: 0.1, lambda a: 0.7, lambda a: 0.7)
    muted = _two(lambda a: 0.3, lambda a: 0.3, lambda a: 0.35, lambda a: 0.35)
    tables = {**strong, **{f"{k}_lin": v for k, v in muted.items()}}
    design = (("two", "alone_1", "alone_2"), ("two_lin", "alone_1_lin", "alone_2_lin"))
    r = followups.check_k3(tables, CFG, [design])
    # the debiased squared interaction: 0.6^2 (MLP: 0.1 beside, 0.7 alone) - 0.05^2 (linear)
    assert r.verdict == core.REPRODUCED and r.effect.mean == pytest.approx(0.36 - 0.0025, abs=0.02), r.measured
    reverse = {**muted, **{f"{k}_lin": v for k, v in strong.items()}}
    assert followups.check_k3(reverse, CFG, [design]).verdict == core.NOT_REPRODUCED


def test_every_follow_up_claim_names_its_paper():
    rows = [c for c in followups.CLAIMS]
    assert {c.id for c in rows} == {"S1", "S2", "W1", "K1", "K2", "K3"}
    for claim in rows:
        assert any(name in claim.statement for name in ("Solanki", "Weng", "Karan")), claim.key
    keys = [c.key for c in rows]
    assert len(keys) == len(set(keys))
