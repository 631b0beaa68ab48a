"""Vectorised text training across seeds vs a plain per-model loop, side by side in one process.

Trains the same runs (same poisoned token ids, initialisations and minibatch orders) both ways:
the engine's one vmapped pass over all runs of a cell (``models.ModuleBank`` over the text model,
the engine's Adam over the stacked parameters), and one run after another, each an ``nn.Module``
with its own ``torch.optim.Adam``. The data are the text stand-in (WordNet definitions, four
classes, as in config.yaml) where /usr/share/wordnet holds it, else synthetic token ids of the
same shape (say which with --data). Prints runs/s of each and the ratio; the ratio, not the
seconds, is the result.

    python benchmarks/bench_text.py [--runs 10] [--epochs 2] [--model text_bag] [--repeats 2]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from collective_action import collective, datasets, rng
from collective_action.datasets import text_sources
from collective_action.learners import LEARNERS
from collective_action.models.text import make_text_module
from collective_action.signals import make_signal
from collective_action.training.engine import Evaluator, FitContext, Split, tune_cpu_allocator
from common import best_of

MODELS = {"text_bag": {"kind": "text_bag", "embed_dim": 32},
          "text_transformer": {"kind": "text_transformer", "embed_dim": 32, "depth": 1, "heads": 2, "mlp_ratio": 2}}
SIGNAL = {"kind": "token_insert", "token": "zqx", "every": 5, "start": 0, "target_label": 0}


def standin(workdir: Path):
    """The config's text dataset on the WordNet stand-in: (x_train, y_train, vocab size, token id)."""
    spec = {"builder": "text", "seed": 0, "classes": ["noun.animal", "noun.artifact", "noun.person", "noun.plant"],
            "max_per_class": 2500, "n_val": 1000, "n_test": 2000, "vocab_size": 5000, "max_len": 32,
            "signal": SIGNAL}
    out = workdir / "text.h5"
    datasets.prepare("bench", spec, 0, str(out), data_dir=str(workdir),
                     sources={"resumes": {"kind": "standin"},
                              "wordnet": {"kind": "directory", "path": text_sources.WORDNET["path"]}})
    data = datasets.load(str(out))
    return data["train/x"], data["train/y"], int(data.attrs["meta"]["vocab_size"]), data


def synthetic(n: int = 7000, length: int = 32, vocab: int = 5000):
    """Zipf-distributed token ids with lengths like the stand-in's; the label is the most frequent of four
    keyword groups."""
    r = np.random.default_rng(0)
    x = np.zeros((n, length), dtype=np.int64)
    lengths = np.clip(r.poisson(11, n), 1, length)
    words = np.minimum(r.zipf(1.3, size=(n, length)) + 2, vocab - 2)
    y = r.integers(0, 4, n)
    for i in range(n):
        x[i, :lengths[i]] = words[i, :lengths[i]]
        x[i, 0] = 10 + y[i]  # a class keyword
    return x, y, vocab


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--model", choices=sorted(MODELS), default="text_bag")
    ap.add_argument("--data", choices=["auto", "standin", "synthetic"], default="auto")
    ap.add_argument("--alpha", type=float, default=0.002)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    tune_cpu_allocator()

    use_standin = args.data == "standin" or (args.data == "auto" and Path(text_sources.WORDNET["path"]).is_dir())
    tmp = tempfile.TemporaryDirectory()
    if use_standin:
        x, y, vocab, data = standin(Path(tmp.name))
        signal = make_signal(SIGNAL, data)
        source = "the WordNet stand-in"
    else:
        x, y, vocab = synthetic()
        signal = make_signal(SIGNAL, {"vocab": text_sources.vocab_array(["<pad>", "<unk>", "zqx"]), "train/x": x})
        source = "synthetic token ids"
    seeds = list(range(args.runs))
    overlays = []
    for s in seeds:  # each run its own collective
        idx = collective.select_members(len(y), args.alpha, rng.numpy_rng(0, s, "bench"))
        overlays.append((idx, signal.apply(x[idx])))
    spec = dict(MODELS[args.model], vocab_size=vocab)

    ctx = FitContext(train=Split.from_overlays(x, y, overlays, 0, "cpu"),
                     evaluator=Evaluator(per_run={}, shared={}, batch_size=4096), model_spec=spec,
                     input_shape=[x.shape[1]], n_classes=int(y.max()) + 1, seeds=seeds, base_seed=0,
                     epochs=args.epochs, batch_size=128, lr=args.lr, weight_decay=0.0, hp={}, device=torch.device("cpu"))
    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])  # warm-up: torch.optim's first use imports TorchDynamo

    def vectorised():
        return LEARNERS.get("erm")(ctx, {}).fit().bank

    def per_model_loop():
        """One run after another: the same initialisation, minibatch order and loss as the engine's run."""
        models = []
        for m, g in enumerate(rng.torch_generators(0, seeds, "model")):
            seed = int(torch.randint(0, 2**62, (1,), generator=g))  # as ModuleBank draws it
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                model = make_text_module(spec, [x.shape[1]], ctx.n_classes)
            xp, yp, _ = collective.overlay(x, y, *overlays[m], 0)
            xp, yp = torch.from_numpy(xp), torch.from_numpy(yp)
            opt = torch.optim.Adam(model.parameters(), lr=args.lr)
            for _ in range(args.epochs):
                perm = torch.randperm(len(yp), generator=g)
                for start in range(0, len(yp), 128):
                    idx = perm[start:start + 128]
                    opt.zero_grad()
                    F.cross_entropy(model(xp[idx]), yp[idx]).backward()
                    opt.step()
            models.append(model)
        return models

    best, last = best_of({"vectorised": vectorised, "loop": per_model_loop}, args.repeats)
    (t_vec, bank), (t_loop, models) = ((best[k], last[k]) for k in ("vectorised", "loop"))
    stacked = bank.embedding if hasattr(bank, "embedding") else dict(zip(bank._names, bank.stacked))["embedding.weight"]
    max_diff = max(float((model.embedding.weight - stacked[m]).detach().abs().max()) for m, model in enumerate(models))
    print(f"{args.runs} {args.model} runs x {args.epochs} epochs on {len(y)} documents of {x.shape[1]} tokens "
          f"({source}; vocabulary {vocab}; batch 128; {args.threads} thread)")
    print(f"  vectorised engine : {args.runs / t_vec:8.2f} runs/s")
    print(f"  per-model loop    : {args.runs / t_loop:8.2f} runs/s (nn.Module + torch.optim.Adam, one run after another)")
    print(f"  speed-up          : {t_loop / t_vec:8.1f}x")
    print(f"  max |embedding difference| between the two: {max_diff:.2e}")


if __name__ == "__main__":
    main()
