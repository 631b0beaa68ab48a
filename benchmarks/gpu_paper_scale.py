"""The paper-scale image path on a CUDA device, step by step, without Snakemake.

For machines with a GPU but without the workflow's environment: the config is
``config.yaml`` (with its studies) + ``studies/paper_scale.yaml`` + ``tests/paper_scale.yaml`` (sizes shrunk, the
paper's code paths kept) with bfloat16 autocast back on and ``device: cuda``; data are
the tests' fixtures in the original on-disk formats. Each cell runs the package's own
steps (prepare, poison, train, evaluate) through ``pipeline.run_job`` with the params
the rules would give, then a throughput probe trains a ResNet-50 bank at the paper's
batch size on CIFAR-sized inputs with autocast and channels-last on and off.

    python benchmarks/gpu_paper_scale.py --out DIR
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

CELLS = [("cifar10", "jtt", 0.1, 0.0), ("cifar10", "cvar_dro", 0.1, 1.0), ("waterbirds", "cvar_dro", 0.3, 0.0),
         ("mnist_cifar_car_c100", "erm", 0.1, 0.0)]


def load_config(work: Path, device: str) -> dict:
    import image_fixtures as fx
    from collective_action.configuration.merge import deep_merge
    from collective_action.configuration.studies import compose

    config = compose(REPO / "config.yaml", [REPO / "studies/paper_scale.yaml", REPO / "tests/paper_scale.yaml"])
    for spec in config["datasets"].values():
        if "training" in spec:
            spec["training"]["amp"] = device == "cuda"  # off in the CPU test only (emulated bfloat16)
    config["sources"] = deep_merge(config["sources"], fx.write_original_formats(work / "staged"))
    config["device"] = device
    return config


def run(jobs, step: str, output_kind: str, work: Path, config: dict, **wildcards) -> float:
    from collective_action.planning import paths
    from collective_action.steps.runner import run_job

    wc = SimpleNamespace(**{k: paths.fmt_alpha(v) if k.startswith("alpha") else v for k, v in wildcards.items()})
    output = paths.path(output_kind, **wildcards)
    if (work / output).exists():
        return 0.0
    inputs = jobs[step].inputs(wc)
    inputs = inputs if isinstance(inputs, dict) else {str(i): v for i, v in enumerate(inputs)}
    spec = jobs[step].params(wc)
    log = work / "logs" / f"{output}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    (work / output).parent.mkdir(parents=True, exist_ok=True)
    job = {"rule": step, "threads": 4, "config": config,
           "input": {"values": list(inputs.values()), "names": inputs},
           "output": {"values": [output], "names": {}}, "params": {"values": [spec], "names": {"spec": spec}},
           "log": {"values": [str(log)], "names": {}}, "wildcards": {"values": [], "names": vars(wc)}}
    start = time.perf_counter()
    try:
        run_job(job)
    except SystemExit as exc:
        if exc.code:
            raise RuntimeError(f"{step} {wildcards} failed:\n{log.read_text()[-3000:]}") from None
    return time.perf_counter() - start


def throughput(out: dict) -> None:
    import torch

    from collective_action import rng
    from collective_action.models import make_bank

    x = torch.randn(2, 128, 3, 32, 32, device="cuda")
    y = torch.randint(0, 10, (2, 128), device="cuda")
    for amp in (False, True):
        for channels_last in (False, True):
            bank = make_bank({"kind": "resnet50", "stem": "cifar", "vectorize": False}, [3, 32, 32], 10,
                             rng.torch_generators(0, [0, 1], "model"), torch.float32, "cuda",
                             channels_last=channels_last, amp=amp)
            opt = torch.optim.Adam(bank.parameters(), lr=5e-4)
            for i in range(25):
                if i == 5:
                    torch.cuda.synchronize()
                    start = time.perf_counter()
                loss = torch.nn.functional.cross_entropy(bank(x).flatten(0, 1), y.flatten())
                opt.zero_grad()
                loss.backward()
                opt.step()
            torch.cuda.synchronize()
            per_step = (time.perf_counter() - start) / 20
            out[f"resnet50_cifar_2runs_b128_amp{int(amp)}_cl{int(channels_last)}_images_per_s"] = round(256 / per_step)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--device", default="cuda", help="cpu: check this script on a machine without a GPU")
    ap.add_argument("--cells", type=int, default=len(CELLS))
    args = ap.parse_args()
    work = Path(args.out)
    work.mkdir(parents=True, exist_ok=True)
    import os

    os.chdir(work)
    from collective_action.planning.plan import Plan
    from collective_action.steps.jobs import Jobs

    config = load_config(work, args.device)
    jobs = Jobs(Plan(config, str(REPO / "workflow/schemas/config.schema.yaml")))
    report: dict = {"cells": []}
    for dataset, algorithm, alpha, alpha_val in CELLS[:args.cells]:
        times = {"prepare": run(jobs, "prepare", "data", work, config, dataset=dataset),
                 "poison": run(jobs, "poison", "poisoned", work, config, dataset=dataset, alpha=alpha,
                               alpha_val=alpha_val)}
        times["train"] = run(jobs, "train_external", "run", work, config, dataset=dataset, algorithm=algorithm,
                             alpha=alpha, alpha_val=alpha_val)
        times["evaluate"] = run(jobs, "evaluate", "metrics", work, config, dataset=dataset, algorithm=algorithm,
                                alpha=alpha, alpha_val=alpha_val)
        from collective_action import store
        from collective_action.planning import paths

        run_file = store.read_h5(paths.path("run", dataset=dataset, algorithm=algorithm, alpha=alpha,
                                            alpha_val=alpha_val))
        report["cells"].append({"cell": [dataset, algorithm, alpha, alpha_val], "seconds": times,
                                "device": run_file.provenance["extra"]["device"],
                                "amp": run_file.provenance["config"]["training"]["amp"]})
    if args.device == "cuda":
        throughput(report)
    print(json.dumps(report, indent=1))
    (work / "report.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
