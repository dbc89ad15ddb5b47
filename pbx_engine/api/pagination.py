"""Cursor pages for the API's lists: ``limit`` (1..500, default 100) and ``after`` (the opaque
``next_after`` of the page before), answered as ``{"items": [...], "next_after": cursor|null}``."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cards.errors import InvalidInput

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
PAGE_PARAMS = frozenset({"limit", "after"})
MAX_ID_DIGITS = 18  # below 2**63: a row id PostgreSQL's bigint takes


class BadLimit(InvalidInput):
    code = "limit"


class BadCursor(InvalidInput):
    code = "after"


@dataclass(frozen=True)
class Page:
    """Where a page starts (after the row with id ``after_id``, 0: the first) and its size."""

    scope: str
    after_id: int
    limit: int

    def answer(self, items: Sequence[dict[str, Any]], ids: Sequence[int]) -> dict[str, Any]:
        """The page of ``items`` (read ``limit + 1`` rows: the extra one says there is more)."""
        shown = list(items[: self.limit])
        more = len(items) > self.limit
        return {
            "items": shown,
            "next_after": cursor(self.scope, ids[self.limit - 1]) if more else None,
        }


def page_of(query: Mapping[str, str], scope: str) -> Page:
    """The page a request asks for. ``scope`` names the list and its filters: a cursor of
    another list, or of the same list with other filters, is refused rather than misread."""
    text = query.get("limit", str(DEFAULT_LIMIT))
    if not (text.isascii() and text.isdigit() and len(text) <= 3 and 1 <= int(text) <= MAX_LIMIT):
        raise BadLimit(f"limit: a whole number from 1 to {MAX_LIMIT}")
    after = query.get("after")
    return Page(scope, _read(after, scope) if after is not None else 0, int(text))


def cursor(scope: str, row_id: int) -> str:
    """Not a secret and grants nothing (every read stays in the token's project); the check
    digest only makes a changed or truncated cursor a clear 400 instead of a wrong page."""
    payload = str(row_id)
    return base64.urlsafe_b64encode(f"{payload}.{_digest(scope, payload)}".encode()).decode()


def _read(text: str, scope: str) -> int:
    try:
        payload, _, digest = base64.urlsafe_b64decode(text.encode("ascii")).decode().partition(".")
    except (UnicodeError, ValueError, binascii.Error) as exc:
        raise BadCursor("after: not a cursor this API handed out") from exc
    if not (payload.isascii() and payload.isdigit() and len(payload) <= MAX_ID_DIGITS):
        raise BadCursor("after: not a cursor this API handed out")
    if digest != _digest(scope, payload):
        raise BadCursor("after: not a cursor of this list (changed, or of other filters)")
    return int(payload)


def _digest(scope: str, payload: str) -> str:
    return hashlib.sha256(f"minutecard-page\n{scope}\n{payload}".encode()).hexdigest()[:16]
