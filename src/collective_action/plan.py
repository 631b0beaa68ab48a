"""The workflow plan: artifact paths, each job's config slice, and the targets.

The Snakefile builds one :class:`Plan` from the validated config; rules ask it
for their inputs and params. A job's params are exactly the config it depends on
(resolved defaults and overrides included), so editing one algorithm's
hyperparameter changes the params of that algorithm's train jobs only, and
Snakemake's params trigger reruns those and what reads their outputs.
"""
from __future__ import annotations

from itertools import product
from typing import Any, Mapping

from . import config as cfgmod
from .catalog import FIGURES
from .datasets import is_synthetic

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


class Plan:
    def __init__(self, config: Mapping[str, Any], schema_path: str = str(cfgmod.REPO_SCHEMA)):
        cfgmod.validate(config, cfgmod.load_schema(schema_path))
        self.config = config

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
    def figure_path(figure: str) -> str:
        return f"{FIGURES_DIR}/{figure}.pdf"

    # ------------------------------------------------------------------ config slices
    @property
    def seeds(self) -> list[int]:
        return list(range(int(self.config["seeds"])))

    def dataset_spec(self, dataset: str) -> dict[str, Any]:
        try:
            return dict(self.config["datasets"][dataset])
        except KeyError:
            raise cfgmod.ConfigError(f"config key 'datasets': no dataset named '{dataset}'") from None

    def prepare_params(self, dataset: str) -> dict[str, Any]:
        return {"dataset": dataset, "spec": self.dataset_spec(dataset), "base_seed": self.config["base_seed"]}

    def poison_params(self, dataset: str, alpha: str, alpha_val: str) -> dict[str, Any]:
        return {"dataset": dataset, "signal": self.dataset_spec(dataset)["signal"], "alpha": float(alpha),
                "alpha_val": float(alpha_val), "seeds": self.seeds, "base_seed": self.config["base_seed"]}

    def train_params(self, dataset: str, algorithm: str, alpha: str, alpha_val: str) -> dict[str, Any]:
        spec = self.dataset_spec(dataset)
        if algorithm not in self.config["algorithms"]:
            raise cfgmod.ConfigError(f"config key 'algorithms': no algorithm named '{algorithm}'")
        return {
            "dataset": dataset,
            "algorithm": algorithm,
            "alpha": float(alpha),
            "alpha_val": float(alpha_val),
            "seeds": self.seeds,
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
        return [(p["dataset"], algo, a, av) for algo, a, av in product(p["algorithms"], p["alphas"], p["alpha_vals"])]

    def table_inputs(self, panel: str) -> list[str]:
        return [self.metrics_path(*cell) for cell in self.panel_cells(panel)]

    def table_params(self, panel: str) -> dict[str, Any]:
        p = self.panel(panel)
        return {"panel": panel, **p, "dataset_spec": self.dataset_spec(p["dataset"])}

    def claims_inputs(self) -> dict[str, str]:
        return {panel: self.table_path(panel) for panel in self.config["claims"]["panels"]}

    def claims_params(self) -> dict[str, Any]:
        return dict(self.config["claims"])

    # ------------------------------------------------------------------ figures
    def figure_inputs(self, figure: str) -> dict[str, str]:
        spec = self._figure(figure)
        inputs = {f"table_{p}": self.table_path(p) for p in spec.tables}
        inputs.update({f"data_{p}": self.data_path(self.panel(p)["dataset"]) for p in spec.data_of})
        return inputs

    def figure_params(self, figure: str) -> dict[str, Any]:
        spec = self._figure(figure)
        figures = self.config["figures"]
        params: dict[str, Any] = {
            "figure": figure,
            "style": cfgmod.deep_merge(figures["style"], figures.get(figure)),
            "confidence": self.config["claims"]["confidence"],
        }
        if spec.data_of:
            params["datasets"] = {p: self.dataset_spec(self.panel(p)["dataset"]) for p in spec.data_of}
        return params

    def _figure(self, figure: str):
        if figure not in FIGURES:
            raise cfgmod.ConfigError(f"unknown figure '{figure}' (known: {sorted(FIGURES)})")
        spec = FIGURES[figure]
        for p in (*spec.tables, *spec.data_of):
            self.panel(p)
        return spec

    def figure_panels(self, figure: str) -> set[str]:
        spec = FIGURES[figure]
        return set(spec.tables) | set(spec.data_of)

    def needs_external_data(self, figure: str) -> bool:
        return any(not is_synthetic(self.dataset_spec(self.panel(p)["dataset"])) for p in self.figure_panels(figure))

    def default_targets(self) -> list[str]:
        """Every figure, table and claim that needs no external data."""
        panels = self.config["panels"]
        figures = [f for f in FIGURES if self.figure_panels(f) <= set(panels) and not self.needs_external_data(f)]
        tables = [p for p in panels if is_synthetic(self.dataset_spec(panels[p]["dataset"]))]
        return ([self.figure_path(f) for f in figures] + [self.table_path(p) for p in tables]
                + [f"{RESULTS}/claims.csv", f"{RESULTS}/claims.md"])
