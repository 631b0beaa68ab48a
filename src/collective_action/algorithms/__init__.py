"""Learning algorithms. Each module exposes ``fit(ctx: FitContext) -> FitResult``
and trains all runs of a cell at once; hyperparameters come from ``ctx.hp``."""
from __future__ import annotations

from importlib import import_module

ALGORITHMS = ("erm", "jtt", "lff", "cvar_dro")


def get(name: str):
    if name not in ALGORITHMS:
        raise ValueError(f"unknown algorithm '{name}' (known: {list(ALGORITHMS)})")
    return import_module(f"{__name__}.{name}")
