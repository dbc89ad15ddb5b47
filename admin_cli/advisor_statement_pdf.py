"""An advisor's monthly statement in German (issue 23): each answered call, the talked time and
the payout at the advisor's rate, as a PDF the operator can hand to the advisor."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from cards import statement_pdf
from cards.opening_hours import DEFAULT_TZ
from cards.services.advisor_report import AdvisorMonth
from rating import format_eur

HEADER = ("Datum", "Uhrzeit", "Gesprächsdauer", "Vergütung pro Minute")


def _eur(value: int) -> str:
    return f"{format_eur(value).replace('.', ',')} EUR"


def _duration(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02} min"


def render(line: AdvisorMonth, month: str) -> bytes:
    berlin = ZoneInfo(DEFAULT_TZ)
    rows = [
        [
            c.ended_at.astimezone(berlin).strftime("%d.%m.%Y"),
            c.ended_at.astimezone(berlin).strftime("%H:%M"),
            _duration(c.talked_s),
            _eur(c.payout_rate),
        ]
        for c in line.calls_detail
    ]
    year, number = month.split("-")
    totals = {
        "Gespräche": str(line.calls),
        "Gesprächszeit": _duration(line.talked_s),
        "Vergütung": _eur(line.payout),
    }
    title = f"Abrechnung {number}/{year} für {line.advisor}"
    return statement_pdf.render(title, rows, totals, HEADER)
