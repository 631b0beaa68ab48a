"""Named, independent random streams.

Every stream is keyed by integers and short names (base seed, run seed, purpose),
never by position in a shared generator, so that adding a seed, an alpha or an
algorithm never shifts the numbers of another run. In particular the training
collective depends on (seed, alpha) and the validation collective on
(seed, alpha_val) only, which makes them independent of each other.
"""
from __future__ import annotations

import zlib

import numpy as np


def _key(part) -> int:
    if isinstance(part, str):
        return zlib.crc32(part.encode())
    if isinstance(part, float):
        # alphas: exact up to 1e-9, and 0.1 from a YAML file equals 0.1 typed here
        return int(round(part * 1_000_000_000))
    return int(part)


def seed_sequence(*parts) -> np.random.SeedSequence:
    return np.random.SeedSequence([_key(p) for p in parts])


def numpy_rng(*parts) -> np.random.Generator:
    return np.random.default_rng(seed_sequence(*parts))


def int_seed(*parts) -> int:
    """A 63-bit integer seed (for torch.Generator.manual_seed)."""
    lo, hi = seed_sequence(*parts).generate_state(2, dtype=np.uint32)
    return int((int(hi) << 32 | int(lo)) & ((1 << 63) - 1))


def torch_generators(base_seed: int, seeds, tag: str):
    """One CPU torch.Generator per run seed for the stream ``tag``."""
    import torch

    gens = []
    for s in seeds:
        g = torch.Generator(device="cpu")
        g.manual_seed(int_seed(base_seed, s, "torch", tag))
        gens.append(g)
    return gens
