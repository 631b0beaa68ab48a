"""The findings: written by the workflow from what it built, a study that was not built is one line saying how to
build it, every explanation's template reads columns the tables have, and the check against a committed snapshot
fails when a verdict changes (unless on the edge) or an effect moves beyond the tolerance."""
from __future__ import annotations

import json
import re
import sys

import numpy as np
import pandas as pd
import pytest

from collective_action import store
from collective_action.claims import all_claims, core
from collective_action.evaluation import findings, stats, tables
from conftest import REPO, copy_workflow, tiny_config
from test_workflow import snakemake

TOL = 0.02


def _claims_table(rows):
    base = {c: np.nan for c in core.COLUMNS}
    return pd.DataFrame([{**base, "claim": "C1", "figure": "fig1b", "statement": "s", "measured": "m", "verdict":
                          "reproduced", "contradicted": False, "sensitivity": "", "basis": "interval bounds", "n": 10,
                          "effect": "JTT - ERM", "explanation": "", "key": "C1@fig1b", **r} for r in rows],
                        columns=core.COLUMNS)


def test_on_edge_and_verdict_texts():
    row = {"verdict": "reproduced", "margin": 0.005, "contradicted": False,
           "sensitivity": "reproduced; unchanged when the 4 of the 120 runs read here that did not learn their "
                          "training data (lff alpha=0.02 (1)) are left out or set to their worst case"}
    assert findings.on_edge(row, TOL) and not findings.on_edge({**row, "margin": 0.3}, TOL)
    text = findings.verdict_text(row, TOL)
    assert text.startswith("reproduced; unchanged without or with the worst case of the 4 runs") and "on the edge" in text
    assert not findings.on_edge({"verdict": "measured", "margin": 0.0}, TOL)
    assert findings.verdict_text({"verdict": "not reproduced", "contradicted": True, "margin": 0.5}, TOL) == \
        "not reproduced (contradicted)"


def test_a_study_not_built_is_one_line_with_its_command():
    spec = {"tolerance": TOL, "studies": [
        {"name": "paper", "title": "The paper", "source": "Ben-Dov et al.", "figures": ["fig1b"], "command": "x"},
        {"name": "text", "title": "Text", "source": "Hardt et al.", "figures": [], "command": "snakemake t.csv"}],
        "atlases": [{"name": "synthetic", "title": "Atlas", "command": "snakemake a.csv"}]}
    table = _claims_table([{"effect_mean": 0.4, "effect_low": 0.3, "effect_high": 0.5, "margin": 0.3}])
    text = findings.render(spec, {"paper": table, "text": None}, {"synthetic": None}, {"fig1b": "../figures/fig1b.png"},
                           {"paper": "Built from code abc."})
    lines = text.splitlines()
    glance = lines.index(findings.GLANCE)
    assert lines.index("## At a glance") < glance and lines[glance + 2].startswith("| C1 | Ben-Dov et al. |")
    assert "+0.400 [+0.300, +0.500], n = 10" in lines[glance + 2] and "[fig1b](../figures/fig1b.png)" in lines[glance + 2]
    assert "![fig1b](../figures/fig1b.png)" in text
    assert "Not built. `snakemake t.csv`" in text and "Not built. `snakemake a.csv`" in text


def _synthetic_tables(panels) -> dict[str, pd.DataFrame]:
    """Every panel a claim's study may read, with every column the workflow's tables have: a template that names
    a column the tables do not have fails here, not in a user's build."""
    rng = np.random.default_rng(0)
    algorithms = {"erm": "erm", "jtt": "jtt", "lff": "lff", "cvar_dro": "cvar_dro", "dp_sgd_eps1": "dp_sgd",
                  "dp_sgd_eps05": "dp_sgd", "dp_sgd_clip_only": "dp_sgd", "adversarial_r1": "adversarial",
                  "adversarial_r4": "adversarial"}
    rows = []
    for algo, learner in algorithms.items():
        for alpha in (0.001, 0.05, 0.1, 0.2, 0.4):
            for alpha_val in (0.0, 1.0):
                for seed in range(3):
                    for k in (2, 4):
                        rows.append({**{c: rng.random() for c in tables.COLUMNS}, "dataset": f"d_k{k}",
                                     "data_source": "synthetic", "algorithm": algo, "learner": learner, "alpha": alpha,
                                     "alpha_val": alpha_val, "seed": seed, "stopping": "max_val_accuracy", "k": k,
                                     "c": float(k == 4), "learned": True, "xi": 0.5, "delta": 1.0, "fit_classes": 2,
                                     "radius": 1.0 if learner == "adversarial" else np.nan, "signal_linf": 0.5,
                                     "signal_linf_max": 2.0, "epsilon": 1.0, "noise_multiplier": 1.0, "clip_norm": 1.0,
                                     "success_2": rng.random(), "alpha_2": 0.2, "epoch": 1, "bound": rng.random(),
                                     "bound_share": rng.random(), "bound_passing": 2.0, "bound_delta": 0.05,
                                     "bound_n_train": 1e6})
    table = pd.DataFrame(rows)
    out = {p: table for p in panels}
    out.update({f"{p}_epochs": table for p in panels})
    return out


def test_every_explanation_reads_columns_the_tables_have(repo_config):
    cfg = repo_config["claims"]
    panels = [p for s in repo_config["studies"].values() for p in s["panels"]]
    t = _synthetic_tables(panels)
    explained = [c for c in all_claims() if c.explain]
    assert len(explained) >= 10
    for claim in explained:
        result = core.Result(core.NOT_REPRODUCED, "m", core.Effect("e", stats.t_interval([0.1, 0.2, 0.3])))
        text = claim.explain(t, cfg, result)
        assert isinstance(text, str) and text, claim.key


def _snapshot(tmp_path, verdict="reproduced", mean=0.4, margin=0.3):
    table = _claims_table([{"verdict": verdict, "effect_mean": mean, "effect_low": mean - 0.1,
                            "effect_high": mean + 0.1, "margin": margin}])
    path = tmp_path / "results" / "claims" / "paper.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    store.write_table(table, path, store.provenance(step="claims", config={}))
    return path, table


def test_the_check_fails_when_a_verdict_changes_without_a_new_snapshot(tmp_path):
    from collective_action.cli import main

    path, table = _snapshot(tmp_path)
    record = {"group": "default", "studies": ["paper"], "tolerance": TOL, "stamp": {"command": "x"},
              "claims": findings.snapshot_record({"paper": table}, TOL)}
    snap = tmp_path / "default.json"
    snap.write_text(json.dumps(record))
    args = ["findings", "--check", str(snap), "--directory", str(tmp_path)]
    assert main(args) == 0
    _snapshot(tmp_path, verdict="not reproduced")  # the code changed a verdict; the snapshot was not regenerated
    assert main(args) == 1
    _snapshot(tmp_path, mean=0.4 + 2 * TOL)  # an effect moved beyond the tolerance
    assert main(args) == 1
    _snapshot(tmp_path, mean=0.4 + TOL / 2)  # within it
    assert main(args) == 0


def test_a_stamp_counts_the_jobs_its_wall_time_covers(built_findings):
    from collective_action.evaluation import snapshot

    command = [sys.executable, "-m", "snakemake", "--cores", "1", "figures/fig1b.pdf"]
    assert snapshot._count_jobs(built_findings, command)[0] == 0  # built: nothing to run
    assert snapshot._count_jobs(built_findings, command)[1] > 1  # the jobs behind the figure
    assert snapshot.jobs_in("Nothing to be done (all requested files are present and up to date).") == 0


def test_a_snapshot_that_ran_nothing_carries_the_build_it_replaces():
    from collective_action.evaluation.snapshot import builds_before

    build = {"wall time": "785 s on 2 cores", "jobs": "371 run by this command, of the 371 the group's targets need",
             "commit": "b94db68926f0", "date": "2026-12-07 14:59 UTC"}
    first = builds_before(build, ran=0)
    assert first.startswith("785 s on 2 cores; jobs: 371 run") and "(commit b94db68, 2026-12-07 14:59 UTC)" in first
    regenerated = {"wall time": "6 s", "jobs": "0 run by this command, of the 371", "builds before": first}
    assert builds_before(regenerated, ran=0) == first  # a second regeneration keeps the build, not itself
    assert builds_before(build, ran=5) == ""  # a command that built says its own cost
    assert builds_before(None, ran=0) == ""


def test_a_missing_snapshot_is_one_clear_error(tmp_path, capsys):
    from collective_action.cli import main

    assert main(["findings", "--check", str(tmp_path / "default.json"), "--directory", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert out.startswith(f"no snapshot at {tmp_path / 'default.json'}") and len(out.splitlines()) == 1


def test_every_snapshot_the_readme_checks_is_committed_and_names_its_group(repo_config):
    # the README's test block (which CI runs) checks the build against these files
    named = re.findall(r"findings --check (\S+)", (REPO / "README.md").read_text())
    assert named
    for name in named:
        record = json.loads((REPO / name).read_text())
        assert record["group"] in repo_config["findings"]["snapshots"]
        assert record["claims"] and record["tolerance"] == repo_config["findings"]["tolerance"]


def test_the_groups_table_of_docs_findings_is_the_configs(repo_config):
    """docs/findings/README.md lists each snapshot group with exactly the studies and atlases the config gives it."""
    rows = {}
    for line in (REPO / "docs/findings/README.md").read_text().splitlines():
        match = re.match(r"\| \[(\w+)\]\(\1\.md\) \| ([^|]*) \|", line)
        if match:
            rows[match[1]] = set(re.findall(r"`(\w+)`", match[2]))
    groups = repo_config["findings"]["snapshots"]
    assert rows == {g: {*spec.get("studies", []), *spec.get("atlases", [])} for g, spec in groups.items()}


def test_a_verdict_on_the_edge_may_change():
    before = {"claims": {"C1@fig1b": {"verdict": "reproduced", "effect_mean": 0.4, "effect_low": 0.01,
                                      "effect_high": 0.8, "margin": 0.01, "on_edge": True}}}
    after = {"C1@fig1b": {**before["claims"]["C1@fig1b"], "verdict": "not reproduced", "effect_low": -0.005}}
    assert findings.check(before, after, TOL) == []
    after["C1@fig1b"]["effect_low"] = -0.05
    assert findings.check(before, after, TOL) == ["C1@fig1b: effect_low 0.01 in the snapshot, -0.05 now (tolerance 0.02)"]
    assert findings.check(before, {}, TOL) == ["C1@fig1b: gone from the build"]


@pytest.fixture(scope="module")
def built_findings(tmp_path_factory, repo_config):
    cfg = tiny_config(repo_config)
    cfg["studies"]["beyond"]["default"] = False  # a smaller default target: the paper's study alone
    wd = copy_workflow(tmp_path_factory.mktemp("findings"), cfg)
    snakemake(wd)
    return wd


def test_the_default_target_writes_the_findings_glance_table_first(built_findings):
    text = (built_findings / "results/findings.md").read_text()
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("## "))
    assert lines[first] == "## At a glance" and lines[first + 2] == findings.GLANCE
    assert "| C1 | Ben-Dov et al. (ICML 2024) |" in text
    assert "![fig1b](../figures/fig1b.png)" in text and (built_findings / "figures/fig1b.png").exists()
    assert "## Beyond the paper on synthetic data (beyond)" in text and "Not built. `snakemake --cores 2" in text
    assert store.read_sidecar(built_findings / "results/findings.md")["inputs"]["paper"]["path"] == \
        "results/claims/paper.csv"
