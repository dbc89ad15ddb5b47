"""How an amount in a project's unit is shown to people: "25.00 EUR" or "12 min 30 s"."""

from __future__ import annotations

from rating import format_eur


def show_amount(value: int, unit: str) -> str:
    if unit == "money":
        return f"{format_eur(value)} EUR"
    minutes, seconds = divmod(abs(value), 60)
    sign = "-" if value < 0 else ""
    return f"{sign}{minutes} min" + (f" {seconds} s" if seconds else "")
