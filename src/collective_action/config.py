"""Config loading, validation and resolution.

The workflow's config is validated against ``workflow/schemas/config.schema.yaml``
(every key is described there) and then checked for what a schema cannot express
(a panel naming a dataset that does not exist, say). Any problem is one
:class:`ConfigError` whose message starts with the offending key.

Resolution merges defaults with per-dataset overrides so that each job receives
exactly the slice of config it depends on: that slice is the job's Snakemake
``params`` (so only jobs whose slice changed rerun) and it is recorded verbatim in
the provenance of what the job writes.
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser where present: the same data, faster
VALIDATED_DIR = Path(".snakemake") / "collective_action" / "validated"

REPO_SCHEMA = Path("workflow") / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """The workflow config is invalid; the message names the key."""


def _key_path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<top level>"


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
    from .datasets.builders import BUILDERS
    from .datasets.generators import GENERATORS
    from .learners import LEARNERS
    from .signals import SIGNALS

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
            "allOf": [{"if": {"properties": {"learner": {"const": e.name}}},
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
                                            "y*, the label the collective attaches to its signal."}},
            "allOf": _dispatch("kind", SIGNALS),
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


def _error(err, prefix=()) -> ConfigError:
    path = [*prefix, *err.absolute_path]
    message = err.message
    if err.validator in ("additionalProperties", "unevaluatedProperties") and isinstance(err.instance, Mapping):
        known = set(err.schema.get("properties", {}))
        for sub in err.schema.get("allOf", []):  # properties of the matching if/then clauses
            known |= set(sub.get("then", {}).get("properties", {}))
        extra = sorted(k for k in err.instance if k not in known) if err.validator == "additionalProperties" else \
            sorted(k for k in err.instance if str(k) in message)
        if extra:
            path.append(extra[0])
            message = "unknown key" + (f" (allowed here: {', '.join(sorted(known))})" if known else "")
    return ConfigError(f"config key '{_key_path(path)}': {message}")


def _with_learners(config: Mapping[str, Any]) -> dict:
    """A copy in which every algorithm names its learner (an entry's name is its default learner)."""
    config = copy.deepcopy(dict(config))
    for name, algo in (config.get("algorithms") or {}).items():
        if isinstance(algo, dict):
            algo.setdefault("learner", name)
    return config


def validate(config: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
    """Validate against the JSON schema, then the cross-references; raise one ConfigError."""
    from .learners import LEARNERS

    for name, algo in (config.get("algorithms") or {}).items():
        if isinstance(algo, Mapping) and "learner" not in algo and name not in LEARNERS:
            raise ConfigError(f"config key 'algorithms.{name}': no learner named '{name}'; say which learner it runs "
                              f"with 'learner:' (learners: {', '.join(LEARNERS.names())})")
    marker = _validated_marker(config, schema)
    if marker is not None and marker.exists():
        return
    import jsonschema  # here: importing it is a third of a no-op dry run's own time

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(_with_learners(config)),
                    key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        raise _error(jsonschema.exceptions.best_match(errors))
    _check_references(config, schema)
    if marker is not None:
        with contextlib.suppress(OSError):  # a read-only working directory: validate every time
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()


def _validated_marker(config: Mapping[str, Any], schema: Mapping[str, Any]) -> Path | None:
    """A file whose presence says that exactly this config passed exactly this schema (both hashed), kept in
    Snakemake's folder of the working directory where there is one: a dry run with an unchanged config
    skips the schema check (a fifth of its time), any change to either is checked again."""
    from .store import canonical_json

    if not VALIDATED_DIR.parent.parent.is_dir():
        return None
    digest = hashlib.sha256(canonical_json([config, schema]).encode()).hexdigest()[:32]
    return VALIDATED_DIR / digest


def validate_at(instance: Any, schema: Mapping[str, Any], definition: str, key: tuple) -> None:
    """Validate one value against ``$defs/<definition>``; the error names ``key`` and below."""
    import jsonschema

    sub = {"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
    errors = list(jsonschema.Draft202012Validator(sub).iter_errors(instance))
    if errors:
        raise _error(jsonschema.exceptions.best_match(errors), key)


def _check_references(config: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
    from .datasets import maker

    datasets = config["datasets"]
    for name, spec in datasets.items():
        if ("generator" in spec) == ("builder" in spec):
            raise ConfigError(f"config key 'datasets.{name}': needs exactly one of 'generator' (synthetic) or "
                              f"'builder' (external data)")
        family = maker(spec).meta.get("family")
        if family and (family in spec) + (f"{family}s" in spec) != 1:
            kind = spec.get("generator") or spec.get("builder")
            raise ConfigError(f"config key 'datasets.{name}': '{kind}' needs exactly one of '{family}' or "
                              f"'{family}s'")
        if spec["model"] not in config["models"]:
            raise ConfigError(
                f"config key 'datasets.{name}.model': unknown model '{spec['model']}' "
                f"(defined: {sorted(config['models'])})"
            )
        for algo, override in (spec.get("algorithms") or {}).items():
            if algo not in config["algorithms"]:
                raise ConfigError(f"config key 'datasets.{name}.algorithms.{algo}': no algorithm '{algo}' under "
                                  f"'algorithms'")
            merged = deep_merge(_with_learners(config)["algorithms"][algo], override)
            validate_at(merged, schema, "algorithm", ("datasets", name, "algorithms", algo))
    for panel, spec in config["panels"].items():
        if spec["dataset"] not in datasets:
            raise ConfigError(
                f"config key 'panels.{panel}.dataset': unknown dataset '{spec['dataset']}' (defined: {sorted(datasets)})"
            )
        extra = sorted(set(spec.get("per_epoch_alphas", [])) - set(spec["alphas"]))
        if extra:
            raise ConfigError(f"config key 'panels.{panel}.per_epoch_alphas': {extra} not in the panel's alphas")
        for i, algo in enumerate(spec["algorithms"]):
            if algo not in config["algorithms"]:
                raise ConfigError(
                    f"config key 'panels.{panel}.algorithms[{i}]': algorithm '{algo}' has no entry under 'algorithms'"
                )
    sets = config["claims"]["panels"]
    for name, members in (sets.items() if isinstance(sets, Mapping) else [(None, sets)]):
        for i, panel in enumerate(members or []):
            if panel not in config["panels"]:
                where = "claims.panels" + (f".{name}" if name is not None else "") + f"[{i}]"
                raise ConfigError(f"config key '{where}': panel '{panel}' is not defined under 'panels' "
                                  f"(defined: {', '.join(sorted(config['panels']))})")
    from .figures.catalog import FIGURES

    for figure in config["figures"]:
        if figure != "style" and figure not in FIGURES:
            raise ConfigError(f"config key 'figures.{figure}': unknown figure (known: {', '.join(sorted(FIGURES))})")


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any] | None) -> dict[str, Any]:
    out = copy.deepcopy(dict(base))
    for key, value in (override or {}).items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_config_file(path: str | Path, schema_path: str | Path = REPO_SCHEMA) -> dict[str, Any]:
    """Load and validate a YAML config file (for use outside Snakemake)."""
    with open(path) as fh:
        config = yaml.load(fh, Loader=SAFE_LOADER)
    validate(config, load_schema(schema_path))
    return config
