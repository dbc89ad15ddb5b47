"""What operators may type as names, labels, reasons, keys and dial strings: one set of rules
for the CLI and every other caller of ``cards``, the same on SQLite and PostgreSQL (the column
lengths of PostgreSQL apply everywhere), and nothing that could break out of an Asterisk file."""

from __future__ import annotations

import re

from cards.errors import InvalidInput

PG_INTEGER_MAX = 2_147_483_647
_NAME_EXTRA = set(" ._-&+'()")
_DIAL = re.compile(r"[A-Za-z][A-Za-z0-9]{0,15}/[A-Za-z0-9_.@+#*:/-]{1,100}", re.ASCII)
_KEY = re.compile(r"[!-~]{1,100}", re.ASCII)  # printable ASCII, no blanks
_APP = re.compile(r"[A-Za-z0-9_-]{1,40}", re.ASCII)
_SECRET = re.compile(r"[A-Za-z0-9._~!@#%^*+=:/?-]{12,128}", re.ASCII)


def _show(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:39] + "…")


def _printable(text: str, what: str, limit: int) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise InvalidInput(f"{what} must not be blank")
    if len(cleaned) > limit:
        raise InvalidInput(f"{what} is {len(cleaned)} characters, at most {limit}")
    if not cleaned.isprintable():
        raise InvalidInput(f"{what} {_show(cleaned)} holds a control character (newline, tab…)")
    return cleaned


def name(text: str, what: str = "name") -> str:
    """Project and tariff names: letters, digits, blanks and . _ - & + ' ( ); 80 at most."""
    cleaned = _printable(text, what, 80)
    if not all(ch.isalnum() or ch in _NAME_EXTRA for ch in cleaned):
        raise InvalidInput(
            f"{what} {_show(cleaned)}: use letters, digits, blanks and . _ - & + ' ( )"
        )
    return cleaned


def label(text: str, what: str = "label") -> str:
    return _printable(text, what, 120)


def reason(text: str) -> str:
    return _printable(text, "reason", 200)


def idempotency_key(text: str) -> str:
    if not _KEY.fullmatch(text):
        raise InvalidInput(
            f"idempotency key {_show(text)}: 1–100 printable ASCII characters, no blanks"
        )
    return text


def dial_string(text: str) -> str:
    """An advisor's destination as Dial() and ARI originate take it: TECH/resource, with no
    comma, blank, parenthesis, semicolon or newline (each would reach the dialplan)."""
    if not _DIAL.fullmatch(text):
        raise InvalidInput(f"destination {_show(text)}: write TECH/resource, e.g. PJSIP/advisor1")
    return text


def app_name(text: str) -> str:
    if not _APP.fullmatch(text):
        raise InvalidInput(f"ARI app {_show(text)}: 1–40 letters, digits, _ or -")
    return text


def ari_password(text: str) -> str:
    if not _SECRET.fullmatch(text):
        raise InvalidInput(
            "the ARI password must be 12–128 characters of letters, digits and ._~!@#%^*+=:/?- "
            "(no blank, quote, semicolon or newline: ari.conf could not hold it)"
        )
    return text


def whole(value: int, what: str, *, low: int = 0, high: int = PG_INTEGER_MAX) -> int:
    if not low <= value <= high:
        raise InvalidInput(f"{what} must be {low}–{high}, got {str(value)[:20]}")
    return value
