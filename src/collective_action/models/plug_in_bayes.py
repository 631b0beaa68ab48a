"""The plug-in Bayes classifier of categorical data: the platform of Gauthier, Bach and Jordan (ICML 2025), which
predicts for each x the label y maximising the empirical P(x, y) of its training set (their epsilon = 0).

Fitted in closed form (``fit_closed_form``: the training loop counts once instead of taking gradient steps), each
run on its own training split, the collective's planted points included: every row is one int64 key (the codes
of its features in mixed radix, the cardinalities ``levels`` coming from the prepared data), and the counts of
(key, label) are one ``torch.unique`` over key * C + label, grouped by key with ``unique_consecutive``; a
prediction is a ``searchsorted`` into the run's sorted keys. No loop runs over rows, only over the runs of a cell
and the features.

Rules where the counts do not decide:

- ties between labels go to the label most frequent in the run's training split (then to the lower label);
- an x never seen in training gets the label most frequent in the run's training split.

Gauthier et al.'s code breaks ties in the fixed order Good, Average, Poor, Excellent and predicts Good for an
unseen x. On their car data the most frequent label is Good, so an unseen x gets Good in both; ties between
other labels may differ. On the signal set the counts are in the thousands at their sizes, so neither rule
decides anything there.

``forward`` returns the one-hot vector of the prediction ([M, B, C], argmax: the prediction). The counts are
plain attributes, not parameters or buffers: they are not in the ``state_dict`` and ``state_arrays`` is empty, so a
run artifact stores no model (refitting is a count). A learner that reweights or changes the loss has no effect
on it: use ERM.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .base import ModelKind

KEY_LIMIT = 2 ** 62  # mixed-radix keys times the number of classes must fit in int64
EXACT_FLOAT = 2 ** 53  # keys below it are exact in float64 (a matrix product computes them)
BLOCK = 1 << 18  # rows encoded at once (a float64 copy of 18 features: 38 MB)


class PlugInBayesBank(nn.Module):
    """M plug-in Bayes classifiers (one per run), each a table from the keys of the inputs seen in training to their
    predicted label."""

    def __init__(self, levels, n_classes: int, n_models: int, dtype=torch.float32, device="cpu"):
        super().__init__()
        self.levels = [int(v) for v in levels]
        self.n_classes, self.n_models, self.dtype, self.device = int(n_classes), int(n_models), dtype, device
        if math.prod(self.levels) * self.n_classes >= KEY_LIMIT:
            raise ValueError(f"plug_in_bayes: {len(self.levels)} features with cardinalities {self.levels} have more "
                             f"combinations than an int64 key holds")
        self.keys: list[torch.Tensor] = []  # per run: the sorted keys seen in training [U_m]
        self.predicted: list[torch.Tensor] = []  # per run: the label predicted for each of them [U_m]
        self.default: list[int] = []  # per run: the label of an unseen x (the most frequent in training)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Codes [..., d] -> int64 keys [...] (mixed radix over the features' cardinalities): one float64 matrix
        product per block of rows, exact while the keys stay below 2^53 (a loop over the features beyond)."""
        if x.shape[-1] != len(self.levels):
            raise ValueError(f"plug_in_bayes: inputs have {x.shape[-1]} features, the data's levels {len(self.levels)}")
        flat = x.reshape(-1, x.shape[-1])
        if math.prod(self.levels) >= EXACT_FLOAT:
            key = torch.zeros(len(flat), dtype=torch.int64, device=x.device)
            for j, level in enumerate(self.levels):
                key = key * level + flat[:, j].long()
            return key.reshape(x.shape[:-1])
        strides = torch.tensor([math.prod(self.levels[j + 1:]) for j in range(len(self.levels))],
                               dtype=torch.float64, device=x.device)
        key = torch.empty(len(flat), dtype=torch.int64, device=x.device)
        for start in range(0, len(flat), BLOCK):
            key[start:start + BLOCK] = (flat[start:start + BLOCK].to(torch.float64) @ strides).long()
        return key.reshape(x.shape[:-1])

    @torch.no_grad()
    def fit_closed_form(self, train) -> None:
        """Count each run's (x, y) pairs on its own training split (``engine.Split``: pool[src[m]], y[m])."""
        c = self.n_classes
        pool_keys = self.encode(train.pool)
        self.keys, self.predicted, self.default = [], [], []
        for m in range(train.n_models):
            y = train.y[m]
            joint, counts = torch.unique(pool_keys[train.src[m]] * c + y, sorted=True, return_counts=True)
            keys, inverse = torch.unique_consecutive(joint // c, return_inverse=True)
            table = torch.zeros(len(keys), c, dtype=torch.int64, device=joint.device)
            table[inverse, joint % c] = counts
            # the labels by their frequency in this run's training split (then by label): the tie-breaker
            frequency = torch.bincount(y, minlength=c)
            order = sorted(range(c), key=lambda label: (-int(frequency[label]), label))
            preference = torch.empty(c, dtype=torch.int64, device=joint.device)
            preference[torch.tensor(order, device=joint.device)] = torch.arange(c - 1, -1, -1, device=joint.device)
            self.keys.append(keys)
            self.predicted.append((table * c + preference).argmax(dim=1))
            self.default.append(order[0])

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Predicted labels: x [B, d] (one batch for all runs) or [M, B, d] -> [M, B]."""
        if not self.keys:
            raise RuntimeError("plug_in_bayes: predicting before fit_closed_form")
        keys = self.encode(x)
        out = []
        for m in range(self.n_models):
            k = keys if keys.dim() == 1 else keys[m]
            known = self.keys[m]
            at = torch.searchsorted(known, k).clamp(max=max(len(known) - 1, 0))
            hit = known[at] == k if len(known) else torch.zeros_like(k, dtype=torch.bool)
            default = torch.full_like(k, self.default[m])
            out.append(torch.where(hit, self.predicted[m][at], default) if len(known) else default)
        return torch.stack(out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scores [M, B, C]: the one-hot vector of each run's prediction."""
        return nn.functional.one_hot(self.predict(x), self.n_classes).to(self.dtype)

    def state_arrays(self) -> dict:
        return {}


class PlugInBayes(ModelKind):
    name = "plug_in_bayes"
    description = ("plug-in Bayes classifier of categorical data (Gauthier et al. 2025's platform, epsilon 0): the "
                   "label of largest empirical P(x, y) in the run's training split, counted in closed form (ties and "
                   "unseen x: the label most frequent in training)")
    takes = ["categorical"]
    from_data = ["levels"]

    @classmethod
    def make_bank(cls, spec, input_shape, n_classes, generators, dtype, device, channels_last=False, amp=False):
        if len(input_shape) != 1 or input_shape[0] != len(spec["levels"]):
            raise ValueError(f"model kind '{cls.name}' needs [n, {len(spec['levels'])}] feature codes, got shape "
                             f"{tuple(input_shape)}")
        return PlugInBayesBank(spec["levels"], n_classes, len(generators), dtype, device)
