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
import functools
import hashlib
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError, key_path
from .merge import deep_merge
from .schema import REPO_SCHEMA, SAFE_LOADER, load_schema

VALIDATED_DIR = Path(".snakemake") / "collective_action" / "validated"


# ----------------------------------------------------------------------------- schema errors, named by key
TYPE_WORDS = {"integer": "an integer", "number": "a number", "string": "a string", "boolean": "true or false",
              "object": "a mapping", "array": "a list", "null": "null"}


@functools.cache
def _validator_class():
    """Draft 2020-12 with strict integers (10.0 is not an integer: the code would take range(10.0)) and the
    formats the schema asserts ('token': one token of the text tokeniser)."""
    import jsonschema

    base = jsonschema.Draft202012Validator
    checker = base.TYPE_CHECKER.redefine("integer", lambda _, x: isinstance(x, int) and not isinstance(x, bool))
    formats = jsonschema.FormatChecker(formats=())
    formats.checks("token")(_is_single_token)
    return jsonschema.validators.extend(base, type_checker=checker), formats


def _is_single_token(value) -> bool:
    if not isinstance(value, str):
        return True  # the type is checked on its own
    from ..datasets.text_sources import tokenize

    return tokenize(value) == [value]


def _validator(schema: Mapping[str, Any]):
    cls, formats = _validator_class()
    return cls(schema, format_checker=formats)


def _show(value) -> str:
    """A value as the user wrote it in YAML."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value)


def _type_words(types) -> str:
    types = [types] if isinstance(types, str) else list(types)
    words = [TYPE_WORDS.get(t, t) for t in types]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _type_of(value) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
            dict: "object"}.get(type(value), "object" if isinstance(value, Mapping) else type(value).__name__)


def _resolve(root: Mapping[str, Any], ref: str) -> Mapping[str, Any]:
    node: Any = root
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def _known_keys(schema: Mapping[str, Any], instance: Mapping[str, Any], root: Mapping[str, Any]) -> set | None:
    """The keys a (dispatching) schema allows in ``instance``: its properties, those of what it refers to, and
    those of the if/then clauses whose condition holds; None when the schema dispatches (on a learner, a signal
    kind, a generator or builder, a model kind) and no clause applies, since then the key that dispatches is the
    error (or is checked later) and which other keys are allowed is not known."""
    if not isinstance(schema, Mapping):
        return set()
    known = set(schema.get("properties", {}))
    parts = [_resolve(root, schema["$ref"])] if "$ref" in schema else []
    clauses = list(schema.get("allOf", []))
    parts += [c for c in clauses if "if" not in c]
    dispatch = [c for c in clauses if "if" in c]
    if dispatch:
        matched = [c for c in dispatch if _validator(c["if"]).is_valid(instance)]
        if not matched:
            return None
        parts += [c.get("then", {}) for c in matched]
    if "if" in schema:
        parts.append(schema.get("then" if _validator(schema["if"]).is_valid(instance) else "else", {}))
    for part in parts:
        sub = _known_keys(part, instance, root)
        if sub is None:
            return None
        known |= sub
    return known


def _describe(err, root: Mapping[str, Any]) -> tuple[tuple, str] | None:
    """(key path, what is wrong and what it must be) of one schema error; None for an error that only echoes
    another one (a property that an if/then clause rejected counts as unevaluated, and unevaluatedProperties
    would call a good key unknown)."""
    path = tuple(err.absolute_path)
    kind, bound, value = err.validator, err.validator_value, err.instance
    if "propertyNames" in err.relative_schema_path:  # the error is about a key's name, reported at its parent
        return (*path, value), f"the name {value!r} is not allowed: names must match {err.schema.get('pattern')}"
    if kind in ("additionalProperties", "unevaluatedProperties") and isinstance(value, Mapping):
        known = _known_keys(err.schema, value, root) if kind == "unevaluatedProperties" else \
            set(err.schema.get("properties", {}))
        if known is None:
            return None
        extra = [k for k in value if k not in known]
        if not extra:
            return None
        allowed = f" (allowed here: {', '.join(sorted(map(str, known)))})" if known else ""
        return (*path, extra[0]), f"unknown key{allowed}"
    if kind == "required" and isinstance(value, Mapping):
        missing = [k for k in bound if k not in value]
        why = err.schema.get("$comment")
        return (*path, missing[0]), "required key missing" + (f": {why}" if why else "")
    if kind in ("oneOf", "anyOf"):
        return _describe_alternatives(err, root, path)
    if kind == "type":
        return path, f"must be {_type_words(bound)}, not {_show(value)} ({_type_words(_type_of(value))})"
    if kind in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        op = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}[kind]
        return path, f"{_show(value)} is out of range: must be {op} {bound}"
    if kind == "enum":
        return path, f"{_show(value)} is not allowed: must be one of {', '.join(map(_show, bound))}"
    if kind == "const":
        return path, f"{_show(value)} is not allowed: must be {_show(bound)}"
    if kind in ("minLength", "maxLength"):
        if kind == "minLength" and bound == 1:
            return path, f"{_show(value)} is empty: must be a non-empty string"
        return path, f"{_show(value)} has {len(value)} characters: must have {'at least' if kind == 'minLength' else 'at most'} {bound}"
    if kind in ("minItems", "maxItems", "minProperties", "maxProperties"):
        what = "items" if kind.endswith("Items") else "entries"
        if kind.startswith("min") and bound == 1:
            return path, f"{_show(value)} is empty: must have at least one of its {what}"
        count = f"{len(value)} {what[:-1] if len(value) == 1 and what == 'items' else what}"
        return path, f"has {count}: must have {'at least' if kind.startswith('min') else 'at most'} {bound}"
    if kind == "uniqueItems" and isinstance(value, list):
        for i, item in enumerate(value):
            for j in range(i):
                if _same(value[j], item):
                    return (*path, i), (f"{_show(item)} repeats '{key_path((*path, j))}': the items must be unique")
    if kind == "multipleOf":
        return path, f"{_show(value)} is not a multiple of {bound} (must be one)"
    if kind == "pattern":
        return path, f"{_show(value)} does not match the pattern {bound} (must match it)"
    if kind == "format" and bound == "token":
        from ..datasets.text_sources import tokenize

        return path, (f"{_show(value)} is not a single token of the tokeniser (it reads {tokenize(value)}): must be "
                      f"lower-case letters and digits, optionally ending in + or #, as the text builder tokenises "
                      f"documents")
    return path, err.message


def _describe_alternatives(err, root: Mapping[str, Any], path: tuple) -> tuple[tuple, str]:
    """oneOf/anyOf: alternatives that each require a key (give 'alpha' or 'alpha_ratio') name the key; others
    name the deepest error of the alternatives."""
    value, alternatives = err.instance, err.validator_value
    if isinstance(value, Mapping) and all(set(a) == {"required"} for a in alternatives):
        keys = [k for a in alternatives for k in a["required"]]
        either = " or ".join(f"'{key_path((*path, k))}'" for k in keys)
        present = [k for k in keys if k in value]
        if not present:
            return (*path, keys[0]), f"required key missing: give {either}"
        return (*path, present[-1]), f"give {either}, not both"
    described = [d for d in (_describe(e, root) for e in err.context) if d is not None]
    if described:
        return max(described, key=lambda d: len(d[0]))
    return path, err.message


def _same(a, b) -> bool:
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _first_error(errors, root: Mapping[str, Any], prefix=()) -> ConfigError | None:
    """The one error to report: the deepest of the errors that are not echoes of another (a single mistake
    gives one error, a moved key two: the key missing where it was and unknown where it went)."""
    described = [d for d in (_describe(e, root) for e in errors) if d is not None]
    if not described:
        return None
    path, message = max(described, key=lambda d: len(d[0]))  # max keeps the first of equal depth
    return ConfigError(f"config key '{key_path([*prefix, *path])}': {message}")


def _with_learners(config: Mapping[str, Any]) -> dict:
    """A copy in which every algorithm names its learner (an entry's name is its default learner)."""
    config = copy.deepcopy(dict(config))
    for name, algo in (config.get("algorithms") or {}).items():
        if isinstance(algo, dict):
            algo.setdefault("learner", name)
    return config


def validate(config: Mapping[str, Any], schema: Mapping[str, Any], remember: bool = True) -> None:
    """Validate against the JSON schema, then the cross-references, then what the config alone says about the
    data (:mod:`checks`): raise one ConfigError naming the key, before any job."""
    from ..learners import LEARNERS

    _refuse_nonfinite(config)
    for name, algo in (config.get("algorithms") or {}).items():
        if isinstance(algo, Mapping) and "learner" not in algo and name not in LEARNERS:
            raise ConfigError(f"config key 'algorithms.{name}.learner': required key missing: no learner is named "
                              f"'{name}', so say which learner it runs (learners: {', '.join(LEARNERS.names())})")
    marker = _validated_marker(config, schema) if remember else None
    if marker is not None and marker.exists():
        return
    error = _first_error(_validator(schema).iter_errors(_with_learners(config)), schema)
    if error is not None:
        raise error
    _check_references(config, schema)
    from . import checks

    checks.check(config, schema)
    if marker is not None:
        with contextlib.suppress(OSError):  # a read-only working directory: validate every time
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()


def _refuse_nonfinite(node: Any, where: tuple = ()) -> None:
    """A number that is not finite (YAML's .nan, .inf) is no setting: JSON schema's bounds compare false against
    NaN, so it would pass them and fail inside a job. One ConfigError naming its key."""
    if isinstance(node, float) and not math.isfinite(node):
        raise ConfigError(f"config key '{key_path(where)}': {_show(node)} is not a finite number: must be one")
    if isinstance(node, Mapping):
        for key, value in node.items():
            _refuse_nonfinite(value, (*where, key))
    elif isinstance(node, list | tuple):
        for i, value in enumerate(node):
            _refuse_nonfinite(value, (*where, i))


@functools.cache
def _checks_version() -> str:
    """What else decides whether a config passes: the code of every package module the checks import (their code
    hashes, as a job's: :mod:`codehash`), and the registries' metadata they read without importing the entries
    (classes, data kinds, parameters)."""
    from .. import codehash
    from ..datasets.builders import BUILDERS
    from ..datasets.generators import GENERATORS
    from ..learners import LEARNERS
    from ..models import MODELS
    from ..signals import SIGNALS

    code = codehash.code_hashes((__name__,))
    metadata = [(e.name, e.meta) for reg in (BUILDERS, GENERATORS, LEARNERS, MODELS, SIGNALS) for e in reg]
    return hashlib.sha256((repr(sorted(code.items())) + repr(metadata)).encode()).hexdigest()


def _validated_marker(config: Mapping[str, Any], schema: Mapping[str, Any]) -> Path | None:
    """A file whose presence says that exactly this config passed exactly this schema and these checks (all
    hashed), kept in Snakemake's folder of the working directory where there is one: a dry run with an
    unchanged config skips the checks (a fifth of its time), any change to any of them is checked again."""
    from ..store import canonical_json

    if not VALIDATED_DIR.parent.parent.is_dir():
        return None
    digest = hashlib.sha256(canonical_json([config, schema, _checks_version()]).encode()).hexdigest()[:32]
    return VALIDATED_DIR / digest


def validate_at(instance: Any, schema: Mapping[str, Any], definition: str, key: tuple) -> None:
    """Validate one value against ``$defs/<definition>``; the error names ``key`` and below."""
    sub = {"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
    error = _first_error(_validator(sub).iter_errors(instance), sub, key)
    if error is not None:
        raise error


def _defined(section: str, name: str, names) -> str:
    """Where a name that is referred to would be defined, and what is."""
    return f"(no key '{section}.{name}'; defined: {', '.join(sorted(map(str, names)))})"


def _check_references(config: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
    from ..datasets import maker
    from ..datasets.builders import BUILDERS
    from ..datasets.generators import GENERATORS

    datasets = config["datasets"]
    for name, spec in datasets.items():
        where = f"datasets.{name}"
        if "generator" not in spec and "builder" not in spec:
            raise ConfigError(f"config key '{where}.generator': required key missing: a dataset needs "
                              f"'{where}.generator' (synthetic data: {', '.join(GENERATORS.names())}) or "
                              f"'{where}.builder' (external data: {', '.join(BUILDERS.names())})")
        if "generator" in spec and "builder" in spec:
            raise ConfigError(f"config key '{where}.builder': a dataset takes '{where}.generator' (synthetic) or "
                              f"'{where}.builder' (external data), not both")
        family = maker(spec).meta.get("family")
        if family and (family in spec) + (f"{family}s" in spec) != 1:
            kind = "generator" if "generator" in spec else "builder"
            both = family in spec
            raise ConfigError(f"config key '{where}.{family + 's' if both else family}': "
                              + ("" if both else "required key missing: ")
                              + f"{kind} '{spec[kind]}' takes '{where}.{family}' (one dataset) or '{where}.{family}s' "
                              f"(a family: one dataset per value)" + (", not both" if both else ""))
        if spec["model"] not in config["models"]:
            raise ConfigError(f"config key '{where}.model': unknown model '{spec['model']}' "
                              f"{_defined('models', spec['model'], config['models'])}")
        for algo, override in (spec.get("algorithms") or {}).items():
            if algo not in config["algorithms"]:
                raise ConfigError(f"config key '{where}.algorithms.{algo}': no algorithm '{algo}' to override "
                                  f"{_defined('algorithms', algo, config['algorithms'])}")
            merged = deep_merge(_with_learners(config)["algorithms"][algo], override)
            validate_at(merged, schema, "algorithm", ("datasets", name, "algorithms", algo))
    for panel, spec in config["panels"].items():
        if spec["dataset"] not in datasets:
            raise ConfigError(f"config key 'panels.{panel}.dataset': unknown dataset '{spec['dataset']}' "
                              f"{_defined('datasets', spec['dataset'], datasets)}")
        for i, alpha in enumerate(spec.get("per_epoch_alphas", [])):
            if alpha not in spec["alphas"]:
                raise ConfigError(f"config key 'panels.{panel}.per_epoch_alphas[{i}]': {alpha} is not one of the "
                                  f"panel's alphas ('panels.{panel}.alphas': {spec['alphas']}); it must be")
        for i, algo in enumerate(spec["algorithms"]):
            if algo not in config["algorithms"]:
                raise ConfigError(f"config key 'panels.{panel}.algorithms[{i}]': unknown algorithm '{algo}' "
                                  f"{_defined('algorithms', algo, config['algorithms'])}")
    _check_studies(config)
    from ..figures.catalog import FIGURES

    atlas_figures = atlas_figure_names(config)
    for figure in config["figures"]:
        if figure != "style" and figure not in FIGURES and figure not in atlas_figures:
            raise ConfigError(f"config key 'figures.{figure}': unknown figure (known: "
                              f"{', '.join(sorted([*FIGURES, *atlas_figures]))})")


def atlas_figure_names(config: Mapping[str, Any]) -> set[str]:
    """The figures an atlas draws (its styles live under 'figures' beside the catalog's)."""
    return {f"atlas_{a}{suffix}" for a in (config.get("atlases") or {}) for suffix in ("", "_curve")}


def _check_studies(config: Mapping[str, Any]) -> None:
    """Every study's panels and reads are defined panels, and every panel belongs to exactly one study (its claims
    and its place in the default target follow from it)."""
    owner: dict[str, str] = {}
    for name, study in config["studies"].items():
        for field in ("panels", "reads"):
            for i, panel in enumerate(study.get(field, [])):
                if panel not in config["panels"]:
                    raise ConfigError(f"config key 'studies.{name}.{field}[{i}]': unknown panel '{panel}' "
                                      f"{_defined('panels', panel, config['panels'])}")
        for i, panel in enumerate(study["panels"]):
            if panel in owner:
                raise ConfigError(f"config key 'studies.{name}.panels[{i}]': panel '{panel}' is built by study "
                                  f"'{owner[panel]}' already; another study reads it (studies.{name}.reads)")
            owner[panel] = name
    for panel in config["panels"]:
        if panel not in owner:
            raise ConfigError(f"config key 'panels.{panel}': no study builds it (list it under a study's panels: "
                              f"{', '.join(f'studies.{n}.panels' for n in config['studies'])})")


def load_config_file(path: str | Path, schema_path: str | Path = REPO_SCHEMA) -> dict[str, Any]:
    """Load and validate a YAML config file (for use outside Snakemake)."""
    with open(path) as fh:
        config = yaml.load(fh, Loader=SAFE_LOADER)
    validate(config, load_schema(schema_path))
    return config
