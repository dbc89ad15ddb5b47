"""Amounts as people type them ("25", "25 Euro", "25 €", "1,99") to and from 1/10,000 EUR."""

from __future__ import annotations

import re

from rating.tariff import UNITS_PER_EUR

_AMOUNT = re.compile(
    r"^(?P<sign>[+-])?\s*(?P<int>\d{1,9})(?:[.,](?P<frac>\d{1,4}))?$", re.ASCII
)  # ASCII: \d would read "١٥" as 15
_CURRENCY = re.compile(r"\s*(?:€|eur|euro|euros)\s*$", re.IGNORECASE)


def parse_eur(text: str, *, signed: bool = False) -> int:
    """Parse an amount in EUR to 1/10,000 EUR; raise ValueError with an operator-readable message.

    Accepts a decimal point or comma, up to four decimals, and an optional trailing "€", "EUR" or
    "Euro" (seed 001). A sign is accepted only when ``signed``.
    """
    raw = str(text)
    cleaned = _CURRENCY.sub("", raw.strip()).strip()
    match = _AMOUNT.match(cleaned)
    if not match:
        raise ValueError(f"not an amount in EUR: {raw!r} (write e.g. 25, 25,00 or 25 €)")
    if match["sign"] and not signed:
        raise ValueError(f"amount must not carry a sign: {raw!r}")
    frac = (match["frac"] or "").ljust(4, "0")
    units = int(match["int"]) * UNITS_PER_EUR + int(frac or "0")
    return -units if match["sign"] == "-" else units


def format_eur(units: int) -> str:
    """Format 1/10,000 EUR as EUR with two decimals, more only when the amount needs them."""
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), UNITS_PER_EUR)
    frac_text = f"{frac:04d}"
    if frac_text.endswith("00"):
        frac_text = frac_text[:2]
    return f"{sign}{whole}.{frac_text}"
