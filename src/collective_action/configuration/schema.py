"""The config's JSON schema: workflow/schemas/config.schema.yaml, completed with the parts the registries are the
source of (learners, signals, dataset makers)."""
from __future__ import annotations

from pathlib import Path

import yaml

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser where present: the same data, faster
REPO_SCHEMA = Path("workflow") / "schemas" / "config.schema.yaml"


def load_schema(path: str | Path = REPO_SCHEMA) -> dict:
    """The config schema: the YAML file, completed with the parts the registries generate."""
    with open(path) as fh:
        schema = yaml.load(fh, Loader=SAFE_LOADER)
    schema["$defs"].update(generated_defs())
    return schema


STYLE_KEYS = {
    "label": {"type": "string", "description": "Legend label in figures (default: the learner's)."},
    "color": {"type": "string", "description": "Matplotlib colour in figures (default: the learner's)."},
    "marker": {"type": "string", "description": "Matplotlib marker in figures (default: the learner's)."},
}


def _dispatch(key: str, entries, extra=lambda entry: {}) -> list[dict]:
    """if/then clauses: when ``key`` names an entry, its properties (and requirements) apply."""
    clauses = []
    for entry in entries:
        then = {"properties": dict(entry.meta.get("parameters", entry.meta.get("hyperparameters", {})))}
        then["properties"].update(extra(entry))
        if entry.meta.get("required"):
            then["required"] = list(entry.meta["required"])
        if entry.meta.get("description"):
            then["description"] = entry.meta["description"]
        clauses.append({"if": {"required": [key], "properties": {key: {"const": entry.name}}}, "then": then})
    return clauses


def _family_list(entry) -> dict:
    """A maker with a family key k also takes 'ks', one dataset per value."""
    key = entry.meta.get("family")
    if not key:
        return {}
    item = entry.meta.get("parameters", {}).get(key, {})
    return {f"{key}s": {"type": "array", "minItems": 1, "uniqueItems": True,
                        "items": {k: v for k, v in item.items() if k != "description"},
                        "description": f"A family: one dataset '<name>_{key}<value>' per value of {key}, each with "
                                       f"its own artifacts, so editing the list reruns only what depends on the "
                                       f"added or removed value. A panel naming the family uses every member."}}


def generated_defs() -> dict:
    """Schema parts that the registries are the source of: learners, signals, generators, builders."""
    from ..datasets.builders import BUILDERS
    from ..datasets.generators import GENERATORS
    from ..learners import LEARNERS
    from ..models import MODELS
    from ..signals import SIGNALS

    learners = {f"learner_{e.name}": {"type": "object", "description": e.meta.get("description", ""),
                                      "properties": dict(e.meta.get("hyperparameters", {}))} for e in LEARNERS}
    return {
        **learners,
        "algorithm": {
            "type": "object",
            "description": "A learning algorithm: an instance of a learner with its hyperparameters (defaults from "
                           "the learner's module, see learners/); 'learner' defaults to the entry's own name.",
            "required": ["learner"],
            "properties": {"learner": {"enum": LEARNERS.names(), "description": "The learner (learners/<name>.py)."},
                           **STYLE_KEYS},
            "allOf": [{"if": {"required": ["learner"], "properties": {"learner": {"const": e.name}}},
                       "then": {"$ref": f"#/$defs/learner_{e.name}"}} for e in LEARNERS],
            "unevaluatedProperties": False,
        },
        "signal": {
            "type": "object",
            "description": "The collective's strategy: the signal g (signals/<module>.py) and its target label y*.",
            "required": ["kind", "target_label"],
            "properties": {"kind": {"enum": SIGNALS.names(), "description": "; ".join(
                               f"'{e.name}': {e.meta.get('description', '')}" for e in SIGNALS)},
                           "target_label": {"type": "integer", "minimum": 0, "description":
                                            "y*, the label the collective attaches to its signal."},
                           "avoid_label": {"type": "integer", "minimum": 0, "description":
                                           "Unplanting (Gauthier et al. 2025, Def 3.6): the label the collective wants "
                                           "the firm NOT to give its signal. Its success is then f(g(x)) != "
                                           "avoid_label over all test points, while its members still attach "
                                           "target_label (another label) to what they plant. Absent: planting."}},
            "allOf": _dispatch("kind", SIGNALS),
            "unevaluatedProperties": False,
        },
        "model": {
            "type": "object",
            "required": ["kind"],
            "description": "A model architecture: its 'kind' (models/<module>.py) and the keys that kind takes (a key of "
                           "another kind is an error, so a typo never falls back to a default). Each kind's clause "
                           "says what data it takes ('x-takes': synthetic points, images or token ids), which each "
                           "dataset's data is checked against.",
            "properties": {
                "kind": {"enum": MODELS.names(), "description": "; ".join(
                    f"'{e.name}': {e.meta.get('description', '')}" for e in MODELS)},
                "vectorize": {"type": "boolean", "description":
                              "Train the runs of a cell with one vmapped model (true, models without batch norm) or "
                              "one after another within each step (false; always so for ResNet-50's batch norm)."},
            },
            "allOf": [{**c, "then": {**c["then"], "x-takes": list(e.meta.get("takes", []))}}
                      for c, e in zip(_dispatch("kind", MODELS), MODELS)],
            "unevaluatedProperties": False,
        },
        "dataset_maker": {
            "description": "The generator or builder of a dataset, and the keys each one takes.",
            "properties": {
                "generator": {"enum": GENERATORS.names(), "description": "; ".join(
                    f"'{e.name}': {e.meta.get('description', '')}" for e in GENERATORS)},
                "builder": {"enum": BUILDERS.names(), "description": "; ".join(
                    f"'{e.name}': {e.meta.get('description', '')}" for e in BUILDERS)},
            },
            "allOf": _dispatch("generator", GENERATORS, _family_list) + _dispatch("builder", BUILDERS, _family_list),
        },
    }
