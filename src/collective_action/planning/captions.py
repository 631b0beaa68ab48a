"""Report captions: what each figure and table shows, at what scale and on what data."""
from __future__ import annotations

import re

from ..datasets import is_synthetic, needed_sources


def rst_escape(text: str) -> str:
    """Plain text made literal in reStructuredText (Snakemake's report captions are RST):
    ``|x2|`` would be a substitution, ``*`` emphasis, a trailing ``word_`` a reference."""
    text = re.sub(r"([\\|*`])", r"\\\1", text)
    return re.sub(r"(\w)_(?=\W|$)", r"\1\\_", text)


def describe_data(plan, datasets) -> str:
    """What scale and what data a result rests on, in words ('' for none: the atlas's figures say it themselves)."""
    if not datasets:
        return ""
    parts = []
    for d in sorted(set(datasets)):
        spec = plan.dataset_spec(d)
        seeds, epochs = len(plan.seeds(d)), plan.training(d)["epochs"]
        model = plan.model(d)
        if is_synthetic(spec):
            parts.append(f"{d}: synthetic, n_train={spec['n_train']}, {seeds} seeds, {epochs} epochs, "
                         f"MLP {model.get('hidden')} (the paper's scale)")
            continue
        scale = ("paper scale (ResNet-50)" if model["kind"] == "resnet50"
                 else f"CPU default scale ({model['kind']} {model.get('channels') or model.get('hidden') or ''})")
        kinds = {name: src["kind"] for name, src in needed_sources(spec, plan.config["sources"]).items()}
        data = ", ".join(f"{name} from {kind}" for name, kind in kinds.items())
        if kinds.get("waterbirds") == "standin":
            data += ": a STAND-IN for Waterbirds built from CIFAR-10 images, not Waterbirds"
        if kinds.get("resumes") == "standin":
            data += ": a STAND-IN for the resume corpus (WordNet 3.0 definitions labelled by lexicographer file), not resumes"
        if "npz" in kinds.values():
            data += " (staged .npz; the offline subsets hold about a tenth of CIFAR-10 and MNIST)"
        parts.append(f"{d}: {scale}, {seeds} seeds, {epochs} epochs; data: {data}")
    return "Scale and data: " + "; ".join(parts) + "."


def figure(plan, name: str) -> str:
    from ..figures.catalog import spec_of

    spec = spec_of(name, plan.atlas_curves())
    datasets = {d for p in spec.panel_names() for d in plan.panel_datasets(p)}
    return rst_escape(f"{spec.caption} {describe_data(plan, datasets)}")


def table(plan, panel: str) -> str:
    p = plan.panel(panel)
    return rst_escape(
        f"Table of panel {panel}: one row per run (seed) and stopping rule ({', '.join(p['stopping'])}); "
        f"algorithms {', '.join(p['algorithms'])}; alphas {p['alphas']}; alpha_val {p['alpha_vals']}. "
        f"{describe_data(plan, plan.panel_datasets(panel))}")
