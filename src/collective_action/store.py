"""Artifact store: atomic writes, checksums and provenance.

Every artifact the pipeline writes carries a provenance record: the config slice
that produced it, the seeds, the package and code versions, and the sha256 of
every input file. h5 artifacts keep it in their root attributes together with a
checksum of their own payload (all datasets), so tampering or bit rot inside the
file is detectable; CSV tables and PDF figures keep it in a sidecar
``<file>.prov.json``. Writes go to a temporary file in the same directory that
is renamed into place only when complete, so a killed job never leaves a
half-written output under the final name.
"""
from __future__ import annotations

import contextlib
import functools
import glob
import hashlib
import json
import os
import secrets
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__

PROVENANCE_ATTR = "provenance"
PAYLOAD_ATTR = "payload_sha256"
SIDECAR_SUFFIX = ".prov.json"
_PACKAGE_DIR = Path(__file__).resolve().parent


class ArtifactError(RuntimeError):
    """An input artifact is missing, corrupt, truncated or fails its checksum."""


# ----------------------------------------------------------------------------- checksums
def _hash_file(path: str | os.PathLike, algorithm: str, chunk: int = 1 << 20) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    return _hash_file(path, "sha256")


def md5_file(path: str | os.PathLike) -> str:
    """md5, for the checksums dataset publishers give."""
    return _hash_file(path, "md5")


def canonical_json(obj: Any) -> str:
    """Stable JSON (sorted keys, no whitespace) used for params and provenance."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_json_default)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


# ----------------------------------------------------------------------------- versions
@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """sha256 over the package's own source files: changes whenever the code does,
    whether or not it runs from a git checkout."""
    h = hashlib.sha256()
    for path in sorted(_PACKAGE_DIR.rglob("*.py")):
        h.update(path.relative_to(_PACKAGE_DIR).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=_PACKAGE_DIR, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def provenance(
    *,
    step: str,
    config: Mapping[str, Any],
    inputs: Mapping[str, str | os.PathLike] | None = None,
    seeds: Any = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the provenance record of an artifact.

    ``inputs`` maps a role name (``"data"``, ``"run"``...) to a path; each is
    recorded with its sha256 so an audit can tell whether the input changed.
    No timestamps: the same inputs, config and code give the same bytes.
    """
    record: dict[str, Any] = {
        "step": step,
        "config": config,
        "seeds": seeds,
        "package": "collective-action",
        "package_version": __version__,
        "code_version": code_version(),
        "git_commit": git_commit(),
        "inputs": {
            role: {"path": os.fspath(p), "sha256": sha256_file(p)} for role, p in sorted((inputs or {}).items())
        },
    }
    if extra:
        record["extra"] = dict(extra)
    return record


# ----------------------------------------------------------------------------- atomic writes
def _create_temp(final: Path) -> Path:
    """Create an empty, unique temporary file beside ``final``, as ``open()`` would create ``final`` itself:
    mode 0666 less the umask (or what a default ACL of the folder gives), not mkstemp's fixed 0600, so
    the renamed artifact is as readable as any other file its user writes there."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = final.parent / f".{final.name}.{secrets.token_hex(4)}.tmp"
        try:
            os.close(os.open(tmp, flags, 0o666))
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(f"{final}: no unused temporary name beside it")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    The temporary name starts with a dot so globbing tools ignore it, and it is
    removed if the block raises, so nothing half written survives. The file is
    created with the permissions of any new file of the process (0666 less its
    umask: 0644 under umask 022), and the writers write into it in place, so the
    artifact keeps them.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    # a writer killed outright (SIGKILL, node failure) cannot clean up: remove its leftovers
    for stale in final.parent.glob(f".{glob.escape(final.name)}.*.tmp"):
        stale.unlink(missing_ok=True)
    tmp_path = _create_temp(final)
    try:
        yield tmp_path
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, final)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


# ----------------------------------------------------------------------------- h5 artifacts
def _payload_sha256(h5file) -> str:
    """Checksum over every dataset's name, dtype, shape and bytes, in name order."""
    import h5py

    names: list[str] = []
    h5file.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
    h = hashlib.sha256()
    for name in sorted(names):
        arr = np.ascontiguousarray(h5file[name][()])
        h.update(name.encode())
        h.update(str(arr.dtype).encode())
        h.update(str(arr.shape).encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def write_h5(
    path: str | os.PathLike,
    arrays: Mapping[str, Any],
    prov: Mapping[str, Any],
    attrs: Mapping[str, Any] | None = None,
    compress: bool = True,
) -> None:
    """Write ``arrays`` (``"group/name" -> array``) and provenance atomically."""
    import h5py

    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            for name, value in sorted(arrays.items()):
                arr = np.asarray(value)
                kwargs: dict[str, Any] = {"track_times": False}
                if compress and arr.ndim > 0 and arr.size >= 1024:
                    kwargs.update(compression="gzip", compression_opts=4, shuffle=True)
                f.create_dataset(name, data=arr, **kwargs)
            for key, value in sorted((attrs or {}).items()):
                f.attrs[key] = canonical_json(value)
            f.attrs[PROVENANCE_ATTR] = canonical_json(prov)
            f.attrs[PAYLOAD_ATTR] = _payload_sha256(f)


class H5Artifact:
    """A verified, read-only h5 artifact loaded into memory.

    Opening checks that the file exists, is a readable HDF5 file and that its
    payload matches the checksum recorded when it was written; any failure is
    one :class:`ArtifactError` naming the file.
    """

    def __init__(self, path: str | os.PathLike, verify: bool = True):
        import h5py

        self.path = Path(path)
        if not self.path.exists():
            raise ArtifactError(f"{self.path}: input artifact does not exist")
        try:
            with h5py.File(self.path, "r") as f:
                self.arrays: dict[str, np.ndarray] = {}
                f.visititems(self._collect)
                self.attrs = {k: json.loads(v) for k, v in f.attrs.items() if k not in (PAYLOAD_ATTR,)}
                recorded = f.attrs.get(PAYLOAD_ATTR)
                actual = _payload_sha256(f) if verify else recorded
        except ArtifactError:
            raise
        except Exception as exc:  # h5py raises OSError/KeyError/ValueError on damaged files
            raise ArtifactError(
                f"{self.path}: corrupt or truncated h5 file ({type(exc).__name__}: {exc}); delete it and rerun the workflow"
            ) from exc
        if PROVENANCE_ATTR not in self.attrs or recorded is None:
            raise ArtifactError(f"{self.path}: not an artifact of this pipeline (no provenance or payload checksum)")
        if verify and recorded != actual:
            raise ArtifactError(
                f"{self.path}: payload checksum mismatch (recorded {recorded[:12]}..., actual {actual[:12]}...); "
                "the file was modified after it was written; delete it and rerun the workflow"
            )
        self.provenance: dict[str, Any] = self.attrs.pop(PROVENANCE_ATTR)
        self.payload_sha256 = recorded

    def _collect(self, name, obj) -> None:
        import h5py

        if isinstance(obj, h5py.Dataset):
            self.arrays[name] = obj[()]

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.arrays[name]
        except KeyError:
            raise ArtifactError(f"{self.path}: missing dataset '{name}'") from None

    def __contains__(self, name: str) -> bool:
        return name in self.arrays

    def group(self, prefix: str) -> dict[str, np.ndarray]:
        """All arrays under ``prefix/`` keyed by their remaining name."""
        prefix = prefix.rstrip("/") + "/"
        return {k[len(prefix):]: v for k, v in self.arrays.items() if k.startswith(prefix)}


def read_h5(path: str | os.PathLike, verify: bool = True) -> H5Artifact:
    return H5Artifact(path, verify=verify)


# ----------------------------------------------------------------------------- sidecars (CSV, PDF)
def sidecar_path(path: str | os.PathLike) -> Path:
    return Path(os.fspath(path) + SIDECAR_SUFFIX)


def write_sidecar(path: str | os.PathLike, prov: Mapping[str, Any]) -> None:
    """Record provenance and the file's own sha256 beside a finished CSV or PDF."""
    record = dict(prov)
    record["sha256"] = sha256_file(path)
    write_text_atomic(sidecar_path(path), json.dumps(record, indent=1, sort_keys=True, default=_json_default) + "\n")


def read_sidecar(path: str | os.PathLike) -> dict[str, Any]:
    side = sidecar_path(path)
    if not side.exists():
        raise ArtifactError(f"{side}: provenance sidecar missing for {path}")
    try:
        return json.loads(side.read_text())
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{side}: corrupt provenance sidecar ({exc})") from exc


def write_table(frame, path: str | os.PathLike, prov: Mapping[str, Any]) -> None:
    """Write a tidy CSV table atomically (floats to 6 significant digits) with its provenance sidecar; the
    counterpart of :func:`read_table`."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6g")
    write_sidecar(path, prov)


def read_table(path: str | os.PathLike):
    """Read a tidy CSV table written by this pipeline, checking it against its sidecar."""
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise ArtifactError(f"{path}: table does not exist")
    record = read_sidecar(path)
    if record.get("sha256") != sha256_file(path):
        raise ArtifactError(f"{path}: checksum does not match its provenance sidecar; the table was modified")
    try:
        return pd.read_csv(path)
    except Exception as exc:
        raise ArtifactError(f"{path}: unreadable CSV table ({exc})") from exc
