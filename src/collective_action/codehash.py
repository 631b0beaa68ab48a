"""Which package code a job depends on, and its hash.

Each step's params carry the hashes of exactly the package modules it runs: its
entry module and every module of the package that it imports, directly or not, as
read from the source (``import`` statements anywhere in a module, functions
included). Registries import their entries dynamically, so a job names the entries
it uses (its learner, its signal, its dataset's generator) as extra roots: editing
``learners/jtt.py`` changes the params of JTT's train jobs only, and Snakemake reruns
them and what reads them. The audit compares the same hashes.
"""
from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

PACKAGE = __name__.split(".")[0]
PACKAGE_DIR = Path(__file__).resolve().parent


@functools.cache
def _module_file(module: str) -> Path | None:
    rel = Path(*module.split(".")[1:])
    if not rel.parts:
        return PACKAGE_DIR / "__init__.py"
    for candidate in (PACKAGE_DIR / rel.with_suffix(".py"), PACKAGE_DIR / rel / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _parents(module: str) -> list[str]:
    """A module's enclosing packages (importing a.b.c runs a/__init__ and a/b/__init__)."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _import_statements(body):
    """The import statements of a block and of every block nested in it (functions included): statements only, so
    the expressions, most of a module's nodes, are never walked."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            inner = getattr(node, field, None)
            if isinstance(inner, list):
                yield from _import_statements(inner)


@functools.cache
def imports(module: str) -> tuple[str, ...]:
    """The package modules ``module`` imports (resolved to existing files)."""
    file = _module_file(module)
    if file is None:
        return ()
    is_package = file.name == "__init__.py"
    here = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_statements(ast.parse(file.read_text(), filename=str(file)).body):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # "from x import y": y may be a submodule or a name defined in x
            names = [prefix] + [f"{prefix}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] == PACKAGE and _module_file(name) is not None:
                found.add(name)
                found.update(p for p in _parents(name))
    found.discard(module)
    return tuple(sorted(found))


@functools.cache
def closure(roots: tuple[str, ...]) -> tuple[str, ...]:
    """The roots and every package module they import, transitively."""
    seen: set[str] = set()
    pending = [r for root in roots for r in (*_parents(root), root)]
    while pending:
        module = pending.pop()
        if module in seen or _module_file(module) is None:
            continue
        seen.add(module)
        pending.extend(imports(module))
    return tuple(sorted(seen))


@functools.cache
def file_hash(module: str) -> str:
    return hashlib.sha256(_module_file(module).read_bytes()).hexdigest()[:12]


def code_hashes(roots) -> dict[str, str]:
    """{module file relative to the package: short sha256} of everything the roots run (a fresh dict: callers
    may keep it in params)."""
    return dict(_code_hashes(tuple(roots)))


@functools.cache
def _code_hashes(roots: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((str(_module_file(m).relative_to(PACKAGE_DIR).as_posix()), file_hash(m)) for m in closure(roots))
