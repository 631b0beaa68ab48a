"""Bad config is named right, before any job: one ConfigError whose message starts with the wrong key's path and
says what it must be (issue 19).

- every bound, enum and type of every learner hyperparameter, signal, generator and builder parameter, generated
  from the registries (a new entry is covered without editing this file);
- the cross-field checks of ``collective_action.checks`` (each with a config that trips it);
- the probes of the issue, in process and through the real command line (no file written).
"""
from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
import yaml

from collective_action.configuration import validation as cfgmod
from collective_action.datasets.builders import BUILDERS
from collective_action.datasets.generators import GENERATORS
from collective_action.learners import LEARNERS
from collective_action.signals import SIGNALS
from conftest import SCHEMA, copy_workflow, tiny_config


def _unaliased(cfg: dict) -> dict:
    """A copy without YAML aliases (config.yaml's text datasets share their anchor's mappings)."""
    return json.loads(json.dumps(cfg))


@pytest.fixture(scope="module")
def base(repo_config) -> dict:
    return _unaliased(repo_config)


@pytest.fixture(scope="module")
def schema() -> dict:
    return cfgmod.load_schema(SCHEMA)


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path, monkeypatch):
    """Validate outside the repository, so that no 'validated' marker lands in its .snakemake."""
    monkeypatch.chdir(tmp_path)


def error_of(cfg: dict, schema: dict) -> str:
    with pytest.raises(cfgmod.ConfigError) as err:
        cfgmod.validate(cfg, schema)
    return str(err.value)


def assert_names(message: str, key: str, *phrases: str) -> None:
    assert message.startswith(f"config key '{key}': "), message
    for phrase in phrases:
        assert phrase in message, (phrase, message)


# ----------------------------------------------------------------------------- bounds from the registries
def _types(prop: dict) -> list[str]:
    t = prop.get("type", [])
    return [t] if isinstance(t, str) else list(t)


def bad_values(prop: dict) -> list[tuple[object, str, list[str]]]:
    """(value, bound, phrases of the message) for each bound, enum and type of a parameter's schema."""
    types, out = _types(prop), []
    integer = "integer" in types and "number" not in types
    step = 1 if integer else 0.5
    if "minimum" in prop:
        out.append((prop["minimum"] - step, "minimum", [f"must be >= {prop['minimum']}"]))
    if "exclusiveMinimum" in prop:
        out.append((prop["exclusiveMinimum"], "exclusiveMinimum", [f"must be > {prop['exclusiveMinimum']}"]))
    if "maximum" in prop:
        out.append((prop["maximum"] + step, "maximum", [f"must be <= {prop['maximum']}"]))
    if "exclusiveMaximum" in prop:
        out.append((prop["exclusiveMaximum"], "exclusiveMaximum", [f"must be < {prop['exclusiveMaximum']}"]))
    if "enum" in prop:
        out.append(("zz_not_allowed", "enum", ["must be one of", *map(str, prop["enum"])]))
    if prop.get("minLength"):
        out.append(("x" * (prop["minLength"] - 1), "minLength", ["must be a non-empty string" if prop["minLength"] == 1
                                                                 else f"at least {prop['minLength']}"]))
    if prop.get("minItems"):
        item = valid_value(prop.get("items", {}))
        out.append(([item] * (prop["minItems"] - 1), "minItems", ["must have at least"]))
    if integer and "integer" in types:
        out.append((2.0, "type", ["must be an integer"]))  # strict: a float is not an integer
    if types:
        wrong = next(v for v in ("zz", True, [1], {"zz": 1}) if not _fits(v, types))
        words = [cfgmod.TYPE_WORDS[t] for t in types]
        out.append((wrong, "type", ["must be", *words]))
    return out


def _fits(value, types: list[str]) -> bool:
    kind = {str: "string", bool: "boolean", list: "array", dict: "object"}[type(value)]
    return kind in types


def valid_value(prop: dict):
    """A value the parameter's schema takes."""
    if "default" in prop:
        return prop["default"]
    if "enum" in prop:
        return prop["enum"][0]
    types = _types(prop)
    if "integer" in types or "number" in types:
        low = prop.get("minimum", prop.get("exclusiveMinimum", 0))
        value = low + 1 if "exclusiveMinimum" in prop else max(low, 1)
        high = prop.get("maximum", prop.get("exclusiveMaximum"))
        if high is not None and value >= high:
            value = (low + high) / 2
        return int(value) if "integer" in types and "number" not in types else value
    if "array" in types:
        return [valid_value(prop.get("items", {}))] * max(prop.get("minItems", 1), 1)
    if "string" in types:
        return "x" * max(prop.get("minLength", 1), 1)
    if "null" in types:
        return None
    return 1


def _dataset_for(cfg: dict, maker: str, key: str, registry) -> str:
    """A dataset of the config made by ``maker`` (``key`` is 'generator' or 'builder'): one the config has, or
    one made from a dataset of the same data kind with its keys set to valid values."""
    for name, spec in cfg["datasets"].items():
        if spec.get(key) == maker:
            return name
    meta = registry.meta(maker)
    kind = meta.get("data_kind")
    donor = next(n for n, s in cfg["datasets"].items()
                 if (GENERATORS if "generator" in s else BUILDERS).meta(s.get("generator") or s.get("builder"))
                 .get("data_kind") == kind and "collective_2" not in s)
    spec = {k: v for k, v in cfg["datasets"][donor].items() if k in ("seed", "seeds", "model", "signal", "n_train",
                                                                      "n_val", "n_test")}
    spec[key] = maker
    for req in meta.get("required", []):
        spec.setdefault(req, valid_value(meta.get("parameters", {}).get(req, {"type": "integer", "minimum": 1})))
    if meta.get("family"):
        spec[meta["family"]] = valid_value(meta["parameters"][meta["family"]])
    cfg["datasets"]["probe_dataset"] = spec
    return "probe_dataset"


def _signal_dataset(cfg: dict, signal: str) -> str:
    """A dataset of the config whose data the signal takes (one that uses it if there is one)."""
    meta = SIGNALS.meta(signal)
    for name, spec in cfg["datasets"].items():
        if spec["signal"]["kind"] == signal:
            return name
    for name, spec in cfg["datasets"].items():
        entry = GENERATORS.entry(spec["generator"]) if "generator" in spec else BUILDERS.entry(spec["builder"])
        if (not meta.get("data_kinds") or entry.meta.get("data_kind") in meta["data_kinds"]) and \
                (not meta.get("makers") or entry.name in meta["makers"]):
            spec["signal"] = {"kind": signal, "target_label": 0}
            return name
    raise AssertionError(f"no dataset of config.yaml takes signal '{signal}'")


def bound_cases() -> list:
    cases = []
    for entry in LEARNERS:
        for key, prop in entry.meta.get("hyperparameters", {}).items():
            cases += [("learner", entry.name, key, *bad) for bad in bad_values(prop)]
    for entry in SIGNALS:
        for key, prop in entry.meta.get("parameters", {}).items():
            cases += [("signal", entry.name, key, *bad) for bad in bad_values(prop)]
    for kind, registry in (("generator", GENERATORS), ("builder", BUILDERS)):
        for entry in registry:
            for key, prop in entry.meta.get("parameters", {}).items():
                cases += [(kind, entry.name, key, *bad) for bad in bad_values(prop)]
                if key == entry.meta.get("family"):  # the family list's items take the same bounds
                    cases += [(kind, entry.name, f"{key}s[0]", *bad) for bad in bad_values(prop) if bad[1] != "type"]
    return cases


CASES = bound_cases()


def test_every_bounded_registry_parameter_has_a_case():
    """The generated cases cover every learner, signal and maker parameter that has a bound, an enum or a type."""
    covered = {(kind, name, key.split("s[")[0] if key.endswith("s[0]") else key) for kind, name, key, *_ in CASES}
    for kind, registry, attr in (("learner", LEARNERS, "hyperparameters"), ("signal", SIGNALS, "parameters"),
                                 ("generator", GENERATORS, "parameters"), ("builder", BUILDERS, "parameters")):
        for entry in registry:
            for key, prop in entry.meta.get(attr, {}).items():
                if {"minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "enum", "type"} & set(prop):
                    assert (kind, entry.name, key) in covered


@pytest.mark.parametrize("kind, name, key, value, bound, phrases", CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}-{c[4]}" for c in CASES])
def test_a_value_outside_a_registry_bound_names_the_key_and_the_bound(base, schema, kind, name, key, value, bound,
                                                                      phrases):
    cfg = copy.deepcopy(base)
    if kind == "learner":
        cfg["algorithms"]["probe_algorithm"] = {"learner": name, key: value}
        path = f"algorithms.probe_algorithm.{key}"
    elif kind == "signal":
        dataset = _signal_dataset(cfg, name)
        cfg["datasets"][dataset]["signal"][key] = value
        path = f"datasets.{dataset}.signal.{key}"
    else:
        registry = GENERATORS if kind == "generator" else BUILDERS
        dataset = _dataset_for(cfg, name, kind, registry)
        spec = cfg["datasets"][dataset]
        family = registry.meta(name).get("family")
        if family and key in (family, f"{family}s[0]"):
            spec.pop(family, None)
            spec.pop(f"{family}s", None)
            spec.update({family: value} if key == family else {f"{family}s": [value]})
        else:
            spec[key] = value
        path = f"datasets.{dataset}.{key}"
    assert_names(error_of(cfg, schema), path, *phrases)


# ----------------------------------------------------------------------------- the issue's probes
def _set(path: str, value):
    def edit(cfg):
        *parents, last = path.split(".")
        node = cfg
        for part in parents:
            node = node[part]
        node[last] = value
    return edit


# (key, value, a target that needs it, a phrase of the message); the first seven named another key before
PROBES = [
    ("algorithms.jtt.upweight", -5, None, "must be >= 1"),
    ("algorithms.cvar_dro.fraction", 0, None, "must be > 0"),
    ("algorithms.dp_sgd_eps1.target_epsilon", -1, None, "must be > 0"),
    ("algorithms.dp_sgd_eps1.delta", 1, None, "must be < 1"),
    ("algorithms.adversarial_r005.radius", -0.1, None, "must be >= 0"),
    ("algorithms.adversarial_r005.steps", 0, None, "must be >= 1"),
    ("datasets.resumes.signal.token", "", "results/tables/text_alpha.csv", "non-empty"),
    # known from the config alone, found before only inside training, the poison step or the prepared corpus
    ("datasets.resumes.signal.target_label", 7, "results/tables/text_alpha.csv", "its 4 classes"),
    ("datasets.two_2d.collective_2.alpha", 0.9, "results/tables/two_collectives.csv",
     "'panels.two_collectives.alphas[1]'"),
    ("datasets.resumes.signal.token", "zq-x", "results/tables/text_alpha.csv", "not a single token of the tokeniser"),
    # numbers that are not finite: JSON schema's bounds compare false against NaN
    ("algorithms.dp_sgd_eps1.target_epsilon", float("nan"), None, "nan is not a finite number"),
    ("training.lr", float("nan"), "results/tables/fig1b.csv", "nan is not a finite number"),
    ("claims.paper_crossing", float("inf"), None, "inf is not a finite number"),
]


@pytest.mark.parametrize("key, value, target, phrase", PROBES, ids=[f"{p[0]}={p[1]!r}" for p in PROBES])
def test_the_issue_probes_name_the_key(repo_config, schema, key, value, target, phrase):
    cfg = _unaliased(tiny_config(repo_config))
    _set(key, value)(cfg)
    assert_names(error_of(cfg, schema), key, phrase)


def test_the_issue_probes_stop_the_real_command_before_any_job(tmp_path, repo_config):
    """`snakemake --cores 1 <target>` (not a dry run) exits non-zero naming the key, and writes no result."""
    copy_workflow(tmp_path)
    tiny = _unaliased(tiny_config(repo_config))
    for key, value, target, phrase in PROBES:
        cfg = copy.deepcopy(tiny)
        _set(key, value)(cfg)
        (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
        proc = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", *([target] if target else [])],
                              cwd=tmp_path, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0, (key, out[-2000:])
        assert f"config key '{key}': " in out and phrase in out, (key, out[-2000:])
        for folder in ("results", "figures", "logs"):
            assert not (tmp_path / folder).exists(), (key, folder)


# ----------------------------------------------------------------------------- the schema's errors
@pytest.mark.parametrize("edit, key, phrase", [
    (lambda c: c["training"].update(epochs=10.0), "training.epochs", "must be an integer"),
    (lambda c: c.update(seeds=True), "seeds", "must be an integer"),
    (lambda c: c["figures"]["style"].update(width=True), "figures.style.width", "must be a number"),
    (lambda c: c["datasets"]["2d"].pop("seed"), "datasets.2d.seed", "required key missing"),
    (lambda c: c["datasets"]["two_2d"]["collective_2"].pop("signal"), "datasets.two_2d.collective_2.signal",
     "required key missing"),
    (lambda c: c["datasets"]["2d"]["signal"].pop("kind"), "datasets.2d.signal.kind", "required key missing"),
    (lambda c: c["datasets"]["2d"]["signal"].update(kind="nope"), "datasets.2d.signal.kind", "must be one of"),
    (lambda c: c["datasets"]["2d"]["signal"].update(token="zqx"), "datasets.2d.signal.token", "unknown key"),
    (lambda c: c["datasets"]["resumes"]["signal"].update(delta=2), "datasets.resumes.signal.delta", "unknown key"),
    (lambda c: c["datasets"]["lms"].update(margin=2), "datasets.lms.margin", "must be < 1"),
    (lambda c: c["datasets"]["lms"].update(colour=1), "datasets.lms.colour", "unknown key"),
    (lambda c: c["datasets"]["lms"].pop("slab_gap"), "datasets.lms.slab_gap", "required key missing"),
    (lambda c: c["datasets"]["lms"].pop("ks"), "datasets.lms.k", "'datasets.lms.ks'"),
    (lambda c: c["datasets"]["2d"].pop("generator"), "datasets.2d.generator", "required key missing"),
    (lambda c: c["algorithms"]["jtt"].update(upweigth=3), "algorithms.jtt.upweigth", "allowed here: "),
    (lambda c: c["algorithms"]["dp_sgd_eps1"].pop("learner"), "algorithms.dp_sgd_eps1.learner",
     "required key missing"),
    (lambda c: c["datasets"]["cifar10"]["algorithms"]["jtt"].update(upweight=0),
     "datasets.cifar10.algorithms.jtt.upweight", "must be >= 1"),
    (lambda c: c["models"]["cnn"].update(embed_dim=8), "models.cnn.embed_dim", "unknown key"),
    (lambda c: c["models"]["cnn"].update(stem="cifar"), "models.cnn.stem", "must be one of 'patch2', 'conv3'"),
    (lambda c: c["models"]["mlp"].pop("hidden"), "models.mlp.hidden", "required key missing"),
    (lambda c: c["sources"].update(cifar10={"kind": "standin"}), "sources.cifar10.kind", "must be one of"),
    (lambda c: c["sources"].update(cifar10={"kind": "npz"}), "sources.cifar10.path", "read from 'path'"),
    (lambda c: c["sources"]["wordnet"].pop("path"), None, None),  # WordNet has a default folder
    (lambda c: c["panels"]["fig1b"].update(alphas=[0.1, 0.2, 0.1]), "panels.fig1b.alphas[2]",
     "repeats 'panels.fig1b.alphas[0]'"),
    (lambda c: c["panels"]["fig3_2d"].update(per_epoch_alphas=[0.7]), "panels.fig3_2d.per_epoch_alphas[0]",
     "'panels.fig3_2d.alphas'"),
    (lambda c: c["datasets"].update({"bad-name": c["datasets"]["2d"]}), "datasets.bad-name", "must match"),
    (lambda c: c["datasets"].pop("2d"), "panels.fig1b.dataset", "'datasets.2d'"),
    (lambda c: c["algorithms"].pop("lff"), "panels.fig1b.algorithms[2]", "'algorithms.lff'"),
    (lambda c: c["datasets"]["2d"].update(seed=c["datasets"]["2d"]["signal"].pop("target_label")),
     "datasets.2d.signal.target_label", "required key missing"),
])
def test_a_schema_error_names_the_key_and_what_it_must_be(base, schema, edit, key, phrase):
    cfg = copy.deepcopy(base)
    edit(cfg)
    if key is None:
        cfgmod.validate(cfg, schema)
    else:
        assert_names(error_of(cfg, schema), key, phrase)


# ----------------------------------------------------------------------------- cross-field checks
@pytest.mark.parametrize("edit, key, phrase", [
    # data kinds: models and signals that cannot take the dataset's data
    (lambda c: c["datasets"]["2d"].update(model="cnn"), "datasets.2d.model", "takes images"),
    (lambda c: c["datasets"]["cifar10"].update(model="text_bag"), "datasets.cifar10.model", "kind cnn or resnet50"),
    (lambda c: c["datasets"]["resumes"].update(model="mlp"), "datasets.resumes.model", "text_bag"),
    (lambda c: c["datasets"]["2d"]["signal"].update(kind="pixel_grid"), "datasets.2d.signal.kind",
     "must be one of reflect_x1_negative"),
    (lambda c: c["datasets"]["cifar10"].update(signal={"kind": "cifar_half_pool", "target_label": 1}),
     "datasets.cifar10.signal.kind", "data made by mnist_cifar"),
    (lambda c: c["datasets"]["cifar10"].update(signal={"kind": "token_insert", "token": "zqx", "target_label": 1}),
     "datasets.cifar10.signal.kind", "plants in text"),
    (lambda c: c["datasets"]["two_2d"]["collective_2"]["signal"].update(kind="token_insert"),
     "datasets.two_2d.collective_2.signal.kind", "plants in text"),
    # target labels within the dataset's classes, both collectives, every data kind
    (lambda c: c["datasets"]["2d"]["signal"].update(target_label=2), "datasets.2d.signal.target_label",
     "its 2 classes are the labels 0 to 1; must be < 2"),
    (lambda c: c["datasets"]["two_2d"]["collective_2"]["signal"].update(target_label=5),
     "datasets.two_2d.collective_2.signal.target_label", "must be < 2"),
    (lambda c: c["datasets"]["cifar10"]["signal"].update(target_label=10), "datasets.cifar10.signal.target_label",
     "must be < 10"),
    (lambda c: c["datasets"]["waterbirds"]["signal"].update(target_label=2), "datasets.waterbirds.signal.target_label",
     "must be < 2"),
    (lambda c: c["datasets"]["mnist_cifar_car"]["signal"].update(target_label=2),
     "datasets.mnist_cifar_car.signal.target_label", "must be < 2"),
    (lambda c: c["datasets"]["fashion10"]["signal"].update(target_label=10), "datasets.fashion10.signal.target_label",
     "must be < 10"),
    (lambda c: c["datasets"]["resumes_two"]["collective_2"]["signal"].update(target_label=4),
     "datasets.resumes_two.collective_2.signal.target_label", "'datasets.resumes_two.classes'"),
    # text: the planted token, its position, the family's spacing, the stand-in's labels, the splits
    (lambda c: c["datasets"]["resumes"]["signal"].update(token="Zqx"), "datasets.resumes.signal.token",
     "not a single token"),
    (lambda c: c["datasets"]["resumes_two"]["collective_2"]["signal"].update(token="v q"),
     "datasets.resumes_two.collective_2.signal.token", "it reads ['v', 'q']"),
    (lambda c: c["datasets"]["resumes"]["signal"].update(start=32), "datasets.resumes.signal.start",
     "must be < max_len = 32"),
    (lambda c: c["datasets"]["resumes_spacing"]["signal"].update(every=3), "datasets.resumes_spacing.signal.every",
     "'datasets.resumes_spacing.ks'"),
    (lambda c: c["datasets"]["resumes"]["classes"].__setitem__(1, "noun.artefact"), "datasets.resumes.classes[1]",
     "WordNet lexicographer file"),
    (lambda c: c["datasets"]["resumes"].update(max_per_class=100), "datasets.resumes.n_test",
     "leave no training documents"),
    # models and learners
    (lambda c: c["models"]["text_transformer"].update(heads=3), "models.text_transformer.heads",
     "does not divide embed_dim = 32"),
    (lambda c: c["models"]["text_transformer"].pop("embed_dim") and c["models"]["text_transformer"].update(heads=3),
     "models.text_transformer.heads", "embed_dim = 64 ('models.text_transformer.embed_dim', its default)"),
    (lambda c: c["algorithms"]["dp_sgd_eps1"].update(target_epsilon=None), "algorithms.dp_sgd_eps1.target_epsilon",
     "exactly one of 'algorithms.dp_sgd_eps1.noise_multiplier' and 'algorithms.dp_sgd_eps1.target_epsilon'"),
    (lambda c: c["algorithms"]["dp_sgd_eps8"].update(noise_multiplier=1.0), "algorithms.dp_sgd_eps8.noise_multiplier",
     "target_epsilon = 8.0"),
    (lambda c: c["datasets"]["2d"].update(algorithms={"dp_sgd_eps1": {"noise_multiplier": 0.5}}),
     "datasets.2d.algorithms.dp_sgd_eps1.noise_multiplier", "target_epsilon = 1.0"),
    # the two collectives' sizes: the sum, and the rounding where n_train is known
    (lambda c: c["panels"]["two_collectives"]["alphas"].append(0.85), "datasets.two_2d.collective_2.alpha",
     "'panels.two_collectives.alphas[10]'"),
    (lambda c: c["datasets"]["two_2d"].update(n_train=10) or c["datasets"]["two_2d"]["collective_2"].update(alpha=0.55)
     or c["panels"]["two_collectives"].update(alphas=[0.45]), "datasets.two_2d.collective_2.alpha",
     "5 + 6 = 11 of the n_train = 10"),
    (lambda c: c["datasets"]["resumes_two"]["collective_2"].update(alpha=0.95), "datasets.resumes_two.collective_2.alpha",
     "0.1 + 0.95 = 1.05 of the training set"),
])
def test_a_cross_field_problem_is_named_before_any_job(base, schema, edit, key, phrase):
    cfg = copy.deepcopy(base)
    edit(cfg)
    assert_names(error_of(cfg, schema), key, phrase)


def test_collectives_that_exactly_fill_the_training_set_pass(base, schema):
    cfg = copy.deepcopy(base)
    cfg["datasets"]["two_2d"]["collective_2"]["alpha"] = 0.4
    cfg["panels"]["two_collectives"]["alphas"] = [0.0, 0.6]
    cfgmod.validate(cfg, schema)


def test_a_text_dataset_with_every_label_has_no_label_check_until_built(base, schema):
    """classes: null takes every label found: the number of classes is known only to the built dataset."""
    cfg = copy.deepcopy(base)
    cfg["datasets"]["resumes"]["classes"] = None
    cfg["datasets"]["resumes"]["signal"]["target_label"] = 7
    cfgmod.validate(cfg, schema)


def test_a_change_of_the_checks_is_checked_again(base, schema, tmp_path, monkeypatch):
    """The marker that lets an unchanged config skip validation also hashes the checks and the registries' metadata."""
    (tmp_path / ".snakemake").mkdir()
    cfgmod.validate(copy.deepcopy(base), schema)
    [marker] = list((tmp_path / cfgmod.VALIDATED_DIR).iterdir())
    monkeypatch.setattr(cfgmod, "_checks_version", lambda: "another version of the checks")
    cfgmod.validate(copy.deepcopy(base), schema)
    assert len(list((tmp_path / cfgmod.VALIDATED_DIR).iterdir())) == 2 and marker.exists()


def test_every_model_kind_has_its_keys_and_its_data(schema):
    """A model kind of the schema has a clause listing its keys (so another kind's key is an error) and the data it
    takes ('x-takes': the data kinds that generators and builders make)."""
    from collective_action.configuration.checks import DATA_WORDS, model_data_kinds

    model = schema["$defs"]["model"]
    kinds = model["properties"]["kind"]["enum"]
    clauses = [c["if"]["properties"]["kind"]["const"] for c in model["allOf"]]
    takes = model_data_kinds(schema)
    assert sorted(clauses) == sorted(kinds) == sorted(takes)
    assert all(data and set(data) <= set(DATA_WORDS) for data in takes.values()), takes
