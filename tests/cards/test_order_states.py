"""The order state table, every state against every event: the move it allows, or a refusal
that names both."""

from __future__ import annotations

import pytest

from cards.domain import OrderStatus
from cards.errors import Conflict
from cards.services.order_states import Event, already, next_state

GRID = """
state       authorize   credit     capture   capture_fail decline  expire   void
created     authorized  -          -         -            failed   expired  voided
authorized  -           credited   -         -            -        -        voided
credited    -           -          captured  failed       -        -        -
captured    -           -          -         -            -        -        -
failed      -           -          -         -            -        -        -
expired     -           -          -         -            -        -        -
voided      -           -          -         -            -        -        -
"""
"""Written out by hand, apart from the code's table: a change to either shows here."""


def _cells() -> list[tuple[OrderStatus, Event, OrderStatus | None]]:
    head, *rows = [line.split() for line in GRID.strip().splitlines()]
    events = [Event(name) for name in head[1:]]
    return [
        (OrderStatus(row[0]), event, None if cell == "-" else OrderStatus(cell))
        for row in rows
        for event, cell in zip(events, row[1:], strict=True)
    ]


def test_the_grid_covers_every_state_and_event() -> None:
    assert {(s, e) for s, e, _ in _cells()} == {(s, e) for s in OrderStatus for e in Event}


@pytest.mark.parametrize(("status", "event", "target"), _cells())
def test_each_cell(status: OrderStatus, event: Event, target: OrderStatus | None) -> None:
    if target is not None:
        assert next_state(status, event) is target
        return
    with pytest.raises(Conflict, match=f"{status.value} cannot take {event.value}"):
        next_state(status, event)


def test_a_repeat_is_recognised_only_where_the_event_happened() -> None:
    done = {(s, e) for s in OrderStatus for e in Event if already(s, e)}
    assert done == {
        (OrderStatus.AUTHORIZED, Event.AUTHORIZE),
        (OrderStatus.CREDITED, Event.AUTHORIZE),
        (OrderStatus.CAPTURED, Event.AUTHORIZE),
        (OrderStatus.CREDITED, Event.CREDIT),
        (OrderStatus.CAPTURED, Event.CREDIT),
        (OrderStatus.CAPTURED, Event.CAPTURE),
    }
