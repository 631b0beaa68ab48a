"""The study files: config.yaml lists them under ``study_files`` (studies/<name>.yaml), and each is loaded after it.

A study file defines one study (``studies.<name>``: its title, source and panels) or one atlas (``atlases.<name>``),
and the panels, datasets, learners and figure styles only it uses. It may not define what config.yaml or another
study file defines: merged silently, the later file would win, so a key defined twice is one error naming both
files. Overlays passed with ``--configfile`` are merged over all of them, as Snakemake does.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError
from .merge import deep_merge
from .schema import SAFE_LOADER

# sections whose entries (a dataset, a panel, ...) a study file adds; any other key is a setting of its own
ENTRY_SECTIONS = ("datasets", "algorithms", "models", "panels", "figures", "studies", "atlases", "sources")


def _load(path: Path) -> dict[str, Any]:
    try:
        with open(path) as fh:
            return yaml.load(fh, Loader=SAFE_LOADER) or {}
    except OSError as exc:
        raise ConfigError(f"config key 'study_files': cannot read {path} ({exc.strerror})") from None


def _keys(config: Mapping[str, Any]) -> set[str]:
    """What a file defines: each entry of an entry section (panels.fig1b), and every other top-level key."""
    out = set()
    for key, value in config.items():
        if key in ENTRY_SECTIONS and isinstance(value, Mapping):
            out |= {f"{key}.{name}" for name in value if not (key == "figures" and name == "style")}
            if key == "figures" and "style" in value:
                out.add("figures.style")
        elif key != "study_files":
            out.add(key)
    return out


def files(config: Mapping[str, Any], root: str | Path = ".", base: str = "config.yaml") -> list[str]:
    """The study files to load after ``base``, checked: each exists, and none defines what ``base`` or an earlier
    one defines."""
    root = Path(root)
    listed = list(config.get("study_files") or [])
    seen = {k: base for k in _keys(_load(root / base))} if (root / base).is_file() else {}
    for i, name in enumerate(listed):
        path = root / name
        if not path.is_file():
            raise ConfigError(f"config key 'study_files[{i}]': no file {name}")
        for key in sorted(_keys(_load(path))):
            if key in seen:
                raise ConfigError(f"config key '{key}': defined by both {seen[key]} and {name}; a study file adds "
                                  f"what config.yaml and the other studies do not define")
            seen[key] = name
    return listed


def compose(config_file: str | Path, overlays: Sequence[str | Path] = ()) -> dict[str, Any]:
    """The config as the Snakefile composes it: ``config_file``, its study files, then the overlays (for use
    outside Snakemake: the tests, the command line)."""
    config_file = Path(config_file)
    config = _load(config_file)
    for name in files(config, config_file.parent, config_file.name):
        config = deep_merge(config, _load(config_file.parent / name))
    for overlay in overlays:
        config = deep_merge(config, _load(Path(overlay)))
    return config
