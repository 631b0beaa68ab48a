"""Artifact paths: one table, used both to format paths (rules, plan) and to parse them (audit).

Each artifact kind has a template whose ``{wildcards}`` match the patterns in
:data:`WILDCARDS`, and the step that writes it (both declared by the step: ``steps/<step>.py``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

RESULTS = "results"
FIGURES_DIR = "figures"

WILDCARDS = {
    "dataset": r"[A-Za-z0-9][A-Za-z0-9_]*",
    "algorithm": r"[A-Za-z0-9][A-Za-z0-9_]*",
    "alpha": r"[0-9][0-9.e+-]*",
    "alpha_val": r"[0-9][0-9.e+-]*",
    "panel": r"[A-Za-z0-9_]+",
    "figure": r"[A-Za-z0-9_]+",
    "variant": r"baseline|v[0-9a-f]{8}",
    "study": r"[A-Za-z0-9_]+",
    "atlas": r"[A-Za-z0-9_]+",
}


@dataclass(frozen=True)
class Artifact:
    kind: str
    template: str
    step: str  # the rule (and package step) that writes it

    def format(self, **wildcards) -> str:
        return self.template.format(**{k: fmt_alpha(v) if k.startswith("alpha") else v for k, v in wildcards.items()})

    @cached_property
    def pattern(self) -> re.Pattern:
        parts = re.split(r"\{(\w+)\}", self.template)
        regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>{WILDCARDS[p]})" for i, p in enumerate(parts))
        return re.compile(f"^{regex}$")


def _artifacts() -> dict[str, Artifact]:
    """Every artifact kind, from the steps that write them (``Step.artifacts``, read from their source)."""
    from ..steps import STEPS

    out: dict[str, Artifact] = {}
    for entry in STEPS:
        for kind, template in (entry.meta.get("artifacts") or {}).items():
            if kind in out:
                raise ValueError(f"artifact kind '{kind}' is written by two steps: {out[kind].step} and {entry.name}")
            out[kind] = Artifact(kind, template, entry.name)
    return out


ARTIFACTS = _artifacts()


DERIVED = "__"  # a derived entry's name: <name>__<8 hex digits of what it holds> (the robustness atlas's variants)
DERIVED_SUFFIX = r"__[0-9a-f]{8}"

EXTERNAL_RULE_SUFFIX = "_external"  # poison_external, train_external: the same steps on external data


def step_of(rule: str) -> str:
    """The package step a rule runs: rules on external (image, text) data are their own rules, so that
    clusters can give them GPUs and group the synthetic cells apart, but run the same step."""
    return rule.removesuffix(EXTERNAL_RULE_SUFFIX)


def fmt_alpha(alpha) -> str:
    """Shortest text that reads back as the same float (0.1 -> '0.1', 1e-05 -> '1e-05').

    Strings (wildcard patterns such as '{alpha}', or values parsed from a path) pass unchanged."""
    return alpha if isinstance(alpha, str) else repr(float(alpha))


def path(kind: str, **wildcards) -> str:
    """The path of an artifact. A dataset's prepared and poisoned files are not named by the dataset alone (an
    atlas's derived dataset reuses another's): build those with :func:`data_file` and :func:`poisoned_file`, the
    only places that do (a test holds every other module to it)."""
    return ARTIFACTS[kind].format(**wildcards)


def pattern(kind: str) -> str:
    """An artifact's path with its wildcards left as Snakemake patterns ('results/data/{dataset}.h5'): a rule's
    output."""
    artifact = ARTIFACTS[kind]
    return artifact.format(**{w: f"{{{w}}}" for w in re.findall(r"\{(\w+)\}", artifact.template)})


def data_file(plan, dataset: str) -> str:
    """The prepared file a dataset reads: its own, or the one it reuses (``Plan.reuses``)."""
    return path("data", dataset=plan.reuses(dataset, "data"))


def poisoned_file(plan, dataset: str, alpha, alpha_val) -> str:
    """The poisoned file of a dataset's cell: its own, or the one it reuses."""
    return path("poisoned", dataset=plan.reuses(dataset, "poisoned"), alpha=alpha, alpha_val=alpha_val)


def parse(file: str) -> tuple[Artifact, dict[str, str]]:
    """The artifact kind and wildcards of a path; ValueError if it is not an artifact of this workflow."""
    for artifact in ARTIFACTS.values():
        m = artifact.pattern.match(file)
        if m:
            return artifact, m.groupdict()
    raise ValueError(f"{file}: not an artifact of this workflow")
