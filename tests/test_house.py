"""The house: no import circles, one owner of the paths a dataset's files have, and a plan that resolving a config
builds nothing else into."""
from __future__ import annotations

import ast
import re

import pytest

from collective_action import codehash
from conftest import REPO, SCHEMA, tiny_config

PACKAGE_DIR = REPO / "src" / "collective_action"


def _modules() -> list[str]:
    out = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
        out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


def _import_graph() -> dict[str, set[str]]:
    """module -> the package modules it imports (anywhere in it, functions included), packages' faces left out: a
    package's __init__ is imported by whatever imports one of its modules, which is no circle of the code's."""
    return {m: {i for i in codehash.imports(m) if codehash._module_file(i).name != "__init__.py"}
            for m in _modules()}


def test_no_import_circles():
    graph = _import_graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                raise AssertionError("import circle: " + " -> ".join(stack[stack.index(n):] + [n]))
            if not state.get(n):
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if not state.get(m):
            visit(m)


def test_the_circle_check_can_fail(monkeypatch):
    graph = {"a": {"b"}, "b": {"a"}}
    monkeypatch.setattr("test_house._import_graph", lambda: graph)
    with pytest.raises(AssertionError, match="import circle: a -> b -> a"):
        test_no_import_circles()


PATH_OWNER = PACKAGE_DIR / "planning" / "paths.py"
BUILDS_A_DATASET_FILE = re.compile(r"""path\(\s*["'](data|poisoned)["']""")


def _sources():
    yield from (p for p in PACKAGE_DIR.rglob("*.py") if p != PATH_OWNER)
    yield from (REPO / "workflow").rglob("*.smk")
    yield REPO / "Snakefile"
    yield from (REPO / "benchmarks").glob("*.py")


def test_only_the_paths_module_builds_a_datasets_files():
    """A derived dataset of the atlas reads another's prepared and poisoned files: every input names them through
    paths.data_file and paths.poisoned_file, and rules name their outputs with paths.pattern."""
    offenders = [f"{p.relative_to(REPO)}:{i + 1}" for p in _sources()
                 for i, line in enumerate(p.read_text().splitlines()) if BUILDS_A_DATASET_FILE.search(line)]
    assert not offenders, offenders
    assert BUILDS_A_DATASET_FILE.search('paths.path("data", dataset=d)')  # the check can fail


def _plan(cfg, atlas=None):
    from collective_action.planning.plan import Plan

    return Plan(cfg, schema_path=str(SCHEMA), atlas=atlas)


def test_resolving_a_config_builds_nothing_else(repo_config):
    """A plan of the config resolves the config's entries only: its atlas is not built until a derived name or an
    atlas target needs it, and building it leaves the plan's own entries as the config gave them."""
    from collective_action.planning.atlas import Atlas

    built = []

    def atlas(plan, name):
        built.append(plan)
        return Atlas(plan, name)

    from test_atlas import atlas_config

    plan = _plan(atlas_config(repo_config), atlas)
    before = {k: dict(getattr(plan, k)) for k in ("datasets", "algorithms", "panels", "families")}
    plan.panel_cells("fig1b"), plan.hyperparameters("2d", "jtt"), plan.default_targets()
    assert not built
    variant = [vp for vp in plan.atlas("tiny").variants if vp.variant.kind == "axis"][0]
    derived = [p for p in variant.panels.values() if "__" in p]
    assert derived and plan.panel_cells(derived[0])  # the plan resolves what the atlas derived
    assert built == [plan]
    assert {k: dict(getattr(plan, k)) for k in before} == before  # and holds none of it itself
    assert set(plan.atlas("tiny").derived.panels) >= set(derived)


def test_a_plan_without_its_atlas_says_so(repo_config):
    from collective_action.configuration.errors import ConfigError

    with pytest.raises(ConfigError, match="made without its atlases"):
        _plan({**tiny_config(repo_config), "atlases": {"x": {"claims": ["C1"], "axes": {}}}}).dataset_spec("2d__0123abcd")


def test_the_atlas_is_checked_without_building_a_second_one(repo_config, monkeypatch):
    from collective_action.planning import atlas as atlas_module

    made = []
    real = atlas_module.Atlas.__init__

    def counting(self, plan, name):
        made.append(plan)
        real(self, plan, name)

    monkeypatch.setattr(atlas_module.Atlas, "__init__", counting)
    from test_atlas import atlas_config

    plan = _plan(atlas_config(repo_config), atlas_module.Atlas)
    plan.atlas("tiny")
    assert len(made) == 1


def test_the_package_has_no_test_only_code():
    """The yardsticks the tests compare against live with the tests."""
    assert not (PACKAGE_DIR / "reference.py").exists()
    for path in PACKAGE_DIR.rglob("*.py"):
        tree = ast.parse(path.read_text())
        names = {n.name for n in ast.walk(tree) if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
        assert not names & {"TheoremTwoExample", "reference_mlp", "sha256_json"}, path


def test_every_subpackage_face_is_its_docstring():
    """A package's __init__ says what the package is and imports nothing, so that a job's code hash is the modules it
    runs, not a whole package (registries excepted: their __init__ is the registry)."""
    registries = {"learners", "signals", "claims", "figures", "datasets", "models", "steps"}
    for init in PACKAGE_DIR.glob("*/__init__.py"):
        if init.parent.name in registries:
            continue
        tree = ast.parse(init.read_text())
        assert ast.get_docstring(tree), init
        assert all(isinstance(n, ast.Expr) or (isinstance(n, ast.ImportFrom) and n.module == "__future__")
                   for n in tree.body), init



def test_every_registry_entrys_metadata_is_its_classes_own():
    """Registries read an entry's literal class attributes without importing it (the Snakefile must not import
    torch): what they read must be what the imported class has, for every entry of every registry."""
    from collective_action.datasets.builders import BUILDERS
    from collective_action.datasets.generators import GENERATORS
    from collective_action.learners import LEARNERS
    from collective_action.models import MODELS
    from collective_action.signals import SIGNALS
    from collective_action.steps import STEPS

    for registry in (LEARNERS, SIGNALS, GENERATORS, BUILDERS, MODELS, STEPS):
        assert registry.names(), registry.kind
        for entry in registry:
            cls = registry.get(entry.name)
            for key, value in entry.meta.items():
                assert getattr(cls, key) == value, (registry.kind, entry.name, key)


def test_every_model_kind_is_in_the_schema_with_the_data_it_takes():
    from collective_action.configuration.schema import load_schema
    from collective_action.models import MODELS

    model = load_schema(SCHEMA)["$defs"]["model"]
    assert model["properties"]["kind"]["enum"] == MODELS.names()
    takes = {c["if"]["properties"]["kind"]["const"]: c["then"]["x-takes"] for c in model["allOf"]}
    assert takes == {e.name: e.meta["takes"] for e in MODELS} and all(takes.values())
