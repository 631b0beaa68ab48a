"""Lint, as CI runs it: ruff on the package, tests and benchmarks; snakefmt on the rules;
Snakemake's own linter on the workflow (which also checks every rule has a conda env and a log)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO


def _run(*args, cwd=REPO):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)


def test_ruff_reports_nothing():
    proc = _run(sys.executable, "-m", "ruff", "check", "src", "tests", "benchmarks")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_rules_are_snakefmt_formatted():
    snakefmt = shutil.which("snakefmt", path=str(Path(sys.executable).parent)) or shutil.which("snakefmt")
    proc = _run(snakefmt, "--check", "Snakefile", "workflow")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_snakemake_lint_reports_nothing(tmp_path):
    for item in ("Snakefile", "workflow", "config.yaml", "studies"):
        src = REPO / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / item)
    proc = _run(sys.executable, "-m", "snakemake", "--lint", cwd=tmp_path)
    assert proc.returncode == 0 and "good condition" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
