"""Coordination noise (Karan et al. 2025, 'Sync or Sink'): the noisy signals (what members plant against the designed
signal, noise 0 exactly the designed one, errors at the configured rate and deterministic given the stream), bad
input named before any job, the claims N1-N3 on tables whose answer is known, and the atlas over the noise built
end to end at toy scale."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from collective_action import store
from collective_action.claims import core, noise
from collective_action.configuration import validation as cfgmod
from collective_action.datasets import text_sources as ts
from collective_action.signals import make_signal
from conftest import SCHEMA, copy_workflow, tiny_config
from test_workflow import snakemake

CFG = {"confidence": 0.95, "trend_margin": 0.05, "equivalence_margin": 0.05}


# ----------------------------------------------------------------------------- the 2D signal
def _points(n=4000, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 2)).astype(np.float32)


def test_2d_noise_0_plants_the_designed_signal_exactly():
    x = _points()
    noisy = make_signal({"kind": "reflect_x2_negative_noisy", "noise": 0.0, "target_label": 1})
    designed = make_signal({"kind": "reflect_x2_negative", "target_label": 1})
    assert np.array_equal(noisy.apply(x), designed.apply(x))
    planted = noisy.plant(x, np.random.default_rng(1))
    assert planted.dtype == x.dtype and np.array_equal(planted, designed.apply(x))
    assert np.array_equal(noisy.plant(x), designed.apply(x))  # no stream needed without noise


def test_2d_members_plant_g_plus_their_own_gaussian_error():
    x = _points(20000)
    signal = make_signal({"kind": "reflect_x2_negative_noisy", "noise": 0.3, "target_label": 1})
    planted = signal.plant(x, np.random.default_rng(7))
    error = planted.astype(np.float64) - signal.apply(x)
    assert np.allclose(error.mean(axis=0), 0, atol=0.01) and np.allclose(error.std(axis=0), 0.3, rtol=0.03)
    assert abs(np.corrcoef(error.T)[0, 1]) < 0.03  # isotropic, independent coordinates
    assert (planted[:, 1] > 0).any() and (np.abs(planted) > 1).any()  # not clipped to the square
    assert np.array_equal(planted, signal.plant(x, np.random.default_rng(7)))  # deterministic given the stream
    # one stream: the errors at two levels are proportional (common random numbers)
    double = replace(signal, noise=0.6).plant(x, np.random.default_rng(7)).astype(np.float64) - signal.apply(x)
    assert np.allclose(double, 2 * error, atol=1e-5)
    diag = signal.diagnostics(x[:100], None, planted[:100], 4000, 4000)
    assert diag["noise"] == 0.3 and diag["plant_error"] == pytest.approx(0.3 * np.sqrt(np.pi / 2), rel=0.25)
    with pytest.raises(ValueError, match="needs the members' random stream"):
        signal.plant(x)


# ----------------------------------------------------------------------------- the text signal
VOCAB = ["<pad>", "<unk>", *[f"w{i}" for i in range(60)], "zqx"]


def _docs(n=20000, seed=0, length=32):
    r = np.random.default_rng(seed)
    x = r.integers(2, len(VOCAB) - 1, size=(n, length))
    words = r.integers(3, 20, size=n)  # 3 to 19 words, then padding
    x[np.arange(length)[None, :] >= words[:, None]] = 0
    return x


def _text_signal(noise, error="token", every=5, start=0):
    data = {"vocab": ts.vocab_array(VOCAB), "train/x": _docs(4)}
    return make_signal({"kind": "token_insert_noisy", "token": "zqx", "every": every, "start": start, "noise": noise,
                        "error": error, "target_label": 0}, data)


def test_text_noise_0_plants_the_designed_insertion_exactly():
    x = _docs(500)
    designed = make_signal({"kind": "token_insert", "token": "zqx", "every": 5, "start": 0, "target_label": 0},
                           {"vocab": ts.vocab_array(VOCAB), "train/x": x})
    for error in ("token", "position"):
        signal = _text_signal(0.0, error)
        assert signal.vocab_size == len(VOCAB) and signal.token_id == VOCAB.index("zqx")
        assert np.array_equal(signal.apply(x), designed.apply(x))
        assert np.array_equal(signal.plant(x, np.random.default_rng(3)), designed.apply(x))


@pytest.mark.parametrize("error", ["token", "position"])
def test_text_errors_happen_at_the_configured_rate_and_are_deterministic(error):
    x, p = _docs(), 0.3
    signal = _text_signal(p, error)
    designed, planted = signal.apply(x), signal.plant(x, np.random.default_rng(11))
    assert planted.shape == x.shape and planted.dtype == x.dtype
    wrong = (planted != designed).any(axis=1)
    n = len(x)
    assert abs(wrong.mean() - p) < 4 * np.sqrt(p * (1 - p) / n), wrong.mean()  # every drawn error shows
    assert np.array_equal(planted, signal.plant(x, np.random.default_rng(11)))
    assert not np.array_equal(planted, signal.plant(x, np.random.default_rng(12)))
    token = signal.token_id
    has_token = (planted[wrong] == token).any(axis=1)
    if error == "token":  # a wrong word in the designed places, one per member, never PAD, UNK or the token
        assert not has_token.any()
        at = designed[wrong] == token
        used = np.where(at, planted[wrong], -1)
        assert np.array_equal(planted[wrong][~at], designed[wrong][~at])
        per_member = [set(row[row >= 0]) for row in used]
        assert all(len(s) == 1 for s in per_member)
        ids = np.array([s.pop() for s in per_member])
        assert ids.min() >= 2 and ids.max() <= len(VOCAB) - 1 and not (ids == token).any()
        assert len(np.unique(ids)) > 50  # members do not agree on their mistake
    else:  # the right token, from another first position; the words in their order
        assert has_token.all()
        words = [row[(row != 0) & (row != token)] for row in planted[wrong][:200]]
        originals = [row[row != 0] for row in x[wrong][:200]]
        assert all(np.array_equal(w, o[:len(w)]) for w, o in zip(words, originals))
    # one stream: the members who err at a lower noise also err at a higher one
    more = (replace(signal, noise=0.8).plant(x, np.random.default_rng(11)) != designed).any(axis=1)
    assert (more | ~wrong).all() and more.mean() > wrong.mean()
    diag = signal.diagnostics(x, None, planted, n, n)
    assert diag["noise"] == p and diag["plant_error"] == pytest.approx(wrong.mean())
    assert diag["token_share"] == pytest.approx(1 - wrong.mean() if error == "token" else 1.0)
    assert diag["designed_tokens"] > diag["planted_tokens"]


# ----------------------------------------------------------------------------- bad input, before any job
@pytest.fixture(scope="module")
def base(repo_config) -> dict:
    return json.loads(json.dumps(repo_config))


@pytest.mark.parametrize("key, value, phrase", [
    ("datasets.2d_noise01.signal.noise", -0.1, "must be >= 0"),
    ("datasets.resumes_noise01.signal.noise", -0.1, "must be >= 0"),
    ("datasets.resumes_noise01.signal.noise", 1.5, "must be <= 1"),
    ("datasets.resumes_noise01.signal.error", "spelling", "must be one of 'token', 'position'"),
    ("datasets.2d_noise01.signal.error", "token", "unknown key"),
])
def test_bad_noise_is_one_error_naming_the_key(base, key, value, phrase, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no 'validated' marker in the repository
    cfg = copy.deepcopy(base)
    *parents, last = key.split(".")
    node = cfg
    for part in parents:
        node = node[part]
    node[last] = value
    with pytest.raises(cfgmod.ConfigError) as err:
        cfgmod.validate(cfg, cfgmod.load_schema(SCHEMA))
    assert str(err.value).startswith(f"config key '{key}': ") and phrase in str(err.value), str(err.value)


def test_negative_noise_stops_the_real_command_before_any_job(tmp_path, repo_config):
    cfg = json.loads(json.dumps(tiny_config(repo_config)))
    cfg["datasets"]["2d_noise04"]["signal"]["noise"] = -0.4
    copy_workflow(tmp_path, cfg)
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", "results/claims/noise.csv"],
                          cwd=tmp_path, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "config key 'datasets.2d_noise04.signal.noise': " in out, out[-2000:]
    assert "must be >= 0" in out
    for folder in ("results", "figures", "logs"):
        assert not (tmp_path / folder).exists(), folder


# ----------------------------------------------------------------------------- the claims on known tables
ALPHAS = (0.2, 0.3, 0.4, 0.5, 0.6)
LEVELS = (0.0, 0.1, 0.2, 0.4, 0.8, 1.6)


def _tables(success, levels=LEVELS, alphas=ALPHAS, seeds=6, spread=0.02, source="synthetic"):
    """One panel per noise level: success(alpha, noise) plus a little seed noise, as the noise study's tables."""
    tables = {}
    for s in levels:
        r = np.random.default_rng(int(s * 1000) + 1)
        rows = [dict(panel=f"p{s:g}", dataset=f"d{s:g}", data_source=source, algorithm="erm", learner="erm",
                     alpha=a, alpha_val=0.0, seed=i, stopping="last", learned=True, accuracy=0.9, noise=s,
                     xi=0.5 if source == "synthetic" else 0.0, delta=1.0,
                     success=float(np.clip(success(a, s) + r.normal(0, spread), 0, 1)))
                for a in alphas for i in range(seeds)]
        tables[f"p{s:g}"] = pd.DataFrame(rows)
    return tables


def _sink(a, s):  # a collective above the threshold 1/3 that noise sinks
    return float(np.clip((a - 1 / 3) * 6, 0, 1)) / (1 + 4 * s)


def test_n1_reproduced_when_noise_sinks_the_collective(tmp_path):
    tables = _tables(_sink)
    r = noise.check_n1(tables, CFG, list(tables))
    assert r.verdict == core.REPRODUCED and r.effect.low > 0, r.measured
    assert "alphas above the designed signal's threshold 0.333" in r.measured  # 1/3: xi 0.5, Delta 1
    assert "{0.4, 0.5, 0.6}" in r.measured


def test_n1_not_reproduced_when_noise_helps():
    tables = _tables(lambda a, s: min(1.0, 0.5 + 0.3 * s))
    r = noise.check_n1(tables, CFG, list(tables))
    assert r.verdict == core.NOT_REPRODUCED and "the interval lies on the other side" in r.measured
    claim = noise._n1(tuple(tables), "test", "noise")
    row = core.evaluate(claim, tables, CFG)
    assert row["verdict"] == core.NOT_REPRODUCED and "Mean success by alpha at noise" in row["explanation"]


def test_n1_on_text_explains_a_wrong_position_by_the_copies_planted():
    tables = _tables(lambda a, s: 0.5 + 0.2 * s, levels=(0.0, 0.2, 0.8), alphas=(0.001, 0.002),
                     source="text STAND-IN")
    for t in tables.values():
        t["token_share"], t["designed_tokens"] = 1.0, 2.7
        t["planted_tokens"] = 2.7 - 1.3 * t["noise"]
    claim = noise._n1(tuple(tables), "test", "noise_text")
    row = core.evaluate(claim, tables, CFG)
    assert row["verdict"] == core.NOT_REPRODUCED and row["measured"].startswith("[text STAND-IN]")
    assert "noise 0.8: 100% of the documents hold it, 1.66 copies per document (designed 2.70)" in row["explanation"]
    assert "noise of this kind helps the collective" in row["explanation"]


def test_n1_and_n2_cannot_be_decided_on_one_seed():
    tables = _tables(_sink, seeds=1)
    assert noise.check_n1(tables, CFG, list(tables)).verdict == core.UNDECIDED
    assert noise.check_n2(tables, CFG, list(tables)).verdict == core.UNDECIDED


def test_n1_is_not_run_without_a_noise_column():
    tables = {k: t.drop(columns="noise") for k, t in _tables(_sink).items()}
    assert noise.check_n1(tables, CFG, list(tables)).verdict == core.NOT_RUN


def test_n2_pairs_twice_the_size_with_four_times_the_noise():
    t = pd.concat(_tables(_sink).values())
    assert noise.pairs(t) == [(0.2, 0.1, 0.4, 0.4), (0.2, 0.2, 0.4, 0.8), (0.2, 0.4, 0.4, 1.6),
                              (0.3, 0.1, 0.6, 0.4), (0.3, 0.2, 0.6, 0.8), (0.3, 0.4, 0.6, 1.6)]


def test_n2_reproduced_when_the_bigger_noisier_collective_does_worse():
    # success set by the effective share alpha (1 - noise), as a token's wrong-token errors would: at noise 0.2 the
    # double has 2 x 0.2 = 0.4 of the smaller one's 0.8 (text-like alphas and levels)
    alphas, levels = (0.001, 0.002, 0.004, 0.008), (0.0, 0.1, 0.2, 0.4, 0.8)
    tables = _tables(lambda a, s: min(1.0, 150 * a * (1 - s)), levels, alphas, source="text STAND-IN")
    r = noise.check_n2(tables, CFG, list(tables))
    assert r.verdict == core.REPRODUCED and r.effect.high < 0, r.measured
    assert "of 6 pairs (each at 99.17%, Bonferroni)" in r.measured  # alphas 0.001-0.004 x noise 0.1, 0.2


def test_n2_not_reproduced_when_doubling_outweighs_the_noise():
    tables = _tables(lambda a, s: min(1.0, a * 2))  # noise does nothing
    r = noise.check_n2(tables, CFG, list(tables))
    assert r.verdict == core.NOT_REPRODUCED and r.effect.low > 0
    claim = noise._n2(tuple(tables), "test", "noise")
    row = core.evaluate(claim, tables, CFG)
    assert "Doubling the collective outweighs quadrupling the noise at 6 of the 6 pairs" in row["explanation"]


def test_n3_measures_each_level_against_no_noise_paired_by_seed():
    tables = _tables(lambda a, s: 0.5 + 0.05 * s, levels=(0.0, 0.4, 1.6), alphas=(0.1, 0.2), spread=0.0)
    r = noise.check_n3(tables, CFG, list(tables))
    assert r.verdict == core.MEASURED and "paired by seed" in r.measured, r.measured
    assert "noise 0.4: +0.020 [+0.020, +0.020], n = 6" in r.measured and "noise 1.6: +0.080" in r.measured


def test_every_noise_claim_quotes_the_paper_and_has_a_unique_key():
    assert {c.id for c in noise.CLAIMS} == {"N1", "N2", "N3"}
    for claim in noise.CLAIMS:
        assert claim.id == "N3" or "Sync or Sink" in claim.statement
    keys = [c.key for c in noise.CLAIMS]
    assert len(keys) == len(set(keys))


# ----------------------------------------------------------------------------- the atlas over the noise, end to end
def test_the_atlas_over_the_noise_builds_at_toy_scale(tmp_path, repo_config):
    """studies/atlas_noise.yaml's axis (the 2D dataset's signal, the noisy kind at two levels) on a toy config: one
    ERM-only claim (C13) on Fig 1b narrowed to one cell, so that it builds in seconds. A variant keeps 2d's streams: its
    collectives are the baseline's members."""
    cfg = tiny_config(repo_config)
    spec = copy.deepcopy(repo_config["atlases"]["noise"])
    assert set(spec["axes"]) == {"datasets.2d.signal"}
    assert [v["noise"] for v in spec["axes"]["datasets.2d.signal"]] == [0.1, 0.4]
    cfg["atlases"] = {"noise": {**spec, "claims": ["C13"], "curves": ["C13@fig1b"]}}
    cfg["panels"]["fig1b"].update(algorithms=["erm"], alphas=[0.4])
    cfg["training"]["epochs"] = 1
    copy_workflow(tmp_path, cfg)
    snakemake(tmp_path, "results/atlas/noise/summary.csv")
    rows = store.read_table(tmp_path / "results/atlas/noise/summary.csv")
    assert len(rows) == 3 and set(rows["key"]) == {"C13@fig1b"} and "baseline" in set(rows["variant"])
    assert sorted(rows["overrides"].astype(str).str.contains("reflect_x2_negative_noisy")) == [False, True, True]
    derived = sorted(p.name for p in (tmp_path / "results/poisoned").iterdir() if p.name.startswith("2d__"))
    assert len(derived) == 2  # one dataset per level, each from 2d's data (no second prepared copy)
    assert sorted(p.name for p in (tmp_path / "results/data").iterdir() if p.suffix == ".h5") == ["2d.h5"]
    members = [store.read_h5(tmp_path / "results/poisoned" / d / "a0.4_v0.0.h5")["seed0/train/index"]
               for d in ["2d", *derived]]
    assert all(np.array_equal(members[0], m) for m in members[1:])
    variants = [store.read_table(p) for p in (tmp_path / "results/tables").glob("fig1b__*.csv")]
    assert sorted(float(t["noise"].iloc[0]) for t in variants) == [0.1, 0.4]  # the signal's diagnostics, per run
    assert all((t["plant_error"] > 0).all() for t in variants)
    assert "noise" not in store.read_table(tmp_path / "results/tables/fig1b.csv")  # the designed signal has none
