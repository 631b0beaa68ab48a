"""The text signals of Hardt et al. (2023, section 5): a rare token planted every k words."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Signal


def insert_every(x: np.ndarray, token_id: int, every: int, start: int = 0, pad_id: int = 0) -> np.ndarray:
    """Token ids [..., L] (words first, then padding) with ``token_id`` inserted before the words at
    positions start, start + every, start + 2 every, ... of each document: in the output the token
    sits at start, start + every + 1, ... with ``every`` words between two tokens. A document of
    ``start`` words or fewer gets the token once, after its last word. Documents grow into their
    padding and are truncated at L (shape and dtype kept)."""
    if every < 1 or start < 0:
        raise ValueError(f"token insertion needs every >= 1 and start >= 0, got every={every}, start={start}")
    x = np.asarray(x)
    shape, length = x.shape, x.shape[-1]
    if start >= length:
        raise ValueError(f"start = {start} must be below the document length {length}: the token would be truncated")
    flat = x.reshape(-1, length)
    n = (flat != pad_id).sum(axis=1)
    out = np.full_like(flat, pad_id)
    pos = np.arange(length)
    # each word moves right by the number of tokens inserted at or before its position
    shift = np.where(pos >= start, (pos - start) // every + 1, 0)
    dest = pos + shift
    rows, cols = np.nonzero((pos[None, :] < n[:, None]) & (dest[None, :] < length))
    out[rows, dest[cols]] = flat[rows, cols]
    # tokens: inside the document at output positions start + j (every + 1), or once after a short one
    j = np.arange(length // (every + 1) + 1)
    count = np.where(n > start, (n - start + every - 1) // every, 1)
    where = np.where(n[:, None] > start, start + j[None, :] * (every + 1), n[:, None] + 0 * j[None, :])
    rows, cols = np.nonzero((j[None, :] < count[:, None]) & (where < length))
    out[rows, where[rows, cols]] = token_id
    return out.reshape(shape)


def token_xi(x: np.ndarray, token_id: int) -> float:
    """xi: the share of documents (rows of token ids) that contain the token."""
    x = np.asarray(x)
    return float((x == token_id).any(axis=-1).mean()) if len(x) else 0.0


def _vocabulary(data) -> list[str]:
    from ..datasets.text_sources import vocab_list

    return vocab_list(data["vocab"])


@dataclass(frozen=True)
class TokenInsert(Signal):
    """Feature-label strategy: the token planted every ``every`` words from ``start``; the
    collective's documents are relabelled to y* (the pipeline sets their label)."""

    token: str = "zqx"
    every: int = 10
    start: int = 0
    token_id: int = -1  # from the dataset's vocabulary (from_spec)
    pad_id: int = 0

    name = "token_insert"
    data_kinds = ["text"]
    strategy = "feature-label"  # Theorem 1 (Hardt et al.) bounds its success
    description = ("text, feature-label strategy (Hardt et al. section 5): the rare word 'token' inserted every "
                   "'every' words from position 'start' (documents grow into their padding, truncated at the "
                   "length), and the label set to target_label.")
    parameters = {
        "token": {"type": "string", "minLength": 1, "format": "token",
                  "description": "The planted word, one token of the tokeniser (lower-case letters and digits, "
                                 "optionally ending in + or #); the dataset's vocabulary always "
                                 "holds it. Choose one that is rare in clean data (xi is measured when preparing)."},
        "every": {"type": "integer", "minimum": 1, "default": 10,
                  "description": "k: the token is inserted every k words."},
        "start": {"type": "integer", "minimum": 0, "default": 0,
                  "description": "Word position of the first insertion (0: before the first word)."},
    }

    @classmethod
    def from_spec(cls, params, data=None):
        if data is None or "vocab" not in data:
            raise ValueError(f"signal '{cls.name}' needs the prepared text dataset's vocabulary ('vocab')")
        vocab = _vocabulary(data)
        token = params.get("token", cls.token)
        if token not in vocab:
            raise ValueError(f"signal '{cls.name}': token {token!r} is not in the dataset's vocabulary; prepare the "
                             f"dataset with this signal (its builder adds the planted token to the vocabulary)")
        length = data["train/x"].shape[-1]
        if int(params.get("start", 0)) >= length:
            raise ValueError(f"signal '{cls.name}': start = {params['start']} must be below the documents' length "
                             f"{length}")
        return cls(**params, token_id=vocab.index(token), pad_id=0)

    def apply(self, x: np.ndarray, rng=None) -> np.ndarray:
        if not np.issubdtype(np.asarray(x).dtype, np.integer):
            raise TypeError(f"the token signal works on integer token ids, got {np.asarray(x).dtype}")
        if self.token_id < 0:
            raise ValueError("the token signal has no token id: build it with from_spec(params, dataset)")
        return insert_every(x, self.token_id, int(self.every), int(self.start), self.pad_id)

    def in_codomain(self, x: np.ndarray) -> np.ndarray:
        """Which documents contain the token (g's image lies in this set)."""
        return (np.asarray(x) == self.token_id).any(axis=-1)

    def xi(self, x: np.ndarray) -> float:
        """The share of (clean) documents x that already contain the token."""
        return token_xi(x, self.token_id)


@dataclass(frozen=True)
class TokenInsertFeatureOnly(TokenInsert):
    """Feature-only strategy: the same insertion, planted only in documents already labelled y*,
    which keep their label."""

    name = "token_insert_feature_only"
    strategy = "feature-only"  # Theorem 1 does not apply (Hardt et al. bound it with the positivity of y*)
    description = ("text, feature-only strategy (Hardt et al. section 5): the token inserted as in 'token_insert', "
                   "by a collective drawn only from documents already labelled target_label (their label is kept).")

    def eligible(self, y: np.ndarray) -> np.ndarray:
        return np.asarray(y) == self.target_label
