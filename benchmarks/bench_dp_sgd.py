"""Vectorised DP-SGD vs opacus's per-model loop, side by side in one process.

The same work both ways: the same runs (poisoned data, initialisations), MLP
[2, 64, 32, 16, 2], Poisson minibatches of expected size 128, per-sample clipping
to C = 1, noise multiplier sigma = 1 and Adam. Ours trains every run in one bank
(the MLP shortcut, and also the generic torch.func path it falls back to for other
models); opacus trains one run after another (PrivacyEngine.make_private:
GradSampleModule + DPOptimizer + Poisson DPDataLoader). Opacus draws its masks and
noise from its own streams (and takes sample rate 1 / len(loader) = 1 / 32 where
we take 128 / n = 1 / 31.25, 32 steps an epoch either way), so this compares speed
on the same work, not results. Prints runs/s of each and the ratios; the ratios,
not the seconds, are the result.

    python benchmarks/bench_dp_sgd.py [--runs 24] [--epochs 3] [--n 4000] [--repeats 2]
"""
from __future__ import annotations

import argparse
import warnings

import torch
from torch.utils.data import DataLoader, TensorDataset

from collective_action import collective, rng
from collective_action.learners.dp_sgd import DPSGD, clipped_sum, per_sample_grads
from collective_action.models.banks import mlp_sizes
from collective_action.training.engine import Evaluator, FitContext, Split, tune_cpu_allocator
from common import best_of, poisoned_2d, reference

HP = {"clip_norm": 1.0, "noise_multiplier": 1.0, "target_epsilon": None, "delta": 1e-5}


class GenericDPSGD(DPSGD):
    """Our learner without the MLP shortcut: vmapped per-sample gradients, as for any other model."""

    def clipped_sum(self, batch):
        x = self.ctx.model_input(batch.x)
        return clipped_sum(per_sample_grads(self.model, x, batch.y), float(self.hp["clip_norm"]), batch.weight)


def opacus_one(x, y, sizes, generator, epochs: int, batch_size: int, lr: float):
    """One run with opacus: DP-Adam with Poisson sampling, the same clip norm and sigma."""
    from opacus import PrivacyEngine

    model = reference.reference_mlp(sizes, generator)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size)
    model, opt, loader = PrivacyEngine(accountant="rdp").make_private(
        module=model, optimizer=opt, data_loader=loader, noise_multiplier=HP["noise_multiplier"],
        max_grad_norm=HP["clip_norm"], poisson_sampling=True)
    loss_fn = torch.nn.CrossEntropyLoss()
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad(set_to_none=True)
            loss_fn(model(xb), yb).backward()
            opt.step()
    return model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=24)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    tune_cpu_allocator()
    warnings.filterwarnings("ignore")  # opacus's secure-RNG and hook notices, once per model

    x, y, seeds, overlays = poisoned_2d(args.n, args.runs)  # the runs of bench_engine.py
    hidden, sizes = [64, 32, 16], mlp_sizes(2, [64, 32, 16], 2)
    data = [collective.overlay(x, y, *overlays[m], 1)[:2] for m in range(args.runs)]

    def ctx():
        return FitContext(train=Split.from_overlays(x, y, overlays, 1, "cpu", torch.float32),
                          evaluator=Evaluator(per_run={}, shared={}, batch_size=4096),
                          model_spec={"kind": "mlp", "hidden": hidden}, input_shape=[2], n_classes=2, seeds=seeds,
                          base_seed=0, epochs=args.epochs, batch_size=128, lr=5e-4, weight_decay=0.0, hp=HP,
                          device=torch.device("cpu"))

    def per_model_loop():
        for m, s in enumerate(seeds):
            torch.manual_seed(s)  # opacus's masks and noise come from the global stream
            opacus_one(torch.from_numpy(data[m][0]), torch.from_numpy(data[m][1]), sizes,
                       rng.torch_generators(0, [s], "model")[0], args.epochs, 128, 5e-4)

    paths = {"vectorised, MLP shortcut": lambda: DPSGD(ctx(), HP).fit(),
             "vectorised, generic vmap": lambda: GenericDPSGD(ctx(), HP).fit(),
             "opacus per-model loop": per_model_loop}
    # warm up every path (imports, first-call overheads), then best of --repeats, alternating
    opacus_one(torch.from_numpy(x[:256]), torch.from_numpy(y[:256]), sizes, torch.Generator().manual_seed(0), 1,
               128, 5e-4)
    DPSGD(FitContext(**{**ctx().__dict__, "epochs": 1}), HP).fit()
    best, _ = best_of(paths, args.repeats)

    print(f"DP-SGD, {args.runs} MLP runs x {args.epochs} epochs on n={args.n} (expected batch 128, "
          f"{args.threads} thread)")
    for name, t in best.items():
        print(f"  {name:26s}: {args.runs / t:8.2f} runs/s")
    loop = best["opacus per-model loop"]
    for name in list(paths)[:2]:
        print(f"  speed-up over opacus, {name}: {loop / best[name]:6.1f}x")


if __name__ == "__main__":
    main()
