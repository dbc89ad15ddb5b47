"""The order's state table (issue 24): which event moves an order from which state to which;
everything else is refused by name. ``orders`` runs each transition in one transaction."""

from __future__ import annotations

from enum import StrEnum

from cards.domain import OrderStatus
from cards.errors import Conflict

S = OrderStatus


class Event(StrEnum):
    AUTHORIZE = "authorize"
    """The provider reserved the amount (or, for a transfer, the money arrived)."""
    CREDIT = "credit"
    """The card got the amount and its bonus (ours, right after authorize)."""
    CAPTURE = "capture"
    """The provider took the reserved money."""
    CAPTURE_FAIL = "capture_fail"
    """The provider would not take it after the credit: unused credit back, the rest owed."""
    DECLINE = "decline"
    """The provider refused to reserve."""
    EXPIRE = "expire"
    """Not authorized in time (the sweep)."""
    VOID = "void"
    """The operator or the payer called it off, or the card cannot take money any more."""


TRANSITIONS: dict[tuple[OrderStatus, Event], OrderStatus] = {
    (S.CREATED, Event.AUTHORIZE): S.AUTHORIZED,
    (S.CREATED, Event.DECLINE): S.FAILED,
    (S.CREATED, Event.EXPIRE): S.EXPIRED,
    (S.CREATED, Event.VOID): S.VOIDED,
    (S.AUTHORIZED, Event.CREDIT): S.CREDITED,
    (S.AUTHORIZED, Event.VOID): S.VOIDED,
    (S.CREDITED, Event.CAPTURE): S.CAPTURED,
    (S.CREDITED, Event.CAPTURE_FAIL): S.FAILED,
}
"""Why no more: a credited order is settled by its capture or its failed capture, never voided
(the money is on the card); an authorized one is credited at once, so only a card that can no
longer take money voids it; failed, expired, voided and captured are final."""

DONE_BY: dict[Event, frozenset[OrderStatus]] = {
    Event.AUTHORIZE: frozenset({S.AUTHORIZED, S.CREDITED, S.CAPTURED}),
    Event.CREDIT: frozenset({S.CREDITED, S.CAPTURED}),
    Event.CAPTURE: frozenset({S.CAPTURED}),
    Event.CAPTURE_FAIL: frozenset(),
    Event.DECLINE: frozenset(),
    Event.EXPIRE: frozenset(),
    Event.VOID: frozenset(),
}
"""States in which the event has happened already: a repeat with the same provider id is a
no-op that answers the order as it is (a failed capture repeated finds ``failed`` and is
answered by ``settled``)."""


def next_state(status: OrderStatus, event: Event) -> OrderStatus:
    """The state ``event`` moves an order in ``status`` to; Conflict when the table forbids it."""
    target = TRANSITIONS.get((status, event))
    if target is None:
        raise Conflict(f"an order that is {status.value} cannot take {event.value}")
    return target


def already(status: OrderStatus, event: Event) -> bool:
    """True when an order in ``status`` has had ``event`` (or has gone past it)."""
    return status in DONE_BY[event]


FINAL = frozenset({S.CAPTURED, S.FAILED, S.EXPIRED, S.VOIDED})
