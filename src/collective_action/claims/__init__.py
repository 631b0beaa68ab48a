"""The claims registry: each module here (but ``core``) defines ``CLAIMS``, a tuple of
:class:`collective_action.claims.core.Claim`, and ``ORDER`` (its place in the registry).

``paper`` holds the claims of Ben-Dov et al.; other modules hold findings beyond the
paper (verdict ``measured``). A figure that brings claims adds one module here.
Kept light: the Snakefile lists the modules for the claims job's code hash.
"""
from __future__ import annotations

import importlib
import pkgutil

MODULES = [f"{__name__}.{m.name}" for m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name)]


def all_claims() -> tuple:
    modules = [importlib.import_module(m) for m in MODULES]
    modules = sorted((m for m in modules if hasattr(m, "CLAIMS")), key=lambda m: (getattr(m, "ORDER", 100), m.__name__))
    return tuple(claim for m in modules for claim in m.CLAIMS)


def by_key(keys) -> list:
    """The claims with these keys (``Claim.key``: 'C6@fig4_2d'), in that order."""
    registry = {claim.key: claim for claim in all_claims()}
    return [registry[k] for k in keys]
