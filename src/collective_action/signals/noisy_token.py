"""The text signal planted with coordination noise (after Karan, Kalle, Vincent, Sundaram, "Sync or Sink", arXiv
2510.18933): every member means to insert the token every k words from ``start`` (``token_insert``), but with
probability ``noise`` its insertion goes wrong, in one of two ways (``error``):

- ``token``: the member inserts a wrong token, at the right positions: a word drawn uniformly from the dataset's
  vocabulary (PAD, UNK and the designed token excepted), one per member, so wrong members do not agree on their
  mistake; it still relabels its document to y*.
- ``position``: the member inserts the right token, every k words, from a wrong first position: drawn uniformly
  from the document length's other positions (a document no longer than that position gets the token once,
  after its last word, as ``token_insert`` does).

Our noise model (the paper's is not known to us; only its abstract could be read): each member errs or not on its
own, independently, with the same probability, the simplest model of members who act without checking one
another. The firm's model is tested on the designed insertion (``apply``); only what the members plant (``plant``)
is noisy. Which members err and what they insert instead are drawn from the signal's own random stream at every
noise level (a member errs when its uniform draw is below ``noise``), so for one stream the members who err at a
lower noise level also err at a higher one, and noise 0 plants the designed signal exactly.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .noisy_reflect import plants_exactly
from .token_insert import TokenInsert, _vocabulary, insert_every


@dataclass(frozen=True)
class NoisyTokenInsert(TokenInsert):
    """Feature-label strategy with coordination noise: ``token_insert`` as designed; with probability ``noise`` a
    member inserts a wrong token (``error: token``) or starts at a wrong position (``error: position``)."""

    noise: float = 0.0
    error: str = "token"
    vocab_size: int = 0  # from the dataset's vocabulary (from_spec)

    name = "token_insert_noisy"
    data_kinds = ["text"]
    strategy = "feature-label"
    description = ("text, feature-label strategy with coordination noise (Karan et al. 2025, 'Sync or Sink'; our "
                   "noise model): token_insert as designed, but each member's insertion goes wrong with probability "
                   "'noise', independently: a wrong token (a random word of the vocabulary, error: token) or a wrong "
                   "first position (error: position); the firm's model is tested on the designed insertion.")
    parameters = {
        "token": {"type": "string", "minLength": 1, "format": "token",
                  "description": "The planted word, one token of the tokeniser (lower-case letters and digits, "
                                 "optionally ending in + or #); the dataset's vocabulary always holds it."},
        "every": {"type": "integer", "minimum": 1, "default": 10,
                  "description": "k: the token is inserted every k words."},
        "start": {"type": "integer", "minimum": 0, "default": 0,
                  "description": "Word position of the first insertion (0: before the first word)."},
        "noise": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.0,
                  "description": "The probability that a member's insertion goes wrong (each member on its own); 0 "
                                 "plants the designed signal exactly."},
        "error": {"enum": ["token", "position"], "default": "token",
                  "description": "How an insertion goes wrong: 'token', a wrong token (a random word of the "
                                 "vocabulary, PAD, UNK and the designed token excepted) at the right positions; "
                                 "'position', the right token from a wrong first position (uniform over the "
                                 "document length's other positions)."},
    }

    @classmethod
    def from_spec(cls, params, data=None):
        signal = super().from_spec(params, data)
        return replace(signal, vocab_size=len(_vocabulary(data)))

    def plant(self, x: np.ndarray, rng=None) -> np.ndarray:
        designed = self.apply(x)
        if plants_exactly(self, rng):
            return designed
        x = np.asarray(x)
        errs, other = _draw(self, len(x), x.shape[-1], rng)
        rows = np.flatnonzero(errs)
        if not len(rows):
            return designed
        out = np.array(designed, copy=True)
        every = int(self.every)
        if self.error == "token":
            marker = self.vocab_size  # an id outside the vocabulary, replaced by each member's own wrong token
            marked = insert_every(x[rows], marker, every, int(self.start), self.pad_id)
            out[rows] = np.where(marked == marker, other[rows, None], marked)
        else:
            for start in np.unique(other[rows]):
                chosen = rows[other[rows] == start]
                out[chosen] = insert_every(x[chosen], self.token_id, every, int(start), self.pad_id)
        return out

    def diagnostics(self, members_x, members_y, planted_x, n_train, n_test) -> dict[str, float]:
        """The configured noise (the tables' column ``noise``), the share of members whose document differs from the
        designed insertion (``plant_error``), the share whose document holds the token at all (``token_share``),
        and the token's copies per member document as planted and as designed (``planted_tokens``,
        ``designed_tokens``); NaN without members."""
        out = {"noise": float(self.noise)}
        keys = ("plant_error", "token_share", "planted_tokens", "designed_tokens")
        if not len(members_x):
            return {**out, **{k: float("nan") for k in keys}}
        designed, planted = self.apply(members_x), np.asarray(planted_x)
        copies = (planted == self.token_id).sum(axis=-1)
        return {**out, "plant_error": float((planted != designed).reshape(len(planted), -1).any(axis=1).mean()),
                "token_share": float((copies > 0).mean()), "planted_tokens": float(copies.mean()),
                "designed_tokens": float((designed == self.token_id).sum(axis=-1).mean())}

def _draw(signal: NoisyTokenInsert, n: int, length: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Which of ``n`` members err and what each uses instead: a wrong token id (PAD, UNK and the token excepted) or
    a wrong first position (below ``length``, the designed one excepted). Drawn for every member at every noise
    level, so the stream's use does not depend on the noise."""
    errs = rng.random(n) < signal.noise
    if signal.error == "token":
        if signal.vocab_size < 4:
            raise ValueError(f"signal '{signal.name}': a wrong token needs a vocabulary with a word besides PAD, UNK "
                             f"and the token (vocab_size = {signal.vocab_size}); build it with from_spec")
        other = rng.integers(2, signal.vocab_size - 1, size=n)  # ids 2 .. V-2, then the token's id skipped
        return errs, other + (other >= signal.token_id)
    if length < 2:
        raise ValueError(f"signal '{signal.name}': a wrong position needs documents of 2 tokens or more")
    other = rng.integers(0, length - 1, size=n)  # 0 .. L-2, then the designed start skipped
    return errs, other + (other >= int(signal.start))
