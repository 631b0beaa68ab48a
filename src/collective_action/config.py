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

import copy
from pathlib import Path
from typing import Any, Mapping

import yaml

REPO_SCHEMA = Path("workflow") / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """The workflow config is invalid; the message names the key."""


def _key_path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<top level>"


def load_schema(path: str | Path) -> dict:
    with open(path) as fh:
        return yaml.safe_load(fh)


def validate(config: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
    """Validate against the JSON schema, then the cross-references; raise one ConfigError."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        err = jsonschema.exceptions.best_match(errors)
        path = list(err.absolute_path)
        message = err.message
        if err.validator == "additionalProperties" and isinstance(err.instance, Mapping):
            known = set(err.schema.get("properties", {}))
            extra = sorted(k for k in err.instance if k not in known)
            if extra:
                path.append(extra[0])
                message = f"unknown key (allowed here: {', '.join(sorted(known)) or 'none'})"
        raise ConfigError(f"config key '{_key_path(path)}': {message}")
    _check_references(config)


def _check_references(config: Mapping[str, Any]) -> None:
    datasets = config["datasets"]
    for name, spec in datasets.items():
        if ("generator" in spec) == ("builder" in spec):
            raise ConfigError(f"config key 'datasets.{name}': needs exactly one of 'generator' (synthetic) or "
                              f"'builder' (image data)")
        required = (("n_train", "n_val", "n_test") if "generator" in spec else
                    {"cifar10": ("n_val",), "mnist_cifar": ("n_val", "pool_size"),
                     "waterbirds": ("n_val", "image_size")}[spec["builder"]])
        for key in required:
            if key not in spec:
                raise ConfigError(f"config key 'datasets.{name}.{key}': required for this dataset")
        if spec.get("builder") == "mnist_cifar" and ("c" in spec) + ("cs" in spec) != 1:
            raise ConfigError(f"config key 'datasets.{name}': builder 'mnist_cifar' needs exactly one of 'c' or 'cs'")
        has_k = ("k" in spec) + ("ks" in spec)
        if spec.get("generator") in ("lms_k", "k_strips") and has_k != 1:
            raise ConfigError(f"config key 'datasets.{name}': generator '{spec['generator']}' needs exactly one of 'k' or 'ks'")
        if spec.get("generator") == "uniform_2d" and has_k:
            raise ConfigError(f"config key 'datasets.{name}': generator 'uniform_2d' takes no 'k' or 'ks'")
        for key in ("margin", "slab_gap"):
            if spec.get("generator") == "lms_k" and key not in spec:
                raise ConfigError(f"config key 'datasets.{name}.{key}': required by generator 'lms_k'")
        if spec["model"] not in config["models"]:
            raise ConfigError(
                f"config key 'datasets.{name}.model': unknown model '{spec['model']}' "
                f"(defined: {sorted(config['models'])})"
            )
    for panel, spec in config["panels"].items():
        if spec["dataset"] not in datasets:
            raise ConfigError(
                f"config key 'panels.{panel}.dataset': unknown dataset '{spec['dataset']}' (defined: {sorted(datasets)})"
            )
        extra = sorted(set(spec.get("per_epoch_alphas", [])) - set(spec["alphas"]))
        if extra:
            raise ConfigError(f"config key 'panels.{panel}.per_epoch_alphas': {extra} not in the panel's alphas")
        for algo in spec["algorithms"]:
            if algo not in config["algorithms"]:
                raise ConfigError(
                    f"config key 'panels.{panel}.algorithms': algorithm '{algo}' has no entry under 'algorithms'"
                )
    for panel in config["claims"]["panels"]:
        if panel not in config["panels"]:
            raise ConfigError(f"config key 'claims.panels': panel '{panel}' is not defined under 'panels'")


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
        config = yaml.safe_load(fh)
    validate(config, load_schema(schema_path))
    return config
