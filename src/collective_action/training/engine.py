"""The vectorised training engine.

All runs of a cell (one per seed) train together: their data live on the device
as one pool of inputs plus, per run, an index map into that pool (the collective's
transformed points are appended to the pool, so M poisoned copies of a dataset
cost M * k extra rows, not M * n), and a model bank computes every run's
minibatch in one batched call. Per-epoch predictions on the validation and test
sets are kept, so stopping rules can be chosen after training.

Each run draws its initialisation and its minibatch order from its own
generator, in the same order a plain per-model loop would (init, then one
permutation per epoch), so a run's result does not depend on which other runs
share its batch.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .. import rng
from ..models import make_bank
from . import devices
from .optim import Adam
from .timing import phase


def tune_cpu_allocator() -> None:
    """Keep freed memory in the heap instead of returning it to the OS.

    The same few activation shapes are allocated and freed at every step; with
    glibc's defaults, blocks above its mmap threshold are unmapped on free and
    page-faulted back in on the next step, which costs about a third of a small
    model's step time. No effect on results; a no-op where glibc is absent."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        libc = ctypes.CDLL(name)
        m_trim_threshold, m_mmap_threshold = -1, -3
        libc.mallopt(m_mmap_threshold, 1 << 25)  # 32 MiB, glibc's maximum
        libc.mallopt(m_trim_threshold, 1 << 30)
    except (OSError, AttributeError):
        pass


def resolve_device(name: str) -> torch.device:
    """The config's device on this machine (a job's own check; the workflow checks at start, see devices)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    devices.check_device(name)  # cuda without a CUDA device: the one message that says why and what to do
    return torch.device(name)


DTYPES = {"float32": torch.float32, "float64": torch.float64}


@dataclass
class Split:
    """M per-run views of one split: run m sees inputs pool[src[m]] with labels y[m]."""

    pool: torch.Tensor  # [P, ...]
    src: torch.Tensor  # [M, n] int64
    y: torch.Tensor  # [M, n] int64
    member: torch.Tensor  # [M, n] bool, True for the collective's points

    @property
    def n(self) -> int:
        return self.src.shape[1]

    @property
    def n_models(self) -> int:
        return self.src.shape[0]

    @classmethod
    def from_overlays(cls, x, y, overlays: Sequence[tuple[np.ndarray, np.ndarray]], target: int, device, dtype=None):
        """Build from a clean split and, per run, (collective indices, transformed inputs)."""
        n = len(y)
        pool = [np.asarray(x)]
        src = np.tile(np.arange(n, dtype=np.int64), (len(overlays), 1))
        labels = np.tile(np.asarray(y, dtype=np.int64), (len(overlays), 1))
        member = np.zeros((len(overlays), n), dtype=bool)
        offset = n
        for m, (index, x_col) in enumerate(overlays):
            src[m, index] = offset + np.arange(len(index))
            labels[m, index] = target
            member[m, index] = True
            pool.append(np.asarray(x_col, dtype=pool[0].dtype).reshape((len(index),) + pool[0].shape[1:]))
            offset += len(index)
        pool_t = torch.from_numpy(np.concatenate(pool))
        if dtype is not None and pool_t.is_floating_point():
            pool_t = pool_t.to(dtype)
        return cls(pool_t.to(device), torch.from_numpy(src).to(device), torch.from_numpy(labels).to(device),
                   torch.from_numpy(member).to(device))

    def batch(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """idx [M, B] positions in each run's split -> inputs [M, B, ...] and labels [M, B]."""
        return self.pool[self.src.gather(1, idx)], self.y.gather(1, idx)


SMALL_INPUT = 64  # inputs of at most this many numbers are gathered an epoch at a time


def weighted_ce_backward(bank, x: torch.Tensor, y: torch.Tensor, coefficients: Callable) -> None:
    """Gradients of sum_{m,b} c[m, b] CE(f_m(x[m, b]), y[m, b]) on the bank's parameters, where
    ``coefficients(loss)`` gives c from the detached per-sample losses [M, B] (1/B for a mean;
    weights for JTT and CVaR-DRO). The gradient with respect to the logits is c (softmax - onehot);
    a bank with ``backward_cached`` (the MLP) takes it from there without autograd, any other bank
    through autograd from its logits."""
    if hasattr(bank, "backward_cached"):
        logits, cache = bank.forward_cached(x)
    else:
        logits = bank(x)
    with torch.no_grad():
        log_p = torch.log_softmax(logits.detach(), dim=-1)
        loss = -log_p.gather(-1, y.unsqueeze(-1)).squeeze(-1)
        grad = log_p.exp_()
        grad.scatter_add_(-1, y.unsqueeze(-1), torch.full_like(loss, -1.0).unsqueeze(-1))
        grad = grad.mul_(coefficients(loss).unsqueeze(-1))
    if hasattr(bank, "backward_cached"):
        bank.backward_cached(cache, grad)
    else:
        logits.backward(grad)


def cached_ce_grad(bank, x: torch.Tensor, y: torch.Tensor, per_run_mean: bool = False):
    """For a bank with ``forward_cached`` (the MLP) on x [M, B, d]: its layer inputs, and the gradient with
    respect to its logits of the cross-entropy summed over samples (over each run's mean with
    ``per_run_mean``), computed with the kernels autograd runs for ``per_sample_ce`` (nll_loss's backward,
    then log-softmax's), so that the chain rule from there (``MLPBank.output_grads``) gives autograd's
    gradients bit for bit (weighted_ce_backward's shorter formula differs from them in the last bit)."""
    logits, inputs = bank.forward_cached(x)
    log_p = torch.log_softmax(logits, dim=-1)
    grad_loss = torch.ones_like(y, dtype=logits.dtype)  # what autograd passes back to each sample's loss
    if per_run_mean:
        grad_loss = grad_loss / y.shape[1]
    nll = torch.zeros_like(log_p).scatter_(-1, y.unsqueeze(-1), (-grad_loss).unsqueeze(-1))
    return inputs, torch._log_softmax_backward_data(nll, log_p, -1, log_p.dtype)


def per_sample_ce(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy per sample: logits [M, B, C], y [M, B] -> [M, B]."""
    m, b, c = logits.shape
    return F.cross_entropy(logits.reshape(m * b, c), y.reshape(m * b), reduction="none").view(m, b)


@torch.no_grad()
def predict_split(bank, split: Split, batch_size: int, transform=None) -> torch.Tensor:
    """Predicted classes of every run on its own view of ``split``: [M, n]."""
    out = []
    positions = torch.arange(split.n, device=split.src.device)
    for start in range(0, split.n, batch_size):
        idx = positions[start:start + batch_size].expand(split.n_models, -1)
        x, _ = split.batch(idx)
        out.append(bank(transform(x) if transform else x).argmax(-1))
    return torch.cat(out, dim=1)


@torch.no_grad()
def predict_shared(bank, x: torch.Tensor, batch_size: int, transform=None) -> torch.Tensor:
    """Predicted classes of every run on one shared set x [N, ...]: [M, N]."""
    out = []
    for start in range(0, len(x), batch_size):
        xb = x[start:start + batch_size]
        out.append(bank(transform(xb) if transform else xb).argmax(-1))
    return torch.cat(out, dim=1)


class evaluating:
    """Context manager: the banks in eval mode (batch norm uses, and does not update, its
    running statistics), restored to their previous mode afterwards."""

    def __init__(self, *banks):
        self.banks = banks

    def __enter__(self):
        self.modes = [b.training for b in self.banks]
        for b in self.banks:
            b.eval()

    def __exit__(self, *exc):
        for b, mode in zip(self.banks, self.modes):
            b.train(mode)


@dataclass
class Evaluator:
    """Predictions of every run on the evaluation sets, kept as uint8 class ids.

    The ``watched`` sets (the validation data the stopping rules read) are predicted after
    every epoch ([E, M, N]). The others (test data) are predicted after every epoch only
    with ``every_epoch`` (per-epoch tables); otherwise the evaluator keeps, for every
    stopping slot (:mod:`stopping`), the model of the epoch that slot picks so far, and
    predicts the test data once per slot at the end ([M, N] each): the same numbers at a
    fraction of the cost. ``scores`` turns the watched predictions into the rules' scores.
    """

    per_run: Mapping[str, Split]  # e.g. the poisoned validation split
    shared: Mapping[str, torch.Tensor]  # e.g. clean test inputs and their signal images
    batch_size: int
    transform: Callable | None = None
    watched: tuple = ()
    every_epoch: bool = True
    scores: Callable | None = None  # {set: [E, M, N]} -> {score: [E, M]}
    history: dict[str, list[np.ndarray]] = field(default_factory=dict)
    slots: dict[str, dict] = field(default_factory=dict)  # slot -> {"epoch": [M], "state": run states}

    def _sets(self, names) -> list[tuple[str, Callable]]:
        out = [(n, lambda bank, s=s: predict_split(bank, s, self.batch_size, self.transform))
               for n, s in self.per_run.items() if n in names]
        return out + [(n, lambda bank, x=x: predict_shared(bank, x, self.batch_size, self.transform))
                      for n, x in self.shared.items() if n in names]

    @property
    def _all(self) -> list[str]:
        return [*self.per_run, *self.shared]

    def record(self, bank) -> None:
        with phase("evaluate"):
            self._record(bank)

    def _record(self, bank) -> None:
        names = self._all if self.every_epoch else [n for n in self._all if n in self.watched]
        with evaluating(bank):
            for name, predict in self._sets(names):
                self.history.setdefault(name, []).append(self._u8(predict(bank)))
        if not self.every_epoch:
            self._keep_slot_models(bank)

    def _keep_slot_models(self, bank) -> None:
        from .stopping import SLOTS, select

        epoch = len(next(iter(self.history.values()))) - 1
        scores = self.scores({n: np.stack(h) for n, h in self.history.items()})
        for name in SLOTS[1:]:
            chosen = torch.from_numpy(select(scores, name) == epoch)
            if not chosen.any():
                continue
            current = run_states(bank)
            if name not in self.slots:  # the first epoch: every run's choice so far
                self.slots[name] = {"state": {k: v.clone() for k, v in current.items()}}
            for key, value in current.items():
                mask = chosen.to(value.device)
                self.slots[name]["state"][key][mask] = value[mask]

    def finish(self, bank) -> None:
        with phase("evaluate"):
            self._finish(bank)

    def _finish(self, bank) -> None:
        """Predict the unwatched sets at every slot's model (nothing to do with ``every_epoch``); slots
        that picked the same epoch for every run hold the same models, so they are predicted once."""
        if self.every_epoch:
            return
        from .stopping import select

        others = [n for n in self._all if n not in self.watched]
        scores = self.scores({n: np.stack(h) for n, h in self.history.items()})
        with evaluating(bank):
            by_epochs = {tuple(select(scores, "last")): {n: self._u8(predict(bank)) for n, predict in self._sets(others)}}
            self.final = {("last", n): p for n, p in next(iter(by_epochs.values())).items()}
            if self.slots:
                saved = {k: v.clone() for k, v in run_states(bank).items()}
                for name, slot in self.slots.items():
                    epochs = tuple(select(scores, name))
                    if epochs not in by_epochs:
                        load_run_states(bank, slot["state"])
                        by_epochs[epochs] = {n: self._u8(predict(bank)) for n, predict in self._sets(others)}
                    self.final.update({(name, n): p for n, p in by_epochs[epochs].items()})
                load_run_states(bank, saved)

    @staticmethod
    def _u8(pred: torch.Tensor) -> np.ndarray:
        return pred.to(torch.uint8).cpu().numpy()

    def predictions(self) -> dict[str, np.ndarray]:
        """Arrays for the run artifact: ``<set>`` [E, M, N] for sets predicted every epoch, and
        ``slot/<slot>/<set>`` [M, N] for the others."""
        out = {name: np.stack(h) for name, h in self.history.items()}
        out.update({f"slot/{name}/{s}": pred for (name, s), pred in getattr(self, "final", {}).items()})
        return out


def run_states(bank) -> dict[str, torch.Tensor]:
    """The bank's parameters and buffers, run index first (views, not copies, where the bank stacks them)."""
    if getattr(bank, "models", None) is not None and not getattr(bank, "vmapped", True):
        states = [m.state_dict() for m in bank.models]
        return {k: torch.stack([s[k] for s in states]) for k in states[0]}
    return {k: v.detach() for k, v in bank.state_dict(keep_vars=True).items()}


@torch.no_grad()
def load_run_states(bank, states: Mapping[str, torch.Tensor]) -> None:
    if getattr(bank, "models", None) is not None and not getattr(bank, "vmapped", True):
        for i, module in enumerate(bank.models):
            module.load_state_dict({k: v[i] for k, v in states.items()})
        return
    current = bank.state_dict(keep_vars=True)
    for key, value in states.items():
        current[key].data.copy_(value)


class TrainingDiverged(FloatingPointError):
    """Some runs' parameters became NaN or infinite: a loss that is not finite, a learning rate far too large."""

    def __init__(self, runs: Sequence[int], epoch: int, stage: str, names: Sequence[str], cell: str = ""):
        self.runs, self.epoch, self.stage, self.names = list(runs), epoch, stage, list(names)
        where = f"cell {cell}: " if cell else ""
        super().__init__(f"{where}non-finite parameters ({', '.join(self.names)}) in the runs of seeds {self.runs} "
                         f"after epoch {epoch} of {stage}: the loss or its gradient overflowed (a learning rate too "
                         f"large, or inputs far outside the model's scale); the job writes nothing")

    def in_cell(self, cell: str) -> TrainingDiverged:
        return TrainingDiverged(self.runs, self.epoch, self.stage, self.names, cell)


@torch.no_grad()
def check_finite(banks: Sequence[torch.nn.Module], seeds: Sequence[int], epoch: int, stage: str) -> None:
    """Raise :class:`TrainingDiverged` if any run of any bank has a parameter or buffer that is NaN or infinite."""
    bad = torch.zeros(len(seeds), dtype=torch.bool)
    names: list[str] = []
    for bank in banks:
        for name, value in run_states(bank).items():
            if value.is_floating_point():
                runs = ~torch.isfinite(value.reshape(len(seeds), -1)).all(dim=1).cpu()
                if runs.any():
                    bad |= runs
                    names.append(name)
    if bad.any():
        raise TrainingDiverged([s for s, b in zip(seeds, bad.tolist()) if b], epoch, stage, names[:4])


@dataclass(frozen=True)
class Batch:
    """One minibatch of every run: positions idx [M, B] in each run's training split, inputs x
    [M, B, ...] as stored (augmented, not yet normalised: the scale a signal or an adversary
    works on) and labels y [M, B]; ``weight`` [M, B] is 0 on padding (Poisson batches)."""

    idx: torch.Tensor
    x: torch.Tensor
    y: torch.Tensor
    weight: torch.Tensor | None = None


@dataclass
class FitContext:
    """Everything a learner needs to train the runs of one cell, and the one training loop."""

    train: Split
    evaluator: Evaluator
    model_spec: Mapping[str, Any]
    input_shape: Sequence[int]
    n_classes: int
    seeds: Sequence[int]
    base_seed: int
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    hp: Mapping[str, Any]
    device: torch.device
    dtype: torch.dtype = torch.float32
    augment: Callable | None = None  # (x [M, B, ...], generators) -> x, on the stored scale (images: crop, flip)
    normalise: Callable | None = None  # stored scale -> model inputs (images: per-channel standardisation)
    input_range: tuple[float, float] | None = None  # the stored scale's bounds, e.g. (0, 255) for images
    channels_last: bool = False
    amp: bool = False

    def new_models(self, tag: str):
        """A fresh bank, initialised from the runs' ``tag`` streams, and those streams
        (which go on to draw the minibatch order and the augmentation)."""
        gens = rng.torch_generators(self.base_seed, self.seeds, tag)
        bank = make_bank(self.model_spec, self.input_shape, self.n_classes, gens, self.dtype, self.device,
                         channels_last=self.channels_last, amp=self.amp)
        return bank, gens

    def optimizer(self, *banks) -> Adam:
        return Adam([p for bank in banks for p in bank.parameters()], lr=self.lr, weight_decay=self.weight_decay)

    def minibatches(self, gens) -> list[torch.Tensor]:
        """One epoch: each run's own random permutation, cut into [M, B] index blocks
        (the last block is shorter, as with a DataLoader that keeps the last batch)."""
        perm = torch.stack([torch.randperm(self.train.n, generator=g) for g in gens]).to(self.device)
        return [perm[:, s:s + self.batch_size] for s in range(0, self.train.n, self.batch_size)]

    def batch(self, idx: torch.Tensor, gens) -> Batch:
        """Inputs and labels of a minibatch; ``gens`` (the runs' streams) draw any augmentation."""
        x, y = self.train.batch(idx)
        return Batch(idx, self.augment(x, gens) if self.augment else x, y)

    def model_input(self, x: torch.Tensor) -> torch.Tensor:
        return self.normalise(x) if self.normalise else x

    def forward(self, bank, x: torch.Tensor) -> torch.Tensor:
        """Logits [M, B, C] of every run on inputs on the stored scale."""
        return bank(self.model_input(x))

    def predict_train(self, bank) -> torch.Tensor:
        """Every run's predicted class on its own (poisoned) training split, in eval mode."""
        with evaluating(bank):
            return predict_split(bank, self.train, self.evaluator.batch_size, self.normalise)

    def train_loop(self, banks: Sequence[torch.nn.Module], gens, epochs: int, step: Callable[[Batch], None],
                   record=None, batches: Callable | None = None, stage: str = "training") -> None:
        """The one training loop: minibatches, ``step`` (which leaves gradients on the banks'
        parameters), the optimiser step, and after every epoch a check that every run's parameters are
        finite (:class:`TrainingDiverged` names the runs and the epoch) and the evaluator's record of ``record``.
        Banks that are fitted in closed form (``fit_closed_form(train)``) are fitted once instead; the evaluator
        still records every epoch, so their artifacts have the shape of any other's."""
        if all(hasattr(bank, "fit_closed_form") for bank in banks):  # counted, not trained: the plug-in Bayes
            for bank in banks:                                          # classifier (models/plug_in_bayes.py)
                bank.fit_closed_form(self.train)
            for _ in range(epochs if record is not None else 0):
                self.evaluator.record(record)
            if record is not None:
                self.evaluator.finish(record)
            return
        opt = self.optimizer(*banks)
        for bank in banks:
            bank.train()
        for epoch in range(epochs):
            for batch in (batches or self.shuffled_batches)(gens):
                opt.zero_grad()
                step(batch)
                opt.step()
            check_finite(banks, self.seeds, epoch + 1, stage)
            if record is not None:
                self.evaluator.record(record)
        if record is not None:
            self.evaluator.finish(record)

    def shuffled_batches(self, gens):
        blocks = self.minibatches(gens)
        if self.augment is not None or self.train.pool[0].numel() > SMALL_INPUT:
            for idx in blocks:
                yield self.batch(idx, gens)
            return
        # small inputs (2D points): gather the whole epoch in its shuffled order at once, then slice
        x, y = self.train.batch(torch.cat(blocks, dim=1))
        start = 0
        for idx in blocks:
            end = start + idx.shape[1]
            yield Batch(idx, x[:, start:end], y[:, start:end])
            start = end


@dataclass
class FitResult:
    bank: torch.nn.Module
    diagnostics: dict[str, np.ndarray] = field(default_factory=dict)
