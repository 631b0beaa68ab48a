"""The workflow plan: artifact paths, each job's config slice, and the targets.

The Snakefile builds one :class:`Plan` from the validated config; rules ask it
for their inputs and params. A job's params are exactly the config it depends on
(resolved defaults and overrides included), so editing one algorithm's
hyperparameter changes the params of that algorithm's train jobs only, and
Snakemake's params trigger reruns those and what reads their outputs.
"""
from __future__ import annotations

import re
from itertools import product
from typing import Any, Mapping

from . import config as cfgmod
from .catalog import FIGURES, key_data, key_epochs, key_run, key_table
from .datasets import check_staged, is_synthetic, needed_sources

RESULTS = "results"
FIGURES_DIR = "figures"
WILDCARDS = {
    "dataset": r"[A-Za-z0-9][A-Za-z0-9_]*",
    "algorithm": r"[a-z_]+",
    "alpha": r"[0-9][0-9.e+-]*",
    "alpha_val": r"[0-9][0-9.e+-]*",
    "panel": r"[A-Za-z0-9_]+",
    "figure": r"[A-Za-z0-9_]+",
}


def fmt_alpha(alpha: float | str) -> str:
    """Shortest text that reads back as the same float (0.1 -> '0.1', 1e-05 -> '1e-05').

    Strings (wildcard patterns such as '{alpha}', or values parsed from a path) pass unchanged."""
    return alpha if isinstance(alpha, str) else repr(float(alpha))


def expand_datasets(datasets: Mapping[str, Any]) -> tuple[dict[str, dict], dict[str, list[str]]]:
    """Concrete datasets, and the families that a ``ks`` list expands into.

    ``lms: {generator: lms_k, ks: [2, 4], ...}`` becomes ``lms_k2`` and ``lms_k4``, each
    with its own ``k``; a member's spec does not contain the list, so editing the list
    leaves the other members' jobs untouched."""
    concrete: dict[str, dict] = {}
    families: dict[str, list[str]] = {}
    for name, spec in datasets.items():
        lists = [key for key in FAMILY_LISTS if key in spec]
        if not lists:
            concrete[name] = dict(spec)
            continue
        key = lists[0]
        value_key, suffix = FAMILY_LISTS[key]
        members = []
        for value in spec[key]:
            member = {k: v for k, v in spec.items() if k != key}
            member.update({value_key: value, "family": name})
            concrete[f"{name}_{suffix(value)}"] = member
            members.append(f"{name}_{suffix(value)}")
        families[name] = members
    return concrete, families


# list key -> (the member's key, its name suffix): lms with ks [2, 4] -> lms_k2, lms_k4;
# mnist_cifar_car with cs [0, 0.5] -> mnist_cifar_car_c0, mnist_cifar_car_c50 (c in percent)
FAMILY_LISTS = {"ks": ("k", lambda k: f"k{int(k)}"), "cs": ("c", lambda c: f"c{round(float(c) * 100)}")}



def rst_escape(text: str) -> str:
    """Plain text made literal in reStructuredText (Snakemake's report captions are RST):
    ``|x2|`` would be a substitution, ``*`` emphasis, a trailing ``word_`` a reference."""
    text = re.sub(r"([\\|*`])", r"\\\1", text)
    return re.sub(r"(\w)_(?=\W|$)", r"\1\\_", text)


class Plan:
    def __init__(self, config: Mapping[str, Any], schema_path: str = str(cfgmod.REPO_SCHEMA)):
        cfgmod.validate(config, cfgmod.load_schema(schema_path))
        self.config = config
        self.datasets, self.families = expand_datasets(config["datasets"])

    # ------------------------------------------------------------------ paths
    @staticmethod
    def data_path(dataset: str) -> str:
        return f"{RESULTS}/data/{dataset}.h5"

    @staticmethod
    def poisoned_path(dataset: str, alpha: float, alpha_val: float) -> str:
        return f"{RESULTS}/poisoned/{dataset}/a{fmt_alpha(alpha)}_v{fmt_alpha(alpha_val)}.h5"

    @staticmethod
    def run_path(dataset: str, algorithm: str, alpha: float, alpha_val: float) -> str:
        return f"{RESULTS}/runs/{dataset}/{algorithm}/a{fmt_alpha(alpha)}_v{fmt_alpha(alpha_val)}.h5"

    @staticmethod
    def metrics_path(dataset: str, algorithm: str, alpha: float, alpha_val: float) -> str:
        return f"{RESULTS}/metrics/{dataset}/{algorithm}/a{fmt_alpha(alpha)}_v{fmt_alpha(alpha_val)}.h5"

    @staticmethod
    def table_path(panel: str) -> str:
        return f"{RESULTS}/tables/{panel}.csv"

    @staticmethod
    def epoch_table_path(panel: str) -> str:
        return f"{RESULTS}/tables/epochs/{panel}.csv"

    @staticmethod
    def figure_path(figure: str) -> str:
        return f"{FIGURES_DIR}/{figure}.pdf"

    # ------------------------------------------------------------------ config slices
    def seeds(self, dataset: str) -> list[int]:
        return list(range(int(self.dataset_spec(dataset).get("seeds", self.config["seeds"]))))

    def dataset_regex(self, image: bool) -> str:
        """A wildcard constraint matching exactly the synthetic (or the image) datasets; one that
        matches nothing when there are none of that kind, which leaves the rule unused."""
        names = sorted(d for d, s in self.datasets.items() if is_synthetic(s) != image)
        return "|".join(re.escape(n) for n in names) if names else "(?!x)x"

    def dataset_spec(self, dataset: str) -> dict[str, Any]:
        try:
            return dict(self.datasets[dataset])
        except KeyError:
            raise cfgmod.ConfigError(f"config key 'datasets': no dataset named '{dataset}' "
                                     f"(defined: {sorted(self.datasets)})") from None

    def panel_datasets(self, panel: str) -> list[str]:
        name = self.panel(panel)["dataset"]
        return list(self.families.get(name, [name]))

    def family_member(self, panel: str, k: int | None) -> str:
        """The panel's dataset, or for a family the member with k nearest to ``k``."""
        members = self.panel_datasets(panel)
        if k is None or len(members) == 1:
            return members[0]
        return min(members, key=lambda m: (abs(self.datasets[m]["k"] - k), self.datasets[m]["k"]))

    def prepare_params(self, dataset: str) -> dict[str, Any]:
        spec = self.dataset_spec(dataset)
        params = {"dataset": dataset, "spec": spec, "base_seed": self.config["base_seed"]}
        if not is_synthetic(spec):
            params["sources"] = needed_sources(spec, self.config["sources"])
            params["data_dir"] = self.config["data_dir"]
        return params

    def prepare_inputs(self, dataset: str) -> list[str]:
        """Staged source files of an image dataset (so editing one reruns the dataset); a staged
        file that is missing stops the workflow before any job with one error saying what to put where."""
        spec = self.dataset_spec(dataset)
        if is_synthetic(spec):
            return []
        paths = []
        for name, source in needed_sources(spec, self.config["sources"]).items():
            if source["kind"] in ("npz", "archive", "directory"):
                check_staged(name, source)
                paths.append(source["path"])
        return paths

    def poison_params(self, dataset: str, alpha: str, alpha_val: str) -> dict[str, Any]:
        return {"dataset": dataset, "signal": self.dataset_spec(dataset)["signal"], "alpha": float(alpha),
                "alpha_val": float(alpha_val), "seeds": self.seeds(dataset), "base_seed": self.config["base_seed"]}

    def train_params(self, dataset: str, algorithm: str, alpha: str, alpha_val: str) -> dict[str, Any]:
        spec = self.dataset_spec(dataset)
        if algorithm not in self.config["algorithms"]:
            raise cfgmod.ConfigError(f"config key 'algorithms': no algorithm named '{algorithm}'")
        return {
            "dataset": dataset,
            "algorithm": algorithm,
            "alpha": float(alpha),
            "alpha_val": float(alpha_val),
            "seeds": self.seeds(dataset),
            "base_seed": self.config["base_seed"],
            "signal": spec["signal"],
            "model": self.config["models"][spec["model"]],
            "training": cfgmod.deep_merge(self.config["training"], spec.get("training")),
            "hyperparameters": cfgmod.deep_merge(self.config["algorithms"][algorithm],
                                                 spec.get("algorithms", {}).get(algorithm)),
        }

    def evaluate_params(self, dataset: str) -> dict[str, Any]:
        return {"dataset": dataset, "signal": self.dataset_spec(dataset)["signal"]}

    def panel(self, panel: str) -> dict[str, Any]:
        try:
            return self.config["panels"][panel]
        except KeyError:
            raise cfgmod.ConfigError(f"config key 'panels': no panel named '{panel}'") from None

    def panel_cells(self, panel: str) -> list[tuple[str, str, float, float]]:
        p = self.panel(panel)
        return list(product(self.panel_datasets(panel), p["algorithms"], p["alphas"], p["alpha_vals"]))

    def table_inputs(self, panel: str) -> list[str]:
        return [self.metrics_path(*cell) for cell in self.panel_cells(panel)]

    def epoch_table_inputs(self, panel: str) -> list[str]:
        p = self.panel(panel)
        alphas = p.get("per_epoch_alphas", [])
        if not alphas:
            raise cfgmod.ConfigError(f"config key 'panels.{panel}.per_epoch_alphas': empty, so there is no per-epoch table")
        return [self.metrics_path(*cell) for cell in product(self.panel_datasets(panel), p["algorithms"], alphas,
                                                              p["alpha_vals"])]

    def table_params(self, panel: str) -> dict[str, Any]:
        p = self.panel(panel)
        return {"panel": panel, **p, "datasets": {d: self.dataset_spec(d) for d in self.panel_datasets(panel)}}

    def claims_inputs(self) -> dict[str, str]:
        """Each listed panel's table, and its per-epoch table where it has one ('<panel>_epochs')."""
        inputs = {}
        for panel in self.config["claims"]["panels"]:
            inputs[panel] = self.table_path(panel)
            if self.panel(panel).get("per_epoch_alphas"):
                inputs[f"{panel}_epochs"] = self.epoch_table_path(panel)
        return inputs

    def claims_params(self) -> dict[str, Any]:
        return dict(self.config["claims"])

    # ------------------------------------------------------------------ figures
    def _figure(self, figure: str):
        if figure not in FIGURES:
            raise cfgmod.ConfigError(f"unknown figure '{figure}' (known: {sorted(FIGURES)})")
        return FIGURES[figure]

    def figure_inputs(self, figure: str) -> dict[str, str]:
        inputs: dict[str, str] = {}
        for ps in self._figure(figure).panels:
            if ps.kind in ("data", "signal_example"):
                ds = self.family_member(ps.panel, ps.k)
                inputs[key_data(ds)] = self.data_path(ds)
            elif ps.kind in ("curves", "alpha_eff"):
                inputs[key_table(ps.panel)] = self.table_path(ps.panel)
            elif ps.kind == "epochs":
                inputs[key_epochs(ps.panel)] = self.epoch_table_path(ps.panel)
            elif ps.kind == "boundaries":
                p = self.panel(ps.panel)
                for ds in self.panel_datasets(ps.panel):
                    inputs[key_data(ds)] = self.data_path(ds)
                    inputs[key_run(ds, p["algorithms"][0])] = self.run_path(ds, p["algorithms"][0], p["alphas"][0],
                                                                            p["alpha_vals"][0])
            else:
                raise ValueError(f"unknown panel kind '{ps.kind}' in figure '{figure}'")
        return inputs

    def figure_params(self, figure: str) -> dict[str, Any]:
        """Style, plus the config of what the figure reads beyond tables (whose own
        provenance covers the rest): so restyling one figure or changing a panel's grid
        reruns exactly the figures that show it."""
        spec = self._figure(figure)
        figures = self.config["figures"]
        members = {f"{ps.panel}:{ps.k}": self.family_member(ps.panel, ps.k) for ps in spec.panels
                   if ps.kind in ("data", "signal_example")}
        boundary_panels = sorted({ps.panel for ps in spec.panels if ps.kind == "boundaries"})
        datasets = set(members.values()) | {d for p in boundary_panels for d in self.panel_datasets(p)}
        return {
            "figure": figure,
            "style": cfgmod.deep_merge(figures["style"], figures.get(figure)),
            "confidence": self.config["claims"]["confidence"],
            "members": members,
            "panels": {p: self.panel(p) for p in boundary_panels},
            "datasets": {d: self.dataset_spec(d) for d in sorted(datasets)},
        }

    # ------------------------------------------------------------------ report captions
    def describe_data(self, datasets) -> str:
        """What scale and what data a result rests on, in words, for captions."""
        parts = []
        for d in sorted(set(datasets)):
            spec = self.dataset_spec(d)
            seeds = len(self.seeds(d))
            epochs = cfgmod.deep_merge(self.config["training"], spec.get("training"))["epochs"]
            model = self.config["models"][spec["model"]]
            if is_synthetic(spec):
                parts.append(f"{d}: synthetic, n_train={spec['n_train']}, {seeds} seeds, {epochs} epochs, "
                             f"MLP {model.get('hidden')} (the paper's scale)")
                continue
            scale = ("paper scale (ResNet-50)" if model["kind"] == "resnet50"
                     else f"CPU default scale (small CNN {model.get('channels')})")
            kinds = {name: src["kind"] for name, src in needed_sources(spec, self.config["sources"]).items()}
            data = ", ".join(f"{name} from {kind}" for name, kind in kinds.items())
            if kinds.get("waterbirds") == "standin":
                data += ": a STAND-IN for Waterbirds built from CIFAR-10 images, not Waterbirds"
            if "npz" in kinds.values():
                data += " (staged .npz; the offline subsets hold about a tenth of CIFAR-10 and MNIST)"
            parts.append(f"{d}: {scale}, {seeds} seeds, {epochs} epochs; data: {data}")
        return "Scale and data: " + "; ".join(parts) + "."

    def figure_caption(self, figure: str) -> str:
        """The report caption (reStructuredText) of a figure."""
        spec = self._figure(figure)
        datasets = {d for ps in spec.panels for d in self.panel_datasets(ps.panel)}
        return rst_escape(f"{spec.caption} {self.describe_data(datasets)}")

    def table_caption(self, panel: str) -> str:
        p = self.panel(panel)
        return rst_escape(
            f"Table of panel {panel}: one row per run (seed) and stopping rule ({', '.join(p['stopping'])}); "
            f"algorithms {', '.join(p['algorithms'])}; alphas {p['alphas']}; alpha_val {p['alpha_vals']}. "
            f"{self.describe_data(self.panel_datasets(panel))}")

    def figure_available(self, figure: str) -> bool:
        return all(ps.panel in self.config["panels"] for ps in FIGURES[figure].panels)

    def needs_external_data(self, figure: str) -> bool:
        return any(not is_synthetic(self.dataset_spec(d))
                   for ps in FIGURES[figure].panels for d in self.panel_datasets(ps.panel))

    def default_targets(self) -> list[str]:
        """Every figure, table and claim that needs no external data."""
        panels = self.config["panels"]
        figures = [f for f in FIGURES if self.figure_available(f) and not self.needs_external_data(f)]
        tables = [p for p in panels if all(is_synthetic(self.dataset_spec(d)) for d in self.panel_datasets(p))]
        epoch_tables = [self.epoch_table_path(p) for p in tables if panels[p].get("per_epoch_alphas")]
        return ([self.figure_path(f) for f in figures] + [self.table_path(p) for p in tables] + epoch_tables
                + [f"{RESULTS}/claims.csv", f"{RESULTS}/claims.md"])
