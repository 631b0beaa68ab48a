"""The claims registry: each module here (but ``core`` and ``atlas``) defines ``CLAIMS``, a tuple of
:class:`collective_action.claims.core.Claim`, and ``ORDER`` (its place in the registry).

``paper`` holds the claims of Ben-Dov et al., ``hardt`` Hardt et al.'s, ``followups`` the follow-up
literature's; ``learners`` and ``collectives`` hold findings beyond the papers (verdict ``measured``). A claim
belongs to the study that builds the first panel it reads (:func:`of_study`). Kept light: the Snakefile lists the
modules for the claims job's code hash without importing them.
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


def of_study(panels, reads=()) -> list:
    """The claims of a study that builds ``panels`` and reads ``reads`` besides: those whose first table is one of
    its panels' (or per-epoch tables') and whose every table it has."""
    own = set(panels)
    readable = own | set(reads)
    return [c for c in all_claims() if c.panels[0].removesuffix("_epochs") in own
            and all(p.removesuffix("_epochs") in readable for p in c.panels)]
