"""What the config alone says is wrong, beyond its schema: checked before any job, one error naming the key.

The schema (``workflow/schemas/config.schema.yaml``, completed by the registries) checks each key on
its own; :func:`validation.validate` then checks the references between sections (a panel's dataset, a
dataset's model, a study's panels). This module checks what follows from several keys together and from the registries'
literal metadata, which the workflow reads without importing the entries (so without torch):

- a dataset's model and signals take the data its generator or builder makes (``data_kind`` of the
  maker, ``data_kinds`` and ``makers`` of a signal, ``takes`` of a model kind);
- target labels (both collectives') are labels of the dataset (``n_classes`` of the maker, or the
  length of the dataset key it names, the text builder's ``classes``);
- the two collectives of a dataset with ``collective_2`` fit in its training set at every alpha of
  every panel on it (they are disjoint; with the rounding of :func:`collective.collective_size` where
  the config gives the training set's size);
- a planted token's position lies inside the documents; a family that sets a signal parameter is not
  contradicted by the signal; the text STAND-IN's classes are WordNet lexicographer files; the text
  splits leave training documents;
- what a model kind declares beyond single keys (``divides``: a text transformer's heads divide its width);
- a learner's ``exactly_one_of`` groups (DP-SGD: noise_multiplier or target_epsilon) hold after defaults.

What depends on the data (a feature-only collective larger than the documents labelled y*, an image
source with too few images) is checked where the data is read, with its own message.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import ConfigError

DATA_WORDS = {"synthetic": "synthetic 2-D points", "image": "images", "text": "text (token ids)",
              "categorical": "categorical features (codes)"}


def _fail(key: str, message: str):
    raise ConfigError(f"config key '{key}': {message}")


def _words(kinds) -> str:
    return " or ".join(DATA_WORDS.get(k, k) for k in kinds)


def check(config: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
    """Raise one ConfigError for the first problem found (datasets in order, then models, algorithms and the
    collectives' sizes)."""
    takes = model_data_kinds(schema)
    for name, spec in config["datasets"].items():
        _dataset(name, spec, config, takes)
    _models(config, schema)
    _algorithms(config)
    _collective_sizes(config)
    _training(config)


# ----------------------------------------------------------------------------- training settings
def _training(config: Mapping[str, Any]) -> None:
    """A learning rate the training's float type cannot hold fails inside the optimiser ('value cannot be converted
    to type float without overflow'): name it here. (A large one that it can hold is the runs' business: they are
    stopped if they diverge, and flagged if they do not learn.)"""
    import numpy as np

    places = [("training", {})] + [(f"datasets.{name}.training", spec["training"])
                                   for name, spec in config["datasets"].items() if spec.get("training")]
    for where, own in places:
        training = {**config["training"], **own}
        lr, dtype = training.get("lr"), training.get("dtype", "float32")
        largest = float(np.finfo(dtype).max)
        if lr is not None and lr >= largest:
            _fail(f"{where}.lr" if "lr" in own else "training.lr",
                  f"{lr:g} is not a {dtype} number: must be < {largest:g}")


# ----------------------------------------------------------------------------- datasets
def _signals(spec: Mapping[str, Any]):
    yield "signal", spec["signal"]
    if spec.get("collective_2"):
        yield "collective_2.signal", spec["collective_2"]["signal"]


def _dataset(name: str, spec: Mapping[str, Any], config: Mapping[str, Any], model_takes: Mapping[str, list]) -> None:
    from ..datasets import declared_classes, is_synthetic, maker
    from ..signals import SIGNALS

    where = f"datasets.{name}"
    entry = maker(spec)
    made_by = f"{'generator' if is_synthetic(spec) else 'builder'} '{entry.name}'"
    data = entry.meta.get("data_kind")

    model = config["models"][spec["model"]]
    takes = model_takes.get(model["kind"])
    if data and takes and data not in takes:
        kinds = [k for k, d in model_takes.items() if data in d]
        fits = [m for m, s in config["models"].items() if s["kind"] in kinds]
        _fail(f"{where}.model", f"model '{spec['model']}' (kind {model['kind']}) takes {_words(takes)}, but {made_by} "
                                f"makes {_words([data])}: name a model of kind {' or '.join(kinds)}"
                                + (f" (defined: {', '.join(fits)})" if fits else " (none is defined under 'models')"))

    classes = declared_classes(spec)
    for key, signal in _signals(spec):
        at = f"{where}.{key}"
        meta = SIGNALS.meta(signal["kind"])
        kinds, makers = meta.get("data_kinds"), meta.get("makers")
        if (data and kinds and data not in kinds) or (makers and entry.name not in makers):
            fits = [e.name for e in SIGNALS if (not e.meta.get("data_kinds") or data in e.meta["data_kinds"])
                    and (not e.meta.get("makers") or entry.name in e.meta["makers"])]
            what = f"data made by {' or '.join(makers)}" if makers and entry.name not in makers else _words(kinds)
            _fail(f"{at}.kind", f"signal '{signal['kind']}' plants in {what}, but {made_by} makes {_words([data])}: "
                                f"must be one of {', '.join(fits)}")
        if classes is not None and signal["target_label"] >= classes[0]:
            n, names = classes
            listed = f" ('{where}.{entry.meta['n_classes']}': {', '.join(map(str, names))})" if names else ""
            _fail(f"{at}.target_label", f"{signal['target_label']} is not a label of dataset '{name}': its {n} classes"
                                        f"{listed} are the labels 0 to {n - 1}; must be < {n}")
        avoid = signal.get("avoid_label")
        if avoid is not None and (avoid == signal["target_label"] or (classes is not None and avoid >= classes[0])):
            _fail(f"{at}.avoid_label", f"{avoid} must be a label of dataset '{name}' other than the planted "
                                       f"target_label {signal['target_label']}")
        _feature_values(at, signal, meta, entry)
        params = entry.meta.get("parameters", {})
        if "start" in signal and "max_len" in params:
            max_len = spec.get("max_len", params["max_len"].get("default"))
            if max_len is not None and signal["start"] >= max_len:
                _fail(f"{at}.start", f"{signal['start']} is not inside the documents: must be < max_len = {max_len} "
                                     f"('{where}.max_len'{'' if 'max_len' in spec else ', its default'}), or the "
                                     f"planted token is truncated away")

    family, target = entry.meta.get("family"), entry.meta.get("family_signal")
    if family and target and target in spec["signal"]:
        listed = f"{family}s" if f"{family}s" in spec else family
        values = spec[listed] if listed != family else [spec[family]]
        if any(v != spec["signal"][target] for v in values):
            _fail(f"{where}.signal.{target}", f"{spec['signal'][target]} contradicts '{where}.{listed}' = "
                                              f"{spec[listed]}, which sets it for each dataset; leave it out")
    if entry.meta.get("data_kind") == "text":
        _text(where, spec, config)


def _feature_values(at: str, signal: Mapping[str, Any], meta: Mapping[str, Any], entry) -> None:
    """A signal parameter declared ``"x-values-of": "<attribute>"`` maps features of the data to values: each
    feature must be a key of the maker's literal ``<attribute>`` (feature -> its values), each value one of them."""
    for key, schema in (meta.get("parameters") or {}).items():
        attribute = schema.get("x-values-of") if isinstance(schema, Mapping) else None
        if not attribute or key not in signal:
            continue
        known = entry.meta.get(attribute) or {}
        for feature, value in signal[key].items():
            if feature not in known:
                _fail(f"{at}.{key}.{feature}", f"the data made by '{entry.name}' has no feature {feature!r}: its "
                                               f"features are {', '.join(known)}")
            if value not in known[feature]:
                _fail(f"{at}.{key}.{feature}", f"{value!r} is not a value of feature {feature!r} of the data made by "
                                               f"'{entry.name}': must be one of {', '.join(map(str, known[feature]))}")


def _text(where: str, spec: Mapping[str, Any], config: Mapping[str, Any]) -> None:
    """The text builder's keys against each other and its source."""
    from ..datasets import needed_sources

    classes = spec.get("classes")
    source = needed_sources(spec, config["sources"]).get("resumes", {})
    if isinstance(classes, list) and source.get("kind") == "standin":
        from ..datasets.text_sources import WORDNET

        for i, label in enumerate(classes):
            if label not in WORDNET["lexnames"]:
                _fail(f"{where}.classes[{i}]", f"{label!r} is not a label of the text STAND-IN ('sources.resumes.kind' "
                                               f"is standin): must be a WordNet lexicographer file, one of "
                                               f"{', '.join(WORDNET['lexnames'])}")
    cap = spec.get("max_per_class")
    if isinstance(classes, list) and cap:
        total, held_out = cap * len(classes), spec["n_val"] + spec["n_test"]
        if held_out >= total:
            _fail(f"{where}.n_test", f"n_val + n_test = {held_out} leave no training documents: at most "
                                     f"'{where}.max_per_class' x len('{where}.classes') = {cap} x {len(classes)} = "
                                     f"{total} documents are read ('{where}.n_val' = {spec['n_val']}); must be < "
                                     f"{total - spec['n_val']}")


# ----------------------------------------------------------------------------- models
def _model_clauses(schema: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Each model kind's clause of ``$defs/model`` (its 'then': the keys it takes and, as 'x-takes', its data)."""
    return {c["if"]["properties"]["kind"]["const"]: c.get("then", {}) for c in schema["$defs"]["model"].get("allOf", [])
            if "const" in c.get("if", {}).get("properties", {}).get("kind", {})}


def model_data_kinds(schema: Mapping[str, Any]) -> dict[str, list[str]]:
    """What data each model kind takes (a generator's or builder's data_kind), as the schema declares it."""
    return {kind: list(clause.get("x-takes", [])) for kind, clause in _model_clauses(schema).items()}


def _model_default(schema: Mapping[str, Any], kind: str, key: str):
    return _model_clauses(schema).get(kind, {}).get("properties", {}).get(key, {}).get("default")


def _models(config: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
    """What a kind declares beyond single keys: ``divides`` (a transformer's heads must divide its width)."""
    from ..models import MODELS

    for name, model in config["models"].items():
        for part, whole in MODELS.meta(model["kind"]).get("divides", []):
            a = model.get(part, _model_default(schema, model["kind"], part))
            b = model.get(whole, _model_default(schema, model["kind"], whole))
            if a is not None and b is not None and b % a:
                default = "" if whole in model else ", its default"
                _fail(f"models.{name}.{part}", f"{a} does not divide {whole} = {b} ('models.{name}.{whole}'{default}): "
                                               f"it must divide it")


# ----------------------------------------------------------------------------- algorithms
def _algorithms(config: Mapping[str, Any]) -> None:
    from ..learners import LEARNERS, defaults

    for name, algo in config["algorithms"].items():
        learner = algo.get("learner", name)
        groups = LEARNERS.meta(learner).get("exactly_one_of", [])
        if not groups:
            continue
        places = [(f"algorithms.{name}", algo, dict(algo))]
        for dataset, spec in config["datasets"].items():
            override = (spec.get("algorithms") or {}).get(name)
            if override is not None:
                places.append((f"datasets.{dataset}.algorithms.{name}", override, {**algo, **override}))
        for where, given, merged in places:
            hp = {**defaults(learner), **merged}
            for group in groups:
                chosen = [k for k in group if hp.get(k) is not None]
                if len(chosen) == 1:
                    continue
                key = next((k for k in group if k in given), group[0])
                got = ", ".join(f"{k} = {'null' if hp.get(k) is None else hp[k]}{'' if k in merged else ' (default)'}"
                                for k in group)
                _fail(f"{where}.{key}", f"{learner} takes exactly one of "
                                        f"{' and '.join(repr(f'{where}.{k}') for k in group)} (the other null); got "
                                        f"{got}")


# ----------------------------------------------------------------------------- the collectives' sizes
def _collective_sizes(config: Mapping[str, Any]) -> None:
    """Two collectives are disjoint: collective_2 is drawn from the points outside collective 1 (collective.py), so
    round(alpha n) + round(alpha_2 n) must not exceed n, and alpha + alpha_2 not 1 (the poison step's own test)."""
    from ..collective import collective_size, second_alpha
    from ..datasets import is_synthetic

    for panel, p in config["panels"].items():
        spec = config["datasets"][p["dataset"]]  # a family's members share its collective_2 and sizes
        second = spec.get("collective_2")
        if not second:
            continue
        key = "alpha" if second.get("alpha") is not None else "alpha_ratio"
        n = spec.get("n_train") if is_synthetic(spec) else None
        for i, alpha in enumerate(p["alphas"]):
            a2 = second_alpha(second, alpha)
            k1, k2 = (collective_size(alpha, n), collective_size(min(a2, 1.0), n)) if n else (0, 0)
            if alpha + a2 > 1.0 or k1 + k2 > (n or 0):
                need = (f"{k1} + {k2} = {k1 + k2} of the n_train = {n} training points ('datasets.{p['dataset']}.n_train')"
                        if n else f"{alpha:g} + {a2:g} = {alpha + a2:g} of the training set")
                size = "" if key == "alpha" else f" (a second collective of {a2:g})"
                _fail(f"datasets.{p['dataset']}.collective_2.{key}",
                      f"{second[key]}{size} is too large beside the alpha {alpha} of panel '{panel}' "
                      f"('panels.{panel}.alphas[{i}]'): the two collectives are disjoint and together need {need}; "
                      f"alpha + the second collective's alpha must be at most 1")
