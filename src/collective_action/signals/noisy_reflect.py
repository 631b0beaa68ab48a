"""The 2D signal planted with coordination noise (after Karan, Kalle, Vincent, Sundaram, "Sync or Sink", arXiv
2510.18933): every member means to plant g(x) = (x1, -|x2|) but plants g(x) plus an error of its own.

Our noise model (the paper's is not known to us; only its abstract could be read): the error is Gaussian,
isotropic and independent across members, e ~ N(0, noise^2 I) in both coordinates, not clipped to the data's
square. Why: a member does not know which coordinate the strategy relies on, so its error has no preferred
direction; a Gaussian is the maximum-entropy error of a given size; and a feature a member sets by hand is not
bounded by the clean data's range, so a large error may put its point where no clean point lies (off the
square). ``noise`` is the error's standard deviation on the data's scale (the square has half-width 1).

The firm's model is tested on the designed g (``apply``); only what the members plant (``plant``) is noisy.
The members' errors are drawn from the signal's own random stream as noise times a standard normal draw, so
for one stream the errors at two noise levels are proportional (common random numbers), and noise 0 plants
g(x) exactly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .reflect import ReflectX2


def planted_distance(designed: np.ndarray, planted: np.ndarray) -> float:
    """The mean Euclidean distance between what the members meant to plant and what they planted (NaN without
    members)."""
    if not len(designed):
        return float("nan")
    diff = np.asarray(planted, dtype=np.float64) - np.asarray(designed, dtype=np.float64)
    return float(np.sqrt((diff.reshape(len(diff), -1) ** 2).sum(axis=1)).mean())



def plants_exactly(signal, rng) -> bool:
    """Whether members plant the designed signal as it is: no members' stream was given. Noise needs one, so a
    noisy signal without it is an error rather than a silently exact plant (shared with noisy_token)."""
    if rng is None and signal.noise:
        raise ValueError(f"signal '{signal.name}' with noise {signal.noise:g} needs the members' random stream")
    return rng is None

@dataclass(frozen=True)
class NoisyReflectX2(ReflectX2):
    """g(x1, x2) = (x1, -|x2|) as designed; each member plants g(x) + e, e ~ N(0, noise^2 I)."""

    noise: float = 0.0

    name = "reflect_x2_negative_noisy"
    data_kinds = ["synthetic"]
    description = ("reflect_x2_negative planted with coordination noise (Karan et al. 2025, 'Sync or Sink'; our "
                   "noise model): each member plants (x1, -|x2|) + e with its own Gaussian error e ~ N(0, noise^2 I), "
                   "not clipped to the data's square; the firm's model is tested on the designed (x1, -|x2|).")
    parameters = {
        "noise": {"type": "number", "minimum": 0, "default": 0.0,
                  "description": "The standard deviation of each member's error, in both coordinates, on the data's "
                                 "scale (the square has half-width 1); 0 plants the designed signal exactly."},
    }

    def plant(self, x: np.ndarray, rng=None) -> np.ndarray:
        designed = self.apply(x)
        if plants_exactly(self, rng):
            return designed
        error = rng.standard_normal(designed.shape)  # drawn at every noise level: one stream, proportional errors
        return (designed + self.noise * error).astype(designed.dtype)

    def diagnostics(self, members_x, members_y, planted_x, n_train, n_test) -> dict[str, float]:
        """The configured noise (the tables' column ``noise``) and the members' mean distance from g(x)
        (``plant_error``)."""
        return {"noise": float(self.noise), "plant_error": planted_distance(self.apply(members_x), planted_x)}
