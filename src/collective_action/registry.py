"""Registries: the single source of truth for learners, signals and dataset makers.

An entry is a class with a ``name`` in its own module of a subpackage (one file per
learner, signal, generator or builder). The registry finds entries by reading the
subpackage's source files, without importing them: a learner module imports torch,
and the Snakefile, which needs every learner's name, defaults and schema to validate
the config, must stay fast. So the metadata an entry declares for the workflow
(``name``, ``hyperparameters``, ``style``, ...) are class attributes written as
literals; :meth:`Registry.get` imports the module when a job needs the class, and a
test checks that the literal metadata equals the imported class's attributes.
"""
from __future__ import annotations

import ast
import functools
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class RegistryError(KeyError):
    """An unknown entry name; the message lists the known ones."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


@dataclass(frozen=True)
class Entry:
    name: str
    module: str  # dotted module name
    cls: str  # class name inside the module
    meta: dict[str, Any] = field(default_factory=dict)  # literal class attributes

    @property
    def path(self) -> str:
        """The module's file, relative to the package root (for code hashes)."""
        return self.module.split(".", 1)[1].replace(".", "/") + ".py"


def _literal_attributes(node: ast.ClassDef) -> dict[str, Any]:
    out = {}
    for stmt in node.body:
        targets = []
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        for target in targets:
            if isinstance(target, ast.Name):
                try:
                    out[target.id] = ast.literal_eval(value)
                except ValueError:
                    pass  # not a literal: not metadata
    return out


def _base_names(node: ast.ClassDef) -> set[str]:
    names = set()
    for base in node.bases:
        if isinstance(base, ast.Name):
            names.add(base.id)
        elif isinstance(base, ast.Attribute):
            names.add(base.attr)
    return names


class Registry:
    """Entries of one kind: classes deriving (directly or through a class of the same
    subpackage) from ``base`` that declare a literal ``name``."""

    def __init__(self, package: str, base: str, kind: str):
        self.package, self.base, self.kind = package, base, kind

    @functools.cached_property
    def _entries(self) -> dict[str, Entry]:
        pkg_dir = Path(importlib.import_module(self.package).__file__).parent
        classes: dict[str, tuple[str, ast.ClassDef]] = {}
        for path in sorted(pkg_dir.glob("*.py")):
            if not path.name.startswith("_"):
                tree = ast.parse(path.read_text(), filename=str(path))
                classes.update((n.name, (path.stem, n)) for n in tree.body if isinstance(n, ast.ClassDef))

        @functools.cache
        def derives(name: str) -> bool:
            return name == self.base or any(derives(b) for b in _base_names(classes[name][1]) if b in classes)

        @functools.cache
        def attributes(name: str) -> tuple:
            """Literal class attributes, those of its parents in this subpackage first."""
            merged: dict[str, Any] = {}
            for parent in _base_names(classes[name][1]):
                if parent in classes:
                    merged.update(dict(attributes(parent)))
            merged.update(_literal_attributes(classes[name][1]))
            return tuple(merged.items())

        entries: dict[str, Entry] = {}
        for cls, (stem, _) in classes.items():
            if cls == self.base or not derives(cls):
                continue
            meta = dict(attributes(cls))
            name = meta.get("name")
            if not isinstance(name, str) or not name:
                continue  # an abstract intermediate class
            if name in entries:
                raise ValueError(f"{self.kind} '{name}' is defined twice: in {entries[name].module} and "
                                 f"{self.package}.{stem}")
            entries[name] = Entry(name, f"{self.package}.{stem}", cls, meta)
        return dict(sorted(entries.items()))

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def __iter__(self):
        return iter(self._entries.values())

    def entry(self, name: str) -> Entry:
        try:
            return self._entries[name]
        except KeyError:
            raise RegistryError(f"unknown {self.kind} '{name}' (known: {', '.join(self._entries)})") from None

    def meta(self, name: str) -> dict[str, Any]:
        return self.entry(name).meta

    def get(self, name: str) -> type:
        """The entry's class (imports its module)."""
        entry = self.entry(name)
        return getattr(importlib.import_module(entry.module), entry.cls)
