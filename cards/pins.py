"""PINs: random generation from ``secrets`` and a keyed hash (HMAC-SHA256); never stored plain."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from cards.errors import InvalidInput
from cards.models import Project

PIN_SECRET_ENV = "MINUTECARD_PIN_SECRET"
PIN_MIN_LENGTH = 4
PIN_MAX_LENGTH = 12


def pin_secret(configured: str | None = None) -> bytes:
    """The server secret from config, else ``MINUTECARD_PIN_SECRET``; refuse to run without one,
    or with one that guesses itself (one repeated character, only blanks)."""
    value = configured or os.environ.get(PIN_SECRET_ENV)
    if not value or len(value) < 16:
        raise InvalidInput(
            f"set {PIN_SECRET_ENV} (at least 16 characters): PINs are hashed with it"
        )
    if len(set(value)) == 1 or not value.strip():
        raise InvalidInput(
            f"{PIN_SECRET_ENV} is one repeated character or blank: choose a random one"
        )
    return value.encode()


def fingerprint(secret: bytes) -> str:
    """Names a secret without revealing it: its HMAC of a fixed text, 16 hex digits."""
    return hmac.new(secret, b"minutecard pin secret fingerprint", hashlib.sha256).hexdigest()[:16]


def check_secret(project: Project, secret: bytes) -> None:
    """The project's PINs are hashed with one secret: record it at the first PIN, refuse
    another (PINs made under two secrets could never all activate)."""
    mark = fingerprint(secret)
    if project.pin_key is None:
        project.pin_key = mark
    elif project.pin_key != mark:
        raise InvalidInput(
            f"project {project.name}: {PIN_SECRET_ENV} is not the secret its PINs were made with "
            f"(fingerprint {project.pin_key}, this one {mark})"
        )


def check_length(length: int) -> int:
    if not PIN_MIN_LENGTH <= length <= PIN_MAX_LENGTH:
        raise InvalidInput(f"PIN length must be {PIN_MIN_LENGTH}–{PIN_MAX_LENGTH}, got {length}")
    return length


def new_pin(length: int) -> str:
    """A uniformly random PIN of ``length`` digits (leading zeros allowed)."""
    check_length(length)
    return "".join(secrets.choice("0123456789") for _ in range(length))


def hash_pin(secret: bytes, project_id: int, pin: str) -> str:
    """Keyed hash of a PIN, salted by its project so equal PINs differ across projects."""
    message = f"{project_id}:{pin}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()
