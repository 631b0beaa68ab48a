"""The image data path: uint8 batches augmented and normalised on the device.

Whole datasets stay in memory as uint8 tensors; each minibatch is gathered,
augmented and normalised in a few batched tensor operations, with no per-sample
Python. Augmentation (random crop after zero padding, horizontal flip) is, by
default (``keep_parity``), chosen so that it can never destroy the CIFAR-10 signal,
which lives on the even rows and even columns: crop offsets are even, and a flip
mirrors column j to W - j (a one-pixel shifted mirror), which maps even columns to
even columns. So after augmentation the planted +2 grid still sits on even rows and
columns. ``keep_parity: false`` is the standard augmentation instead (any offset in
0 .. 2 * padding, the plain mirror j -> W - 1 - j), under which the grid lands on odd
rows or columns in about three quarters of the augmented images.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F


def random_crop_flip(x: torch.Tensor, generators: Sequence[torch.Generator], padding: int, flip: bool,
                     keep_parity: bool = True) -> torch.Tensor:
    """x uint8 [M, B, C, H, W]; each run draws its offsets and flips from its own generator. With
    ``keep_parity`` even offsets and the shifted mirror j -> W - j; otherwise any offset and j -> W - 1 - j."""
    if keep_parity and padding % 2:
        raise ValueError(f"crop padding must be even to keep the signal's parity, got {padding}")
    m, b, c, h, w = x.shape
    draws = []
    for g in generators:
        if keep_parity:
            oy = torch.randint(0, padding // 2 + 1, (b,), generator=g) * 2
            ox = torch.randint(0, padding // 2 + 1, (b,), generator=g) * 2
        else:
            oy = torch.randint(0, 2 * padding + 1, (b,), generator=g)
            ox = torch.randint(0, 2 * padding + 1, (b,), generator=g)
        fl = torch.randint(0, 2, (b,), generator=g) if flip else torch.zeros(b, dtype=torch.long)
        draws.append(torch.stack([oy, ox, fl]))
    oy, ox, fl = torch.stack(draws).to(x.device).unbind(1)  # each [M, B]
    # two extra zero columns on the right: a flipped crop reads up to column W + 2 * padding
    xp = F.pad(x.reshape(m * b, c, h, w), (padding, padding + 2, padding, padding))
    xp = xp.reshape(m, b, c, h + 2 * padding, w + 2 * padding + 2)
    rows = oy[..., None] + torch.arange(h, device=x.device)  # [M, B, H]
    j = torch.arange(w, device=x.device)
    mirror = w - j if keep_parity else w - 1 - j
    cols = torch.where(fl[..., None].bool(), ox[..., None] + mirror, ox[..., None] + j)  # [M, B, W]
    xr = xp.gather(3, rows[:, :, None, :, None].expand(m, b, c, h, xp.shape[-1]))
    return xr.gather(4, cols[:, :, None, None, :].expand(m, b, c, h, w))


class ImageTransforms:
    """uint8 images -> normalised floats; augmentation of training batches on the uint8 scale."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], augment: Mapping[str, Any] | None, device,
                 channels_last: bool = False):
        self.mean = torch.tensor(mean, dtype=torch.float32, device=device).view(-1, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32, device=device).view(-1, 1, 1)
        self.augment_spec = augment
        self.channels_last = channels_last

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        out = (x.float() - self.mean) / self.std
        if self.channels_last and out.dim() == 4:
            out = out.contiguous(memory_format=torch.channels_last)
        return out

    def augment(self, x: torch.Tensor, generators) -> torch.Tensor:
        """Training batches on the stored (uint8) scale; normalisation comes after (and after an adversary)."""
        if self.augment_spec:
            spec = self.augment_spec
            x = random_crop_flip(x, generators, int(spec["crop_padding"]), bool(spec["flip"]),
                                 bool(spec.get("keep_parity", True)))
        return x
