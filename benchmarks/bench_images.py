"""The image data path vs a plain torchvision Dataset + DataLoader, on the same model.

Both train the CPU-scale CNN of config.yaml for the same epochs on the same uint8
images (random, CIFAR-10 shaped, or an .npz given with --npz), with the same
augmentation (random crop after 4-pixel padding, horizontal flip) and the same
per-epoch evaluation on a held-out set:

- ours: the whole dataset as a uint8 tensor, minibatches gathered, augmented and
  normalised in batched tensor operations (collective_action.augment);
- plain: torchvision.datasets-style Dataset returning PIL images through
  torchvision.transforms (RandomCrop, RandomHorizontalFlip, ToTensor, Normalize)
  and a DataLoader (num_workers 0: this machine has 2 cores, and the model uses one).

Prints training images/s of each and the ratio, and the data path alone (no model).

    python benchmarks/bench_images.py [--epochs 2] [--n 5000] [--npz cifar10_subset.npz]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import yaml
from torch.utils.data import DataLoader, Dataset

from collective_action import rng
from collective_action.models import make_bank
from collective_action.models.cnn import SmallCNN
from collective_action.training.augment import ImageTransforms
from collective_action.training.engine import per_sample_ce, tune_cpu_allocator
from collective_action.training.optim import Adam
from common import best_of


class PlainDataset(Dataset):
    def __init__(self, x_hwc, y, transform):
        from PIL import Image

        self.images = [Image.fromarray(img) for img in x_hwc]
        self.y, self.transform = y, transform

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.transform(self.images[i]), int(self.y[i])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--n-eval", type=int, default=2000)
    ap.add_argument("--npz", default=None, help="x_train/y_train uint8 HWC images (e.g. the offline CIFAR-10 subset)")
    ap.add_argument("--config", default="config.yaml", help="read the CPU-scale model (models.cnn) from here")
    args = ap.parse_args()
    torch.set_num_threads(1)
    tune_cpu_allocator()
    import torchvision.transforms as T

    with open(args.config) as fh:
        model_spec = yaml.safe_load(fh)["models"]["cnn"]
    r = np.random.default_rng(0)
    if args.npz:
        z = np.load(args.npz)
        x, y = z["x_train"][: args.n], z["y_train"][: args.n].astype(np.int64)
    else:
        x, y = r.integers(0, 256, size=(args.n, 32, 32, 3), dtype=np.uint8), r.integers(0, 10, args.n)
    x_eval, y_eval = x[: args.n_eval], y[: args.n_eval]
    mean, std = x.reshape(-1, 3).mean(0), x.reshape(-1, 3).std(0)

    # ---- ours
    tf = ImageTransforms(mean.tolist(), std.tolist(), {"crop_padding": 4, "flip": True}, "cpu")
    x_t = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    y_t = torch.from_numpy(y)
    xe_t = torch.from_numpy(np.ascontiguousarray(x_eval.transpose(0, 3, 1, 2)))

    def ours():
        gens = rng.torch_generators(0, [0], "bench")
        bank = make_bank(model_spec, [3, 32, 32], 10, gens, torch.float32, "cpu")
        opt = Adam(bank.parameters(), lr=5e-4)
        for _ in range(args.epochs):
            perm = torch.randperm(len(y), generator=gens[0])
            for s in range(0, len(y), 128):
                idx = perm[s:s + 128]
                loss = per_sample_ce(bank(tf.normalise(tf.augment(x_t[idx][None], gens))), y_t[idx][None]).mean(1).sum()
                opt.zero_grad()
                loss.backward()
                opt.step()
            with torch.no_grad():
                for s in range(0, len(y_eval), 1024):
                    bank(tf.normalise(xe_t[s:s + 1024])).argmax(-1)

    # ---- plain torchvision pipeline
    normalize = T.Normalize((mean / 255).tolist(), (std / 255).tolist())
    train_ds = PlainDataset(x, y, T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(),
                                              normalize]))
    eval_ds = PlainDataset(x_eval, y_eval, T.Compose([T.ToTensor(), normalize]))

    def plain():
        torch.manual_seed(0)
        model = SmallCNN(3, model_spec["channels"], 10, model_spec.get("stem", "patch2"))
        opt = torch.optim.Adam(model.parameters(), lr=5e-4)
        loader = DataLoader(train_ds, batch_size=128, shuffle=True, num_workers=0)
        eval_loader = DataLoader(eval_ds, batch_size=1024, shuffle=False, num_workers=0)
        for _ in range(args.epochs):
            for xb, yb in loader:
                loss = torch.nn.functional.cross_entropy(model(xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
            with torch.no_grad():
                for xb, _ in eval_loader:
                    model(xb).argmax(-1)

    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])  # TorchDynamo's one-off import is not the loop's cost
    times, _ = best_of({"ours": ours, "plain": plain}, repeats=2)
    n_images = args.epochs * len(y)

    def data_only(kind):
        start = time.perf_counter()
        if kind == "ours":
            gens = [torch.Generator().manual_seed(0)]
            for s in range(0, len(y), 128):
                tf.normalise(tf.augment(x_t[s:s + 128][None], gens))
        else:
            for _ in DataLoader(train_ds, batch_size=128, shuffle=True, num_workers=0):
                pass
        return len(y) / (time.perf_counter() - start)

    print(f"CNN {model_spec}, {args.epochs} epochs on {len(y)} images + per-epoch evaluation on {len(y_eval)}, 1 thread")
    print(f"  ours (uint8 tensors, batched augmentation): {n_images / times['ours']:8.0f} training images/s")
    print(f"  plain torchvision Dataset + DataLoader    : {n_images / times['plain']:8.0f} training images/s")
    print(f"  speed-up, end to end                      : {times['plain'] / times['ours']:8.1f}x")
    d_ours, d_plain = data_only("ours"), data_only("plain")
    print(f"  data path alone: ours {d_ours:.0f} images/s, plain {d_plain:.0f} images/s: {d_ours / d_plain:.1f}x")


if __name__ == "__main__":
    main()
