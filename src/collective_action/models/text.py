"""Text classifiers trained from scratch, vectorised across runs by ``models.ModuleBank``.

Both are plain nn.Modules on token ids [B, L] (PAD = 0 is masked out), with no batch norm and
no dropout, so that ``torch.func.vmap`` computes all runs of a cell at once (dropout would need
vmap's randomness handling). Attention is written out by hand (nn.MultiheadAttention's fused
path does not batch under vmap) and pooling is a masked mean (nn.EmbeddingBag's offsets do not
either). ``forward(ids, embedding_offset=None)`` adds an optional offset [B, L, d] to the token
embeddings, where an adversary perturbs a document; the banks of a cell (``make_text_bank``) have the
same hooks, ``embed(ids)`` and ``forward(ids, embedding_offset)`` with [M, B, L, d] offsets,
``embed_dim`` and ``pad_id``. The mean-pooled bag's bank also gives each sample's gradient norm in
closed form (``logits_and_grad_sq_norms``, for DP-SGD's clipping).

Config (``models.<name>``):

- ``{kind: text_bag, embed_dim: 64, pool: mean}``: the masked mean (``pool: max``: the masked
  maximum, per feature) of the token embeddings, then a linear layer (fastText-like). The mean
  dilutes one token by the document's length; the maximum lets one token decide, as attention can.
- ``{kind: text_transformer, embed_dim: 64, depth: 2, heads: 4, mlp_ratio: 2}``: token plus
  learned position embeddings, ``depth`` pre-norm encoder layers (LayerNorm, self-attention over
  the non-padding tokens, LayerNorm, GELU MLP, residuals), a final LayerNorm, masked mean pool,
  linear head.

Both need ``vocab_size`` in the model spec (the prepared dataset's ``meta['vocab_size']``).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from .banks import ModuleBank
from .base import ModelKind

PAD_ID = 0


def _masked_mean(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over the non-padding positions: h [B, L, d], mask [B, L] bool -> [B, d]."""
    m = mask.unsqueeze(-1).to(h.dtype)
    return (h * m).sum(dim=-2) / m.sum(dim=-2).clamp(min=1.0)


def _masked_max(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Largest value of each feature over the non-padding positions (0 for a document of padding only)."""
    m = mask.unsqueeze(-1)
    out = h.masked_fill(~m, torch.finfo(h.dtype).min).amax(dim=-2)
    return torch.where(m.any(dim=-2), out, torch.zeros_like(out))


class BagOfEmbeddings(nn.Module):
    """Masked mean (or max, ``pool='max'``) of token embeddings -> linear."""

    def __init__(self, vocab_size: int, embed_dim: int, n_classes: int, pool: str = "mean"):
        super().__init__()
        if pool not in ("mean", "max"):
            raise ValueError(f"text_bag pool must be 'mean' or 'max', got {pool!r}")
        self.pool = _masked_mean if pool == "mean" else _masked_max
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        nn.init.normal_(self.embedding.weight, std=embed_dim ** -0.5)
        self.head = nn.Linear(embed_dim, n_classes)

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        return self.embedding(ids)

    def forward(self, ids: torch.Tensor, embedding_offset: torch.Tensor | None = None) -> torch.Tensor:
        h = self.embed(ids)
        if embedding_offset is not None:
            h = h + embedding_offset
        return self.head(self.pool(h, ids != PAD_ID))


class SelfAttention(nn.Module):
    """Multi-head self-attention over the non-padding keys, written out so vmap can batch it."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        if dim % heads:
            raise ValueError(f"embed_dim {dim} is not divisible by heads {heads}")
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, h: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
        *batch, length, dim = h.shape
        q, k, v = self.qkv(h).reshape(*batch, length, 3, self.heads, dim // self.heads).unbind(-3)
        q, k, v = (t.transpose(-3, -2) for t in (q, k, v))  # [B, heads, L, dh]
        scores = q @ k.transpose(-1, -2) / math.sqrt(dim // self.heads)
        # a large negative, not -inf: a document of padding only gets uniform weights, not NaN
        scores = scores.masked_fill(~key_mask[..., None, None, :], torch.finfo(scores.dtype).min)
        out = scores.softmax(dim=-1) @ v  # [B, heads, L, dh]
        return self.out(out.transpose(-3, -2).reshape(*batch, length, dim))


class EncoderLayer(nn.Module):
    """Pre-norm: h + attn(LN(h)), then h + MLP(LN(h))."""

    def __init__(self, dim: int, heads: int, hidden: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = SelfAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = h + self.attn(self.norm1(h), mask)
        return h + self.mlp(self.norm2(h))


class TinyTransformer(nn.Module):
    """Token + learned position embeddings, pre-norm encoder layers, masked mean pool, linear head."""

    def __init__(self, vocab_size: int, max_len: int, n_classes: int, embed_dim: int = 64, depth: int = 2,
                 heads: int = 4, mlp_ratio: float = 2.0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.position = nn.Parameter(torch.zeros(max_len, embed_dim))
        nn.init.normal_(self.embedding.weight, std=0.02)
        nn.init.normal_(self.position, std=0.02)
        self.layers = nn.ModuleList(EncoderLayer(embed_dim, heads, int(mlp_ratio * embed_dim)) for _ in range(depth))
        self.norm = nn.LayerNorm(embed_dim)
        self.head = nn.Linear(embed_dim, n_classes)

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        return self.embedding(ids)

    def forward(self, ids: torch.Tensor, embedding_offset: torch.Tensor | None = None) -> torch.Tensor:
        mask = ids != PAD_ID
        h = self.embed(ids)
        if embedding_offset is not None:
            h = h + embedding_offset
        h = h + self.position[: ids.shape[-1]]
        for layer in self.layers:
            h = layer(h, mask)
        return self.head(_masked_mean(self.norm(h), mask))


def make_text_module(model_spec: Mapping[str, Any], input_shape, n_classes: int) -> nn.Module:
    """One text model from its spec; ``input_shape`` is [max_len]."""
    kind = model_spec["kind"]
    if "vocab_size" not in model_spec:
        raise ValueError(f"text model '{kind}' needs 'vocab_size' in its spec (the prepared dataset's "
                         f"meta['vocab_size'])")
    if len(input_shape) != 1:
        raise ValueError(f"text model '{kind}' needs token ids [max_len], got input shape {tuple(input_shape)}")
    vocab, dim = int(model_spec["vocab_size"]), int(model_spec.get("embed_dim", 64))
    if kind == "text_bag":
        return BagOfEmbeddings(vocab, dim, n_classes, str(model_spec.get("pool", "mean")))
    if kind == "text_transformer":
        return TinyTransformer(vocab, int(input_shape[0]), n_classes, dim, int(model_spec.get("depth", 2)),
                               int(model_spec.get("heads", 4)), float(model_spec.get("mlp_ratio", 2.0)))
    raise ValueError(f"unknown text model kind '{kind}' (text_bag, text_transformer)")


def per_run(ids: torch.Tensor, n_models: int) -> torch.Tensor:
    """Token ids as every run's own batch: [M, B, L] as given, or [B, L] (shared by all runs) expanded."""
    return ids.expand(n_models, *ids.shape) if ids.dim() == 2 else ids


class BagBank(nn.Module):
    """M bag-of-embeddings models with their parameters stacked ([M, V, d] embeddings, [M, C, d] and [M, C]
    heads), computed with one gather from the flattened tables and one batched matmul, without vmap.

    The same models and numbers as a vmapped ModuleBank of ``BagOfEmbeddings`` (tested), faster: under
    vmap, the embedding's backward runs per run; here it is one index_add into the [M V, d] table."""

    vmapped = True  # its parameters are stacked over runs, as a vmapped ModuleBank's
    pad_id = PAD_ID

    def __init__(self, stacked: Mapping[str, torch.Tensor], pool: str = "mean"):
        """``stacked``: BagOfEmbeddings' parameters by name, stacked over runs (a ModuleBank's)."""
        super().__init__()
        self.n_models = int(stacked["embedding.weight"].shape[0])
        self.mean_pool = pool == "mean"
        self.pool = _masked_mean if self.mean_pool else _masked_max
        self.embedding = nn.Parameter(stacked["embedding.weight"].detach().clone())
        self.weight = nn.Parameter(stacked["head.weight"].detach().clone())
        self.bias = nn.Parameter(stacked["head.bias"].detach().clone())

    @property
    def embed_dim(self) -> int:
        return int(self.embedding.shape[-1])

    def _flat(self, ids: torch.Tensor):
        """ids [M, B, L] or [B, L] (shared) -> (ids [M, B, L], the flattened [M V, d] table, ids into it)."""
        m, vocab, dim = self.embedding.shape
        ids = per_run(ids, m)
        offsets = (torch.arange(m, device=ids.device) * vocab).view(m, *([1] * (ids.dim() - 1)))
        return ids, self.embedding.reshape(m * vocab, dim), (ids + offsets).reshape(-1, ids.shape[-1])

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """Each run's token embeddings: [M, B, L, d]. index_select, not F.embedding: its backward is one
        index_add (embedding_dense_backward sorts)."""
        ids, table, flat = self._flat(ids)
        return table.index_select(0, flat.reshape(-1)).view(*ids.shape, table.shape[-1])

    def features(self, ids: torch.Tensor, embedding_offset: torch.Tensor | None = None) -> torch.Tensor:
        """The pooled embeddings [M, B, d] (plus ``embedding_offset`` [M, B, L, d] before pooling)."""
        ids, table, flat = self._flat(ids)
        mask = ids != PAD_ID
        if self.mean_pool and embedding_offset is None:  # one embedding_bag: no [M, B, L, d] tensor
            m = mask.to(table.dtype)
            w = (m / m.sum(dim=-1, keepdim=True).clamp(min=1)).reshape(flat.shape)
            pooled = nn.functional.embedding_bag(flat, table, mode="sum", per_sample_weights=w)
            return pooled.view(*ids.shape[:-1], table.shape[-1])
        h = self.embed(ids)
        return self.pool(h if embedding_offset is None else h + embedding_offset, mask)

    def forward(self, ids: torch.Tensor, embedding_offset: torch.Tensor | None = None) -> torch.Tensor:
        """ids [M, B, L] (each run its own batch) or [B, L] (shared) -> logits [M, B, C]."""
        return self.head(self.features(ids, embedding_offset))

    def head(self, pooled: torch.Tensor) -> torch.Tensor:
        """Logits [M, B, C] of pooled features [M, B, d]."""
        return torch.baddbmm(self.bias.unsqueeze(1), pooled, self.weight.transpose(1, 2))

    def logits_and_grad_sq_norms(self, ids: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits [M, B, C] (in the autograd graph) and each sample's squared norm of its cross-entropy gradient
        over all of its run's parameters [M, B], without per-sample gradients (mean pooling only).

        Sample b's pooled features are p_b = sum_l E[t_bl] / n_b over its n_b tokens, its logits W p_b + c,
        g_b the loss gradient at the logits. Its head's gradients are g_b p_b^T and g_b; its embedding
        gradient is sparse, row v being (c_bv / n_b) W^T g_b with c_bv the count of token v in the document.
        So the squared norm is |g_b|^2 (|p_b|^2 + 1) + |W^T g_b|^2 sum_v c_bv^2 / n_b^2, where sum_v c_bv^2
        counts the pairs of positions that hold the same token."""
        if not self.mean_pool:
            raise ValueError("closed-form per-sample gradient norms need the mean-pooled bag (pool: mean)")
        ids = per_run(ids, self.n_models)
        pooled = self.features(ids)
        logits = self.head(pooled)
        with torch.no_grad():
            g = torch.softmax(logits, dim=-1) - nn.functional.one_hot(y, logits.shape[-1]).to(logits.dtype)
            mask = ids != PAD_ID
            n = mask.sum(-1).clamp(min=1).to(logits.dtype)
            pairs = ((ids.unsqueeze(-1) == ids.unsqueeze(-2)) & mask.unsqueeze(-1) & mask.unsqueeze(-2)).sum((-2, -1))
            sq = (g.square().sum(-1) * (pooled.square().sum(-1) + 1)
                  + torch.bmm(g, self.weight).square().sum(-1) * pairs.to(logits.dtype) / n.square())
        return logits, sq


class TextModuleBank(ModuleBank):
    """A ModuleBank of text models (the transformer, or any text model run one after another), with the
    hooks of an embedding-space adversary: ``embed``, and ``forward`` with an [M, B, L, d]
    ``embedding_offset`` (passed to each run's module by ModuleBank.forward)."""

    pad_id = PAD_ID

    @property
    def embed_dim(self) -> int:
        module = self.base[0] if self.vmapped else self.models[0]
        return int(module.embedding.embedding_dim)

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        ids = per_run(ids, self.n_models)
        if self.vmapped:
            table = self.stacked[self._names.index("embedding.weight")]
            return torch.func.vmap(nn.functional.embedding)(ids, table)
        return torch.stack([m.embed(ids[i]) for i, m in enumerate(self.models)])

    def forward(self, ids: torch.Tensor, embedding_offset: torch.Tensor | None = None) -> torch.Tensor:
        """The text hooks' signature (as BagBank's) over ModuleBank's forward."""
        return super().forward(ids, embedding_offset=embedding_offset)


def make_text_bank(model_spec: Mapping[str, Any], input_shape, n_classes: int, generators, device,
                   amp: bool = False) -> nn.Module:
    """The text models of a cell, one per run generator: a :class:`BagBank` for text_bag, a vmapped
    :class:`TextModuleBank` for text_transformer (either run one after another with ``vectorize: false``)."""
    with torch.random.fork_rng(devices=[]):  # fail early on a bad spec, leaving the global stream as it was
        make_text_module(model_spec, input_shape, n_classes)

    def make():
        return make_text_module(model_spec, input_shape, n_classes)

    bank = TextModuleBank(make, generators, len(input_shape), device, vectorize=model_spec.get("vectorize", True),
                          amp=amp)
    if model_spec["kind"] == "text_bag" and bank.vmapped and not amp:  # the ModuleBank's initialisation, stacked
        return BagBank(dict(zip(bank._names, bank.stacked)), str(model_spec.get("pool", "mean")))
    return bank


class TextBag(ModelKind):
    name = "text_bag"
    description = ("(text, our choice) the masked mean of token embeddings, then a linear layer (fastText-like), "
                   "trained from scratch (Hardt et al. fine-tune DistilBERT); its vocabulary size taken from the "
                   "prepared dataset")
    takes = ["text"]
    from_data = ["vocab_size"]
    parameters = {
        "embed_dim": {"type": "integer", "minimum": 1, "default": 64, "description": "Width of the token embeddings (default 64)."},
        "pool": {"type": "string", "enum": ["mean", "max"], "default": "mean",
                 "description": "How token embeddings are pooled over a document: 'mean' (default; fastText) or "
                                "'max' (per feature). The mean dilutes a planted token by the document's length."},
    }

    @classmethod
    def make_bank(cls, spec, input_shape, n_classes, generators, dtype, device, channels_last=False, amp=False):
        return make_text_bank(spec, input_shape, n_classes, generators, device, amp=amp)


class TextTransformer(TextBag):
    name = "text_transformer"
    description = ("(text, our choice) token and learned position embeddings, 'depth' pre-norm encoder layers, "
                   "masked mean pool, linear head, trained from scratch and vectorised across runs with vmap")
    divides = [["heads", "embed_dim"]]
    parameters = {
        "embed_dim": {"type": "integer", "minimum": 1, "default": 64,
                      "description": "Width of the token embeddings (default 64); a multiple of heads."},
        "depth": {"type": "integer", "minimum": 1, "default": 2, "description": "Number of encoder layers (default 2)."},
        "heads": {"type": "integer", "minimum": 1, "default": 4,
                  "description": "Attention heads per layer; must divide embed_dim (default 4)."},
        "mlp_ratio": {"type": "number", "exclusiveMinimum": 0, "default": 2,
                      "description": "Hidden width of each layer's MLP over embed_dim (default 2)."},
    }
