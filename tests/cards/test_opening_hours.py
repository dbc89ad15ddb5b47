"""Opening hours (issue 23): a weekly schedule in the number's time zone, dated exceptions
first, summer and winter time alike; the operator's words refused in one line when wrong."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cards.errors import InvalidInput
from cards.opening_hours import Hours, parse

HOURS = parse(
    ["mon-fri 09:00-12:30", "mon-fri 14:00-18:00", "sat 10:00-14:00"],
    ["2026-12-24 closed", "2026-12-31 10:00-13:00"],
)


@pytest.mark.parametrize(
    ("utc", "open_"),
    [
        ("2026-12-07 07:59", False),  # Monday 08:59 in Berlin (winter, UTC+1)
        ("2026-12-07 08:00", True),  # 09:00
        ("2026-12-07 11:29", True),
        ("2026-12-07 11:30", False),  # 12:30: lunch
        ("2026-12-07 13:00", True),  # 14:00
        ("2026-12-07 17:00", False),  # 18:00: closed
        ("2026-07-06 07:00", True),  # Monday 09:00 in summer (UTC+2)
        ("2026-07-06 06:59", False),
        ("2026-12-05 09:00", True),  # Saturday 10:00
        ("2026-12-06 10:00", False),  # Sunday
        ("2026-12-24 10:00", False),  # a Thursday, but Christmas Eve: closed
        ("2026-12-31 09:30", True),  # New Year's Eve 10:30: its own hours
        ("2026-12-31 12:00", False),  # 13:00 that day
    ],
)
def test_open_in_berlin_time(utc: str, open_: bool) -> None:
    now = datetime.strptime(utc, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    assert HOURS.is_open(now) is open_


def test_stored_as_json_and_back() -> None:
    assert Hours.from_json(HOURS.to_json()) == HOURS
    assert HOURS.to_json()["weekly"]["mon"] == [[540, 750], [840, 1080]]


@pytest.mark.parametrize(
    ("week", "dated", "tz", "words"),
    [
        (["mon-fri 9-18"], [], "Europe/Berlin", "HH:MM-HH:MM"),
        (["mon-fri 18:00-09:00"], [], "Europe/Berlin", "after the start"),
        (["fri-mon 09:00-18:00"], [], "Europe/Berlin", "earlier day"),
        (["monday 09:00-18:00"], [], "Europe/Berlin", "mon-fri"),
        ([], [], "Europe/Berlin", "at least one weekday"),
        (["mon 09:00-18:00"], ["24.12.2026 closed"], "Europe/Berlin", "YYYY-MM-DD"),
        (["mon 09:00-18:00"], [], "Mars/Olympus", "not known"),
    ],
)
def test_wrong_words_are_refused(week: list[str], dated: list[str], tz: str, words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        parse(week, dated, tz)
