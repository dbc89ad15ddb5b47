"""Amounts in the project unit as people type them: EUR ("25 €", "25,00") or "30 min"."""

from __future__ import annotations

import re

from admin_cli.errors import OperatorError
from rating import parse_eur

_MINUTES = re.compile(
    r"^(?P<sign>[+-])?\s*(?P<n>\d{1,6})\s*(?:min|minute|minutes|minuten)?$",
    re.IGNORECASE | re.ASCII,
)


def parse_amount(text: str, unit: str, *, signed: bool = False) -> int:
    """1/10,000 EUR for money projects, card seconds for minute projects."""
    if unit == "money":
        try:
            return parse_eur(text, signed=signed)
        except ValueError as exc:
            raise OperatorError(str(exc)) from exc
    match = _MINUTES.match(text.strip())
    if not match or (match["sign"] and not signed):
        raise OperatorError(f"not a number of minutes: {text!r} (write e.g. 30 or 30 min)")
    seconds = int(match["n"]) * 60
    return -seconds if match["sign"] == "-" else seconds
