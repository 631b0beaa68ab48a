"""The figure catalogue: every module here defines ``FIGURES`` (name -> FigureSpec).

A new figure is one new module in this folder (plus, optionally, its style under
``figures:`` in the config); it is found here, becomes a workflow target, and its
jobs hash exactly its own module and the panel code. Kept free of heavy imports:
the Snakefile reads it to derive each figure job's inputs.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping, Sequence

from ..panels import FigureSpec

FIGURES: dict[str, FigureSpec] = {}
MODULES: dict[str, str] = {}  # figure -> the module that defines it (for code hashes)

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    for _name, _spec in _module.FIGURES.items():
        if _name in FIGURES:
            raise ValueError(f"figure '{_name}' is defined twice: in {MODULES[_name]} and {_module.__name__}")
        FIGURES[_name], MODULES[_name] = _spec, _module.__name__


def spec_of(figure: str, atlases: Mapping[str, Sequence[str]] = ()):
    """A figure of the catalogue, or of one of ``atlases`` (name -> the claims of its specification curves):
    ``atlas_<name>`` and ``atlas_<name>_curve``. None if it is neither."""
    if figure in FIGURES:
        return FIGURES[figure]
    from .atlas import atlas_figures

    for name, curves in dict(atlases).items():
        specs = atlas_figures(name, curves)
        if figure in specs:
            return specs[figure]
    return None


def module_of(figure: str) -> str:
    """The module that defines a figure (for its code hash)."""
    return MODULES.get(figure, f"{__name__}.atlas")
