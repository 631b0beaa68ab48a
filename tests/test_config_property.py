"""The config (config.yaml and its study files) mutated one key at a time (hypothesis): either the config is
valid and a real Snakemake dry run of the default target succeeds, or one ConfigError names the mutated key; never
another key, never a traceback.

Mutations are drawn from the key paths of config.yaml as it is when the test runs (sections added later are
covered as they come): a value of another type, a number out of range, an unknown key, a removed key, and a
key at the wrong nesting (moved one level up, into a sibling, or wrapped in a mapping of its own name).

Which key an error may name: the mutated one (for a moved key, where it was or where it went), a key below it
when the mutation put a mapping or a list there (a required key of the new mapping, say), or, for an error
between two keys (a panel's alpha beside a second collective's, a model's heads and embed_dim, a removed entry
that another section names), one that names the mutated key's path in quotes in its message.

CONFIG_MUTATIONS (default 300) sets how many mutations are tried, CONFIG_DRY_RUNS (default 8) how many of
the valid ones a dry run checks, spread over mutation kinds and sections.
"""
from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collective_action.configuration import validation as cfgmod
from collective_action.planning.plan import Plan
from conftest import REPO, SCHEMA, copy_workflow

MUTATIONS = int(os.environ.get("CONFIG_MUTATIONS", 300))
DRY_RUNS = int(os.environ.get("CONFIG_DRY_RUNS", 8))

def _composed() -> dict:
    """config.yaml with its study files (as the Snakefile composes it), written whole into each test's config."""
    from collective_action.configuration.studies import compose

    config = compose(REPO / "config.yaml")
    config["study_files"] = []
    return config


CONFIG = json.loads(json.dumps(_composed()))  # no YAML aliases: a mutation changes one key only


def _walk(node, path=()):
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, (*path, i))


NODES = [(p, v) for p, v in _walk(CONFIG) if p]
KEYS = [p for p, _ in NODES if isinstance(p[-1], str)]  # mapping entries (removable, movable)
NUMBERS = [p for p, v in NODES if isinstance(v, (int, float)) and not isinstance(v, bool)]
MAPPINGS = [()] + [p for p, v in NODES if isinstance(v, dict)]
OTHER_TYPES = ["zz", 3, 0.5, True, None, [], ["zz"], {}, {"zz": 1}]
OUT_OF_RANGE = [-1, 0, 1, 2, 100, -0.5, 0.5, 1.5, 1e-4, 10.0]
UNKNOWN_VALUES = [1, "zz", None, {}, {"zz": 1}]


def key_path(path) -> str:
    return cfgmod.key_path(path)


def _type(value) -> str:
    return type(value).__name__


def get(cfg, path):
    for part in path:
        cfg = cfg[part]
    return cfg


@dataclass
class Mutation:
    kind: str
    path: tuple
    describe: str
    names: list = field(default_factory=list)  # key paths the error may name
    container: bool = False  # the mutation put a mapping or a list there: a key below may be named


@st.composite
def mutations(draw):
    """One mutation of CONFIG: (the mutated config, what may be named)."""
    kind = draw(st.sampled_from(["type", "range", "unknown", "remove", "move_up", "move_into", "wrap"]))
    cfg = copy.deepcopy(CONFIG)
    if kind == "type":
        path = draw(st.sampled_from([p for p, _ in NODES]))
        old = get(cfg, path)
        value = draw(st.sampled_from([v for v in OTHER_TYPES if not (_type(v) == _type(old) and v == old)]))
        get(cfg, path[:-1])[path[-1]] = copy.deepcopy(value)
        return cfg, Mutation(kind, path, f"{key_path(path)}: {old!r} -> {value!r}", [path],
                             isinstance(value, (list, dict)))
    if kind == "range":
        path = draw(st.sampled_from(NUMBERS))
        old = get(cfg, path)
        value = draw(st.sampled_from([v for v in OUT_OF_RANGE if not (v == old and _type(v) == _type(old))]))
        get(cfg, path[:-1])[path[-1]] = value
        return cfg, Mutation(kind, path, f"{key_path(path)}: {old!r} -> {value!r}", [path])
    if kind == "unknown":
        parent = draw(st.sampled_from(MAPPINGS))
        value = draw(st.sampled_from(UNKNOWN_VALUES))
        get(cfg, parent)["zz_unknown"] = copy.deepcopy(value)
        path = (*parent, "zz_unknown")
        return cfg, Mutation(kind, path, f"{key_path(path)} = {value!r} added", [path], isinstance(value, dict))
    path = draw(st.sampled_from(KEYS))
    parent, key = get(cfg, path[:-1]), path[-1]
    if kind == "remove":
        del parent[key]
        return cfg, Mutation(kind, path, f"{key_path(path)} removed", [path])
    if kind == "wrap":
        parent[key] = {key: parent[key]}
        return cfg, Mutation(kind, path, f"{key_path(path)} wrapped in {{{key}: ...}}", [path], True)
    if kind == "move_up":
        if len(path) < 2 or key in get(cfg, path[:-2]):
            return draw(mutations())
        target = (*path[:-2], key)
    else:  # into a sibling mapping
        siblings = [s for s, v in parent.items() if s != key and isinstance(v, dict) and key not in v]
        if not siblings:
            return draw(mutations())
        target = (*path[:-1], draw(st.sampled_from(siblings)), key)
    value = parent.pop(key)
    get(cfg, target[:-1])[key] = value
    return cfg, Mutation(kind, path, f"{key_path(path)} moved to {key_path(target)}", [path, target],
                         isinstance(value, (dict, list)))


def named_right(message: str, mutation: Mutation) -> bool:
    match = re.match(r"config key '([^']*)': ", message)
    if not match:
        return False
    named = match.group(1)
    for path in mutation.names:
        where = key_path(path)
        if named == where or f"'{where}'" in message:
            return True
        if mutation.container and (named.startswith(f"{where}.") or named.startswith(f"{where}[")):
            return True
    return False


def dry_run(workdir, cfg: dict) -> subprocess.CompletedProcess:
    (workdir / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--quiet", "rules"], cwd=workdir,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)


def spread(valid: list, n: int) -> list:
    """Up to n of the valid mutations, one per (kind, section) first, in the order they were drawn."""
    unique = list({m.describe: (cfg, m) for cfg, m in reversed(valid)}.values())[::-1]  # each mutation once
    chosen, seen = [], set()
    for cfg, m in unique:
        group = (m.kind, m.path[0])
        if group not in seen:
            seen.add(group)
            chosen.append((cfg, m))
    rest = [v for v in unique if all(v[1] is not c[1] for c in chosen)]
    return (chosen + rest)[:n]


def test_one_mutated_key_is_valid_or_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no 'validated' markers in the repository
    tried, valid, wrong = [], [], []

    @settings(max_examples=MUTATIONS, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(mutations())
    def check(drawn):
        cfg, mutation = drawn
        tried.append(mutation.describe)
        try:
            plan = Plan(cfg, schema_path=str(SCHEMA))
            plan.default_targets()
        except cfgmod.ConfigError as err:
            if not named_right(str(err), mutation):
                wrong.append(f"{mutation.describe}\n    {err}")
            return
        valid.append((cfg, mutation))

    start = time.perf_counter()
    check()
    in_process = time.perf_counter() - start
    assert not wrong, "errors that name another key:\n" + "\n".join(wrong)
    assert len(set(tried)) > MUTATIONS // 2

    chosen = spread(valid, DRY_RUNS)
    workdirs = []
    for i in range(len(chosen)):
        workdirs.append(copy_workflow(tmp_path / f"workflow_{i}"))
    with ThreadPoolExecutor(2) as pool:  # two dry runs at a time (each a process)
        procs = list(pool.map(dry_run, workdirs, [cfg for cfg, _ in chosen]))
    failed = [f"{m.describe}\n{(p.stdout + p.stderr)[-1500:]}" for (_, m), p in zip(chosen, procs) if p.returncode]
    assert not failed, "valid configs whose dry run failed:\n" + "\n".join(failed)
    print(f"{len(tried)} mutations ({len(set(tried))} distinct) in {in_process:.0f} s: {len(tried) - len(valid)} "
          f"errors naming the mutated key, {len(valid)} valid configs, {len(chosen)} of them dry-run in "
          f"{time.perf_counter() - start - in_process:.0f} s: "
          + "; ".join(m.describe for _, m in chosen))


@pytest.mark.parametrize("message, names, container, right", [
    ("config key 'a.b': x", [("a", "b")], False, True),
    ("config key 'a.b.c': x", [("a", "b")], False, False),
    ("config key 'a.b.c': x", [("a", "b")], True, True),
    ("config key 'a.bc': x", [("a", "b")], True, False),
    ("config key 'z': beside 'a.b'", [("a", "b")], False, True),
    ("config key 'z': beside 'a.b[1]'", [("a", "b")], False, False),
    ("Traceback: a.b", [("a", "b")], False, False),
])
def test_what_counts_as_naming_the_mutated_key(message, names, container, right):
    assert named_right(message, Mutation("x", names[0], "", names, container)) == right
