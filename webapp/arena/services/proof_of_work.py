"""A new voter's entry fee: about a second of the browser's CPU, so minting identities in bulk
costs real work. No third-party service: the server signs a random nonce and a difficulty, the
browser finds a number whose SHA-256 with the nonce starts with that many zero bits, the server
checks it with one hash (static/js/proof-of-work.js does the browser's half).

A challenge is stateless (signed, expiring) and used at most once: its nonce goes into the
shared cache when spent, so one solution cannot mint two identities.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.cache import cache

from webapp.core.errors import ScreentestError

SALT = "screentest.arena.proof-of-work"
MAX_SOLUTION_DIGITS = 20


@dataclass(frozen=True)
class Challenge:
    token: str  # signed {"n": nonce, "b": bits}: what the client sends back
    nonce: str  # what the client hashes: sha256(f"{nonce}:{solution}")
    bits: int


def issue() -> Challenge:
    nonce, bits = secrets.token_hex(16), int(settings.ARENA_POW_BITS)
    return Challenge(signing.dumps({"n": nonce, "b": bits}, salt=SALT), nonce, bits)


def leading_zero_bits(digest: bytes) -> int:
    value = int.from_bytes(digest, "big")
    return len(digest) * 8 - value.bit_length()


def solves(nonce: str, solution: str, bits: int) -> bool:
    return leading_zero_bits(hashlib.sha256(f"{nonce}:{solution}".encode()).digest()) >= bits


def solve(nonce: str, bits: int) -> str:
    """What the browser does, for tests and the attacker benchmark (about 2**bits hashes)."""
    n = 0
    while not solves(nonce, str(n), bits):
        n += 1
    return str(n)


def redeem(token, solution) -> None:
    """Accept a solved challenge once, or raise ScreentestError saying what is wrong."""
    if not isinstance(token, str) or not isinstance(solution, str):
        raise ScreentestError("invalid_challenge", "Send the challenge and its solution as strings.")
    try:
        claims = signing.loads(token, salt=SALT, max_age=settings.ARENA_POW_TTL_S)
    except signing.SignatureExpired:
        raise ScreentestError(
            "challenge_expired", "This challenge has expired; ask for a new one.", status=410
        ) from None
    except (signing.BadSignature, ValueError, TypeError):
        raise ScreentestError("invalid_challenge", "This challenge was not issued here.") from None
    nonce, bits = claims.get("n"), claims.get("b")
    if not isinstance(nonce, str) or not isinstance(bits, int):
        raise ScreentestError("invalid_challenge", "This challenge was not issued here.")
    if not (solution.isdigit() and len(solution) <= MAX_SOLUTION_DIGITS and solves(nonce, solution, bits)):
        raise ScreentestError("wrong_solution", "That is not a solution of this challenge.", field="solution")
    if not cache.add(f"pow-spent:{nonce}", 1, timeout=settings.ARENA_POW_TTL_S + 60):
        raise ScreentestError("challenge_spent", "This challenge was already used; ask for a new one.", status=409)
