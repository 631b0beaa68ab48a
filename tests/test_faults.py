"""Faults a team meets on a shared machine: who can read the artifacts, and resuming after a hard kill.

- Artifacts get the permissions of any new file of the calling process (0666 less its umask), although
  they are written to a temporary file and renamed, and although the warm worker that runs the steps was
  started by an earlier call, perhaps under another umask.
- After a SIGKILL of Snakemake (alone, or with all its jobs: a lost node), the README's commands
  (``snakemake --unlock``, then the same command again) finish the build, to the same bytes as a build
  that was never interrupted.

The tiny workflow here carries the repository's workflow profile (``profiles/default``), as a plain
``snakemake`` call in the repository does.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from collective_action import store

TARGETS = ["figures/fig1b.pdf", "results/claims/paper.csv"]  # h5 of every step, CSV tables, claims.md, a PDF, sidecars
COMMAND = [sys.executable, "-m", "snakemake", "--cores", "2", *TARGETS]
UNLOCK = [sys.executable, "-m", "snakemake", "--unlock"]
ARTIFACT_DIRS = ("results", "figures")

linux_only = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process groups from /proc")


# ----------------------------------------------------------------------------- in-process: the store
def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask():
    """Set the process umask for one test; restored after it."""
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


@pytest.mark.parametrize("mask, file_mode, dir_mode", [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750),
                                                       (0o077, 0o600, 0o700), (0o002, 0o664, 0o775)],
                         ids=["umask022", "umask027", "umask077", "umask002"])
def test_every_writer_honours_the_umask(tmp_path, umask, mask, file_mode, dir_mode):
    umask(mask)
    h5 = tmp_path / "new" / "art.h5"
    store.write_h5(h5, {"x": np.arange(3000.0)}, store.provenance(step="test", config={}))
    text = tmp_path / "new" / "claims.md"
    store.write_text_atomic(text, "# claims\n")
    csv = tmp_path / "new" / "t.csv"
    with store.atomic_path(csv) as tmp:
        tmp.write_text("a\n1\n")
    store.write_sidecar(csv, {"step": "table"})
    written = [h5, text, csv, store.sidecar_path(csv)]
    assert {p.name: oct(_mode(p)) for p in written} == {p.name: oct(file_mode) for p in written}
    assert _mode(tmp_path / "new") == dir_mode
    store.read_h5(h5)  # still a complete, verified artifact


def test_rewrite_takes_the_current_umask_and_stays_atomic(tmp_path, umask):
    path = tmp_path / "a[1].csv"  # glob metacharacters in the name: its own leftovers, and only those, go
    umask(0o077)
    store.write_text_atomic(path, "old\n")
    assert _mode(path) == 0o600
    stale = tmp_path / ".a[1].csv.0badc0de.tmp"  # left by a writer killed outright
    other = tmp_path / ".a1.csv.0badc0de.tmp"
    stale.write_text("half")
    other.write_text("someone else's")
    umask(0o022)
    with pytest.raises(RuntimeError):
        with store.atomic_path(path) as tmp:
            assert tmp.name.startswith(".a[1].csv.") and tmp.name.endswith(".tmp")
            tmp.write_text("half written")
            raise RuntimeError("killed")
    assert path.read_text() == "old\n" and not stale.exists() and other.exists()
    store.write_text_atomic(path, "new\n")
    assert path.read_text() == "new\n" and _mode(path) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == [".a1.csv.0badc0de.tmp", "a[1].csv"]


def test_a_downloaded_source_archive_honours_the_umask_and_a_failed_one_leaves_nothing(tmp_path, umask):
    """The download cache may be shared by a group (sources.*.path on a cluster): an archive gets the
    umask's mode like an artifact, not mkstemp's 0600; a failed download leaves no partial file."""
    from collective_action.datasets import sources

    origin = tmp_path / "origin.tar.gz"
    origin.write_bytes(b"archive bytes" * 1000)
    umask(0o022)
    target = tmp_path / "cache" / "origin.tar.gz"
    sources._download(origin.as_uri(), target, "hint")
    assert target.read_bytes() == origin.read_bytes() and _mode(target) == 0o644
    with pytest.raises(sources.SourceError, match="could not download"):
        sources._download((tmp_path / "absent.tar.gz").as_uri(), tmp_path / "cache" / "absent.tar.gz", "hint")
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["origin.tar.gz"]


# ----------------------------------------------------------------------------- whole builds
def _workflow(path: Path, repo_config: dict) -> Path:
    """The repository's workflow, its workflow profile and a tiny config in ``path``."""
    from conftest import REPO, copy_workflow, tiny_config

    copy_workflow(path, tiny_config(repo_config))
    shutil.copytree(REPO / "profiles", path / "profiles")
    return path


def _run(workdir: Path, command: list[str], mask: int, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(command, cwd=workdir, umask=mask, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(command[2:])} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def _artifacts(workdir: Path) -> dict[str, Path]:
    return {p.relative_to(workdir).as_posix(): p for d in ARTIFACT_DIRS for p in sorted((workdir / d).rglob("*"))
            if p.is_file()}


def _runs(workdir: Path) -> set[str]:
    return {p.relative_to(workdir).as_posix() for p in (workdir / "results" / "runs").rglob("*.h5")}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def reference(tmp_path_factory, repo_config):
    """An uninterrupted build of TARGETS under umask 022."""
    workdir = _workflow(tmp_path_factory.mktemp("reference"), repo_config)
    _run(workdir, COMMAND, 0o022)
    return workdir


def test_artifacts_of_a_build_are_readable_by_the_group(reference):
    """Under umask 022 every artifact is 0644 and every folder 0755, as any other file the user writes;
    so are the jobs' logs (the warm worker's child takes on the calling process's umask)."""
    files = {**_artifacts(reference), **{p.relative_to(reference).as_posix(): p
                                         for p in (reference / "logs").rglob("*") if p.is_file()}}
    assert len(files) > 100
    assert {name: oct(_mode(p)) for name, p in files.items() if _mode(p) != 0o644} == {}
    folders = [p for d in (*ARTIFACT_DIRS, "logs") for p in (reference / d).rglob("*") if p.is_dir()]
    assert {p.as_posix(): oct(_mode(p)) for p in folders if _mode(p) != 0o755} == {}
    assert not [p for p in (reference / "results").rglob(".*")], "temporary files left behind"


def _live_members(pgid: int) -> list[int]:
    """Processes of a process group that are still running (not zombies)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                pids.append(int(entry))
    return pids


def _wait(condition, what: str, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


def _start(workdir: Path, mask: int, log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:  # a file, not a pipe: jobs that outlive Snakemake never block on it
        return subprocess.Popen(COMMAND, cwd=workdir, umask=mask, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _until_new_run(proc: subprocess.Popen, workdir: Path, seen: set[str], total: int, log: Path) -> bool:
    """Wait until the build has written a run artifact not in ``seen`` while others are still missing
    (True), or has ended (False; an error unless it completed)."""
    def ready() -> bool:
        runs = _runs(workdir)
        return proc.poll() is not None or (len(runs - seen) > 0 and len(runs) < total)

    _wait(ready, "the build to write a run artifact")
    if proc.poll() is None:
        return True
    assert proc.returncode == 0, f"the build failed:\n{log.read_text()[-4000:]}"
    return False


@linux_only
def test_hard_kill_then_the_readme_commands_give_the_uninterrupted_build(reference, tmp_path, repo_config):
    """Kill Snakemake mid-build twice: first Snakemake alone with SIGKILL (its running jobs finish on their
    own, so their outputs stay marked incomplete), then Snakemake and all its jobs (a lost node). After each,
    the README's commands: ``snakemake --unlock``, then the same command. The result is byte for byte the
    uninterrupted build, and under umask 027 every artifact is 0640: the warm worker, still up from the
    reference build (022), takes each job's umask (one of the two builds runs under another umask than
    the call that started the worker)."""
    mask = 0o027
    workdir = _workflow(tmp_path / "killed", repo_config)
    log = tmp_path / "snakemake.log"
    total = len(_runs(reference))
    assert total > 10
    procs: list[subprocess.Popen] = []
    try:
        # 1. SIGKILL of Snakemake alone, just after a training wrote its output: that job is usually still in
        # flight (it has not exited, so Snakemake has not recorded it); again at the next run if no job was.
        seen: set[str] = set()
        in_flight: list[int] = []
        for attempt in range(5):
            if attempt:
                _run(workdir, UNLOCK, mask)
            procs.append(proc := _start(workdir, mask, log))
            if not _until_new_run(proc, workdir, seen, total, log):
                pytest.fail("the build finished before it could be killed")
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            in_flight = _live_members(proc.pid)
            _wait(lambda: not _live_members(proc.pid), "the orphaned jobs to finish", timeout=120)
            seen = _runs(workdir)
            if in_flight:
                break
        assert (workdir / ".snakemake" / "locks").is_dir() and any((workdir / ".snakemake" / "locks").iterdir())
        # the lock stops the next call; its message names the remedy
        blocked = _run(workdir, COMMAND, mask, check=False)
        assert blocked.returncode != 0 and "--unlock" in blocked.stdout + blocked.stderr
        _run(workdir, UNLOCK, mask)  # docs/faults.md: no other Snakemake runs in this directory
        if in_flight:
            # the jobs that outlived Snakemake left complete outputs it never recorded: without the workflow
            # profile's rerun-incomplete, a plain call stops on them
            stopped = _run(workdir, [*COMMAND, "--workflow-profile", "none", "-n"], mask, check=False)
            assert stopped.returncode != 0 and "IncompleteFilesException" in stopped.stdout + stopped.stderr

        # 2. the same command, killed with all its jobs (SIGKILL to the process group)
        procs.append(proc := _start(workdir, mask, log))
        if _until_new_run(proc, workdir, seen, total, log):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            _run(workdir, UNLOCK, mask)
        # 3. the same command, to the end
        _run(workdir, COMMAND, mask)
    finally:
        for proc in procs:
            if _live_members(proc.pid):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    assert _runs(workdir) == _runs(reference)
    got, want = _artifacts(workdir), _artifacts(reference)
    assert sorted(got) == sorted(want)
    versions = {store.read_sidecar(d / "figures/fig1b.pdf")["code_version"] for d in (reference, workdir)}
    assert len(versions) == 1, "the package's source changed between the two builds (an edit while the test ran)"
    assert [name for name in want if _digest(got[name]) != _digest(want[name])] == []
    assert {name: oct(_mode(p)) for name, p in got.items() if _mode(p) != 0o640} == {}
    assert not [p for p in (workdir / "results").rglob(".*")], "temporary files left behind"
    assert _run(workdir, [*COMMAND, "-n"], mask).stdout.count("Nothing to be done") == 1
