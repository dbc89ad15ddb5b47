"""The pure rating core: tariffs in; billed seconds, costs and affordable seconds out (stdlib)."""

from rating.money import format_eur, parse_eur
from rating.quote import Quote, affordable_seconds, minimum_cost, quote, warning_instant
from rating.tariff import CallerClass, ChargingStart, Increments, Tariff, Unit

__all__ = [
    "CallerClass",
    "ChargingStart",
    "Increments",
    "Quote",
    "Tariff",
    "Unit",
    "affordable_seconds",
    "format_eur",
    "minimum_cost",
    "parse_eur",
    "quote",
    "warning_instant",
]
