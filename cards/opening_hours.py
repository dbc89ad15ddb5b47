"""Opening hours of an advisor number (issue 23): a weekly schedule plus dated exceptions
(holidays closed all day, or other hours that day), in a time zone (default Europe/Berlin).
Pure: parsing the operator's words and ``is_open`` at an instant; no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cards.errors import InvalidInput

DEFAULT_TZ = "Europe/Berlin"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"([0-2][0-9]):([0-5][0-9])-([0-2][0-9]):([0-5][0-9])", re.ASCII)

Span = tuple[int, int]
"""Minutes since midnight, local time: [start, end)."""


@dataclass(frozen=True)
class Hours:
    weekly: dict[int, tuple[Span, ...]] = field(default_factory=dict)
    """Weekday (0 Monday) → the spans open that day; a day not named is closed."""
    exceptions: dict[date, tuple[Span, ...]] = field(default_factory=dict)
    """A date → its spans instead of the weekday's (none: closed all day)."""
    tz: str = DEFAULT_TZ

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(ZoneInfo(self.tz))
        day = local.date()
        spans = self.exceptions.get(day, self.weekly.get(day.weekday(), ()))
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in spans)

    def to_json(self) -> dict[str, Any]:
        return {
            "weekly": {
                DAYS[d]: [list(s) for s in spans] for d, spans in sorted(self.weekly.items())
            },
            "exceptions": {
                d.isoformat(): [list(s) for s in v] for d, v in sorted(self.exceptions.items())
            },
            "tz": self.tz,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Hours:
        return cls(
            {DAYS.index(d): tuple((s, e) for s, e in v) for d, v in data["weekly"].items()},
            {
                date.fromisoformat(d): tuple((s, e) for s, e in v)
                for d, v in data["exceptions"].items()
            },
            data["tz"],
        )

    def describe(self) -> list[str]:
        def spans(v: tuple[Span, ...]) -> str:
            return ", ".join(f"{s // 60:02}:{s % 60:02}-{e // 60:02}:{e % 60:02}" for s, e in v)

        week = [f"{DAYS[d]} {spans(v)}" for d, v in sorted(self.weekly.items())]
        dated = [f"{d} {spans(v) or 'closed'}" for d, v in sorted(self.exceptions.items())]
        return [*week, *dated, self.tz]


def _span(text: str) -> Span:
    found = _SPAN.fullmatch(text)
    if not found:
        raise InvalidInput(f"hours {text[:20]!r}: write HH:MM-HH:MM, e.g. 09:00-18:00")
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if not 0 <= start < end <= 24 * 60:
        raise InvalidInput(f"hours {text!r}: the end must be after the start, 24:00 at most")
    return start, end


def _days(text: str) -> list[int]:
    first, sep, last = text.partition("-")
    if first not in DAYS or (sep and last not in DAYS):
        raise InvalidInput(f"days {text[:20]!r}: write mon, mon-fri, sat, …")
    a, b = DAYS.index(first), DAYS.index(last if sep else first)
    if b < a:
        raise InvalidInput(f"days {text!r}: from the earlier day to the later one (mon-fri)")
    return list(range(a, b + 1))


def parse(week: list[str], dated: list[str], tz: str = DEFAULT_TZ) -> Hours:
    """``week``: "mon-fri 09:00-18:00" (a day may be named more than once for several spans);
    ``dated``: "2026-12-24 closed" or "2026-12-31 10:00-14:00"."""
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"time zone {tz[:40]!r} is not known") from exc
    weekly: dict[int, tuple[Span, ...]] = {}
    for item in week:
        days, _, span = item.strip().partition(" ")
        for d in _days(days.lower()):
            weekly[d] = tuple(sorted((*weekly.get(d, ()), _span(span.strip()))))
    exceptions: dict[date, tuple[Span, ...]] = {}
    for item in dated:
        day_text, _, what = item.strip().partition(" ")
        try:
            day = date.fromisoformat(day_text)
        except ValueError as exc:
            raise InvalidInput(f"date {day_text[:20]!r}: write YYYY-MM-DD") from exc
        what = what.strip().lower()
        that_day: tuple[Span, ...] = () if what == "closed" else (_span(what),)
        exceptions[day] = tuple(sorted((*exceptions.get(day, ()), *that_day)))
    if not weekly:
        raise InvalidInput("name the open hours of at least one weekday, e.g. mon-fri 09:00-18:00")
    return Hours(weekly, exceptions, tz)
