"""Vectorised engine vs a plain per-model loop, side by side in one process.

Trains the same runs (same poisoned data, initialisations and minibatch orders)
both ways: the engine's one batched pass over all runs, and one run after another
with nn.Sequential + DataLoader + torch.optim.Adam. Prints runs/s of each and the
ratio; the ratio, not the seconds, is the result (it holds across machines).

    python benchmarks/bench_engine.py [--runs 24] [--epochs 3] [--n 4000] [--repeats 3]
"""
from __future__ import annotations

import argparse

import torch

from collective_action import collective, rng
from collective_action.learners import LEARNERS
from collective_action.models.banks import mlp_sizes
from collective_action.training.engine import Evaluator, FitContext, Split, tune_cpu_allocator
from common import best_of, poisoned_2d, reference


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=24)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    tune_cpu_allocator()  # as the train step does; it applies to both paths alike

    x, y, seeds, overlays = poisoned_2d(args.n, args.runs)
    hidden = [64, 32, 16]

    ctx = FitContext(train=Split.from_overlays(x, y, overlays, 1, "cpu", torch.float32),
                     evaluator=Evaluator(per_run={}, shared={}, batch_size=4096),
                     model_spec={"kind": "mlp", "hidden": hidden}, input_shape=[2], n_classes=2, seeds=seeds,
                     base_seed=0, epochs=args.epochs, batch_size=128, lr=5e-4, weight_decay=0.0, hp={},
                     device=torch.device("cpu"))
    # warm up both paths first (torch.optim imports TorchDynamo on first use: not part of the loop's speed)
    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])
    reference.train_erm_one(torch.from_numpy(x[:256]), torch.from_numpy(y[:256]), mlp_sizes(2, hidden, 2),
                            torch.Generator().manual_seed(0), 1, 128, 5e-4)

    def vectorised():
        return LEARNERS.get("erm")(ctx, {}).fit().bank

    def per_model_loop():
        models = []
        for m, s in enumerate(seeds):
            xp, yp, _ = collective.overlay(x, y, *overlays[m], 1)
            models.append(reference.train_erm_one(torch.from_numpy(xp), torch.from_numpy(yp), mlp_sizes(2, hidden, 2),
                                                  rng.torch_generators(0, [s], "model")[0], args.epochs, 128, 5e-4))
        return models

    best, last = best_of({"vectorised": vectorised, "loop": per_model_loop}, args.repeats)
    (t_vec, bank), (t_loop, models) = ((best[k], last[k]) for k in ("vectorised", "loop"))
    max_diff = max(float((model[0].weight.T - bank.weights[0][m]).detach().abs().max()) for m, model in enumerate(models))

    print(f"{args.runs} MLP runs x {args.epochs} epochs on n={args.n} (batch 128, {args.threads} thread)")
    print(f"  vectorised engine : {args.runs / t_vec:8.2f} runs/s")
    print(f"  per-model loop    : {args.runs / t_loop:8.2f} runs/s (nn.Sequential + DataLoader + torch.optim.Adam)")
    print(f"  speed-up          : {t_loop / t_vec:8.1f}x")
    print(f"  max |first-layer weight difference| between the two: {max_diff:.2e}")


if __name__ == "__main__":
    main()
