"""Stable hashing and seeded random generators: hashlib only, never hash(), so the same
inputs give the same numbers in every process."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np


def stable_digest(*parts: Any) -> bytes:
    h = hashlib.sha256()
    for part in parts:
        h.update(str(part).encode("utf-8"))
        h.update(b"\x1f")
    return h.digest()


def seeded_rng(*parts: Any) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(int.from_bytes(stable_digest(*parts)[:16], "big")))
